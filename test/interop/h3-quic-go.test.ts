/**
 * HTTP/3 interop with quic-go 0.29's http3 package, both directions: tsquic's Client against its
 * http3.Server (ServeListener on an early listener), and its RoundTripper against tsquic's server,
 * with 0-RTT both ways (GET_0RTT), and a tsquic server that rejects 0-RTT (quic-go 0.29's
 * RoundTripper does not move to the next connection by itself: the peer retries on a fresh one).
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Client, createServer } from '../../src/http3/index.js';
import { SessionCache } from '../../src/node/session-cache.js';
import { makeTempDir, removeDir, sha256Hex, writeTestFile, writeTestPki } from './go-peers.js';
import { ensureH3GoPeers, jsonEvents, startPeer, waitForEvents } from './h3-peers.js';

function fixture(t: import('node:test').TestContext) {
  const dir = makeTempDir('tsquic-h3-go-');
  t.after(() => removeDir(dir));
  const pki = writeTestPki(dir);
  const root = join(dir, 'root');
  mkdirSync(root);
  return { dir, pki, root };
}

test('tsquic Client -> quic-go http3.Server: files byte-exact, POST echo, 0-RTT accepted', async (t) => {
  const { server: bin } = await ensureH3GoPeers();
  const { pki, root } = fixture(t);
  const big = await writeTestFile(root, 'big.bin', 5 * 1024 * 1024, 7);
  const small = await writeTestFile(root, 'small.txt', 1000, 8);
  const go = startPeer(t, bin, ['-cert', pki.certFile, '-key', pki.keyFile, '-root', root, '-0rtt']);
  const port = Number((await go.waitLine(/^LISTENING /)).split(':').pop());
  const base = `https://localhost:${port}`;
  const cache = new SessionCache();
  const c1 = new Client({ ca: pki.caPem, sessionCache: cache });
  const [b, s] = await Promise.all([c1.fetch(`${base}/big.bin`), c1.fetch(`${base}/small.txt`)]);
  assert.equal(b.status, 200);
  assert.equal(sha256Hex(Buffer.from(await b.arrayBuffer())), big);
  assert.equal(sha256Hex(Buffer.from(await s.arrayBuffer())), small);
  const payload = Buffer.alloc(300_000, 0x5a);
  const echo = await c1.fetch(`${base}/echo`, { method: 'POST', body: payload });
  assert.ok(Buffer.from(await echo.arrayBuffer()).equals(payload));
  const missing = await c1.fetch(`${base}/missing`);
  assert.equal(missing.status, 404);
  await missing.text();
  for (let i = 0; i < 200 && !cache.hasSession('localhost', Date.now()); i++)
    await new Promise((r) => setTimeout(r, 10));
  await c1.close();
  // A new connection with the ticket: the GET goes in 0-RTT and quic-go serves it early.
  const c2 = new Client({ ca: pki.caPem, sessionCache: cache });
  const early = await c2.fetch(`${base}/small.txt`);
  assert.equal(sha256Hex(Buffer.from(await early.arrayBuffer())), small);
  assert.equal(early.zeroRTT, 'accepted');
  await c2.close();
  // Five requests: the four of the first connection and the early GET (whose log line may come last).
  const requests = await waitForEvents(go, (e) => e.event === 'request', 5);
  assert.ok(requests.every((r) => r.proto === 'HTTP/3.0'));
  // quic-go accepted 0-RTT on the connection of the early GET (its own TLS state). Whether the
  // handler also ran before the handshake completed depends on scheduling (`early`, logged only: it
  // read false once under a full test run, s33 and s42).
  const second = requests.filter((r) => r.path === '/small.txt' && r.used0RTT === true);
  assert.equal(second.length, 1, JSON.stringify(requests));
  assert.ok(
    requests.filter((r) => r.used0RTT === true).length === 1,
    `only the second connection used 0-RTT: ${JSON.stringify(requests)}`,
  );
  console.log(`# the early GET ran before quic-go's handshake completed: ${second[0]!.early}`);
});

async function tsquicServer(
  t: import('node:test').TestContext,
  pki: { certPem: string; keyPem: string },
  root: string,
  allow: () => boolean,
) {
  const seen: Array<{ url: string; early: boolean }> = [];
  const server = createServer({ cert: pki.certPem, key: pki.keyPem, allow0RTT: allow }, (req, res) => {
    seen.push({ url: req.url, early: req.early });
    const data = readFileSync(join(root, req.url.slice(1)));
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': data.length });
    res.end(data);
  });
  await server.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => server.close());
  return { server, seen, port: server.address().port };
}

test('quic-go RoundTripper -> tsquic server: files byte-exact; GET_0RTT served early', async (t) => {
  const { client: bin } = await ensureH3GoPeers();
  const { pki, root } = fixture(t);
  const big = await writeTestFile(root, 'big.bin', 3 * 1024 * 1024, 3);
  const { seen, port } = await tsquicServer(t, pki, root, () => true);
  const url = `https://localhost:${port}/big.bin`;
  const go = startPeer(t, bin, ['-ca', pki.caFile, '-runs', '2', '-0rtt', url]);
  const code = await go.exited();
  assert.equal(code, 0, go.stderr() + go.lines.join('\n'));
  const responses = jsonEvents(go).filter((e) => e.event === 'response');
  assert.equal(responses.length, 2);
  for (const r of responses) {
    assert.equal(r.status, 200);
    assert.equal(r.sha256, big);
    assert.equal(r.proto, 'HTTP/3.0');
  }
  assert.deepEqual(seen, [
    { url: '/big.bin', early: false },
    { url: '/big.bin', early: true },
  ]);
});

test('quic-go RoundTripper -> tsquic server that rejects 0-RTT: the peer retries on a fresh connection', async (t) => {
  const { client: bin } = await ensureH3GoPeers();
  const { pki, root } = fixture(t);
  const file = await writeTestFile(root, 'f.bin', 100_000, 5);
  let runs = 0;
  const { seen, port } = await tsquicServer(t, pki, root, () => {
    runs++;
    return false;
  });
  const go = startPeer(t, bin, ['-ca', pki.caFile, '-runs', '2', '-0rtt', `https://localhost:${port}/f.bin`]);
  const code = await go.exited();
  assert.equal(code, 0, go.stderr() + go.lines.join('\n'));
  const events = jsonEvents(go);
  assert.ok(
    events.some((e) => e.event === 'retry'),
    'the early request failed and was retried',
  );
  const failure = events.find((e) => e.event === 'error');
  assert.match(String(failure?.error), /0-RTT rejected/i, JSON.stringify(failure));
  const responses = events.filter((e) => e.event === 'response');
  assert.equal(responses.length, 2);
  assert.ok(responses.every((r) => r.sha256 === file));
  assert.ok(runs >= 1, 'the server was asked about 0-RTT and said no');
  assert.ok(
    seen.every((s) => !s.early),
    'nothing was served from rejected early data',
  );
});
