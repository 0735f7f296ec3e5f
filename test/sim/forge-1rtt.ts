/**
 * Forges a 1-RTT packet with chosen frames from one side of a simulated connection, protected with
 * its real keys, so a test can put frames together in one packet that no real sender would.
 */
import type { Connection } from '../../src/connection/connection.js';
import { DatagramBuilder } from '../../src/connection/datagram-builder.js';
import { PacketNumberSpace } from '../../src/recovery/types.js';
import type { Frame } from '../../src/wire/frames.js';
import { CLIENT_ADDRESS, type QuicSim, SERVER_ADDRESS } from './quic-harness.js';

/** Sends `frames` in one 1-RTT packet from `conn` at address `from` to address `to`. */
function forge1Rtt(sim: QuicSim, conn: Connection, frames: Frame[], from: string, to: string): void {
  const keys = conn.oneRtt;
  if (keys === undefined) throw new Error('no 1-RTT keys yet');
  const b = new DatagramBuilder(new Uint8Array(4096));
  b.reset(1252);
  const space = conn.spaces[PacketNumberSpace.ApplicationData];
  b.openShort(
    { dcid: conn.peerCids.current, keyPhase: keys.writePhase === 1, spin: false },
    PacketNumberSpace.ApplicationData,
    keys.write,
    space.takePacketNumber(),
    4,
  );
  for (const f of frames) b.writeFrame(f);
  b.closePacket();
  const length = b.seal();
  sim.net.inject(from, to, b.buffer.slice(0, length));
}

/** Sends `frames` to the server in one 1-RTT packet from `conn` (a client connection). */
export function forgeClient1Rtt(sim: QuicSim, conn: Connection, frames: Frame[]): void {
  forge1Rtt(sim, conn, frames, CLIENT_ADDRESS, SERVER_ADDRESS);
}

/** Sends `frames` to the client in one 1-RTT packet from `server`. */
export function forgeServer1Rtt(sim: QuicSim, server: Connection, frames: Frame[]): void {
  forge1Rtt(sim, server, frames, SERVER_ADDRESS, CLIENT_ADDRESS);
}
