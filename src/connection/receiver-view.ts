/**
 * The receiver's host (ReceiverHost) made of the connection's parts, with `version` and `state`
 * read through from the connection. A class with prototype getters, not an object literal with
 * getters: V8 keeps an object whose getters are new closures per connection in dictionary mode,
 * about 0.85 KiB per connection (issue 13, idle memory). It is also the receiver's `events`: its
 * methods forward to the connection, so no closure is kept per connection.
 */

import type { CloseInfo, ConnectionEvent } from './connection-events.js';
import type { ReceiverEvents, ReceiverHost } from './connection-receiver.js';
import type { ConnectionState } from './connection-state.js';

type Parts = Omit<ReceiverHost, 'version' | 'state' | 'ptoPeriod' | 'events'>;

/** What the view reads through from the connection, and the connection's answers to events. */
export interface ReceiverSource {
  readonly version: number;
  readonly state: ConnectionState;
  ptoPeriod(): number;
  pushEvent(e: ConnectionEvent): void;
  onPacketProcessed(now: number): void;
  onClientHandshakePacket(from: string, now: number): void;
  onHandshakeConfirmed(): void;
  startDraining(info: CloseInfo, now: number): void;
}

export class ReceiverView implements ReceiverHost, ReceiverEvents {
  readonly role: Parts['role'];
  readonly options: Parts['options'];
  readonly trace: Parts['trace'];
  readonly dropTrace: Parts['dropTrace'];
  readonly spaces: Parts['spaces'];
  readonly handshake: Parts['handshake'];
  readonly peerCids: Parts['peerCids'];
  readonly localCids: Parts['localCids'];
  readonly paths: Parts['paths'];
  readonly recovery: Parts['recovery'];
  readonly counters: Parts['counters'];
  readonly framer: Parts['framer'];
  readonly client: Parts['client'];

  constructor(
    private readonly source: ReceiverSource,
    parts: Parts,
  ) {
    this.role = parts.role;
    this.options = parts.options;
    this.trace = parts.trace;
    this.dropTrace = parts.dropTrace;
    this.spaces = parts.spaces;
    this.handshake = parts.handshake;
    this.peerCids = parts.peerCids;
    this.localCids = parts.localCids;
    this.paths = parts.paths;
    this.recovery = parts.recovery;
    this.counters = parts.counters;
    this.framer = parts.framer;
    this.client = parts.client;
  }

  get version(): number {
    return this.source.version;
  }

  get state(): ConnectionState {
    return this.source.state;
  }

  ptoPeriod(): number {
    return this.source.ptoPeriod();
  }

  get events(): ReceiverEvents {
    return this;
  }

  pushEvent(e: ConnectionEvent): void {
    this.source.pushEvent(e);
  }

  onPacketProcessed(now: number): void {
    this.source.onPacketProcessed(now);
  }

  onHandshakePacket(from: string, now: number): void {
    this.source.onClientHandshakePacket(from, now);
  }

  onHandshakeDone(): void {
    this.source.onHandshakeConfirmed();
  }

  onPeerClosed(info: CloseInfo, now: number): void {
    this.source.startDraining(info, now);
  }
}
