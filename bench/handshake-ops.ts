/**
 * node:crypto calls per connection, by handshake kind: the client and server cores back to back
 * (bench/zero-rtt.ts BackToBack), each connection carrying one small request, counted over many
 * connections after a few unmeasured ones. Unlike CPU time these counts do not depend on the load of
 * the machine, so they show whether a change removed work from a handshake even on a busy machine
 * (issue 13). Each call has a fixed cost in Node 20 (an HMAC object about 3 us, a cipher object
 * about 2 us), whatever it computes.
 *
 *   npx tsx bench/handshake-ops.ts [--connections N (default 50)]
 *
 * Counts are printed, never asserted. See bench/README.md.
 */
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { pathToFileURL } from 'node:url';
import { numberFlag } from './core.js';

/** The node:crypto functions counted: every per-handshake primitive tsquic uses. */
export const COUNTED = [
  'createHmac',
  'createHash',
  'createCipheriv',
  'createDecipheriv',
  'createPrivateKey',
  'createPublicKey',
  'diffieHellman',
  'sign',
  'verify',
  'timingSafeEqual',
] as const;

export type HandshakeKind = 'full' | 'resumed' | '0rtt';
const KINDS: readonly HandshakeKind[] = ['full', 'resumed', '0rtt'];

/** Calls per connection (client and server together), by function name. */
export type OpCounts = Record<string, number>;

/**
 * Wraps the counted functions of node:crypto (the ES module bindings follow through
 * syncBuiltinESMExports), so it must run before the code under test is imported. `onCall` hears
 * every counted call by name (bench/handshake-floor.ts counts them per side). Returns the undo.
 */
export function instrument(onCall: (name: string) => void): () => void {
  const target = crypto as unknown as Record<string, (...args: unknown[]) => unknown>;
  const originals = new Map<string, (...args: unknown[]) => unknown>();
  for (const name of COUNTED) {
    const original = target[name];
    if (typeof original !== 'function') continue;
    originals.set(name, original);
    target[name] = function counted(this: unknown, ...args: unknown[]) {
      onCall(name);
      return original.apply(this, args);
    };
  }
  syncBuiltinESMExports();
  return () => {
    for (const [name, original] of originals) target[name] = original;
    syncBuiltinESMExports();
  };
}

/**
 * Methods counted on their prototypes (per connection too): node:crypto Hash copies and digests
 * (the transcript hash), and tsquic's own per-handshake steps whose count shows work skipped (an
 * AEAD open or seal per packet, a stateless reset token per connection ID, the resumption master
 * secret).
 */
const METHODS = [
  'Hash#copy',
  'Hash#digest',
  'Aead#open',
  'Aead#seal',
  'StatelessResetTokens#tokenFor',
  'KeySchedule#resumptionMasterSecret',
] as const;

async function instrumentMethods(counts: Map<string, number>): Promise<void> {
  const [{ Aead }, { StatelessResetTokens }, { KeySchedule }] = await Promise.all([
    import('../src/crypto/aead.js'),
    import('../src/crypto/stateless-reset.js'),
    import('../src/tls/key-schedule.js'),
  ]);
  const protos: Record<string, object> = {
    Hash: Object.getPrototypeOf(crypto.createHash('sha256')) as object,
    Aead: Aead.prototype,
    StatelessResetTokens: StatelessResetTokens.prototype,
    KeySchedule: KeySchedule.prototype,
  };
  for (const name of METHODS) {
    const [cls, method] = name.split('#') as [string, string];
    const proto = protos[cls] as Record<string, (...args: unknown[]) => unknown>;
    const original = proto[method]!;
    proto[method] = function counted(this: unknown, ...args: unknown[]) {
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return original.apply(this, args);
    };
  }
}

export async function run(connections = 50): Promise<Record<HandshakeKind, OpCounts>> {
  const counts = new Map<string, number>();
  instrument((name) => counts.set(name, (counts.get(name) ?? 0) + 1));
  // Imported only now: src/ must bind the wrapped functions.
  const { BackToBack } = await import('./zero-rtt.js');
  await instrumentMethods(counts);
  const out = {} as Record<HandshakeKind, OpCounts>;
  for (const kind of KINDS) {
    const wantTicket = kind !== 'full';
    const pair = new BackToBack(1);
    let session = wantTicket ? pair.connection('full', undefined, true) : undefined;
    for (let i = 0; i < 5; i++) session = pair.connection(kind, session, wantTicket);
    counts.clear();
    for (let i = 0; i < connections; i++) session = pair.connection(kind, session, wantTicket);
    const perConnection: OpCounts = {};
    for (const name of [...COUNTED, ...METHODS]) perConnection[name] = (counts.get(name) ?? 0) / connections;
    out[kind] = perConnection;
  }
  return out;
}

export function format(r: Record<HandshakeKind, OpCounts>): string {
  const names = [...COUNTED, ...METHODS].filter((n) => KINDS.some((k) => (r[k][n] ?? 0) > 0));
  const lines = [
    'handshake-ops: calls per connection, client + server cores back to back, one small request',
    `  ${'call'.padEnd(36)}${KINDS.map((k) => k.padStart(9)).join('')}`,
  ];
  for (const n of names) {
    lines.push(`  ${n.padEnd(36)}${KINDS.map((k) => (r[k][n] ?? 0).toFixed(1).padStart(9)).join('')}`);
  }
  return lines.join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const n = numberFlag(process.argv.slice(2), '--connections') ?? 50;
  console.log(format(await run(n)));
}
