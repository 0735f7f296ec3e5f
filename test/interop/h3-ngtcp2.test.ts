/**
 * HTTP/3 interop with ngtcp2 0.12 over nghttp3 (Debian ngtcp2-server / ngtcp2-client: gtlsserver,
 * gtlsclient), both directions: files byte-exact, and 0-RTT both ways (gtlsclient with
 * --session-file/--tp-file), including a tsquic server that rejects 0-RTT.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { Client, createServer } from '../../src/http3/index.js';
import { SessionCache } from '../../src/node/session-cache.js';
import { makeTempDir, removeDir, sha256Hex, writeTestFile, writeTestPki } from './go-peers.js';
import { freeUdpPort, ngtcp2Bin, startPeer, waitUdpBound } from './h3-peers.js';

function fixture(t: TestContext) {
  const dir = makeTempDir('tsquic-h3-ngtcp2-');
  t.after(() => removeDir(dir));
  const pki = writeTestPki(dir);
  const root = join(dir, 'root');
  mkdirSync(root);
  return { dir, pki, root };
}

test('tsquic Client -> ngtcp2 gtlsserver: files byte-exact; 0-RTT accepted on the next connection', async (t) => {
  const { pki, root } = fixture(t);
  const big = await writeTestFile(root, 'big.bin', 4 * 1024 * 1024, 11);
  const small = await writeTestFile(root, 'small.txt', 1234, 12);
  const port = await freeUdpPort();
  const server = startPeer(t, ngtcp2Bin('gtlsserver'), [
    '-q',
    '-d',
    root,
    '127.0.0.1',
    String(port),
    pki.keyFile,
    pki.certFile,
  ]);
  await server.waitLine(/Using document root/);
  await waitUdpBound(port);
  const base = `https://localhost:${port}`;
  const cache = new SessionCache();
  const c1 = new Client({ ca: pki.caPem, sessionCache: cache });
  const [b, s] = await Promise.all([c1.fetch(`${base}/big.bin`), c1.fetch(`${base}/small.txt`)]);
  assert.equal(b.status, 200);
  assert.equal(b.headers.get('server'), 'nghttp3/ngtcp2 server');
  assert.equal(sha256Hex(Buffer.from(await b.arrayBuffer())), big);
  assert.equal(sha256Hex(Buffer.from(await s.arrayBuffer())), small);
  const missing = await c1.fetch(`${base}/nope`);
  assert.equal(missing.status, 404);
  await missing.arrayBuffer();
  for (let i = 0; i < 200 && !cache.hasSession('localhost', Date.now()); i++)
    await new Promise((r) => setTimeout(r, 10));
  await c1.close();
  const c2 = new Client({ ca: pki.caPem, sessionCache: cache });
  const early = await c2.fetch(`${base}/small.txt`);
  assert.equal(sha256Hex(Buffer.from(await early.arrayBuffer())), small);
  assert.equal(early.zeroRTT, 'accepted');
  await c2.close();
});

async function tsquicServer(
  t: TestContext,
  pki: { certPem: string; keyPem: string },
  root: string,
  allow: () => boolean,
) {
  const seen: Array<{ url: string; early: boolean }> = [];
  const server = createServer({ cert: pki.certPem, key: pki.keyPem, allow0RTT: allow }, (req, res) => {
    seen.push({ url: req.url, early: req.early });
    let data: Buffer;
    try {
      data = readFileSync(join(root, req.url.slice(1)));
    } catch {
      res.writeHead(404, { 'content-length': '0' });
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': data.length });
    res.end(data);
  });
  await server.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => server.close());
  return { seen, port: server.address().port };
}

/** gtlsclient fetching `paths` into `out`, resuming (and sending 0-RTT) with the session and TP files. */
async function gtlsclient(t: TestContext, port: number, paths: string[], out: string, state: string) {
  mkdirSync(out, { recursive: true });
  const urls = paths.map((p) => `https://localhost:${port}/${p}`);
  const client = startPeer(t, ngtcp2Bin('gtlsclient'), [
    '-q',
    '--exit-on-all-streams-close',
    '--download',
    out,
    '--session-file',
    join(state, 'session.pem'),
    '--tp-file',
    join(state, 'tp.txt'),
    '127.0.0.1',
    String(port),
    ...urls,
  ]);
  const code = await client.exited(60_000);
  return { code, stderr: client.stderr() };
}

test('ngtcp2 gtlsclient -> tsquic server: files byte-exact; 0-RTT on the second run; a rejecting server still serves', async (t) => {
  const { dir, pki, root } = fixture(t);
  const big = await writeTestFile(root, 'big.bin', 3 * 1024 * 1024, 21);
  const small = await writeTestFile(root, 'small.txt', 777, 22);
  let allow = true;
  const { seen, port } = await tsquicServer(t, pki, root, () => allow);
  const state = join(dir, 'state');
  mkdirSync(state);
  const run1 = await gtlsclient(t, port, ['big.bin', 'small.txt'], join(dir, 'out1'), state);
  assert.equal(run1.code, 0, run1.stderr);
  assert.equal(sha256Hex(readFileSync(join(dir, 'out1', 'big.bin'))), big);
  assert.equal(sha256Hex(readFileSync(join(dir, 'out1', 'small.txt'))), small);
  assert.ok(seen.every((s) => !s.early));
  // Second run: the session and transport parameters saved by the first: the request goes in 0-RTT.
  seen.length = 0;
  const run2 = await gtlsclient(t, port, ['small.txt'], join(dir, 'out2'), state);
  assert.equal(run2.code, 0, run2.stderr);
  assert.equal(sha256Hex(readFileSync(join(dir, 'out2', 'small.txt'))), small);
  assert.deepEqual(seen, [{ url: '/small.txt', early: true }]);
  // Third run: the server now rejects 0-RTT; ngtcp2 sends the request again after the handshake.
  allow = false;
  seen.length = 0;
  const run3 = await gtlsclient(t, port, ['small.txt'], join(dir, 'out3'), state);
  assert.equal(run3.code, 0, run3.stderr);
  assert.equal(sha256Hex(readFileSync(join(dir, 'out3', 'small.txt'))), small);
  assert.deepEqual(seen, [{ url: '/small.txt', early: false }]);
});
