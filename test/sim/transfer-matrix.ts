/**
 * The transfer matrix of the connection-core tests: every size, on one stream and on 100 streams,
 * in both directions, byte-exact, under each network condition.
 */
import assert from 'node:assert/strict';
import type { Connection } from '../../src/connection/connection.js';
import type { TransportOptions } from '../../src/connection/connection-options.js';
import type { LinkConditions, TraceEntry } from './network.js';
import { DEFAULT_START_TIME, withSimSeed } from './network.js';
import { CLIENT_ADDRESS, QuicSim } from './quic-harness.js';
import { TransferClient, TransferServer, type TransferSpec } from './stream-apps.js';

export const KiB = 1024;
export const MiB = 1024 * 1024;

export interface Condition {
  name: string;
  /** Build the link conditions; `handshakeDone` tells whether the client finished its handshake. */
  link: (sim: { handshakeDone: () => boolean; random: () => number }) => LinkConditions;
}

export const CONDITIONS: Condition[] = [
  { name: 'a clean path', link: () => ({ delay: 10 }) },
  { name: '100 ms RTT', link: () => ({ delay: 50 }) },
  { name: '10% random loss', link: () => ({ delay: 10, loss: 0.1 }) },
  {
    name: '30% loss during the handshake only',
    link: ({ handshakeDone, random }) => ({ delay: 10, lossIf: () => !handshakeDone() && random() < 0.3 }),
  },
  { name: 'reordering', link: () => ({ delay: 10, reorder: 0.05, reorderDelay: 8 }) },
  { name: 'duplication', link: () => ({ delay: 10, duplicate: 0.1 }) },
  { name: '1% corruption', link: () => ({ delay: 10, corrupt: 0.01 }) },
  {
    name: 'a 5-second blackhole in the middle',
    // 200 Mbit/s makes a 50 MiB transfer last a few seconds, so the blackhole lands inside it.
    link: () => ({
      delay: 10,
      bandwidth: 200e6,
      queueBytes: 512 * KiB,
      blackholes: [{ start: DEFAULT_START_TIME + 300, end: DEFAULT_START_TIME + 5300 }],
    }),
  },
  {
    // The fault proxy's burst pattern (issue 16): each datagram starts, with probability 0.5%, a run
    // of 8 lost datagrams in its direction.
    name: 'burst loss (0.5% chance of a run of 8 lost datagrams)',
    link: () => ({ delay: 10, burstRuns: { start: 0.005, length: 8 } }),
  },
  {
    // Gilbert-Elliott: Good -> Bad with 0.5%, Bad -> Good with 25% (mean burst of 4 datagrams).
    name: 'Gilbert-Elliott burst loss',
    link: () => ({ delay: 10, gilbertElliott: { p: 0.005, r: 0.25 } }),
  },
  {
    // Every ACK-only datagram (both directions) lost for one second, starting somewhere in the first
    // 300 ms of the transfer.
    name: 'every ACK lost for 1 s',
    link: ({ random }) => {
      const start = DEFAULT_START_TIME + 100 + Math.floor(random() * 200);
      return { delay: 10, ackLoss: { start, end: start + ACK_LOSS_MS } };
    },
  },
];

/** How long the "every ACK lost" condition lasts. */
export const ACK_LOSS_MS = 1000;

export interface TransferResult {
  virtualMs: number;
  clientLost: number;
  network: ReturnType<QuicSim['net']['stats']>;
  /**
   * The longest time each endpoint sent nothing while the transfer was in progress (from the
   * client's first datagram until the client saw every stream complete), by address, from the
   * network's send trace.
   */
  maxSilence: Map<string, { gap: number; at: number }>;
  /** The largest PTO period without backoff either side computed during the run (ms). */
  maxPtoPeriod: number;
  /** The longest run of consecutive datagrams lost on one link (either direction). */
  longestLossRun: number;
}

/** The longest run of consecutive lost datagrams on any one directional link of the trace. */
export function longestLossRun(trace: readonly TraceEntry[]): number {
  const run = new Map<string, number>();
  let longest = 0;
  for (const e of trace) {
    const key = `${e.from}>${e.to}`;
    const n = e.fate === 'lost' ? (run.get(key) ?? 0) + 1 : 0;
    run.set(key, n);
    if (n > longest) longest = n;
  }
  return longest;
}

/**
 * The longest a sender with packets in flight may stay silent under a loss run of `run` datagrams
 * (RFC 9002 §6.2): each PTO round sends two probes (§6.2.4) and each probe is acknowledged at once
 * (it follows a skipped packet number, RFC 9000 §13.2.1, and the second leaves probeSpacing() after
 * the first, so even a peer that acknowledges a whole read at once answers each), so a run of `run` lost datagrams in
 * either direction defeats at most ceil(run / 2) rounds. After k failed rounds the wait before the
 * next is PTO * 2^k (§6.2.1), so the longest gap is PTO * 2^ceil(run / 2) (one round of slack for a
 * run in the other direction overlapping it).
 */
export function silenceBound(ptoPeriod: number, run: number): number {
  return ptoPeriod * 2 ** Math.ceil(run / 2);
}

/** Runs one transfer and asserts it arrived whole in both directions. */
export function runTransfer(
  seed: number,
  condition: Condition,
  spec: TransferSpec,
  transport?: Partial<TransportOptions>,
): TransferResult {
  return withSimSeed(seed, () => {
    let handshakeDone = false;
    const sim = new QuicSim({
      seed,
      clientTransport: transport,
      serverTransport: transport,
      traceLimit: 1_000_000,
    });
    const random = sim.net.prng.fork('condition');
    const link = condition.link({ handshakeDone: () => handshakeDone, random: () => random.next() });
    // An Ethernet-like path (1472 bytes of UDP payload) under each condition.
    sim.net.setLink('10.0.0.2:50000', '10.0.0.1:4433', { mtu: 1472, ...link });
    sim.net.setLink('10.0.0.1:4433', '10.0.0.2:50000', {
      mtu: 1472,
      ...condition.link({ handshakeDone: () => handshakeDone, random: () => random.next() }),
    });
    // Silence: the longest gap between two datagrams of an endpoint that had ack-eliciting packets
    // in flight at the first of them (a sender with nothing outstanding may rightly stay quiet).
    const lastSend = new Map<string, { time: number; inFlight: boolean }>();
    const maxSilence = new Map<string, { gap: number; at: number }>();
    const connectionAt = (address: string): Connection | undefined =>
      address === CLIENT_ADDRESS ? conn : sim.serverConnections[0];
    let finished = false;
    const noteGap = (from: string, until: number) => {
      const last = lastSend.get(from);
      if (last === undefined || !last.inFlight) return;
      const gap = until - last.time;
      if (gap > (maxSilence.get(from)?.gap ?? -1)) {
        maxSilence.set(from, { gap, at: last.time - sim.net.startTime });
      }
    };
    sim.net.onSend(({ time, from }) => {
      if (finished) return;
      noteGap(from, time);
      const c = connectionAt(from);
      lastSend.set(from, { time, inFlight: (c?.lossDetector.ackElicitingInFlight() ?? 1) > 0 });
    });
    let maxPtoPeriod = 0;
    const conn = sim.dial();
    const client = new TransferClient(conn, spec);
    const server = new TransferServer();
    sim.onServerConnection = (c) => server.add(c);
    sim.appHooks.push(() => {
      client.pump();
      server.pump();
      if (conn.handshakeConfirmed) handshakeDone = true;
      for (const c of [conn, ...sim.serverConnections]) {
        if (c.rtt.hasSample) maxPtoPeriod = Math.max(maxPtoPeriod, c.ptoPeriod());
      }
    });
    const end = sim.run(() => client.done || client.closed, 30 * 60_000);
    finished = true;
    // The silence that was still going on when the run ended counts too.
    for (const from of lastSend.keys()) noteGap(from, end);
    assert.deepEqual(client.failures, [], `client failures (seed ${seed})`);
    assert.deepEqual(server.failures, [], `server failures (seed ${seed})`);
    assert.equal(client.done, true, 'every stream completed');
    assert.equal(server.uploadsVerified, spec.streams, 'every upload verified by the server');
    assert.deepEqual(conn.internalErrors, []);
    for (const s of sim.serverConnections) assert.deepEqual(s.internalErrors, []);
    assert.equal(conn.isClosed, false, `connection still open: ${conn.closeInfo?.reason}`);
    return {
      virtualMs: end - sim.net.startTime,
      clientLost: conn.snapshotStats().packetsLost,
      network: sim.net.stats(),
      maxSilence,
      maxPtoPeriod,
      longestLossRun: longestLossRun(sim.net.trace),
    };
  });
}

/** The sizes of the matrix: total bytes each way, on one stream or spread over 100 streams. */
export const SIZES: Array<{ label: string; total: number }> = [
  { label: '1 byte', total: 1 },
  { label: '1 MiB', total: MiB },
  { label: '50 MiB', total: 50 * MiB },
];

export function specFor(total: number, streams: number): TransferSpec {
  const per = Math.max(1, Math.floor(total / streams));
  return { streams, upload: per, download: per };
}
