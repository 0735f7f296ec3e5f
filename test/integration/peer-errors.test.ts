/**
 * Errors caused by the peer never crash an application that did nothing wrong (docs/streams.md,
 * "Errors the network causes"; issue 11 item 2), over real UDP.
 *
 * The server is written like the README -- `for await (const stream of conn) stream.pipe(stream)` --
 * with no 'error' listener anywhere, on either side. The client resets its sending side
 * (cancelWrite(7)), stops reading (cancelRead(8)) or closes the connection (close(3)) while a stream is
 * open. The process must survive (no uncaught exception, no unhandled rejection), the server must go
 * on serving, and the stream must hold the typed error (`stream.errored`). Code that does read or
 * write -- a for-await loop, a write callback, pipeline() -- gets the typed error with the peer's code,
 * still without any 'error' listener.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import {
  ConnectionClosedError,
  dial,
  type QuicConnection,
  type QuicServer,
  type QuicStream,
  StreamResetError,
} from '../../src/index.js';
import { type ProcessErrorWatch, settleTicks, watchProcessErrors } from '../sim/process-errors.js';
import { clientOptions, startServer, within } from './helpers.js';

const TIMEOUT = 10_000;
const servers: QuicServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

let watch: ProcessErrorWatch;
beforeEach(() => {
  watch = watchProcessErrors();
});
afterEach(async () => {
  await settleTicks();
  assert.deepEqual(watch.stop(), [], 'nothing was thrown into the process');
});

/** Every stream a server handed to its application, in order. */
interface Served {
  server: QuicServer;
  port: number;
  streams: QuicStream[];
}

/** The README's echo server, word for word, recording the streams (no listener of any kind). */
async function readmeServer(): Promise<Served> {
  const server = await startServer({ alpn: ['echo'] });
  servers.push(server);
  const served: Served = { server, port: server.address().port, streams: [] };
  (async () => {
    for await (const conn of server) {
      (async () => {
        for await (const stream of conn) {
          served.streams.push(stream);
          stream.pipe(stream);
        }
      })();
    }
  })();
  return served;
}

/** A server whose application hands each stream to `handler` (no 'error' listener). */
async function handlerServer(handler: (s: QuicStream) => Promise<unknown>): Promise<{
  port: number;
  outcomes: Array<Promise<unknown>>;
}> {
  const server = await startServer({ alpn: ['echo'] });
  servers.push(server);
  const outcomes: Array<Promise<unknown>> = [];
  (async () => {
    for await (const conn of server) {
      (async () => {
        for await (const stream of conn) outcomes.push(handler(stream).catch((e: unknown) => e));
      })();
    }
  })();
  return { port: server.address().port, outcomes };
}

function connect(port: number): Promise<QuicConnection> {
  return dial({ host: '127.0.0.1', port }, clientOptions({ alpn: ['echo'] }));
}

/** Resolves at the next `event` (events.once() would add an 'error' listener: this does not). */
function next(s: QuicStream, event: string): Promise<void> {
  return within(new Promise<void>((resolve) => s.once(event, () => resolve())), TIMEOUT, event);
}

/** Read exactly `n` bytes with read() (no 'data' or 'error' listener). */
async function readBytes(s: QuicStream, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let got = 0;
  while (got < n) {
    const c = s.read() as Buffer | null;
    if (c) {
      chunks.push(c);
      got += c.length;
    } else {
      await next(s, 'readable');
    }
  }
  return Buffer.concat(chunks);
}

/** Resolves when `s` has closed. */
function closedOf(s: QuicStream): Promise<void> {
  return s.closed ? Promise.resolve() : next(s, 'close');
}

async function echoOnce(conn: QuicConnection, text: string): Promise<string> {
  const s = await conn.openStream();
  s.end(text);
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

async function serverStream(served: Served, index: number): Promise<QuicStream> {
  for (let i = 0; i < 1000 && served.streams.length <= index; i++) await new Promise((r) => setTimeout(r, 5));
  const s = served.streams[index];
  assert.ok(s, `server stream ${index}`);
  return s;
}

describe("a server written like the README survives the peer's errors (no 'error' listener)", () => {
  test('the client calls cancelWrite(7): the server stream ends with StreamResetError 7, the server goes on', async () => {
    const served = await readmeServer();
    const conn = await connect(served.port);
    const s = await conn.openStream();
    s.write('hello');
    assert.equal((await readBytes(s, 5)).toString(), 'hello');
    const onServer = await serverStream(served, 0);
    s.cancelWrite(7);
    await closedOf(onServer);
    assert.ok(onServer.errored instanceof StreamResetError, String(onServer.errored));
    assert.equal(onServer.errored.errorCode, 7);
    assert.equal(onServer.errored.kind, 'reset');
    // The same connection and the server still work.
    assert.equal(await within(echoOnce(conn, 'still here'), TIMEOUT, 'echo'), 'still here');
    await conn.close();
  });

  test('the client calls cancelRead(8) and writes on: the echo write fails with stop-sending 8, the server goes on', async () => {
    const served = await readmeServer();
    const conn = await connect(served.port);
    const s = await conn.openStream();
    s.write('hello');
    assert.equal((await readBytes(s, 5)).toString(), 'hello');
    const onServer = await serverStream(served, 0);
    s.cancelRead(8);
    s.write('more, which the server echoes into a stream the client stopped reading');
    await closedOf(onServer);
    assert.ok(onServer.errored instanceof StreamResetError, String(onServer.errored));
    assert.equal(onServer.errored.errorCode, 8);
    assert.equal(onServer.errored.kind, 'stop-sending');
    assert.equal(await within(echoOnce(conn, 'still here'), TIMEOUT, 'echo'), 'still here');
    await conn.close();
  });

  test('the client closes the connection (code 3) with a stream open: ConnectionClosedError 3, the server goes on', async () => {
    const served = await readmeServer();
    const conn = await connect(served.port);
    const s = await conn.openStream();
    s.write('hello');
    assert.equal((await readBytes(s, 5)).toString(), 'hello');
    const onServer = await serverStream(served, 0);
    await conn.close(3, 'bye');
    await closedOf(onServer);
    const err = onServer.errored;
    assert.ok(err instanceof ConnectionClosedError, String(err));
    assert.deepEqual([err.errorCode, err.application, err.remote, err.reason], [3, true, true, 'bye']);
    // The client's own stream ended with its own close, quietly too.
    assert.equal(s.destroyed, true);
    const again = await connect(served.port);
    assert.equal(await within(echoOnce(again, 'next client'), TIMEOUT, 'echo'), 'next client');
    await again.close();
  });
});

describe('code that reads or writes sees the typed error with the peer code (still no listener)', () => {
  test('a for-await reader sees StreamResetError 7 (reset) when the client calls cancelWrite(7)', async () => {
    const srv = await handlerServer(async (stream) => {
      let n = 0;
      for await (const c of stream) n += (c as Buffer).length;
      return n;
    });
    const conn = await connect(srv.port);
    const s = await conn.openStream();
    s.write(Buffer.alloc(1000, 1));
    await within(
      until(() => srv.outcomes.length > 0),
      TIMEOUT,
      'server stream',
    );
    s.cancelWrite(7);
    const err = await within(srv.outcomes[0]!, TIMEOUT, 'reader outcome');
    assert.ok(err instanceof StreamResetError, String(err));
    assert.deepEqual(
      [err.code, err.errorCode, err.kind, err.streamId],
      ['ERR_QUIC_STREAM_RESET', 7, 'reset', 0],
    );
    await conn.close();
  });

  test('a writer sees StreamResetError 8 (stop-sending) in its write callback when the client calls cancelRead(8)', async () => {
    const chunk = Buffer.alloc(16 * 1024, 2);
    const srv = await handlerServer(async (stream) => {
      for (let i = 0; ; i++) {
        const err = await new Promise<Error | null | undefined>((resolve) => stream.write(chunk, resolve));
        if (err) return err;
        if (i > 10_000) return 'never failed';
      }
    });
    const conn = await connect(srv.port);
    const s = await conn.openStream();
    s.write('go');
    await readBytes(s, 1);
    s.cancelRead(8);
    const err = await within(srv.outcomes[0]!, TIMEOUT, 'writer outcome');
    assert.ok(err instanceof StreamResetError, String(err));
    assert.deepEqual([err.errorCode, err.kind], [8, 'stop-sending']);
    await conn.close();
  });

  test('pipeline() into the stream rejects with StreamResetError 8 when the client calls cancelRead(8)', async () => {
    const srv = await handlerServer(async (stream) => {
      async function* forever() {
        for (;;) yield Buffer.alloc(16 * 1024, 3);
      }
      await pipeline(Readable.from(forever()), stream);
    });
    const conn = await connect(srv.port);
    const s = await conn.openStream();
    s.write('go');
    await readBytes(s, 1);
    s.cancelRead(8);
    const err = await within(srv.outcomes[0]!, TIMEOUT, 'pipeline outcome');
    assert.ok(err instanceof StreamResetError, String(err));
    assert.deepEqual([err.errorCode, err.kind], [8, 'stop-sending']);
    await conn.close();
  });

  test('a reader and a writer see ConnectionClosedError 3 when the client closes the connection', async () => {
    const srv = await handlerServer(async (stream) => {
      const writing = (async () => {
        for (;;) {
          const err = await new Promise<Error | null | undefined>((resolve) =>
            stream.write(Buffer.alloc(1024, 4), resolve),
          );
          if (err) return err;
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
      const reading = (async () => {
        try {
          for await (const _ of stream) {
            /* keep reading */
          }
          return 'ended';
        } catch (e) {
          return e;
        }
      })();
      return Promise.all([reading, writing]);
    });
    const conn = await connect(srv.port);
    const s = await conn.openStream();
    s.write('go');
    await readBytes(s, 1);
    await conn.close(3, 'bye');
    const outcome = (await within(srv.outcomes[0]!, TIMEOUT, 'outcomes')) as unknown[];
    for (const err of outcome) {
      assert.ok(err instanceof ConnectionClosedError, String(err));
      assert.deepEqual([err.errorCode, err.application, err.remote], [3, true, true]);
    }
  });
});

test("an error the application causes itself still follows Node's rule (thrown with no listener)", async () => {
  const served = await readmeServer();
  const conn = await connect(served.port);
  const s = await conn.openStream();
  // A network error with nobody listening is not emitted...
  assert.equal(s.emit('error', new StreamResetError(1, 'reset', s.id)), false);
  // ...an application's own error is, and with no listener EventEmitter throws it, as for any stream.
  assert.throws(() => s.emit('error', new Error('mine')), /mine/);
  const seen: unknown[] = [];
  s.on('error', (e) => seen.push(e));
  const reset = new StreamResetError(2, 'reset', s.id);
  assert.equal(s.emit('error', reset), true, 'a listener gets network errors');
  assert.deepEqual(seen, [reset]);
  await conn.close();
});

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}
