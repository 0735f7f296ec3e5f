/**
 * Same-run A/B of the parts of a handshake that session 24 cut (issue 13), each timed alone: an
 * older build (a git ref, compiled like bench/handshake-ab.ts does) against the working tree,
 * alternating A B B A per round, CPU time per call (process.cpuUsage). A whole handshake costs
 * 1.5-2.5 ms of CPU per side and varies by more than 10% between runs on a shared machine; these
 * parts cost microseconds and are timed in tight loops, so their difference is resolved where the
 * handshake A/B cannot resolve it.
 *
 *   npx tsx bench/handshake-parts.ts [--base REF (main)] [--rounds N (8)] [--calls N (2000)]
 *
 * Parts: the server's check of a client's first Initial and the connection's decryption of it (A:
 * a copy opened, then the original opened again; B: opened once, without writing); encoding a
 * client's transport parameters; the trust store lookup of a dial (same CA Buffer each time); the
 * transcript-hash digests of a client handshake; and, timed in B only, what a client no longer does
 * per connection (the reset token of its first CID, the resumption master secret and a ticket's
 * PSK). Figures are printed, never asserted. See bench/README.md.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { buildBase } from './handshake-ab.js';
import { median } from './peers/protocol.js';
import { buildTsquicJs } from './tsquic-build.js';
import { writePki } from './udp.js';

type Fn = () => void;
type Mod = Record<string, unknown>;

function option(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

function fn<T>(m: Mod, name: string): T {
  const f = m[name];
  if (typeof f !== 'function') throw new Error(`${name} missing`);
  return f as T;
}

async function load(dir: string, file: string): Promise<Mod> {
  return (await import(join(dir, 'src', file))) as Mod;
}

/** µs of CPU per call of `f`, over `calls` calls. */
function time(f: Fn, calls: number): number {
  const t0 = process.cpuUsage();
  for (let i = 0; i < calls; i++) f();
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / calls;
}

interface Packet {
  packetStart: number;
  packetEnd: number;
  pnOffset: number;
  dcid: Uint8Array;
  version: number;
}

/** The parts as one build runs them. */
async function parts(dir: string, datagram: Uint8Array, ca: Buffer): Promise<Record<string, Fn>> {
  const header = await load(dir, 'wire/packet-header.js');
  const keysMod = await load(dir, 'crypto/packet-keys.js');
  const protection = await load(dir, 'crypto/packet-protection.js');
  const check = await load(dir, 'endpoint/client-hello-check.js');
  const tp = await load(dir, 'wire/transport-parameters.js');
  const options = await load(dir, 'connection/connection-options.js');
  const verifier = await load(dir, 'tls/certificate-verifier.js');
  const transcriptMod = await load(dir, 'tls/transcript-hash.js');
  const parsePacket = fn<(d: Uint8Array, o: number, l: number) => Packet>(header, 'parsePacket');
  const initial = parsePacket(datagram, 0, 8);
  const deriveInitialKeys = fn<(v: number, dcid: Uint8Array) => { client: unknown }>(
    keysMod,
    'deriveInitialKeys',
  );
  const keys = deriveInitialKeys(initial.version, initial.dcid).client;
  const openPacket = fn<(...a: unknown[]) => unknown>(protection, 'openPacket');
  type Check = (d: Uint8Array, p: Packet, k: unknown) => unknown;
  const serverFirstInitial: Fn =
    typeof check.openClientHello === 'function'
      ? () => {
          // B: the check opens the packet once, writing nothing; the connection takes it over.
          if (!(check.openClientHello as Check)(datagram, initial, keys)) throw new Error('no ClientHello');
        }
      : () => {
          // A: the check opens a copy; the connection opens the original (here a fresh copy of it).
          if (!(check.carriesClientHello as Check)(datagram, initial, keys))
            throw new Error('no ClientHello');
          const original = Uint8Array.from(datagram);
          openPacket(keys, original, initial.packetStart, initial.pnOffset, initial.packetEnd, -1);
        };
  const resolve = fn<(o: object) => object>(options, 'resolveTransportOptions');
  const local = fn<(o: object, ids: object) => object>(options, 'localTransportParameters');
  const params = local(resolve({}), { initialSourceConnectionId: randomBytes(8) });
  const encode = fn<(p: object) => Uint8Array>(tp, 'encodeTransportParameters');
  const cached = fn<(ca: unknown[]) => unknown>(verifier, 'cachedTrustStore');
  const Transcript = transcriptMod.TranscriptHash as new () => {
    init(h: string): void;
    add(m: Uint8Array): void;
    digest(): Buffer;
    finish?(): Buffer;
  };
  const msg = randomBytes(200);
  return {
    'server: first Initial checked and opened': serverFirstInitial,
    'transport parameters encoded (client)': () => {
      encode(params);
    },
    'trust store of a dial (same CA Buffer)': () => {
      cached([ca]);
      cached([ca]);
    },
    'client transcript digests (full handshake)': () => {
      // ServerHello, EE, Certificate, CertificateVerify, server Finished, client Finished: the
      // digests a TLS client takes, then the resumption master secret's (B: only when kept).
      const t = new Transcript();
      t.add(msg);
      t.init('sha256');
      t.add(msg);
      t.digest();
      t.add(msg);
      t.add(msg);
      t.digest();
      t.add(msg);
      t.digest();
      t.add(msg);
      t.digest();
      t.digest();
      t.add(msg);
      if (t.finish === undefined) t.digest();
    },
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const base = option(argv, '--base') ?? 'main';
  const rounds = Number(option(argv, '--rounds') ?? 8);
  const calls = Number(option(argv, '--calls') ?? 2000);
  const a = buildBase(base);
  const bDir = buildTsquicJs();
  const pki = writePki();
  const ca = readFileSync(pki.ca);
  // A real first Initial from the working tree's client.
  const { Endpoint } = (await load(bDir, 'endpoint/endpoint.js')) as {
    Endpoint: new (
      c: object,
    ) => {
      connect(o: object, now: number): unknown;
      transmit(now: number): { datagram: Uint8Array } | undefined;
    };
  };
  const client = new Endpoint({ random: (n: number) => randomBytes(n) });
  client.connect(
    { remoteAddress: '127.0.0.1:4433', tls: { alpn: ['x'], serverName: 'localhost', ca: [ca] } },
    0,
  );
  const datagram = Uint8Array.from(client.transmit(0)!.datagram);
  const builds = { A: await parts(a.dir, datagram, ca), B: await parts(bDir, datagram, ca) };
  console.log(
    `A = ${base} (${a.sha.slice(0, 12)}), B = working tree; ${rounds} rounds of A B B A / B A A B, ${calls} calls each`,
  );
  console.log(
    `load average ${loadavg()
      .map((v) => v.toFixed(1))
      .join(' ')}`,
  );
  for (const name of Object.keys(builds.B)) {
    const got = { A: [] as number[], B: [] as number[] };
    const ratios: number[] = [];
    for (const b of ['A', 'B'] as const) time(builds[b][name]!, calls);
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? (['A', 'B', 'B', 'A'] as const) : (['B', 'A', 'A', 'B'] as const);
      const round = { A: [] as number[], B: [] as number[] };
      for (const b of order) round[b].push(time(builds[b][name]!, calls));
      got.A.push(...round.A);
      got.B.push(...round.B);
      ratios.push(median(round.B)! / median(round.A)!);
    }
    console.log(
      `${name.padEnd(44)} us/call A ${median(got.A)!.toFixed(2).padStart(7)}  B ${median(got.B)!.toFixed(2).padStart(7)}  B/A median ${median(ratios)!.toFixed(3)} (rounds ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)})`,
    );
  }
  // What a client no longer does per connection (B only): the reset token of its first CID, and
  // for a client that keeps no sessions the resumption master secret and a ticket's PSK.
  const reset = (await load(bDir, 'crypto/stateless-reset.js')) as {
    StatelessResetTokens: new (k: Uint8Array) => { tokenFor(c: Uint8Array): Uint8Array };
  };
  const ks = await load(bDir, 'tls/key-schedule.js');
  const tokens = new reset.StatelessResetTokens(randomBytes(32));
  const KeySchedule = ks.KeySchedule as new (
    h: string,
  ) => {
    deriveHandshakeSecret(s: Uint8Array): void;
    deriveMasterSecret(): void;
    resumptionMasterSecret(th: Uint8Array): Buffer;
  };
  const resumptionPsk = fn<(h: string, rms: Uint8Array, n: Uint8Array) => Buffer>(ks, 'resumptionPsk');
  const schedule = new KeySchedule('sha256');
  schedule.deriveHandshakeSecret(randomBytes(32));
  schedule.deriveMasterSecret();
  const th = randomBytes(32);
  const cid = randomBytes(8);
  const skipped: Record<string, Fn> = {
    'reset token of a first CID (not derived now)': () => {
      tokens.tokenFor(cid);
    },
    'resumption master secret + one PSK (not derived now)': () => {
      resumptionPsk('sha256', schedule.resumptionMasterSecret(th), th.subarray(0, 8));
    },
  };
  for (const [name, f] of Object.entries(skipped)) {
    time(f, calls);
    const t = Array.from({ length: rounds }, () => time(f, calls));
    console.log(`${name.padEnd(52)} us/call ${median(t)!.toFixed(2)}`);
  }
}

await main();
