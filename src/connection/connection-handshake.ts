/**
 * The connection's side of the TLS handshake (RFC 9001 §4): it creates the TLS engine, feeds it
 * CRYPTO data, installs the keys it produces, validates the peer's transport parameters, and runs
 * the stream epochs of 0-RTT (RFC 9001 §4.6, RFC 9000 §7.4.1): the early epoch under remembered
 * limits, its acceptance, or its rejection and the fresh epoch that replaces it.
 */
import { derivePacketKeys } from '../crypto/packet-keys.js';
import { QuicTransportError, TransportErrorCode } from '../errors/transport-error.js';
import { PacketNumberSpace } from '../recovery/types.js';
import type { StreamManagerConfig } from '../streams/stream-manager.js';
import { TlsClient } from '../tls/tls-client.js';
import { TlsServer } from '../tls/tls-server.js';
import { type EarlyDataContext, EncryptionLevel, type TlsEngine } from '../tls/types.js';
import type { Millis } from '../util/time.js';
import {
  decodeTransportParameters,
  encodeTransportParameters,
  type TransportParameters,
} from '../wire/transport-parameters.js';
import type { ClientTlsOptions, Connection, ConnectionConfig, ServerConnectionConfig } from './connection.js';
import { localTransportParameters } from './connection-options.js';
import { OneRttKeys } from './one-rtt-keys.js';
import { flowLimitsOf, StreamEpoch } from './stream-epoch.js';
import {
  checkClientConnectionIds,
  checkServerConnectionIds,
  reducedZeroRttLimit,
} from './transport-parameter-checks.js';

export class HandshakeDriver {
  private pendingAppSecrets: { read?: Uint8Array; write?: Uint8Array; suite?: number } = {};
  /** Client, 0-RTT: the server parameters remembered with the ticket. */
  rememberedParams: TransportParameters | undefined;
  /** Client, 0-RTT: the server's real parameters, waiting for the verdict on early data. */
  private pendingPeerParams: TransportParameters | undefined;
  private epochCounter = 0;

  constructor(
    private readonly c: Connection,
    private readonly config: ConnectionConfig,
    private readonly clientTlsOptions: ClientTlsOptions | undefined,
  ) {}

  encodedLocalParams(): Uint8Array {
    const encoded = encodeTransportParameters(this.c.localParams);
    return this.config.testRewriteTransportParameters?.(encoded) ?? encoded;
  }

  createClientTls(): TlsEngine {
    const tlsOptions = this.clientTlsOptions!;
    const session = tlsOptions.session;
    if (session && tlsOptions.offerEarlyData && session.maxEarlyDataSize > 0) {
      try {
        this.rememberedParams = decodeTransportParameters(session.transportParameters, 'server');
      } catch {
        this.rememberedParams = undefined;
      }
    }
    return new TlsClient({
      ...tlsOptions,
      offerEarlyData: tlsOptions.offerEarlyData === true && this.rememberedParams !== undefined,
      transportParameters: this.encodedLocalParams(),
      random: this.c.random,
    });
  }

  createServerTls(config: ServerConnectionConfig): TlsEngine {
    // What the server remembers in its tickets: the limits 0-RTT may rely on (RFC 9000 §7.4.1).
    const remembered = localTransportParameters(this.c.options);
    const rememberedBytes = encodeTransportParameters(remembered);
    return new TlsServer({
      ...config.tls,
      transportParameters: this.encodedLocalParams(),
      random: this.c.random,
      ticketAppData: () => rememberedBytes,
      acceptEarlyData: (ctx) => this.decideEarlyData(ctx, config),
    });
  }

  /**
   * Server: 0-RTT is accepted only when the application's policy allows it and our current limits are
   * not below those remembered in the ticket (RFC 9000 §7.4.1, RFC 9001 §4.6.2).
   */
  private decideEarlyData(ctx: EarlyDataContext, config: ServerConnectionConfig): boolean {
    if (!config.acceptEarlyData) return false;
    let remembered: TransportParameters;
    try {
      remembered = decodeTransportParameters(ctx.ticketAppData, 'server');
    } catch {
      return false;
    }
    const current = localTransportParameters(this.c.options);
    if (reducedZeroRttLimit(remembered, current) !== undefined) return false;
    return config.acceptEarlyData(ctx);
  }

  /** Feed handshake bytes to TLS, then apply whatever it produced. */
  feed(level: EncryptionLevel, data: Uint8Array, now: Millis): void {
    this.run(() => this.c.tls.receive(level, data, now));
  }

  run(step: () => void): void {
    step();
    for (let e = this.c.tls.pollEvent(); e; e = this.c.tls.pollEvent()) {
      switch (e.type) {
        case 'secret':
          this.onSecret(e.level, e.direction, e.suite, e.secret);
          break;
        case 'negotiated':
          // Server: known from the ClientHello (and ticket), so 0-RTT data can be served by ALPN.
          this.c.alpn = e.alpn;
          this.c.resumed = e.resumed;
          break;
        case 'peer-transport-parameters':
          this.onPeerTransportParameters(e.data);
          break;
        case 'early-data':
          this.onEarlyDataVerdict(e.accepted);
          break;
        case 'handshake-complete':
          this.c.alpn = e.alpn;
          this.c.resumed = e.resumed;
          this.c.peerCertificates = e.peerCertificates;
          this.onHandshakeComplete();
          break;
        case 'session-ticket':
          // RFC 9002 §6.2.2: remember this connection's RTT for the initial RTT of a resumption.
          this.c.pushEvent({
            type: 'session-ticket',
            session: this.c.rtt.hasSample ? { ...e.session, rtt: this.c.rtt.smoothedRtt } : e.session,
          });
          break;
      }
    }
    for (let out = this.c.tls.takeOutput(); out; out = this.c.tls.takeOutput()) {
      const space =
        out.level === EncryptionLevel.Initial
          ? this.c.spaces[0]
          : out.level === EncryptionLevel.Handshake
            ? this.c.spaces[1]
            : this.c.spaces[2];
      if (!space.discarded) space.crypto.write(out.data);
    }
  }

  private onSecret(
    level: EncryptionLevel,
    direction: 'read' | 'write',
    suite: number,
    secret: Uint8Array,
  ): void {
    switch (level) {
      case EncryptionLevel.EarlyData: {
        this.c.zeroRttKeys = derivePacketKeys(suite, secret, this.c.version);
        if (this.c.role === 'client') {
          this.c.earlyDataState = 'offered';
          if (!this.c.epoch && this.rememberedParams) this.startEpoch(this.rememberedParams, true);
        }
        break;
      }
      case EncryptionLevel.Handshake: {
        const keys = derivePacketKeys(suite, secret, this.c.version);
        if (direction === 'read') this.c.spaces[1].readKeys = keys;
        else this.c.spaces[1].writeKeys = keys;
        this.c.lossDetector.setHasHandshakeKeys(true);
        break;
      }
      case EncryptionLevel.Application: {
        this.pendingAppSecrets.suite = suite;
        if (direction === 'read') this.pendingAppSecrets.read = secret;
        else this.pendingAppSecrets.write = secret;
        const { read, write } = this.pendingAppSecrets;
        if (read && write && !this.c.oneRtt) {
          this.c.oneRtt = new OneRttKeys(suite, this.c.version, read, write);
          this.pendingAppSecrets = {};
        }
        break;
      }
    }
  }

  private onPeerTransportParameters(data: Uint8Array): void {
    const peerRole = this.c.role === 'client' ? 'server' : 'client';
    const params = decodeTransportParameters(data, peerRole);
    if (this.c.role === 'client') {
      checkServerConnectionIds(params, {
        originalDcid: this.c.originalDcid,
        serverScid: this.c.peerInitialScid ?? this.c.peerCids.current,
        retrySourceCid: this.c.retrySourceCid,
      });
      if (params.statelessResetToken) this.c.peerCids.setInitialResetToken(params.statelessResetToken);
    } else {
      checkClientConnectionIds(params, this.c.peerInitialScid!);
    }
    this.c.peerParams = params;
    this.c.lossDetector.setPeerMaxAckDelay(params.maxAckDelay);
    this.c.mtu.limit(params.maxUdpPayloadSize);
    if (this.c.role === 'client' && this.c.epoch?.early) {
      // The verdict on 0-RTT decides what happens to the early epoch.
      this.pendingPeerParams = params;
      if (this.c.earlyDataState === 'accepted' || this.c.earlyDataState === 'rejected')
        this.settleEarlyEpoch();
      return;
    }
    if (!this.c.epoch) this.startEpoch(params, false);
  }

  private onEarlyDataVerdict(accepted: boolean): void {
    if (this.c.role === 'server') {
      this.c.earlyDataState = accepted ? 'accepted' : 'none';
      if (accepted) this.c.pushEvent({ type: 'early-data', accepted: true });
      return;
    }
    if (this.c.earlyDataState === 'none') return;
    this.c.earlyDataState = accepted ? 'accepted' : 'rejected';
    if (!accepted) this.rejectEarlyData();
    if (this.pendingPeerParams) this.settleEarlyEpoch();
  }

  /**
   * RFC 9001 §4.6.2: the server rejected 0-RTT. The early epoch dies as a whole: its 0-RTT packets are
   * forgotten (not retransmitted), its streams and queued frames are never sent. A fresh epoch starts
   * once the server's transport parameters are known.
   */
  private rejectEarlyData(): void {
    const early = this.c.epoch;
    if (early) early.rejected = true;
    this.c.zeroRttKeys = undefined;
    this.c.lossDetector.discardPackets(PacketNumberSpace.ApplicationData, (p) => p.payload.zeroRtt);
    this.c.pushEvent({ type: 'early-data', accepted: false });
  }

  private settleEarlyEpoch(): void {
    const params = this.pendingPeerParams!;
    this.pendingPeerParams = undefined;
    if (this.c.earlyDataState === 'accepted') {
      // RFC 9000 §7.4.1: a server accepting 0-RTT must not reduce the remembered limits.
      const reduced = reducedZeroRttLimit(this.rememberedParams!, params);
      if (reduced !== undefined) {
        throw new QuicTransportError(
          TransportErrorCode.PROTOCOL_VIOLATION,
          `server accepted 0-RTT but reduced ${reduced}`,
        );
      }
      this.c.epoch!.streams.updatePeerLimits(flowLimitsOf(params));
      // RFC 9221 §3: the accepted early epoch now uses the server's actual (not smaller) value.
      this.c.epoch!.peerMaxDatagramFrameSize = params.maxDatagramFrameSize;
      this.c.pushEvent({ type: 'early-data', accepted: true });
    } else {
      this.startEpoch(params, false);
    }
  }

  private startEpoch(peer: TransportParameters, early: boolean): void {
    const o = this.c.options;
    const config: StreamManagerConfig = {
      role: this.c.role,
      local: flowLimitsOf(this.c.localParams),
      peer: flowLimitsOf(peer),
      maxConnectionReceiveWindow: o.maxConnectionReceiveWindow,
      maxStreamReceiveWindow: o.maxStreamReceiveWindow,
      sendBufferSize: o.sendBufferSize,
      connectionSendBufferSize: o.connectionSendBufferSize,
      rtt: () => (this.c.rtt.hasSample ? this.c.rtt.smoothedRtt : o.initialRtt),
    };
    // RFC 9221 §3: 0-RTT DATAGRAMs rely on the remembered max_datagram_frame_size.
    this.c.epoch = new StreamEpoch(++this.epochCounter, config, early, peer.maxDatagramFrameSize);
    this.c.pushEvent({ type: 'epoch', epoch: this.c.epoch });
  }

  private onHandshakeComplete(): void {
    this.c.handshakeComplete = true;
    this.c.markEstablished();
    this.c.pushEvent({ type: 'handshake-complete' });
    if (this.c.role === 'server') {
      // RFC 9001 §4.1.2: the server's handshake is confirmed when it completes.
      this.c.handshakeDonePending = true;
      this.c.onHandshakeConfirmed();
      const token = (this.config as ServerConnectionConfig).newToken?.();
      if (token) this.c.newTokenPending = token;
    } else if (this.c.earlyDataState === 'offered') {
      // A server that says nothing about early data in EncryptedExtensions rejected it.
      this.c.earlyDataState = 'rejected';
      this.rejectEarlyData();
      if (this.pendingPeerParams) this.settleEarlyEpoch();
    }
  }
}
