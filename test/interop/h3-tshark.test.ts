/**
 * tshark decrypts a capture of every HTTP/3 pairing (tsquic with quic-go and ngtcp2, both directions,
 * and tsquic with itself) with tsquic's key log alone, and finds no malformed packet and no expert
 * warning; the HTTP/3 frames (SETTINGS, HEADERS, DATA) are dissected. The Chromium pairing is
 * checked in chromium.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { Client, createServer } from '../../src/http3/index.js';
import {
  makeTempDir,
  removeDir,
  sha256Hex,
  type TestPkiFiles,
  writeTestFile,
  writeTestPki,
} from './go-peers.js';
import { ensureH3GoPeers, freeUdpPort, ngtcp2Bin, startPeer, waitUdpBound } from './h3-peers.js';
import { assertCleanHttp3, Capture } from './tshark-capture.js';

interface Fx {
  dir: string;
  pki: TestPkiFiles;
  root: string;
  keylog: string;
  pcap: string;
  hash: string;
}

async function fixture(t: TestContext): Promise<Fx> {
  const dir = makeTempDir('tsquic-h3-tshark-');
  t.after(() => removeDir(dir));
  const root = join(dir, 'root');
  mkdirSync(root);
  return {
    dir,
    pki: writeTestPki(dir),
    root,
    keylog: join(dir, 'keys.log'),
    pcap: join(dir, 'cap.pcapng'),
    hash: await writeTestFile(root, 'f.bin', 200_000, 3),
  };
}

/** HEADERS (1) and SETTINGS (4) seen in the dissection (tshark 4.0 does not show DATA spanning packets). */
function assertH3Frames(types: Set<number>): void {
  for (const t of [1, 4]) assert.ok(types.has(t), `HTTP/3 frame type ${t} dissected: ${[...types]}`);
}

async function tsquicServer(t: TestContext, fx: Fx, port: number) {
  const server = createServer({ cert: fx.pki.certPem, key: fx.pki.keyPem, keylog: fx.keylog }, (req, res) => {
    const data = readFileSync(join(fx.root, req.url.slice(1)));
    res.writeHead(200, { 'content-length': data.length });
    res.end(data);
  });
  await server.listen({ host: '127.0.0.1', port });
  t.after(() => server.close());
  return server;
}

async function tsquicFetch(fx: Fx, port: number): Promise<void> {
  const c = new Client({ ca: fx.pki.caPem, keylog: fx.keylog });
  const r = await c.fetch(`https://localhost:${port}/f.bin`);
  assert.equal(sha256Hex(Buffer.from(await r.arrayBuffer())), fx.hash);
  await c.close();
}

test('tsquic <-> tsquic', async (t) => {
  const fx = await fixture(t);
  const port = await freeUdpPort();
  const capture = await Capture.start(t, [port], fx.pcap);
  await tsquicServer(t, fx, port);
  await tsquicFetch(fx, port);
  await capture.stop();
  assertH3Frames(await assertCleanHttp3(fx.pcap, fx.keylog, port));
});

test('tsquic Client -> quic-go http3.Server', async (t) => {
  const { server: bin } = await ensureH3GoPeers();
  const fx = await fixture(t);
  const port = await freeUdpPort();
  const capture = await Capture.start(t, [port], fx.pcap);
  const go = startPeer(t, bin, [
    '-listen',
    `127.0.0.1:${port}`,
    '-cert',
    fx.pki.certFile,
    '-key',
    fx.pki.keyFile,
    '-root',
    fx.root,
  ]);
  await go.waitLine(/^LISTENING /);
  await tsquicFetch(fx, port);
  await capture.stop();
  assertH3Frames(await assertCleanHttp3(fx.pcap, fx.keylog, port));
});

test('quic-go RoundTripper -> tsquic server', async (t) => {
  const { client: bin } = await ensureH3GoPeers();
  const fx = await fixture(t);
  const port = await freeUdpPort();
  const capture = await Capture.start(t, [port], fx.pcap);
  await tsquicServer(t, fx, port);
  const go = startPeer(t, bin, ['-ca', fx.pki.caFile, `https://localhost:${port}/f.bin`]);
  assert.equal(await go.exited(), 0, go.stderr());
  await capture.stop();
  assertH3Frames(await assertCleanHttp3(fx.pcap, fx.keylog, port));
});

test('tsquic Client -> ngtcp2 gtlsserver', async (t) => {
  const fx = await fixture(t);
  const port = await freeUdpPort();
  const capture = await Capture.start(t, [port], fx.pcap);
  // No GSO: on loopback a GSO send is captured as one oversized datagram tshark cannot split.
  const server = startPeer(t, ngtcp2Bin('gtlsserver'), [
    '-q',
    '--max-gso-dgrams=1',
    '-d',
    fx.root,
    '127.0.0.1',
    String(port),
    fx.pki.keyFile,
    fx.pki.certFile,
  ]);
  await server.waitLine(/Using document root/);
  await waitUdpBound(port);
  await tsquicFetch(fx, port);
  await capture.stop();
  assertH3Frames(await assertCleanHttp3(fx.pcap, fx.keylog, port));
});

test('ngtcp2 gtlsclient -> tsquic server', async (t) => {
  const fx = await fixture(t);
  const port = await freeUdpPort();
  const capture = await Capture.start(t, [port], fx.pcap);
  await tsquicServer(t, fx, port);
  const out = join(fx.dir, 'out');
  mkdirSync(out);
  const client = startPeer(t, ngtcp2Bin('gtlsclient'), [
    '-q',
    '--exit-on-all-streams-close',
    '--download',
    out,
    '127.0.0.1',
    String(port),
    `https://localhost:${port}/f.bin`,
  ]);
  assert.equal(await client.exited(), 0, client.stderr());
  assert.equal(sha256Hex(readFileSync(join(out, 'f.bin'))), fx.hash);
  await capture.stop();
  assertH3Frames(await assertCleanHttp3(fx.pcap, fx.keylog, port));
});
