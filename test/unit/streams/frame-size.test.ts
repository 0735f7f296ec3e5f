import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  maxDataInRoom,
  resetStreamFrameLength,
  streamFrameLength,
  varintLength,
} from '../../../src/streams/frame-size.js';

test('varintLength follows RFC 9000 §16 boundaries', () => {
  const cases: Array<[number, number]> = [
    [0, 1],
    [63, 1],
    [64, 2],
    [16383, 2],
    [16384, 4],
    [2 ** 30 - 1, 4],
    [2 ** 30, 8],
    [2 ** 62 - 512, 8],
  ];
  for (const [v, n] of cases) assert.equal(varintLength(v), n, `${v}`);
});

test('maxDataInRoom is the largest L with varintLength(L) + L <= room (exhaustive around boundaries)', () => {
  const brute = (room: number): number => {
    for (let l = room; l >= 0; l--) if (varintLength(l) + l <= room) return l;
    return -1;
  };
  const rooms = [0, 1, 2, 63, 64, 65, 66, 67, 100, 16383, 16384, 16385, 16386, 16387, 16388, 20000];
  for (let r = 0; r < 200; r++) rooms.push(r);
  for (const room of rooms) assert.equal(maxDataInRoom(room), brute(room), `room ${room}`);
  const big = 2 ** 30 + 10;
  assert.equal(maxDataInRoom(big), big - 8);
  assert.equal(maxDataInRoom(2 ** 30 + 3), 2 ** 30 - 1);
});

test('frame sizes: STREAM with and without offset; RESET_STREAM', () => {
  assert.equal(streamFrameLength(0, 0, 0), 3);
  assert.equal(streamFrameLength(4, 100, 10), 1 + 1 + 2 + 1 + 10);
  assert.equal(streamFrameLength(2 ** 20, 2 ** 31, 100), 1 + 4 + 8 + 2 + 100);
  assert.equal(resetStreamFrameLength(1, 0x100, 2 ** 14), 1 + 1 + 2 + 4);
});
