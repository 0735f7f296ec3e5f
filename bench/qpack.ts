/**
 * QPACK micro-benchmark: header fields encoded and decoded per CPU second, for browser-like requests
 * and server responses, with the dynamic table (warm, acknowledgments flowing) and with the static
 * table and literals only (peer capacity 0). Also the encoded size per section. `run()` is used by
 * bench/index.ts.
 *
 *   npx tsx bench/qpack.ts [durationMs per measurement, default 500]
 */
import { pathToFileURL } from 'node:url';
import { ByteWriter } from '../src/http3/qpack/byte-writer.js';
import { writeSectionAck } from '../src/http3/qpack/decoder-instructions.js';
import { type FieldLine, QpackDecoder, QpackEncoder } from '../src/http3/qpack/index.js';

export interface QpackBenchResult {
  name: string;
  fieldsPerSection: number;
  encodeFieldsPerSecond: number;
  decodeFieldsPerSecond: number;
  /** Mean encoded field section size in steady state. */
  bytesPerSection: number;
  /** The same fields as HTTP/1.1 text ("name: value\r\n"), for scale. */
  plainBytesPerSection: number;
}

/** Sections of one scenario: the same shape with a few varying values, like real traffic. */
function requests(n: number): FieldLine[][] {
  const out: FieldLine[][] = [];
  for (let i = 0; i < n; i++) {
    out.push([
      { name: ':method', value: 'GET' },
      { name: ':scheme', value: 'https' },
      { name: ':authority', value: 'www.example.com' },
      { name: ':path', value: `/assets/images/photo-${i}.jpg?v=${(i * 7919) % 10007}` },
      {
        name: 'user-agent',
        value:
          'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
      },
      { name: 'accept', value: 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8' },
      { name: 'accept-encoding', value: 'gzip, deflate, br, zstd' },
      { name: 'accept-language', value: 'en-US,en;q=0.9' },
      { name: 'referer', value: 'https://www.example.com/gallery/index.html' },
      { name: 'sec-fetch-dest', value: 'image' },
      { name: 'sec-fetch-mode', value: 'no-cors' },
      { name: 'sec-fetch-site', value: 'same-origin' },
      { name: 'cookie', value: 'session=5f2b7c1e9a0d4e8b8c3a1f6d2e7b9c0a; theme=dark; consent=yes' },
      { name: 'priority', value: 'i' },
    ]);
  }
  return out;
}

function responses(n: number): FieldLine[][] {
  const out: FieldLine[][] = [];
  for (let i = 0; i < n; i++) {
    out.push([
      { name: ':status', value: '200' },
      { name: 'content-type', value: 'image/jpeg' },
      { name: 'content-length', value: `${10_000 + ((i * 7919) % 90_000)}` },
      { name: 'date', value: 'Tue, 01 Dec 2026 12:00:00 GMT' },
      { name: 'server', value: 'tsquic' },
      { name: 'cache-control', value: 'public, max-age=31536000' },
      { name: 'etag', value: `"${(i * 104729).toString(16)}-${i}"` },
      { name: 'last-modified', value: 'Mon, 30 Nov 2026 08:00:00 GMT' },
      { name: 'accept-ranges', value: 'bytes' },
      { name: 'alt-svc', value: 'h3=":443"; ma=86400' },
    ]);
  }
  return out;
}

/** CPU seconds used by this process so far (robust against other processes on a busy machine). */
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/**
 * Repeats `body` (which handles `perCall` fields) for about `ms` milliseconds of this process's CPU
 * time; fields per CPU second.
 */
function measure(ms: number, perCall: number, body: () => void): number {
  for (let i = 0; i < 2000; i++) body(); // warm-up
  let calls = 0;
  const start = cpuSeconds();
  let elapsed = 0;
  while (elapsed * 1000 < ms) {
    for (let i = 0; i < 200; i++) body();
    calls += 200;
    elapsed = cpuSeconds() - start;
  }
  return (calls * perCall) / elapsed;
}

/** Sections decoded over and over (steady state). */
const SECTIONS = 64;
/** Distinct sections encoded in turn: more than the encoder remembers, as unique paths are. */
const POOL = 4096;
/** Stream IDs cycle through this many, so per-stream bookkeeping stays small and realistic. */
const STREAMS = 256;

function scenario(
  name: string,
  lists: FieldLine[][],
  capacity: number,
  durationMs: number,
): QpackBenchResult {
  const settings = { maxTableCapacity: capacity, blockedStreams: 100 };
  const enc = new QpackEncoder();
  enc.applyPeerSettings(settings);
  const dec = new QpackDecoder({
    maxTableCapacity: capacity,
    maxBlockedStreams: 100,
    maxFieldSectionSize: 1 << 20,
  });
  const roundTrip = (fields: FieldLine[], i: number): Uint8Array => {
    const s = enc.encode(4 * (i % STREAMS), fields);
    const ins = enc.takeEncoderStreamData();
    if (ins) dec.onEncoderStreamData(ins);
    const r = dec.decode(4 * (i % STREAMS), s);
    if (r.status !== 'done' || r.fields.length !== fields.length) throw new Error(`${name}: bad round trip`);
    const acks = dec.takeDecoderStreamData();
    if (acks) enc.onDecoderStreamData(acks);
    return s;
  };
  // Warm up the pair: the lines common to all sections get inserted; the varying ones never repeat
  // (the pool is larger than the encoder remembers), so the table then stays as it is and the
  // next sections can be decoded again and again.
  lists.slice(0, SECTIONS).forEach(roundTrip);
  const insertsBefore = dec.insertCount;
  const sections = lists.slice(SECTIONS, 2 * SECTIONS).map(roundTrip);
  if (dec.insertCount !== insertsBefore) throw new Error(`${name}: the table is not stable`);
  const bytesPerSection = sections.reduce((n, s) => n + s.length, 0) / sections.length;
  const plainBytesPerSection =
    lists.reduce((n, l) => n + l.reduce((m, f) => m + f.name.length + f.value.length + 4, 0), 0) /
    lists.length;

  // Encode: the peer acknowledges every section at once (its decoder's cost is not counted).
  const ackBytes: Uint8Array[] = [];
  for (let id = 0; id < STREAMS; id++) {
    const w = new ByteWriter(4);
    writeSectionAck(w, 4 * id);
    ackBytes.push(w.copy());
  }
  const perSection = lists[0]!.length;
  let k = 0;
  let sink = 0;
  const encodeFieldsPerSecond = measure(durationMs, perSection, () => {
    const id = k % STREAMS;
    const before = enc.unacknowledgedSectionCount;
    sink += enc.encode(4 * id, lists[k % lists.length]!).length;
    if (enc.unacknowledgedSectionCount > before) enc.onDecoderStreamData(ackBytes[id]!);
    const ins = enc.takeEncoderStreamData();
    if (ins) sink += ins.length;
    k++;
  });
  // Decode: the steady-state sections against the warm table, acknowledgments taken in batches.
  k = 0;
  const decodeFieldsPerSecond = measure(durationMs, perSection, () => {
    const r = dec.decode(4 * (k % STREAMS), sections[k % sections.length]!);
    if (r.status === 'done') sink += r.fields.length;
    if ((++k & 63) === 0) dec.takeDecoderStreamData();
  });
  if (sink < 0) console.log(sink); // keep results observable
  return {
    name,
    fieldsPerSection: perSection,
    encodeFieldsPerSecond,
    decodeFieldsPerSecond,
    bytesPerSection,
    plainBytesPerSection,
  };
}

export async function run(durationMs = 500): Promise<QpackBenchResult[]> {
  const req = requests(POOL);
  const res = responses(POOL);
  return [
    scenario('requests, dynamic table 4096', req, 4096, durationMs),
    scenario('responses, dynamic table 4096', res, 4096, durationMs),
    scenario('requests, static + literals', req, 0, durationMs),
    scenario('responses, static + literals', res, 0, durationMs),
  ];
}

function format(n: number): string {
  return `${(n / 1e6).toFixed(2)} M/s`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = Number(process.argv[2]);
  const results = await run(Number.isFinite(arg) && arg > 0 ? arg : 500);
  console.log('qpack: header fields per CPU second (and encoded bytes per section vs HTTP/1.1 text)');
  for (const r of results) {
    console.log(
      `  ${r.name.padEnd(32)} encode ${format(r.encodeFieldsPerSecond).padStart(10)}  decode ${format(r.decodeFieldsPerSecond).padStart(10)}  ` +
        `${r.bytesPerSection.toFixed(0).padStart(4)} of ${r.plainBytesPerSection.toFixed(0)} bytes (${r.fieldsPerSection} fields)`,
    );
  }
}
