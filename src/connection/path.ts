/**
 * One network path to the peer (RFC 9000 §9): the peer's address as the endpoint sees it, whether
 * that address is validated, the anti-amplification counters that limit what may be sent to it until
 * it is (RFC 9000 §8.1, §9.3.1), the PATH_RESPONSE frames owed on it (§8.2.2), the peer connection
 * ID used toward it (§9.5) and, while one runs, its validation (path-validator.ts).
 *
 * The core treats an address as an opaque string formatted by the shell ("192.0.2.1:443",
 * "[2001:db8::1]:443"); `sameHost` only relies on the port coming last, after a colon.
 */
import type { PathValidator } from './path-validator.js';

/** RFC 9000 §8.1: before validation, at most three times the bytes received may be sent. */
export const AMPLIFICATION_FACTOR = 3;
/** PATH_RESPONSE frames owed on one path; more challenges are dropped (the peer repeats them). */
const MAX_PENDING_RESPONSES = 4;

export class Path {
  private received = 0;
  private sent = 0;
  private _validated: boolean;
  /** PATH_CHALLENGE data received on this path, to echo in PATH_RESPONSE frames sent on it. */
  private readonly responses: Uint8Array[] = [];
  private _cidSequence: number | undefined;
  private _validator: PathValidator | undefined;
  private _mtuValidated: boolean;

  constructor(
    readonly address: string,
    validated: boolean,
  ) {
    this._validated = validated;
    this._mtuValidated = validated;
  }

  /**
   * The peer's connection ID (sequence number) for packets sent on this path, when the path has one
   * of its own (RFC 9000 §9.5); undefined for the path the connection started on.
   */
  get cidSequence(): number | undefined {
    return this._cidSequence;
  }

  /** Packets on this path go to the peer's connection ID with this sequence number (§9.5). */
  useCid(sequence: number): void {
    this._cidSequence = sequence;
  }

  /** The validation in progress, if any. */
  get validator(): PathValidator | undefined {
    return this._validator;
  }

  /** A validation of this path starts (RFC 9000 §8.2), replacing any earlier one. */
  startValidation(validator: PathValidator): void {
    this._validator = validator;
  }

  /** The validation in progress ended: succeeded, failed or abandoned. */
  endValidation(): void {
    this._validator = undefined;
  }

  /** A PATH_RESPONSE answered a challenge sent in a datagram of at least 1200 bytes (§8.2.1). */
  get mtuValidated(): boolean {
    return this._mtuValidated;
  }

  /** The peer proved it receives at this address (RFC 9000 §8). */
  get validated(): boolean {
    return this._validated;
  }

  /**
   * The address is validated; `mtuChecked` when the proof also showed that 1200-byte datagrams get
   * through (a padded PATH_CHALLENGE answered, or the first path's handshake: §8.2.1, §14.1).
   */
  markValidated(mtuChecked: boolean): void {
    this._validated = true;
    if (mtuChecked) this._mtuValidated = true;
  }

  get bytesReceived(): number {
    return this.received;
  }

  get bytesSent(): number {
    return this.sent;
  }

  onDatagramReceived(bytes: number): void {
    this.received += bytes;
  }

  onDatagramSent(bytes: number): void {
    this.sent += bytes;
  }

  /** Bytes that may still be sent on this path: unlimited once validated, else 3x received minus sent. */
  get allowance(): number {
    if (this._validated) return Number.POSITIVE_INFINITY;
    return Math.max(0, AMPLIFICATION_FACTOR * this.received - this.sent);
  }

  /** RFC 9000 §8.2.2: every PATH_CHALLENGE gets one PATH_RESPONSE, on the path it arrived on. */
  queueResponse(data: Uint8Array): void {
    if (this.responses.length < MAX_PENDING_RESPONSES) this.responses.push(new Uint8Array(data));
  }

  get hasResponses(): boolean {
    return this.responses.length > 0;
  }

  /** The next PATH_RESPONSE data to send (each is sent once, never retransmitted: §13.3). */
  takeResponse(): Uint8Array | undefined {
    return this.responses.shift();
  }
}

/**
 * Whether two addresses differ at most in their port (RFC 9000 §9.4: a port-only change is most
 * likely NAT rebinding, and congestion state may be kept).
 */
export function sameHost(a: string, b: string): boolean {
  const i = a.lastIndexOf(':');
  const j = b.lastIndexOf(':');
  if (i < 0 || j < 0) return a === b;
  return a.slice(0, i) === b.slice(0, j);
}
