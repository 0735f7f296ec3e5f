/**
 * QPACK errors at the session level, with the real codec (RFC 9204 §2.2, §4.2, §6): a field line
 * referencing a table entry that does not exist, an encoder stream or a decoder stream that lies. Each
 * closes the connection with the QPACK error code; nothing escapes as an exception.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { H3ClientSession } from '../../../src/http3/client-session.js';
import { H3ErrorCode } from '../../../src/http3/error-codes.js';
import { encodeFrame, H3FrameType } from '../../../src/http3/frames.js';
import { qpackCodec } from '../../../src/http3/qpack-codec.js';
import { H3ServerSession } from '../../../src/http3/server-session.js';
import { FakeTransport } from './fake-transport.js';

const random = (n: number) => new Uint8Array(n).fill(3);
const u8 = (...b: number[]) => Uint8Array.of(...b);

function server() {
  const t = new FakeTransport('server');
  const s = new H3ServerSession(t, { codec: qpackCodec, random, onRequest: () => {} });
  t.events = s.conn;
  return { t, s };
}

test('a dynamic table reference with an empty table: QPACK_DECOMPRESSION_FAILED', () => {
  const { t } = server();
  // Required Insert Count 0, base 0, then an indexed field line into the dynamic table (T=0).
  t.peerSend(0, encodeFrame({ type: H3FrameType.Headers, fieldSection: u8(0x00, 0x00, 0x80) }));
  assert.deepEqual(t.closed?.code, H3ErrorCode.QPACK_DECOMPRESSION_FAILED);
});

test('a Required Insert Count beyond what the table could hold: QPACK_DECOMPRESSION_FAILED', () => {
  const { t } = server();
  t.peerSend(0, encodeFrame({ type: H3FrameType.Headers, fieldSection: u8(0xff, 0x7f, 0x00, 0xd1) }));
  assert.deepEqual(t.closed?.code, H3ErrorCode.QPACK_DECOMPRESSION_FAILED);
});

test('an encoder stream setting a capacity above ours: QPACK_ENCODER_STREAM_ERROR', () => {
  const { t } = server();
  // Set Dynamic Table Capacity (001xxxxx) of 31 + 0x7fff > our 4096.
  t.peerSend(6, u8(0x02, 0x3f, 0xff, 0xff, 0x01));
  assert.deepEqual(t.closed?.code, H3ErrorCode.QPACK_ENCODER_STREAM_ERROR);
});

test('a decoder stream acknowledging inserts we never made: QPACK_DECODER_STREAM_ERROR', () => {
  const t = new FakeTransport('client');
  const s = new H3ClientSession(t, { codec: qpackCodec, random });
  t.events = s.conn;
  // Insert Count Increment (00xxxxxx) of 5.
  t.peerSend(11, u8(0x03, 0x05));
  assert.deepEqual(t.closed?.code, H3ErrorCode.QPACK_DECODER_STREAM_ERROR);
});
