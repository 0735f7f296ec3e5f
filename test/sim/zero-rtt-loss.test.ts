/**
 * 0-RTT packets lost, still in flight, or arriving late when the server rejects 0-RTT.
 *
 * RFC 9001 §4.6.2: a client whose 0-RTT is rejected treats the 0-RTT packets as never sent -- they are
 * not retransmitted, their loss is not detected later -- and a server that rejected 0-RTT has no 0-RTT
 * keys, so a 0-RTT packet arriving late (reordered, delayed, duplicated) is dropped, even after the
 * handshake, even though the next connection reuses the same stream IDs.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Connection } from '../../src/connection/connection.js';
import type { StreamEpoch } from '../../src/connection/stream-epoch.js';
import { PacketNumberSpace } from '../../src/recovery/types.js';
import { FrameType } from '../../src/wire/frames.js';
import { PacketType } from '../../src/wire/packet-header.js';
import { type LinkConditions, withSimSeed } from './network.js';
import {
  allEqual,
  assertNothingOldAfterRejection,
  CANCEL_CODE,
  CLIENT_ADDRESS,
  ClientApp,
  EchoServerApp,
  fill,
  SERVER_ADDRESS,
  ZeroRttSim,
} from './zero-rtt-harness.js';

const OLD = 0xaa;
const NEW = 0xbb;

/** A datagram whose first packet is a QUIC v1 0-RTT packet (long header, type 0b01; RFC 9000 §17.2.3). */
function startsWithZeroRtt(d: Uint8Array): boolean {
  return (d[0]! & 0xb0) === 0x90;
}

interface Run {
  z: ZeroRttSim;
  conn: Connection;
  server: Connection;
  app: ClientApp;
  echo: EchoServerApp;
  fresh: StreamEpoch;
  /** Application-space packets in flight (all 0-RTT) at the last turn before the verdict. */
  inFlightBeforeVerdict: number;
}

/** Old stream 0 writes `oldBytes`; after the rejection, new stream 0 writes `newBytes` and awaits the echo. */
function runRejected(
  seed: number,
  opts: {
    up?: LinkConditions;
    down?: LinkConditions;
    oldBytes?: number;
    newBytes?: number;
    maxTime?: number;
  },
): Run {
  const z = new ZeroRttSim({ seed, allow: false });
  const echo = new EchoServerApp(z.sim);
  if (opts.up || opts.down) z.setLinks(opts.up ?? {}, opts.down ?? {});
  const conn = z.dialEarly();
  const app = new ClientApp(z.sim, conn);
  const old = conn.epoch!;
  const oldId = old.streams.openStream(true)!;
  old.streams.write(oldId, fill(opts.oldBytes ?? 30_000, OLD));
  old.streams.end(oldId);
  const newBytes = opts.newBytes ?? 3_000;
  let inFlightBeforeVerdict = 0;
  let fresh: StreamEpoch | undefined;
  app.onTurn = () => {
    if (!app.rejected && conn.earlyDataState === 'offered') {
      inFlightBeforeVerdict = conn.lossDetector.ackElicitingInFlight(PacketNumberSpace.ApplicationData);
    }
  };
  app.onRejected = () => {
    old.streams.stopSending(oldId, CANCEL_CODE);
    old.streams.resetStream(oldId, CANCEL_CODE);
  };
  app.onEpoch = (epoch) => {
    if (epoch.early) return;
    fresh = epoch;
    const id = epoch.streams.openStream(true)!;
    epoch.streams.write(id, fill(newBytes, NEW));
    epoch.streams.end(id);
  };
  z.sim.run(() => fresh !== undefined && app.logOf(fresh, 0).fin, opts.maxTime ?? 30_000);
  z.settle(3_000);
  const server = z.serverOf(conn);
  assert.ok(server && fresh);
  assert.equal(app.logOf(fresh, 0).bytes.length, newBytes);
  assert.ok(allEqual(app.logOf(fresh, 0).bytes, NEW));
  return { z, conn, server, app, echo, fresh, inFlightBeforeVerdict };
}

/** Nothing of the old attempt reached the server or the next connection. */
function assertClean(r: Run, newBytes = 3_000): void {
  const { z, conn, server, app, echo, fresh } = r;
  assert.equal(conn.earlyDataState, 'rejected');
  assertNothingOldAfterRejection(z, conn, { newByte: NEW, allowedStreamIds: new Set([0]) });
  const served = echo.logOf(server);
  assert.deepEqual([...served.keys()], [0]);
  assert.equal(served.get(0)!.bytes.length, newBytes);
  assert.ok(allEqual(served.get(0)!.bytes, NEW), 'the server application received only new bytes');
  assert.equal(echo.resetsSeen(server), 0);
  assert.equal(app.resetsSeen(fresh), 0);
  for (const f of z.framesOf(server, 'received')) {
    assert.notEqual(f.packetType, PacketType.ZeroRtt, 'the server processed no 0-RTT packet');
    assert.ok(f.frame.type !== FrameType.ResetStream && f.frame.type !== FrameType.StopSending);
    if (f.frame.type === FrameType.Stream) assert.ok(allEqual(f.data!, NEW));
  }
  assert.equal(server.epoch!.streams.stats().bytesReceived, newBytes);
  assert.deepEqual(conn.internalErrors, []);
  assert.deepEqual(server.internalErrors, []);
}

describe('0-RTT packets lost or in flight at the rejection', () => {
  test('in flight at the verdict: forgotten, never retransmitted in 1-RTT', () => {
    withSimSeed(7300, (seed) => {
      const r = runRejected(seed, {});
      assert.ok(r.inFlightBeforeVerdict > 0, 'unacknowledged 0-RTT packets were in flight');
      // After the verdict the application space holds only 1-RTT packets (none left once acked).
      assert.equal(r.conn.lossDetector.ackElicitingInFlight(PacketNumberSpace.ApplicationData), 0);
      assertClean(r);
    });
  });

  test('every 0-RTT-only datagram lost, the verdict delayed past a PTO: probes may be 0-RTT, none after', () => {
    withSimSeed(7301, (seed) => {
      const r = runRejected(seed, {
        up: { lossIf: ({ datagram }) => startsWithZeroRtt(datagram) },
        // The server's reply takes longer than the client's first PTO.
        down: { delay: 1_200 },
      });
      assert.ok(r.inFlightBeforeVerdict > 0);
      const zeroRtt = r.z.framesOf(r.conn, 'sent').filter((f) => f.packetType === PacketType.ZeroRtt);
      const firstFlight = zeroRtt[0]!.time;
      assert.ok(
        zeroRtt.some((f) => f.time > firstFlight),
        'the PTO fired before the verdict and sent 0-RTT again',
      );
      assertClean(r);
    });
  });

  test('0-RTT datagrams delivered late -- after the rejection, and again after the handshake -- are dropped', () => {
    withSimSeed(7302, (seed) => {
      const held: Uint8Array[] = [];
      const r = runRejected(seed, {
        up: {
          lossIf: ({ datagram }) => {
            if (!startsWithZeroRtt(datagram)) return false;
            held.push(new Uint8Array(datagram));
            return true;
          },
        },
      });
      assert.ok(held.length >= 3, `held back ${held.length} 0-RTT datagrams`);
      assert.ok(r.server.handshakeComplete && r.conn.handshakeConfirmed);
      // The old stream 0's bytes arrive now, when the server has a live stream 0 of the next
      // connection (already finished) and 1-RTT keys. They must not be decrypted or delivered.
      for (const d of held) r.z.sim.net.inject(CLIENT_ADDRESS, SERVER_ADDRESS, d);
      // ...and duplicated, a second later.
      for (const d of held) r.z.sim.net.inject(CLIENT_ADDRESS, SERVER_ADDRESS, d, r.z.sim.now + 1_000);
      r.z.settle(3_000);
      assert.equal(r.z.sim.net.stats().injected, 2 * held.length);
      assert.equal(r.server.isClosed, false, 'late 0-RTT packets do not break the connection');
      assertClean(r);
    });
  });

  test('random loss, jitter and reordering on both paths, several seeds: the next connection is clean', () => {
    const link: LinkConditions = { delay: 15, jitter: 10, loss: 0.15, reorder: 0.1 };
    for (let seed = 7310; seed < 7316; seed++) {
      withSimSeed(seed, (s) => assertClean(runRejected(s, { up: link, down: link, maxTime: 60_000 })));
    }
  });
});
