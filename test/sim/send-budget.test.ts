/**
 * The connection send budget (issue 10, defect 5): a peer that opens 100 streams, asks for 50 MB on
 * each and never reads must not make the server hold more than connectionSendBufferSize bytes,
 * however many streams write. Before the budget, backpressure was per stream only (1 MiB each): 100
 * streams held ~100 MiB for one connection.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Connection } from '../../src/connection/connection.js';
import { QuicSim } from './quic-harness.js';
import { KiB, MiB } from './transfer-matrix.js';

const STREAMS = 100;
const PER_STREAM = 50 * MiB;
const CHUNK = new Uint8Array(64 * KiB).fill(0x61);

/** The server writes PER_STREAM bytes on every stream the client opens, as the Node shell does (writeSome). */
function runNeverReading(opts: { budget?: number; legacyWrite?: boolean; seed: number }) {
  const sim = new QuicSim({
    seed: opts.seed,
    serverTransport: {
      maxStreamsBidi: STREAMS,
      // A ceiling under test: per-stream buffers above it, so that the ceiling is what holds (the
      // budget follows the path between sendBufferSize and the ceiling, send-budget.ts).
      ...(opts.budget !== undefined
        ? { connectionSendBufferSize: opts.budget, sendBufferSize: 2 * opts.budget }
        : {}),
    },
    clientTransport: { maxStreamsBidi: STREAMS },
  });
  const conn = sim.dial();
  const server: Connection = sim.handshake(conn);
  const cs = conn.epoch!.streams;
  // The client asks on 100 streams, then never reads a byte.
  for (let i = 0; i < STREAMS; i++) {
    const id = cs.openStream(true)!;
    cs.write(id, Uint8Array.of(0x47));
    cs.end(id);
  }
  const written = new Map<number, number>();
  const parked = new Set<number>();
  let maxQueued = 0;
  const pump = (id: number) => {
    const ss = server.epoch!.streams;
    let w = written.get(id) ?? 0;
    while (w < PER_STREAM) {
      if (opts.legacyWrite) {
        const more = ss.write(id, CHUNK);
        w += CHUNK.length;
        if (!more) break;
      } else {
        const n = ss.writeSome(id, CHUNK);
        w += n;
        if (n < CHUNK.length) break;
      }
    }
    written.set(id, w);
    if (w < PER_STREAM) parked.add(id);
  };
  sim.appHooks.push(() => {
    for (let e = server.pollEvent(); e; e = server.pollEvent()) {
      if (e.type !== 'stream') continue;
      if (e.event.type === 'opened') pump(e.event.id);
      else if (e.event.type === 'writable') {
        parked.delete(e.event.id);
        pump(e.event.id);
      }
    }
    for (let e = conn.pollEvent(); e; e = conn.pollEvent()) {
      // The client ignores everything (in particular 'readable').
    }
    maxQueued = Math.max(maxQueued, server.epoch?.streams.queuedSendBytes ?? 0);
  });
  sim.net.runFor(5_000);
  let total = 0;
  for (const w of written.values()) total += w;
  return { server, conn, maxQueued, written, parked, total };
}

describe('connection send budget against a peer that never reads', () => {
  test('100 streams x 50 MB: queued bytes never exceed connectionSendBufferSize (2 MiB)', () => {
    const budget = 2 * MiB;
    const r = runNeverReading({ budget, seed: 610 });
    assert.equal(r.written.size, STREAMS, 'every stream was answered');
    console.log(
      `# max queued ${(r.maxQueued / KiB).toFixed(0)} KiB, written ${(r.total / MiB).toFixed(2)} MiB, parked ${r.parked.size}`,
    );
    assert.ok(r.maxQueued <= budget, `queued ${r.maxQueued} > budget ${budget}`);
    // What was written is what the peer's windows let through (acknowledged) plus the budget.
    const windows = r.conn.options.initialMaxData;
    assert.ok(r.total <= budget + windows, `written ${r.total}`);
    // Every stream is blocked, none finished: backpressure, not a crash or a close.
    assert.equal(r.parked.size, STREAMS);
    assert.equal(r.server.isClosed, false);
    assert.deepEqual(r.server.internalErrors, []);
  });

  test('by default the budget follows the path (issue 13): about one sendBufferSize here, not the 8 MiB ceiling', () => {
    // The simulated path carries far less than 512 KiB, so the budget is its floor, sendBufferSize
    // (1 MiB); the per-stream limit alone would allow 100 MiB, the ceiling 8 MiB.
    const r = runNeverReading({ seed: 611 });
    assert.ok(r.maxQueued <= MiB + CHUNK.length, `queued ${r.maxQueued}`);
    assert.ok(r.maxQueued > MiB / 2, `the budget is used: ${r.maxQueued}`);
    assert.equal(r.parked.size, STREAMS);
  });

  test('write() (takes whole chunks) returns false once the connection is over budget', () => {
    const budget = 1 * MiB;
    const r = runNeverReading({ budget, legacyWrite: true, seed: 612 });
    // Each stream may place one chunk past the budget before it sees false.
    assert.ok(r.maxQueued <= budget + STREAMS * CHUNK.length, `queued ${r.maxQueued}`);
    assert.equal(r.parked.size, STREAMS);
  });

  test('once the peer reads, the parked streams resume and every byte arrives', () => {
    const sim = new QuicSim({ seed: 613, serverTransport: { connectionSendBufferSize: 256 * KiB } });
    const conn = sim.dial();
    const server = sim.handshake(conn);
    const cs = conn.epoch!.streams;
    const ids = Array.from({ length: 10 }, () => cs.openStream(true)!);
    for (const id of ids) {
      cs.write(id, Uint8Array.of(1));
      cs.end(id);
    }
    const total = 300 * KiB;
    const written = new Map<number, number>();
    const received = new Map<number, number>();
    let finished = 0;
    let maxQueued = 0;
    const pump = (id: number) => {
      const ss = server.epoch!.streams;
      let w = written.get(id) ?? 0;
      while (w < total) {
        const n = ss.writeSome(id, CHUNK.subarray(0, Math.min(CHUNK.length, total - w)));
        w += n;
        if (n === 0) break;
      }
      written.set(id, w);
      if (w >= total) ss.end(id);
    };
    sim.appHooks.push(() => {
      for (let e = server.pollEvent(); e; e = server.pollEvent()) {
        if (e.type === 'stream' && (e.event.type === 'opened' || e.event.type === 'writable'))
          pump(e.event.id);
      }
      for (let e = conn.pollEvent(); e; e = conn.pollEvent()) {
        if (e.type !== 'stream' || e.event.type !== 'readable') continue;
        for (let r = cs.read(e.event.id); r; r = cs.read(e.event.id)) {
          received.set(e.event.id, (received.get(e.event.id) ?? 0) + r.data.length);
          if (r.fin) finished++;
        }
      }
      maxQueued = Math.max(maxQueued, server.epoch?.streams.queuedSendBytes ?? 0);
    });
    sim.run(() => finished === ids.length, 60_000);
    for (const id of ids) assert.equal(received.get(id), total);
    // The last ACKs are still on their way when the client has read everything.
    sim.net.runFor(2_000);
    assert.ok(maxQueued <= 256 * KiB);
    assert.equal(server.epoch!.streams.queuedSendBytes, 0);
  });
});
