/**
 * What is left of a connection once it has nothing more to do but wait out its closing or draining
 * period (RFC 9000 §10.2): the connection has sent its CONNECTION_CLOSE (closing) or heard the peer's
 * (draining). For the rest of the period, at least three PTO, an endpoint only has to
 *
 * - answer a packet that it attributes to the connection with the CONNECTION_CLOSE again, at a
 *   decreasing rate (§10.2.1, closing-answers.ts); the same datagram may be sent again ("Allowing
 *   retransmission of a closing packet is an exception to the requirement that a new packet number
 *   be used for each packet", §10.2.1), so no write keys or packet numbers are needed;
 * - stop answering once the peer's CONNECTION_CLOSE or stateless reset arrives (draining, §10.2.2,
 *   §10.3.1);
 * - keep the connection IDs routed here, so that late packets are neither answered with a stateless
 *   reset nor taken for a new connection.
 *
 * The endpoint swaps a connection in that state for this remnant (Connection.retire, endpoint.ts),
 * and the connection ends: its streams, TLS engine, recovery and buffers need not live for the period
 * (issue 13: a closing connection kept whole for 3 PTO, about 35 KiB for a client with its socket,
 * was most of what V8 promoted to its old generation under a load of short connections).
 *
 * Attribution is what the connection did in its closing state (connection-receiver.ts,
 * receiveWhileClosing): the packet must open with the connection's read keys and come from the
 * peer's address; the same receiver code runs here over the keys and packet numbers kept.
 */
import type { PacketKeys } from '../crypto/packet-keys.js';
import type { Millis } from '../util/time.js';
import type { ClosingAnswers } from './closing-answers.js';
import { ConnectionReceiver, type ReceiverHost, type ReceiveSpace } from './connection-receiver.js';
import type { OneRttKeys } from './one-rtt-keys.js';

/** What a packet number space leaves: its read keys and the largest packet number received. */
export interface RemnantSpace {
  readonly discarded: boolean;
  readonly readKeys: PacketKeys | undefined;
  readonly largestReceived: number;
}

export interface ClosingRemnantParts {
  readonly role: 'client' | 'server';
  readonly version: number;
  readonly connectionIdLength: number;
  readonly maxDatagramFrameSize: number | undefined;
  /** The end of the closing or draining period. */
  readonly deadline: Millis;
  /** The peer's address: only its packets are answered. */
  readonly peerAddress: string;
  /** The datagram that carried our CONNECTION_CLOSE; undefined when draining (nothing is sent). */
  readonly closeDatagram: Uint8Array | undefined;
  readonly spaces: readonly [RemnantSpace, RemnantSpace, RemnantSpace];
  readonly oneRtt: OneRttKeys | undefined;
  readonly handshakeComplete: boolean;
  /** The connection's answer count so far, carried on (the 1st, 2nd, 4th, ... packet is answered). */
  readonly answers: ClosingAnswers;
  /** Whether a token is one of the peer's stateless reset tokens (RFC 9000 §10.3.1). */
  isStatelessResetToken(token: Uint8Array): boolean;
}

const noop = (): void => {};
// What the receiver may call that means nothing any more in a closing connection: shared by every
// remnant (one is made per closed connection, issue 13).
const NO_CRYPTO = { receive: () => undefined };
const NO_LOCAL_CIDS = { onRetire: noop, replenish: noop };
const NO_RECOVERY = { onAckFrame: noop };
const NO_COUNTERS = { onPacketReceived: noop };
const NO_PEER_CID = new Uint8Array(0);
const NO_PERIOD = (): number => 0;

function receiveSpace(s: RemnantSpace): ReceiveSpace {
  return {
    discarded: s.discarded,
    readKeys: s.readKeys,
    acks: { largestReceived: s.largestReceived, isDuplicate: () => true, onPacketReceived: noop },
    crypto: NO_CRYPTO,
  };
}

const DISCARDED_SPACE = receiveSpace({ discarded: true, readKeys: undefined, largestReceived: -1 });

export class ClosingRemnant {
  readonly deadline: Millis;
  readonly peerAddress: string;
  private readonly closeDatagram: Uint8Array | undefined;
  private draining: boolean;
  private readonly receiver: ConnectionReceiver | undefined;
  /** Set by the receiver (framer.queueClose) when the datagram being received draws an answer. */
  private answer = false;

  constructor(p: ClosingRemnantParts) {
    this.deadline = p.deadline;
    this.peerAddress = p.peerAddress;
    this.closeDatagram = p.closeDatagram;
    this.draining = p.closeDatagram === undefined;
    // Draining: nothing is sent and nothing needs to be opened.
    this.receiver = this.draining ? undefined : new ConnectionReceiver(this.host(p), p.answers);
  }

  /** Draining: the peer closed too, or we only ever heard its close; nothing is sent any more. */
  get isDraining(): boolean {
    return this.draining;
  }

  /**
   * A datagram routed here by its connection ID, from `from`: the CONNECTION_CLOSE datagram to send
   * back to the peer, or undefined.
   */
  receive(datagram: Uint8Array, from: string, now: Millis): Uint8Array | undefined {
    if (this.receiver === undefined || this.draining || now >= this.deadline) return undefined;
    this.answer = false;
    try {
      this.receiver.receiveDatagram(datagram, from, now);
    } catch {
      // Whatever a packet makes the receiver throw, a closing connection acts on nothing.
      return undefined;
    }
    return this.answer && !this.draining ? this.closeDatagram : undefined;
  }

  /** The receiver's host: the state kept, and the two reports that matter while closing. */
  private host(p: ClosingRemnantParts): ReceiverHost {
    const remnant = this;
    const space = (s: RemnantSpace): ReceiveSpace => (s.discarded ? DISCARDED_SPACE : receiveSpace(s));
    return {
      role: p.role,
      version: p.version,
      options: { connectionIdLength: p.connectionIdLength, maxDatagramFrameSize: p.maxDatagramFrameSize },
      get state() {
        return remnant.draining ? 'draining' : 'closing';
      },
      trace: undefined,
      dropTrace: undefined,
      spaces: [space(p.spaces[0]), space(p.spaces[1]), space(p.spaces[2])],
      handshake: {
        oneRtt: p.oneRtt,
        zeroRttKeys: undefined,
        complete: p.handshakeComplete,
        confirmed: p.handshakeComplete,
        peerParams: undefined,
        epoch: undefined,
        feed: noop,
      },
      peerCids: {
        current: NO_PEER_CID,
        onNewConnectionId: noop,
        isStatelessResetToken: p.isStatelessResetToken,
      },
      localCids: NO_LOCAL_CIDS,
      paths: { current: { address: p.peerAddress }, onPacket: noop, onChallenge: noop, onResponse: noop },
      recovery: NO_RECOVERY,
      counters: NO_COUNTERS,
      framer: {
        queuePing: noop,
        queueClose: () => {
          remnant.answer = true;
        },
      },
      ptoPeriod: NO_PERIOD,
      events: {
        pushEvent: noop,
        onPacketProcessed: noop,
        onHandshakePacket: noop,
        onHandshakeDone: noop,
        // RFC 9000 §10.2.2, §10.3.1: the peer's CONNECTION_CLOSE or stateless reset: draining.
        onPeerClosed: () => {
          remnant.draining = true;
        },
      },
      client: undefined,
    };
  }
}
