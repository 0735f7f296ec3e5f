/**
 * Transport settings of a connection, their defaults, and the transport parameters they produce
 * (RFC 9000 §18.2).
 */
import type { Millis } from '../util/time.js';
import type { TransportParameters } from '../wire/transport-parameters.js';

export type CongestionControlAlgorithm = 'cubic' | 'newreno';

export interface TransportOptions {
  /** Our max_idle_timeout (ms). The effective timeout is the minimum of both sides' (RFC 9000 §10.1). */
  maxIdleTimeout: Millis;
  /** Give up a handshake that has not completed after this long. */
  handshakeTimeout: Millis;
  /** Initial connection-level receive window (initial_max_data). */
  initialMaxData: number;
  /** Initial per-stream receive window, for all three stream kinds. */
  initialMaxStreamData: number;
  /** Auto-tuning ceilings of the receive windows. */
  maxConnectionReceiveWindow: number;
  maxStreamReceiveWindow: number;
  /** How many streams of each kind the peer may open (initial_max_streams_bidi/uni). */
  maxStreamsBidi: number;
  maxStreamsUni: number;
  /** Per-stream send buffer before write() asks the caller to wait. */
  sendBufferSize: number;
  /** Send buffer of all streams together before writes wait, however many streams write. */
  connectionSendBufferSize: number;
  ackDelayExponent: number;
  /** Our max_ack_delay (ms). */
  maxAckDelay: Millis;
  activeConnectionIdLimit: number;
  /** Enables DATAGRAM frames (RFC 9221) when set: the largest frame we accept. */
  maxDatagramFrameSize: number | undefined;
  /** Largest UDP payload we are willing to receive (max_udp_payload_size). */
  maxUdpPayloadSize: number;
  /** UDP payload size we start with (further limited by the peer's max_udp_payload_size). */
  maxDatagramSize: number;
  /**
   * Ceiling for PMTU discovery (RFC 9000 §14.3): after the handshake, datagrams larger than
   * maxDatagramSize are probed up to this size. 0 (or a value not above maxDatagramSize) disables it.
   */
  mtuDiscoveryMax: number;
  congestionControl: CongestionControlAlgorithm;
  /**
   * The initial congestion window in datagrams of maxDatagramSize; 0 (the default) for RFC 9002
   * §7.2's, min(10 x max_datagram_size, max(14720 bytes, 2 x max_datagram_size)).
   */
  initialCongestionWindow: number;
  /** Initiate a 1-RTT key update after this many packets sent in one key phase (RFC 9001 §6). */
  keyUpdateInterval: number;
  /** Send a PING when nothing was sent for this long, to keep the connection alive; 0 = off. */
  keepAlivePeriod: Millis;
  /** Length of the connection IDs we issue (RFC 9000 §5.1). */
  connectionIdLength: number;
  /**
   * RTT assumed before the first sample (RFC 9002 §6.2.2). Default 100 ms, as quic-go and Chromium
   * use, rather than the RFC's 333 ms: the first PTO comes after 300 ms instead of 1 s, so a client
   * whose first datagrams are lost gets enough tries in before handshakeTimeout; the price is a
   * spurious probe on paths slower than ~100 ms RTT (docs/recovery.md).
   */
  initialRtt: Millis;
}

export const DEFAULT_TRANSPORT_OPTIONS: Readonly<TransportOptions> = {
  maxIdleTimeout: 30_000,
  handshakeTimeout: 10_000,
  initialMaxData: 1024 * 1024,
  initialMaxStreamData: 512 * 1024,
  maxConnectionReceiveWindow: 24 * 1024 * 1024,
  maxStreamReceiveWindow: 16 * 1024 * 1024,
  maxStreamsBidi: 100,
  maxStreamsUni: 100,
  sendBufferSize: 1024 * 1024,
  connectionSendBufferSize: 8 * 1024 * 1024,
  ackDelayExponent: 3,
  maxAckDelay: 25,
  activeConnectionIdLimit: 4,
  maxDatagramFrameSize: undefined,
  maxUdpPayloadSize: 65527,
  maxDatagramSize: 1252,
  mtuDiscoveryMax: 1452,
  congestionControl: 'cubic',
  initialCongestionWindow: 0,
  keyUpdateInterval: 1_000_000,
  keepAlivePeriod: 0,
  connectionIdLength: 8,
  initialRtt: 100,
};

/** The options given, each missing (undefined) one from `DEFAULT_TRANSPORT_OPTIONS`. */
export function resolveTransportOptions(partial: Partial<TransportOptions> | undefined): TransportOptions {
  if (partial !== undefined && sharedOptions.has(partial)) return partial as TransportOptions;
  const p = partial ?? NO_OPTIONS;
  const d = DEFAULT_TRANSPORT_OPTIONS;
  // Every field named, not a spread of the defaults and a loop over the given entries: in Node 20 a
  // spread literal takes V8's slow path (about 2 us here), and every connection resolves its options
  // (issue 13). Only undefined falls back to the default, as before: anything else is validated.
  const o: TransportOptions = {
    maxIdleTimeout: p.maxIdleTimeout === undefined ? d.maxIdleTimeout : p.maxIdleTimeout,
    handshakeTimeout: p.handshakeTimeout === undefined ? d.handshakeTimeout : p.handshakeTimeout,
    initialMaxData: p.initialMaxData === undefined ? d.initialMaxData : p.initialMaxData,
    initialMaxStreamData:
      p.initialMaxStreamData === undefined ? d.initialMaxStreamData : p.initialMaxStreamData,
    maxConnectionReceiveWindow:
      p.maxConnectionReceiveWindow === undefined
        ? d.maxConnectionReceiveWindow
        : p.maxConnectionReceiveWindow,
    maxStreamReceiveWindow:
      p.maxStreamReceiveWindow === undefined ? d.maxStreamReceiveWindow : p.maxStreamReceiveWindow,
    maxStreamsBidi: p.maxStreamsBidi === undefined ? d.maxStreamsBidi : p.maxStreamsBidi,
    maxStreamsUni: p.maxStreamsUni === undefined ? d.maxStreamsUni : p.maxStreamsUni,
    sendBufferSize: p.sendBufferSize === undefined ? d.sendBufferSize : p.sendBufferSize,
    connectionSendBufferSize:
      p.connectionSendBufferSize === undefined ? d.connectionSendBufferSize : p.connectionSendBufferSize,
    ackDelayExponent: p.ackDelayExponent === undefined ? d.ackDelayExponent : p.ackDelayExponent,
    maxAckDelay: p.maxAckDelay === undefined ? d.maxAckDelay : p.maxAckDelay,
    activeConnectionIdLimit:
      p.activeConnectionIdLimit === undefined ? d.activeConnectionIdLimit : p.activeConnectionIdLimit,
    maxDatagramFrameSize:
      p.maxDatagramFrameSize === undefined ? d.maxDatagramFrameSize : p.maxDatagramFrameSize,
    maxUdpPayloadSize: p.maxUdpPayloadSize === undefined ? d.maxUdpPayloadSize : p.maxUdpPayloadSize,
    maxDatagramSize: p.maxDatagramSize === undefined ? d.maxDatagramSize : p.maxDatagramSize,
    mtuDiscoveryMax: p.mtuDiscoveryMax === undefined ? d.mtuDiscoveryMax : p.mtuDiscoveryMax,
    congestionControl: p.congestionControl === undefined ? d.congestionControl : p.congestionControl,
    initialCongestionWindow:
      p.initialCongestionWindow === undefined ? d.initialCongestionWindow : p.initialCongestionWindow,
    keyUpdateInterval: p.keyUpdateInterval === undefined ? d.keyUpdateInterval : p.keyUpdateInterval,
    keepAlivePeriod: p.keepAlivePeriod === undefined ? d.keepAlivePeriod : p.keepAlivePeriod,
    connectionIdLength: p.connectionIdLength === undefined ? d.connectionIdLength : p.connectionIdLength,
    initialRtt: p.initialRtt === undefined ? d.initialRtt : p.initialRtt,
  };
  validateTransportOptions(o);
  return o;
}

const NO_OPTIONS: Partial<TransportOptions> = Object.freeze({});

function need(ok: boolean, what: string): void {
  if (!ok) throw new RangeError(`invalid transport option: ${what}`);
}

function nonNegInt(v: number): boolean {
  return Number.isSafeInteger(v) && v >= 0;
}

/** Bad options are programming errors of the caller: a RangeError naming the option. */
function validateTransportOptions(o: TransportOptions): void {
  // Values sent as transport parameters are varints: whole numbers (RFC 9000 §18.2).
  need(nonNegInt(o.maxIdleTimeout), 'maxIdleTimeout must be an integer >= 0');
  need(o.handshakeTimeout > 0, 'handshakeTimeout must be > 0');
  need(nonNegInt(o.initialMaxData), 'initialMaxData');
  need(nonNegInt(o.initialMaxStreamData), 'initialMaxStreamData');
  need(o.maxConnectionReceiveWindow >= o.initialMaxData, 'maxConnectionReceiveWindow < initialMaxData');
  need(o.maxStreamReceiveWindow >= o.initialMaxStreamData, 'maxStreamReceiveWindow < initialMaxStreamData');
  need(nonNegInt(o.maxStreamsBidi) && o.maxStreamsBidi <= 2 ** 60, 'maxStreamsBidi');
  need(nonNegInt(o.maxStreamsUni) && o.maxStreamsUni <= 2 ** 60, 'maxStreamsUni');
  need(o.sendBufferSize > 0, 'sendBufferSize');
  need(nonNegInt(o.connectionSendBufferSize) && o.connectionSendBufferSize > 0, 'connectionSendBufferSize');
  need(nonNegInt(o.ackDelayExponent) && o.ackDelayExponent <= 20, 'ackDelayExponent must be <= 20');
  need(nonNegInt(o.maxAckDelay) && o.maxAckDelay < 2 ** 14, 'maxAckDelay must be an integer < 2^14');
  need(
    nonNegInt(o.activeConnectionIdLimit) && o.activeConnectionIdLimit >= 2,
    'activeConnectionIdLimit >= 2',
  );
  need(
    Number.isInteger(o.maxUdpPayloadSize) && o.maxUdpPayloadSize >= 1200 && o.maxUdpPayloadSize <= 65527,
    'maxUdpPayloadSize in [1200, 65527]',
  );
  need(
    Number.isInteger(o.maxDatagramSize) && o.maxDatagramSize >= 1200 && o.maxDatagramSize <= 16383,
    'maxDatagramSize in [1200, 16383]',
  );
  // A ceiling below maxDatagramSize simply means nothing larger is probed.
  need(
    o.mtuDiscoveryMax === 0 ||
      (Number.isInteger(o.mtuDiscoveryMax) && o.mtuDiscoveryMax >= 1200 && o.mtuDiscoveryMax <= 16383),
    'mtuDiscoveryMax is 0 or in [1200, 16383]',
  );
  need(o.congestionControl === 'cubic' || o.congestionControl === 'newreno', 'congestionControl');
  need(
    o.initialCongestionWindow === 0 ||
      (nonNegInt(o.initialCongestionWindow) && o.initialCongestionWindow >= 2),
    'initialCongestionWindow must be 0 or an integer >= 2',
  );
  need(nonNegInt(o.keyUpdateInterval) && o.keyUpdateInterval > 0, 'keyUpdateInterval > 0');
  need(o.keepAlivePeriod >= 0, 'keepAlivePeriod >= 0');
  need(
    nonNegInt(o.connectionIdLength) && o.connectionIdLength >= 4 && o.connectionIdLength <= 20,
    'connectionIdLength in [4, 20]',
  );
  need(o.initialRtt > 0 && Number.isFinite(o.initialRtt), 'initialRtt > 0');
  if (o.maxDatagramFrameSize !== undefined) need(nonNegInt(o.maxDatagramFrameSize), 'maxDatagramFrameSize');
}

/** The connection IDs and token a connection's own transport parameters carry (RFC 9000 §7.3). */
export type LocalConnectionIdParameters = Pick<
  TransportParameters,
  | 'initialSourceConnectionId'
  | 'originalDestinationConnectionId'
  | 'retrySourceConnectionId'
  | 'statelessResetToken'
>;

/**
 * Our transport parameters: the options' limits, and the connection's IDs and token when given.
 * Built field by field: an object spread followed by more fields takes V8's slow path in Node 20
 * (0.5-2 µs each; issue 13), and every connection builds these a few times.
 */
export function localTransportParameters(
  o: TransportOptions,
  ids?: LocalConnectionIdParameters,
): TransportParameters {
  // An absent optional parameter is undefined, which the encoder skips.
  return {
    maxIdleTimeout: o.maxIdleTimeout,
    maxUdpPayloadSize: o.maxUdpPayloadSize,
    initialMaxData: o.initialMaxData,
    initialMaxStreamDataBidiLocal: o.initialMaxStreamData,
    initialMaxStreamDataBidiRemote: o.initialMaxStreamData,
    initialMaxStreamDataUni: o.initialMaxStreamData,
    initialMaxStreamsBidi: o.maxStreamsBidi,
    initialMaxStreamsUni: o.maxStreamsUni,
    ackDelayExponent: o.ackDelayExponent,
    maxAckDelay: o.maxAckDelay,
    disableActiveMigration: true,
    activeConnectionIdLimit: o.activeConnectionIdLimit,
    maxDatagramFrameSize: o.maxDatagramFrameSize,
    originalDestinationConnectionId: ids?.originalDestinationConnectionId,
    initialSourceConnectionId: ids?.initialSourceConnectionId,
    retrySourceConnectionId: ids?.retrySourceConnectionId,
    statelessResetToken: ids?.statelessResetToken,
  };
}

const optionParameters = new WeakMap<TransportOptions, Readonly<TransportParameters>>();

/**
 * The transport parameters of the options alone (no connection IDs), as `localTransportParameters(o)`
 * gives them, made once per options object: a server's TLS engine remembers them in its tickets, its
 * 0-RTT check compares a ticket's against them, and each epoch takes its flow limits from them, on
 * every connection (issue 13). Frozen: shared by the connections of one set of options.
 */
export function optionTransportParameters(o: TransportOptions): Readonly<TransportParameters> {
  let p = optionParameters.get(o);
  if (p === undefined) {
    p = Object.freeze(localTransportParameters(o));
    // Only shared (frozen) options: a mutable object could change under the cached parameters.
    if (sharedOptions.has(o)) optionParameters.set(o, p);
  }
  return p;
}

/**
 * Options objects resolved and validated by sharedTransportOptions(), frozen: resolveTransportOptions()
 * hands them back as they are.
 */
const sharedOptions = new WeakSet<object>();

/**
 * Resolved options for many connections to share (an endpoint's accepted connections): frozen, and
 * taken as they are by resolveTransportOptions(), so a connection created with them neither copies
 * the 23 defaults nor checks them again (issue 13: a few µs per connection).
 */
export function sharedTransportOptions(
  partial: Partial<TransportOptions> | undefined,
): Readonly<TransportOptions> {
  const o = Object.freeze(resolveTransportOptions(partial));
  sharedOptions.add(o);
  return o;
}
