/**
 * The transfer matrix of the connection-core tests: every size, on one stream and on 100 streams,
 * in both directions, byte-exact, under each network condition.
 */
import assert from 'node:assert/strict';
import type { TransportOptions } from '../../src/connection/connection-options.js';
import type { LinkConditions } from './network.js';
import { DEFAULT_START_TIME, withSimSeed } from './network.js';
import { QuicSim } from './quic-harness.js';
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
];

export interface TransferResult {
  virtualMs: number;
  clientLost: number;
  network: ReturnType<QuicSim['net']['stats']>;
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
    const sim = new QuicSim({ seed, clientTransport: transport, serverTransport: transport });
    const random = sim.net.prng.fork('condition');
    const link = condition.link({ handshakeDone: () => handshakeDone, random: () => random.next() });
    // An Ethernet-like path (1472 bytes of UDP payload) under each condition.
    sim.net.setLink('10.0.0.2:50000', '10.0.0.1:4433', { mtu: 1472, ...link });
    sim.net.setLink('10.0.0.1:4433', '10.0.0.2:50000', {
      mtu: 1472,
      ...condition.link({ handshakeDone: () => handshakeDone, random: () => random.next() }),
    });
    const conn = sim.dial();
    const client = new TransferClient(conn, spec);
    const server = new TransferServer();
    sim.onServerConnection = (c) => server.add(c);
    sim.appHooks.push(() => {
      client.pump();
      server.pump();
      if (conn.handshakeConfirmed) handshakeDone = true;
    });
    const end = sim.run(() => client.done || client.closed, 30 * 60_000);
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
