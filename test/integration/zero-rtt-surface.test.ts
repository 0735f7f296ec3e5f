/**
 * The whole public surface of a rejected 0-RTT attempt, over real UDP (docs/0rtt.md, the table): the
 * same members and scenario as the simulator test (test/sim/early-surface.ts), through dialEarly()
 * against a listenEarly tsquic server whose allow0RTT policy rejects, which echoes and opens a
 * unidirectional stream on the next connection.
 *
 * The wire is read from the qlog files both sides write: after the rejection, the client's 1-RTT
 * packets and everything the server sent or received on that connection carry no RESET_STREAM or
 * STOP_SENDING, no frame naming a stream the live connection does not use (0 and 3), no client
 * DATAGRAM, exactly the next connection's stream 0 bytes, and no CONNECTION_CLOSE but the live
 * connection's own (code 0). The process must see no unhandled error.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import { dialEarly, type EarlyConnection } from '../../src/index.js';
import {
  closeAfterAskingEarlyScenario,
  closeWithoutAskingScenario,
  EARLY_CLOSE_CODE,
  NEW_FIRST,
  NEW_REST,
  type Order,
  PUSH,
  PUSH_BYTES,
  runSurfaceScenario,
  SURFACE_CASES,
  type SurfaceEnv,
} from '../sim/early-surface.js';
import { type ProcessErrorWatch, settleTicks, watchProcessErrors } from '../sim/process-errors.js';
import { clientOptions, within } from './helpers.js';
import {
  cleanupZeroRtt,
  earlyEchoServer,
  frames,
  getTicket,
  type QlogFrame,
  type QlogPacket,
  qlogDir,
  readQlog,
  type ServerView,
  TIMEOUT,
  TicketCache,
} from './zero-rtt-helpers.js';

after(cleanupZeroRtt);

let watch: ProcessErrorWatch;
beforeEach(() => {
  watch = watchProcessErrors();
});
afterEach(async () => {
  await settleTicks();
  assert.deepEqual(watch.stop(), [], 'nothing was thrown into the process');
});

const env: SurfaceEnv = {
  wait: (p, what) => within(p, TIMEOUT, what),
  // Long enough for anything queued to be sent (sends happen on the next turn of the event loop).
  idle: () => new Promise((resolve) => setTimeout(resolve, 50)),
  datagrams: false,
};

interface Setup {
  view: ServerView;
  early: EarlyConnection;
  serverDir: string;
  clientDir: string;
}

async function setup(): Promise<Setup> {
  const serverDir = qlogDir();
  const clientDir = qlogDir();
  const view = await earlyEchoServer({
    allow0RTT: () => false,
    qlogDir: serverDir,
    push: Buffer.alloc(PUSH_BYTES, PUSH),
  });
  const cache = new TicketCache();
  await getTicket(view.port, cache);
  const early = await dialEarly(
    { host: '127.0.0.1', port: view.port },
    clientOptions({ sessionCache: cache, qlogDir: clientDir }),
  );
  assert.equal(early.used0RTT, false);
  return { view, early, serverDir, clientDir };
}

/** The complete qlogs of the attempt (client: the only file; server: the file with the same ODCID). */
async function attemptQlogs(s: Setup): Promise<{ client: QlogPacket[]; server: QlogPacket[] }> {
  for (let i = 0; i < 300; i++) {
    const names = readdirSync(s.clientDir).filter((f) => f.endsWith('_client.sqlog'));
    if (names.length === 1) {
      const odcid = names[0]!.split('_')[0]!;
      const serverFile = join(s.serverDir, `${odcid}_server.sqlog`);
      const client = readQlog(join(s.clientDir, names[0]!));
      const server = readdirSync(s.serverDir).includes(`${odcid}_server.sqlog`) ? readQlog(serverFile) : [];
      const done = (p: QlogPacket[]) => JSON.stringify(p).includes('connection_close');
      if (done(client) && done(server)) return { client, server };
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('the qlog files of the attempt never completed');
}

/** Byte ranges covered by `fs` (offset, length), merged. */
function coverage(fs: QlogFrame[]): Array<[number, number]> {
  const ranges = fs
    .map((f): [number, number] => [f.offset ?? 0, (f.offset ?? 0) + (f.length ?? 0)])
    .sort((a, b) => a[0] - b[0]);
  const out: Array<[number, number]> = [];
  for (const r of ranges) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else out.push([...r]);
  }
  return out;
}

const LIVE_STREAMS = new Set([0, 3]);

function assertNoDeadFrames(list: Array<QlogFrame & { packetType: string }>, what: string): void {
  for (const f of list) {
    const where = `${what}: ${JSON.stringify(f)}`;
    assert.ok(f.frame_type !== 'reset_stream' && f.frame_type !== 'stop_sending', where);
    if (f.stream_id !== undefined) assert.ok(LIVE_STREAMS.has(f.stream_id), `${where}: not a live stream`);
    if (f.frame_type === 'connection_close') {
      assert.deepEqual([f.error_space, f.error_code], ['application', 0], `${where}: not the live close`);
    }
  }
}

/** What both qlogs say about the attempt after the rejection (see the header). */
async function assertCleanWire(s: Setup): Promise<void> {
  const { client, server } = await attemptQlogs(s);
  const sent = frames(client, 'transport:packet_sent');
  assert.ok(
    sent.some((f) => f.packetType === '0RTT' && f.frame_type === 'stream'),
    'the early attempt went out as 0-RTT',
  );
  // Client 1-RTT packets exist only after the verdict (the handshake completed with it).
  const after1Rtt = sent.filter((f) => f.packetType === '1RTT');
  assertNoDeadFrames(after1Rtt, 'client sent');
  assert.ok(!after1Rtt.some((f) => f.frame_type === 'datagram'), 'a client DATAGRAM after the rejection');
  const stream0 = after1Rtt.filter((f) => f.frame_type === 'stream' && f.stream_id === 0);
  assert.deepEqual(
    coverage(stream0),
    [[0, NEW_FIRST + NEW_REST]],
    'exactly the next connection stream 0 bytes',
  );
  const serverGot = frames(server, 'transport:packet_received');
  assert.ok(
    serverGot.every((f) => f.packetType !== '0RTT'),
    'the server processed no 0-RTT packet',
  );
  assertNoDeadFrames(serverGot, 'server received');
  assertNoDeadFrames(frames(server, 'transport:packet_sent'), 'server sent');
  assert.ok(
    serverGot.some((f) => f.frame_type === 'connection_close'),
    'the live connection closed',
  );
  // The server application: on the attempt, the client's stream 0 only, whole, never reset.
  const onAttempt = s.view.streams.filter((r) => r.conn === 1);
  assert.deepEqual(
    onAttempt.map((r) => [r.id, r.bidi, r.bytes, r.errors.length]),
    [[0, true, NEW_FIRST + NEW_REST, 0]],
  );
  assert.deepEqual(s.view.errors, []);
}

describe('0-RTT rejected: every member of the dead EarlyConnection and its streams (UDP)', () => {
  for (const c of SURFACE_CASES) {
    for (const order of c.orders ?? (['before-next', 'after-next'] as Order[])) {
      test(`${c.member}, ${order === 'before-next' ? 'before' : 'after'} nextConnection()`, async () => {
        const s = await setup();
        await runSurfaceScenario(env, s.early, c, order);
        await assertCleanWire(s);
      });
    }
  }

  test('early.close() when nextConnection() was never called: it closes the QUIC connection with its code', async () => {
    const s = await setup();
    await closeWithoutAskingScenario(env, s.early);
    const onServer = s.view.connections[1];
    assert.ok(onServer);
    const reason = await within(onServer.closed, TIMEOUT, 'the server side closed');
    assert.deepEqual(
      [reason.source, reason.errorCode, reason.application],
      ['remote', EARLY_CLOSE_CODE, true],
    );
    const { client, server } = await attemptQlogs(s);
    // The application's code in 1-RTT; before the handshake is confirmed also a transport close with
    // APPLICATION_ERROR in a Handshake packet, which must not reveal it (RFC 9000 §10.2.3).
    const closes = frames(client, 'transport:packet_sent').filter((f) => f.frame_type === 'connection_close');
    assert.ok(
      closes.some((f) => f.error_space === 'application' && f.error_code === EARLY_CLOSE_CODE),
      JSON.stringify(closes),
    );
    for (const f of closes) {
      const ok =
        f.error_space === 'application'
          ? f.error_code === EARLY_CLOSE_CODE
          : f.error_code === 0x0c && f.packetType !== '1RTT';
      assert.ok(ok, JSON.stringify(f));
    }
    // Nothing of the dead streams reached the server before the close.
    const got = frames(server, 'transport:packet_received');
    assert.ok(
      got.every((f) => f.stream_id === undefined && f.frame_type !== 'datagram'),
      JSON.stringify(got),
    );
    assert.deepEqual(
      s.view.streams.filter((r) => r.conn === 1),
      [],
    );
  });

  test('early.close() after nextConnection() was called but before it resolved: the next connection lives', async () => {
    const s = await setup();
    const echo = await closeAfterAskingEarlyScenario(env, s.early);
    assert.equal(echo.length, NEW_FIRST);
    const { client } = await attemptQlogs(s);
    const closes = frames(client, 'transport:packet_sent').filter((f) => f.frame_type === 'connection_close');
    assert.ok(closes.length > 0 && closes.every((f) => f.error_code === 0));
  });

  test("issue 9's crash, verbatim: an early stream written but never read, then nextConnection()", async () => {
    const s = await setup();
    const st = await s.early.openStream();
    st.end(Buffer.from('GET /\r\n'));
    const next = await within(s.early.nextConnection(), TIMEOUT, 'nextConnection');
    await env.idle();
    assert.equal(st.destroyed, true);
    assert.equal(next.used0RTT, false);
    await next.close();
  });

  test("issue 9's close, verbatim: early.close() after nextConnection() leaves the next connection open", async () => {
    const s = await setup();
    const st = await s.early.openStream();
    st.on('error', () => {});
    st.end(Buffer.from('GET /\r\n'));
    const next = await within(s.early.nextConnection(), TIMEOUT, 'nextConnection');
    await s.early.close();
    const again = await within(next.openStream(), TIMEOUT, 'openStream after early.close()');
    again.end(Buffer.from('still open'));
    const chunks: Buffer[] = [];
    for await (const c of again) chunks.push(c as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), 'still open');
    await next.close();
  });
});
