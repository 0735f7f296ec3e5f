/**
 * A userspace UDP fault proxy for tests and benchmarks over real sockets: clients send to the proxy's
 * port, the proxy forwards to the target through one upstream socket per client address (as a NAT
 * does), and each direction applies the simulator's link model (test/sim/link.ts), so the same
 * conditions exist in the simulator and on the wire: loss, Gilbert-Elliott and fixed-run burst loss,
 * "the first N datagrams lost", lost ACK windows, duplication, reordering, delay with jitter,
 * corruption, a rate limit with a drop-tail queue, blackouts, an MTU, and NAT rebinding.
 *
 * Randomness is seeded (each direction draws from its own stream), so a pattern of faults depends
 * only on the seed and the sequence of datagrams, never on the clock; delays use timers, so times
 * are real.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { Link, type LinkConditions, type SimStats } from '../sim/link.js';
import { Prng } from '../sim/prng.js';

export type { LinkConditions } from '../sim/link.js';

export interface FaultProxyOptions {
  /** Where datagrams from clients go. */
  target: { host: string; port: number };
  /** Conditions client -> target and target -> client (default: none, 0 ms delay). */
  up?: LinkConditions;
  down?: LinkConditions;
  /** Seed of the fault patterns (default 1). */
  seed?: number;
  /** Address family and host of the proxy's own sockets (default udp4 on 127.0.0.1). */
  host?: string;
}

/** Which way a datagram travels: client -> target ('up') or back ('down'). */
export type Direction = 'up' | 'down';

export class FaultProxy {
  private readonly upstreams = new Map<string, Socket>();
  private readonly pending = new Set<NodeJS.Timeout>();
  private readonly links: Record<Direction, Link>;
  private readonly conditions: Record<Direction, LinkConditions>;
  private closed = false;
  private readonly t0 = performance.now();

  private constructor(
    private readonly front: Socket,
    private readonly opts: FaultProxyOptions,
  ) {
    const prng = new Prng(opts.seed ?? 1);
    this.links = { up: new Link(prng.fork('up')), down: new Link(prng.fork('down')) };
    this.conditions = { up: {}, down: {} };
    this.set('up', opts.up ?? {});
    this.set('down', opts.down ?? {});
    front.on('message', (msg, from) => this.fromClient(msg, from));
    front.on('error', () => {});
  }

  static async start(opts: FaultProxyOptions): Promise<FaultProxy> {
    const host = opts.host ?? '127.0.0.1';
    const front = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    front.bind(0, host);
    await once(front, 'listening');
    return new FaultProxy(front, opts);
  }

  /** The proxy's port: where clients send. */
  get port(): number {
    return this.front.address().port;
  }

  /** Milliseconds since the proxy started: the clock of blackholes and ACK-loss windows. */
  now(): number {
    return performance.now() - this.t0;
  }

  /** Replaces one direction's conditions (delay 0 unless given). The fault state carries over. */
  set(direction: Direction, conditions: LinkConditions): void {
    this.conditions[direction] = conditions;
    this.links[direction].setConditions({ delay: 0, ...conditions });
  }

  /** Both directions drop everything for `ms` from now (a blackout), keeping their other conditions. */
  blackout(ms: number): void {
    const start = this.now();
    for (const d of ['up', 'down'] as const) {
      const c = this.conditions[d];
      this.set(d, { ...c, blackholes: [...(c.blackholes ?? []), { start, end: start + ms }] });
    }
  }

  /** Counters of one direction. */
  stats(direction: Direction): SimStats {
    return { ...this.links[direction].stats };
  }

  /**
   * NAT rebinding: forget every mapping. Each client's next datagram leaves from a new port; what the
   * target sends to an old port is lost.
   */
  rebind(): void {
    for (const s of this.upstreams.values()) s.close();
    this.upstreams.clear();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.pending) clearTimeout(t);
    this.pending.clear();
    this.rebind();
    this.front.close();
  }

  private fromClient(msg: Buffer, from: RemoteInfo): void {
    if (this.closed) return;
    const key = `${from.address}:${from.port}`;
    let up = this.upstreams.get(key);
    if (!up) {
      const socket = createSocket(from.family === 'IPv6' ? 'udp6' : 'udp4');
      // Sends issued while the bind is in progress are queued by node:dgram.
      socket.bind(0, this.opts.host ?? '127.0.0.1');
      socket.on('message', (back) => {
        this.forward('down', back, () => {
          if (!this.closed) this.front.send(back, from.port, from.address);
        });
      });
      socket.on('error', () => {});
      this.upstreams.set(key, socket);
      up = socket;
    }
    const socket = up;
    this.forward('up', msg, () => {
      if (this.closed || this.upstreams.get(key) !== socket) return; // rebound meanwhile: lost
      socket.send(msg, this.opts.target.port, this.opts.target.host);
    });
  }

  /** Decides the datagram's fate (it may be corrupted in place) and delivers it (and its twin). */
  private forward(direction: Direction, datagram: Buffer, send: () => void): void {
    const link = this.links[direction];
    const now = this.now();
    const fate = link.decide(now, datagram);
    if (fate === 'lost' || fate === 'queue-drop' || fate === 'blackholed') return;
    link.stats.delivered++;
    this.at(link.arrival - now, send);
    if (link.duplicateArrival >= 0) {
      link.stats.delivered++;
      this.at(link.duplicateArrival - now, send);
    }
  }

  private at(delay: number, fn: () => void): void {
    if (delay <= 0) {
      fn();
      return;
    }
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      fn();
    }, delay);
    this.pending.add(timer);
  }
}
