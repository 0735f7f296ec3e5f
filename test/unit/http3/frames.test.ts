import assert from 'node:assert/strict';
import { test } from 'node:test';
import { H3ErrorCode, h3ErrorName } from '../../../src/http3/error-codes.js';
import {
  decodeFrame,
  decodeFramePayload,
  encodeFrame,
  encodeFrameHeader,
  H3FrameType,
} from '../../../src/http3/frames.js';
import { greaseValue, isGreaseValue } from '../../../src/http3/grease.js';
import { H3ProtocolError } from '../../../src/http3/h3-protocol-error.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function expectH3(fn: () => unknown, code: H3ErrorCode) {
  assert.throws(fn, (e: unknown) => e instanceof H3ProtocolError && e.errorCode === code);
}

test('frames encode byte-exact (RFC 9114 §7.2)', () => {
  assert.equal(hex(encodeFrame({ type: H3FrameType.Data, data: Buffer.from('hi') })), '00026869');
  assert.equal(
    hex(encodeFrame({ type: H3FrameType.Headers, fieldSection: Buffer.from([0, 0, 0xd1]) })),
    '01030000d1',
  );
  assert.equal(hex(encodeFrame({ type: H3FrameType.Goaway, id: 4 })), '070104');
  assert.equal(hex(encodeFrame({ type: H3FrameType.Goaway, id: 1000 })), '070243e8');
  assert.equal(hex(encodeFrame({ type: H3FrameType.MaxPushId, pushId: 0 })), '0d0100');
  assert.equal(hex(encodeFrame({ type: H3FrameType.CancelPush, pushId: 7 })), '030107');
  assert.equal(
    hex(
      encodeFrame({
        type: H3FrameType.Settings,
        entries: [
          { id: 6, value: 16384 },
          { id: 1, value: 0 },
        ],
      }),
    ),
    '0407068000400001' + '00',
  );
  assert.equal(
    hex(encodeFrame({ type: H3FrameType.PushPromise, pushId: 3, fieldSection: Buffer.from([9]) })),
    '05020309',
  );
  // A reserved type, 0x21 + 0x1f * 1000 = 0x7939, needs a 4-byte varint.
  assert.equal(
    hex(encodeFrame({ type: 'unknown', frameType: 0x21 + 0x1f * 1000, payload: new Uint8Array(1) })),
    '800079390100',
  );
  assert.equal(hex(encodeFrameHeader(0x21 + 0x1f * 1000, 1)), '8000793901');
});

test('settings payload encodes every varint length', () => {
  const f = encodeFrame({
    type: H3FrameType.Settings,
    entries: [
      { id: 0x06, value: 16384 },
      { id: 0x21, value: 2 ** 40 },
    ],
  });
  // 06 80004000 | 21 c000010000000000
  assert.equal(hex(f), '040e' + '0680004000' + '21c000010000000000');
  const back = decodeFrame(f);
  assert.deepEqual(back?.frame, {
    type: H3FrameType.Settings,
    entries: [
      { id: 6, value: 16384 },
      { id: 0x21, value: 2 ** 40 },
    ],
  });
  assert.equal(back?.length, f.length);
});

test('decodeFrame: partial input needs more; every frame round-trips', () => {
  const frames = [
    encodeFrame({ type: H3FrameType.Data, data: Buffer.alloc(300, 7) }),
    encodeFrame({ type: H3FrameType.Goaway, id: 2 ** 50 }),
    encodeFrame({ type: H3FrameType.PushPromise, pushId: 20000, fieldSection: Buffer.from('abc') }),
  ];
  for (const f of frames) {
    for (let i = 0; i < f.length; i++) assert.equal(decodeFrame(f.subarray(0, i)), undefined);
    assert.equal(decodeFrame(f)?.length, f.length);
    assert.deepEqual(encodeFrame(decodeFrame(f)!.frame), f);
  }
});

test('payloads that do not hold exactly their fields are H3_FRAME_ERROR (RFC 9114 §7.1)', () => {
  expectH3(() => decodeFramePayload(H3FrameType.Goaway, new Uint8Array(0)), H3ErrorCode.H3_FRAME_ERROR);
  expectH3(() => decodeFramePayload(H3FrameType.Goaway, Uint8Array.of(1, 2)), H3ErrorCode.H3_FRAME_ERROR);
  expectH3(() => decodeFramePayload(H3FrameType.MaxPushId, Uint8Array.of(0x40)), H3ErrorCode.H3_FRAME_ERROR);
  expectH3(
    () => decodeFramePayload(H3FrameType.CancelPush, Uint8Array.of(0x40, 1, 2)),
    H3ErrorCode.H3_FRAME_ERROR,
  );
  expectH3(() => decodeFramePayload(H3FrameType.Settings, Uint8Array.of(6)), H3ErrorCode.H3_FRAME_ERROR);
  expectH3(
    () => decodeFramePayload(H3FrameType.Settings, Uint8Array.of(6, 0x40)),
    H3ErrorCode.H3_FRAME_ERROR,
  );
  expectH3(() => decodeFramePayload(H3FrameType.PushPromise, Uint8Array.of()), H3ErrorCode.H3_FRAME_ERROR);
  expectH3(
    () => decodeFramePayload(H3FrameType.PushPromise, Uint8Array.of(0x80, 0)),
    H3ErrorCode.H3_FRAME_ERROR,
  );
  // A redundant (non-minimal) varint encoding is valid when it is self-consistent.
  assert.deepEqual(decodeFramePayload(H3FrameType.Goaway, Uint8Array.of(0x40, 4)), {
    type: H3FrameType.Goaway,
    id: 4,
  });
});

test('unknown and reserved frame types decode as unknown', () => {
  const t = 0x21 + 0x1f * 3;
  assert.deepEqual(decodeFramePayload(t, Uint8Array.of(1)), {
    type: 'unknown',
    frameType: t,
    payload: Uint8Array.of(1),
  });
});

test('GREASE values (RFC 9114 §7.2.8)', () => {
  assert.ok(isGreaseValue(0x21));
  assert.ok(isGreaseValue(0x40));
  assert.ok(!isGreaseValue(0x20));
  assert.ok(!isGreaseValue(0x41));
  let i = 0;
  const random = (n: number) => Uint8Array.from({ length: n }, () => (i++ * 37) & 0xff);
  for (let k = 0; k < 50; k++) {
    const v = greaseValue(random);
    assert.ok(isGreaseValue(v) && Number.isSafeInteger(v), `${v}`);
  }
});

test('error code names', () => {
  assert.equal(h3ErrorName(H3ErrorCode.H3_FRAME_ERROR), 'H3_FRAME_ERROR (0x106)');
  assert.equal(h3ErrorName(0x21), 'reserved 0x21');
  assert.equal(h3ErrorName(0x999), '0x999');
});

test('IDs beyond 2^53 (issue 10): GOAWAY keeps its stream type bits, SETTINGS ignores such identifiers', () => {
  const big = (low: number) => {
    const b = Buffer.from((((1n << 62n) - 4n) | BigInt(low)).toString(16).padStart(16, '0'), 'hex');
    b[0]! |= 0xc0;
    return Uint8Array.from(b);
  };
  for (const low of [0, 1, 2, 3]) {
    const f = decodeFramePayload(H3FrameType.Goaway, big(low));
    assert.ok(f.type === H3FrameType.Goaway);
    assert.equal(f.id % 4, low);
    assert.ok(f.id <= Number.MAX_SAFE_INTEGER);
    // It can be encoded again.
    encodeFrame(f);
  }
  // An unknown frame type of 2^62 - 1 decodes to a frame that can be encoded again.
  const unknown = decodeFrame(Uint8Array.from([...big(3), 1, 9]));
  assert.ok(unknown && unknown.frame.type === 'unknown');
  encodeFrame(unknown.frame);
  // Two different GREASE identifiers 2^62-1 and 2^62-2 round to the same number: not a duplicate.
  const settings = decodeFramePayload(
    H3FrameType.Settings,
    Uint8Array.from(Buffer.concat([big(3), Buffer.from([1]), big(2), Buffer.from([1]), Buffer.from([6, 9])])),
  );
  assert.ok(settings.type === H3FrameType.Settings);
  assert.deepEqual(settings.entries, [{ id: 6, value: 9 }]);
});
