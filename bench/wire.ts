/**
 * Wire-format micro-benchmark: frames encoded and decoded per second for an ACK with ranges, a
 * 1200-byte STREAM frame and a typical mix. `run()` is exported for a future bench/index.ts.
 *
 *   npx tsx bench/wire.ts [durationMs per measurement, default 500]
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { BufferReader } from '../src/wire/buffer-reader.js';
import { BufferWriter } from '../src/wire/buffer-writer.js';
import { decodeFrame, encodeFrame } from '../src/wire/frame-codec.js';
import { type AckRange, type Frame, FrameType } from '../src/wire/frames.js';

export interface WireBenchResult {
  name: string;
  encodePerSecond: number;
  decodePerSecond: number;
}

function ackWithRanges(count: number): Frame {
  const ranges: AckRange[] = [];
  let largest = 1_000_000;
  for (let i = 0; i < count; i++) {
    ranges.push({ smallest: largest - 20, largest });
    largest -= 25;
  }
  return { type: FrameType.Ack, ackDelay: 1234, ranges };
}

function scenarios(): Array<{ name: string; frames: Frame[] }> {
  const data = new Uint8Array(1200).fill(0x61);
  const stream: Frame = { type: FrameType.Stream, streamId: 4, offset: 123_456_789, data, fin: false };
  const mix: Frame[] = [
    ackWithRanges(3),
    { type: FrameType.Stream, streamId: 8, offset: 4096, data: data.subarray(0, 400), fin: false },
    { type: FrameType.MaxStreamData, streamId: 8, maximumStreamData: 1 << 22 },
    { type: FrameType.MaxData, maximumData: 1 << 26 },
    { type: FrameType.Ping },
    { type: FrameType.Crypto, offset: 0, data: data.subarray(0, 200) },
    { type: FrameType.Padding, length: 10 },
  ];
  return [
    { name: 'ACK (16 ranges)', frames: [ackWithRanges(16)] },
    { name: 'STREAM 1200 bytes', frames: [stream] },
    { name: 'mix (ACK, STREAM, MAX_*, PING, CRYPTO, PADDING)', frames: mix },
  ];
}

/** Repeats `body` (which handles `perCall` frames) for about `ms` milliseconds; frames per second. */
function measure(ms: number, perCall: number, body: () => void): number {
  for (let i = 0; i < 2000; i++) body(); // warm-up
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < 500; i++) body();
    calls += 500;
    elapsed = performance.now() - start;
  }
  return (calls * perCall) / (elapsed / 1000);
}

export async function run(durationMs = 500): Promise<WireBenchResult[]> {
  const results: WireBenchResult[] = [];
  for (const { name, frames } of scenarios()) {
    const w = BufferWriter.alloc(4096);
    const encodePerSecond = measure(durationMs, frames.length, () => {
      w.rewind(0);
      for (const f of frames) encodeFrame(w, f);
    });
    w.rewind(0);
    for (const f of frames) encodeFrame(w, f);
    const payload = w.buffer.subarray(0, w.offset);
    let sink = 0;
    const decodePerSecond = measure(durationMs, frames.length, () => {
      const r = new BufferReader(payload);
      while (r.offset < r.end) sink += decodeFrame(r).type;
    });
    if (sink < 0) console.log(sink); // keep the decoded frames observable
    results.push({ name, encodePerSecond, decodePerSecond });
  }
  return results;
}

function format(n: number): string {
  return `${(n / 1e6).toFixed(2)} M/s`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = Number(process.argv[2]);
  const results = await run(Number.isFinite(arg) && arg > 0 ? arg : 500);
  console.log('wire: frames per second');
  for (const r of results) {
    console.log(
      `  ${r.name.padEnd(50)} encode ${format(r.encodePerSecond).padStart(10)}  decode ${format(r.decodePerSecond).padStart(10)}`,
    );
  }
}
