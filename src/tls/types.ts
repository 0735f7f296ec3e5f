/**
 * CONTRACT between the TLS 1.3 engine (src/tls) and the QUIC connection (src/connection).
 * RFC 9001 §4: the engine is sans-IO. The connection hands in handshake bytes per encryption level and
 * takes out bytes to send per level, traffic secrets and events.
 */
import type { CipherSuite } from '../crypto/cipher-suite.js';
import type { RandomBytes } from '../util/random.js';
import type { Millis } from '../util/time.js';
import type { KeyShareSource } from './key-exchange.js';

/** Encryption levels (RFC 9001 §4.1.4). The numeric order is the order of the handshake. */
export enum EncryptionLevel {
  Initial = 0,
  EarlyData = 1,
  Handshake = 2,
  Application = 3,
}

export type NamedGroupName = 'x25519' | 'secp256r1' | 'secp384r1';

/** Handshake bytes the engine wants sent in CRYPTO frames at `level`. Never at EarlyData. */
export interface TlsOutput {
  readonly level: EncryptionLevel.Initial | EncryptionLevel.Handshake | EncryptionLevel.Application;
  readonly data: Uint8Array;
}

export type TlsEvent =
  /** A traffic secret is ready. Emitted in handshake order, before any output that needs it. */
  | {
      type: 'secret';
      level: EncryptionLevel.EarlyData | EncryptionLevel.Handshake | EncryptionLevel.Application;
      direction: 'read' | 'write';
      suite: CipherSuite;
      secret: Uint8Array;
    }
  /** The peer's quic_transport_parameters extension, undecoded (the connection validates it). */
  | { type: 'peer-transport-parameters'; data: Uint8Array }
  /**
   * Server: what the ClientHello settled, before the handshake completes: the ALPN protocol chosen
   * and whether a session ticket (PSK) was accepted. Lets a server act on them during 0-RTT.
   */
  | { type: 'negotiated'; alpn: string; resumed: boolean }
  /**
   * Client: the server accepted or rejected the early data the client offered (from EncryptedExtensions,
   * or implied by HelloRetryRequest / a full handshake). Server: its decision. Emitted only when early
   * data was offered.
   */
  | { type: 'early-data'; accepted: boolean }
  /** Client: after sending Finished. Server: after verifying the client's Finished. */
  | {
      type: 'handshake-complete';
      alpn: string;
      suite: CipherSuite;
      /** True when a PSK (session ticket) was used. */
      resumed: boolean;
      /** DER certificates the peer presented (leaf first); empty for a resumed handshake. */
      peerCertificates: Uint8Array[];
    }
  /** Client: a NewSessionTicket arrived; store it to resume (and maybe send 0-RTT) later. */
  | { type: 'session-ticket'; session: ResumptionSession };

export interface TlsEngine {
  readonly role: 'client' | 'server';
  /** Client: produce the ClientHello (and the early secret if 0-RTT is offered). Server: no-op. */
  start(now: Millis): void;
  /**
   * Handshake bytes received in CRYPTO frames at `level`, in order (the connection reassembles CRYPTO
   * frames by offset). Messages may be split anywhere or several may arrive together.
   * Throws TlsAlertError on any failure, except QuicTransportError(PROTOCOL_VIOLATION) where RFC 9001
   * requires it (client: NewSessionTicket max_early_data_size other than 0xffffffff, §4.6.1;
   * post-handshake CertificateRequest, §4.4). After a failure every call throws the same error.
   */
  receive(level: EncryptionLevel, data: Uint8Array, now: Millis): void;
  /** Next chunk of handshake bytes to send, or undefined. */
  takeOutput(): TlsOutput | undefined;
  /** Next event, or undefined. */
  pollEvent(): TlsEvent | undefined;
  readonly handshakeComplete: boolean;
}

/** What a client keeps to resume a session (RFC 8446 §4.6.1) and to send 0-RTT (RFC 9000 §7.4.1). */
export interface ResumptionSession {
  serverName: string;
  /** The opaque ticket to send as the PSK identity. */
  ticket: Uint8Array;
  ticketAgeAdd: number;
  /** Seconds, as sent by the server (capped at 7 days). */
  lifetime: number;
  /** Wall-clock time the ticket was received. */
  receivedAt: Millis;
  suite: CipherSuite;
  /** The PSK: HKDF-Expand-Label(resumption_master_secret, "resumption", ticket_nonce, Hash.length). */
  psk: Uint8Array;
  /** 0 when the ticket does not allow early data. */
  maxEarlyDataSize: number;
  /** ALPN negotiated on the connection that received the ticket. */
  alpn: string;
  /** The server's transport parameters (encoded) from that connection, for 0-RTT limits. */
  transportParameters: Uint8Array;
  /**
   * What the application protocol keeps with the ticket for 0-RTT (HTTP/3: the server's SETTINGS,
   * RFC 9114 §7.2.4.2). Set by the application before the session is stored; opaque to TLS.
   */
  applicationData?: Uint8Array;
  /**
   * The smoothed RTT (ms) of the connection that received the ticket: a resumed connection starts
   * from it instead of the default initial RTT (RFC 9002 §6.2.2). Absent when unknown.
   */
  rtt?: Millis;
}

/** Context handed to the server's early-data policy when a client offers 0-RTT with a valid PSK. */
export interface EarlyDataContext {
  serverName: string | undefined;
  alpn: string;
  suite: CipherSuite;
  /** The client's ticket age, de-obfuscated, in milliseconds. */
  clientTicketAge: Millis;
  /** Age computed from the server's own issue time, in milliseconds. */
  serverTicketAge: Millis;
  /** Application data the server stored in the ticket when issuing it (e.g. its transport parameters). */
  ticketAppData: Uint8Array;
  /** Unique identifier of the ticket (for single-use anti-replay). */
  ticketId: Uint8Array;
  /**
   * The last instant (the clock of `now`) at which a ClientHello with this ticket and this ticket age
   * passes the freshness check (RFC 8446 §8.3): a replay of it after then has its 0-RTT rejected as
   * stale, so a record of this use of the ticket (§8.1) is needed until then, not for the ticket's
   * whole lifetime.
   */
  freshUntil: Millis;
}

export interface TlsCommonConfig {
  /** Client: offered ALPN protocols. Server: supported ones, in preference order. Must not be empty. */
  alpn: string[];
  /** Preference order; defaults to DEFAULT_CIPHER_SUITES. */
  cipherSuites?: CipherSuite[];
  /** Preference order; default ['x25519', 'secp256r1']. The client sends a key share for the first. */
  groups?: NamedGroupName[];
  /** Our encoded quic_transport_parameters extension value. */
  transportParameters: Uint8Array;
  random: RandomBytes;
  /**
   * Key shares made ahead of time (the Node shell's, made while its event loop is idle); absent or
   * empty: each share is made when the handshake needs it, from `random`.
   */
  keyShares?: KeyShareSource;
  /** NSS key log lines (without trailing newline), e.g. "CLIENT_HANDSHAKE_TRAFFIC_SECRET <cr> <secret>". */
  keyLog?: (line: string) => void;
}

export interface TlsClientConfig extends TlsCommonConfig {
  /** SNI and the name the certificate must match. An IP literal: no SNI, checked against IP SANs. */
  serverName?: string;
  /** Trust anchors (PEM strings or DER). Default: Node's tls.rootCertificates. */
  ca?: Array<string | Uint8Array>;
  /** Skip certificate verification entirely. For tests only. */
  insecureSkipVerify?: boolean;
  /** A session to resume. */
  session?: ResumptionSession;
  /** Offer early data when `session` allows it (RFC 8446 §4.2.10). */
  offerEarlyData?: boolean;
  /**
   * The connection's smoothed RTT, read when a ticket arrives and kept in its session as `rtt`
   * (RFC 9002 §6.2.2); undefined: no sample yet.
   */
  sessionRtt?: () => Millis | undefined;
}

export interface ServerIdentity {
  /** PEM chain (leaf first) or DER leaf. */
  certificateChain: string | Uint8Array;
  /** PEM private key (EC P-256/P-384, RSA, Ed25519). */
  privateKey: string | Uint8Array;
}

export interface TlsServerConfig extends TlsCommonConfig {
  identity: ServerIdentity;
  /** Choose the identity by SNI; falls back to `identity`. */
  selectIdentity?: (serverName: string | undefined) => ServerIdentity | undefined;
  /** Keys that seal and open session tickets. Absent: no tickets issued, no resumption. */
  ticketKeys?: SessionTicketKeyring;
  /** Ticket lifetime in seconds (default 86400, at most 604800). */
  ticketLifetime?: number;
  /** Tickets sent after each handshake (default 1). */
  ticketsPerConnection?: number;
  /** Whether issued tickets allow 0-RTT (early_data extension with max_early_data_size 0xffffffff). */
  issueEarlyDataTickets?: boolean;
  /** Stored inside each ticket issued; given back in EarlyDataContext. */
  ticketAppData?: () => Uint8Array;
  /** Decides 0-RTT acceptance for a valid PSK offering early data. Absent: reject. */
  acceptEarlyData?: (ctx: EarlyDataContext) => boolean;
  /** Maximum tolerated difference between client and server ticket age (default 10000 ms). */
  ticketAgeTolerance?: Millis;
}

/**
 * Rotating keys for self-contained session tickets. Any server holding the same keyring can open
 * tickets sealed by another. Implemented in src/tls/session-ticket-keys.ts.
 */
export interface SessionTicketKeyring {
  seal(plaintext: Uint8Array, now: Millis): Uint8Array;
  /** Returns undefined when the ticket was not sealed by a current key or was tampered with. */
  open(ticket: Uint8Array, now: Millis): Uint8Array | undefined;
}
