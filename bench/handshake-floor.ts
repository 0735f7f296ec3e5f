/**
 * The per-handshake floor in pure TypeScript on Node 20 (issue 13), per side: what the node:crypto
 * and node:dgram calls that one connection makes cost on this machine, with none of tsquic's own code
 * between them, next to the whole CPU per connection of tsquic and quic-go 0.29 from a compare run.
 * bench/floor.ts does the same per data packet of a bulk transfer.
 *
 * 1. Counts, per side and per kind of connection (full, resumed, 0-RTT; one small request each): the
 *    node:crypto calls (bench/handshake-ops.ts's list) and the datagrams each side sends, with the
 *    client and server cores back to back (bench/zero-rtt.ts BackToBack), a call charged to the side
 *    whose endpoint (or application) was running.
 * 2. CPU per call, on this machine (process.cpuUsage over many calls): each counted call made as
 *    tsquic makes it, with the same keys (the simulator PKI's), and cheaply where its cost depends on
 *    its input: every createCipheriv is charged the cheaper of a header-protection ECB key and a
 *    64-byte AES-128-GCM seal, every createDecipheriv a 64-byte open; a datagram's send and receive
 *    are those of an ACK-sized datagram in bursts (bench/floor.ts udpStep), though a handshake's are
 *    up to 1452 bytes and come one or two per event-loop turn.
 * So the floor is a lower bound: a stack that makes these calls cannot spend less CPU per connection,
 * whatever its own code costs. GC, timers, the event loop's own turns and the TLS and QUIC logic are
 * not in it.
 *
 *   npx tsx bench/handshake-floor.ts [--duration ms (300 per call)] [--connections N (50)]
 *                                    [--compare-json FILE (bench/results/compare.json)]
 *
 * Figures are printed, never asserted. See bench/README.md.
 */
import crypto from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { formatMachine, numberFlag } from './core.js';
import { ACK_DATAGRAM, cpuPerCall, udpStep } from './floor.js';
import { COUNTED, instrument } from './handshake-ops.js';
import { REPO_ROOT } from './udp.js';

type Kind = 'full' | 'resumed' | '0rtt';
type Side = 'client' | 'server';
const KINDS: readonly Kind[] = ['full', 'resumed', '0rtt'];
const SIDES: readonly Side[] = ['client', 'server'];

/** Per side: node:crypto calls by name and datagrams sent, per connection. */
export type SideCounts = Record<string, number> & { datagramsSent: number };
export type Counts = Record<Kind, Record<Side, SideCounts>>;

/** CPU microseconds per call: each counted node:crypto function, and a datagram's send and receive. */
export type CallCosts = Record<string, number> & { send: number; recv: number };

export interface HandshakeFloorRow {
  kind: Kind;
  side: Side;
  cryptoMs: number;
  socketMs: number;
  floorMs: number;
  tsquicMs?: number;
  quicGoMs?: number;
}

export interface HandshakeFloorResult {
  counts: Counts;
  costs: CallCosts;
  rows: HandshakeFloorRow[];
  compareSource?: string;
  load: [number, number];
}

/** Which side's code is running now: set by the wrappers around each endpoint's methods. */
let running: Side = 'client';

/** Wraps `target`'s methods so that what runs inside them is charged to `side`. */
function chargeTo(target: object, side: Side, methods: readonly string[]): void {
  const t = target as Record<string, unknown>;
  for (const m of methods) {
    const original = t[m];
    if (typeof original !== 'function') continue;
    t[m] = (...args: unknown[]) => {
      const outer = running;
      running = side;
      try {
        return (original as (...a: unknown[]) => unknown).apply(target, args);
      } finally {
        running = outer;
      }
    };
  }
}

export async function countCalls(connections: number): Promise<Counts> {
  const calls: Record<Side, Map<string, number>> = { client: new Map(), server: new Map() };
  const restore = instrument((name) => calls[running].set(name, (calls[running].get(name) ?? 0) + 1));
  // Imported only now: src/ must bind the wrapped node:crypto functions.
  const { BackToBack } = await import('./zero-rtt.js');
  const out = {} as Counts;
  for (const kind of KINDS) {
    const wantTicket = kind !== 'full';
    const pair = new BackToBack(1);
    const sent: Record<Side, number> = { client: 0, server: 0 };
    const methods = ['connect', 'receive', 'handleTimeout', 'nextTimeout', 'pollEvent', 'markActive'];
    chargeTo(pair.client, 'client', methods);
    chargeTo(pair.server, 'server', methods);
    for (const [side, ep] of [
      ['client', pair.client],
      ['server', pair.server],
    ] as const) {
      const transmit = ep.transmit.bind(ep);
      ep.transmit = (now) => {
        const outer = running;
        running = side;
        try {
          const d = transmit(now);
          if (d) sent[side]++;
          return d;
        } finally {
          running = outer;
        }
      };
    }
    // The server's application (the responder) runs between the endpoints' calls: charge it there.
    chargeTo(pair.responder, 'server', ['add', 'pump']);
    let session = wantTicket ? pair.connection('full', undefined, true) : undefined;
    for (let i = 0; i < 5; i++) session = pair.connection(kind, session, wantTicket);
    for (const side of SIDES) calls[side].clear();
    sent.client = 0;
    sent.server = 0;
    for (let i = 0; i < connections; i++) session = pair.connection(kind, session, wantTicket);
    const per = {} as Record<Side, SideCounts>;
    for (const side of SIDES) {
      const c = { datagramsSent: sent[side] / connections } as SideCounts;
      for (const name of COUNTED) c[name] = (calls[side].get(name) ?? 0) / connections;
      per[side] = c;
    }
    out[kind] = per;
  }
  restore();
  return out;
}

/** CPU microseconds per call of each counted node:crypto function, made as tsquic makes it. */
export async function measureCosts(durationMs: number, datagrams: number): Promise<CallCosts> {
  const { simPki } = await import('../test/sim/quic-harness.js');
  const pki = simPki();
  const signKey = crypto.createPrivateKey(pki.leaf.keyPem);
  const verifyKey = crypto.createPublicKey(pki.leaf.certPem);
  const hash = signKey.asymmetricKeyType === 'ec' ? 'sha256' : null;
  const content = crypto.randomBytes(130); // RFC 8446 §4.4.3: 64 spaces, context string, 0, hash
  const signature = crypto.sign(hash, content, { key: signKey, dsaEncoding: 'der' });
  const key = crypto.randomBytes(16);
  const nonce = crypto.randomBytes(12);
  const small = crypto.randomBytes(64);
  const aad = small.subarray(0, 11);
  const body = small.subarray(11, 48);
  const sealed = (() => {
    const c = crypto.createCipheriv('aes-128-gcm', key, nonce, { authTagLength: 16 });
    c.setAAD(aad);
    const ct = Buffer.concat([c.update(body), c.final()]);
    return { ct, tag: c.getAuthTag() };
  })();
  const x25519 = (d: Buffer) =>
    crypto.createPrivateKey({
      key: {
        kty: 'OKP',
        crv: 'X25519',
        d: d.toString('base64url'),
        x: Buffer.alloc(32).toString('base64url'),
      },
      format: 'jwk',
    });
  const priv = x25519(crypto.randomBytes(32));
  const peerX = priv.export({ format: 'jwk' }).x as string;
  const peer = crypto.createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: peerX }, format: 'jwk' });
  const a32 = crypto.randomBytes(32);
  const b32 = Buffer.from(a32);
  const seal64 = cpuPerCall(durationMs, () => {
    const c = crypto.createCipheriv('aes-128-gcm', key, nonce, { authTagLength: 16 });
    c.setAAD(aad);
    c.update(body);
    c.final();
    c.getAuthTag();
  });
  const ecbKey = cpuPerCall(durationMs, () => {
    crypto.createCipheriv('aes-128-ecb', key, null).setAutoPadding(false);
  });
  const costs = {
    createCipheriv: Math.min(seal64, ecbKey),
    createDecipheriv: cpuPerCall(durationMs, () => {
      const d = crypto.createDecipheriv('aes-128-gcm', key, nonce, { authTagLength: 16 });
      d.setAuthTag(sealed.tag);
      d.setAAD(aad);
      d.update(sealed.ct);
      d.final();
    }),
    // An X25519 share: the private key from 32 random bytes, its public key exported (key-exchange.ts).
    createPrivateKey: cpuPerCall(durationMs, (i) => {
      a32[0] = i & 0xff;
      x25519(a32).export({ format: 'jwk' });
    }),
    createPublicKey: cpuPerCall(durationMs, () => {
      crypto.createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: peerX }, format: 'jwk' });
    }),
    diffieHellman: cpuPerCall(durationMs, () => {
      crypto.diffieHellman({ privateKey: priv, publicKey: peer });
    }),
    sign: cpuPerCall(durationMs, () => {
      crypto.sign(hash, content, { key: signKey, dsaEncoding: 'der' });
    }),
    verify: cpuPerCall(durationMs, () => {
      crypto.verify(hash, content, { key: verifyKey, dsaEncoding: 'der' }, signature);
    }),
    createHash: cpuPerCall(durationMs, () => {
      crypto.createHash('sha256').update(small).digest();
    }),
    createHmac: cpuPerCall(durationMs, () => {
      crypto.createHmac('sha256', a32).update(small).digest();
    }),
    timingSafeEqual: cpuPerCall(durationMs, () => {
      crypto.timingSafeEqual(a32, b32);
    }),
  } as Record<string, number>;
  const udp = await udpStep(ACK_DATAGRAM, datagrams);
  return { ...costs, send: udp.send, recv: udp.recv } as CallCosts;
}

/** tsquic's and quic-go's CPU per connection from a compare JSON (rows cpu-hs-<kind>-<side>). */
function compareFigures(file: string): Map<string, { tsquic?: number; quicGo?: number }> {
  const json = JSON.parse(readFileSync(file, 'utf8')) as {
    rows: Array<{ key: string; cells: Record<string, { median?: number } | undefined> }>;
  };
  const out = new Map<string, { tsquic?: number; quicGo?: number }>();
  for (const r of json.rows) {
    if (!r.key.startsWith('cpu-hs-')) continue;
    const figures: { tsquic?: number; quicGo?: number } = {};
    const ts = r.cells.tsquic?.median;
    const go = r.cells['quic-go']?.median;
    if (ts !== undefined) figures.tsquic = ts;
    if (go !== undefined) figures.quicGo = go;
    out.set(r.key.slice('cpu-hs-'.length), figures);
  }
  return out;
}

export function floorRows(counts: Counts, costs: CallCosts): HandshakeFloorRow[] {
  const rows: HandshakeFloorRow[] = [];
  for (const kind of KINDS) {
    for (const side of SIDES) {
      const own = counts[kind][side];
      const other = counts[kind][side === 'client' ? 'server' : 'client'];
      let cryptoUs = 0;
      for (const name of COUNTED) cryptoUs += (own[name] ?? 0) * (costs[name] ?? 0);
      // A side sends its datagrams and receives the other side's.
      const socketUs = own.datagramsSent * costs.send + other.datagramsSent * costs.recv;
      rows.push({
        kind,
        side,
        cryptoMs: cryptoUs / 1000,
        socketMs: socketUs / 1000,
        floorMs: (cryptoUs + socketUs) / 1000,
      });
    }
  }
  return rows;
}

export async function run(
  opts: { durationMs?: number; connections?: number; compareJson?: string; datagrams?: number } = {},
): Promise<HandshakeFloorResult> {
  const load0 = loadavg()[0]!;
  const counts = await countCalls(opts.connections ?? 50);
  const costs = await measureCosts(opts.durationMs ?? 300, opts.datagrams ?? 50_000);
  const rows = floorRows(counts, costs);
  const file = opts.compareJson ?? join(REPO_ROOT, 'bench', 'results', 'compare.json');
  const result: HandshakeFloorResult = { counts, costs, rows, load: [load0, loadavg()[0]!] };
  if (existsSync(file)) {
    const figures = compareFigures(file);
    for (const r of rows) {
      const f = figures.get(`${r.kind}-${r.side}`);
      if (f?.tsquic !== undefined) r.tsquicMs = f.tsquic;
      if (f?.quicGo !== undefined) r.quicGoMs = f.quicGo;
    }
    result.compareSource = file;
  }
  return result;
}

export function formatHandshakeFloor(r: HandshakeFloorResult): string {
  const names = COUNTED.filter((n) => KINDS.some((k) => SIDES.some((s) => (r.counts[k][s][n] ?? 0) > 0)));
  const lines = [
    'handshake-floor: node:crypto and node:dgram calls per connection, each side, and what they cost here',
    `  load average ${r.load[0].toFixed(2)} at the start, ${r.load[1].toFixed(2)} at the end`,
    `  ${'call (us each)'.padEnd(24)}${'us'.padStart(8)}${KINDS.flatMap((k) => SIDES.map((s) => `${k} ${s[0]}`.padStart(11))).join('')}`,
  ];
  for (const n of [...names, 'datagramsSent']) {
    const cost =
      n === 'datagramsSent'
        ? `${r.costs.send.toFixed(1)}+${r.costs.recv.toFixed(1)}`
        : r.costs[n]!.toFixed(1);
    const cells = KINDS.flatMap((k) => SIDES.map((s) => (r.counts[k][s][n] ?? 0).toFixed(1).padStart(11)));
    lines.push(`  ${n.padEnd(24)}${cost.padStart(8)}${cells.join('')}`);
  }
  lines.push(
    "  (datagramsSent: us to send + us to receive one; a side pays send for its own, receive for the other side's)",
  );
  lines.push(
    `  ${'CPU per connection, ms'.padEnd(24)}${'crypto'.padStart(8)}${'sockets'.padStart(9)}${'floor'.padStart(8)}${'tsquic'.padStart(8)}${'quic-go'.padStart(9)}${'floor/quic-go'.padStart(15)}`,
  );
  for (const row of r.rows) {
    const fmt = (v: number | undefined, w: number) => (v === undefined ? '-' : v.toFixed(2)).padStart(w);
    const ratio = row.quicGoMs === undefined ? '-' : (row.floorMs / row.quicGoMs).toFixed(2);
    lines.push(
      `  ${`${row.kind}, ${row.side}`.padEnd(24)}${fmt(row.cryptoMs, 8)}${fmt(row.socketMs, 9)}${fmt(row.floorMs, 8)}${fmt(row.tsquicMs, 8)}${fmt(row.quicGoMs, 9)}${ratio.padStart(15)}`,
    );
  }
  if (r.compareSource)
    lines.push(`  tsquic and quic-go columns: warm sequential CPU per connection from ${r.compareSource}`);
  lines.push(
    '  floor: a lower bound (cheapest form of each call; GC, timers, event-loop turns, TLS and QUIC logic not in it)',
  );
  return lines.join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  const i = argv.indexOf('--compare-json');
  console.log(formatMachine());
  const r = await run({
    durationMs: numberFlag(argv, '--duration') ?? 300,
    connections: numberFlag(argv, '--connections') ?? 50,
    ...(i >= 0 && argv[i + 1] ? { compareJson: argv[i + 1]! } : {}),
  });
  console.log(formatHandshakeFloor(r));
}
