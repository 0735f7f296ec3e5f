/**
 * The whole public surface of a rejected 0-RTT attempt, on the simulator (docs/0rtt.md, the table;
 * the members and the scenario: test/sim/early-surface.ts). The client is the public API itself
 * (EarlyConnection, QuicConnection, QuicStream over a ConnectionHandle, test/sim/public-api-sim.ts);
 * the server is a core-level echo that rejects 0-RTT, opens a unidirectional stream and sends a
 * DATAGRAM on the next connection.
 *
 * For every member and both orders (used before nextConnection() is called, or after, with the next
 * connection's stream 0 -- the same ID as the old request -- already open and written), the frame
 * trace of both sides must show that nothing derived from the dead objects reached the live
 * connection: no RESET_STREAM or STOP_SENDING at all, no frame naming a stream the live connection
 * does not use, only the next connection's bytes, no DATAGRAM from the client, and no
 * CONNECTION_CLOSE but the live connection's own; and the process must see no unhandled error.
 * The same table runs over real UDP in test/integration/zero-rtt-surface.test.ts.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { Connection } from '../../src/connection/connection.js';
import type { EarlyConnection } from '../../src/index.js';
import { FrameType } from '../../src/wire/frames.js';
import { PacketType } from '../../src/wire/packet-header.js';
import {
  closeAfterAskingEarlyScenario,
  closeWithoutAskingScenario,
  EARLY_CLOSE_CODE,
  NEW,
  NEW_FIRST,
  NEW_REST,
  type Order,
  PUSH,
  PUSH_BYTES,
  runSurfaceScenario,
  SURFACE_CASES,
  type SurfaceEnv,
} from './early-surface.js';
import { withSimSeed } from './network.js';
import { type ProcessErrorWatch, settleTicks, watchProcessErrors } from './process-errors.js';
import { advance, PublicClient, simWait } from './public-api-sim.js';
import {
  allEqual,
  describeFrame,
  EchoServerApp,
  type FrameRecord,
  fill,
  ZeroRttSim,
} from './zero-rtt-harness.js';

const DATAGRAMS = { maxDatagramFrameSize: 1200 };

interface Setup {
  z: ZeroRttSim;
  echo: EchoServerApp;
  core: Connection;
  early: EarlyConnection;
  env: SurfaceEnv;
}

/** A server that rejects 0-RTT; a public EarlyConnection with the ticket. */
function setup(seed: number): Setup {
  const z = new ZeroRttSim({
    seed,
    allow: false,
    serverTransport: { ...DATAGRAMS },
    clientTransport: DATAGRAMS,
  });
  const echo = new EchoServerApp(z.sim);
  // Once a connection has data on stream 0, the server opens a uni stream and sends a DATAGRAM.
  const pushed = new Set<Connection>();
  z.sim.appHooks.push(() => {
    for (const conn of z.sim.serverConnections) {
      if (pushed.has(conn) || !conn.epoch || (echo.logOf(conn).get(0)?.bytes.length ?? 0) === 0) continue;
      pushed.add(conn);
      const streams = conn.epoch.streams;
      const id = streams.openStream(false);
      assert.equal(id, 3);
      streams.write(id, fill(PUSH_BYTES, PUSH));
      streams.end(id);
      assert.equal(conn.sendDatagram(conn.epoch, fill(60, PUSH)), 'queued');
    }
  });
  const core = z.dialEarly(DATAGRAMS);
  const client = new PublicClient(z.sim, core, true);
  const early = client.client.early();
  assert.ok(early, 'dialEarly with a 0-RTT ticket gives an EarlyConnection at once');
  const env: SurfaceEnv = {
    wait: (p, what) => simWait(z.sim, p, what),
    idle: () => advance(z.sim, 200),
    datagrams: true,
  };
  return { z, echo, core, early, env };
}

const STREAM_FRAMES = new Set([
  FrameType.Stream,
  FrameType.ResetStream,
  FrameType.StopSending,
  FrameType.MaxStreamData,
  FrameType.StreamDataBlocked,
]);

function streamIdOf(r: FrameRecord): number | undefined {
  const f = r.frame;
  return STREAM_FRAMES.has(f.type) && 'streamId' in f ? f.streamId : undefined;
}

/**
 * Nothing derived from the dead attempt on the wire, in either direction, after the verdict: the live
 * connection uses stream 0 (the client's) and stream 3 (the server's) only, carries no reset signal
 * and no client DATAGRAM, and closes once, with `closeCode` (the live connection's own close).
 */
function assertCleanWire(s: Setup, closeCode: number | undefined): void {
  const { z, core, echo } = s;
  const server = z.serverOf(core);
  assert.ok(server);
  const live = new Set([0, 3]);
  const clientAfter = z.framesOf(core, 'sent').filter((r) => r.earlyDataState === 'rejected');
  const serverAll = [...z.framesOf(server, 'received'), ...z.framesOf(server, 'sent')];
  let newBytes = 0;
  const closes: number[] = [];
  for (const r of [...clientAfter, ...serverAll]) {
    const f = r.frame;
    const what = `${r.role} ${r.direction} ${describeFrame(f)}`;
    assert.notEqual(r.packetType, PacketType.ZeroRtt, `${what}: a 0-RTT packet after the rejection`);
    assert.ok(f.type !== FrameType.ResetStream && f.type !== FrameType.StopSending, what);
    const id = streamIdOf(r);
    if (id !== undefined) assert.ok(live.has(id), `${what}: a stream the live connection does not use`);
    if (r.role === 'client') {
      assert.notEqual(f.type, FrameType.Datagram, `${what}: a DATAGRAM from the dead attempt`);
      if (f.type === FrameType.Stream) {
        assert.ok(allEqual(r.data!, NEW), `${what}: old bytes`);
        newBytes += f.data.length;
      }
    }
    if (f.type === FrameType.ConnectionCloseTransport) assert.fail(`${what}: a transport close`);
    if (f.type === FrameType.ConnectionCloseApplication && r.direction === 'sent') closes.push(f.errorCode);
  }
  assert.ok(newBytes >= NEW_FIRST + NEW_REST, 'the next connection sent its bytes');
  if (closeCode === undefined) assert.deepEqual(closes, []);
  else {
    assert.ok(closes.length > 0, 'the live connection closed');
    assert.ok(
      closes.every((c) => c === closeCode),
      `closes on the wire: ${closes}`,
    );
  }
  // The server application: exactly one stream of the client, whole, never reset.
  const served = echo.logOf(server);
  assert.deepEqual([...served.keys()], [0]);
  assert.equal(served.get(0)!.bytes.length, NEW_FIRST + NEW_REST);
  assert.ok(allEqual(served.get(0)!.bytes, NEW));
  assert.equal(echo.resetsSeen(server), 0);
  assert.deepEqual(core.internalErrors, []);
  assert.deepEqual(server.internalErrors, []);
}

let watch: ProcessErrorWatch;
beforeEach(() => {
  watch = watchProcessErrors();
});
afterEach(async () => {
  await settleTicks();
  assert.deepEqual(watch.stop(), [], 'nothing was thrown into the process');
});

describe('0-RTT rejected: every member of the dead EarlyConnection and its streams (simulator)', () => {
  let seed = 9_100;
  for (const c of SURFACE_CASES) {
    for (const order of c.orders ?? (['before-next', 'after-next'] as Order[])) {
      const runSeed = seed++;
      test(`${c.member}, ${order === 'before-next' ? 'before' : 'after'} nextConnection()`, () =>
        withSimSeed(runSeed, async (sd) => {
          const s = setup(sd);
          const result = await runSurfaceScenario(s.env, s.early, c, order);
          assert.equal(result.datagrams.length, 1);
          await advance(s.z.sim, 500);
          assertCleanWire(s, 0);
        }));
    }
  }

  test('early.close() when nextConnection() was never called: it closes the QUIC connection with its code', () =>
    withSimSeed(9_200, async (sd) => {
      const s = setup(sd);
      await closeWithoutAskingScenario(s.env, s.early);
      await advance(s.z.sim, 500);
      const server = s.z.serverOf(s.core);
      assert.ok(server);
      assert.equal(server.closeInfo?.source, 'remote');
      assert.equal(server.closeInfo?.errorCode, EARLY_CLOSE_CODE);
      // Nothing else: no stream of the dead attempt reached the server before the close.
      const got = s.z.framesOf(server, 'received');
      assert.ok(got.every((r) => streamIdOf(r) === undefined && r.frame.type !== FrameType.Datagram));
      assert.deepEqual(s.echo.logOf(server).size, 0);
    }));

  test('early.close() after nextConnection() was called but before it resolved: the next connection lives', () =>
    withSimSeed(9_201, async (sd) => {
      const s = setup(sd);
      const echo = await closeAfterAskingEarlyScenario(s.env, s.early);
      assert.equal(echo.length, NEW_FIRST);
      await advance(s.z.sim, 500);
      const server = s.z.serverOf(s.core);
      assert.ok(server);
      assert.equal(server.closeInfo?.errorCode, 0);
      const closes = s.z
        .framesOf(s.core, 'sent')
        .filter((r) => r.frame.type === FrameType.ConnectionCloseApplication)
        .map((r) => (r.frame.type === FrameType.ConnectionCloseApplication ? r.frame.errorCode : -1));
      assert.ok(closes.length > 0 && closes.every((c) => c === 0), `closes: ${closes}`);
    }));

  test("issue 9's crash, verbatim: an early stream written but never read, then nextConnection()", () =>
    withSimSeed(9_202, async (sd) => {
      const s = setup(sd);
      const st = await s.early.openStream();
      st.end(Buffer.from('GET /\r\n'));
      const next = await s.env.wait(s.early.nextConnection(), 'nextConnection');
      await s.env.idle();
      assert.equal(st.destroyed, true);
      assert.equal(next.used0RTT, false);
      await s.env.wait(next.close(), 'close');
    }));
});
