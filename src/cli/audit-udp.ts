/**
 * Runs a sans-IO auditor (src/audit) over real UDP sockets: datagrams from the sockets in, datagrams
 * out, one timer for the auditor's next deadline, work batched per event-loop turn like the Node
 * shell's UdpEndpoint. Socket 0 is the main one; more can be bound (client mode sends a replay from a
 * new source port).
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { formatAddress, parseAddress, SocketAddress } from '../node/address.js';
import { now } from '../node/clock.js';
import type { Millis } from '../util/time.js';

/** What the driver runs: the AuditServer, or the client-mode auditor. */
export interface SansIoPeer {
  /** `via`: the index of the socket the datagram arrived on. */
  receive(datagram: Uint8Array, from: string, now: Millis, via: number): void;
  /** `via`: the socket to send from (default 0). */
  transmit(now: Millis): { datagram: Uint8Array; to: string; via?: number } | undefined;
  nextTimeout(): Millis | undefined;
  handleTimeout(now: Millis): void;
}

const MAX_SENDS_PER_FLUSH = 256;

export class UdpDriver {
  private readonly sockets: Socket[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushScheduled = false;
  private closed = false;
  /** Called after every batch of work (to see whether the audit is over). */
  afterFlush: (() => void) | undefined;

  private constructor(private readonly peer: SansIoPeer) {}

  /** Binds the main socket (index 0). */
  static async bind(host: string, port: number, peer: SansIoPeer): Promise<UdpDriver> {
    const d = new UdpDriver(peer);
    await d.addSocket(host, port);
    return d;
  }

  /** Binds one more socket (an ephemeral port on `host`) and returns its index. */
  async addSocket(host: string, port = 0): Promise<number> {
    const type = isIP(host) === 6 ? 'udp6' : 'udp4';
    const socket = createSocket({ type });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      socket.once('error', onError);
      socket.bind(port, host, () => {
        socket.off('error', onError);
        resolve();
      });
    });
    const via = this.sockets.length;
    this.sockets.push(socket);
    socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
      if (this.closed) return;
      this.peer.receive(msg, formatAddress(rinfo.address, rinfo.port), now(), via);
      this.schedule();
    });
    // Send errors are packet loss for QUIC.
    socket.on('error', () => {});
    return via;
  }

  address(via = 0): SocketAddress {
    const a = this.sockets[via]!.address();
    return new SocketAddress(a.address, a.port, a.family === 'IPv6' ? 'IPv6' : 'IPv4');
  }

  /** The peer has new work (the caller changed its state): flush soon. */
  schedule(): void {
    if (this.flushScheduled || this.closed) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    return Promise.all(
      this.sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
    ).then(() => undefined);
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.closed) return;
    const t = now();
    let sent = 0;
    for (let d = this.peer.transmit(t); d; d = this.peer.transmit(t)) {
      const to = parseAddress(d.to);
      this.sockets[d.via ?? 0]?.send(d.datagram, to.port, to.address);
      if (++sent >= MAX_SENDS_PER_FLUSH) {
        this.schedule();
        break;
      }
    }
    this.arm();
    this.afterFlush?.();
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const next = this.peer.nextTimeout();
    if (next === undefined || this.closed) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        if (this.closed) return;
        this.peer.handleTimeout(now());
        this.flush();
      },
      Math.max(0, next - now()),
    );
  }
}
