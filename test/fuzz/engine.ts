/**
 * A small mutation fuzzer (issue 10). It is NOT coverage-guided: @jazzer.js/core 4.0 ships a native
 * addon built against glibc 2.38 (this machine and Debian 12 have 2.36) and 2.x downloads its addon
 * from GitHub at install time, so neither runs here (docs/security.md, "Fuzzing").
 *
 * Instead fast-check drives seeded mutations of a corpus of real captured inputs (test/fuzz/corpus/)
 * plus purely random inputs, for a bounded time; a failing input is shrunk by fast-check (fewer,
 * smaller mutations) and written to test/fuzz/findings/. Every file in test/fuzz/regressions/<target>/
 * is replayed first: each one is an input that once broke a target.
 *
 * A target is a function of the input bytes that returns normally or throws the typed error its
 * protocol prescribes; it throws `FuzzFinding` (or anything else) for a violation.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';

export const FUZZ_DIR = dirname(fileURLToPath(import.meta.url));

export interface FuzzTarget {
  name: string;
  /** What the input is and which errors are allowed (for docs and reports). */
  description: string;
  /** Runs one input; throws for anything but a typed error with the RFC's code. */
  run(input: Uint8Array): void;
  /** Largest input worth generating. */
  maxLength?: number;
}

/** Values that often sit on boundaries of varints, lengths and counts. */
const INTERESTING = [0x00, 0x01, 0x3f, 0x40, 0x7f, 0x80, 0xbf, 0xc0, 0xfe, 0xff];

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'duplicate'; at: number; length: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'splice'; at: number; other: number; from: number; length: number }
  | { kind: 'varint'; at: number; bytes: Uint8Array };

const position = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: position, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({
    kind: fc.constant('set' as const),
    at: position,
    value: fc.oneof(fc.constantFrom(...INTERESTING), fc.integer({ min: 0, max: 255 })),
  }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: position,
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: position, length: fc.integer({ min: 1, max: 32 }) }),
  fc.record({
    kind: fc.constant('duplicate' as const),
    at: position,
    length: fc.integer({ min: 1, max: 64 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: position }),
  fc.record({
    kind: fc.constant('splice' as const),
    at: position,
    other: fc.nat(),
    from: position,
    length: fc.integer({ min: 1, max: 128 }),
  }),
  fc.record({
    kind: fc.constant('varint' as const),
    at: position,
    // An 8-byte varint near 2^62 or 2^53, or a short one at its maximum.
    bytes: fc.constantFrom(
      Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
      Uint8Array.of(0xc0, 0x20, 0, 0, 0, 0, 0, 1),
      Uint8Array.of(0xc0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
      Uint8Array.of(0xbf, 0xff, 0xff, 0xff),
      Uint8Array.of(0x7f, 0xff),
      Uint8Array.of(0x3f),
    ),
  }),
);

function applyMutation(
  input: Uint8Array,
  m: Mutation,
  corpus: readonly Uint8Array[],
  max: number,
): Uint8Array {
  const n = input.length;
  const at = Math.floor(m.at * (n + 1));
  const join = (...parts: Uint8Array[]) => {
    const out = Buffer.concat(parts);
    return out.length > max ? out.subarray(0, max) : out;
  };
  switch (m.kind) {
    case 'flip': {
      if (n === 0) return input;
      const out = Uint8Array.from(input);
      out[Math.min(at, n - 1)]! ^= 1 << m.bit;
      return out;
    }
    case 'set': {
      if (n === 0) return Uint8Array.of(m.value);
      const out = Uint8Array.from(input);
      out[Math.min(at, n - 1)] = m.value;
      return out;
    }
    case 'insert':
      return join(input.subarray(0, at), m.bytes, input.subarray(at));
    case 'delete':
      return join(input.subarray(0, at), input.subarray(Math.min(n, at + m.length)));
    case 'duplicate':
      return join(input.subarray(0, at), input.subarray(at, at + m.length), input.subarray(at));
    case 'truncate':
      return input.subarray(0, at);
    case 'varint':
      return join(input.subarray(0, at), m.bytes, input.subarray(Math.min(n, at + m.bytes.length)));
    case 'splice': {
      if (corpus.length === 0) return input;
      const other = corpus[m.other % corpus.length]!;
      const from = Math.floor(m.from * other.length);
      return join(input.subarray(0, at), other.subarray(from, from + m.length), input.subarray(at));
    }
  }
}

/** One generated input: a corpus entry with mutations, or random bytes. */
function inputArb(corpus: readonly Uint8Array[], max: number): fc.Arbitrary<Uint8Array> {
  const mutated = fc.tuple(fc.nat(), fc.array(mutationArb, { minLength: 1, maxLength: 8 })).map(([i, ms]) => {
    let input: Uint8Array = corpus.length > 0 ? corpus[i % corpus.length]! : new Uint8Array(0);
    for (const m of ms) input = applyMutation(input, m, corpus, max);
    return input;
  });
  const random = fc.uint8Array({ maxLength: Math.min(max, 1500) });
  return corpus.length > 0
    ? fc.oneof({ weight: 6, arbitrary: mutated }, { weight: 1, arbitrary: random })
    : random;
}

function readDir(dir: string): Array<{ name: string; bytes: Uint8Array }> {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.bin'))
    .sort()
    .map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(dir, name))) }));
}

export function loadCorpus(target: string): Uint8Array[] {
  return readDir(join(FUZZ_DIR, 'corpus', target)).map((e) => e.bytes);
}

export interface FuzzReport {
  target: string;
  executions: number;
  corpus: number;
  regressions: number;
  /** A failing input (shrunk), its file, and the error it raised. */
  failure?: { file: string; error: string };
}

function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}\n${err.stack ?? ''}`;
  return String(err);
}

/**
 * Replays the target's regressions and corpus, then fuzzes it for `ms` milliseconds with fast-check
 * seed `seed`. A failure is written to test/fuzz/findings/<target>-<sha>.bin and reported.
 */
export function fuzz(target: FuzzTarget, opts: { ms: number; seed: number }): FuzzReport {
  const max = target.maxLength ?? 4096;
  const corpus = loadCorpus(target.name);
  const regressions = readDir(join(FUZZ_DIR, 'regressions', target.name));
  const report: FuzzReport = {
    target: target.name,
    executions: 0,
    corpus: corpus.length,
    regressions: regressions.length,
  };
  const fail = (input: Uint8Array, err: unknown): FuzzReport => {
    const sha = createHash('sha256').update(input).digest('hex').slice(0, 16);
    const dir = join(FUZZ_DIR, 'findings');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${target.name}-${sha}.bin`);
    writeFileSync(file, input);
    report.failure = { file, error: describeError(err) };
    return report;
  };
  for (const r of regressions) {
    try {
      target.run(r.bytes);
    } catch (err) {
      return fail(r.bytes, err);
    }
  }
  for (const c of corpus) {
    report.executions++;
    try {
      target.run(c);
    } catch (err) {
      return fail(c, err);
    }
  }
  const result = fc.check(
    fc.property(inputArb(corpus, max), (input) => {
      report.executions++;
      target.run(input);
    }),
    {
      seed: opts.seed,
      numRuns: Number.MAX_SAFE_INTEGER,
      interruptAfterTimeLimit: opts.ms,
      markInterruptAsFailure: false,
      endOnFailure: false,
    },
  );
  if (result.failed && result.counterexample) {
    const [input] = result.counterexample;
    return fail(input, result.errorInstance);
  }
  return report;
}
