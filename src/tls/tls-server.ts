/**
 * The TLS 1.3 server engine for QUIC (RFC 8446 §4, RFC 9001 §4): ClientHello validation, cipher suite /
 * group / ALPN / identity selection, HelloRetryRequest, PSK resumption from self-contained tickets,
 * the 0-RTT decision, certificate authentication and NewSessionTicket issuance. Sans-IO.
 */
import { type CipherSuite, cipherSuiteParams } from '../crypto/cipher-suite.js';
import type { HashName } from '../crypto/hkdf.js';
import type { Millis } from '../util/time.js';
import { unpooledCopy } from '../util/unpooled.js';
import { AlertDescription, TlsAlertError } from './alert.js';
import { type ClientOffer, checkSecondClientHello, parseClientOffer } from './client-offer.js';
import {
  ExtensionType,
  HandshakeType,
  HELLO_RETRY_REQUEST_RANDOM,
  PskKeyExchangeMode,
  QUIC_MAX_EARLY_DATA_SIZE,
  TLS13_VERSION,
} from './codepoints.js';
import { type Extension, encodeAlpn, encodeKeyShareServer } from './extensions.js';
import type { HandshakeMessage } from './handshake-message-framing.js';
import { generateKeyShare } from './key-exchange.js';
import { finishedVerifyData, KeySchedule, macEquals } from './key-schedule.js';
import { encodeCertificate } from './messages/certificate.js';
import { encodeCertificateVerify } from './messages/certificate-verify.js';
import { encodeEncryptedExtensions } from './messages/encrypted-extensions.js';
import { decodeFinished, encodeFinished } from './messages/finished.js';
import { MAX_TICKET_LIFETIME } from './messages/new-session-ticket.js';
import { encodeServerHello } from './messages/server-hello.js';
import { TlsConfigError } from './private-key.js';
import { openOfferedTicket, type SelectedPsk, selectPsk } from './psk-selection.js';
import { type LoadedIdentity, loadServerIdentity } from './server-identity.js';
import type { SessionTicketContents } from './session-ticket.js';
import { certificateVerifyContent, selectSignatureScheme, signWithScheme } from './signature-scheme.js';
import { issueTickets } from './ticket-issuer.js';
import { indexOfProtocol, type NormalizedCommonConfig, normalizeCommonConfig } from './tls-config.js';
import { TlsEngineBase } from './tls-engine-base.js';
import { TlsWriter } from './tls-writer.js';
import { TranscriptHash } from './transcript-hash.js';
import { EncryptionLevel, type TlsServerConfig } from './types.js';

enum ServerState {
  WaitClientHello,
  WaitSecondClientHello,
  WaitFinished,
  Connected,
}

const DEFAULT_TICKET_LIFETIME = 86400;
const DEFAULT_TICKET_AGE_TOLERANCE: Millis = 10000;

function hashOf(suite: CipherSuite): HashName {
  return cipherSuiteParams(suite).hash;
}

function ext(type: number, body: (w: TlsWriter) => void): Extension {
  const w = new TlsWriter(64);
  body(w);
  return { type, data: w.finish() };
}

/** The Certificate message of each loaded identity (see certificateMessage()). */
const certificateMessages = new WeakMap<LoadedIdentity, Buffer>();

/**
 * The Certificate message (RFC 8446 §4.4.2) of an identity: the same bytes on every full handshake
 * (empty request context, no per-entry extensions), so encoded once per identity, not per
 * connection (issue 13). Read-only: the transcript hashes it and the connection copies it into
 * CRYPTO frames.
 */
function certificateMessage(loaded: LoadedIdentity): Buffer {
  let m = certificateMessages.get(loaded);
  if (m === undefined) {
    m = encodeCertificate(new Uint8Array(0), loaded.chain);
    certificateMessages.set(loaded, m);
  }
  return m;
}

export class TlsServer extends TlsEngineBase {
  readonly role = 'server' as const;
  private readonly config: TlsServerConfig;
  private readonly common: NormalizedCommonConfig;
  private readonly ticketLifetime: number;
  private readonly ticketsPerConnection: number;
  private readonly ticketAgeTolerance: Millis;
  private state = ServerState.WaitClientHello;

  get handshakeComplete(): boolean {
    return this.state === ServerState.Connected;
  }
  private readonly transcript = new TranscriptHash();
  private firstOffer: ClientOffer | undefined;
  private helloRetry: { suite: CipherSuite; group: number } | undefined;
  private suite: CipherSuite | undefined;
  private schedule: KeySchedule | undefined;
  private clientHandshakeSecret: Buffer | undefined;
  private alpnIndex = 0;
  private serverName: string | undefined;
  private resumedTicket: SessionTicketContents | undefined;
  private clientSupportsTickets = false;

  constructor(config: TlsServerConfig) {
    const common = normalizeCommonConfig(config);
    super(config.random, config.keyLog);
    this.config = config;
    this.common = common;
    const lifetime = config.ticketLifetime ?? DEFAULT_TICKET_LIFETIME;
    if (!Number.isInteger(lifetime) || lifetime < 0) {
      throw new TlsConfigError(`ticketLifetime must be a whole number of seconds, got ${lifetime}`);
    }
    // RFC 8446 §4.6.1: at most 7 days.
    this.ticketLifetime = Math.min(lifetime, MAX_TICKET_LIFETIME);
    this.ticketsPerConnection = config.ticketsPerConnection ?? 1;
    if (
      !Number.isInteger(this.ticketsPerConnection) ||
      this.ticketsPerConnection < 0 ||
      this.ticketsPerConnection > 16
    ) {
      throw new TlsConfigError('ticketsPerConnection must be an integer between 0 and 16');
    }
    this.ticketAgeTolerance = config.ticketAgeTolerance ?? DEFAULT_TICKET_AGE_TOLERANCE;
    // Fail early on a bad default identity (throws TlsConfigError).
    loadServerIdentity(config.identity);
  }

  start(_now: Millis): void {
    // The server waits for the ClientHello.
  }

  protected readLevel(): EncryptionLevel | undefined {
    switch (this.state) {
      case ServerState.WaitClientHello:
      case ServerState.WaitSecondClientHello:
        return EncryptionLevel.Initial;
      case ServerState.WaitFinished:
        return EncryptionLevel.Handshake;
      case ServerState.Connected:
        return undefined;
    }
  }

  protected checkMessageType(type: number): void {
    const expected =
      this.state === ServerState.WaitFinished ? HandshakeType.finished : HandshakeType.client_hello;
    if (type !== expected) throw this.unexpected(type, ServerState[this.state]);
  }

  protected handleMessage(msg: HandshakeMessage, now: Millis): void {
    if (msg.type === HandshakeType.client_hello) this.onClientHello(msg, now);
    else this.onFinished(msg, now);
  }

  private selectSuite(offer: ClientOffer, first: SessionTicketContents | undefined): CipherSuite {
    if (this.helloRetry) {
      // RFC 8446 §4.1.4: the suite chosen for the HelloRetryRequest stays.
      if (!offer.ch.cipherSuites.includes(this.helloRetry.suite)) {
        throw new TlsAlertError(
          AlertDescription.illegal_parameter,
          'second ClientHello dropped the selected suite',
        );
      }
      return this.helloRetry.suite;
    }
    const candidates = this.common.suites.filter((s) => offer.ch.cipherSuites.includes(s));
    if (candidates.length === 0)
      throw new TlsAlertError(AlertDescription.handshake_failure, 'no common cipher suite');
    // Prefer the suite of the ticket offered first, so that resumption and 0-RTT stay possible
    // (RFC 8446 §4.2.11: client-provided PSKs may influence suite selection).
    if (first && candidates.includes(first.suite)) return first.suite;
    return candidates[0]!;
  }

  private selectGroup(offer: ClientOffer): number {
    if (this.helloRetry) return this.helloRetry.group;
    // Server preference order among the client's supported groups (RFC 8446 §4.2.7).
    const group = this.common.groups.find((g) => offer.groups.includes(g));
    if (group === undefined) {
      throw new TlsAlertError(AlertDescription.handshake_failure, 'no common key exchange group');
    }
    return group;
  }

  private selectAlpn(offer: ClientOffer): number {
    for (let i = 0; i < this.common.alpnBytes.length; i++) {
      if (indexOfProtocol(offer.alpn, this.common.alpnBytes[i]!) >= 0) return i;
    }
    // RFC 9001 §8.1: no common application protocol -> no_application_protocol.
    throw new TlsAlertError(AlertDescription.no_application_protocol, 'no common application protocol');
  }

  private onClientHello(msg: HandshakeMessage, now: Millis): void {
    const offer = parseClientOffer(msg.raw);
    if (this.state === ServerState.WaitClientHello) this.recordClientRandom(unpooledCopy(offer.ch.random));
    // The first offered ticket is decrypted once: it may choose the suite and is the first PSK tried.
    // Only psk_dhe_ke is supported (RFC 8446 §4.2.9): without it no ticket is opened.
    const first = offer.pskModes.includes(PskKeyExchangeMode.psk_dhe_ke)
      ? { ticket: openOfferedTicket(offer, this.config.ticketKeys, 0, now) }
      : undefined;
    const suite = this.selectSuite(offer, first?.ticket);
    const hash = hashOf(suite);
    const group = this.selectGroup(offer);
    if (this.firstOffer) checkSecondClientHello(this.firstOffer, offer, group);
    this.alpnIndex = this.selectAlpn(offer);
    const share = offer.shares.find((s) => s.group === group);
    if (!share) {
      this.sendHelloRetryRequest(offer, suite, group);
      return;
    }
    this.transcript.init(hash);
    const psk = selectPsk(offer, {
      keys: this.config.ticketKeys,
      suite,
      alpn: this.common.alpnBytes[this.alpnIndex]!,
      now,
      ticketAgeTolerance: this.ticketAgeTolerance,
      transcript: this.transcript,
      ...(first ? { first } : {}),
    });
    // RFC 8446 §9.2: certificate authentication needs signature_algorithms.
    if (!psk && offer.signatureAlgorithms === undefined) {
      throw new TlsAlertError(AlertDescription.missing_extension, 'ClientHello without signature_algorithms');
    }
    this.suite = suite;
    this.serverName = offer.serverName;
    this.resumedTicket = psk?.ticket;
    this.clientSupportsTickets = offer.pskModes.includes(PskKeyExchangeMode.psk_dhe_ke);
    this.transcript.add(msg.raw);
    this.emit({ type: 'negotiated', alpn: this.common.alpn[this.alpnIndex]!, resumed: psk !== undefined });
    this.emit({ type: 'peer-transport-parameters', data: unpooledCopy(offer.transportParameters) });

    const schedule = new KeySchedule(hash, psk?.ticket.psk);
    this.schedule = schedule;
    const acceptEarly =
      offer.earlyData && !this.helloRetry && psk !== undefined && this.acceptEarlyData(offer, psk, suite);
    if (acceptEarly) {
      // RFC 8446 §7.1: client_early_traffic_secret over ClientHello, before the ServerHello is sent.
      const secret = schedule.clientEarlyTrafficSecret(this.transcript.digest());
      this.emitSecret(EncryptionLevel.EarlyData, 'read', suite, secret, 'CLIENT_EARLY_TRAFFIC_SECRET');
    }
    if (offer.earlyData && !this.helloRetry) this.emit({ type: 'early-data', accepted: acceptEarly });

    // ServerHello (RFC 8446 §4.1.3).
    const keyShare = generateKeyShare(group, this.random, this.config.keyShares);
    const shared = keyShare.computeSecret(share.keyExchange);
    const shExtensions: Extension[] = [
      ext(ExtensionType.supported_versions, (w) => w.u16(TLS13_VERSION)),
      ext(ExtensionType.key_share, (w) =>
        encodeKeyShareServer(w, { group, keyExchange: keyShare.publicKey }),
      ),
    ];
    if (psk) shExtensions.push(ext(ExtensionType.pre_shared_key, (w) => w.u16(psk.index)));
    const sh = encodeServerHello({
      random: this.random(32),
      legacySessionIdEcho: offer.ch.legacySessionId,
      cipherSuite: suite,
      extensions: shExtensions,
    });
    this.transcript.add(sh);
    this.send(EncryptionLevel.Initial, sh);

    schedule.deriveHandshakeSecret(shared);
    const th = this.transcript.digest();
    this.clientHandshakeSecret = schedule.clientHandshakeTrafficSecret(th);
    const serverHandshakeSecret = schedule.serverHandshakeTrafficSecret(th);
    this.emitSecret(
      EncryptionLevel.Handshake,
      'read',
      suite,
      this.clientHandshakeSecret,
      'CLIENT_HANDSHAKE_TRAFFIC_SECRET',
    );
    this.emitSecret(
      EncryptionLevel.Handshake,
      'write',
      suite,
      serverHandshakeSecret,
      'SERVER_HANDSHAKE_TRAFFIC_SECRET',
    );

    // EncryptedExtensions (RFC 8446 §4.3.1; RFC 9001 §8.1, §8.2).
    const eeExtensions: Extension[] = [
      ext(ExtensionType.application_layer_protocol_negotiation, (w) =>
        encodeAlpn(w, [this.common.alpnBytes[this.alpnIndex]!]),
      ),
      { type: ExtensionType.quic_transport_parameters, data: this.common.transportParameters },
    ];
    // RFC 6066 §3: an empty server_name acknowledges the SNI used to pick the certificate.
    if (offer.serverName !== undefined && !psk) {
      eeExtensions.push({ type: ExtensionType.server_name, data: new Uint8Array(0) });
    }
    if (acceptEarly) eeExtensions.push({ type: ExtensionType.early_data, data: new Uint8Array(0) });
    this.sendHandshake(encodeEncryptedExtensions(eeExtensions));

    if (!psk) this.sendCertificate(offer);

    // Finished (RFC 8446 §4.4.4), then the application secrets.
    this.sendHandshake(
      encodeFinished(finishedVerifyData(hash, serverHandshakeSecret, this.transcript.digest())),
    );
    schedule.deriveMasterSecret();
    const th2 = this.transcript.digest();
    const serverApp = schedule.serverApplicationTrafficSecret(th2);
    const clientApp = schedule.clientApplicationTrafficSecret(th2);
    this.emitSecret(EncryptionLevel.Application, 'write', suite, serverApp, 'SERVER_TRAFFIC_SECRET_0');
    this.emitSecret(EncryptionLevel.Application, 'read', suite, clientApp, 'CLIENT_TRAFFIC_SECRET_0');
    this.state = ServerState.WaitFinished;
  }

  private sendHandshake(message: Buffer): void {
    this.transcript.add(message);
    this.send(EncryptionLevel.Handshake, message);
  }

  /** RFC 8446 §4.1.4: HelloRetryRequest asking for a key share of `group`. */
  private sendHelloRetryRequest(offer: ClientOffer, suite: CipherSuite, group: number): void {
    if (this.helloRetry) {
      throw new TlsAlertError(AlertDescription.illegal_parameter, 'no key share after HelloRetryRequest');
    }
    this.helloRetry = { suite, group };
    this.firstOffer = offer;
    const hrr = encodeServerHello({
      random: HELLO_RETRY_REQUEST_RANDOM,
      legacySessionIdEcho: offer.ch.legacySessionId,
      cipherSuite: suite,
      extensions: [
        ext(ExtensionType.supported_versions, (w) => w.u16(TLS13_VERSION)),
        ext(ExtensionType.key_share, (w) => w.u16(group)),
      ],
    });
    // RFC 8446 §4.4.1: the transcript continues with message_hash(ClientHello1), HelloRetryRequest.
    this.transcript.init(hashOf(suite));
    this.transcript.add(offer.raw);
    this.transcript.replaceWithMessageHash();
    this.transcript.add(hrr);
    this.send(EncryptionLevel.Initial, hrr);
    // RFC 9001 §4.6.2: a HelloRetryRequest rejects 0-RTT.
    if (offer.earlyData) this.emit({ type: 'early-data', accepted: false });
    this.state = ServerState.WaitSecondClientHello;
  }

  /** RFC 8446 §4.2.10 and RFC 9001 §4.6: when the server may accept 0-RTT. */
  private acceptEarlyData(offer: ClientOffer, psk: SelectedPsk, suite: CipherSuite): boolean {
    // The first identity, fresh, a 0-RTT ticket of the same suite (its ALPN was checked on selection).
    if (psk.index !== 0 || !psk.fresh) return false;
    if (psk.ticket.maxEarlyData !== QUIC_MAX_EARLY_DATA_SIZE || psk.ticket.suite !== suite) return false;
    const policy = this.config.acceptEarlyData;
    if (!policy) return false;
    return (
      policy({
        serverName: offer.serverName,
        alpn: this.common.alpn[this.alpnIndex]!,
        suite,
        clientTicketAge: psk.clientAge,
        serverTicketAge: psk.serverAge,
        ticketAppData: Buffer.from(psk.ticket.appData),
        ticketId: Buffer.from(psk.ticket.ticketId),
        // RFC 8446 §8.3: a ClientHello carrying this age is fresh while the server's age of the
        // ticket is at most clientAge + tolerance. From the ticket's issue time, not the clamped age
        // (a ticket issued by a server whose clock runs ahead has a negative age here).
        freshUntil: psk.ticket.issuedAt + psk.clientAge + this.ticketAgeTolerance,
      }) === true
    );
  }

  /** Certificate and CertificateVerify (RFC 8446 §4.4.2, §4.4.3). */
  private sendCertificate(offer: ClientOffer): void {
    const identity = this.config.selectIdentity?.(offer.serverName) ?? this.config.identity;
    const loaded = loadServerIdentity(identity);
    const scheme = selectSignatureScheme(loaded.key, offer.signatureAlgorithms ?? []);
    // RFC 8446 §4.4.2.2: no usable signature scheme -> handshake_failure.
    if (scheme === undefined) {
      throw new TlsAlertError(
        AlertDescription.handshake_failure,
        'no signature scheme fits the certificate key',
      );
    }
    this.sendHandshake(certificateMessage(loaded));
    const content = certificateVerifyContent('server', this.transcript.digest());
    this.sendHandshake(encodeCertificateVerify(scheme, signWithScheme(scheme, loaded.key, content)));
  }

  private onFinished(msg: HandshakeMessage, now: Millis): void {
    const schedule = this.schedule!;
    const suite = this.suite!;
    const verifyData = decodeFinished(msg.body, schedule.hashLength);
    const expected = finishedVerifyData(schedule.hash, this.clientHandshakeSecret!, this.transcript.digest());
    // RFC 8446 §4.4.4: a wrong Finished -> decrypt_error.
    if (!macEquals(verifyData, expected)) {
      throw new TlsAlertError(AlertDescription.decrypt_error, 'client Finished is invalid');
    }
    this.transcript.add(msg.raw);
    this.state = ServerState.Connected;
    this.emit({
      type: 'handshake-complete',
      alpn: this.common.alpn[this.alpnIndex]!,
      suite,
      resumed: this.resumedTicket !== undefined,
      peerCertificates: [],
    });
    const keys = this.config.ticketKeys;
    // RFC 8446 §4.2.9: no tickets the client cannot use (it did not offer psk_dhe_ke).
    if (!keys || !this.clientSupportsTickets || this.ticketLifetime === 0) return;
    // RFC 8446 §7.1: over the whole handshake, the client Finished included; derived only for tickets.
    const resumptionMasterSecret = schedule.resumptionMasterSecret(this.transcript.finish());
    const tickets = issueTickets({
      keys,
      random: this.random,
      count: this.ticketsPerConnection,
      suite,
      resumptionMasterSecret,
      lifetime: this.ticketLifetime,
      earlyData: this.config.issueEarlyDataTickets === true,
      alpn: this.common.alpnBytes[this.alpnIndex]!,
      serverName: this.serverName,
      appData: this.config.ticketAppData?.() ?? new Uint8Array(0),
      authTime: this.resumedTicket?.authTime ?? now,
      now,
    });
    for (const t of tickets) this.send(EncryptionLevel.Application, t);
  }
}
