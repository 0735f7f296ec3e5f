/**
 * A UDP relay on 127.0.0.1 for tests that check what goes on the wire without trusting tsquic's own
 * accounting: one socket faces the clients, one socket per client address faces the server (so the
 * server sees each client as its own peer). It records every datagram it forwards, per client in
 * the order seen, and can hold a client's datagram to forward it later (`hold`).
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { splitDatagram } from '../../src/wire/coalesced.js';
import type { PacketType } from '../../src/wire/packet-header.js';

/**
 * What the relay saw of one client (one client address), in order: `at` orders datagrams across
 * clients (the relay's count when it forwarded this one), `data` is the datagram.
 */
export type Flow = Array<{ dir: 'up' | 'down'; size: number; at: number; data: Buffer }>;

/**
 * Decides, for each datagram a client sends, whether the relay forwards it now (false) or holds it
 * (true: the test forwards it later with `UdpRelay.forward`). `flow`: the client's index in order of
 * first appearance; `up`: the datagram's index among that client's.
 */
export type HoldRule = (flow: number, up: number, datagram: Buffer) => boolean;

export class UdpRelay {
  /** Per client, in order of first appearance. */
  readonly flows: Flow[] = [];
  /** Called after each datagram from the server is sent on to its client (`flow`). */
  afterDown: ((flow: number, datagram: Buffer) => void) | undefined;
  /** Milliseconds each datagram of `flow` waits in the relay, both ways (default none). */
  delayFor: ((flow: number) => number) | undefined;
  private readonly backs: Socket[] = [];
  /** Per client, the datagrams it has sent so far (held ones included). */
  private readonly seen: number[] = [];
  private readonly byAddress = new Map<string, number>();
  /** Datagrams forwarded so far, both ways, every client. */
  private count = 0;

  private constructor(
    private readonly front: Socket,
    private readonly serverPort: number,
    private readonly hold: HoldRule | undefined,
  ) {
    front.on('message', (msg, from) => {
      const key = `${from.address}:${from.port}`;
      let flow = this.byAddress.get(key);
      if (flow === undefined) {
        const index = this.flows.length;
        flow = index;
        const record: Flow = [];
        this.flows.push(record);
        const back = createSocket('udp4');
        back.on('message', (m) => {
          const down = () => {
            record.push({ dir: 'down', size: m.length, at: this.count++, data: m });
            front.send(m, from.port, from.address);
            this.afterDown?.(index, m);
          };
          const delay = this.delayFor?.(index) ?? 0;
          if (delay > 0) setTimeout(down, delay);
          else down();
        });
        back.bind(0, '127.0.0.1');
        this.backs.push(back);
        this.seen.push(0);
        this.byAddress.set(key, flow);
      }
      const up = this.seen[flow]!++;
      if (this.hold?.(flow, up, msg)) return;
      const delay = this.delayFor?.(flow) ?? 0;
      if (delay > 0) setTimeout(() => this.forward(flow, msg), delay);
      else this.forward(flow, msg);
    });
  }

  static async start(serverPort: number, hold?: HoldRule): Promise<UdpRelay> {
    const front = createSocket('udp4');
    front.bind(0, '127.0.0.1');
    await once(front, 'listening');
    return new UdpRelay(front, serverPort, hold);
  }

  get port(): number {
    return this.front.address().port;
  }

  /** Sends a client's datagram on to the server (and records it). */
  forward(flow: number, datagram: Buffer): void {
    this.flows[flow]!.push({ dir: 'up', size: datagram.length, at: this.count++, data: datagram });
    this.backs[flow]!.send(datagram, this.serverPort, '127.0.0.1');
  }

  /** The sizes of one direction of a client's datagrams. */
  sizes(flow: number, dir: 'up' | 'down'): number[] {
    return (this.flows[flow] ?? []).filter((d) => d.dir === dir).map((d) => d.size);
  }

  async close(): Promise<void> {
    for (const s of [this.front, ...this.backs]) await new Promise<void>((done) => s.close(() => done()));
  }
}

/** The types of the packets coalesced in a datagram (RFC 9000 §12.2), read from their headers. */
export function packetTypes(datagram: Uint8Array): PacketType[] {
  // A short header packet after long ones has the same Destination Connection ID (RFC 9000 §12.2),
  // whose length the first long header gives (RFC 9000 §17.2); one that comes alone is one packet.
  const dcidLength = (datagram[0]! & 0x80) !== 0 ? datagram[5]! : 0;
  return splitDatagram(datagram, dcidLength).map((p) => p.type);
}

/** A flow without the datagrams' bytes, for assertion messages. */
export function showFlow(flow: Flow): string {
  return JSON.stringify(flow.map(({ dir, size, at }) => ({ dir, size, at })));
}
