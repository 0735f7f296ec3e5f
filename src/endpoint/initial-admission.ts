/**
 * What a server does with a datagram that starts with a long header no connection routes: the
 * checks before any per-connection state exists.
 *
 * In order: Initials in datagrams under 1200 bytes are dropped (RFC 9000 §14.1); an unknown version
 * gets Version Negotiation (§6.1); a packet that is not an Initial, has a DCID under 8 bytes (§7.2)
 * or does not open with the Initial keys into a ClientHello is dropped without an answer (issue 10,
 * defect 4); a token is checked (§8.1.2 Retry, §8.1.3 NEW_TOKEN); an unvalidated client gets a Retry
 * when the server always asks for one or while many handshakes from unvalidated addresses are
 * pending; the half-open bound drops; the connection bound refuses (§10.2.3). What is left is
 * admitted, with the keys and the opened packet the new connection takes over.
 *
 * Stateless: besides its counters, nothing here outlives a call. The endpoint creates the connection.
 */
import { deriveInitialSecrets } from '../crypto/initial-secrets.js';
import { initialPacketKeys, type PacketKeys } from '../crypto/packet-keys.js';
import type { OpenedPacket } from '../crypto/packet-protection.js';
import { retryIntegrityTag } from '../crypto/retry.js';
import type { RandomBytes } from '../util/random.js';
import type { Millis } from '../util/time.js';
import {
  encodeRetryWithoutTag,
  encodeVersionNegotiation,
  type LongHeaderPacket,
  PacketType,
  type ParsedPacket,
  type parseInvariantHeader,
  parsePacket,
} from '../wire/packet-header.js';
import { SUPPORTED_VERSIONS } from '../wire/version.js';
import type { AddressTokens } from './address-token.js';
import { openClientHello } from './client-hello-check.js';
import { encodeRefusal } from './connection-refusal.js';
import type { ServerEndpointOptions } from './endpoint.js';

/** Defaults of the server's admission options (documented in docs/security.md). */
export const DEFAULT_MAX_HALF_OPEN = 1000;
export const DEFAULT_RETRY_THRESHOLD = 100;
export const DEFAULT_MAX_CONNECTIONS = 10_000;

/** The server options admission reads (documented on ServerEndpointOptions). */
export type AdmissionOptions = Pick<
  ServerEndpointOptions,
  'retry' | 'retryThreshold' | 'versions' | 'maxHalfOpen' | 'maxConnections'
>;

/** The server's load when a new Initial arrives (counted by the endpoint, which owns the connections). */
export interface AdmissionLoad {
  /** Connections still in their handshake. */
  halfOpen(): number;
  /** Of those, the ones whose client address is not validated. */
  unvalidatedHalfOpen(): number;
  /** Server connections not yet terminated. */
  serverConnections(): number;
}

/** An Initial that passed every check: what the new connection starts from. */
export interface AdmittedInitial {
  readonly initial: LongHeaderPacket;
  /** The first packet, already opened with the client's Initial keys (not opened again). */
  readonly opened: OpenedPacket;
  readonly clientKeys: PacketKeys;
  /** RFC 9001 §5.2: the server's Initial secret; its keys are derived only for an admitted Initial. */
  readonly serverSecret: Uint8Array;
  /** The DCID of the client's first Initial: from the Retry token when there was one. */
  readonly originalDcid: Uint8Array;
  /** The SCID of our Retry (the DCID of this Initial), when the client came back from one. */
  readonly retrySourceCid: Uint8Array | undefined;
  /** The client proved its address with a Retry or NEW_TOKEN token. */
  readonly validated: boolean;
}

/** Admitted, answered without state (Version Negotiation, Retry, refusal), or dropped (undefined). */
export type Admission =
  | { readonly kind: 'admit'; readonly admitted: AdmittedInitial }
  | { readonly kind: 'answer'; readonly datagram: Uint8Array }
  | undefined;

/** Datagrams dropped or answered statelessly on the accept path, by reason (for tests and stats). */
export interface AdmissionStats {
  notClientHello: number;
  halfOpenFull: number;
  retried: number;
  refused: number;
}

export class InitialAdmission {
  readonly stats: AdmissionStats = { notClientHello: 0, halfOpenFull: 0, retried: 0, refused: 0 };

  constructor(
    private readonly options: AdmissionOptions,
    private readonly tokens: AddressTokens,
    private readonly random: RandomBytes,
    private readonly cidLength: number,
    private readonly load: AdmissionLoad,
  ) {}

  admit(
    datagram: Uint8Array,
    header: ReturnType<typeof parseInvariantHeader>,
    from: string,
    now: Millis,
  ): Admission {
    const options = this.options;
    const load = this.load;
    const versions = options.versions ?? SUPPORTED_VERSIONS;
    // RFC 9000 §14.1: Initials in datagrams below 1200 bytes are dropped (this also limits VN amplification).
    if (datagram.length < 1200) return undefined;
    if (!versions.includes(header.version)) {
      // RFC 9000 §6.1: Version Negotiation, echoing the CIDs swapped; never in answer to a VN.
      if (header.version === 0) return undefined;
      const unused = this.random(1)[0]! & 0x7f;
      return {
        kind: 'answer',
        datagram: encodeVersionNegotiation(header.scid, header.dcid, versions, unused),
      };
    }
    let packet: ParsedPacket;
    try {
      packet = parsePacket(datagram, 0, this.cidLength);
    } catch {
      return undefined;
    }
    if (packet.type !== PacketType.Initial) return undefined; // 0-RTT before its Initial: dropped
    const initial = packet as LongHeaderPacket;
    // RFC 9000 §7.2: the client's first DCID is at least 8 bytes.
    if (initial.dcid.length < 8) return undefined;
    // No state, and no answer, for a datagram that no QUIC client could have sent: it must decrypt
    // with the Initial keys and start a ClientHello (issue 10, defect 4).
    // RFC 9001 §5.2: the Initial secrets of both directions come from this DCID; the client's keys
    // open the packet (leaving the datagram as it arrived).
    const secrets = deriveInitialSecrets(initial.version, initial.dcid);
    const clientKeys = initialPacketKeys(secrets.client, initial.version);
    const opened = openClientHello(datagram, initial, clientKeys);
    if (opened === null) {
      this.stats.notClientHello++;
      return undefined;
    }

    let originalDcid = initial.dcid;
    let retrySourceCid: Uint8Array | undefined;
    let validated = false;
    if (initial.token.length > 0) {
      const retryToken = this.tokens.validate(initial.token, 'retry', from, now);
      if (retryToken) {
        originalDcid = retryToken.originalDcid!;
        retrySourceCid = initial.dcid;
        validated = true;
      } else if (this.tokens.validate(initial.token, 'new-token', from, now)) {
        validated = true;
      }
    }
    // RFC 9000 §8.1.2: always with `retry`, and automatically while many handshakes are pending
    // from unvalidated addresses (a flood from spoofed addresses gets Retries, not state).
    if (
      !validated &&
      (options.retry || load.unvalidatedHalfOpen() >= (options.retryThreshold ?? DEFAULT_RETRY_THRESHOLD))
    ) {
      this.stats.retried++;
      return { kind: 'answer', datagram: this.retryFor(initial, from, now) };
    }
    if (load.halfOpen() >= (options.maxHalfOpen ?? DEFAULT_MAX_HALF_OPEN)) {
      this.stats.halfOpenFull++;
      return undefined;
    }
    if (load.serverConnections() >= (options.maxConnections ?? DEFAULT_MAX_CONNECTIONS)) {
      // RFC 9000 §10.2.3: CONNECTION_CLOSE in an Initial packet, with CONNECTION_REFUSED (§20.1).
      this.stats.refused++;
      return { kind: 'answer', datagram: encodeRefusal(initial, this.random(this.cidLength)) };
    }
    return {
      kind: 'admit',
      admitted: {
        initial,
        opened,
        clientKeys,
        serverSecret: secrets.server,
        originalDcid,
        retrySourceCid,
        validated,
      },
    };
  }

  /** RFC 9000 §17.2.5: a Retry carrying a token that binds the address and the original DCID. */
  private retryFor(initial: LongHeaderPacket, from: string, now: Millis): Uint8Array {
    const scid = this.random(this.cidLength);
    const token = this.tokens.issue({
      kind: 'retry',
      address: from,
      issuedAt: now,
      originalDcid: initial.dcid,
    });
    const body = encodeRetryWithoutTag(initial.version, initial.scid, scid, token, this.random(1)[0]! & 0x0f);
    const tag = retryIntegrityTag(initial.version, initial.dcid, body);
    const packet = new Uint8Array(body.length + tag.length);
    packet.set(body, 0);
    packet.set(tag, body.length);
    return packet;
  }
}
