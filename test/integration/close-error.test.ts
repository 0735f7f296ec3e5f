/**
 * The error of a connection the peer closed (docs/errors.md, ERR_QUIC_CONNECTION_CLOSED), over real
 * UDP: what the application sees is the same whichever way it looks (closed's reason, acceptStream(),
 * a stream's 'error', util.inspect), and it is built only when something needs it (an Error's stack
 * trace is most of what a close costs the shell; issue 13), so a server whose connections end without
 * anyone reading their error does not pay for it.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { inspect } from 'node:util';
import {
  type CloseReason,
  ConnectionClosedError,
  dial,
  type QuicConnection,
  type QuicServer,
  type QuicStream,
} from '../../src/index.js';
import { closeReason } from '../../src/node/close-errors.js';
import { clientOptions, startServer, within } from './helpers.js';

const TIMEOUT = 10_000;
const servers: QuicServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** A server whose connections go to `onConnection`; returns its port. */
async function server(onConnection: (conn: QuicConnection) => void): Promise<number> {
  const s = await startServer({ alpn: ['echo'] });
  servers.push(s);
  (async () => {
    for await (const conn of s) onConnection(conn);
  })();
  return s.address().port;
}

function assertPeerClosedError(error: unknown): asserts error is ConnectionClosedError {
  assert.ok(error instanceof ConnectionClosedError);
  assert.equal(error.name, 'ConnectionClosedError');
  assert.equal(error.code, 'ERR_QUIC_CONNECTION_CLOSED');
  assert.equal(error.message, 'connection closed by peer: application error 7 (bye)');
  assert.equal(error.errorCode, 7);
  assert.equal(error.reason, 'bye');
  assert.equal(error.application, true);
  assert.equal(error.remote, true);
  assert.equal(error.frameType, undefined);
  assert.match(
    String(error.stack),
    /^ConnectionClosedError: connection closed by peer: application error 7 \(bye\)\n/,
  );
}

/** Reads `reason.error` from a frame of its own, whose name a stack built here would show. */
function readTheErrorLate(reason: CloseReason): unknown {
  return reason.error;
}

test('a peer close nobody looked at: the error is built when first read, and is the same every way', async () => {
  let serverConn!: QuicConnection;
  const iterated: QuicStream[] = [];
  let iteration!: Promise<void>;
  let accepted!: () => void;
  const acceptedP = new Promise<void>((done) => {
    accepted = done;
  });
  const port = await server((conn) => {
    serverConn = conn;
    // The README's loop: it ends when the connection does (nothing thrown, the error not needed).
    iteration = (async () => {
      for await (const s of conn) iterated.push(s);
    })();
    accepted();
  });
  const client = await dial({ host: '127.0.0.1', port }, clientOptions({ alpn: ['echo'] }));
  await within(acceptedP, TIMEOUT, 'server connection');
  await client.close(7, 'bye');
  const reason = await within(serverConn.closed, TIMEOUT, 'server side closed');
  await within(iteration, TIMEOUT, 'the for-await loop ends');
  assert.deepEqual(iterated, []);

  // The fields beside the error, and their order, as before.
  assert.deepEqual(Object.keys(reason), ['source', 'errorCode', 'reason', 'application', 'error']);
  assert.equal(reason.source, 'remote');
  assert.equal(reason.errorCode, 7);
  assert.equal(reason.reason, 'bye');
  assert.equal(reason.application, true);
  const error = readTheErrorLate(reason);
  assertPeerClosedError(error);
  // Nobody had needed it until now: the stack is where it was first read.
  assert.match(String(error.stack), /readTheErrorLate/);
  assert.equal(reason.error, error, 'one error object');
  // util.inspect shows the error, as it did when it was a plain property.
  assert.match(
    inspect(reason),
    /error: ConnectionClosedError: connection closed by peer: application error 7 \(bye\)/,
  );
  assert.equal({ ...reason }.error, error);
  await assert.rejects(serverConn.acceptStream(), (e) => e === error);
  await assert.rejects(serverConn.acceptUniStream(), (e) => e === error);
  await assert.rejects(serverConn.openStream(), (e) => e === error);
});

test('a peer close with a stream open: the stream fails with the same error closed carries', async () => {
  let serverConn!: QuicConnection;
  let stream!: Promise<QuicStream>;
  let accepted!: () => void;
  const acceptedP = new Promise<void>((done) => {
    accepted = done;
  });
  const port = await server((conn) => {
    serverConn = conn;
    stream = conn.acceptStream();
    accepted();
  });
  const client = await dial({ host: '127.0.0.1', port }, clientOptions({ alpn: ['echo'] }));
  await within(acceptedP, TIMEOUT, 'server connection');
  const cs = await client.openStream();
  cs.write('unfinished');
  const ss = await within(stream, TIMEOUT, 'server stream');
  const failed = new Promise<unknown>((done) => ss.once('error', done));
  await client.close(7, 'bye');
  const streamError = await within(failed, TIMEOUT, "the server stream's 'error'");
  const reason = await within(serverConn.closed, TIMEOUT, 'server side closed');
  assertPeerClosedError(streamError);
  assert.equal(reason.error, streamError);
  assert.equal(ss.errored, streamError);
});

test('util.inspect of a close reason shows its error, also before anything read it', () => {
  const info = { source: 'remote', errorCode: 7, reason: 'bye', application: true } as const;
  const shown = inspect(closeReason(info, true));
  assert.match(shown, /error: ConnectionClosedError: connection closed by peer: application error 7 \(bye\)/);
  assert.doesNotMatch(shown, /Getter/);
  // A clean local close has no error at all.
  const clean = closeReason({ source: 'local', errorCode: 0, reason: '', application: true }, true);
  assert.equal(clean.error, undefined);
  assert.deepEqual(Object.keys(clean), ['source', 'errorCode', 'reason', 'application', 'error']);
});
