/**
 * The two sides of a connection as one value that carries each side's own data, instead of a role
 * string next to fields that only one role uses.
 *
 * The client chooses the first Destination Connection ID and learns the server's from its first
 * packet (RFC 9000 §7.2), may follow one Retry (§17.2.5.2) and one Version Negotiation (§6.2), and
 * carries a token in its Initials (§8.1). The server is told by its endpoint what the client's first
 * packets said and how the address was validated, and may issue NEW_TOKEN tokens (§8.1.3). Both
 * check that the peer's transport parameters name the connection IDs seen on the wire (§7.3).
 */
import { fromByteString, toByteString } from '../util/byte-string.js';
import type { Millis } from '../util/time.js';
import type { TransportParameters } from '../wire/transport-parameters.js';
import type { ClientTlsOptions, ServerConnectionConfig, ServerTlsOptions } from './connection-config.js';
import { checkClientConnectionIds, checkServerConnectionIds } from './transport-parameter-checks.js';

export type Role = 'client' | 'server';

export class ClientRole {
  readonly kind = 'client' as const;
  private _originalDcid: Uint8Array;
  private _retrySourceCid: Uint8Array | undefined;
  private _serverScid: Uint8Array | undefined;
  private _token: Uint8Array;
  private versionNegotiated = false;

  /**
   * `originalDcid`: the first DCID, unpredictable and at least 8 bytes (RFC 9000 §7.2). `token`: a
   * NEW_TOKEN of an earlier connection to this server (§8.1.3).
   */
  constructor(
    readonly tls: ClientTlsOptions,
    originalDcid: Uint8Array,
    token: Uint8Array | undefined,
  ) {
    this._originalDcid = originalDcid;
    this._token = token ?? new Uint8Array(0);
  }

  /** RFC 9002 §6.2.2: the RTT remembered with the session ticket of a resumption. */
  get rememberedRtt(): Millis | undefined {
    return this.tls.session?.rtt;
  }

  /** The DCID of our first Initial (a new one after Version Negotiation). */
  get originalDcid(): Uint8Array {
    return this._originalDcid;
  }

  /** The SCID of the Retry we followed, if any. */
  get retrySourceCid(): Uint8Array | undefined {
    return this._retrySourceCid;
  }

  /** The server's SCID, from its first packet. */
  get peerInitialScid(): Uint8Array | undefined {
    return this._serverScid;
  }

  /** The token our Initials carry: from a Retry or a NEW_TOKEN (RFC 9000 §8.1); else empty. */
  get token(): Uint8Array {
    return this._token;
  }

  /** A packet of the server was processed: no Version Negotiation or Retry is accepted after it. */
  get receivedServerPacket(): boolean {
    return this._serverScid !== undefined;
  }

  /** RFC 9000 §6.2: at most one Version Negotiation, and only before any server packet. */
  get canNegotiateVersion(): boolean {
    return !this.versionNegotiated && !this.receivedServerPacket;
  }

  /** RFC 9000 §7.2: the server's first packet; its SCID (returned, a copy) is our DCID from now on. */
  onFirstServerPacket(scid: Uint8Array): Uint8Array {
    this._serverScid = new Uint8Array(scid);
    return this._serverScid;
  }

  /**
   * RFC 9000 §17.2.5.2: a valid Retry. Its SCID (returned, a copy) becomes the DCID and the input of
   * the Initial keys; its token goes in every Initial from now on.
   */
  onRetry(scid: Uint8Array, token: Uint8Array): Uint8Array {
    const cid = new Uint8Array(scid);
    this._retrySourceCid = cid;
    this._token = new Uint8Array(token);
    return cid;
  }

  /** RFC 9000 §6.2: the attempt starts again with another version, from a new first DCID. */
  onVersionNegotiation(originalDcid: Uint8Array): void {
    this.versionNegotiated = true;
    this._originalDcid = originalDcid;
  }

  /** RFC 9000 §7.3: the server's parameters name the DCIDs we used and the SCID it sent (throws). */
  checkPeerParameters(params: TransportParameters, currentDcid: Uint8Array): void {
    checkServerConnectionIds(params, {
      originalDcid: this._originalDcid,
      serverScid: this._serverScid ?? currentDcid,
      retrySourceCid: this._retrySourceCid,
    });
  }
}

export class ServerRole {
  readonly kind = 'server' as const;
  /**
   * The connection IDs of the first flight, read when the handshake starts and when our transport
   * parameters are encoded: kept as latin1 strings (util/byte-string.ts; a Uint8Array kept for the
   * connection's life costs about 0.2 KiB with its buffer, issue 13), given as new arrays on read.
   * Without a Retry the original and the initial DCID are the same string.
   */
  private readonly originalDcidBytes: string;
  private readonly retrySourceCidBytes: string | undefined;
  private readonly peerInitialScidBytes: string;
  private readonly initialDcidBytes: string;
  /** A valid Retry or NEW_TOKEN token proved the address: no amplification limit (RFC 9000 §8.1). */
  readonly addressValidated: boolean;
  /** No RTT is remembered on this side. */
  readonly rememberedRtt = undefined;
  /** The server's TLS options and the application's 0-RTT policy: what its TLS engine is made from. */
  readonly tls: ServerTlsOptions;
  readonly acceptEarlyData: ServerConnectionConfig['acceptEarlyData'];
  private readonly newToken: (() => Uint8Array | undefined) | undefined;
  /** The endpoint's Initial keys for `initialDcid`, until the connection installs them. */
  private initialKeys: ServerConnectionConfig['initialKeys'];
  /** The first Initial as the endpoint opened it, until the receiver takes it. */
  private firstPacket: ServerConnectionConfig['firstPacket'];

  constructor(config: ServerConnectionConfig) {
    this.tls = config.tls;
    this.acceptEarlyData = config.acceptEarlyData;
    this.initialDcidBytes = toByteString(config.initialDcid);
    this.originalDcidBytes =
      config.originalDcid === config.initialDcid ? this.initialDcidBytes : toByteString(config.originalDcid);
    this.retrySourceCidBytes =
      config.retrySourceCid === undefined ? undefined : toByteString(config.retrySourceCid);
    this.peerInitialScidBytes = toByteString(config.clientScid);
    this.addressValidated = config.addressValidated;
    this.newToken = config.newToken;
    this.initialKeys = config.initialKeys;
    this.firstPacket = config.firstPacket;
  }

  /** The DCID of the client's very first Initial (from the Retry token, or that Initial). */
  get originalDcid(): Uint8Array {
    return fromByteString(this.originalDcidBytes);
  }

  /** The SCID of the Retry the client followed, if it did (RFC 9000 §17.2.5.2). */
  get retrySourceCid(): Uint8Array | undefined {
    const b = this.retrySourceCidBytes;
    return b === undefined ? undefined : fromByteString(b);
  }

  /** The client's SCID. */
  get peerInitialScid(): Uint8Array {
    return fromByteString(this.peerInitialScidBytes);
  }

  /** The DCID of the Initial that created the connection: the Initial keys derive from it (RFC 9001 §5.2). */
  get initialDcid(): Uint8Array {
    return fromByteString(this.initialDcidBytes);
  }

  /** The first Initial as the endpoint's check opened it (ServerConnectionConfig.firstPacket), once. */
  takeFirstPacket(): ServerConnectionConfig['firstPacket'] {
    const p = this.firstPacket;
    this.firstPacket = undefined;
    return p;
  }

  /**
   * The Initial keys the endpoint derived to check the first Initial (RFC 9001 §5.2), once: the
   * connection's Initial space holds them from then on (and drops them with the space).
   */
  takeInitialKeys(): ServerConnectionConfig['initialKeys'] {
    const keys = this.initialKeys;
    this.initialKeys = undefined;
    return keys;
  }

  /** A NEW_TOKEN token for the client's current address (RFC 9000 §8.1.3), if the endpoint issues them. */
  issueNewToken(): Uint8Array | undefined {
    return this.newToken?.();
  }

  /** RFC 9000 §7.3: the client's parameters name the SCID of its first Initial (throws). */
  checkPeerParameters(params: TransportParameters): void {
    checkClientConnectionIds(params, this.peerInitialScid);
  }
}

/** The side of a connection with its data (Connection holds exactly one). */
export type ConnectionRole = ClientRole | ServerRole;
