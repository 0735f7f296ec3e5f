/**
 * What a client said at the HTTP/3 level (RFC 9114, RFC 9204) on one connection, rebuilt from the
 * STREAM frames of a trace: its unidirectional streams by type, the frames of its control stream,
 * its QPACK encoder instructions (applied to a fresh dynamic table: the table of *this* connection),
 * the request heads on its bidirectional streams decoded with that table, and its QPACK decoder
 * instructions. The h3 checks compare the view of the rejected 0-RTT attempt with the view of the
 * connection after it.
 *
 * The view is rebuilt from the recorded payload prefixes (stream-payloads.ts); what was not recorded
 * is not judged.
 */
import { DEFAULT_LOCAL_SETTINGS } from '../../http3/h3-connection.js';
import type { ByteReader } from '../../http3/qpack/byte-reader.js';
import {
  type DecoderInstruction,
  DecoderOp,
  readDecoderInstruction,
} from '../../http3/qpack/decoder-instructions.js';
import { QPACK_DECODER_STREAM_ERROR, QpackDecoder } from '../../http3/qpack/index.js';
import { InstructionStream } from '../../http3/qpack/instruction-stream.js';
import { readVarint } from '../../wire/varint.js';
import type { LoggedFrame } from '../frame-record.js';
import { type StreamPayload, streamPayloads } from './stream-payloads.js';

/** RFC 9114 §6.2 and RFC 9204 §4.2 stream types; §7.2 frame types. */
const CONTROL = 0x00;
const QPACK_ENCODER = 0x02;
const QPACK_DECODER = 0x03;
const HEADERS = 0x01;
const SETTINGS = 0x04;

export interface H3Request {
  stream: number;
  first: LoggedFrame;
  /** `GET https://localhost:4433/index.html`: what identifies a request sent again. */
  key?: string;
  /** Why the head could not be decoded (QPACK) or read. */
  error?: string;
  /** The head waits for dynamic table entries this connection's encoder stream never inserted. */
  blocked?: boolean;
  complete: boolean;
}

export interface H3DecoderInstruction {
  kind: 'Section Acknowledgment' | 'Stream Cancellation' | 'Insert Count Increment';
  value: number;
  first: LoggedFrame;
}

export interface H3View {
  /** The client's unidirectional streams with their type (undefined: not recorded). */
  uni: Array<{ stream: number; type: number | undefined; first: LoggedFrame }>;
  /** The control stream and the types of the frames it carried, in order. */
  control?: { stream: number; frames: number[]; first: LoggedFrame };
  /** Entries the encoder stream inserted, and the error it caused on a fresh table, if any. */
  inserts: number;
  encoderError?: { message: string; first: LoggedFrame };
  decoderInstructions: H3DecoderInstruction[];
  decoderError?: { message: string; first: LoggedFrame };
  /** Requests by stream ID. */
  requests: Map<number, H3Request>;
}

function varintAt(b: Buffer, at: number): { value: number; length: number } | undefined {
  if (at >= b.length) return undefined;
  const length = 1 << (b[at]! >> 6);
  if (at + length > b.length) return undefined;
  return { value: readVarint(b, at).value, length };
}

/** Whole frames at the start of `b`: their types and payloads (a partial last frame is left out). */
function framesOf(b: Buffer, from: number): Array<{ type: number; payload: Buffer }> {
  const out = [];
  let at = from;
  for (;;) {
    const t = varintAt(b, at);
    if (!t) break;
    const l = varintAt(b, at + t.length);
    if (!l) break;
    const start = at + t.length + l.length;
    if (start + l.value > b.length) break;
    out.push({ type: t.value, payload: b.subarray(start, start + l.value) });
    at = start + l.value;
  }
  return out;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const DECODER_KINDS = {
  [DecoderOp.SectionAck]: 'Section Acknowledgment',
  [DecoderOp.StreamCancellation]: 'Stream Cancellation',
  [DecoderOp.InsertCountIncrement]: 'Insert Count Increment',
} as const;

/**
 * The HTTP/3 view of the client's frames on one connection (`frames`: one direction, received).
 * The decoder is set up as the auditor's HTTP/3 server announces (its default SETTINGS), which is
 * also what the ticket remembers.
 */
export function h3View(frames: readonly LoggedFrame[]): H3View {
  const payloads = [...streamPayloads(frames).values()].filter((p) => p.stream % 2 === 0);
  const decoder = new QpackDecoder({
    maxTableCapacity: DEFAULT_LOCAL_SETTINGS.qpackMaxTableCapacity,
    maxBlockedStreams: DEFAULT_LOCAL_SETTINGS.qpackBlockedStreams,
    maxFieldSectionSize: Number.POSITIVE_INFINITY,
  });
  const view: H3View = { uni: [], inserts: 0, decoderInstructions: [], requests: new Map() };
  const uni = payloads.filter((p) => p.stream % 4 === 2).sort((a, b) => a.stream - b.stream);
  const streamType = (p: StreamPayload) => varintAt(p.prefix, 0);
  for (const p of uni) {
    const type = streamType(p);
    view.uni.push({ stream: p.stream, type: type?.value, first: p.first });
    if (!type) continue;
    const body = p.prefix.subarray(type.length);
    if (type.value === CONTROL && !view.control) {
      view.control = {
        stream: p.stream,
        frames: framesOf(p.prefix, type.length).map((f) => f.type),
        first: p.first,
      };
    } else if (type.value === QPACK_ENCODER && view.encoderError === undefined) {
      try {
        decoder.onEncoderStreamData(body);
      } catch (err) {
        view.encoderError = { message: message(err), first: p.first };
      }
      view.inserts = decoder.insertCount;
    } else if (type.value === QPACK_DECODER) {
      const stream = new InstructionStream(QPACK_DECODER_STREAM_ERROR);
      const ins: DecoderInstruction = { kind: DecoderOp.SectionAck, value: 0 };
      try {
        stream.feed(body, (r: ByteReader) => {
          readDecoderInstruction(r, ins);
          view.decoderInstructions.push({ kind: DECODER_KINDS[ins.kind], value: ins.value, first: p.first });
        });
      } catch (err) {
        view.decoderError = { message: message(err), first: p.first };
      }
    }
  }
  for (const p of payloads.filter((q) => q.stream % 4 === 0).sort((a, b) => a.stream - b.stream)) {
    const req: H3Request = { stream: p.stream, first: p.first, complete: p.complete };
    view.requests.set(p.stream, req);
    const head = framesOf(p.prefix, 0).find((f) => f.type === HEADERS);
    if (!head) {
      if (p.complete) req.error = 'no HEADERS frame';
      continue;
    }
    try {
      const r = decoder.decode(p.stream, head.payload);
      if (r.status === 'blocked') {
        req.blocked = true;
        req.error = `its field section needs dynamic table entries that this connection's encoder stream never inserted (${decoder.insertCount} inserted)`;
      } else if (r.status === 'done') {
        const get = (n: string) => r.fields.find((f) => f.name === n)?.value ?? '';
        req.key = `${get(':method')} ${get(':scheme')}://${get(':authority')}${get(':path')}`;
      }
    } catch (err) {
      req.error = message(err);
    }
  }
  return view;
}

export function isSettings(type: number | undefined): boolean {
  return type === SETTINGS;
}

export const H3_STREAM_TYPES = { CONTROL, QPACK_ENCODER, QPACK_DECODER } as const;
