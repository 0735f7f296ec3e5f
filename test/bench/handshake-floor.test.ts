/**
 * bench/handshake-floor.ts (issue 13): the node:crypto calls it counts are charged to the side that
 * makes them (only the server signs, only the client verifies, on full connections only), the floor
 * is the documented sum of counts times costs, and `npm run bench -- --only handshake-floor` prints
 * the table with the compare JSON's figures. The measured costs are not checked (no timed assertions).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type CallCosts, type Counts, countCalls, floorRows } from '../../bench/handshake-floor.js';
import { runTsx } from '../support/child-process.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dir = mkdtempSync(join(tmpdir(), 'tsquic-hs-floor-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('calls are charged to the side that makes them', async () => {
  const c = await countCalls(4);
  // RFC 8446 §4.4.3: the server signs its CertificateVerify, the client verifies it; a resumed
  // handshake (PSK, §2.2) has neither.
  assert.equal(c.full.server.sign, 1);
  assert.equal(c.full.client.sign, 0);
  assert.equal(c.full.client.verify, 1);
  assert.equal(c.full.server.verify, 0);
  for (const kind of ['resumed', '0rtt'] as const) {
    assert.equal(c[kind].server.sign + c[kind].client.sign + c[kind].client.verify, 0, kind);
  }
  for (const kind of ['full', 'resumed', '0rtt'] as const) {
    for (const side of ['client', 'server'] as const) {
      // One X25519 share and one shared secret each (RFC 8446 §4.2.8).
      assert.equal(c[kind][side].createPrivateKey, 1, `${kind} ${side}`);
      assert.equal(c[kind][side].diffieHellman, 1, `${kind} ${side}`);
      assert.ok(c[kind][side].datagramsSent >= 2, `${kind} ${side}`);
    }
    // No node:crypto cipher on either side: Initial packets (public keys) and the negotiated
    // ChaCha20-Poly1305 run in WebAssembly, and so do the server's session tickets and address
    // tokens (ChaCha20-Poly1305 under its own keys, secret-seal.ts).
    for (const side of ['client', 'server'] as const) {
      assert.equal(c[kind][side].createCipheriv + c[kind][side].createDecipheriv, 0, `${kind} ${side}`);
    }
  }
});

test('the floor is the sum of counts times costs; a side receives what the other sends', () => {
  const side = (n: number) => ({ datagramsSent: n, createCipheriv: 10, sign: n === 3 ? 1 : 0 });
  const counts = {
    full: { client: side(4), server: side(3) },
    resumed: { client: side(4), server: side(3) },
    '0rtt': { client: side(4), server: side(3) },
  } as unknown as Counts;
  const costs = { createCipheriv: 2, sign: 30, send: 5, recv: 7 } as CallCosts;
  const rows = floorRows(counts, costs);
  const server = rows.find((r) => r.kind === 'full' && r.side === 'server')!;
  assert.equal(server.cryptoMs, (10 * 2 + 30) / 1000);
  assert.equal(server.socketMs, (3 * 5 + 4 * 7) / 1000);
  assert.equal(server.floorMs, server.cryptoMs + server.socketMs);
  const client = rows.find((r) => r.kind === 'full' && r.side === 'client')!;
  assert.equal(client.socketMs, (4 * 5 + 3 * 7) / 1000);
});

test('npm run bench -- --only handshake-floor --quick: the table with the compare JSON figures', async () => {
  const json = join(dir, 'compare.json');
  writeFileSync(
    json,
    JSON.stringify({
      rows: [{ key: 'cpu-hs-full-server', cells: { 'quic-go': { median: 1.5 }, tsquic: { median: 2 } } }],
    }),
  );
  const args = ['--only', 'handshake-floor', '--quick', '--duration', '10', '--compare-json', json];
  const r = await runTsx([join(ROOT, 'bench/index.ts'), ...args], { cwd: ROOT, timeoutMs: 240_000 });
  assert.equal(r.code, 0, `bench failed:\n${r.stderr.slice(-2000)}`);
  assert.match(r.stdout, /full, server +[\d.]+ +[\d.]+ +[\d.]+ +2\.00 +1\.50 +[\d.]+/);
  assert.match(r.stdout, /resumed, client +[\d.]+ +[\d.]+ +[\d.]+ +- +- +-/);
  assert.match(r.stdout, /sign +[\d.]+ +0\.0 +1\.0 +0\.0 +0\.0 +0\.0 +0\.0/);
});
