/**
 * One direction of a simulated path: its conditions (delay, jitter, bandwidth with a drop-tail queue,
 * loss, reordering, duplication, corruption, blackhole periods), the state they need (the bottleneck
 * queue, the datagram index) and its counters.
 *
 * Every random aspect draws from its own PRNG stream, forked from the network seed and the link's
 * name, so for example the loss pattern of a link does not change when jitter is added to it, and
 * traffic on one link never perturbs another.
 *
 * Order of fates for a datagram sent at `now`:
 *   blackhole (the link is down) -> bottleneck queue admission (drop-tail) -> dropFirst -> ackLoss ->
 *   lossIf -> burst loss (Gilbert-Elliott or fixed runs) -> random loss (lost on the wire, after using
 *   its share of bandwidth) -> corruption -> duplication -> delay.
 */
import type { Millis } from '../../src/util/time.js';
import type { Prng } from './prng.js';

export interface LinkConditions {
  /** One-way base delay (default 10). */
  delay?: Millis;
  /** Uniform extra delay in [0, jitter) per datagram (may reorder). */
  jitter?: Millis;
  /** Bits per second; serialization delay with a FIFO queue. */
  bandwidth?: number;
  /** Drop-tail queue limit in bytes when bandwidth is set (default 256 KiB). */
  queueBytes?: number;
  /** Probability [0,1] that a datagram is lost. */
  loss?: number;
  /** Custom loss (e.g. only during the handshake); `index` counts datagrams sent on this link from 0. */
  lossIf?: (info: { now: Millis; index: number; datagram: Uint8Array }) => boolean;
  /** Probability that a datagram gets `reorderDelay` extra delay. */
  reorder?: number;
  /** Default 2 * delay. */
  reorderDelay?: Millis;
  /** Probability a datagram is delivered twice. */
  duplicate?: number;
  /** Probability one random byte is changed. */
  corrupt?: number;
  /** Everything sent in [start, end) is dropped. Absolute virtual times. */
  blackholes?: Array<{ start: Millis; end: Millis }>;
  /** Largest datagram (UDP payload) the path carries; larger ones are dropped. Default: no limit. */
  mtu?: number;
  /**
   * Gilbert-Elliott two-state burst loss: per datagram, the Good state turns Bad with probability
   * `p` and Bad turns Good with `r` (mean burst length 1/r datagrams); a datagram is lost with
   * `lossBad` (default 1) in Bad and `lossGood` (default 0) in Good. The state is updated before each
   * datagram's fate is drawn.
   */
  gilbertElliott?: GilbertElliott;
  /** Fixed-length bursts: each datagram starts, with probability `start`, a run of `length` lost datagrams. */
  burstRuns?: { start: number; length: number };
  /** The first N datagrams sent on this link are lost (a handshake that meets a dead path first). */
  dropFirst?: number;
  /**
   * Every small datagram (at most `maxSize` bytes, default 100: ACK-only packets; data packets are
   * larger) sent in [start, end) is lost: a run of lost ACKs while data still flows.
   */
  ackLoss?: { start: Millis; end: Millis; maxSize?: number };
}

export interface GilbertElliott {
  p: number;
  r: number;
  lossGood?: number;
  lossBad?: number;
}

export type DatagramFate = 'delivered' | 'lost' | 'corrupted' | 'duplicated' | 'queue-drop' | 'blackholed';

/** Counters for one link (or, summed, for the whole network). */
export interface SimStats {
  /** Datagrams sent by nodes (injected ones are counted in `injected`). */
  sent: number;
  bytesSent: number;
  /** Datagrams handed to a node's `receive` (duplicates count twice). */
  delivered: number;
  bytesDelivered: number;
  lost: number;
  queueDropped: number;
  blackholed: number;
  /** Datagrams with one byte changed (they are still delivered). */
  corrupted: number;
  /** Datagrams delivered twice. */
  duplicated: number;
  /** Datagrams put on the wire with `SimNetwork.inject`. */
  injected: number;
  /** Deliveries to an address with no node. */
  unroutable: number;
}

export function emptyStats(): SimStats {
  return {
    sent: 0,
    bytesSent: 0,
    delivered: 0,
    bytesDelivered: 0,
    lost: 0,
    queueDropped: 0,
    blackholed: 0,
    corrupted: 0,
    duplicated: 0,
    injected: 0,
    unroutable: 0,
  };
}

export function addStats(into: SimStats, from: SimStats): void {
  into.sent += from.sent;
  into.bytesSent += from.bytesSent;
  into.delivered += from.delivered;
  into.bytesDelivered += from.bytesDelivered;
  into.lost += from.lost;
  into.queueDropped += from.queueDropped;
  into.blackholed += from.blackholed;
  into.corrupted += from.corrupted;
  into.duplicated += from.duplicated;
  into.injected += from.injected;
  into.unroutable += from.unroutable;
}

export const DEFAULT_DELAY: Millis = 10;
export const DEFAULT_QUEUE_BYTES = 256 * 1024;

function checkProbability(name: string, p: number | undefined): void {
  if (p !== undefined && !(p >= 0 && p <= 1))
    throw new RangeError(`link ${name} must be in [0, 1], got ${p}`);
}

function checkNonNegative(name: string, v: number | undefined): void {
  if (v !== undefined && !(v >= 0 && Number.isFinite(v))) {
    throw new RangeError(`link ${name} must be a finite number >= 0, got ${v}`);
  }
}

/** Throws a RangeError for conditions that make no sense (negative delays, probabilities > 1, ...). */
export function validateConditions(c: LinkConditions): void {
  checkNonNegative('delay', c.delay);
  checkNonNegative('jitter', c.jitter);
  checkNonNegative('reorderDelay', c.reorderDelay);
  checkNonNegative('queueBytes', c.queueBytes);
  if (c.bandwidth !== undefined && !(c.bandwidth > 0 && Number.isFinite(c.bandwidth))) {
    throw new RangeError(`link bandwidth must be a finite number > 0, got ${c.bandwidth}`);
  }
  checkProbability('loss', c.loss);
  checkProbability('reorder', c.reorder);
  checkProbability('duplicate', c.duplicate);
  checkProbability('corrupt', c.corrupt);
  if (c.gilbertElliott !== undefined) {
    const ge = c.gilbertElliott;
    checkProbability('gilbertElliott.p', ge.p);
    checkProbability('gilbertElliott.r', ge.r);
    checkProbability('gilbertElliott.lossGood', ge.lossGood);
    checkProbability('gilbertElliott.lossBad', ge.lossBad);
  }
  if (c.burstRuns !== undefined) {
    checkProbability('burstRuns.start', c.burstRuns.start);
    if (!(Number.isInteger(c.burstRuns.length) && c.burstRuns.length >= 1)) {
      throw new RangeError(`link burstRuns.length must be an integer >= 1, got ${c.burstRuns.length}`);
    }
  }
  checkNonNegative('dropFirst', c.dropFirst);
  if (c.ackLoss !== undefined && !(c.ackLoss.start <= c.ackLoss.end)) {
    throw new RangeError(`link ackLoss must have start <= end, got [${c.ackLoss.start}, ${c.ackLoss.end})`);
  }
  for (const b of c.blackholes ?? []) {
    if (!(Number.isFinite(b.start) && Number.isFinite(b.end) && b.start <= b.end)) {
      throw new RangeError(`link blackhole must have finite start <= end, got [${b.start}, ${b.end})`);
    }
  }
}

export class Link {
  readonly stats: SimStats = emptyStats();
  /** Arrival time of the datagram last passed to `decide` (when not dropped). */
  arrival: Millis = 0;
  /** Arrival time of its duplicate, or -1 when it was not duplicated. */
  duplicateArrival: Millis = -1;

  private conditions: LinkConditions = {};
  private delay: Millis = DEFAULT_DELAY;
  private jitter: Millis = 0;
  private reorderDelay: Millis = 2 * DEFAULT_DELAY;
  private index = 0;

  private readonly lossRng: Prng;
  private readonly jitterRng: Prng;
  private readonly reorderRng: Prng;
  private readonly duplicateRng: Prng;
  private readonly corruptRng: Prng;
  private readonly burstRng: Prng;
  /** Gilbert-Elliott: in the Bad state. */
  private bad = false;
  /** Fixed runs: datagrams of the current run still to lose. */
  private runLeft = 0;

  // The bottleneck queue (only with bandwidth): datagrams accepted but not yet fully serialized,
  // as parallel FIFO arrays of serialization end times and sizes.
  private readonly queueEnd: Millis[] = [];
  private readonly queueSize: number[] = [];
  private queueHead = 0;
  private queuedBytes = 0;
  private lastDeparture: Millis = Number.NEGATIVE_INFINITY;

  constructor(prng: Prng) {
    this.lossRng = prng.fork('loss');
    this.jitterRng = prng.fork('jitter');
    this.reorderRng = prng.fork('reorder');
    this.duplicateRng = prng.fork('duplicate');
    this.corruptRng = prng.fork('corrupt');
    this.burstRng = prng.fork('burst');
  }

  /** Replaces the conditions; the queue, index and random streams carry over. */
  setConditions(conditions: LinkConditions): void {
    validateConditions(conditions);
    this.conditions = { ...conditions, blackholes: conditions.blackholes?.map((b) => ({ ...b })) };
    this.delay = conditions.delay ?? DEFAULT_DELAY;
    this.jitter = conditions.jitter ?? 0;
    this.reorderDelay = conditions.reorderDelay ?? 2 * this.delay;
  }

  /**
   * Decides the fate of `datagram` (the simulator's own copy, which corruption modifies in place) sent
   * at `now`, updates the counters, and for a delivered datagram sets `arrival` (and
   * `duplicateArrival`).
   */
  decide(now: Millis, datagram: Uint8Array): DatagramFate {
    const c = this.conditions;
    const stats = this.stats;
    const size = datagram.length;
    const index = this.index++;
    stats.sent++;
    stats.bytesSent += size;
    this.duplicateArrival = -1;

    if (c.mtu !== undefined && size > c.mtu) {
      // Too big for the path (a PMTU probe beyond the MTU, RFC 9000 §14): dropped, like a loss.
      stats.lost++;
      return 'lost';
    }

    if (c.blackholes !== undefined) {
      for (const b of c.blackholes) {
        if (now >= b.start && now < b.end) {
          stats.blackholed++;
          return 'blackholed';
        }
      }
    }

    let departure = now;
    if (c.bandwidth !== undefined) {
      // Datagrams whose serialization has finished have left the queue.
      while (this.queueHead < this.queueEnd.length && this.queueEnd[this.queueHead]! <= now) {
        this.queuedBytes -= this.queueSize[this.queueHead]!;
        this.queueHead++;
      }
      if (this.queueHead > 1024 && this.queueHead * 2 > this.queueEnd.length) {
        this.queueEnd.splice(0, this.queueHead);
        this.queueSize.splice(0, this.queueHead);
        this.queueHead = 0;
      }
      if (this.queuedBytes + size > (c.queueBytes ?? DEFAULT_QUEUE_BYTES)) {
        stats.queueDropped++;
        return 'queue-drop';
      }
      departure = Math.max(now, this.lastDeparture) + (size * 8000) / c.bandwidth;
      this.lastDeparture = departure;
      this.queueEnd.push(departure);
      this.queueSize.push(size);
      this.queuedBytes += size;
    }

    if (
      (c.dropFirst !== undefined && index < c.dropFirst) ||
      (c.ackLoss !== undefined &&
        now >= c.ackLoss.start &&
        now < c.ackLoss.end &&
        size <= (c.ackLoss.maxSize ?? 100)) ||
      c.lossIf?.({ now, index, datagram }) === true ||
      this.burstLost()
    ) {
      stats.lost++;
      return 'lost';
    }
    if (c.loss !== undefined && c.loss > 0 && this.lossRng.next() < c.loss) {
      stats.lost++;
      return 'lost';
    }

    let fate: DatagramFate = 'delivered';
    if (c.corrupt !== undefined && c.corrupt > 0 && size > 0 && this.corruptRng.next() < c.corrupt) {
      // XOR with a non-zero value so that the byte really changes.
      datagram[this.corruptRng.int(size)]! ^= 1 + this.corruptRng.int(255);
      stats.corrupted++;
      fate = 'corrupted';
    }
    this.arrival = departure + this.propagationDelay();
    if (c.duplicate !== undefined && c.duplicate > 0 && this.duplicateRng.next() < c.duplicate) {
      this.duplicateArrival = departure + this.propagationDelay();
      stats.duplicated++;
      if (fate === 'delivered') fate = 'duplicated';
    }
    return fate;
  }

  /** Whether the burst models (Gilbert-Elliott, fixed runs) lose this datagram. */
  private burstLost(): boolean {
    const c = this.conditions;
    let lost = false;
    const ge = c.gilbertElliott;
    if (ge !== undefined) {
      if (this.bad) {
        if (this.burstRng.next() < ge.r) this.bad = false;
      } else if (this.burstRng.next() < ge.p) {
        this.bad = true;
      }
      const p = this.bad ? (ge.lossBad ?? 1) : (ge.lossGood ?? 0);
      if (p > 0 && this.burstRng.next() < p) lost = true;
    }
    const runs = c.burstRuns;
    if (runs !== undefined) {
      if (this.runLeft === 0 && this.burstRng.next() < runs.start) this.runLeft = runs.length;
      if (this.runLeft > 0) {
        this.runLeft--;
        lost = true;
      }
    }
    return lost;
  }

  private propagationDelay(): Millis {
    let d = this.delay;
    if (this.jitter > 0) d += this.jitterRng.next() * this.jitter;
    const reorder = this.conditions.reorder;
    if (reorder !== undefined && reorder > 0 && this.reorderRng.next() < reorder) d += this.reorderDelay;
    return d;
  }
}
