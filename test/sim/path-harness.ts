/**
 * A download over the simulator with everything the path tests look at: the path events of both
 * endpoints, the frames each side sent, and the bytes the server sent to every address.
 */
import assert from 'node:assert/strict';
import type { Connection } from '../../src/connection/connection.js';
import type { PathEvent } from '../../src/connection/connection-paths.js';
import { FrameType } from '../../src/wire/frames.js';
import type { LinkConditions } from './network.js';
import { CLIENT_ADDRESS, QuicSim, SERVER_ADDRESS } from './quic-harness.js';
import { TransferClient, TransferServer } from './stream-apps.js';

export const KiB = 1024;

export interface PathRun {
  sim: QuicSim;
  conn: Connection;
  client: TransferClient;
  transfer: TransferServer;
  /** Path events of the server's connection, with the virtual time (ms since start). */
  serverEvents: Array<PathEvent & { t: number }>;
  clientEvents: PathEvent[];
  /** Frame types each side sent, in order. */
  sentFrames: { client: FrameType[]; server: FrameType[] };
  /** Bytes the server sent, per destination address. */
  serverBytesTo: Map<string, number>;
  /** The server's connection (after the handshake). */
  server(): Connection;
  /** Run until the download is complete (or the connection closed). */
  finish(maxTime?: number): void;
}

export function startDownload(seed: number, download: number, opts: { link?: LinkConditions } = {}): PathRun {
  const serverEvents: PathRun['serverEvents'] = [];
  const clientEvents: PathEvent[] = [];
  const sentFrames: PathRun['sentFrames'] = { client: [], server: [] };
  const sim: QuicSim = new QuicSim({
    seed,
    link: opts.link ?? { delay: 20 },
    pathTrace: (c, e) => {
      if (c.role === 'server') serverEvents.push({ ...e, t: sim.now - sim.net.startTime });
      else clientEvents.push(e);
    },
    trace: (c, e) => {
      if (e.direction === 'sent') sentFrames[c.role].push(e.frame.type);
    },
  });
  const serverBytesTo = new Map<string, number>();
  sim.net.onSend((e) => {
    if (e.from === SERVER_ADDRESS)
      serverBytesTo.set(e.to, (serverBytesTo.get(e.to) ?? 0) + e.datagram.length);
  });
  const conn = sim.dial();
  const client = new TransferClient(conn, { streams: 1, upload: 100, download });
  const transfer = new TransferServer();
  sim.onServerConnection = (c) => transfer.add(c);
  sim.appHooks.push(() => {
    client.pump();
    transfer.pump();
  });
  const run: PathRun = {
    sim,
    conn,
    client,
    transfer,
    serverEvents,
    clientEvents,
    sentFrames,
    serverBytesTo,
    server: () => {
      const s = sim.serverConnections[0];
      assert.ok(s, 'no server connection');
      return s;
    },
    finish: (maxTime = 120_000) => {
      sim.run(() => client.done || client.closed, maxTime);
      assert.deepEqual(client.failures, [], 'client failures');
      assert.deepEqual(transfer.failures, [], 'server failures');
      assert.equal(client.done, true, `download incomplete: ${conn.closeInfo?.reason ?? 'not closed'}`);
      assert.deepEqual(conn.internalErrors, []);
      assert.deepEqual(run.server().internalErrors, []);
    },
  };
  return run;
}

/** Bytes the server has sent to the client so far (to whatever address). */
export function serverBytesSent(run: PathRun): number {
  let n = 0;
  for (const v of run.serverBytesTo.values()) n += v;
  return n;
}

export { CLIENT_ADDRESS, FrameType, SERVER_ADDRESS };
