/**
 * Datagram Packetization Layer PMTU Discovery (RFC 9000 §14.3, RFC 8899): once the handshake is
 * confirmed, probe larger datagrams (a PING padded to the probe size) one at a time; an acknowledged
 * probe raises the size used for 1-RTT packets, a size lost three times lowers the search ceiling.
 * Every packet costs the same per-packet CPU whatever its size, so on paths with a large MTU
 * (loopback, jumbo frames) fewer, larger packets mean proportionally more throughput.
 */

/** Probes of one size lost this many times: that size does not fit (RFC 8899 §5.1.2 MAX_PROBES). */
const MAX_PROBES = 3;
/** Stop searching when the remaining interval is this small. */
const SEARCH_PRECISION = 16;
/**
 * The search starts this many smoothed RTTs, and at least MIN_START_DELAY, after the sender could
 * first probe (RFC 8899 §5.1 leaves the schedule to the sender; quic-go waits 5 RTTs). A
 * short-lived connection (a request and its answer) then ends before either side spends a padded
 * probe and the peer an ACK of it; a transfer long enough to gain from larger packets starts
 * probing a few milliseconds later. Clients and servers alike (connection-sender.ts).
 */
export const START_DELAY_RTTS = 2;
export const MIN_START_DELAY = 10;
/**
 * ...or sooner, once the sender has asked this many times (it asks once per datagram it builds with
 * data allowed): a transfer starts the search after a dozen datagrams, whatever the clock says.
 */
export const START_AFTER_CHANCES = 16;

/**
 * A probe waits until the congestion window is at least this many times its size (RFC 9000 §14.4:
 * "PMTU probes consume congestion window, which could delay subsequent transmission"): at most a
 * quarter of the window goes to a padded packet that may well be lost. On a path whose ceiling is
 * 1,452 bytes this is never the constraint (the initial window is 10 datagrams); toward loopback
 * (16,383 bytes) the window passes 64 KiB within a few round trips. The fault proxy's longrtt
 * scenario (750 ms RTT, a 64 KiB answer, 32-datagram initial window): 2.76 s with no such rule,
 * 2.60 s at a third, 2.49 s at a quarter; discovery on test/sim/pmtu.test.ts's 9000-byte path at
 * 20 ms RTT then takes 11% more packets for its 8 MiB than at a third.
 */
export const PROBE_WINDOW_SHARE = 4;

export class MtuDiscovery {
  private _current: number;
  private high: number;
  private probing: number | undefined;
  private lossesAtSize = 0;
  private triedCeiling = false;
  /** The peer's max_udp_payload_size, once known. */
  private peerMax = Number.POSITIVE_INFINITY;
  /** When the search may start: set on the first probeAllowed() call, cleared by restart(). */
  private startAt: number | undefined;
  /** probeAllowed() calls since then. */
  private chances = 0;

  /** `base`: a size known to work; `max`: the largest we would ever use (both in UDP payload bytes). */
  constructor(
    private readonly base: number,
    private readonly max: number,
  ) {
    this._current = base;
    this.high = Math.max(base, max);
  }

  /** The datagram size in use. */
  get current(): number {
    return this._current;
  }

  /** A new network path (RFC 9000 §14.3, §9.4): its MTU is unknown, search again from the base. */
  restart(): void {
    this._current = this.base;
    this.high = Math.max(this.base, Math.min(this.max, this.peerMax));
    this.probing = undefined;
    this.lossesAtSize = 0;
    this.triedCeiling = false;
    this.startAt = undefined;
    this.chances = 0;
  }

  /**
   * Whether probing may start at `now` (ms): the first call, the moment the sender could first
   * probe, fixes the start START_DELAY_RTTS x `smoothedRtt` (at least MIN_START_DELAY) later; the
   * START_AFTER_CHANCES-th call allows it whatever the time.
   */
  probeAllowed(now: number, smoothedRtt: number): boolean {
    this.startAt ??= now + Math.max(START_DELAY_RTTS * smoothedRtt, MIN_START_DELAY);
    return now >= this.startAt || ++this.chances >= START_AFTER_CHANCES;
  }

  /** The peer's max_udp_payload_size (RFC 9000 §18.2) caps the search. */
  limit(max: number): void {
    this.peerMax = max;
    this.high = Math.max(this._current, Math.min(this.high, max));
  }

  get done(): boolean {
    return this.high - this._current < SEARCH_PRECISION;
  }

  /**
   * The size to probe next, when no probe is outstanding and the search is not over. The first
   * probe tries the ceiling (on loopback it succeeds at once), then the search halves the interval.
   */
  nextProbe(): number | undefined {
    if (this.probing !== undefined || this.done) return undefined;
    return this.triedCeiling ? Math.floor((this._current + this.high + 1) / 2) : this.high;
  }

  onProbeSent(size: number): void {
    this.triedCeiling = true;
    this.probing = size;
  }

  onProbeAcked(size: number): void {
    if (size > this._current) this._current = size;
    if (this.probing === size) this.probing = undefined;
    this.lossesAtSize = 0;
  }

  onProbeLost(size: number): void {
    if (this.probing === size) this.probing = undefined;
    // The ceiling is tried once (a guess); an intermediate size gets MAX_PROBES chances.
    if (size === this.high || ++this.lossesAtSize >= MAX_PROBES) {
      this.high = Math.max(this._current, size - 1);
      this.lossesAtSize = 0;
    }
  }
}
