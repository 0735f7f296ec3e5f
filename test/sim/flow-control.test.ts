/**
 * Flow control (RFC 9000 §4) and stream limits (§4.6) between two whole connections.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Connection } from '../../src/connection/connection.js';
import { QuicSim } from './quic-harness.js';
import { PatternChecker, patternChunk, TransferClient, TransferServer } from './stream-apps.js';
import { KiB, MiB } from './transfer-matrix.js';

describe('flow control with a slow reader', () => {
  test('the sender never exceeds the windows the receiver advertised', () => {
    const sim = new QuicSim({
      seed: 400,
      serverTransport: {
        initialMaxData: 64 * KiB,
        initialMaxStreamData: 32 * KiB,
        maxConnectionReceiveWindow: 128 * KiB,
        maxStreamReceiveWindow: 64 * KiB,
      },
    });
    const conn = sim.dial();
    const server = sim.handshake(conn);
    const streams = conn.epoch!.streams;
    const total = 2 * MiB;
    const ids = [streams.openStream(true)!, streams.openStream(true)!];
    const written = new Map(ids.map((id) => [id, 0]));
    const waiting = new Set<number>();
    const checkers = new Map(ids.map((id) => [id, new PatternChecker(id, 'slow reader')]));
    let violations = 0;
    let maxBuffered = 0;
    let done = 0;
    // The server reads 8 KiB per stream every 20 ms: far slower than the path.
    const readTick = () => {
      const s = server.epoch!.streams;
      for (const id of ids) {
        if (!s.has(id)) continue;
        const r = s.read(id, 8 * KiB);
        if (r) {
          checkers.get(id)!.feed(r.data);
          if (r.fin) done++;
        }
      }
      if (done < ids.length) sim.net.at(sim.now + 20, readTick);
      sim.server.markActive(server);
    };
    sim.net.at(sim.now + 20, readTick);
    sim.appHooks.push(() => {
      for (let e = conn.pollEvent(); e; e = conn.pollEvent()) {
        if (e.type === 'stream' && e.event.type === 'writable') waiting.delete(e.event.id);
      }
      for (const id of ids) {
        if (waiting.has(id)) continue;
        let w = written.get(id)!;
        // write() takes the chunk even when it returns false (then: wait for 'writable').
        while (w < total) {
          const more = streams.write(id, patternChunk(id, w, 16 * KiB));
          w += 16 * KiB;
          if (!more) {
            waiting.add(id);
            break;
          }
        }
        written.set(id, w);
        if (w >= total) {
          streams.end(id);
          written.set(id, Number.POSITIVE_INFINITY);
        }
      }
      for (let e = server.pollEvent(); e; e = server.pollEvent()) {
        /* the reader is driven by its timer */
      }
      // The receiver's own view: what arrived never exceeds what it allowed.
      const st = server.epoch!.streams.stats();
      if (st.bytesReceived > st.localMaxData) violations++;
      maxBuffered = Math.max(maxBuffered, st.bytesReceived - readBytes());
    });
    const readBytes = () => [...checkers.values()].reduce((n, c) => n + c.received, 0);
    sim.run(() => done === ids.length || conn.isClosed || server.isClosed, 10 * 60_000);
    assert.equal(conn.isClosed, false, conn.closeInfo?.reason);
    assert.equal(done, 2);
    for (const c of checkers.values()) assert.equal(c.received, total);
    assert.equal(violations, 0);
    // Never more buffered at the receiver than its largest connection window.
    assert.ok(maxBuffered <= 128 * KiB, `receiver buffered ${maxBuffered} bytes`);
    // The sender was held back: MAX_DATA/MAX_STREAM_DATA updates were needed many times.
    assert.ok(sim.now - sim.net.startTime > 2_000, 'the transfer was paced by the reader');
  });
});

describe('stream limits', () => {
  test('a client opening 60 streams against a limit of 5 waits for MAX_STREAMS and finishes them all', () => {
    const sim = new QuicSim({ seed: 401, serverTransport: { maxStreamsBidi: 5 } });
    const conn = sim.dial();
    const client = new TransferClient(conn, { streams: 60, upload: 3000, download: 5000 });
    const server = new TransferServer();
    let serverConn: Connection | undefined;
    sim.onServerConnection = (c) => {
      serverConn = c;
      server.add(c);
    };
    let maxOpen = 0;
    sim.appHooks.push(() => {
      client.pump();
      server.pump();
      if (serverConn?.epoch) maxOpen = Math.max(maxOpen, serverConn.epoch.streams.openStreamCount);
    });
    sim.run(() => client.done || client.closed, 120_000);
    assert.deepEqual(client.failures, []);
    assert.equal(client.done, true);
    assert.ok(maxOpen <= 5, `server saw ${maxOpen} streams open at once`);
    assert.ok(client.openBlocked > 0, 'openStream reported the limit');
  });
});
