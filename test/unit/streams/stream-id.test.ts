import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  isBidirectional,
  isClientInitiated,
  isLocallyInitiated,
  streamId,
  streamIndex,
} from '../../../src/streams/stream-id.js';

test('RFC 9000 §2.1 Table 1: the two low bits give initiator and direction', () => {
  const table: Array<[number, boolean, boolean]> = [
    [0x00, true, true],
    [0x01, false, true],
    [0x02, true, false],
    [0x03, false, false],
  ];
  for (const [id, client, bidi] of table) {
    assert.equal(isClientInitiated(id), client, `id ${id}`);
    assert.equal(isBidirectional(id), bidi, `id ${id}`);
    assert.equal(isLocallyInitiated(id, 'client'), client);
    assert.equal(isLocallyInitiated(id, 'server'), !client);
  }
});

test('streamId / streamIndex: successive streams of a type are 4 apart and round-trip', () => {
  assert.equal(streamId('client', true, 0), 0);
  assert.equal(streamId('server', true, 0), 1);
  assert.equal(streamId('client', false, 0), 2);
  assert.equal(streamId('server', false, 0), 3);
  assert.equal(streamId('client', true, 1), 4);
  assert.equal(streamId('server', false, 2), 11);
  // RFC 9000 §19.11 example: a uni limit of 3 allows server streams 3, 7, 11 but not 15.
  assert.deepEqual(
    [0, 1, 2, 3].map((i) => streamId('server', false, i)),
    [3, 7, 11, 15],
  );
  for (const role of ['client', 'server'] as const) {
    for (const bidi of [true, false]) {
      for (const index of [0, 1, 7, 1000, 2 ** 32, 2 ** 40 + 3, 2 ** 50]) {
        const id = streamId(role, bidi, index);
        assert.equal(streamIndex(id), index);
        assert.equal(isBidirectional(id), bidi);
        assert.equal(isLocallyInitiated(id, role), true);
      }
    }
  }
});

test('IDs above 2^32 keep their type bits (no 32-bit truncation)', () => {
  const id = 2 ** 33 + 3;
  assert.equal(isBidirectional(id), false);
  assert.equal(isClientInitiated(id), false);
  assert.equal(streamIndex(id), 2 ** 31);
});
