/**
 * Every reason a server rejects 0-RTT, with an application policy that would accept it:
 *
 * - the server restarted with a new session-ticket key: the ticket does not open, no resumption
 *   (RFC 8446 §4.6.1), so no early data;
 * - the ALPN the server selects now differs from the ticket's (RFC 9001 §4.6.2 / RFC 8446 §4.2.10);
 * - the server restarted with lower limits than those remembered with the ticket (RFC 9000 §7.4.1):
 *   resumption succeeds but 0-RTT is rejected, and the next connection honours the new, lower
 *   limits (fewer streams: opening waits for MAX_STREAMS; a smaller window: DATA_BLOCKED);
 * - a HelloRetryRequest (RFC 8446 §4.1.4: early data is rejected after HRR).
 *
 * In each case the early epoch dies whole and nothing of it reaches the next connection.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Connection } from '../../src/connection/connection.js';
import type { StreamEpoch } from '../../src/connection/stream-epoch.js';
import { FrameType } from '../../src/wire/frames.js';
import { PacketType } from '../../src/wire/packet-header.js';
import { withSimSeed } from './network.js';
import {
  allEqual,
  assertNothingOldAfterRejection,
  CANCEL_CODE,
  ClientApp,
  EchoServerApp,
  fill,
  ZeroRttSim,
} from './zero-rtt-harness.js';

const K = 1024;
const OLD = 0xaa;
const NEW = 0xbb;

interface Attempt {
  conn: Connection;
  app: ClientApp;
  old: StreamEpoch;
  oldIds: number[];
}

/** A 0-RTT attempt with three old streams (two bidi, one uni) carrying data. */
function attempt(z: ZeroRttSim, alpn?: string[]): Attempt {
  const conn = z.dialEarly(undefined, alpn);
  const app = new ClientApp(z.sim, conn);
  const old = conn.epoch!;
  const oldIds = [
    old.streams.openStream(true)!,
    old.streams.openStream(true)!,
    old.streams.openStream(false)!,
  ];
  for (const id of oldIds) old.streams.write(id, fill(2_000, OLD));
  old.streams.end(oldIds[2]!);
  app.onRejected = () => {
    for (const id of oldIds) {
      old.streams.resetStream(id, CANCEL_CODE);
      if (id % 4 === 0) old.streams.stopSending(id, CANCEL_CODE);
    }
  };
  return { conn, app, old, oldIds };
}

/** On the new epoch, stream 0 writes `size` new bytes; run until its echo is back. */
function continueOnNext(z: ZeroRttSim, a: Attempt, size = 1_500): { fresh: StreamEpoch; server: Connection } {
  let fresh: StreamEpoch | undefined;
  a.app.onEpoch = (epoch) => {
    if (epoch.early) return;
    fresh = epoch;
    const id = epoch.streams.openStream(true)!;
    assert.equal(id, 0);
    epoch.streams.write(id, fill(size, NEW));
    epoch.streams.end(id);
  };
  z.sim.run(() => fresh !== undefined && a.app.logOf(fresh, 0).fin, 10_000);
  z.settle();
  const server = z.serverOf(a.conn);
  assert.ok(fresh && server);
  assert.equal(a.app.logOf(fresh, 0).bytes.length, size);
  assert.ok(allEqual(a.app.logOf(fresh, 0).bytes, NEW));
  return { fresh, server };
}

function assertRejectedCleanly(
  z: ZeroRttSim,
  a: Attempt,
  server: Connection,
  echo: EchoServerApp,
  newStreams: number[] = [0],
): void {
  assert.equal(a.conn.earlyDataState, 'rejected');
  assert.equal(a.old.rejected, true);
  assert.equal(a.conn.used0RTT, false);
  assert.equal(server.used0RTT, false);
  assert.ok(
    z
      .framesOf(a.conn, 'sent')
      .some((r) => r.packetType === PacketType.ZeroRtt && r.frame.type === FrameType.Stream),
    'the old streams did go out in 0-RTT',
  );
  assertNothingOldAfterRejection(z, a.conn, { newByte: NEW, allowedStreamIds: new Set(newStreams) });
  assert.deepEqual(
    [...echo.logOf(server).keys()].sort((x, y) => x - y),
    newStreams,
  );
  for (const log of echo.logOf(server).values()) assert.ok(allEqual(log.bytes, NEW));
  assert.equal(echo.resetsSeen(server), 0);
  for (const r of z.framesOf(server, 'received')) {
    assert.notEqual(r.packetType, PacketType.ZeroRtt);
    assert.ok(r.frame.type !== FrameType.ResetStream && r.frame.type !== FrameType.StopSending);
  }
  assert.deepEqual(a.conn.internalErrors, []);
  assert.deepEqual(server.internalErrors, []);
}

describe('0-RTT rejected for a reason other than the policy', () => {
  test('the server restarted with a new session-ticket key: full handshake, 0-RTT rejected', () => {
    withSimSeed(7400, (seed) => {
      const z = new ZeroRttSim({ seed, allow: true });
      z.serverTls.ticketKeys = z.newTicketKeys();
      z.restartServer();
      const echo = new EchoServerApp(z.sim);
      const a = attempt(z);
      const { server } = continueOnNext(z, a);
      assert.equal(a.conn.resumed, false, 'the ticket did not open: no resumption');
      assert.equal(server.resumed, false);
      assert.equal(z.policyCalls.length, 0, 'the policy was never asked: the ticket did not open');
      assertRejectedCleanly(z, a, server, echo);
    });
  });

  test('the ALPN the server selects changed: the ticket is not used, 0-RTT rejected', () => {
    withSimSeed(7401, (seed) => {
      const z = new ZeroRttSim({ seed, allow: true });
      assert.equal(z.session.alpn, 'hq-interop');
      // The client offers both protocols; the restarted server now prefers the other one.
      z.serverTls.alpn = ['test', 'hq-interop'];
      z.restartServer();
      const echo = new EchoServerApp(z.sim);
      const a = attempt(z, ['hq-interop', 'test']);
      const { server } = continueOnNext(z, a);
      assert.equal(a.conn.alpn, 'test');
      assert.equal(server.alpn, 'test');
      assert.equal(a.conn.resumed, false);
      assert.equal(z.policyCalls.length, 0);
      assertRejectedCleanly(z, a, server, echo);
    });
  });

  test('a HelloRetryRequest rejects 0-RTT (the server now only offers another group)', () => {
    withSimSeed(7402, (seed) => {
      const z = new ZeroRttSim({ seed, allow: true });
      z.serverTls.groups = ['secp256r1'];
      z.restartServer();
      const echo = new EchoServerApp(z.sim);
      const a = attempt(z);
      const { server } = continueOnNext(z, a);
      assert.equal(z.policyCalls.length, 0, 'after a HelloRetryRequest 0-RTT is not even considered');
      // The client sent a second ClientHello (CRYPTO at a non-zero Initial offset): there was an HRR.
      assert.ok(
        z
          .framesOf(a.conn, 'sent')
          .some(
            (r) =>
              r.packetType === PacketType.Initial && r.frame.type === FrameType.Crypto && r.frame.offset > 0,
          ),
      );
      assertRejectedCleanly(z, a, server, echo);
    });
  });

  test('the server lowered its limits: resumed, 0-RTT rejected, the next connection honours the new limits', () => {
    withSimSeed(7403, (seed) => {
      const z = new ZeroRttSim({
        seed,
        allow: true,
        serverTransport: { maxStreamsBidi: 10, initialMaxData: 64 * K, initialMaxStreamData: 32 * K },
      });
      // Restart with 2 bidi streams and an 8 KiB connection window instead of 10 and 64 KiB.
      Object.assign(z.serverTransport, { maxStreamsBidi: 2, initialMaxData: 8 * K });
      z.restartServer();
      const echo = new EchoServerApp(z.sim);
      const a = attempt(z);
      assert.equal(a.old.streams.stats().peerMaxData, 64 * K, 'the early epoch ran on remembered limits');
      // Under the remembered limit the old attempt could open more bidi streams than the new limit.
      for (let i = 0; i < 3; i++) assert.notEqual(a.old.streams.openStream(true), undefined);

      let fresh: StreamEpoch | undefined;
      const ids: Array<number | undefined> = [];
      let thirdOpenedAfter: string | undefined;
      a.app.onEpoch = (epoch) => {
        if (epoch.early) return;
        fresh = epoch;
        assert.equal(epoch.streams.stats().peerMaxData, 8 * K);
        for (let i = 0; i < 3; i++) ids.push(epoch.streams.openStream(true));
        for (const id of ids) {
          if (id === undefined) continue;
          epoch.streams.write(id, fill(6 * K, NEW));
          epoch.streams.end(id);
        }
      };
      a.app.onTurn = () => {
        // openStream "waits": retried when the core reports streams-available (MAX_STREAMS).
        if (!fresh || ids[2] !== undefined) return;
        const available = a.app.events.some(
          (e) => e.type === 'stream' && e.epoch === fresh && e.event.type === 'streams-available',
        );
        if (!available) return;
        ids[2] = fresh.streams.openStream(true);
        if (ids[2] !== undefined) {
          thirdOpenedAfter = 'streams-available';
          fresh.streams.write(ids[2], fill(6 * K, NEW));
          fresh.streams.end(ids[2]);
        }
      };
      z.sim.run(() => fresh !== undefined && ids[2] !== undefined && a.app.logOf(fresh, ids[2]).fin, 20_000);
      z.settle();
      const server = z.serverOf(a.conn)!;
      assert.ok(fresh && server);
      assert.equal(a.conn.resumed, true, 'resumption itself still works');
      assert.equal(z.policyCalls.length, 0, 'the limit check rejects before the policy is asked');
      assert.deepEqual(ids, [0, 4, 8]);
      assert.equal(thirdOpenedAfter, 'streams-available', 'the third stream waited for MAX_STREAMS');
      for (const id of [0, 4, 8]) {
        assert.equal(a.app.logOf(fresh, id).bytes.length, 6 * K);
        assert.ok(allEqual(a.app.logOf(fresh, id).bytes, NEW));
      }
      assertRejectedCleanly(z, a, server, echo, [0, 4, 8]);

      // On the wire: the next connection asked for more streams at the new limit (2) and more
      // credit at the new window (8 KiB), and sent nothing on stream 8 before MAX_STREAMS arrived.
      const sent = z.framesOf(a.conn, 'sent').filter((r) => r.earlyDataState === 'rejected');
      assert.ok(
        sent.some((r) => r.frame.type === FrameType.StreamsBlockedBidi && r.frame.maximumStreams === 2),
      );
      assert.ok(sent.some((r) => r.frame.type === FrameType.DataBlocked && r.frame.maximumData === 8 * K));
      const received = z.framesOf(a.conn, 'received');
      const maxStreamsAt = received.find((r) => r.frame.type === FrameType.MaxStreamsBidi)!.time;
      const firstOn8 = sent.find((r) => r.frame.type === FrameType.Stream && r.frame.streamId === 8)!.time;
      assert.ok(firstOn8 >= maxStreamsAt);
      // Never more than 8 KiB of stream data before the first MAX_DATA.
      const maxDataAt =
        received.find((r) => r.frame.type === FrameType.MaxData)?.time ?? Number.POSITIVE_INFINITY;
      const early = sent
        .filter((r) => r.frame.type === FrameType.Stream && r.time < maxDataAt)
        .reduce((n, r) => n + r.data!.length, 0);
      assert.ok(early <= 8 * K, `${early} bytes before MAX_DATA`);
    });
  });
});
