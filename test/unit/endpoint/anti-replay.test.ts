/**
 * 0-RTT anti-replay (RFC 8446 §8, RFC 9001 §9.2): InMemoryReplayStore lets each ticket carry early data
 * once while its record lives, frees records once they expire, and refuses (rather than forgets) when
 * full.
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

/** Runs `f`, counting the records Map iterators hand out (what a sweep walks). */
function countIterated(f: () => void): number {
  const proto = Map.prototype as unknown as { [Symbol.iterator]: () => Iterator<unknown> };
  const original = proto[Symbol.iterator];
  let visited = 0;
  proto[Symbol.iterator] = function (this: Map<unknown, unknown>) {
    const it = original.call(this);
    return {
      next: () => {
        const r = it.next();
        if (!r.done) visited++;
        return r;
      },
      [Symbol.iterator]() {
        return this;
      },
    } as Iterator<unknown>;
  };
  try {
    f();
  } finally {
    proto[Symbol.iterator] = original;
  }
  return visited;
}

test('a full store does not walk every record on every claim (amortised O(1) sweeps)', () => {
  const max = 10_000;
  const s = new InMemoryReplayStore(max);
  const lifetime = 21_000; // one lifetime for every record: they expire in claim order
  const ticket = (n: number) => Uint8Array.from([n, n >> 8, n >> 16, 0x42]);
  for (let i = 0; i < max; i++) assert.equal(s.claim(ticket(i), T + i, T + i + lifetime), true);
  // Full of live records: 1,000 new tickets are refused, walking at most one full sweep a second.
  const now = T + max;
  const visited = countIterated(() => {
    for (let i = max; i < max + 1000; i++)
      assert.equal(s.claim(ticket(i), now + (i - max), now + lifetime), false);
  });
  assert.ok(visited <= max + 2 * 1000, `visited ${visited} records for 1000 claims`);
  assert.equal(s.size, max);
  // Once the oldest records expire, each claim frees them from the front and is accepted.
  const later = T + lifetime + 100; // records 0..100 (101 of them) have expired
  const freed = countIterated(() => {
    for (let i = 0; i < 100; i++)
      assert.equal(s.claim(ticket(max + 5000 + i), later, later + lifetime), true);
  });
  assert.ok(freed < 1000, `visited ${freed} records to free 101`);
  assert.equal(s.size, max - 101 + 100);
  // Still single use.
  assert.equal(s.claim(ticket(max + 5000), later, later + lifetime), false);
  assert.equal(s.claim(ticket(500), later, later + lifetime), false);
});

test('records that expire out of claim order are still found, by a full sweep at most once a second', () => {
  const s = new InMemoryReplayStore(2);
  assert.equal(s.claim(id(1), T, T + 10_000), true); // long-lived, at the front
  assert.equal(s.claim(id(2), T, T + 100), true); // short-lived, behind it
  // Full; id(2) has expired behind a live record: a full sweep finds it.
  assert.equal(s.claim(id(3), T + 200, T + 300), true);
  // id(3) expires behind id(1) too, but the next full sweep may only run a second after the last:
  // until then the store refuses (safe), then it frees the record.
  assert.equal(s.claim(id(4), T + 400, T + 500), false);
  assert.equal(s.claim(id(4), T + 1199, T + 1300), false);
  assert.equal(s.claim(id(4), T + 1200, T + 1300), true);
  assert.equal(s.size, 2);
  assert.equal(s.claim(id(1), T + 1200, T + 1300), false);
});

test('expired records are freed as claims come, not only once the store is full', () => {
  // A server's steady 0-RTT traffic: 1,000 claims a second, each record living 21 s (endpoint.ts:
  // the freshness window plus a second). The store holds about 21 s of claims, far below its bound.
  const s = new InMemoryReplayStore(100_000);
  const ticket = (n: number) => Uint8Array.from([n, n >> 8, n >> 16, 0x17]);
  let peak = 0;
  for (let i = 0; i < 60_000; i++) {
    const now = T + i;
    assert.equal(s.claim(ticket(i), now, now + 21_000), true);
    peak = Math.max(peak, s.size);
  }
  assert.equal(peak, 21_000);
  assert.equal(s.size, 21_000);
  // Still single use for the records that live.
  assert.equal(s.claim(ticket(59_999), T + 60_000, T + 81_000), false);
  assert.equal(s.claim(ticket(39_001), T + 60_000, T + 81_000), false);
  // An expired one may be claimed again (its ClientHello would fail the freshness check by then).
  assert.equal(s.claim(ticket(39_000), T + 60_000, T + 81_000), true);
});
