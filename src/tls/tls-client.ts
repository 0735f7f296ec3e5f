/**
 * The TLS 1.3 client engine for QUIC (RFC 8446 §4, RFC 9001 §4): ClientHello with key share, ALPN and
 * QUIC transport parameters, HelloRetryRequest, PSK resumption and 0-RTT, server authentication, and
 * NewSessionTicket -> ResumptionSession. Sans-IO: bytes in and out per encryption level, events out.
 */
import type { KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { type CipherSuite, cipherSuiteParams } from '../crypto/cipher-suite.js';
import type { HashName } from '../crypto/hkdf.js';
import { TransportErrorCode, transportError } from '../errors/transport-error.js';
import type { Millis } from '../util/time.js';
import { AlertDescription, TlsAlertError } from './alert.js';
import { buildClientHello } from './client-hello-builder.js';
import { ExtensionType, HandshakeType, QUIC_MAX_EARLY_DATA_SIZE } from './codepoints.js';
import {
  checkAllowedExtensions,
  checkSolicitedExtensions,
  decodeAlpn,
  decodeCookie,
  decodeEarlyDataTicket,
  decodeKeyShareHrr,
  decodeKeyShareServer,
  decodeSelectedIdentity,
  expectEmptyExtension,
} from './extensions.js';
import type { HandshakeMessage } from './handshake-message-framing.js';
import { generateKeyShare, type KeyShare } from './key-exchange.js';
import { finishedVerifyData, KeySchedule, macEquals, resumptionPsk } from './key-schedule.js';
import { encodeCertificate } from './messages/certificate.js';
import { decodeCertificateRequest } from './messages/certificate-request.js';
import { decodeEncryptedExtensions } from './messages/encrypted-extensions.js';
import { decodeFinished, encodeFinished } from './messages/finished.js';
import { decodeNewSessionTicket } from './messages/new-session-ticket.js';
import { decodeServerHello, type ServerHello } from './messages/server-hello.js';
import { TlsConfigError } from './private-key.js';
import { isResumptionSessionUsable } from './resumption-session.js';
import { verifyServerCertificate, verifyServerCertificateVerify } from './server-authentication.js';
import { checkServerHelloCommon } from './server-hello-checks.js';
import { indexOfProtocol, type NormalizedCommonConfig, normalizeCommonConfig } from './tls-config.js';
import { TlsEngineBase } from './tls-engine-base.js';
import { TranscriptHash } from './transcript-hash.js';
import { EncryptionLevel, type ResumptionSession, type TlsClientConfig } from './types.js';

enum ClientState {
  Start,
  WaitServerHello,
  WaitEncryptedExtensions,
  WaitCertificateOrRequest,
  WaitCertificate,
  WaitCertificateVerify,
  WaitFinished,
  Connected,
}

/** Messages the client accepts in each state. */
const EXPECTED: Record<ClientState, readonly number[]> = {
  [ClientState.Start]: [],
  [ClientState.WaitServerHello]: [HandshakeType.server_hello],
  [ClientState.WaitEncryptedExtensions]: [HandshakeType.encrypted_extensions],
  [ClientState.WaitCertificateOrRequest]: [HandshakeType.certificate, HandshakeType.certificate_request],
  [ClientState.WaitCertificate]: [HandshakeType.certificate],
  [ClientState.WaitCertificateVerify]: [HandshakeType.certificate_verify],
  [ClientState.WaitFinished]: [HandshakeType.finished],
  [ClientState.Connected]: [HandshakeType.new_session_ticket],
};

/** Extensions a server may put in EncryptedExtensions that this client can have offered (RFC 8446 §4.2). */
const EE_ALLOWED: readonly number[] = [
  ExtensionType.server_name,
  ExtensionType.supported_groups,
  ExtensionType.application_layer_protocol_negotiation,
  ExtensionType.early_data,
  ExtensionType.quic_transport_parameters,
];

function hashOf(suite: CipherSuite): HashName {
  return cipherSuiteParams(suite).hash;
}

export class TlsClient extends TlsEngineBase {
  readonly role = 'client' as const;
  private readonly config: TlsClientConfig;
  private readonly common: NormalizedCommonConfig;
  /** SNI host (absent for IP literals, RFC 6066 §3). */
  private readonly sniHost: string | undefined;
  private state = ClientState.Start;

  get handshakeComplete(): boolean {
    return this.state === ClientState.Connected;
  }
  private readonly transcript = new TranscriptHash();
  private keyShare!: KeyShare;
  private sentExtensions: ReadonlySet<number> = new Set();
  private cookie: Uint8Array | undefined;
  private helloRetry: { suite: CipherSuite } | undefined;
  /** The session offered as PSK in the current ClientHello. */
  private pskSession: ResumptionSession | undefined;
  private earlyDataOffered = false;
  private earlyDataReported = false;
  private suite: CipherSuite | undefined;
  private schedule: KeySchedule | undefined;
  private resumed = false;
  private clientHandshakeSecret: Buffer | undefined;
  private serverHandshakeSecret: Buffer | undefined;
  private certificateRequestContext: Uint8Array | undefined;
  private peerCertificates: Uint8Array[] = [];
  private peerKey: KeyObject | undefined;
  private alpn: string | undefined;
  private serverTransportParameters: Buffer = Buffer.alloc(0);
  private resumptionMasterSecret: Buffer | undefined;

  constructor(config: TlsClientConfig) {
    const common = normalizeCommonConfig(config);
    super(config.random, config.keyLog);
    this.config = config;
    this.common = common;
    this.sniHost = sniHostFor(config.serverName);
  }

  start(now: Millis): void {
    this.guard(() => {
      if (this.state !== ClientState.Start) return;
      const clientRandom = Buffer.from(this.random(32));
      if (clientRandom.length !== 32) throw new RangeError('RandomBytes returned the wrong length');
      this.recordClientRandom(clientRandom);
      this.keyShare = generateKeyShare(this.common.groups[0]!, this.random, this.config.keyShares);
      const s = this.usableSession(now);
      this.pskSession = s;
      this.earlyDataOffered =
        s !== undefined &&
        this.config.offerEarlyData === true &&
        // RFC 9001 §4.6.1: 0-RTT only with a ticket carrying max_early_data_size 0xffffffff.
        s.maxEarlyDataSize === QUIC_MAX_EARLY_DATA_SIZE &&
        // RFC 8446 §4.2.10: early data uses the ticket's suite and ALPN, so both must be offered.
        this.common.suites.includes(s.suite) &&
        this.common.alpn.includes(s.alpn);
      this.sendClientHello(now);
      if (this.earlyDataOffered && s) {
        // RFC 8446 §7.1: client_early_traffic_secret = Derive-Secret(Early Secret, "c e traffic", ClientHello)
        const chHash = this.transcript.digestWith(new Uint8Array(0), hashOf(s.suite));
        const secret = new KeySchedule(hashOf(s.suite), s.psk).clientEarlyTrafficSecret(chHash);
        this.emitSecret(EncryptionLevel.EarlyData, 'write', s.suite, secret, 'CLIENT_EARLY_TRAFFIC_SECRET');
      }
      this.state = ClientState.WaitServerHello;
    });
  }

  /** The configured session if it may be offered now (RFC 8446 §4.2.11, §4.6.1). */
  private usableSession(now: Millis): ResumptionSession | undefined {
    const s = this.config.session;
    if (!s || !isResumptionSessionUsable(s, now)) return undefined;
    // RFC 8446 §4.6.1: clients SHOULD only resume with the SNI of the original session.
    if (s.serverName.toLowerCase() !== (this.config.serverName ?? '').toLowerCase()) return undefined;
    // RFC 8446 §4.2.11: the PSK's hash must be that of an offered suite.
    if (!this.common.suites.some((x) => hashOf(x) === hashOf(s.suite))) return undefined;
    return s;
  }

  private sendClientHello(now: Millis): void {
    const { message, sent } = buildClientHello({
      random: this.clientHelloRandom,
      suites: this.common.suites,
      groups: this.common.groups,
      alpn: this.common.alpnBytes,
      transportParameters: this.common.transportParameters,
      sniHost: this.sniHost,
      keyShare: this.keyShare,
      cookie: this.cookie,
      // RFC 8446 §4.1.2: early_data is removed from the ClientHello that follows a HelloRetryRequest.
      earlyData: this.earlyDataOffered && !this.helloRetry,
      psk: this.pskSession,
      now,
      transcript: this.transcript,
    });
    this.sentExtensions = sent;
    this.transcript.add(message);
    this.send(EncryptionLevel.Initial, message);
  }

  protected readLevel(): EncryptionLevel | undefined {
    switch (this.state) {
      case ClientState.Start:
        return undefined;
      case ClientState.WaitServerHello:
        return EncryptionLevel.Initial;
      case ClientState.Connected:
        return EncryptionLevel.Application;
      default:
        return EncryptionLevel.Handshake;
    }
  }

  protected checkMessageType(type: number): void {
    if (this.state === ClientState.Connected && type === HandshakeType.certificate_request) {
      // RFC 9001 §4.4: post-handshake client authentication is forbidden.
      throw transportError(TransportErrorCode.PROTOCOL_VIOLATION, 'post-handshake CertificateRequest');
    }
    if (!EXPECTED[this.state].includes(type)) throw this.unexpected(type, ClientState[this.state]);
  }

  protected handleMessage(msg: HandshakeMessage, now: Millis): void {
    switch (msg.type) {
      case HandshakeType.server_hello:
        this.onServerHello(msg, now);
        break;
      case HandshakeType.encrypted_extensions:
        this.onEncryptedExtensions(msg);
        break;
      case HandshakeType.certificate_request:
        this.onCertificateRequest(msg);
        break;
      case HandshakeType.certificate:
        this.onCertificate(msg, now);
        break;
      case HandshakeType.certificate_verify:
        verifyServerCertificateVerify(msg.body, this.peerKey!, this.transcript.digest());
        this.transcript.add(msg.raw);
        this.state = ClientState.WaitFinished;
        break;
      case HandshakeType.finished:
        this.onFinished(msg);
        break;
      case HandshakeType.new_session_ticket:
        this.onNewSessionTicket(msg, now);
        break;
    }
  }

  private onServerHello(msg: HandshakeMessage, now: Millis): void {
    const sh = decodeServerHello(msg.body);
    checkServerHelloCommon(sh, this.common.suites);
    if (sh.isHelloRetryRequest) this.onHelloRetryRequest(sh, msg, now);
    else this.onRealServerHello(sh, msg);
  }

  private onHelloRetryRequest(hrr: ServerHello, msg: HandshakeMessage, now: Millis): void {
    // RFC 8446 §4.1.4: a second HelloRetryRequest -> unexpected_message.
    if (this.helloRetry)
      throw new TlsAlertError(AlertDescription.unexpected_message, 'second HelloRetryRequest');
    checkSolicitedExtensions(hrr.extensions, this.sentExtensions, 'HelloRetryRequest', true);
    checkAllowedExtensions(
      hrr.extensions,
      [ExtensionType.supported_versions, ExtensionType.key_share, ExtensionType.cookie],
      'HelloRetryRequest',
    );
    let group: number | undefined;
    const ks = hrr.extensions.get(ExtensionType.key_share);
    if (ks !== undefined) {
      group = decodeKeyShareHrr(ks);
      // RFC 8446 §4.2.8: a group we support and not the one we already sent a share for.
      if (!this.common.groups.includes(group) || group === this.keyShare.group) {
        throw new TlsAlertError(
          AlertDescription.illegal_parameter,
          `HelloRetryRequest selected group ${group}`,
        );
      }
    }
    const cookie = hrr.extensions.get(ExtensionType.cookie);
    if (cookie !== undefined) this.cookie = Buffer.from(decodeCookie(cookie));
    if (ks === undefined && cookie === undefined) {
      // RFC 8446 §4.1.4: an HRR that would not change the ClientHello.
      throw new TlsAlertError(AlertDescription.illegal_parameter, 'HelloRetryRequest requests no change');
    }
    this.helloRetry = { suite: hrr.cipherSuite };
    // RFC 8446 §4.4.1: ClientHello1 is replaced by message_hash, then the HRR is added.
    this.transcript.init(hashOf(hrr.cipherSuite));
    this.transcript.replaceWithMessageHash();
    this.transcript.add(msg.raw);
    // RFC 9001 §4.6.2: a HelloRetryRequest always rejects 0-RTT.
    this.reportEarlyData(false);
    // RFC 8446 §4.1.4: do not offer PSKs whose hash differs from the selected suite's.
    if (this.pskSession && hashOf(this.pskSession.suite) !== hashOf(hrr.cipherSuite))
      this.pskSession = undefined;
    if (group !== undefined) this.keyShare = generateKeyShare(group, this.random, this.config.keyShares);
    this.sendClientHello(now);
  }

  private reportEarlyData(accepted: boolean): void {
    if (!this.earlyDataOffered || this.earlyDataReported) return;
    this.earlyDataReported = true;
    this.emit({ type: 'early-data', accepted });
  }

  private onRealServerHello(sh: ServerHello, msg: HandshakeMessage): void {
    checkSolicitedExtensions(sh.extensions, this.sentExtensions, 'ServerHello');
    checkAllowedExtensions(
      sh.extensions,
      [ExtensionType.supported_versions, ExtensionType.key_share, ExtensionType.pre_shared_key],
      'ServerHello',
    );
    if (this.helloRetry && sh.cipherSuite !== this.helloRetry.suite) {
      // RFC 8446 §4.1.4: the ServerHello suite must equal the HelloRetryRequest's.
      throw new TlsAlertError(
        AlertDescription.illegal_parameter,
        'ServerHello suite differs from HelloRetryRequest',
      );
    }
    const ksData = sh.extensions.get(ExtensionType.key_share);
    // We only offer psk_dhe_ke, so a key share is always required (RFC 8446 §4.2.9).
    if (ksData === undefined)
      throw new TlsAlertError(AlertDescription.missing_extension, 'ServerHello without key_share');
    const ks = decodeKeyShareServer(ksData);
    // RFC 8446 §4.2.8: the server's share is in the group of our share (the HRR's group after a retry).
    if (ks.group !== this.keyShare.group) {
      throw new TlsAlertError(
        AlertDescription.illegal_parameter,
        'ServerHello key share group was not offered',
      );
    }
    const suite = sh.cipherSuite as CipherSuite;
    const hash = hashOf(suite);
    const pskData = sh.extensions.get(ExtensionType.pre_shared_key);
    let psk: Uint8Array | undefined;
    if (pskData !== undefined) {
      const selected = decodeSelectedIdentity(pskData);
      const s = this.pskSession;
      // RFC 8446 §4.2.11: selected_identity in range and a suite with the PSK's hash.
      if (!s || selected !== 0)
        throw new TlsAlertError(AlertDescription.illegal_parameter, 'bad selected_identity');
      if (hashOf(s.suite) !== hash) {
        throw new TlsAlertError(
          AlertDescription.illegal_parameter,
          'selected suite does not fit the PSK hash',
        );
      }
      psk = s.psk;
      this.resumed = true;
    }
    this.suite = suite;
    this.transcript.init(hash);
    this.transcript.add(msg.raw);
    const schedule = new KeySchedule(hash, psk);
    this.schedule = schedule;
    schedule.deriveHandshakeSecret(this.keyShare.computeSecret(ks.keyExchange));
    const th = this.transcript.digest();
    this.clientHandshakeSecret = schedule.clientHandshakeTrafficSecret(th);
    this.serverHandshakeSecret = schedule.serverHandshakeTrafficSecret(th);
    this.emitSecret(
      EncryptionLevel.Handshake,
      'read',
      suite,
      this.serverHandshakeSecret,
      'SERVER_HANDSHAKE_TRAFFIC_SECRET',
    );
    this.emitSecret(
      EncryptionLevel.Handshake,
      'write',
      suite,
      this.clientHandshakeSecret,
      'CLIENT_HANDSHAKE_TRAFFIC_SECRET',
    );
    this.state = ClientState.WaitEncryptedExtensions;
  }

  private onEncryptedExtensions(msg: HandshakeMessage): void {
    const ee = decodeEncryptedExtensions(msg.body);
    checkSolicitedExtensions(ee, this.sentExtensions, 'EncryptedExtensions');
    // RFC 8446 §4.3.1: forbidden extensions in EncryptedExtensions -> illegal_parameter.
    checkAllowedExtensions(ee, EE_ALLOWED, 'EncryptedExtensions');
    const sni = ee.get(ExtensionType.server_name);
    if (sni !== undefined) expectEmptyExtension(sni, 'server_name in EncryptedExtensions');
    const alpnData = ee.get(ExtensionType.application_layer_protocol_negotiation);
    // RFC 9001 §8.1: ALPN must be negotiated.
    if (alpnData === undefined) {
      throw new TlsAlertError(
        AlertDescription.no_application_protocol,
        'server selected no application protocol',
      );
    }
    const protocols = decodeAlpn(alpnData);
    // RFC 7301 §3.1: the server's list contains exactly one protocol.
    if (protocols.length !== 1) {
      throw new TlsAlertError(AlertDescription.illegal_parameter, 'ALPN response must name one protocol');
    }
    const index = indexOfProtocol(this.common.alpnBytes, protocols[0]!);
    // RFC 9001 §8.1: a protocol we did not offer -> no_application_protocol.
    if (index < 0) {
      throw new TlsAlertError(
        AlertDescription.no_application_protocol,
        'server selected an ALPN protocol not offered',
      );
    }
    this.alpn = this.common.alpn[index]!;
    const tp = ee.get(ExtensionType.quic_transport_parameters);
    // RFC 9001 §8.2: missing quic_transport_parameters -> missing_extension.
    if (tp === undefined)
      throw new TlsAlertError(AlertDescription.missing_extension, 'no quic_transport_parameters');
    this.serverTransportParameters = Buffer.from(tp);
    this.emit({ type: 'peer-transport-parameters', data: Buffer.from(tp) });
    const earlyData = ee.get(ExtensionType.early_data);
    if (earlyData !== undefined) {
      expectEmptyExtension(earlyData, 'early_data in EncryptedExtensions');
      const s = this.pskSession;
      // RFC 8446 §4.2.10, §4.2.11: early data needs the first PSK, with its suite and ALPN.
      if (!this.resumed || !s || s.suite !== this.suite || s.alpn !== this.alpn) {
        throw new TlsAlertError(
          AlertDescription.illegal_parameter,
          'early data accepted without its PSK, suite or ALPN',
        );
      }
    }
    this.reportEarlyData(earlyData !== undefined);
    this.transcript.add(msg.raw);
    this.state = this.resumed ? ClientState.WaitFinished : ClientState.WaitCertificateOrRequest;
  }

  private onCertificateRequest(msg: HandshakeMessage): void {
    const cr = decodeCertificateRequest(msg.body);
    // RFC 8446 §4.3.2: the context is empty outside post-handshake authentication.
    if (cr.context.length !== 0) {
      throw new TlsAlertError(AlertDescription.illegal_parameter, 'non-empty certificate_request_context');
    }
    if (!cr.extensions.has(ExtensionType.signature_algorithms)) {
      throw new TlsAlertError(
        AlertDescription.missing_extension,
        'CertificateRequest without signature_algorithms',
      );
    }
    this.certificateRequestContext = Buffer.from(cr.context);
    this.transcript.add(msg.raw);
    this.state = ClientState.WaitCertificate;
  }

  private onCertificate(msg: HandshakeMessage, now: Millis): void {
    const { chain, key } = verifyServerCertificate(msg.body, {
      serverName: this.config.serverName,
      ca: this.config.ca,
      insecureSkipVerify: this.config.insecureSkipVerify === true,
      sentExtensions: this.sentExtensions,
      now,
    });
    this.peerCertificates = chain;
    this.peerKey = key;
    this.transcript.add(msg.raw);
    this.state = ClientState.WaitCertificateVerify;
  }

  private onFinished(msg: HandshakeMessage): void {
    const schedule = this.schedule!;
    const suite = this.suite!;
    const verifyData = decodeFinished(msg.body, schedule.hashLength);
    const expected = finishedVerifyData(schedule.hash, this.serverHandshakeSecret!, this.transcript.digest());
    // RFC 8446 §4.4.4: a wrong Finished -> decrypt_error.
    if (!macEquals(verifyData, expected)) {
      throw new TlsAlertError(AlertDescription.decrypt_error, 'server Finished is invalid');
    }
    this.transcript.add(msg.raw);
    schedule.deriveMasterSecret();
    const th = this.transcript.digest();
    const serverApp = schedule.serverApplicationTrafficSecret(th);
    const clientApp = schedule.clientApplicationTrafficSecret(th);
    this.emitSecret(EncryptionLevel.Application, 'read', suite, serverApp, 'SERVER_TRAFFIC_SECRET_0');
    this.emitSecret(EncryptionLevel.Application, 'write', suite, clientApp, 'CLIENT_TRAFFIC_SECRET_0');
    if (this.certificateRequestContext) {
      // RFC 8446 §4.4.2: no certificate to offer -> an empty Certificate and no CertificateVerify.
      const empty = encodeCertificate(this.certificateRequestContext, []);
      this.transcript.add(empty);
      this.send(EncryptionLevel.Handshake, empty);
    }
    const fin = encodeFinished(
      finishedVerifyData(schedule.hash, this.clientHandshakeSecret!, this.transcript.digest()),
    );
    this.transcript.add(fin);
    this.send(EncryptionLevel.Handshake, fin);
    // The resumption master secret (RFC 8446 §7.1) is derived when a ticket's PSK is first read
    // (resumptionSecret()): a client that keeps no sessions never needs it (issue 13).
    this.state = ClientState.Connected;
    this.emit({
      type: 'handshake-complete',
      alpn: this.alpn!,
      suite,
      resumed: this.resumed,
      peerCertificates: this.peerCertificates,
    });
  }

  /**
   * RFC 8446 §7.1: resumption_master_secret, over the transcript through the client Finished (the
   * last message added to it), derived on first use.
   */
  private resumptionSecret(): Buffer {
    this.resumptionMasterSecret ??= this.schedule!.resumptionMasterSecret(this.transcript.finish());
    return this.resumptionMasterSecret;
  }

  private onNewSessionTicket(msg: HandshakeMessage, now: Millis): void {
    const nst = decodeNewSessionTicket(msg.body);
    checkAllowedExtensions(nst.extensions, [ExtensionType.early_data], 'NewSessionTicket');
    let maxEarlyDataSize = 0;
    const ed = nst.extensions.get(ExtensionType.early_data);
    if (ed !== undefined) {
      maxEarlyDataSize = decodeEarlyDataTicket(ed);
      // RFC 9001 §4.6.1: every other value is a PROTOCOL_VIOLATION.
      if (maxEarlyDataSize !== QUIC_MAX_EARLY_DATA_SIZE) {
        throw transportError(
          TransportErrorCode.PROTOCOL_VIOLATION,
          `NewSessionTicket max_early_data_size ${maxEarlyDataSize} is not 0xffffffff`,
        );
      }
    }
    // RFC 8446 §4.6.1: a zero lifetime means discard immediately.
    if (nst.lifetime === 0) return;
    const suite = this.suite!;
    const nonce = Buffer.from(nst.nonce);
    // The PSK (RFC 8446 §4.6.1) is derived when first read: a client without a session store drops
    // the session unread (issue 13: two HKDF steps and a transcript digest per connection saved).
    // A property with a getter and a setter, so to its readers (spread, JSON, the codec) it is
    // a plain field. Once derived, the session no longer refers to this engine: whoever keeps a
    // session reads its PSK first (node/connection-handle.ts), so a cache does not keep engines alive.
    let source: TlsClient | undefined = this;
    let psk: Uint8Array | undefined;
    const rtt = this.config.sessionRtt?.();
    const session: ResumptionSession = {
      serverName: this.config.serverName ?? '',
      ticket: Buffer.from(nst.ticket),
      ticketAgeAdd: nst.ageAdd,
      lifetime: nst.lifetime,
      receivedAt: now,
      suite,
      get psk(): Uint8Array {
        if (psk === undefined) {
          psk = resumptionPsk(hashOf(suite), source!.resumptionSecret(), nonce);
          source = undefined;
        }
        return psk;
      },
      set psk(value: Uint8Array) {
        psk = value;
        source = undefined;
      },
      maxEarlyDataSize,
      alpn: this.alpn!,
      transportParameters: Buffer.from(this.serverTransportParameters),
      ...(rtt !== undefined ? { rtt } : {}),
    };
    this.emit({ type: 'session-ticket', session });
  }
}

/** The SNI host for a configured server name: none for IP literals (RFC 6066 §3), no trailing dot. */
let lastServerName: string | undefined;
let lastSniHost: string | undefined;

/** sniHost() of the last server name again: a client dials the same name each time (issue 13). */
function sniHostFor(serverName: string | undefined): string | undefined {
  if (serverName !== undefined && serverName === lastServerName) return lastSniHost;
  const host = sniHost(serverName);
  lastServerName = serverName;
  lastSniHost = host;
  return host;
}

function sniHost(serverName: string | undefined): string | undefined {
  if (serverName === undefined || serverName === '') return undefined;
  if (isIP(serverName.replace(/^\[|\]$/g, '')) !== 0) return undefined;
  const host = serverName.replace(/\.$/, '').toLowerCase();
  if (host.length === 0 || host.length > 255 || !/^[\x21-\x7e]+$/.test(host)) {
    throw new TlsConfigError(`serverName "${serverName}" is not an ASCII host name (use its A-label form)`);
  }
  return host;
}
