/**
 * One stream of a StreamManager, typed by kind (RFC 9000 §2.1): a bidirectional stream has a sending
 * and a receiving part, a unidirectional stream we opened only a sending part, one the peer opened
 * only a receiving part. Each kind is its own class, so code that holds a `SendingEntry` has a
 * `SendStream` without asking whether there is one.
 *
 * `closed` is set when every part reached a terminal state and the stream was removed from the
 * manager; late frames and acknowledgments then find it inert.
 */
import type { ReceiveState, ReceiveStream } from './receive-stream.js';
import type { SendState, SendStream } from './send-stream.js';

/** The send and receive states of a stream, for the parts it has. */
export interface StreamStates {
  send?: SendState;
  receive?: ReceiveState;
}

export class BidiStreamEntry {
  readonly kind = 'bidi';
  closed = false;
  /** Creation rank among the sending streams (set by StreamMaps.add; see sendingInOrder). */
  order = 0;

  constructor(
    readonly id: number,
    readonly send: SendStream,
    readonly recv: ReceiveStream,
  ) {}

  /** Both parts are terminal (and drained): the stream can be freed. */
  get isTerminal(): boolean {
    return this.send.isTerminal && this.recv.isTerminal;
  }

  states(): StreamStates {
    return { send: this.send.state, receive: this.recv.state };
  }
}

/** A unidirectional stream we opened: it only sends. */
export class SendOnlyStreamEntry {
  readonly kind = 'send-only';
  closed = false;
  /** Creation rank among the sending streams (set by StreamMaps.add; see sendingInOrder). */
  order = 0;

  constructor(
    readonly id: number,
    readonly send: SendStream,
  ) {}

  get isTerminal(): boolean {
    return this.send.isTerminal;
  }

  states(): StreamStates {
    return { send: this.send.state };
  }
}

/** A unidirectional stream the peer opened: it only receives. */
export class ReceiveOnlyStreamEntry {
  readonly kind = 'receive-only';
  closed = false;

  constructor(
    readonly id: number,
    readonly recv: ReceiveStream,
  ) {}

  get isTerminal(): boolean {
    return this.recv.isTerminal;
  }

  states(): StreamStates {
    return { receive: this.recv.state };
  }
}

export type StreamEntry = BidiStreamEntry | SendOnlyStreamEntry | ReceiveOnlyStreamEntry;
/** A stream with a sending part. */
export type SendingEntry = BidiStreamEntry | SendOnlyStreamEntry;
/** A stream with a receiving part. */
export type ReceivingEntry = BidiStreamEntry | ReceiveOnlyStreamEntry;

/** The sending part of `entry`, if its kind has one. */
export function sendingOf(entry: StreamEntry): SendingEntry | undefined {
  return entry.kind === 'receive-only' ? undefined : entry;
}

/** The receiving part of `entry`, if its kind has one. */
export function receivingOf(entry: StreamEntry): ReceivingEntry | undefined {
  return entry.kind === 'send-only' ? undefined : entry;
}
