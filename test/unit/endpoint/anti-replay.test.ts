/**
 * 0-RTT anti-replay (RFC 8446 §8, RFC 9001 §9.2): InMemoryReplayStore lets each ticket carry early data
 * once while its record lives, and refuses (rather than forgets) when full.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InMemoryReplayStore } from '../../../src/endpoint/anti-replay.js';

const id = (n: number) => Uint8Array.from([n, n >> 8, 0xaa, 0x55]);
const T = 1_000_000;

test('single use: the second claim of a ticket is refused while its record lives', () => {
  const s = new InMemoryReplayStore();
  assert.equal(s.claim(id(1), T, T + 1000), true);
  assert.equal(s.claim(id(1), T, T + 1000), false);
  assert.equal(s.claim(id(1), T + 999, T + 5000), false);
  // Equal bytes in another object (a Buffer) are the same ticket.
  assert.equal(s.claim(Buffer.from(id(1)), T + 1, T + 1000), false);
  // Other tickets are independent.
  assert.equal(s.claim(id(2), T, T + 1000), true);
  assert.equal(s.size, 2);
});

test('a refused claim does not extend the record', () => {
  const s = new InMemoryReplayStore();
  assert.equal(s.claim(id(1), T, T + 1000), true);
  assert.equal(s.claim(id(1), T + 10, T + 99_999), false);
  assert.equal(s.claim(id(1), T + 1000, T + 2000), true);
});

test('expiry: once the record expires the ticket may be claimed again', () => {
  const s = new InMemoryReplayStore();
  assert.equal(s.claim(id(3), T, T + 500), true);
  assert.equal(s.claim(id(3), T + 499, T + 600), false);
  assert.equal(s.claim(id(3), T + 500, T + 600), true);
  assert.equal(s.claim(id(3), T + 550, T + 600), false);
});

test('bounded: when full, new tickets are refused; expired records are swept to make room', () => {
  const s = new InMemoryReplayStore(3);
  assert.equal(s.claim(id(1), T, T + 100), true);
  assert.equal(s.claim(id(2), T, T + 200), true);
  assert.equal(s.claim(id(3), T, T + 300), true);
  assert.equal(s.size, 3);
  // Full, nothing expired: refused, and nothing was forgotten.
  assert.equal(s.claim(id(4), T + 50, T + 400), false);
  assert.equal(s.size, 3);
  assert.equal(s.claim(id(1), T + 50, T + 400), false);
  assert.equal(s.claim(id(2), T + 50, T + 400), false);
  // The first record expired: the sweep frees exactly that slot.
  assert.equal(s.claim(id(4), T + 100, T + 400), true);
  assert.equal(s.size, 3);
  assert.equal(s.claim(id(4), T + 100, T + 400), false);
  assert.equal(s.claim(id(2), T + 150, T + 400), false);
  assert.equal(s.claim(id(5), T + 150, T + 400), false);
  // Everything expired.
  for (let i = 10; i < 13; i++) assert.equal(s.claim(id(i), T + 1000, T + 2000), true);
  assert.equal(s.size, 3);
  assert.equal(s.claim(id(13), T + 1000, T + 2000), false);
});
