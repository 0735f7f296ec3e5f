/**
 * 0-RTT at the HTTP/3 level in the simulator (RFC 9114 §7.2.4.2, RFC 9001 §4.6.2): requests sent
 * before the handshake completes under the SETTINGS remembered with the ticket; when the server
 * rejects 0-RTT they are sent again on the next epoch, with stream IDs from 0 and nothing of the dead
 * attempt (HEADERS, DATA, QPACK instructions, cancellations) reaching the server. The quic-go #4706
 * scenario one layer up: cancelling a dead request must not reset the live one with the same ID.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Connection, FrameTraceEvent } from '../../src/connection/connection.js';
import { H3ErrorCode } from '../../src/http3/error-codes.js';
import { SessionTicketKeys } from '../../src/tls/session-ticket-keys.js';
import { FrameType } from '../../src/wire/frames.js';
import { PacketType } from '../../src/wire/packet-header.js';
import { H3Sim, respondWith } from './h3-harness.js';
import { DEFAULT_START_TIME, Prng, seededRandomBytes } from './network.js';

const SEED = Number(process.env.SIM_SEED ?? 0x0247);

interface Seen {
  path: string;
  early: boolean;
  streamId: number;
}

interface Traced extends FrameTraceEvent {
  conn: Connection;
}

function setup(seed: number, serverSettings = { qpackMaxTableCapacity: 4096, qpackBlockedStreams: 16 }) {
  const allow = { value: true };
  const seen: Seen[] = [];
  const trace: Traced[] = [];
  const h = new H3Sim({
    seed,
    link: { delay: 25 },
    server: {
      allowEarlyData: () => allow.value,
      tls: {
        ticketKeys: new SessionTicketKeys({
          random: seededRandomBytes(new Prng(seed)),
          now: DEFAULT_START_TIME,
        }),
        issueEarlyDataTickets: true,
      },
    },
    serverSettings,
    trace: (conn, e) => trace.push({ ...e, conn }),
    onRequest: (ex) => {
      seen.push({ path: ex.head!.path!, early: ex.early, streamId: ex.streamId! });
      respondWith((e) => ({ body: Buffer.from(`body of ${e.head!.path}`) }))(ex);
    },
  });
  // A first connection earns a ticket (with the server's SETTINGS kept in it), then closes.
  const first = h.connect();
  const warm = h.request('/warm');
  h.run(() => warm.rec.ended && h.tickets.length > 0);
  first.close(0, 'done', h.sim.now);
  h.sim.client.markActive(first);
  h.run(() => first.isTerminated);
  seen.length = 0;
  trace.length = 0;
  return { h, allow, seen, trace };
}

test('0-RTT accepted: requests go in 0-RTT under the remembered SETTINGS and are served early', () => {
  const { h, seen, trace } = setup(SEED);
  const ticket = h.tickets.pop()!;
  assert.ok(ticket.applicationData && ticket.applicationData.length > 0, 'SETTINGS kept with the ticket');
  const conn = h.dial({ session: ticket, offerEarlyData: true });
  const early = h.session;
  assert.equal(
    early.conn.effectivePeerSettings.qpackMaxTableCapacity,
    4096,
    'remembered, before any byte from the server',
  );
  const a = h.requestWithResend('/a');
  const b = h.requestWithResend('/b');
  h.run(() => a.rec.ended && b.rec.ended);
  assert.equal(a.rec.body.toString(), 'body of /a');
  assert.equal(b.rec.body.toString(), 'body of /b');
  assert.equal(a.attempts.length, 1);
  assert.ok(a.attempts[0]!.early && b.attempts[0]!.early);
  assert.deepEqual(seen, [
    { path: '/a', early: true, streamId: 0 },
    { path: '/b', early: true, streamId: 4 },
  ]);
  assert.equal(conn.earlyDataState, 'accepted');
  // The request HEADERS went in 0-RTT packets.
  const zeroRttStreams = trace.filter(
    (t) =>
      t.conn === conn &&
      t.direction === 'sent' &&
      t.packetType === PacketType.ZeroRtt &&
      t.frame.type === FrameType.Stream,
  );
  assert.ok(zeroRttStreams.some((t) => t.frame.type === FrameType.Stream && t.frame.streamId === 0));
  // The server's SETTINGS did not reduce what the client relied on: the session is open.
  assert.equal(h.clientSessions.length, 2, 'one session for the whole connection');
  assert.equal(conn.isClosed, false);
});

test('0-RTT rejected: requests are sent again on the next connection, stream IDs from 0, nothing of the dead attempt reaches the server', () => {
  const { h, allow, seen, trace } = setup(SEED + 1);
  allow.value = false;
  const conn = h.dial({ session: h.tickets.pop()!, offerEarlyData: true });
  const dead = h.session;
  const a = h.requestWithResend('/a');
  const b = h.requestWithResend('/b');
  h.run(() => a.rec.ended && b.rec.ended);
  assert.equal(conn.earlyDataState, 'rejected');
  // The caller sees one response per request.
  assert.equal(a.rec.error, undefined);
  assert.equal(a.rec.body.toString(), 'body of /a');
  assert.equal(b.rec.body.toString(), 'body of /b');
  assert.equal(a.attempts.length, 2);
  assert.ok(a.attempts[0]!.early);
  assert.equal(a.attempts[1]!.early, false);
  // Stream IDs restart at 0 on the new connection; the server saw each request once, not early.
  assert.deepEqual(seen, [
    { path: '/a', early: false, streamId: 0 },
    { path: '/b', early: false, streamId: 4 },
  ]);
  // quic-go #4706, one layer up: cancelling the dead requests, and using the dead session, touches
  // nothing on the live connection.
  a.attempts[0]!.cancel();
  b.attempts[0]!.cancel(H3ErrorCode.H3_INTERNAL_ERROR);
  const late = dead.request(
    { method: 'GET', scheme: 'https', authority: 'quic.test', path: '/late', fields: [] },
    {
      onResponse() {},
      onData() {},
      onTrailers() {},
      onEnd() {},
      onError() {},
      onWritable() {},
    },
  );
  late.cancel();
  dead.close();
  const c = h.requestWithResend('/c');
  h.run(() => c.rec.ended);
  assert.equal(c.rec.body.toString(), 'body of /c');
  const server = h.servers[h.servers.length - 1]!;
  const received = trace.filter((t) => t.conn === server.conn && t.direction === 'received');
  assert.equal(
    received.filter((t) => t.packetType === PacketType.ZeroRtt).length,
    0,
    'no 0-RTT frame was processed',
  );
  assert.deepEqual(
    received.filter((t) => t.frame.type === FrameType.ResetStream || t.frame.type === FrameType.StopSending),
    [],
    'no RESET_STREAM or STOP_SENDING from the dead attempt',
  );
  assert.deepEqual(
    seen.map((s) => s.path),
    ['/a', '/b', '/c'],
    'the dead /late never reached the server',
  );
  assert.equal(conn.isClosed, false);
  assert.equal(server.conn.isClosed, false);
  // QPACK: the server's decoder holds exactly what the live session's encoder inserted.
  const serverDecoder = server.session.conn.decoder as unknown as {
    tableEntries(): Array<{ name: string; value: string }>;
  };
  const liveEncoder = h.session.conn.encoder as unknown as {
    tableEntries(): Array<{ name: string; value: string }>;
  };
  assert.deepEqual(
    serverDecoder.tableEntries().map((e) => `${e.name}: ${e.value}`),
    liveEncoder.tableEntries().map((e) => `${e.name}: ${e.value}`),
  );
  assert.notEqual(h.session, dead);
});

test('a server that accepted 0-RTT but lowers a remembered setting: H3_SETTINGS_ERROR (RFC 9114 §7.2.4.2)', () => {
  const { h } = setup(SEED + 2, { qpackMaxTableCapacity: 0, qpackBlockedStreams: 16 });
  h.opts.serverSettings = { qpackMaxTableCapacity: 0, qpackBlockedStreams: 0 };
  const conn = h.dial({ session: h.tickets.pop()!, offerEarlyData: true });
  const r = h.request('/a');
  h.run(() => conn.isClosed);
  assert.equal(conn.earlyDataState, 'accepted');
  assert.ok(
    h.clientTransports[h.clientTransports.length - 1]!.log.includes(
      `close 0x${H3ErrorCode.H3_SETTINGS_ERROR.toString(16)}`,
    ),
  );
  assert.ok(r.rec.error);
});
