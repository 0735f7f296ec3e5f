/**
 * A UDP relay on loopback that delays every datagram by a fixed time in each direction, so the demo
 * shows round trips as they are on a real network (on bare loopback a round trip is ~0.1 ms and
 * what 0-RTT saves would be invisible). Each client address gets its own upstream socket, so the
 * server sees one distinct peer per client, as behind a NAT; `rebind()` gives every client a new one,
 * as a NAT that forgets its mappings does (tests of path validation, RFC 9000 §9.3).
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { once } from 'node:events';

export class DelayRelay {
  private readonly upstreams = new Map<string, Socket>();
  private readonly pending = new Set<NodeJS.Timeout>();
  private closed = false;
  /** Bytes relayed from the server back to clients. */
  bytesToClients = 0;

  private constructor(
    private readonly front: Socket,
    private readonly target: { host: string; port: number },
    private readonly delay: number,
  ) {
    front.on('message', (msg, from) => this.fromClient(msg, from));
  }

  /** Relay datagrams sent to the returned relay's port to `target`, `oneWayDelay` ms late each way. */
  static async start(target: { host: string; port: number }, oneWayDelay: number): Promise<DelayRelay> {
    const front = createSocket('udp4');
    front.bind(0, '127.0.0.1');
    await once(front, 'listening');
    return new DelayRelay(front, target, oneWayDelay);
  }

  get port(): number {
    return this.front.address().port;
  }

  /**
   * NAT rebinding: forget every mapping. Each client's next datagram leaves from a new port; what the
   * server sends to an old port is lost. A client that has nothing left to send (it acknowledged
   * everything it received, and the server's next packets went to the old port) is never heard from
   * again: the connection can only end at the idle timeout. rebindAtNextDatagram() avoids that.
   */
  rebind(): void {
    this.rebindArmed = false;
    this.rebinds++;
    for (const s of this.upstreams.values()) s.close();
    this.upstreams.clear();
  }

  /**
   * NAT rebinding when the next datagram from a client arrives: the mappings are forgotten just
   * before it, so it leaves from a new port, and what the server sends to the old one from then on is
   * lost. The server always hears from the new address, whatever the client still had to send.
   */
  rebindAtNextDatagram(): void {
    this.rebindArmed = true;
  }

  /** Rebindings done so far. */
  rebinds = 0;
  private rebindArmed = false;

  close(): void {
    this.closed = true;
    for (const t of this.pending) clearTimeout(t);
    this.pending.clear();
    for (const s of this.upstreams.values()) s.close();
    this.upstreams.clear();
    this.front.close();
  }

  private fromClient(msg: Buffer, from: RemoteInfo): void {
    if (this.rebindArmed) this.rebind();
    const key = `${from.address}:${from.port}`;
    let up = this.upstreams.get(key);
    if (!up) {
      up = createSocket('udp4');
      // Sends issued while the bind is in progress are queued by node:dgram.
      up.bind(0, '127.0.0.1');
      up.on('message', (back) => {
        this.bytesToClients += back.length;
        this.later(() => this.front.send(back, from.port, from.address));
      });
      up.on('error', () => {});
      this.upstreams.set(key, up);
    }
    const socket = up;
    this.later(() => {
      try {
        socket.send(msg, this.target.port, this.target.host);
      } catch {
        // The mapping was forgotten (rebind) while the datagram waited: lost, as at a NAT.
      }
    });
  }

  private later(send: () => void): void {
    if (this.closed) return;
    if (this.delay <= 0) {
      send();
      return;
    }
    const t = setTimeout(() => {
      this.pending.delete(t);
      if (!this.closed) send();
    }, this.delay);
    this.pending.add(t);
  }
}
