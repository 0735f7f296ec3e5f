/**
 * Packet protection throughput: 1-RTT packets sealed and opened per second for each AEAD, as whole
 * operations (AEAD + header protection, through sealPacket / openPacket), at 1452 bytes (a full
 * packet on a 1500-byte MTU path), 1252 bytes and 100 bytes (an ACK, a small request or response),
 * plus the header protection mask on its own. AES-GCM goes through node:crypto (a cipher object per
 * packet), ChaCha20-Poly1305 through tsquic's WebAssembly module (aead.ts).
 *
 *   npx tsx bench/crypto.ts [durationMs]
 *   node --single-threaded-gc --import tsx bench/crypto.ts   (see docs: halves crypto call costs here)
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { CipherSuite, cipherSuiteParams } from '../src/crypto/cipher-suite.js';
import { derivePacketKeys } from '../src/crypto/packet-keys.js';
import { openPacket, sealPacket } from '../src/crypto/packet-protection.js';
import { QUIC_V1 } from '../src/crypto/quic-version.js';

export const PACKET_SIZES = [1452, 1252, 100] as const;
const DCID_LENGTH = 8;
const PN_LENGTH = 2;
const PN_OFFSET = 1 + DCID_LENGTH;
const HEADER_END = PN_OFFSET + PN_LENGTH;

export interface BenchResult {
  suite: string;
  /** Whole packet, header and tag included. */
  packetSize: number;
  operation: 'seal' | 'open' | 'hp-mask';
  iterations: number;
  packetsPerSecond: number;
  microsPerPacket: number;
  /** Packet bytes processed per second, in Mbit/s (0 for hp-mask). */
  mbitPerSecond: number;
}

/** Calls `op(i)` repeatedly for about `durationMs` after a warm-up; returns iterations and time. */
function measure(durationMs: number, op: (i: number) => void): { iterations: number; ms: number } {
  for (let i = 0; i < 2000; i++) op(i);
  let iterations = 0;
  const start = performance.now();
  let now = start;
  const deadline = start + durationMs;
  while (now < deadline) {
    // Check the clock every 256 operations only.
    for (let k = 0; k < 256; k++) op(iterations++);
    now = performance.now();
  }
  return { iterations, ms: now - start };
}

function result(
  suite: string,
  packetSize: number,
  operation: BenchResult['operation'],
  m: { iterations: number; ms: number },
): BenchResult {
  const perSecond = (m.iterations * 1000) / m.ms;
  return {
    suite,
    packetSize,
    operation,
    iterations: m.iterations,
    packetsPerSecond: Math.round(perSecond),
    microsPerPacket: (m.ms * 1000) / m.iterations,
    mbitPerSecond: operation === 'hp-mask' ? 0 : (perSecond * packetSize * 8) / 1e6,
  };
}

/** A 1-RTT packet with an 8-byte DCID and a 2-byte packet number, unprotected, 16 bytes of room. */
function plainPacket(pn: number, size: number): Buffer {
  const buf = Buffer.alloc(size);
  buf[0] = 0x40 | (PN_LENGTH - 1);
  buf.fill(0x8a, 1, PN_OFFSET);
  buf.writeUInt16BE(pn & 0xffff, PN_OFFSET);
  for (let i = HEADER_END; i < size - 16; i++) buf[i] = i & 0xff;
  return buf;
}

export function run(options: { durationMs?: number; suites?: readonly CipherSuite[] } = {}): BenchResult[] {
  const durationMs = options.durationMs ?? 1000;
  const suites = options.suites ?? [
    CipherSuite.AES_128_GCM_SHA256,
    CipherSuite.AES_256_GCM_SHA384,
    CipherSuite.CHACHA20_POLY1305_SHA256,
  ];
  const results: BenchResult[] = [];
  for (const suite of suites) {
    const params = cipherSuiteParams(suite);
    const secret = Buffer.alloc(params.hash === 'sha256' ? 32 : 48, 0x11);
    const sender = derivePacketKeys(suite, secret, QUIC_V1);
    const receiver = derivePacketKeys(suite, secret, QUIC_V1);
    let sealed = plainPacket(0, PACKET_SIZES[0]);
    for (const size of PACKET_SIZES) {
      const payloadEnd = size - 16;
      // Seal: rewrite the (protected) first byte and packet number, then protect in place.
      const sealBuf = plainPacket(0, size);
      const seal = measure(durationMs, (i) => {
        sealBuf[0] = 0x40 | (PN_LENGTH - 1);
        sealBuf[PN_OFFSET] = (i >>> 8) & 0xff;
        sealBuf[PN_OFFSET + 1] = i & 0xff;
        sealPacket(sender, sealBuf, 0, PN_OFFSET, PN_LENGTH, i, payloadEnd);
      });
      results.push(result(params.name, size, 'seal', seal));

      // Open: one genuine packet; restore all of it before each open (header protection is removed
      // in place, and ChaCha20-Poly1305 decrypts in place too): the copy is counted.
      const pn = 1000;
      sealed = plainPacket(pn, size);
      sealPacket(sender, sealed, 0, PN_OFFSET, PN_LENGTH, pn, payloadEnd);
      const pristine = Buffer.from(sealed);
      const packet = sealed;
      let failures = 0;
      const open = measure(durationMs, () => {
        packet.set(pristine, 0);
        if (openPacket(receiver, packet, 0, PN_OFFSET, size, pn - 1) === null) failures++;
      });
      if (failures > 0) throw new Error(`${params.name}: ${failures} packets failed to open`);
      results.push(result(params.name, size, 'open', open));
    }

    const mask = sealed;
    const hpm = measure(durationMs / 2, (i) => {
      mask[HEADER_END + 3] = i & 0xff;
      receiver.hp.maskAt(mask, PN_OFFSET + 4);
    });
    results.push(result(params.name, 0, 'hp-mask', hpm));
  }
  return results;
}

function format(results: readonly BenchResult[]): string {
  const lines = [
    `node ${process.version}, whole seal/open incl. header protection`,
    `${'suite'.padEnd(30)}${'bytes'.padStart(6)} ${'op'.padEnd(9)}${'packets/s'.padStart(12)}${'us/packet'.padStart(11)}${'Mbit/s'.padStart(9)}`,
  ];
  for (const r of results) {
    lines.push(
      `${r.suite.padEnd(30)}${(r.packetSize === 0 ? '-' : String(r.packetSize)).padStart(6)} ${r.operation.padEnd(9)}${String(r.packetsPerSecond).padStart(12)}` +
        `${r.microsPerPacket.toFixed(2).padStart(11)}${(r.mbitPerSecond === 0 ? '-' : r.mbitPerSecond.toFixed(0)).padStart(9)}`,
    );
  }
  return lines.join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = process.argv[2];
  const durationMs = arg === undefined ? undefined : Number(arg);
  console.log(format(run({ durationMs })));
}
