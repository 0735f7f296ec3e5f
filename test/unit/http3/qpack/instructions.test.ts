/**
 * Encoder and decoder instructions (RFC 9204 §4.3, §4.4) byte-exact against Appendix B, and the
 * reassembly of instruction streams split anywhere.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ByteReader } from '../../../../src/http3/qpack/byte-reader.js';
import { ByteWriter } from '../../../../src/http3/qpack/byte-writer.js';
import {
  type DecoderInstruction,
  DecoderOp,
  readDecoderInstruction,
  writeInsertCountIncrement,
  writeSectionAck,
  writeStreamCancellation,
} from '../../../../src/http3/qpack/decoder-instructions.js';
import {
  type EncoderInstruction,
  EncoderOp,
  readEncoderInstruction,
  writeDuplicate,
  writeInsertDynamicName,
  writeInsertLiteralName,
  writeInsertStaticName,
  writeSetCapacity,
} from '../../../../src/http3/qpack/encoder-instructions.js';
import {
  QPACK_DECODER_STREAM_ERROR,
  QPACK_ENCODER_STREAM_ERROR,
} from '../../../../src/http3/qpack/errors.js';
import { InstructionStream } from '../../../../src/http3/qpack/instruction-stream.js';
import { assertQpackError, hex, toHex } from './helpers.js';

function bytes(write: (w: ByteWriter) => void): string {
  const w = new ByteWriter(1);
  write(w);
  return toHex(w.copy());
}

test('RFC 9204 B.2-B.5: encoder instructions byte-exact (no Huffman, as in the examples)', () => {
  assert.equal(
    bytes((w) => writeSetCapacity(w, 220)),
    '3fbd01',
  );
  assert.equal(
    bytes((w) => writeInsertStaticName(w, 0, 'www.example.com', false)),
    toHex(hex('c00f 7777 772e 6578 616d 706c 652e 636f 6d')),
  );
  assert.equal(
    bytes((w) => writeInsertStaticName(w, 1, '/sample/path', false)),
    toHex(hex('c10c 2f73 616d 706c 652f 7061 7468')),
  );
  assert.equal(
    bytes((w) => writeInsertLiteralName(w, 'custom-key', 'custom-value', false)),
    toHex(hex('4a63 7573 746f 6d2d 6b65 790c 6375 7374 6f6d 2d76 616c 7565')),
  );
  assert.equal(
    bytes((w) => writeDuplicate(w, 2)),
    '02',
  );
  assert.equal(
    bytes((w) => writeInsertDynamicName(w, 1, 'custom-value2', false)),
    toHex(hex('810d 6375 7374 6f6d 2d76 616c 7565 32')),
  );
});

test('RFC 9204 B.2-B.4: decoder instructions byte-exact', () => {
  assert.equal(
    bytes((w) => writeSectionAck(w, 4)),
    '84',
  );
  assert.equal(
    bytes((w) => writeInsertCountIncrement(w, 1)),
    '01',
  );
  assert.equal(
    bytes((w) => writeStreamCancellation(w, 8)),
    '48',
  );
  assert.equal(
    bytes((w) => writeSectionAck(w, 200)),
    'ff49',
  );
});

function parseEncoderStream(data: Uint8Array[], maxString = 1000): EncoderInstruction[] {
  const s = new InstructionStream(QPACK_ENCODER_STREAM_ERROR);
  const out: EncoderInstruction[] = [];
  const ins: EncoderInstruction = { kind: EncoderOp.SetCapacity, value: 0, name: '', fieldValue: '' };
  for (const chunk of data) {
    s.feed(chunk, (r: ByteReader) => {
      readEncoderInstruction(r, ins, maxString);
      out.push({ ...ins });
    });
  }
  return out;
}

const B_ENCODER_STREAM = hex(
  '3fbd01 c00f7777772e6578616d706c652e636f6d c10c2f73616d706c652f70617468 ' +
    '4a637573746f6d2d6b65790c637573746f6d2d76616c7565 02 810d637573746f6d2d76616c756532',
);

test('the encoder stream of Appendix B parses the same whole and split at every byte', () => {
  const whole = parseEncoderStream([B_ENCODER_STREAM]);
  const summary = (i: EncoderInstruction) =>
    i.kind === EncoderOp.SetCapacity || i.kind === EncoderOp.Duplicate
      ? [i.kind, i.value]
      : i.kind === EncoderOp.InsertLiteralName
        ? [i.kind, i.name, i.fieldValue]
        : [i.kind, i.value, i.fieldValue];
  assert.deepEqual(whole.map(summary), [
    [EncoderOp.SetCapacity, 220],
    [EncoderOp.InsertStaticName, 0, 'www.example.com'],
    [EncoderOp.InsertStaticName, 1, '/sample/path'],
    [EncoderOp.InsertLiteralName, 'custom-key', 'custom-value'],
    [EncoderOp.Duplicate, 2],
    [EncoderOp.InsertDynamicName, 1, 'custom-value2'],
  ]);
  const byteByByte = parseEncoderStream(Array.from(B_ENCODER_STREAM, (b) => Uint8Array.of(b)));
  assert.deepEqual(byteByByte, whole);
  for (let cut = 1; cut < B_ENCODER_STREAM.length; cut++) {
    const split = parseEncoderStream([B_ENCODER_STREAM.subarray(0, cut), B_ENCODER_STREAM.subarray(cut)]);
    assert.deepEqual(split, whole, `cut at ${cut}`);
  }
});

test('a partial instruction is kept, and waits for the bytes its length needs', () => {
  const s = new InstructionStream(QPACK_ENCODER_STREAM_ERROR);
  const ins: EncoderInstruction = { kind: EncoderOp.SetCapacity, value: 0, name: '', fieldValue: '' };
  let parses = 0;
  let done = 0;
  const on = (r: ByteReader) => {
    parses++;
    readEncoderInstruction(r, ins, 100_000);
    done++;
  };
  // Insert with static name 0 and a 50000-byte raw value, sent one byte at a time.
  const w = new ByteWriter(1);
  writeInsertStaticName(w, 0, 'x'.repeat(50_000), false);
  const msg = w.copy();
  for (const b of msg) s.feed(Uint8Array.of(b), on);
  assert.equal(done, 1);
  assert.equal(ins.fieldValue.length, 50_000);
  // Parsed once per byte of the prefix (until the length is known), then once more at the end.
  assert.ok(parses < 10, `${parses} parse attempts`);
  assert.equal(s.buffered, 0);
});

test('an announced string above the limit is an error at once, without buffering it', () => {
  const s = new InstructionStream(QPACK_ENCODER_STREAM_ERROR);
  const ins: EncoderInstruction = { kind: EncoderOp.SetCapacity, value: 0, name: '', fieldValue: '' };
  const on = (r: ByteReader) => readEncoderInstruction(r, ins, 100);
  // c0 then a value length of 1,000,000 (7-bit prefix: 7f + continuation), no bytes of it.
  const w = new ByteWriter(1);
  w.u8(0xc0);
  w.u8(0x7f);
  for (let v = 1_000_000 - 127; ; v = Math.floor(v / 128)) {
    if (v < 128) {
      w.u8(v);
      break;
    }
    w.u8((v % 128) | 0x80);
  }
  assertQpackError(() => s.feed(w.copy(), on), QPACK_ENCODER_STREAM_ERROR, /longer than 100/);
});

test('decoder instructions parse the same whole and split at every byte', () => {
  const data = hex('84 01 48 ff49 7f01 3ffa09');
  const expect: Array<[number, number]> = [
    [DecoderOp.SectionAck, 4],
    [DecoderOp.InsertCountIncrement, 1],
    [DecoderOp.StreamCancellation, 8],
    [DecoderOp.SectionAck, 200],
    [DecoderOp.StreamCancellation, 64],
    [DecoderOp.InsertCountIncrement, 1337],
  ];
  for (const chunks of [[data], Array.from(data, (b) => Uint8Array.of(b))]) {
    const s = new InstructionStream(QPACK_DECODER_STREAM_ERROR);
    const got: Array<[number, number]> = [];
    const ins: DecoderInstruction = { kind: DecoderOp.SectionAck, value: 0 };
    for (const c of chunks) {
      s.feed(c, (r) => {
        readDecoderInstruction(r, ins);
        got.push([ins.kind, ins.value]);
      });
    }
    assert.deepEqual(got, expect);
  }
});
