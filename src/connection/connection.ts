/**
 * The QUIC connection state machine (RFC 9000, RFC 9001, RFC 9002), sans-IO.
 *
 * Datagrams and time go in (`receive`, `handleTimeout`); datagrams, a timeout and events come out
 * (`transmit`, `nextTimeout`, `pollEvent`). Nothing here reads a clock, sets a timer or touches a
 * socket: the Node shell and the simulator drive it the same way.
 *
 * The work is split by concern: `ConnectionSender` fills datagrams, `ConnectionReceiver` opens
 * packets and dispatches frames, `HandshakeDriver`-like logic (TLS events) lives here because it
 * ties keys, transport parameters and stream epochs together.
 */
import { deriveInitialKeys, type PacketKeys, type PreparedInitialKeys } from '../crypto/packet-keys.js';
import { cryptoErrorCode, QuicTransportError, TransportErrorCode } from '../errors/transport-error.js';
import { Cubic } from '../recovery/cubic.js';
import { LossDetector } from '../recovery/loss-detector.js';
import { NewReno } from '../recovery/new-reno.js';
import { Pacer } from '../recovery/pacer.js';
import { RttEstimator } from '../recovery/rtt-estimator.js';
import { type CongestionController, PacketNumberSpace } from '../recovery/types.js';
import { TlsAlertError } from '../tls/alert.js';
import type { KeyShareSource } from '../tls/key-exchange.js';
import { EncryptionLevel, type TlsEngine } from '../tls/types.js';
import type { RandomBytes } from '../util/random.js';
import type { Millis } from '../util/time.js';
import type { TransportParameters } from '../wire/transport-parameters.js';
import { QUIC_V1 } from '../wire/version.js';
import { ClosingRemnant } from './closing-remnant.js';
import type { ConnectionConfig, FrameTraceEvent, PacketDropTraceEvent } from './connection-config.js';
import type { CloseInfo, ConnectionEvent } from './connection-events.js';
import { type EarlyDataState, HandshakeDriver } from './connection-handshake.js';
import {
  localTransportParameters,
  resolveTransportOptions,
  type TransportOptions,
} from './connection-options.js';
import { ConnectionPaths } from './connection-paths.js';
import { type ClientPackets, ConnectionReceiver, type ReceiverHost } from './connection-receiver.js';
import { ConnectionRecovery } from './connection-recovery.js';
import { ClientRole, type ConnectionRole, type Role, ServerRole } from './connection-role.js';
import { ConnectionSender } from './connection-sender.js';
import {
  type ConnectionLifecycle,
  type ConnectionState,
  closeDeadlineOf,
  closed,
  closeInfoOf,
  closing,
  draining,
  established,
  HANDSHAKE,
  isClosedState,
} from './connection-state.js';
import { datagramPayloadLimit } from './datagram-limits.js';
import { ConnectionEventQueue } from './event-queue.js';
import { Framer } from './framer.js';
import { LocalConnectionIds } from './local-connection-ids.js';
import { MtuDiscovery } from './mtu-discovery.js';
import type { OneRttKeys } from './one-rtt-keys.js';
import { MIN_INITIAL_DATAGRAM } from './packet-packer.js';
import { discardedSpace, PacketSpace } from './packet-space.js';
import type { Path } from './path.js';
import { PathsView } from './paths-view.js';
import { PeerConnectionIds } from './peer-connection-ids.js';
import { ReceiverView } from './receiver-view.js';
import { RecoveryReporter } from './recovery-trace.js';
import type { SentPacketPayload } from './sent-frames.js';
import type { StreamEpoch } from './stream-epoch.js';
import { ALL_TIMERS, Timer, TimerTable } from './timer-table.js';
import { TrafficCounters } from './traffic-counters.js';

/** The token of a server's packets (RFC 9000 §17.2.2: a server's Initial carries none). */
const NO_TOKEN = new Uint8Array(0);

export type {
  ClientConnectionConfig,
  ClientTlsOptions,
  ConnectionConfig,
  FrameTraceEvent,
  PacketDropReason,
  PacketDropTraceEvent,
  ServerConnectionConfig,
  ServerTlsOptions,
} from './connection-config.js';

/** What became of a DATAGRAM the application asked to send (Connection.sendDatagram). */
export type DatagramSendResult =
  /** Queued; it goes out when the congestion window allows (and may still be lost). */
  | 'queued'
  /** The send queue is full: dropped. */
  | 'queue-full'
  /** The peer does not accept DATAGRAM frames (RFC 9221 §3). */
  | 'unsupported'
  /** Larger than datagramPayloadLimit(). */
  | 'too-large'
  /** The epoch is dead (0-RTT rejected). */
  | 'rejected'
  /** The connection is closing or closed. */
  | 'closed';

export type { ConnectionState } from './connection-state.js';

/**
 * Counters and estimates of one connection (`QuicConnection.stats()`), like quic-go's
 * ConnectionStats. Times are in milliseconds; byte counts are UDP payload bytes.
 */
export interface ConnectionStats {
  /** QUIC packets sent (several may share one UDP datagram), including retransmissions and probes. */
  packetsSent: number;
  /** QUIC packets received and decrypted. */
  packetsReceived: number;
  /** UDP payload bytes sent. */
  bytesSent: number;
  /** UDP payload bytes received (including datagrams that were then dropped). */
  bytesReceived: number;
  /** Packets declared lost (RFC 9002 §6.1); PMTU probes are not counted. */
  packetsLost: number;
  /** Bytes of the packets declared lost. */
  bytesLost: number;
  /** 1-RTT key updates (RFC 9001 §6), by either side. */
  keyUpdates: number;
  /** Smoothed RTT (RFC 9002 §5.3); the initialRtt option (100 ms by default) until the first sample. */
  smoothedRtt: Millis;
  /** Most recent RTT sample; 0 before the first. */
  latestRtt: Millis;
  /** Minimum RTT seen (RFC 9002 §5.2); 0 before the first sample. */
  minRtt: Millis;
  /** RTT variation (rttvar, RFC 9002 §5.3). */
  rttVariance: Millis;
  /** Congestion window in bytes (RFC 9002 §7). */
  congestionWindow: number;
  /** Bytes sent and not yet acknowledged or declared lost. */
  bytesInFlight: number;
  /** Stream bytes held until the peer acknowledges them, all streams together (<= connectionSendBufferSize). */
  sendBufferedBytes: number;
}

export class Connection {
  /** Client or server, with what only that side has (connection-role.ts). */
  private readonly side: ConnectionRole;
  private _version: number;
  readonly options: TransportOptions;
  readonly random: RandomBytes;
  readonly keyShares: KeyShareSource | undefined;
  /** Handshake, established, closing, draining or closed, with the close reason and deadline. */
  private lifecycle: ConnectionLifecycle = HANDSHAKE;

  // ---- handshake and keys: owned by `handshake` (connection-handshake.ts) ----
  readonly spaces: [PacketSpace, PacketSpace, PacketSpace];

  // ---- connection IDs ----
  readonly localCids: LocalConnectionIds;
  readonly peerCids: PeerConnectionIds;

  // ---- recovery ----
  readonly rtt: RttEstimator;
  readonly congestion: CongestionController;
  readonly pacer: Pacer;
  readonly lossDetector: LossDetector<SentPacketPayload>;
  /** The datagram size for 1-RTT packets, raised by PMTU discovery (RFC 9000 §14.3). */
  readonly mtu: MtuDiscovery;

  // ---- paths: address validation, amplification limits, migration (RFC 9000 §8, §9) ----
  readonly paths: ConnectionPaths;

  // ---- timers: every deadline is in `timers` (timer-table.ts), written when state changes ----
  private readonly timers = new TimerTable();
  /**
   * An input changed state since the table was last written: the next read (nextTimeout,
   * handleTimeout, deadlineOf) writes it first. Deadlines depend on state only, so writing once
   * before a read gives what writing after every input gave, at one write per read instead of per
   * datagram (a driver reads once per batch or event-loop turn; issue 13).
   */
  private timersStale = true;
  private readonly createdAt: Millis;
  private lastActivity: Millis;
  private lastSendTime: Millis;
  private ackElicitingSentSinceReceive = false;

  readonly trace: ((e: FrameTraceEvent) => void) | undefined;
  readonly dropTrace: ((e: PacketDropTraceEvent) => void) | undefined;
  /** Set when a recovery trace hook is configured (qlog). */
  readonly recoveryReporter: RecoveryReporter | undefined;
  /** Connection events, merged with the current epoch's stream events in the order they happened. */
  private readonly events = new ConnectionEventQueue(this);
  /** The control frames waiting to be sent and what goes in a packet (framer.ts). */
  readonly framer: Framer;
  readonly sender: ConnectionSender;
  readonly receiver: ConnectionReceiver;
  readonly handshake: HandshakeDriver;
  readonly recovery: ConnectionRecovery;
  /** Packets and bytes sent, received and lost (the counts of ConnectionStats). */
  readonly counters = new TrafficCounters();

  /**
   * Our transport parameters (the peer's: `handshake`), made on each use: the handshake encodes them
   * once, and a connection does not keep the object (~0.8 KiB, issue 13 idle memory).
   * RFC 9000 §7.3: both sides name their first source CID; a server also the client's first
   * destination CID, the Retry's source CID if it sent one, and its stateless reset token (§18.2).
   */
  get localParams(): TransportParameters {
    const side = this.side;
    const localCid = this.localCids.initialCid;
    return localTransportParameters(
      this.options,
      side.kind === 'client'
        ? { initialSourceConnectionId: localCid }
        : {
            initialSourceConnectionId: localCid,
            originalDestinationConnectionId: side.originalDcid,
            ...(side.retrySourceCid ? { retrySourceConnectionId: side.retrySourceCid } : {}),
            statelessResetToken: this.localCids.initialResetToken,
          },
    );
  }

  constructor(config: ConnectionConfig) {
    this.options = resolveTransportOptions(config.transport);
    this.random = config.random;
    this.keyShares = config.keyShares;
    this.trace = config.trace;
    this.dropTrace = config.dropTrace;
    this.createdAt = config.now;
    this.lastActivity = config.now;
    this.lastSendTime = config.now;

    const o = this.options;
    const localCid = config.localCid ?? config.random(o.connectionIdLength);
    // Before the role: the random draws keep their order (a test's reset tokens may draw too).
    this.localCids = new LocalConnectionIds({
      initial: localCid,
      cidLength: o.connectionIdLength,
      random: config.random,
      resetToken: config.statelessResetToken,
    });
    this._version = config.version ?? QUIC_V1;
    // RFC 9000 §7.2: the client's first DCID is unpredictable and at least 8 bytes (drawn ahead with
    // its Initial keys when the driver prepares them, else now).
    let prepared: PreparedInitialKeys | undefined;
    let side: ClientRole | ServerRole;
    if (config.role === 'client') {
      prepared = config.initialKeys?.take(this._version);
      side = new ClientRole(config.tls, prepared?.dcid ?? config.random(8), config.token);
    } else {
      side = new ServerRole(config);
    }
    this.side = side;
    // RFC 9002 §6.2.2: a resumed connection may start from the RTT remembered with its ticket.
    const remembered = side.rememberedRtt;
    this.rtt = new RttEstimator(remembered !== undefined && remembered > 0 ? remembered : o.initialRtt);
    this.spaces = [
      new PacketSpace(PacketNumberSpace.Initial, o.maxAckDelay),
      new PacketSpace(PacketNumberSpace.Handshake, o.maxAckDelay),
      new PacketSpace(PacketNumberSpace.ApplicationData, o.maxAckDelay, this.rtt),
    ];
    this.congestion =
      o.congestionControl === 'newreno'
        ? new NewReno({ maxDatagramSize: o.maxDatagramSize, initialWindowPackets: o.initialCongestionWindow })
        : new Cubic({ maxDatagramSize: o.maxDatagramSize, initialWindowPackets: o.initialCongestionWindow });
    this.pacer = new Pacer({ maxDatagramSize: o.maxDatagramSize });
    this.mtu = new MtuDiscovery(
      o.maxDatagramSize,
      o.mtuDiscoveryMax === 0 ? o.maxDatagramSize : o.mtuDiscoveryMax,
    );
    this.lossDetector = new LossDetector<SentPacketPayload>({
      rtt: this.rtt,
      congestion: this.congestion,
      isServer: side.kind === 'server',
    });

    if (config.recoveryTrace) {
      this.recoveryReporter = new RecoveryReporter(
        config.recoveryTrace,
        this.rtt,
        this.congestion,
        this.lossDetector as LossDetector<unknown>,
      );
    }

    this.handshake = new HandshakeDriver(this, config.testRewriteTransportParameters);

    if (side.kind === 'client') {
      this.peerCids = new PeerConnectionIds(side.originalDcid, o.activeConnectionIdLimit);
      this.installInitialKeys(side.originalDcid, prepared);
      this.handshake.initClient(side.tls);
    } else {
      this.peerCids = new PeerConnectionIds(side.peerInitialScid, o.activeConnectionIdLimit);
      this.installInitialKeys(side.initialDcid, side.takeInitialKeys());
      this.handshake.initServer(side);
    }
    // The client chose the server's address; a server validates the client's (RFC 9000 §8.1).
    // A class view, not an object literal of methods: no closures kept per connection (issue 13).
    this.paths = new ConnectionPaths(
      new PathsView(this, side.kind, config.random, this.peerCids, config.pathTrace),
      config.remoteAddress,
      side.kind === 'client' || side.addressValidated,
    );
    this.framer = new Framer({ localCids: this.localCids, peerCids: this.peerCids });
    this.sender = new ConnectionSender(this);
    this.recovery = new ConnectionRecovery(this);
    this.receiver = new ConnectionReceiver(this.receiverHost());
    if (side.kind === 'server') this.receiver.expectOpened(side.takeFirstPacket());
    if (side.kind === 'client') this.handshake.startClient(config.now);
    this.rearmTimers();
  }

  /** Client or server. */
  get role(): Role {
    return this.side.kind;
  }

  // ===================================================================== public driving interface

  /**
   * A UDP datagram arrived from `from`. The connection takes `datagram` over: packets are opened in
   * place (header protection and payload) and stream data may stay a view of it until the
   * application reads it, so the caller must not write to it again (node:dgram gives a new buffer per
   * message; the simulator delivers copies).
   */
  receive(datagram: Uint8Array, from: string, now: Millis): void {
    if (this.state === 'draining' || this.state === 'closed') return;
    // RFC 9000 §9: a client discards packets from an address other than its server's.
    if (!this.paths.onDatagramReceived(from, datagram.length)) return;
    this.counters.onDatagramReceived(datagram.length);
    // In the closing state the receiver only attributes packets and answers at a limited rate
    // (RFC 9000 §10.2.1): connection-receiver.ts.
    // Per datagram: the guard's try/catch inline, without a closure (issue 13).
    if (this.releasePending) this.releaseDiscardedSpaces();
    try {
      this.receiver.receiveDatagram(datagram, from, now);
    } catch (err) {
      this.fail(err, now);
    }
    this.afterActivity(now);
    this.recoveryReporter?.update(now);
    this.onAllowanceChanged();
    this.rearmTimers();
  }

  /**
   * A datagram that no connection ID routes (RFC 9000 §10.3.1): is it a stateless reset for this
   * connection? If so the connection drains.
   */
  receiveStatelessReset(datagram: Uint8Array, now: Millis): boolean {
    if (this.isClosed) return false;
    const reset = this.receiver.checkStatelessReset(datagram, now);
    this.rearmTimers();
    return reset;
  }

  /**
   * The next datagram to send and the address it goes to (the current path, or a path being
   * validated or answered: RFC 9000 §8.2), or undefined (nothing to send, or limited: see nextTimeout).
   */
  transmitTo(now: Millis): { datagram: Uint8Array; to: string } | undefined {
    let out: { datagram: Uint8Array; path: Path } | undefined;
    // Per datagram: the guard's try/catch inline, without a closure (issue 13).
    if (this.releasePending) this.releaseDiscardedSpaces();
    try {
      out = this.sender.transmit(now);
    } catch (err) {
      this.fail(err, now);
    }
    if (!out) {
      // Nothing to send: the ACK and pacing timers say when to ask again.
      this.rearmTimers();
      return undefined;
    }
    const { datagram, path } = out;
    // A closing connection sends CONNECTION_CLOSE only: kept (a copy: the datagram's buffer is
    // reused) for the remnant that answers in its place (retire()).
    if (this.lifecycle.kind === 'closing') this.closeDatagram = new Uint8Array(datagram);
    this.recoveryReporter?.update(now);
    path.onDatagramSent(datagram.length);
    this.counters.onDatagramSent(datagram.length);
    this.lastSendTime = now;
    this.onAllowanceChanged();
    this.rearmTimers();
    return { datagram, to: path.address };
  }

  /** The next datagram to send, for a driver that talks to one peer address only (see transmitTo). */
  transmit(now: Millis): Uint8Array | undefined {
    return this.transmitTo(now)?.datagram;
  }

  /**
   * Whether a driver that batches received datagrams should send now instead of at the end of its
   * batch (RFC 9000 §13.2.1, §13.2.2): some space owes an immediate ACK or has `batchLimit`
   * ack-eliciting packets unacknowledged.
   */
  wantsAckNow(batchLimit: number): boolean {
    if (this.isClosed) return false;
    return this.spaces.some((s) => !s.discarded && s.acks.ackUrgent(batchLimit));
  }

  /**
   * The earliest time handleTimeout must be called, if any: the first deadline of the timer table.
   * A read: the table is written whenever the state its deadlines depend on changes (rearmTimers).
   */
  nextTimeout(): Millis | undefined {
    return this.currentTimers().next();
  }

  handleTimeout(now: Millis): void {
    this.currentTimers();
    this.onTimeout(now);
    // A failed path validation may have moved the connection back to another path.
    this.onAllowanceChanged();
    this.rearmTimers();
  }

  private onTimeout(now: Millis): void {
    // The ACK and pacing timers are served by transmit(), not here.
    const t = this.timers;
    if (this.state === 'closed') return;
    if (this.state === 'closing' || this.state === 'draining') {
      if (t.isExpired(Timer.Close, now)) this.terminate();
      return;
    }
    if (t.isExpired(Timer.Idle, now)) {
      // RFC 9000 §10.1: the connection is silently closed and its state discarded.
      this.abandon({
        source: 'idle-timeout',
        application: false,
        errorCode: TransportErrorCode.NO_ERROR,
        reason: 'idle timeout',
      });
      return;
    }
    if (t.isExpired(Timer.Handshake, now)) {
      this.abandon({
        source: 'handshake-timeout',
        application: false,
        errorCode: TransportErrorCode.NO_ERROR,
        reason: 'handshake timed out',
      });
      return;
    }
    this.guard(now, () => {
      if (t.isExpired(Timer.KeyDiscard, now)) this.oneRtt?.discardPreviousIfDue(now);
      if (t.isExpired(Timer.PathValidation, now)) this.paths.handleTimeout(now);
      if (t.isExpired(Timer.LossDetection, now)) this.recovery.onLossDetectionTimeout(now);
      if (t.isExpired(Timer.Probe, now))
        this.spaces[PacketNumberSpace.ApplicationData].releaseDeferredProbe(now);
      this.recoveryReporter?.update(now);
      if (t.isExpired(Timer.KeepAlive, now)) this.framer.queuePing();
    });
  }

  /**
   * Marks every timer for rewriting from the state its owner keeps; called at the end of each input
   * that changes state (construction, a datagram in or out, a timeout, a close). The table is
   * written from that state before its next read (currentTimers), so nextTimeout() and
   * handleTimeout() see every change of every input before it. Deadlines depend on state only,
   * never on the time of the call. Closing and draining have only their own timer.
   */
  private rearmTimers(): void {
    this.timersStale = true;
  }

  /** The timer table, written first if an input changed state since it was last written. */
  private currentTimers(): TimerTable {
    if (this.timersStale) {
      this.timersStale = false;
      this.writeTimers(this.timers);
    }
    return this.timers;
  }

  /**
   * For tests (a self-check, no side effects): whether the timer table a read would see is what the
   * owners' state says now, i.e. no input changed a deadline without marking the table for
   * rewriting. True while marked (the next read rewrites it); otherwise the table as last written
   * is compared with a fresh one.
   */
  timersCurrent(): boolean {
    if (this.timersStale) return true;
    const fresh = new TimerTable();
    this.writeTimers(fresh);
    return ALL_TIMERS.every((timer) => fresh.get(timer) === this.timers.get(timer));
  }

  /** The table's entry for `timer` (for tests and diagnostics). */
  deadlineOf(timer: Timer): Millis | undefined {
    return this.currentTimers().get(timer);
  }

  private writeTimers(t: TimerTable): void {
    const l = this.lifecycle;
    if (l.kind === 'closed' || l.kind === 'closing' || l.kind === 'draining') {
      t.clearAll();
      // RFC 9000 §10.2: the closing or draining period.
      if (l.kind !== 'closed') t.set(Timer.Close, l.deadline);
      return;
    }
    t.set(Timer.Close, undefined);
    t.set(Timer.Idle, this.idleDeadline());
    t.set(
      Timer.Handshake,
      this.handshakeComplete ? undefined : this.createdAt + this.options.handshakeTimeout,
    );
    t.set(Timer.LossDetection, this.lossDetector.lossDetectionTimeout());
    t.set(Timer.Probe, this.spaces[PacketNumberSpace.ApplicationData].deferredProbeAt);
    t.set(Timer.Pacing, this.sender.pacingTimeout());
    t.set(Timer.AckDelay, this.sender.ackTimeout());
    t.set(Timer.KeyDiscard, this.oneRtt?.previousReadDiscardAt);
    t.set(Timer.PathValidation, this.paths.nextTimeout());
    t.set(
      Timer.KeepAlive,
      this.options.keepAlivePeriod > 0 && this.handshakeComplete
        ? Math.max(this.lastSendTime, this.lastActivity) + this.options.keepAlivePeriod
        : undefined,
    );
  }

  /**
   * The current path's anti-amplification allowance changed (a datagram in or out, a validation, a
   * migration or a revert): a server that cannot send a full datagram arms no PTO (RFC 9002
   * §6.2.2.1). Pushed to the loss detector here, where the allowance changes, so that asking for
   * deadlines changes nothing. A validated path has no limit (RFC 9000 §8.2): the block is lifted,
   * or a server that migrated would never arm a PTO again.
   */
  private onAllowanceChanged(): void {
    const path = this.paths.current;
    this.lossDetector.setAmplificationBlocked(!path.validated && path.allowance < MIN_INITIAL_DATAGRAM);
  }

  pollEvent(): ConnectionEvent | undefined {
    return this.events.poll();
  }

  /** Close the connection with an application error code (RFC 9000 §10.2). */
  close(errorCode: number, reason: string, now: Millis): void {
    this.startClosing({ source: 'local', application: true, errorCode, reason }, now);
    this.rearmTimers();
  }

  /**
   * Queue a DATAGRAM frame (RFC 9221) on `epoch`. Only that epoch's queue is touched, so a datagram
   * of a rejected 0-RTT attempt can never go out on the connection that follows it.
   */
  sendDatagram(epoch: StreamEpoch, data: Uint8Array): DatagramSendResult {
    if (epoch.rejected || epoch !== this.epoch) return 'rejected';
    if (this.isClosed) return 'closed';
    const limit = this.datagramPayloadLimit(epoch);
    if (limit === undefined) return 'unsupported';
    if (data.length > limit) return 'too-large';
    return epoch.queueDatagram(data) ? 'queued' : 'queue-full';
  }

  /**
   * The largest DATAGRAM payload `epoch` may send now (RFC 9221 §3, §5): within the peer's
   * max_datagram_frame_size (remembered, for 0-RTT) and one packet at the current path MTU.
   * Undefined when the peer does not accept DATAGRAM frames.
   */
  datagramPayloadLimit(epoch: StreamEpoch): number | undefined {
    const zeroRtt = this.role === 'client' && epoch.early && !this.oneRtt;
    return datagramPayloadLimit(epoch.peerMaxDatagramFrameSize, this.maxDatagramSize, zeroRtt);
  }

  /** Client: DCID of our first Initial. Server: from the token or the first Initial. */
  get originalDcid(): Uint8Array {
    return this.side.originalDcid;
  }
  /** The SCID of the Retry the client followed (RFC 9000 §17.2.5.2), if any. */
  get retrySourceCid(): Uint8Array | undefined {
    return this.side.retrySourceCid;
  }
  /** Client: the server's SCID, learnt from its first packet. Server: the client's SCID. */
  get peerInitialScid(): Uint8Array | undefined {
    return this.side.peerInitialScid;
  }
  /** Client: the token our Initials carry (Retry or NEW_TOKEN, RFC 9000 §8.1). Server: empty. */
  get token(): Uint8Array {
    return this.side.kind === 'client' ? this.side.token : NO_TOKEN;
  }
  /** Client: a packet of the server arrived (no Version Negotiation or Retry is accepted after it). */
  get receivedServerPacket(): boolean {
    return this.side.kind === 'client' && this.side.receivedServerPacket;
  }

  /** The QUIC version in use (RFC 9000 §15; changed by Version Negotiation, §6). */
  get version(): number {
    return this._version;
  }

  // ---- read views of the handshake's state (owned by HandshakeDriver) ----
  get tls(): TlsEngine {
    return this.handshake.tls;
  }
  get oneRtt(): OneRttKeys | undefined {
    return this.handshake.oneRtt;
  }
  /** Client: 0-RTT write keys. Server: 0-RTT read keys. */
  get zeroRttKeys(): PacketKeys | undefined {
    return this.handshake.zeroRttKeys;
  }
  get handshakeComplete(): boolean {
    return this.handshake.complete;
  }
  get handshakeConfirmed(): boolean {
    return this.handshake.confirmed;
  }
  get alpn(): string | undefined {
    return this.handshake.alpn;
  }
  get peerCertificates(): Uint8Array[] {
    return this.handshake.peerCertificates;
  }
  get resumed(): boolean {
    return this.handshake.resumed;
  }
  /** Client: 0-RTT was offered; then accepted or rejected. Server: 0-RTT accepted. */
  get earlyDataState(): EarlyDataState {
    return this.handshake.earlyDataState;
  }
  get peerParams(): TransportParameters | undefined {
    return this.handshake.peerParams;
  }
  /** The current stream epoch (RFC 9000 §7.4.1: 0-RTT's, or the one after the handshake). */
  get epoch(): StreamEpoch | undefined {
    return this.handshake.epoch;
  }

  /** Where the connection is in its life (RFC 9000 §10). */
  get state(): ConnectionState {
    return this.lifecycle.kind;
  }

  /** Why the connection closes or closed; undefined while it is open. */
  get closeInfo(): CloseInfo | undefined {
    return closeInfoOf(this.lifecycle);
  }

  /** Until when a closing or draining connection lingers (RFC 9000 §10.2). */
  get closeDeadline(): Millis | undefined {
    return closeDeadlineOf(this.lifecycle);
  }

  get isClosed(): boolean {
    return isClosedState(this.lifecycle);
  }

  get isTerminated(): boolean {
    return this.state === 'closed';
  }

  /** The peer's address: where non-probing packets go (RFC 9000 §9). */
  get remoteAddress(): string {
    return this.paths.current.address;
  }

  /** Whether the current path's address is validated (RFC 9000 §8.1; always true for a client). */
  get addressValidated(): boolean {
    return this.paths.current.validated;
  }

  get localCid(): Uint8Array {
    return this.localCids.firstCid;
  }

  /** Whether 0-RTT data was sent and accepted (client) or received under accepted 0-RTT (server). */
  get used0RTT(): boolean {
    return this.earlyDataState === 'accepted';
  }

  /** CID routing changes for the endpoint (CIDs issued and retired). */
  takeRoutingChanges() {
    return this.localCids.takeRoutingChanges();
  }

  /** The effective maximum UDP payload we send: the discovered path MTU within the peer's limit. */
  get maxDatagramSize(): number {
    const peerMax = this.peerParams?.maxUdpPayloadSize ?? 65527;
    return Math.min(this.mtu.current, peerMax);
  }

  snapshotStats(): ConnectionStats {
    // Fields named, not spread: an object spread into a literal takes V8's slow path, about 10 us
    // per call (issue 13: the bench server reads every connection's stats when it ends).
    const t = this.counters.snapshot();
    return {
      packetsSent: t.packetsSent,
      packetsReceived: t.packetsReceived,
      bytesSent: t.bytesSent,
      bytesReceived: t.bytesReceived,
      packetsLost: t.packetsLost,
      bytesLost: t.bytesLost,
      keyUpdates: this.oneRtt?.updates ?? 0,
      smoothedRtt: this.rtt.smoothedRtt,
      latestRtt: this.rtt.latestRtt,
      minRtt: this.rtt.minRtt,
      rttVariance: this.rtt.rttVar,
      congestionWindow: this.congestion.congestionWindow,
      bytesInFlight: this.congestion.bytesInFlight,
      sendBufferedBytes: this.epoch?.builtStreams?.queuedSendBytes ?? 0,
    };
  }

  // ===================================================================== internals used by sender/receiver

  /** The receiver's view: each part from its owner, and the connection's answers to what it reports. */
  private receiverHost(): ReceiverHost {
    return new ReceiverView(this, {
      role: this.role,
      options: this.options,
      trace: this.trace,
      dropTrace: this.dropTrace,
      spaces: this.spaces,
      handshake: this.handshake,
      peerCids: this.peerCids,
      localCids: this.localCids,
      paths: this.paths,
      recovery: this.recovery,
      counters: this.counters,
      framer: this.framer,
      client: this.side.kind === 'client' ? this.clientPackets(this.side) : undefined,
    });
  }

  /** The client's first packets, Retry and Version Negotiation, as the receiver sees them. */
  private clientPackets(client: ClientRole): ClientPackets {
    const conn = this;
    return {
      get localCid() {
        return conn.localCid;
      },
      get originalDcid() {
        return client.originalDcid;
      },
      get retrySourceCid() {
        return client.retrySourceCid;
      },
      get receivedServerPacket() {
        return client.receivedServerPacket;
      },
      get canNegotiateVersion() {
        return client.canNegotiateVersion;
      },
      onFirstServerPacket: (scid) => this.peerCids.setInitial(client.onFirstServerPacket(scid)),
      onRetry: (scid, token) => this.onRetry(client, scid, token),
      restartWithVersion: (version, now) => this.restartWithVersion(client, version, now),
      abandon: (info) => this.abandon(info),
    };
  }

  /**
   * Server: a Handshake packet arrived from `from`. RFC 9000 §8.1: from the current path's address it
   * proves that address (no more amplification limit); RFC 9001 §4.9.1: the Initial keys go.
   */
  /** @internal For the receiver's and paths' views (receiver-view.ts, paths-view.ts). */
  onClientHandshakePacket(from: string, now: Millis): void {
    if (from === this.remoteAddress) {
      this.paths.validateCurrent();
      this.onAllowanceChanged();
    }
    this.discardSpace(PacketNumberSpace.Initial, now);
  }

  pushEvent(e: ConnectionEvent): void {
    this.events.push(e);
  }

  /** The PTO used for closing, draining and key discard periods. */
  ptoPeriod(): Millis {
    return this.rtt.pto(this.peerParams?.maxAckDelay ?? 25, true);
  }

  /** The PTO of a path without an RTT sample (RFC 9002 §6.2.2: kInitialRtt), for path validation. */
  initialPtoPeriod(): Millis {
    const rtt = this.options.initialRtt;
    return rtt + 4 * (rtt / 2) + (this.peerParams?.maxAckDelay ?? 25);
  }

  /**
   * A new address became the validated current path. RFC 9000 §9.4: unless only the port changed
   * (most likely NAT rebinding), congestion control, RTT and the path MTU start again. RFC 9000
   * §9.3: a server sends a new address validation token for the new address.
   */
  /** @internal For the receiver's and paths' views (receiver-view.ts, paths-view.ts). */
  onNewPathValidated(portOnly: boolean, now: Millis): void {
    if (!portOnly) {
      this.mtu.restart();
      this.congestion.setMaxDatagramSize(this.maxDatagramSize);
      this.pacer.setMaxDatagramSize(this.maxDatagramSize);
      this.lossDetector.onNewPath(now);
    }
    const token = this.side.kind === 'server' ? this.side.issueNewToken() : undefined;
    if (token) this.framer.queueNewToken(token);
  }

  /** RFC 9000 §9.3.2: no validated path is left: the connection ends without a word. */
  /** @internal For the receiver's and paths' views (receiver-view.ts, paths-view.ts). */
  closeSilently(reason: string): void {
    this.abandon({
      source: 'local',
      application: false,
      errorCode: TransportErrorCode.NO_VIABLE_PATH,
      reason,
    });
  }

  /** Run `fn`, turning protocol errors into an immediate close (RFC 9000 §10.2). */
  guard(now: Millis, fn: () => void): void {
    if (this.releasePending) this.releaseDiscardedSpaces();
    try {
      fn();
    } catch (err) {
      this.fail(err, now);
    }
  }

  /** What guard() does with an exception thrown while processing an input: the connection closes. */
  private fail(err: unknown, now: Millis): void {
    if (err instanceof QuicTransportError) {
      this.startClosing(
        {
          source: 'local',
          application: false,
          errorCode: err.errorCode,
          frameType: err.frameType ?? 0,
          reason: err.reason,
        },
        now,
      );
    } else if (err instanceof TlsAlertError) {
      this.startClosing(
        {
          source: 'local',
          application: false,
          errorCode: cryptoErrorCode(err.alert),
          reason: err.message,
          tlsAlert: err.alert,
        },
        now,
      );
    } else {
      // The reason phrase goes to the peer: the message of a bug (paths, internal state) does not.
      this.startClosing(
        {
          source: 'local',
          application: false,
          errorCode: TransportErrorCode.INTERNAL_ERROR,
          reason: 'internal error',
          internalError: err,
        },
        now,
      );
      // An internal error is a bug: keep it visible to tests and the shell.
      this.caughtErrors.push(err);
    }
  }

  private readonly caughtErrors: unknown[] = [];

  /** Unexpected exceptions caught while processing (bugs); tests assert this stays empty. */
  get internalErrors(): readonly unknown[] {
    return this.caughtErrors;
  }

  /** Enter the closing state and queue CONNECTION_CLOSE (RFC 9000 §10.2.1). */
  startClosing(info: CloseInfo, now: Millis): void {
    const next = closing(this.lifecycle, info, now + 3 * this.ptoPeriod());
    if (!next) return;
    this.lifecycle = next;
    this.framer.queueClose();
    this.events.push({ type: 'closed', info });
  }

  /** The last datagram sent while closing: our CONNECTION_CLOSE. */
  private closeDatagram: Uint8Array | undefined;

  /**
   * @internal For the endpoint: once a closing connection's CONNECTION_CLOSE is sent, or as soon as
   * it drains, the rest of the period (RFC 9000 §10.2) needs little of it: the remnant returned
   * (closing-remnant.ts) keeps that much, and the connection ends ('terminated') so that everything
   * else can go. Undefined, and nothing changes, in any other state.
   */
  retire(): ClosingRemnant | undefined {
    const l = this.lifecycle;
    let closeDatagram: Uint8Array | undefined;
    if (l.kind === 'closing') {
      if (this.framer.closePending || this.closeDatagram === undefined) return undefined;
      // RFC 9000 §8.1: to an address not validated yet, each answer counts against three times what
      // came from it; the connection's sender keeps that account, so such a connection stays whole
      // (a server closing during the handshake: rare, and short).
      if (!this.addressValidated) return undefined;
      closeDatagram = this.closeDatagram;
    } else if (l.kind !== 'draining') {
      return undefined;
    }
    const space = (s: PacketSpace) => ({
      discarded: s.discarded,
      readKeys: s.readKeys,
      largestReceived: s.acks.largestReceived,
    });
    const peerCids = this.peerCids;
    const remnant = new ClosingRemnant({
      role: this.role,
      version: this._version,
      connectionIdLength: this.options.connectionIdLength,
      maxDatagramFrameSize: this.options.maxDatagramFrameSize,
      deadline: l.deadline,
      peerAddress: this.paths.current.address,
      closeDatagram,
      spaces: [space(this.spaces[0]), space(this.spaces[1]), space(this.spaces[2])],
      oneRtt: this.handshake.oneRtt,
      handshakeComplete: this.handshake.complete,
      answers: this.receiver.closingAnswers,
      isStatelessResetToken: (token) => peerCids.isStatelessResetToken(token),
    });
    this.closeDatagram = undefined;
    this.terminate();
    this.rearmTimers();
    return remnant;
  }

  /** The peer closed (CONNECTION_CLOSE) or reset: enter draining (RFC 9000 §10.2.2). */
  /** @internal For the receiver's and paths' views (receiver-view.ts, paths-view.ts). */
  startDraining(info: CloseInfo, now: Millis): void {
    // RFC 9000 §10.2.2: draining entered from closing ends when closing would have ended.
    const l = this.lifecycle;
    const deadline = l.kind === 'closing' ? l.deadline : now + 3 * this.ptoPeriod();
    const next = draining(l, info, deadline);
    if (!next) return;
    const wasClosing = l.kind === 'closing';
    this.lifecycle = next;
    this.framer.clearClose();
    if (!wasClosing) this.events.push({ type: 'closed', info });
  }

  /**
   * The network says nothing listens at the peer's address (an ICMP port unreachable, which the shell
   * sees as ECONNREFUSED on a connected socket). Before the handshake has completed the attempt is
   * given up at once instead of waiting for the handshake timeout; afterwards ICMP is not trusted to
   * end a connection (it is unauthenticated, RFC 9000 §14.2.1 has the same caution for PMTU) and this
   * returns false.
   */
  peerUnreachable(reason: string): boolean {
    // Once the server has answered, a claim that nothing listens there is contradicted.
    if (this.handshakeComplete || this.isClosed || this.receivedServerPacket) return false;
    this.abandon({
      source: 'unreachable',
      application: false,
      errorCode: TransportErrorCode.NO_ERROR,
      reason,
    });
    return true;
  }

  /** Give up without sending anything (no common version, ...). */
  abandon(info: CloseInfo): void {
    if (this.state === 'closed') return;
    this.events.push({ type: 'closed', info });
    this.terminate(info);
    this.rearmTimers();
  }

  /** Closed for good; `info` replaces the reason of a closing or draining connection. */
  private terminate(info?: CloseInfo): void {
    const next = closed(this.lifecycle, info);
    if (!next) return;
    this.lifecycle = next;
    this.oneRtt?.releaseCiphers();
    this.events.push({ type: 'terminated' });
  }

  private idleDeadline(): Millis | undefined {
    // RFC 9000 §10.1: the minimum of both advertised values (0 = none), at least 3 PTO.
    const local = this.options.maxIdleTimeout;
    const peer = this.peerParams?.maxIdleTimeout ?? 0;
    let idle = local === 0 ? peer : peer === 0 ? local : Math.min(local, peer);
    if (idle === 0) return undefined;
    idle = Math.max(idle, 3 * this.ptoPeriod());
    return this.lastActivity + idle;
  }

  /** RFC 9000 §10.1: the idle timer restarts on receiving a packet, and on sending the first ack-eliciting one after that. */
  /** @internal For the receiver's and paths' views (receiver-view.ts, paths-view.ts). */
  onPacketProcessed(now: Millis): void {
    this.lastActivity = now;
    this.ackElicitingSentSinceReceive = false;
  }

  onAckElicitingSent(now: Millis): void {
    if (!this.ackElicitingSentSinceReceive) {
      this.lastActivity = Math.max(this.lastActivity, now);
      this.ackElicitingSentSinceReceive = true;
    }
  }

  private afterActivity(now: Millis): void {
    if (this.state === 'closing' && this.closeDeadline !== undefined && now >= this.closeDeadline) {
      this.terminate();
    }
  }

  // ===================================================================== the handshake driver's host

  /** TLS output at `level` goes into that space's CRYPTO stream (RFC 9001 §4.1.3). */
  writeCrypto(level: EncryptionLevel, data: Uint8Array): void {
    const space =
      level === EncryptionLevel.Initial
        ? this.spaces[0]
        : level === EncryptionLevel.Handshake
          ? this.spaces[1]
          : this.spaces[2];
    if (!space.discarded) space.crypto.write(data);
  }

  installHandshakeKeys(direction: 'read' | 'write', keys: PacketKeys): void {
    this.spaces[PacketNumberSpace.Handshake].installKeys(direction, keys);
    this.lossDetector.setHasHandshakeKeys(true);
  }

  /** RFC 9000 §7.3: the connection IDs in the peer's parameters must match what we saw. */
  acceptPeerParameters(params: TransportParameters): void {
    const side = this.side;
    if (side.kind === 'client') {
      side.checkPeerParameters(params, this.peerCids.current);
      if (params.statelessResetToken) this.peerCids.setInitialResetToken(params.statelessResetToken);
    } else {
      side.checkPeerParameters(params);
    }
    this.lossDetector.setPeerMaxAckDelay(params.maxAckDelay);
    this.mtu.limit(params.maxUdpPayloadSize);
  }

  discardZeroRttPackets(): void {
    this.lossDetector.discardPackets(PacketNumberSpace.ApplicationData, (p) => p.payload.zeroRtt);
  }

  onHandshakeComplete(): void {
    this.lifecycle = established(this.lifecycle);
    this.events.push({ type: 'handshake-complete' });
    if (this.side.kind === 'server') {
      // RFC 9001 §4.1.2: the server's handshake is confirmed when it completes.
      this.framer.queueHandshakeDone();
      this.onHandshakeConfirmed();
      const token = this.side.issueNewToken();
      if (token) this.framer.queueNewToken(token);
    } else {
      // RFC 9000 §5.1.1, §12.4: a client may issue its connection IDs as soon as it can send 1-RTT
      // packets, before the handshake is confirmed. Issued now, the NEW_CONNECTION_ID frame rides in
      // the datagram of the client's Finished instead of an ack-eliciting packet of its own after
      // HANDSHAKE_DONE, which the server would have to acknowledge (issue 13: 16 handshakes at once).
      this.localCids.replenish(this.peerParams?.activeConnectionIdLimit ?? 2);
    }
  }

  // ===================================================================== keys

  private installInitialKeys(dcid: Uint8Array, derived?: { client: PacketKeys; server: PacketKeys }): void {
    const keys = derived ?? deriveInitialKeys(this.version, dcid);
    const initial = this.spaces[PacketNumberSpace.Initial];
    initial.installKeys('write', this.role === 'client' ? keys.client : keys.server);
    initial.installKeys('read', this.role === 'client' ? keys.server : keys.client);
  }

  /** RFC 9001 §4.9.1 / §4.9.2: drop a space's keys and its packets in flight. */
  discardSpace(space: PacketNumberSpace.Initial | PacketNumberSpace.Handshake, now: Millis): void {
    const s = this.spaces[space];
    if (s.discarded) return;
    s.discard();
    this.lossDetector.discardSpace(space, now);
    this.releasePending = true;
  }

  /** A space was discarded during an earlier call: its memory can go now (issue 13). */
  private releasePending = false;

  private releaseDiscardedSpaces(): void {
    this.releasePending = false;
    for (const s of this.spaces) {
      if (!s.discarded) continue;
      // The shared inert space takes its place: nothing of it is kept per connection.
      if (s.space !== PacketNumberSpace.ApplicationData) this.spaces[s.space] = discardedSpace(s.space);
      this.lossDetector.releaseDiscarded(s.space);
    }
  }

  /** @internal For the receiver's and paths' views (receiver-view.ts, paths-view.ts). */
  onHandshakeConfirmed(): void {
    if (!this.handshake.confirm()) return;
    this.lossDetector.setHandshakeConfirmed();
    this.lossDetector.setPeerCompletedAddressValidation();
    // RFC 9001 §4.9.2: Handshake keys are discarded once the handshake is confirmed.
    this.discardSpace(PacketNumberSpace.Handshake, this.lastActivity);
    this.localCids.replenish(this.peerParams?.activeConnectionIdLimit ?? 2);
    this.events.push({ type: 'handshake-confirmed' });
  }

  // ===================================================================== client: Retry and Version Negotiation

  /** RFC 9000 §17.2.5.2: a valid Retry changes the DCID, the token and the Initial keys. */
  private onRetry(client: ClientRole, scid: Uint8Array, token: Uint8Array): void {
    const retrySourceCid = client.onRetry(scid, token);
    this.peerCids.setInitial(retrySourceCid);
    this.installInitialKeys(retrySourceCid);
    this.recovery.requeueInFlight();
  }

  /** RFC 9000 §6.2: start again with a version the server supports. */
  private restartWithVersion(client: ClientRole, version: number, now: Millis): void {
    this._version = version;
    client.onVersionNegotiation(this.random(8));
    this.peerCids.setInitial(client.originalDcid);
    this.recovery.requeueInFlight();
    // Packet numbers continue (the loss detector remembers them); the handshake bytes start over.
    this.spaces[0].restartHandshake();
    this.spaces[1].restartHandshake();
    this.installInitialKeys(client.originalDcid);
    this.handshake.restartClient(now);
  }
}
