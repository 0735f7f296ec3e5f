/**
 * One simulated transfer over a lossy, jittery path, reduced to a hash of every datagram sent (time,
 * sender, receiver, bytes): equal hashes mean byte-identical runs. Run as a script it prints the hash
 * for the seed given as its argument, so a test can compare runs in separate processes.
 */
import { createHash } from 'node:crypto';
import { QuicSim } from './quic-harness.js';
import { TransferClient, TransferServer } from './stream-apps.js';

export function transferTraceHash(seed: number): { hash: string; datagrams: number; seed: number } {
  const sim = new QuicSim({ seed, link: { delay: 15, jitter: 5, loss: 0.03 } });
  const hash = createHash('sha256');
  let datagrams = 0;
  sim.net.onSend(({ time, from, to, datagram }) => {
    hash.update(`${time} ${from} ${to} ${datagram.length}\n`).update(datagram);
    datagrams++;
  });
  const conn = sim.dial();
  const client = new TransferClient(conn, { streams: 3, upload: 60_000, download: 90_000 });
  const server = new TransferServer();
  sim.onServerConnection = (c) => server.add(c);
  sim.appHooks.push(() => {
    client.pump();
    server.pump();
  });
  sim.run(() => client.done || client.closed, 120_000);
  if (!client.done || client.failures.length > 0 || server.failures.length > 0) {
    throw new Error(`transfer failed: ${[...client.failures, ...server.failures].join('; ')}`);
  }
  return { hash: hash.digest('hex'), datagrams, seed: sim.net.seed };
}

if (process.argv[1]?.endsWith('determinism.ts')) {
  process.stdout.write(`${JSON.stringify(transferTraceHash(Number(process.argv[2])))}\n`);
}
