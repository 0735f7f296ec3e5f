/**
 * Frames as the 0-RTT auditor records them: plain JSON (numbers, strings, booleans), so that a trace
 * can be written to a file and fed back to the checks (docs/audit-0rtt.md, `--trace`). Handshake and
 * acknowledgment mechanics (PADDING, PING, ACK, CRYPTO) are not recorded: no check looks at them.
 */
import { type Frame, FrameType } from '../wire/frames.js';

/** Stream payload bytes kept per frame (hex), enough to recognise a request sent again. */
export const MAX_RECORDED_PAYLOAD = 4096;

export type FrameRecord =
  | { type: 'STREAM'; stream: number; offset: number; length: number; fin: boolean; data: string }
  | { type: 'RESET_STREAM'; stream: number; code: number | string; finalSize: number }
  | { type: 'STOP_SENDING'; stream: number; code: number | string }
  | { type: 'MAX_DATA'; max: number }
  | { type: 'MAX_STREAM_DATA'; stream: number; max: number }
  | { type: 'MAX_STREAMS'; bidi: boolean; max: number }
  | { type: 'DATA_BLOCKED'; limit: number }
  | { type: 'STREAM_DATA_BLOCKED'; stream: number; limit: number }
  | { type: 'STREAMS_BLOCKED'; bidi: boolean; limit: number }
  | { type: 'NEW_CONNECTION_ID'; seq: number; retirePriorTo: number; cid: string }
  | { type: 'RETIRE_CONNECTION_ID'; seq: number }
  | { type: 'DATAGRAM'; length: number; data: string }
  | { type: 'NEW_TOKEN'; length: number }
  | { type: 'PATH_CHALLENGE'; data: string }
  | { type: 'PATH_RESPONSE'; data: string }
  | { type: 'HANDSHAKE_DONE' }
  | { type: 'CONNECTION_CLOSE'; application: boolean; code: number | string; reason: string };

/** The packet a frame travelled in: its packet type (the encryption epoch) and number. */
export type PacketKind = 'initial' | '0rtt' | 'handshake' | '1rtt';

/** One frame in a log: which way it went, in which packet. */
export interface LoggedFrame {
  dir: 'recv' | 'sent';
  packet: PacketKind;
  pn: number;
  frame: FrameRecord;
}

/** Error codes may be bigints once above 2^53 (exact varints): kept exact as decimal strings. */
function code(v: number | bigint): number | string {
  return typeof v === 'bigint' ? v.toString() : v;
}

function hex(b: Uint8Array, max = b.length): string {
  return Buffer.from(b.buffer, b.byteOffset, Math.min(b.byteLength, max)).toString('hex');
}

/** The record of a frame, or undefined for the mechanics that are not recorded. */
export function recordFrame(f: Frame): FrameRecord | undefined {
  switch (f.type) {
    case FrameType.Stream:
      return {
        type: 'STREAM',
        stream: f.streamId,
        offset: f.offset,
        length: f.data.length,
        fin: f.fin,
        data: hex(f.data, MAX_RECORDED_PAYLOAD),
      };
    case FrameType.ResetStream:
      return { type: 'RESET_STREAM', stream: f.streamId, code: code(f.errorCode), finalSize: f.finalSize };
    case FrameType.StopSending:
      return { type: 'STOP_SENDING', stream: f.streamId, code: code(f.errorCode) };
    case FrameType.MaxData:
      return { type: 'MAX_DATA', max: f.maximumData };
    case FrameType.MaxStreamData:
      return { type: 'MAX_STREAM_DATA', stream: f.streamId, max: f.maximumStreamData };
    case FrameType.MaxStreamsBidi:
    case FrameType.MaxStreamsUni:
      return { type: 'MAX_STREAMS', bidi: f.type === FrameType.MaxStreamsBidi, max: f.maximumStreams };
    case FrameType.DataBlocked:
      return { type: 'DATA_BLOCKED', limit: f.maximumData };
    case FrameType.StreamDataBlocked:
      return { type: 'STREAM_DATA_BLOCKED', stream: f.streamId, limit: f.maximumStreamData };
    case FrameType.StreamsBlockedBidi:
    case FrameType.StreamsBlockedUni:
      return {
        type: 'STREAMS_BLOCKED',
        bidi: f.type === FrameType.StreamsBlockedBidi,
        limit: f.maximumStreams,
      };
    case FrameType.NewConnectionId:
      return {
        type: 'NEW_CONNECTION_ID',
        seq: f.sequenceNumber,
        retirePriorTo: f.retirePriorTo,
        cid: hex(f.connectionId),
      };
    case FrameType.RetireConnectionId:
      return { type: 'RETIRE_CONNECTION_ID', seq: f.sequenceNumber };
    case FrameType.Datagram:
      return { type: 'DATAGRAM', length: f.data.length, data: hex(f.data, MAX_RECORDED_PAYLOAD) };
    case FrameType.NewToken:
      return { type: 'NEW_TOKEN', length: f.token.length };
    case FrameType.PathChallenge:
      return { type: 'PATH_CHALLENGE', data: hex(f.data) };
    case FrameType.PathResponse:
      return { type: 'PATH_RESPONSE', data: hex(f.data) };
    case FrameType.HandshakeDone:
      return { type: 'HANDSHAKE_DONE' };
    case FrameType.ConnectionCloseTransport:
      return { type: 'CONNECTION_CLOSE', application: false, code: code(f.errorCode), reason: f.reason };
    case FrameType.ConnectionCloseApplication:
      return { type: 'CONNECTION_CLOSE', application: true, code: code(f.errorCode), reason: f.reason };
    default:
      return undefined;
  }
}

/** The stream a frame refers to, if any. */
export function streamOf(r: FrameRecord): number | undefined {
  return 'stream' in r ? r.stream : undefined;
}

/** One line of text for evidence: `RESET_STREAM stream 0 code 42 final size 6`. */
export function describeRecord(r: FrameRecord): string {
  switch (r.type) {
    case 'STREAM':
      return `STREAM stream ${r.stream} offset ${r.offset} length ${r.length}${r.fin ? ' FIN' : ''}${preview(r.data)}`;
    case 'RESET_STREAM':
      return `RESET_STREAM stream ${r.stream} code ${r.code} final size ${r.finalSize}`;
    case 'STOP_SENDING':
      return `STOP_SENDING stream ${r.stream} code ${r.code}`;
    case 'MAX_DATA':
      return `MAX_DATA ${r.max}`;
    case 'MAX_STREAM_DATA':
      return `MAX_STREAM_DATA stream ${r.stream} ${r.max}`;
    case 'MAX_STREAMS':
      return `MAX_STREAMS ${r.bidi ? 'bidi' : 'uni'} ${r.max}`;
    case 'DATA_BLOCKED':
      return `DATA_BLOCKED ${r.limit}`;
    case 'STREAM_DATA_BLOCKED':
      return `STREAM_DATA_BLOCKED stream ${r.stream} ${r.limit}`;
    case 'STREAMS_BLOCKED':
      return `STREAMS_BLOCKED ${r.bidi ? 'bidi' : 'uni'} ${r.limit}`;
    case 'NEW_CONNECTION_ID':
      return `NEW_CONNECTION_ID seq ${r.seq} cid ${r.cid}`;
    case 'RETIRE_CONNECTION_ID':
      return `RETIRE_CONNECTION_ID seq ${r.seq}`;
    case 'DATAGRAM':
      return `DATAGRAM length ${r.length}`;
    case 'NEW_TOKEN':
      return `NEW_TOKEN length ${r.length}`;
    case 'PATH_CHALLENGE':
    case 'PATH_RESPONSE':
      return `${r.type} ${r.data}`;
    case 'HANDSHAKE_DONE':
      return 'HANDSHAKE_DONE';
    case 'CONNECTION_CLOSE':
      return `CONNECTION_CLOSE (${r.application ? 'application' : 'transport'}) code ${r.code}${r.reason ? ` "${r.reason}"` : ''}`;
  }
}

/** A short printable view of a payload: `"GET /index.html"` when it is text, nothing otherwise. */
function preview(hexData: string): string {
  const bytes = Buffer.from(hexData.slice(0, 64), 'hex');
  if (bytes.length === 0 || !bytes.every((b) => b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f)))
    return '';
  const text = bytes.toString('latin1').replace(/\r?\n.*$/s, '');
  return text ? ` "${text}"` : '';
}

/** "1-RTT pn 3" */
export function describePacket(l: LoggedFrame): string {
  const names: Record<PacketKind, string> = {
    initial: 'Initial',
    '0rtt': '0-RTT',
    handshake: 'Handshake',
    '1rtt': '1-RTT',
  };
  return `${names[l.packet]} pn ${l.pn}`;
}
