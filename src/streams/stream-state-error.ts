/**
 * The public error thrown by the stream API (StreamManager.write/end/read/...) when the application
 * uses a stream in a way its state does not allow: writing after end() or a reset, writing to a
 * receive-only stream, reading a send-only stream, or naming a stream that was never opened.
 * It is an application programming error, never a protocol violation by the peer.
 */
export class StreamStateError extends Error {
  override readonly name = 'StreamStateError';
  readonly code = 'ERR_QUIC_STREAM_STATE';
  readonly streamId: number;

  constructor(streamId: number, message: string) {
    super(`stream ${streamId}: ${message}`);
    this.streamId = streamId;
  }
}
