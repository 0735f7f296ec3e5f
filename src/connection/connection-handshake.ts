/**
 * The connection's side of the TLS handshake (RFC 9001 §4): it creates the TLS engine, feeds it
 * CRYPTO data, installs the keys it produces, validates the peer's transport parameters, and runs
 * the stream epochs of 0-RTT (RFC 9001 §4.6, RFC 9000 §7.4.1): the early epoch under remembered
 * limits, its acceptance, or its rejection and the fresh epoch that replaces it.
 */
import { derivePacketKeys, type PacketKeys } from '../crypto/packet-keys.js';
import { QuicTransportError, TransportErrorCode } from '../errors/transport-error.js';
import { unqueuedWindow } from '../recovery/unqueued-window.js';
import type { StreamManagerConfig } from '../streams/stream-manager.js';
import { COMPLETED_SERVER_ENGINE } from '../tls/completed-server-engine.js';
import type { KeyShareSource } from '../tls/key-exchange.js';
import { TlsClient } from '../tls/tls-client.js';
import { TlsServer } from '../tls/tls-server.js';
import { type EarlyDataContext, EncryptionLevel, type TlsEngine } from '../tls/types.js';
import type { RandomBytes } from '../util/random.js';
import type { Millis } from '../util/time.js';
import {
  decodeTransportParameters,
  encodeTransportParameters,
  type TransportParameters,
} from '../wire/transport-parameters.js';
import type { ClientTlsOptions, ServerConnectionConfig } from './connection-config.js';
import type { ConnectionEvent } from './connection-events.js';
import { optionTransportParameters, type TransportOptions } from './connection-options.js';
import { OneRttKeys } from './one-rtt-keys.js';
import { flowLimitsOf, StreamEpoch } from './stream-epoch.js';
import { reducedZeroRttLimit } from './transport-parameter-checks.js';

/** What the server's TLS engine is made from: its TLS options and the application's 0-RTT policy. */
export type ServerTlsConfig = Pick<ServerConnectionConfig, 'tls' | 'acceptEarlyData'>;

const rememberedBytes = new WeakMap<object, Uint8Array>();

/**
 * The encoded transport parameters a server's tickets remember, once per set of options (they depend
 * on nothing else; issue 13: every server connection encoded them again). Read-only: sealed into
 * each ticket.
 */
function rememberedParameterBytes(o: TransportOptions): Uint8Array {
  const params = optionTransportParameters(o);
  let bytes = rememberedBytes.get(params);
  if (bytes === undefined) {
    bytes = encodeTransportParameters(params);
    rememberedBytes.set(params, bytes);
  }
  return bytes;
}

/** What 0-RTT became. Client: offered, then accepted or rejected. Server: accepted or none. */
export type EarlyDataState = 'none' | 'offered' | 'accepted' | 'rejected';

/**
 * What the handshake driver needs from its connection: a narrow view, so that a test can drive the
 * driver with a fake (test/connection/handshake.test.ts).
 */
export interface HandshakeHost {
  readonly role: 'client' | 'server';
  /** The QUIC version the keys are derived for (it changes with Version Negotiation). */
  readonly version: number;
  readonly random: RandomBytes;
  readonly keyShares?: KeyShareSource;
  readonly options: TransportOptions;
  readonly localParams: TransportParameters;
  /** The RTT estimate: remembered with a session ticket, and the streams' initial RTT. */
  readonly rtt: { readonly hasSample: boolean; readonly smoothedRtt: Millis; readonly recentMinRtt: Millis };
  /** The congestion window: with the RTTs, what the path carries (the streams' send budget). */
  readonly congestion: { readonly congestionWindow: number };
  /** CRYPTO data TLS produced at `level`, to send (RFC 9001 §4.1.3). */
  writeCrypto(level: EncryptionLevel, data: Uint8Array): void;
  /** Handshake packet protection keys for one direction (RFC 9001 §4.1.4). */
  installHandshakeKeys(direction: 'read' | 'write', keys: PacketKeys): void;
  /**
   * The peer's transport parameters arrived: check the connection IDs they authenticate
   * (RFC 9000 §7.3; throws) and apply what they say to recovery, PMTU and the reset token.
   */
  acceptPeerParameters(params: TransportParameters): void;
  /** RFC 9001 §4.6.2: forget the 0-RTT packets in flight (rejected: they are not retransmitted). */
  discardZeroRttPackets(): void;
  /** TLS completed the handshake; the driver has recorded it (RFC 9001 §4.1.1). */
  onHandshakeComplete(): void;
  pushEvent(e: ConnectionEvent): void;
}

/**
 * The owner of the handshake and its keys: the TLS engine, the 0-RTT and 1-RTT keys, the peer's
 * transport parameters, what TLS negotiated (ALPN, resumption, certificates), whether the handshake
 * is complete and confirmed, and the current stream epoch. Others read these through getters.
 */
export class HandshakeDriver {
  private pendingAppSecrets: { read?: Uint8Array; write?: Uint8Array; suite?: number } = {};
  /** Client, 0-RTT: the server parameters remembered with the ticket. */
  private rememberedParams: TransportParameters | undefined;
  /** Client, 0-RTT: the server's real parameters, waiting for the verdict on early data. */
  private pendingPeerParams: TransportParameters | undefined;
  private epochCounter = 0;

  private engine: TlsEngine | undefined;
  private _oneRtt: OneRttKeys | undefined;
  private _zeroRttKeys: PacketKeys | undefined;
  private _peerParams: TransportParameters | undefined;
  private _epoch: StreamEpoch | undefined;
  private _alpn: string | undefined;
  private _resumed = false;
  private _peerCertificates: Uint8Array[] = [];
  private _earlyDataState: EarlyDataState = 'none';
  private _complete = false;
  private _confirmed = false;
  /** Client: its TLS options (kept for the new ClientHello after Version Negotiation). */
  private clientTlsOptions: ClientTlsOptions | undefined;

  constructor(
    private readonly c: HandshakeHost,
    private readonly rewriteTransportParameters?: (encoded: Uint8Array) => Uint8Array,
  ) {}

  /** The TLS engine (created by initClient or initServer). */
  get tls(): TlsEngine {
    if (!this.engine) throw new Error('TLS engine not created yet');
    return this.engine;
  }
  /** 1-RTT keys, once both application secrets are known. */
  get oneRtt(): OneRttKeys | undefined {
    return this._oneRtt;
  }
  /** Client: 0-RTT write keys. Server: 0-RTT read keys. Undefined once 0-RTT is rejected. */
  get zeroRttKeys(): PacketKeys | undefined {
    return this._zeroRttKeys;
  }
  get peerParams(): TransportParameters | undefined {
    return this._peerParams;
  }
  /** The stream epoch in use: the early one of 0-RTT, or the one of the handshake's parameters. */
  get epoch(): StreamEpoch | undefined {
    return this._epoch;
  }
  get alpn(): string | undefined {
    return this._alpn;
  }
  get resumed(): boolean {
    return this._resumed;
  }
  get peerCertificates(): Uint8Array[] {
    return this._peerCertificates;
  }
  get earlyDataState(): EarlyDataState {
    return this._earlyDataState;
  }
  get complete(): boolean {
    return this._complete;
  }
  get confirmed(): boolean {
    return this._confirmed;
  }

  /** RFC 9001 §4.1.2: the handshake is confirmed; false when it already was. */
  confirm(): boolean {
    if (this._confirmed) return false;
    this._confirmed = true;
    return true;
  }

  /** Client: create the TLS engine (startClient then sends the ClientHello). */
  initClient(tls: ClientTlsOptions): void {
    this.clientTlsOptions = tls;
    this.engine = this.createClientTls(tls);
  }

  /** Client: send the ClientHello. */
  startClient(now: Millis): void {
    this.run(() => this.tls.start(now));
  }

  /** Server: create the TLS engine, which waits for the ClientHello. */
  initServer(config: ServerTlsConfig): void {
    this.engine = this.createServerTls(config);
  }

  /**
   * RFC 9000 §6.2: Version Negotiation: 0-RTT is forgotten and a new ClientHello goes out, with a
   * TLS engine of its own.
   */
  restartClient(now: Millis): void {
    const tls = this.clientTlsOptions;
    if (!tls) throw new Error('restartClient on a server');
    this._zeroRttKeys = undefined;
    this._earlyDataState = 'none';
    this.initClient(tls);
    this.startClient(now);
  }

  encodedLocalParams(): Uint8Array {
    const encoded = encodeTransportParameters(this.c.localParams);
    return this.rewriteTransportParameters?.(encoded) ?? encoded;
  }

  private createClientTls(tlsOptions: ClientTlsOptions): TlsEngine {
    const session = tlsOptions.session;
    if (session && tlsOptions.offerEarlyData && session.maxEarlyDataSize > 0) {
      try {
        this.rememberedParams = decodeTransportParameters(session.transportParameters, 'server');
      } catch {
        this.rememberedParams = undefined;
      }
    }
    // Object.assign, not a spread literal (Node 20 builds those on V8's slow path; once per
    // connection, issue 13).
    return new TlsClient(
      Object.assign({}, tlsOptions, {
        offerEarlyData: tlsOptions.offerEarlyData === true && this.rememberedParams !== undefined,
        transportParameters: this.encodedLocalParams(),
        random: this.c.random,
        keyShares: this.c.keyShares,
        // RFC 9002 §6.2.2: each ticket's session remembers this connection's RTT for a resumption.
        sessionRtt: () => (this.c.rtt.hasSample ? this.c.rtt.smoothedRtt : undefined),
      }),
    );
  }

  private createServerTls(config: ServerTlsConfig): TlsEngine {
    // What the server remembers in its tickets: the limits 0-RTT may rely on (RFC 9000 §7.4.1).
    const rememberedBytes = rememberedParameterBytes(this.c.options);
    // Object.assign, not a spread followed by fields: V8's slow path in Node 20 (issue 13).
    return new TlsServer(
      Object.assign({}, config.tls, {
        transportParameters: this.encodedLocalParams(),
        random: this.c.random,
        keyShares: this.c.keyShares,
        ticketAppData: () => rememberedBytes,
        acceptEarlyData: (ctx: EarlyDataContext) => this.decideEarlyData(ctx, config),
      }),
    );
  }

  /**
   * Server: 0-RTT is accepted only when the application's policy allows it and our current limits are
   * not below those remembered in the ticket (RFC 9000 §7.4.1, RFC 9001 §4.6.2).
   */
  private decideEarlyData(ctx: EarlyDataContext, config: ServerTlsConfig): boolean {
    if (!config.acceptEarlyData) return false;
    let remembered: TransportParameters;
    try {
      remembered = decodeTransportParameters(ctx.ticketAppData, 'server');
    } catch {
      return false;
    }
    const current = optionTransportParameters(this.c.options);
    if (reducedZeroRttLimit(remembered, current) !== undefined) return false;
    return config.acceptEarlyData(ctx);
  }

  /** Feed handshake bytes to TLS, then apply whatever it produced. */
  feed(level: EncryptionLevel, data: Uint8Array, now: Millis): void {
    this.run(() => this.tls.receive(level, data, now));
  }

  run(step: () => void): void {
    step();
    const tls = this.tls;
    for (let e = tls.pollEvent(); e; e = tls.pollEvent()) {
      switch (e.type) {
        case 'secret':
          this.onSecret(e.level, e.direction, e.suite, e.secret);
          break;
        case 'negotiated':
          // Server: known from the ClientHello (and ticket), so 0-RTT data can be served by ALPN.
          this._alpn = e.alpn;
          this._resumed = e.resumed;
          break;
        case 'peer-transport-parameters':
          this.onPeerTransportParameters(e.data);
          break;
        case 'early-data':
          this.onEarlyDataVerdict(e.accepted);
          break;
        case 'handshake-complete':
          this._alpn = e.alpn;
          this._resumed = e.resumed;
          this._peerCertificates = e.peerCertificates;
          this.onHandshakeComplete();
          break;
        case 'session-ticket':
          // The session carries this connection's RTT (createClientTls's sessionRtt), and is passed
          // on as it is: a spread copy would read (derive) its PSK.
          this.c.pushEvent({ type: 'session-ticket', session: e.session });
          break;
      }
    }
    for (let out = tls.takeOutput(); out; out = tls.takeOutput()) this.c.writeCrypto(out.level, out.data);
    // A server's handshake is over once complete and its tickets are written: what remains of TLS
    // is refusing handshake data, so the engine's state (key schedule, transcript, ClientHello,
    // configuration) need not live as long as the connection (issue 13).
    if (this.c.role === 'server' && tls.handshakeComplete) this.engine = COMPLETED_SERVER_ENGINE;
  }

  private onSecret(
    level: EncryptionLevel,
    direction: 'read' | 'write',
    suite: number,
    secret: Uint8Array,
  ): void {
    switch (level) {
      case EncryptionLevel.EarlyData: {
        this._zeroRttKeys = derivePacketKeys(suite, secret, this.c.version);
        if (this.c.role === 'client') {
          this._earlyDataState = 'offered';
          if (!this._epoch && this.rememberedParams) this.startEpoch(this.rememberedParams, true);
        }
        break;
      }
      case EncryptionLevel.Handshake: {
        this.c.installHandshakeKeys(direction, derivePacketKeys(suite, secret, this.c.version));
        break;
      }
      case EncryptionLevel.Application: {
        this.pendingAppSecrets.suite = suite;
        if (direction === 'read') this.pendingAppSecrets.read = secret;
        else this.pendingAppSecrets.write = secret;
        const { read, write } = this.pendingAppSecrets;
        if (read && write && !this._oneRtt) {
          this._oneRtt = new OneRttKeys(suite, this.c.version, read, write);
          this.pendingAppSecrets = {};
        }
        break;
      }
    }
  }

  private onPeerTransportParameters(data: Uint8Array): void {
    const peerRole = this.c.role === 'client' ? 'server' : 'client';
    const params = decodeTransportParameters(data, peerRole);
    this.c.acceptPeerParameters(params);
    this._peerParams = params;
    if (this.c.role === 'client' && this._epoch?.early) {
      // The verdict on 0-RTT decides what happens to the early epoch.
      this.pendingPeerParams = params;
      if (this._earlyDataState === 'accepted' || this._earlyDataState === 'rejected') this.settleEarlyEpoch();
      return;
    }
    if (!this._epoch) this.startEpoch(params, false);
  }

  private onEarlyDataVerdict(accepted: boolean): void {
    if (this.c.role === 'server') {
      this._earlyDataState = accepted ? 'accepted' : 'none';
      if (accepted) this.c.pushEvent({ type: 'early-data', accepted: true });
      return;
    }
    if (this._earlyDataState === 'none') return;
    this._earlyDataState = accepted ? 'accepted' : 'rejected';
    if (!accepted) this.rejectEarlyData();
    if (this.pendingPeerParams) this.settleEarlyEpoch();
  }

  /**
   * RFC 9001 §4.6.2: the server rejected 0-RTT. The early epoch dies as a whole: its 0-RTT packets are
   * forgotten (not retransmitted), its streams and queued frames are never sent. A fresh epoch starts
   * once the server's transport parameters are known.
   */
  private rejectEarlyData(): void {
    const early = this._epoch;
    early?.reject();
    this._zeroRttKeys = undefined;
    this.c.discardZeroRttPackets();
    this.c.pushEvent({ type: 'early-data', accepted: false });
  }

  private settleEarlyEpoch(): void {
    const params = this.pendingPeerParams!;
    this.pendingPeerParams = undefined;
    if (this._earlyDataState === 'accepted') {
      // RFC 9000 §7.4.1: a server accepting 0-RTT must not reduce the remembered limits.
      const reduced = reducedZeroRttLimit(this.rememberedParams!, params);
      if (reduced !== undefined) {
        throw new QuicTransportError(
          TransportErrorCode.PROTOCOL_VIOLATION,
          `server accepted 0-RTT but reduced ${reduced}`,
        );
      }
      this._epoch!.streams.updatePeerLimits(flowLimitsOf(params));
      // RFC 9221 §3: the accepted early epoch now uses the server's actual (not smaller) value.
      this._epoch!.adoptPeerMaxDatagramFrameSize(params.maxDatagramFrameSize);
      this.c.pushEvent({ type: 'early-data', accepted: true });
    } else {
      this.startEpoch(params, false);
    }
  }

  private startEpoch(peer: TransportParameters, early: boolean): void {
    // RFC 9221 §3: 0-RTT DATAGRAMs rely on the remembered max_datagram_frame_size.
    // The epoch builds its StreamManager from streamConfig() on first use (issue 13).
    const epoch = new StreamEpoch(++this.epochCounter, this, peer, early, peer.maxDatagramFrameSize);
    this._epoch = epoch;
    this.c.pushEvent({ type: 'epoch', epoch });
  }

  /** The configuration of an epoch's StreamManager, `peer` being the parameters the epoch relies on. */
  streamConfig(peer: TransportParameters): StreamManagerConfig {
    const c = this.c;
    const o = c.options;
    return {
      role: c.role,
      // Our limits come from the options alone (not the connection IDs of localParams).
      local: flowLimitsOf(optionTransportParameters(o)),
      peer: flowLimitsOf(peer),
      maxConnectionReceiveWindow: o.maxConnectionReceiveWindow,
      maxStreamReceiveWindow: o.maxStreamReceiveWindow,
      sendBufferSize: o.sendBufferSize,
      connectionSendBufferSize: o.connectionSendBufferSize,
      // Methods, not arrow functions: no property dictionary per connection under tsx (issue 13).
      rtt() {
        return c.rtt.hasSample ? c.rtt.smoothedRtt : o.initialRtt;
      },
      // Until the first RTT sample nothing is known of the path: the budget is its ceiling.
      pathCapacity() {
        const r = c.rtt;
        return r.hasSample
          ? unqueuedWindow(c.congestion.congestionWindow, r.recentMinRtt, r.smoothedRtt)
          : Number.POSITIVE_INFINITY;
      },
    };
  }

  private onHandshakeComplete(): void {
    this._complete = true;
    // The connection: established, and for a server confirmed (RFC 9001 §4.1.2).
    this.c.onHandshakeComplete();
    if (this.c.role === 'client' && this._earlyDataState === 'offered') {
      // A server that says nothing about early data in EncryptedExtensions rejected it.
      this._earlyDataState = 'rejected';
      this.rejectEarlyData();
      if (this.pendingPeerParams) this.settleEarlyEpoch();
    }
  }
}
