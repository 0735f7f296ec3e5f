/**
 * A deterministic virtual network for sans-IO QUIC endpoints.
 *
 * Nodes (client and server cores, or test toys) are attached at addresses. The network owns a virtual
 * clock and a priority queue of events: datagram deliveries, node timers and scheduled callbacks, run in
 * time order with ties broken by insertion order. After a node receives a datagram or its timer fires,
 * its `transmit(now)` is drained and every datagram is sent through the directional link's conditions;
 * then its `nextTimeout()` is (re)scheduled. Nothing reads a real clock or sets a real timer, and all
 * randomness comes from PRNG streams forked from the seed, so the same seed and the same nodes give the
 * same run, byte for byte.
 */
import type { Millis } from '../../src/util/time.js';
import { SimLivelockError, SimTimeoutError } from './errors.js';
import { EventQueue } from './event-queue.js';
import { addStats, type DatagramFate, emptyStats, Link, type LinkConditions, type SimStats } from './link.js';
import { Prng } from './prng.js';
import { simSeed } from './seed.js';

export { SimLivelockError, SimTimeoutError } from './errors.js';
export type { DatagramFate, LinkConditions, SimStats } from './link.js';
export { Prng, seededRandomBytes } from './prng.js';
export { formatSeedHint, simSeed, withSimSeed } from './seed.js';

export type SimAddress = string; // e.g. '10.0.0.1:4433'

/** What the simulator drives: a QUIC endpoint or connection wrapper. */
export interface SimNode {
  receive(datagram: Uint8Array, from: SimAddress, now: Millis): void;
  /** Next datagram to send now, or undefined (nothing to send, or blocked by congestion/pacing: then nextTimeout() tells when). */
  transmit(now: Millis): { datagram: Uint8Array; to: SimAddress } | undefined;
  nextTimeout(): Millis | undefined;
  handleTimeout(now: Millis): void;
}

export interface TraceEntry {
  /** When the datagram was sent (or injected). */
  time: Millis;
  from: SimAddress;
  to: SimAddress;
  size: number;
  fate: DatagramFate;
  /** When it reaches `to` (the first copy, for a duplicated one); undefined when it was dropped. */
  arrival?: Millis;
}

export interface SimNetworkStats extends SimStats {
  /** Events processed (deliveries, timer firings, callbacks). */
  events: number;
}

export interface SimRunOptions {
  /** Checked after each event (and once before the first); the run stops when it returns true. */
  until?: () => boolean;
  /** Virtual duration from the start of this run after which it throws SimTimeoutError (default 10 min). */
  maxTime?: Millis;
  /** Number of events after which this run throws SimTimeoutError (default unlimited). */
  maxEvents?: number;
}

/** 2026-01-01T00:00:00Z. */
export const DEFAULT_START_TIME: Millis = 1_767_225_600_000;
export const DEFAULT_MAX_TIME: Millis = 10 * 60 * 1000;
/** Datagrams one `transmit` drain may return before the node is declared to be busy-looping. */
export const MAX_TRANSMITS_PER_EVENT = 10_000;
/** Consecutive timer firings at one instant, each leaving the timer still due, before a livelock. */
export const MAX_STUCK_TIMER_FIRINGS = 1_000;
/** Consecutive events without virtual time advancing before the whole network is declared stuck. */
export const MAX_EVENTS_AT_ONE_INSTANT = 1_000_000;
export const DEFAULT_TRACE_LIMIT = 10_000;

enum EventKind {
  Deliver,
  Timer,
  Callback,
}

interface DeliverEvent {
  kind: EventKind.Deliver;
  time: Millis;
  seq: number;
  from: SimAddress;
  to: SimAddress;
  datagram: Uint8Array;
  /** Whose counters the delivery updates; undefined for injected datagrams. */
  link: Link | undefined;
}

interface TimerEvent {
  kind: EventKind.Timer;
  time: Millis;
  seq: number;
  state: NodeState;
  generation: number;
}

interface CallbackEvent {
  kind: EventKind.Callback;
  time: Millis;
  seq: number;
  fn: () => void;
}

type SimEvent = DeliverEvent | TimerEvent | CallbackEvent;

interface NodeState {
  readonly address: SimAddress;
  readonly node: SimNode;
  /** Time of the pending timer event, if any. */
  timerAt: Millis | undefined;
  /** Incremented whenever the pending timer event is superseded; stale events are skipped. */
  generation: number;
  attached: boolean;
  /** Busy-loop detection: the instant of the last timer firing and how many in a row left it due. */
  stuckAt: Millis;
  stuckCount: number;
}

type SendListener = (e: { time: Millis; from: SimAddress; to: SimAddress; datagram: Uint8Array }) => void;

export class SimNetwork {
  readonly seed: number;
  readonly prng: Prng;
  readonly startTime: Millis;

  private clock: Millis;
  private readonly queue = new EventQueue<SimEvent>();
  private readonly nodes = new Map<SimAddress, NodeState>();
  private readonly links = new Map<SimAddress, Map<SimAddress, Link>>();
  private readonly linkPrng: Prng;
  private readonly listeners: SendListener[] = [];
  private readonly injectStats: SimStats = emptyStats();
  private readonly traceLimit: number;
  private traceBuf: TraceEntry[] = [];
  private staleTimers = 0;
  private eventCount = 0;
  private running = false;

  constructor(opts: { seed: number; startTime?: Millis; traceLimit?: number }) {
    if (!Number.isSafeInteger(opts.seed))
      throw new RangeError(`seed must be a safe integer, got ${opts.seed}`);
    // SIM_SEED replaces the seed of every simulation, so that any failing simulator test can be rerun
    // with the seed its failure names, whichever way the test chose its seed.
    this.seed = simSeed(opts.seed);
    this.prng = new Prng(this.seed);
    this.linkPrng = this.prng.fork('sim-network links');
    this.startTime = opts.startTime ?? DEFAULT_START_TIME;
    this.clock = this.startTime;
    this.traceLimit = opts.traceLimit ?? DEFAULT_TRACE_LIMIT;
  }

  /** The current virtual time (epoch milliseconds). */
  get now(): Millis {
    return this.clock;
  }

  /** The most recent datagrams (at most `traceLimit`, default 10,000), oldest first. */
  get trace(): TraceEntry[] {
    const buf = this.traceBuf;
    return buf.length > this.traceLimit ? buf.slice(buf.length - this.traceLimit) : buf.slice();
  }

  /** Attaches a node; it is first asked to transmit when a run starts (or right after an `at` callback). */
  addNode(address: SimAddress, node: SimNode): void {
    if (this.nodes.has(address)) throw new Error(`a node is already attached at ${address}`);
    this.nodes.set(address, {
      address,
      node,
      timerAt: undefined,
      generation: 0,
      attached: true,
      stuckAt: Number.NaN,
      stuckCount: 0,
    });
  }

  /**
   * Detaches the node at `address` (e.g. a server that crashes); its timer is cancelled and datagrams
   * still in flight to the address go to whatever node is attached there when they arrive.
   */
  removeNode(address: SimAddress): void {
    const state = this.nodes.get(address);
    if (state === undefined) throw new Error(`no node at ${address}`);
    state.attached = false;
    this.cancelTimer(state);
    this.nodes.delete(address);
  }

  /** Conditions for datagrams from `from` to `to` (directional); default: 10 ms delay, nothing else. */
  setLink(from: SimAddress, to: SimAddress, conditions: LinkConditions): void {
    this.link(from, to).setConditions(conditions);
  }

  /** The same conditions in both directions between `a` and `b`. */
  setPath(a: SimAddress, b: SimAddress, conditions: LinkConditions): void {
    this.setLink(a, b, conditions);
    this.setLink(b, a, conditions);
  }

  /** Inject a datagram (e.g. replay a captured one), delivered to `to` at `at` (default: now), bypassing link conditions. */
  inject(from: SimAddress, to: SimAddress, datagram: Uint8Array, at: Millis = this.clock): void {
    if (!(at >= this.clock)) throw new RangeError(`cannot inject into the past (${at} < ${this.clock})`);
    const copy = new Uint8Array(datagram);
    this.injectStats.injected++;
    this.record({ time: this.clock, from, to, size: copy.length, fate: 'delivered', arrival: at });
    this.queue.push({ kind: EventKind.Deliver, time: at, seq: 0, from, to, datagram: copy, link: undefined });
  }

  /** Observe every datagram as it is sent (before fate); for captures and assertions. The datagram is a private copy. */
  onSend(listener: SendListener): void {
    this.listeners.push(listener);
  }

  /** Run a callback at a virtual time (e.g. "close the stream at t=2s"); every node then gets to transmit. */
  at(time: Millis, fn: () => void): void {
    if (!(time >= this.clock))
      throw new RangeError(`cannot schedule a callback in the past (${time} < ${this.clock})`);
    this.queue.push({ kind: EventKind.Callback, time, seq: 0, fn });
  }

  /**
   * Advance the simulation: process events in time order until `until()` is true (checked after each
   * event), or no event is left, or virtual time passes `maxTime` after the start of this run (then it
   * throws a SimTimeoutError naming the seed). Returns the virtual time.
   */
  run(opts: SimRunOptions = {}): Millis {
    const maxTime = opts.maxTime ?? DEFAULT_MAX_TIME;
    const deadline = this.clock + maxTime;
    return this.loop(opts.until, opts.maxEvents ?? Number.POSITIVE_INFINITY, (event, events) => {
      if (event.time <= deadline) return false;
      throw new SimTimeoutError(
        this.seed,
        this.clock,
        events,
        `virtual time would pass maxTime (${maxTime} ms) at ${this.describeTime(event.time)} after ${events} events`,
      );
    });
  }

  /** Processes every event up to `now + duration`, then sets the clock there. Returns the virtual time. */
  runFor(duration: Millis, opts: Omit<SimRunOptions, 'maxTime'> = {}): Millis {
    if (!(duration >= 0)) throw new RangeError(`duration must be >= 0, got ${duration}`);
    const target = this.clock + duration;
    let stoppedEarly = false;
    this.loop(
      () => {
        stoppedEarly = opts.until?.() === true;
        return stoppedEarly;
      },
      opts.maxEvents ?? Number.POSITIVE_INFINITY,
      (event) => event.time > target,
    );
    if (!stoppedEarly) this.clock = target;
    return this.clock;
  }

  /** Counters over all links and injected datagrams. */
  stats(): SimNetworkStats {
    const total = emptyStats();
    for (const byTo of this.links.values()) for (const link of byTo.values()) addStats(total, link.stats);
    addStats(total, this.injectStats);
    return { ...total, events: this.eventCount };
  }

  /** Counters for the directional link `from` -> `to`. */
  linkStats(from: SimAddress, to: SimAddress): SimStats {
    const link = this.links.get(from)?.get(to);
    return link === undefined ? emptyStats() : { ...link.stats };
  }

  /**
   * The event loop shared by `run` and `runFor`. `stop(event, events)` is consulted before each event
   * is processed: true ends the loop without processing it (it may also throw).
   */
  private loop(
    until: (() => boolean) | undefined,
    maxEvents: number,
    stop: (event: SimEvent, events: number) => boolean,
  ): Millis {
    if (this.running) throw new Error('SimNetwork.run is not re-entrant (called from inside an event)');
    this.running = true;
    try {
      this.kickAll();
      if (until?.() === true) return this.clock;
      let events = 0;
      let sameInstant = 0;
      for (;;) {
        const event = this.queue.peek();
        if (event === undefined) break;
        if (event.kind === EventKind.Timer && this.isStale(event)) {
          this.queue.pop();
          this.staleTimers--;
          continue;
        }
        if (stop(event, events)) break;
        if (events >= maxEvents) {
          throw new SimTimeoutError(
            this.seed,
            this.clock,
            events,
            `maxEvents (${maxEvents}) reached at ${this.describeTime(this.clock)}`,
          );
        }
        this.queue.pop();
        if (event.time > this.clock) {
          this.clock = event.time;
          sameInstant = 0;
        } else if (++sameInstant >= MAX_EVENTS_AT_ONE_INSTANT) {
          throw new SimLivelockError(
            this.seed,
            undefined,
            `${sameInstant} events at ${this.describeTime(this.clock)} without virtual time advancing`,
          );
        }
        events++;
        this.eventCount++;
        this.process(event);
        if (until?.() === true) break;
      }
      return this.clock;
    } finally {
      this.running = false;
    }
  }

  private process(event: SimEvent): void {
    switch (event.kind) {
      case EventKind.Deliver: {
        const stats = event.link?.stats ?? this.injectStats;
        const state = this.nodes.get(event.to);
        if (state === undefined) {
          stats.unroutable++;
          return;
        }
        stats.delivered++;
        stats.bytesDelivered += event.datagram.length;
        state.node.receive(event.datagram, event.from, this.clock);
        this.drain(state);
        this.reschedule(state);
        return;
      }
      case EventKind.Timer: {
        const state = event.state;
        state.timerAt = undefined;
        if (state.stuckAt !== this.clock) {
          state.stuckAt = this.clock;
          state.stuckCount = 0;
        }
        state.node.handleTimeout(this.clock);
        if (!state.attached) return;
        this.drain(state);
        const next = this.reschedule(state);
        if (next !== undefined && next <= this.clock) {
          if (++state.stuckCount >= MAX_STUCK_TIMER_FIRINGS) {
            throw new SimLivelockError(
              this.seed,
              state.address,
              `node ${state.address}: timer fired ${state.stuckCount} times in a row at ${this.describeTime(this.clock)} and nextTimeout() is still ${next} <= now`,
            );
          }
        } else {
          state.stuckCount = 0;
        }
        return;
      }
      case EventKind.Callback:
        event.fn();
        this.kickAll();
        return;
    }
  }

  /** Lets every node transmit and (re)schedules its timer: at the start of a run and after callbacks. */
  private kickAll(): void {
    for (const state of this.nodes.values()) {
      this.drain(state);
      this.reschedule(state);
    }
  }

  private drain(state: NodeState): void {
    const now = this.clock;
    for (let i = 0; ; i++) {
      const out = state.node.transmit(now);
      if (out === undefined) return;
      if (i >= MAX_TRANSMITS_PER_EVENT) {
        throw new SimLivelockError(
          this.seed,
          state.address,
          `node ${state.address}: transmit() returned more than ${MAX_TRANSMITS_PER_EVENT} datagrams at ${this.describeTime(now)} without returning undefined`,
        );
      }
      this.send(state.address, out.to, out.datagram);
    }
  }

  private send(from: SimAddress, to: SimAddress, datagram: Uint8Array): void {
    const now = this.clock;
    // The node may reuse its buffer once transmit returns: keep our own copy.
    const copy = new Uint8Array(datagram);
    if (this.listeners.length > 0) {
      const observed = new Uint8Array(copy);
      for (const listener of this.listeners) listener({ time: now, from, to, datagram: observed });
    }
    const link = this.link(from, to);
    const fate = link.decide(now, copy);
    if (fate === 'lost' || fate === 'queue-drop' || fate === 'blackholed') {
      this.record({ time: now, from, to, size: copy.length, fate });
      return;
    }
    this.record({ time: now, from, to, size: copy.length, fate, arrival: link.arrival });
    this.queue.push({ kind: EventKind.Deliver, time: link.arrival, seq: 0, from, to, datagram: copy, link });
    if (link.duplicateArrival >= 0) {
      const twin = new Uint8Array(copy);
      this.queue.push({
        kind: EventKind.Deliver,
        time: link.duplicateArrival,
        seq: 0,
        from,
        to,
        datagram: twin,
        link,
      });
    }
  }

  /** Schedules the node's next timeout (a time <= now fires at now). Returns what nextTimeout() said. */
  private reschedule(state: NodeState): Millis | undefined {
    const t = state.node.nextTimeout();
    if (t === undefined || t === Number.POSITIVE_INFINITY) {
      this.cancelTimer(state);
      return undefined;
    }
    if (Number.isNaN(t)) throw new TypeError(`node ${state.address}: nextTimeout() returned NaN`);
    const at = Math.max(t, this.clock);
    if (state.timerAt === at) return t;
    this.cancelTimer(state);
    state.timerAt = at;
    this.queue.push({ kind: EventKind.Timer, time: at, seq: 0, state, generation: state.generation });
    return t;
  }

  private cancelTimer(state: NodeState): void {
    if (state.timerAt === undefined) return;
    state.timerAt = undefined;
    state.generation++;
    this.staleTimers++;
    // Superseded timers are skipped lazily; purge them when they dominate the queue.
    if (this.staleTimers > 4096 && this.staleTimers * 2 > this.queue.size) {
      this.queue.retain((e) => e.kind !== EventKind.Timer || !this.isStale(e));
      this.staleTimers = 0;
    }
  }

  private isStale(event: TimerEvent): boolean {
    return event.generation !== event.state.generation || !event.state.attached;
  }

  private link(from: SimAddress, to: SimAddress): Link {
    let byTo = this.links.get(from);
    if (byTo === undefined) {
      byTo = new Map();
      this.links.set(from, byTo);
    }
    let link = byTo.get(to);
    if (link === undefined) {
      link = new Link(this.linkPrng.fork(`${from} -> ${to}`));
      byTo.set(to, link);
    }
    return link;
  }

  private record(entry: TraceEntry): void {
    const buf = this.traceBuf;
    buf.push(entry);
    if (buf.length >= 2 * this.traceLimit) this.traceBuf = buf.slice(buf.length - this.traceLimit);
  }

  private describeTime(t: Millis): string {
    return `t=+${t - this.startTime} ms`;
  }
}
