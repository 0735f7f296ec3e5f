import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Prng, seededRandomBytes } from './prng.js';

function draws(p: Prng, n: number): number[] {
  return Array.from({ length: n }, () => p.uint32());
}

/** Pearson's chi-square statistic of observed counts against a uniform expectation. */
function chiSquare(counts: number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const expected = total / counts.length;
  return counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
}

test('known answers lock the algorithm: seed 1 and seed 0', () => {
  assert.deepEqual(draws(new Prng(1), 4), [0x5874bb1d, 0x45430b4f, 0x0b3940f8, 0x535a902c]);
  const p = new Prng(0);
  assert.equal(p.next(), 0.84803210857722);
  assert.equal(Buffer.from(p.bytes(8)).toString('hex'), '7fec3003d2d3f664');
  assert.equal(new Prng(1).fork('a').seed, 3788844263692959);
});

test('the same seed gives the same stream for every kind of draw', () => {
  const a = new Prng(12345);
  const b = new Prng(12345);
  for (let i = 0; i < 1000; i++) {
    assert.equal(a.uint32(), b.uint32());
    assert.equal(a.next(), b.next());
    assert.equal(a.int(1000), b.int(1000));
  }
  assert.deepEqual(a.bytes(37), b.bytes(37));
  assert.equal(a.seed, 12345);
});

test('adjacent seeds give unrelated streams', () => {
  const firsts = new Set<number>();
  for (let seed = 0; seed < 1000; seed++) firsts.add(new Prng(seed).uint32());
  assert.equal(firsts.size, 1000);
  // Bits of seed 1 and seed 2 streams agree about half of the time, not more.
  const a = draws(new Prng(1), 1000);
  const b = draws(new Prng(2), 1000);
  let sameBits = 0;
  for (let i = 0; i < a.length; i++) {
    let x = ~(a[i]! ^ b[i]!) >>> 0;
    while (x !== 0) {
      sameBits += x & 1;
      x >>>= 1;
    }
  }
  const fraction = sameBits / (32 * 1000);
  assert.ok(fraction > 0.48 && fraction < 0.52, `fraction of equal bits ${fraction}`);
});

test('negative and 53-bit seeds are accepted and distinct; unsafe seeds are rejected', () => {
  const seeds = [0, -1, 1, 2 ** 32, -(2 ** 32), Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER];
  const firsts = seeds.map((s) => new Prng(s).next());
  assert.equal(new Set(firsts).size, seeds.length);
  for (const bad of [1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
    assert.throws(() => new Prng(bad), RangeError);
  }
});

test('next() is in [0, 1) and uniform (mean, chi-square over 20 buckets)', () => {
  const p = new Prng(7);
  const buckets = new Array<number>(20).fill(0);
  let sum = 0;
  const n = 100_000;
  for (let i = 0; i < n; i++) {
    const x = p.next();
    assert.ok(x >= 0 && x < 1);
    sum += x;
    buckets[Math.floor(x * 20)]!++;
  }
  assert.ok(Math.abs(sum / n - 0.5) < 0.005, `mean ${sum / n}`);
  // 19 degrees of freedom: P(chi2 > 43.8) = 0.001.
  assert.ok(chiSquare(buckets) < 43.8, `chi2 ${chiSquare(buckets)}`);
});

test('int(n) stays in [0, n), covers it uniformly, and rejects bad bounds', () => {
  const p = new Prng(99);
  const counts = new Array<number>(6).fill(0);
  for (let i = 0; i < 60_000; i++) counts[p.int(6)]!++;
  assert.ok(counts.every((c) => c > 0));
  // 5 degrees of freedom: P(chi2 > 20.5) = 0.001.
  assert.ok(chiSquare(counts) < 20.5, `chi2 ${chiSquare(counts)}`);
  for (let i = 0; i < 100; i++) assert.equal(p.int(1), 0);
  const big = 2 ** 40;
  for (let i = 0; i < 1000; i++) {
    const v = p.int(big);
    assert.ok(Number.isInteger(v) && v >= 0 && v < big);
  }
  for (const bad of [0, -1, 1.5, Number.NaN, 2 ** 53]) assert.throws(() => p.int(bad), RangeError);
});

test('bytes(n): exact length, little-endian words, prefix-consistent, all byte values occur', () => {
  assert.equal(new Prng(3).bytes(0).length, 0);
  const word = new Prng(3).uint32();
  assert.deepEqual(
    new Prng(3).bytes(4),
    Uint8Array.of(word & 0xff, (word >>> 8) & 0xff, (word >>> 16) & 0xff, word >>> 24),
  );
  const long = new Prng(3).bytes(8);
  for (const n of [1, 2, 3, 5, 6, 7]) assert.deepEqual(new Prng(3).bytes(n), long.subarray(0, n), `n=${n}`);
  const seen = new Set(new Prng(4).bytes(10_000));
  assert.equal(seen.size, 256);
  assert.throws(() => new Prng(3).bytes(-1), RangeError);
});

test('fork(label) depends on seed and label only, not on what the parent already drew', () => {
  const fresh = new Prng(42);
  const used = new Prng(42);
  draws(used, 500);
  assert.deepEqual(draws(fresh.fork('link'), 50), draws(used.fork('link'), 50));
  assert.equal(fresh.fork('link').seed, used.fork('link').seed);
  // Different labels, different parents and the parent itself all give different streams.
  const streams = [
    draws(new Prng(42), 20),
    draws(new Prng(42).fork('link'), 20),
    draws(new Prng(42).fork('link2'), 20),
    draws(new Prng(42).fork('lin'), 20),
    draws(new Prng(42).fork(''), 20),
    draws(new Prng(43).fork('link'), 20),
    draws(new Prng(42).fork('link').fork('link'), 20),
  ];
  const keys = new Set(streams.map((s) => s.join(',')));
  assert.equal(keys.size, streams.length);
  // Forks of forks are reproducible.
  assert.equal(new Prng(42).fork('a').fork('b').uint32(), new Prng(42).fork('a').fork('b').uint32());
  // Forked seeds are safe integers that round-trip through the constructor.
  const f = new Prng(42).fork('x');
  assert.ok(Number.isSafeInteger(f.seed));
  assert.deepEqual(draws(new Prng(f.seed), 10), draws(f, 10));
});

test('seededRandomBytes draws from the given generator', () => {
  const rb = seededRandomBytes(new Prng(5));
  const a = rb(16);
  const b = rb(16);
  assert.ok(a instanceof Uint8Array);
  assert.equal(a.length, 16);
  assert.notDeepEqual(a, b);
  const again = seededRandomBytes(new Prng(5));
  assert.deepEqual(again(16), a);
  assert.deepEqual(again(16), b);
});

test('property: int, next and bytes respect their ranges for any seed', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
      fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
      fc.nat(64),
      (seed, bound, n) => {
        const p = new Prng(seed);
        const v = p.int(bound);
        const x = p.next();
        return Number.isInteger(v) && v >= 0 && v < bound && x >= 0 && x < 1 && p.bytes(n).length === n;
      },
    ),
    { numRuns: 500 },
  );
});
