/**
 * The receiver's host (ReceiverHost) made of the connection's parts, with `version` and `state`
 * read through from the connection. A class with prototype getters, not an object literal with
 * getters: V8 keeps an object whose getters are new closures per connection in dictionary mode,
 * about 0.85 KiB per connection (issue 13, idle memory).
 */

import type { ReceiverHost } from './connection-receiver.js';
import type { ConnectionState } from './connection-state.js';

type Parts = Omit<ReceiverHost, 'version' | 'state' | 'ptoPeriod'>;

export interface ReceiverSource {
  readonly version: number;
  readonly state: ConnectionState;
  ptoPeriod(): number;
}

export class ReceiverView implements ReceiverHost {
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
  readonly events: Parts['events'];
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
    this.events = parts.events;
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
}
