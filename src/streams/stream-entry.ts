/**
 * One stream of a StreamManager: its ID and its sending and/or receiving part (a unidirectional
 * stream has only one, RFC 9000 §2.1). `closed` is set when both parts reached a terminal state and
 * the stream was removed from the manager; late frames and acknowledgments then find it inert.
 */
import type { ReceiveStream } from './receive-stream.js';
import type { SendStream } from './send-stream.js';

export class StreamEntry {
  readonly id: number;
  readonly send: SendStream | undefined;
  readonly recv: ReceiveStream | undefined;
  closed = false;

  constructor(id: number, send: SendStream | undefined, recv: ReceiveStream | undefined) {
    this.id = id;
    this.send = send;
    this.recv = recv;
  }
}
