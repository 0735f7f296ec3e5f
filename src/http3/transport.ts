/**
 * The QUIC transport as the HTTP/3 session sees it: one connection (one stream epoch: after a
 * rejected 0-RTT attempt the next connection is a new transport). Adapters implement it over the
 * public QuicConnection/QuicStream API (src/http3/node/quic-transport.ts) and over the sans-IO core
 * in the simulator and the 0-RTT auditor (core-transport.ts). Everything is synchronous; the adapter calls the
 * session's TransportEvents when something happens.
 */

export interface StreamRead {
  data: Uint8Array;
  /** The stream ended (FIN) after `data`. */
  fin: boolean;
}

export interface H3Transport {
  readonly role: 'client' | 'server';
  /** The QUIC handshake has completed (a stream opened before it carried 0-RTT data). */
  readonly handshakeComplete: boolean;
  /**
   * Open a stream. `opened(id)` runs once the peer's stream limit allows it (maybe at once, maybe
   * never if the connection ends first). Streams are opened in call order.
   */
  openStream(bidirectional: boolean, opened: (id: number) => void): void;
  /** Queue bytes; false when the stream's send buffer is full (wait for onWritable). Nothing is dropped. */
  write(id: number, data: Uint8Array): boolean;
  /** FIN after what was written. */
  end(id: number): void;
  /** RESET_STREAM (RFC 9000 §19.4): abandon sending. */
  resetStream(id: number, code: number): void;
  /** STOP_SENDING (RFC 9000 §19.5): abandon receiving. */
  stopSending(id: number, code: number): void;
  /** In-order bytes received, or undefined when none are available now. */
  read(id: number): StreamRead | undefined;
  /** Close the connection with an application error code (CONNECTION_CLOSE 0x1d). */
  close(code: number, reason: string): void;
  /**
   * A graceful close: CONNECTION_CLOSE once every stream this transport ended has been acknowledged
   * by the peer (or after a bound the adapter chooses), so that responses completed just before are
   * not lost to the close (RFC 9000 §10.2: a closing endpoint sends nothing else).
   */
  closeAfterFlush(code: number, reason: string): void;
}

/** What the adapter tells the session. */
export interface TransportEvents {
  /** The peer opened a stream; `early`: with a frame in a 0-RTT packet. */
  onStreamOpened(id: number, early: boolean): void;
  /** Bytes (or the FIN) can be read from the stream. */
  onReadable(id: number): void;
  /** The stream's send buffer has room again. */
  onWritable(id: number): void;
  /** The peer reset its sending side (RESET_STREAM). */
  onStreamReset(id: number, code: number): void;
  /** The peer asked us to stop sending (STOP_SENDING); our sending side is reset. */
  onStopSending(id: number, code: number): void;
  /** The QUIC handshake completed. */
  onHandshakeComplete(): void;
  /** The connection ended (closed by either side, timed out, or 0-RTT rejected for this transport). */
  onConnectionClosed(error: Error): void;
}
