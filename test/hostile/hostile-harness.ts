/**
 * A hostile peer on the sans-IO core (issue 10, RFC 9000 §21): a real client completes a real
 * handshake with a tsquic server in the simulator, then is cut off from the network and used only for
 * its keys and packet numbers, to forge 1-RTT packets carrying any bytes. What the server sends back
 * to it is decrypted off the wire (`serverFrames`). A legitimate client on another address of the same
 * server endpoint runs a checked transfer at the same time, to show that it is unaffected.
 */
import type { Connection } from '../../src/connection/connection.js';
import type { TransportOptions } from '../../src/connection/connection-options.js';
import { Endpoint } from '../../src/endpoint/endpoint.js';
import type { Millis } from '../../src/util/time.js';
import { type ConnectionCloseTransportFrame, type Frame, FrameType } from '../../src/wire/frames.js';
import { Prng, seededRandomBytes } from '../sim/network.js';
import { CLIENT_ADDRESS, EndpointNode, QuicSim, SERVER_ADDRESS } from '../sim/quic-harness.js';
import { TransferClient, TransferServer, type TransferSpec } from '../sim/stream-apps.js';
import { forge1Rtt, frameBytes, openDatagram } from './forge.js';

export const LEGIT_ADDRESS = '10.0.0.3:50000';

export interface HostileSimOptions {
  seed: number;
  serverTransport?: Partial<TransportOptions>;
  /** The legitimate client's transfer, run next to the attack (default: 3 streams, 20 KB each way). */
  legit?: TransferSpec;
}

export class HostileSim {
  readonly sim: QuicSim;
  /** The attacker's client connection (detached: only its keys and packet numbers are used). */
  readonly attacker: Connection;
  /** The server's connection to the attacker. */
  readonly victim: Connection;
  readonly legit: TransferClient;
  readonly legitConn: Connection;
  readonly server = new TransferServer();
  /** Every frame the server sent to the attacker after the handshake, decrypted. */
  readonly serverFrames: Frame[] = [];
  readonly serverDatagrams: number[] = [];
  /** Packet numbers of the server's 1-RTT packets to the attacker (for `ackAll`). */
  readonly serverPacketNumbers = new Set<number>();
  private largestServerPn = -1;

  constructor(opts: HostileSimOptions) {
    this.sim = new QuicSim({
      seed: opts.seed,
      ...(opts.serverTransport ? { serverTransport: opts.serverTransport } : {}),
    });
    const sim = this.sim;
    sim.onServerConnection = (c) => this.server.add(c);
    this.attacker = sim.dial();
    this.victim = sim.handshake(this.attacker);
    // The legitimate client: its own endpoint on its own address.
    const endpoint = new Endpoint({ random: seededRandomBytes(new Prng(opts.seed + 7919)) });
    this.legitConn = endpoint.connect({ remoteAddress: SERVER_ADDRESS, tls: sim.clientTls() }, sim.now);
    this.legit = new TransferClient(
      this.legitConn,
      opts.legit ?? { streams: 3, upload: 20_000, download: 20_000 },
    );
    const pump = () => {
      this.server.pump();
      this.legit.pump();
      endpoint.markActive(this.legitConn);
    };
    sim.appHooks.push(pump);
    sim.net.addNode(
      LEGIT_ADDRESS,
      new EndpointNode(endpoint, () => {
        for (const hook of sim.appHooks) hook();
      }),
    );
    sim.net.setLink(LEGIT_ADDRESS, SERVER_ADDRESS, { mtu: 1472 });
    sim.net.setLink(SERVER_ADDRESS, LEGIT_ADDRESS, { mtu: 1472 });
    pump();
    // From now on the attacker only forges; what the server sends it is read off the wire.
    sim.net.removeNode(CLIENT_ADDRESS);
    const keys = this.victim.oneRtt!.write;
    sim.net.onSend(({ from, to, datagram }) => {
      if (from !== SERVER_ADDRESS || to !== CLIENT_ADDRESS) return;
      this.serverDatagrams.push(datagram.length);
      const cidLength = this.attacker.localCids.all()[0]!.cid.length;
      for (const p of openDatagram(datagram, () => keys, cidLength, this.largestServerPn)) {
        this.serverFrames.push(...p.frames);
        this.serverPacketNumbers.add(p.packetNumber);
        this.largestServerPn = Math.max(this.largestServerPn, p.packetNumber);
      }
    });
  }

  /** One forged 1-RTT packet from the attacker, carrying `payload` (frames, or raw frame bytes). */
  send(payload: Frame[] | Uint8Array): void {
    const bytes = payload instanceof Uint8Array ? payload : frameBytes(...payload);
    this.sim.net.inject(CLIENT_ADDRESS, SERVER_ADDRESS, forge1Rtt(this.attacker, bytes));
  }

  /** An ACK frame for every server packet seen so far (a well-behaved peer's acknowledgment). */
  ackFrame(): Frame | undefined {
    const pns = [...this.serverPacketNumbers].sort((a, b) => b - a);
    if (pns.length === 0) return undefined;
    const ranges: Array<{ smallest: number; largest: number }> = [];
    for (const pn of pns) {
      const last = ranges[ranges.length - 1];
      if (last && last.smallest === pn + 1) last.smallest = pn;
      else ranges.push({ smallest: pn, largest: pn });
    }
    return { type: FrameType.Ack, ackDelay: 0, ranges: ranges.slice(0, 64) };
  }

  /** New frames the server sent since `from` (an index into serverFrames). */
  framesSince(from: number): Frame[] {
    return this.serverFrames.slice(from);
  }

  runFor(ms: Millis): void {
    this.sim.net.runFor(ms);
  }

  /** Run until the legitimate transfer is done (or failed), within `maxTime`. */
  finishLegit(maxTime: Millis = 60_000): void {
    this.sim.run(() => this.legit.done || this.legit.failures.length > 0 || this.legitConn.isClosed, maxTime);
  }

  /** The CONNECTION_CLOSE the server sent the attacker, if any. */
  closeSent(): ConnectionCloseTransportFrame | undefined {
    for (const f of this.serverFrames) if (f.type === FrameType.ConnectionCloseTransport) return f;
    return undefined;
  }
}
