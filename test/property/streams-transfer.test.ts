/**
 * Property: random data on random streams, split into frames of random sizes, delivered in random
 * order with random losses, duplicates and spurious loss reports, arrives byte-exact; both sides
 * free every stream; flow-control limits hold from the receiver's point of view.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Role } from '../../src/streams/stream-id.js';
import { frameLength } from '../../src/wire/frame-codec.js';
import { cloneFrame, isStreamManagerFrame, Pair, pattern, type SentFrame } from '../unit/streams/harness.js';

/** mulberry32: deterministic PRNG for the network decisions of one run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface InFlight {
  from: Role;
  sent: SentFrame;
  at: number;
  /** Deliver it, or drop it (and report loss). */
  deliver: boolean;
  /** Report loss although it is delivered (spurious loss; the ack still comes later). */
  spurious: boolean;
  duplicate: boolean;
}

const config = fc.record({
  seed: fc.integer(),
  streams: fc.array(fc.record({ bidi: fc.boolean(), up: fc.nat(20_000), down: fc.nat(8_000) }), {
    minLength: 1,
    maxLength: 4,
  }),
  loss: fc.double({ min: 0, max: 0.3, noNaN: true }),
  duplicate: fc.double({ min: 0, max: 0.2, noNaN: true }),
  spurious: fc.double({ min: 0, max: 0.1, noNaN: true }),
  maxDelay: fc.integer({ min: 0, max: 4 }),
  maxBytes: fc.integer({ min: 8, max: 1500 }),
  /** Frames each side may send per round (a congestion window of sorts). */
  burst: fc.integer({ min: 20, max: 200 }),
  connWindow: fc.integer({ min: 2_000, max: 60_000 }),
  streamWindow: fc.integer({ min: 500, max: 20_000 }),
  maxStreams: fc.integer({ min: 1, max: 3 }),
  readMax: fc.integer({ min: 1, max: 5000 }),
});

test('random frames, order, loss and duplication: every stream arrives byte-exact in both directions', () => {
  fc.assert(
    fc.property(config, (cfg) => {
      const rand = prng(cfg.seed);
      const lim = {
        initialMaxData: cfg.connWindow,
        initialMaxStreamDataBidiLocal: cfg.streamWindow,
        initialMaxStreamDataBidiRemote: cfg.streamWindow,
        initialMaxStreamDataUni: cfg.streamWindow,
        initialMaxStreamsBidi: cfg.maxStreams,
        initialMaxStreamsUni: cfg.maxStreams,
      };
      const maxWindow = {
        maxStreamReceiveWindow: cfg.streamWindow * 4,
        maxConnectionReceiveWindow: cfg.connWindow * 4,
      };
      const p = new Pair({ clientLimits: lim, serverLimits: lim, client: maxWindow, server: maxWindow });
      const { client, server } = p;

      // Client side: open streams as limits allow, write and end them.
      const pending = cfg.streams.map((s, k) => ({ ...s, k, id: -1 }));
      const byId = new Map<number, (typeof pending)[number]>();
      const received = { client: new Map<number, Uint8Array[]>(), server: new Map<number, Uint8Array[]>() };
      const finished = { client: new Set<number>(), server: new Set<number>() };
      const upData = (k: number) => pattern(cfg.streams[k]!.up, 1000 + k);
      const downData = (k: number) => pattern(cfg.streams[k]!.down, 2000 + k);

      const network: InFlight[] = [];
      let round = 0;
      const send = (from: Role) => {
        const m = p.side(from);
        for (let k = 0; k < cfg.burst; k++) {
          const maxBytes = 8 + Math.floor(rand() * (cfg.maxBytes - 7));
          const popped = m.popFrame(maxBytes, p.now);
          if (popped === undefined) break;
          assert.ok(frameLength(popped.frame) <= maxBytes);
          const deliver = rand() >= cfg.loss;
          network.push({
            from,
            sent: popped,
            at: round + Math.floor(rand() * (cfg.maxDelay + 1)),
            deliver,
            spurious: deliver && rand() < cfg.spurious,
            duplicate: deliver && rand() < cfg.duplicate,
          });
        }
      };
      const readSide = (role: Role) => {
        const m = p.side(role);
        for (let e = m.pollEvent(); e !== undefined; e = m.pollEvent()) {
          assert.notEqual(e.type, 'reset');
          assert.notEqual(e.type, 'stop-sending');
          if (e.type !== 'readable') continue;
          const parts = received[role].get(e.id) ?? [];
          received[role].set(e.id, parts);
          for (let r = m.read(e.id, cfg.readMax); r !== undefined; r = m.read(e.id, cfg.readMax)) {
            parts.push(Uint8Array.from(r.data));
            if (r.fin) {
              finished[role].add(e.id);
              if (role === 'server' && isBidiId(e.id)) {
                const entry = byId.get(e.id)!;
                server.write(e.id, downData(entry.k));
                server.end(e.id);
              }
              break;
            }
          }
        }
      };
      const isBidiId = (id: number) => id % 4 < 2;

      for (round = 0; round < 50_000; round++) {
        for (const s of pending) {
          if (s.id >= 0) continue;
          const id = client.openStream(s.bidi);
          if (id === undefined) break;
          s.id = id;
          byId.set(id, s);
          client.write(id, upData(s.k));
          client.end(id);
        }
        send('client');
        send('server');
        // Deliver what is due, in random order.
        const due = network.filter((f) => f.at <= round);
        for (let i = due.length - 1; i > 0; i--) {
          const j = Math.floor(rand() * (i + 1));
          [due[i], due[j]] = [due[j]!, due[i]!];
        }
        for (const f of due) {
          network.splice(network.indexOf(f), 1);
          const sender = p.side(f.from);
          const receiver = p.side(f.from === 'client' ? 'server' : 'client');
          if (!f.deliver) {
            sender.onFrameLost(f.sent.record);
            continue;
          }
          assert.ok(isStreamManagerFrame(f.sent.frame));
          receiver.handleFrame(cloneFrame(f.sent.frame), p.now);
          if (f.duplicate) network.push({ ...f, duplicate: false, spurious: false, at: round + 1 });
          if (f.spurious) sender.onFrameLost(f.sent.record);
          sender.onFrameAcked(f.sent.record);
        }
        // Receiver's view of flow control.
        for (const m of [client, server]) {
          const st = m.stats();
          assert.ok(st.bytesReceived <= st.localMaxData, `${st.bytesReceived} > ${st.localMaxData}`);
        }
        readSide('server');
        readSide('client');
        p.now += 5;
        const allDone =
          pending.every(
            (s) => s.id >= 0 && finished.server.has(s.id) && (!s.bidi || finished.client.has(s.id)),
          ) &&
          network.length === 0 &&
          !client.hasPendingFrames() &&
          !server.hasPendingFrames();
        if (allDone) break;
      }
      for (const s of pending) {
        assert.ok(s.id >= 0, `stream ${s.k} never opened`);
        assert.deepEqual(
          Buffer.concat(received.server.get(s.id) ?? []),
          Buffer.from(upData(s.k)),
          `up ${s.id}`,
        );
        assert.ok(finished.server.has(s.id));
        if (s.bidi) {
          assert.deepEqual(
            Buffer.concat(received.client.get(s.id) ?? []),
            Buffer.from(downData(s.k)),
            `down ${s.id}`,
          );
        }
      }
      // Everything was acknowledged and read: both sides freed every stream.
      assert.equal(client.openStreamCount, 0);
      assert.equal(server.openStreamCount, 0);
      assert.equal(client.stats().bytesSent, server.stats().bytesReceived);
      assert.equal(server.stats().bytesSent, client.stats().bytesReceived);
    }),
    { numRuns: 300 },
  );
});
