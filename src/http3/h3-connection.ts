/**
 * The connection-level part of an HTTP/3 session (RFC 9114 §3, §6, §7; RFC 9204 §4.2), shared by
 * client and server: our control and QPACK streams, the peer's unidirectional streams and the rules
 * of critical streams, SETTINGS both ways, the QPACK encoder and decoder of the connection, GOAWAY
 * on the wire, and connection errors. Request streams are handled by their exchanges
 * (request-stream.ts), which register here to receive their transport events.
 *
 * It is sans-IO: it talks to an H3Transport and is driven by the TransportEvents the adapter calls.
 */
import type { RandomBytes } from '../util/random.js';
import { readVarint } from '../wire/varint.js';
import { H3ErrorCode } from './error-codes.js';
import { Http3ConnectionError } from './errors.js';
import {
  codecErrorCode,
  type DecodeResult,
  type FieldCodec,
  type FieldDecoder,
  type FieldEncoder,
  type FieldLine,
  type UnblockedSection,
} from './field-codec.js';
import type { FrameReaderLimits } from './frame-reader.js';
import { encodeFrame, H3FrameType } from './frames.js';
import { greaseValue } from './grease.js';
import { H3ProtocolError, h3ConnectionError } from './h3-protocol-error.js';
import { OutgoingUniStream } from './outgoing-uni-stream.js';
import { PeerControlStream } from './peer-control-stream.js';
import {
  DEFAULT_SETTINGS,
  type H3Settings,
  incompatibleWithRemembered,
  settingsEntries,
} from './settings.js';
import { isCriticalStreamType, UniStreamType, uniStreamTypeName } from './stream-types.js';
import type { H3Transport, TransportEvents } from './transport.js';

/** What we announce in our SETTINGS (RFC 9114 §7.2.4.1, RFC 9204 §5). */
export interface LocalSettings {
  maxFieldSectionSize: number;
  qpackMaxTableCapacity: number;
  qpackBlockedStreams: number;
  enableConnectProtocol: boolean;
}

export const DEFAULT_LOCAL_SETTINGS: LocalSettings = {
  maxFieldSectionSize: 64 * 1024,
  qpackMaxTableCapacity: 4096,
  qpackBlockedStreams: 16,
  enableConnectProtocol: false,
};

export interface H3ConnectionOptions {
  codec: FieldCodec;
  random: RandomBytes;
  settings?: Partial<LocalSettings>;
  /** Send reserved values (a setting, a frame type, a stream type) peers must ignore (default true). */
  grease?: boolean;
  /** Client sending 0-RTT: the server's SETTINGS remembered with the session ticket (RFC 9114 §7.2.4.2). */
  rememberedPeerSettings?: H3Settings;
}

/** The transport events of one request stream, and what the connection tells it. */
export interface RequestStreamHandler {
  onReadable(): void;
  onWritable(): void;
  onReset(code: number): void;
  onStopSending(code: number): void;
  /** Its blocked field section is decoded (RFC 9204 §2.1.2). */
  onUnblocked(section: UnblockedSection): void;
  /** A stream error on it was detected (RFC 9114 §8): the handler resets the stream. */
  onStreamError(err: H3ProtocolError): void;
  /** The connection ended: the exchange fails with `err` unless it is complete. */
  onConnectionClosed(err: Error): void;
}

/** What the role-specific session learns from the connection. */
export interface ConnectionHooks {
  /** The peer opened a bidirectional stream (a request, for a server). */
  onPeerBidiStream(id: number, early: boolean): void;
  onGoaway(id: number): void;
  onSettings?(settings: H3Settings): void;
  onHandshakeComplete?(): void;
  onClosed(err: Error): void;
}

interface PeerUniStream {
  prefix: Uint8Array[];
  type: number | undefined;
  control?: PeerControlStream;
}

export class H3Connection implements TransportEvents {
  readonly role: 'client' | 'server';
  readonly local: LocalSettings;
  readonly encoder: FieldEncoder;
  readonly decoder: FieldDecoder;
  // Written here only (test/http3/structure.test.ts); the sessions read them through the getters.
  /** The peer's SETTINGS once received. */
  private _peerSettings: H3Settings | undefined;
  /** Set once the connection has ended. */
  private _closedError: Error | undefined;
  /** The GOAWAY identifier we sent last. */
  private _goawaySent: number | undefined;
  /** The GOAWAY identifier received last. */
  private _goawayReceived: number | undefined;

  private readonly requests = new Map<number, RequestStreamHandler>();
  private readonly peerUni = new Map<number, PeerUniStream>();
  /** Stream types already seen from the peer (control, encoder, decoder: one each). */
  private readonly peerCritical = new Set<number>();
  private control: OutgoingUniStream | undefined;
  private encoderStream: OutgoingUniStream | undefined;
  private decoderStream: OutgoingUniStream | undefined;
  private readonly remembered: H3Settings | undefined;
  private readonly grease: boolean;
  private readonly random: RandomBytes;
  /** The frame limits of request streams (from our settings), shared by their readers. */
  readonly requestReaderLimits: FrameReaderLimits;

  constructor(
    readonly transport: H3Transport,
    opts: H3ConnectionOptions,
    /** The role-specific session (client-session.ts, server-session.ts). */
    private readonly hooks: ConnectionHooks,
  ) {
    this.role = transport.role;
    this.local = { ...DEFAULT_LOCAL_SETTINGS, ...opts.settings };
    this.requestReaderLimits = {
      maxFieldSectionFrame: this.local.maxFieldSectionSize,
      maxSettingsFrame: 16 * 1024,
    };
    this.grease = opts.grease ?? true;
    this.random = opts.random;
    this.remembered = opts.rememberedPeerSettings;
    const r = this.remembered;
    this.encoder = opts.codec.createEncoder(
      r ? { maxTableCapacity: r.qpackMaxTableCapacity, blockedStreams: r.qpackBlockedStreams } : undefined,
    );
    this.decoder = opts.codec.createDecoder({
      maxTableCapacity: this.local.qpackMaxTableCapacity,
      maxBlockedStreams: this.local.qpackBlockedStreams,
      maxFieldSectionSize: this.local.maxFieldSectionSize,
    });
  }

  get peerSettings(): H3Settings | undefined {
    return this._peerSettings;
  }
  get closedError(): Error | undefined {
    return this._closedError;
  }
  get goawaySent(): number | undefined {
    return this._goawaySent;
  }
  get goawayReceived(): number | undefined {
    return this._goawayReceived;
  }

  /** The peer's settings as they apply now: received, else remembered (0-RTT), else defaults. */
  get effectivePeerSettings(): H3Settings {
    return this._peerSettings ?? this.remembered ?? DEFAULT_SETTINGS;
  }

  /**
   * Open our control stream with SETTINGS and the QPACK streams (RFC 9114 §6.2.1: as soon as the
   * transport can send, without waiting for the peer).
   */
  start(): void {
    const t = this.transport;
    this.control = new OutgoingUniStream(t, UniStreamType.Control);
    const entries = settingsEntries({ ...DEFAULT_SETTINGS, ...this.local });
    // RFC 9114 §7.2.4.1: a reserved setting; §7.2.8: a reserved frame type.
    if (this.grease) entries.push({ id: greaseValue(this.random), value: this.random(1)[0]! });
    this.control.write(encodeFrame({ type: H3FrameType.Settings, entries }));
    if (this.grease) {
      this.control.write(
        encodeFrame({ type: 'unknown', frameType: greaseValue(this.random), payload: this.random(4) }),
      );
    }
    this.encoderStream = new OutgoingUniStream(t, UniStreamType.QpackEncoder);
    this.decoderStream = new OutgoingUniStream(t, UniStreamType.QpackDecoder);
    if (this.grease) {
      // RFC 9114 §6.2.3: a reserved stream type, which the peer must ignore.
      const g = new OutgoingUniStream(t, greaseValue(this.random));
      g.write(this.random(8));
      g.end();
    }
  }

  // ------------------------------------------------------------------ for exchanges

  register(id: number, handler: RequestStreamHandler): void {
    this.requests.set(id, handler);
  }

  unregister(id: number): void {
    this.requests.delete(id);
  }

  get activeRequests(): number {
    return this.requests.size;
  }

  /** QPACK-encode a field section for stream `id`; encoder instructions go out on our encoder stream. */
  encodeFields(id: number, fields: readonly FieldLine[]): Uint8Array {
    const section = this.encoder.encode(id, fields);
    this.flushEncoder();
    return section;
  }

  /** QPACK-decode a field section of stream `id`. Throws H3ProtocolError for decompression failures. */
  decodeFields(id: number, section: Uint8Array): DecodeResult {
    let result: DecodeResult;
    try {
      result = this.decoder.decode(id, section);
    } catch (err) {
      throw asConnectionError(err, H3ErrorCode.QPACK_DECOMPRESSION_FAILED);
    }
    this.flushDecoder();
    return result;
  }

  /** We abandon reading stream `id` before its field sections were processed (RFC 9204 §4.4.2). */
  cancelDecoding(id: number): void {
    this.decoder.cancelStream(id);
    this.flushDecoder();
  }

  /** Send GOAWAY with `id` (RFC 9114 §5.2); never a larger identifier than before. */
  sendGoaway(id: number): void {
    if (this._closedError) return;
    if (this._goawaySent !== undefined && id >= this._goawaySent) return;
    this._goawaySent = id;
    this.control?.write(encodeFrame({ type: H3FrameType.Goaway, id }));
  }

  /** Close the connection: with H3_NO_ERROR when done, or with the error of a connection error. */
  close(code: number = H3ErrorCode.H3_NO_ERROR, reason = ''): void {
    if (this._closedError) return;
    this.transport.close(code, reason);
    this.onConnectionClosed(new Http3ConnectionError(code, reason, false));
  }

  /**
   * Graceful close with H3_NO_ERROR once what we sent has been acknowledged (the session has nothing
   * in flight; RFC 9114 §5.2). The session counts as closed from now on.
   */
  closeGracefully(reason: string): void {
    if (this._closedError) return;
    this.transport.closeAfterFlush(H3ErrorCode.H3_NO_ERROR, reason);
    this.onConnectionClosed(new Http3ConnectionError(H3ErrorCode.H3_NO_ERROR, reason, false));
  }

  /** A connection error (RFC 9114 §8): CONNECTION_CLOSE with its code. */
  fail(err: unknown): void {
    const e = asConnectionError(err, H3ErrorCode.H3_INTERNAL_ERROR);
    this.close(e.errorCode, e.reason);
  }

  /** Run `fn` for stream `id`, applying the scope of any HTTP/3 error it throws. */
  guard(id: number | undefined, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (err instanceof H3ProtocolError && err.scope === 'stream' && id !== undefined) {
        const h = this.requests.get(id);
        if (h) {
          try {
            h.onStreamError(err);
            return;
          } catch (inner) {
            this.fail(inner);
            return;
          }
        }
        this.transport.resetStream(id, err.errorCode);
        this.transport.stopSending(id, err.errorCode);
        return;
      }
      this.fail(err);
    }
  }

  // ------------------------------------------------------------------ TransportEvents

  onStreamOpened(id: number, early: boolean): void {
    if (this._closedError) return;
    this.guard(id, () => {
      if ((id & 2) === 0) {
        // RFC 9114 §6.1: clients treat a server-initiated bidirectional stream as an error.
        if (this.role === 'client') {
          throw h3ConnectionError(
            H3ErrorCode.H3_STREAM_CREATION_ERROR,
            'server-initiated bidirectional stream',
          );
        }
        this.hooks.onPeerBidiStream(id, early);
        return;
      }
      this.peerUni.set(id, { prefix: [], type: undefined });
    });
  }

  onReadable(id: number): void {
    if (this._closedError) return;
    const req = this.requests.get(id);
    if (req) {
      this.guard(id, () => req.onReadable());
      return;
    }
    const uni = this.peerUni.get(id);
    if (uni) this.guard(id, () => this.readUni(id, uni));
  }

  onWritable(id: number): void {
    if (this._closedError) return;
    const req = this.requests.get(id);
    if (req) this.guard(id, () => req.onWritable());
  }

  onStreamReset(id: number, code: number): void {
    if (this._closedError) return;
    const req = this.requests.get(id);
    if (req) {
      this.guard(id, () => req.onReset(code));
      return;
    }
    const uni = this.peerUni.get(id);
    if (uni) {
      this.peerUni.delete(id);
      // RFC 9114 §6.2.1, RFC 9204 §4.2: a critical stream must never be closed.
      if (uni.type !== undefined && isCriticalStreamType(uni.type)) {
        this.fail(
          h3ConnectionError(
            H3ErrorCode.H3_CLOSED_CRITICAL_STREAM,
            `peer reset its ${uniStreamTypeName(uni.type)} stream`,
          ),
        );
      }
    }
  }

  onStopSending(id: number, code: number): void {
    if (this._closedError) return;
    const req = this.requests.get(id);
    if (req) {
      this.guard(id, () => req.onStopSending(code));
      return;
    }
    // RFC 9114 §6.2.1: the receiver must not ask the sender to close a critical stream.
    if (
      id === this.control?.streamId ||
      id === this.encoderStream?.streamId ||
      id === this.decoderStream?.streamId
    ) {
      this.fail(
        h3ConnectionError(H3ErrorCode.H3_CLOSED_CRITICAL_STREAM, 'peer stopped one of our critical streams'),
      );
    }
  }

  onHandshakeComplete(): void {
    if (this._closedError) return;
    this.hooks.onHandshakeComplete?.();
  }

  onConnectionClosed(error: Error): void {
    if (this._closedError) return;
    this._closedError = error;
    for (const [id, h] of [...this.requests]) {
      this.requests.delete(id);
      try {
        h.onConnectionClosed(error);
      } catch {
        // an exchange failing while the connection ends has nothing left to tell
      }
    }
    this.hooks.onClosed(error);
  }

  // ------------------------------------------------------------------ peer unidirectional streams

  private readUni(id: number, uni: PeerUniStream): void {
    for (let r = this.transport.read(id); r; r = this.transport.read(id)) {
      let data = r.data;
      if (uni.type === undefined) {
        uni.prefix.push(data);
        const all = concat(uni.prefix);
        if (all.length === 0 || all.length < 1 << (all[0]! >> 6)) {
          // RFC 9114 §6.2: a stream may end before its type arrived; it is ignored.
          if (r.fin) this.peerUni.delete(id);
          continue;
        }
        const { value: type, length } = readVarint(all, 0);
        uni.prefix = [];
        data = all.subarray(length);
        this.onUniType(id, uni, type);
        if (!this.peerUni.has(id)) return;
      }
      if (data.length > 0) this.onUniData(uni, data);
      if (r.fin) {
        this.peerUni.delete(id);
        if (isCriticalStreamType(uni.type!)) {
          throw h3ConnectionError(
            H3ErrorCode.H3_CLOSED_CRITICAL_STREAM,
            `peer closed its ${uniStreamTypeName(uni.type!)} stream`,
          );
        }
      }
    }
  }

  private onUniType(id: number, uni: PeerUniStream, type: number): void {
    uni.type = type;
    switch (type) {
      case UniStreamType.Control:
      case UniStreamType.QpackEncoder:
      case UniStreamType.QpackDecoder:
        // RFC 9114 §6.2.1, RFC 9204 §4.2: one of each per peer.
        if (this.peerCritical.has(type)) {
          throw h3ConnectionError(
            H3ErrorCode.H3_STREAM_CREATION_ERROR,
            `second ${uniStreamTypeName(type)} stream`,
          );
        }
        this.peerCritical.add(type);
        if (type === UniStreamType.Control) {
          uni.control = new PeerControlStream(this.role, {
            onSettings: (s) => this.onPeerSettings(s),
            onGoaway: (gid) => {
              this._goawayReceived = gid;
              this.hooks.onGoaway(gid);
            },
          });
        }
        return;
      case UniStreamType.Push:
        // RFC 9114 §6.2.2: only servers push; RFC 9114 §4.6: we never sent MAX_PUSH_ID.
        if (this.role === 'server')
          throw h3ConnectionError(H3ErrorCode.H3_STREAM_CREATION_ERROR, 'push stream from a client');
        throw h3ConnectionError(H3ErrorCode.H3_ID_ERROR, 'push stream without MAX_PUSH_ID');
      default:
        // RFC 9114 §6.2: unknown (and reserved) stream types: abort reading, not a connection error.
        this.peerUni.delete(id);
        this.transport.stopSending(id, H3ErrorCode.H3_STREAM_CREATION_ERROR);
    }
  }

  private onUniData(uni: PeerUniStream, data: Uint8Array): void {
    switch (uni.type) {
      case UniStreamType.Control:
        uni.control!.push(data);
        return;
      case UniStreamType.QpackEncoder: {
        let unblocked: UnblockedSection[];
        try {
          unblocked = this.decoder.onEncoderStreamData(data);
        } catch (err) {
          throw asConnectionError(err, H3ErrorCode.QPACK_ENCODER_STREAM_ERROR);
        }
        this.flushDecoder();
        for (const u of unblocked) {
          const h = this.requests.get(u.streamId);
          if (h) this.guard(u.streamId, () => h.onUnblocked(u));
        }
        return;
      }
      case UniStreamType.QpackDecoder:
        try {
          this.encoder.onDecoderStreamData(data);
        } catch (err) {
          throw asConnectionError(err, H3ErrorCode.QPACK_DECODER_STREAM_ERROR);
        }
        this.flushEncoder();
        return;
      default:
        return;
    }
  }

  private onPeerSettings(s: H3Settings): void {
    // RFC 9114 §7.2.4.2: after accepting 0-RTT the server must not reduce what we relied on.
    // A session built on remembered settings that sees SETTINGS at all had its 0-RTT accepted (a
    // rejected attempt's session dies before anything arrives).
    if (this.remembered) {
      const why = incompatibleWithRemembered(this.remembered, s);
      if (why) throw h3ConnectionError(H3ErrorCode.H3_SETTINGS_ERROR, `SETTINGS after 0-RTT: ${why}`);
    }
    this._peerSettings = s;
    this.encoder.applyPeerSettings({
      maxTableCapacity: s.qpackMaxTableCapacity,
      blockedStreams: s.qpackBlockedStreams,
    });
    this.flushEncoder();
    this.hooks.onSettings?.(s);
  }

  private flushEncoder(): void {
    for (let d = this.encoder.takeEncoderStreamData(); d; d = this.encoder.takeEncoderStreamData()) {
      this.encoderStream?.write(d);
    }
  }

  private flushDecoder(): void {
    for (let d = this.decoder.takeDecoderStreamData(); d; d = this.decoder.takeDecoderStreamData()) {
      this.decoderStream?.write(d);
    }
  }
}

/** Any error as a connection error: HTTP/3 errors keep their code, QPACK errors theirs, others `fallback`. */
function asConnectionError(err: unknown, fallback: H3ErrorCode): H3ProtocolError {
  if (err instanceof H3ProtocolError) {
    return err.scope === 'connection' ? err : h3ConnectionError(err.errorCode, err.reason);
  }
  const code = codecErrorCode(err);
  const reason = err instanceof Error ? err.message : String(err);
  return h3ConnectionError(code ?? fallback, reason);
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
