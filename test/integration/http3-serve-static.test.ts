/**
 * node:http middleware runs unmodified on the HTTP/3 server: a directory served by the npm package
 * serve-static, with finalhandler for what it does not serve (404, errors).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import finalhandler from 'finalhandler';
import serveStatic from 'serve-static';
import { Client, createServer, type Http3Server } from '../../src/http3/index.js';
import { testPki } from './helpers.js';

let server: Http3Server;
let base: string;
let dir: string;
let client: Client;
const binary = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 13) & 0xff));

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tsquic-static-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>home</title>');
  writeFileSync(join(dir, 'style.css'), 'body { color: red }');
  writeFileSync(join(dir, 'data.bin'), binary);
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'sub', 'index.html'), 'sub index');
  const serve = serveStatic(dir);
  const pki = testPki();
  server = createServer({ cert: pki.leaf.certPem, key: pki.leaf.keyPem }, (req, res) => {
    const r = req as unknown as IncomingMessage;
    const s = res as unknown as ServerResponse;
    serve(r, s, finalhandler(r, s));
  });
  await server.listen({ host: '127.0.0.1', port: 0 });
  base = `https://localhost:${server.address().port}`;
  client = new Client({ ca: pki.ca.certPem });
});

after(async () => {
  await client.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

test('files with their content type and length; the directory index', async () => {
  const css = await client.fetch(`${base}/style.css`);
  assert.equal(css.status, 200);
  assert.match(css.headers.get('content-type') ?? '', /^text\/css/);
  assert.equal(css.headers.get('content-length'), '19');
  assert.equal(await css.text(), 'body { color: red }');
  const home = await client.fetch(`${base}/`);
  assert.equal(home.status, 200);
  assert.match(home.headers.get('content-type') ?? '', /^text\/html/);
  assert.equal(await home.text(), '<!doctype html><title>home</title>');
  const bin = await client.fetch(`${base}/data.bin`);
  assert.ok(Buffer.from(await bin.arrayBuffer()).equals(binary));
});

test('redirect to the directory, 404 from finalhandler, HEAD, Range, conditional GET', async () => {
  const redir = await client.fetch(`${base}/sub`);
  assert.equal(redir.status, 301);
  assert.equal(redir.headers.get('location'), '/sub/');
  await redir.body?.cancel();
  const followed = await client.fetch(`${base}/sub`, { redirect: 'follow' });
  assert.equal(await followed.text(), 'sub index');
  assert.equal(followed.redirected, true);
  const missing = await client.fetch(`${base}/missing.txt`);
  assert.equal(missing.status, 404);
  assert.match(await missing.text(), /Cannot GET \/missing.txt/);
  const head = await client.fetch(`${base}/data.bin`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), String(binary.length));
  assert.equal((await head.arrayBuffer()).byteLength, 0);
  const range = await client.fetch(`${base}/data.bin`, { headers: { range: 'bytes=100-199' } });
  assert.equal(range.status, 206);
  assert.ok(Buffer.from(await range.arrayBuffer()).equals(binary.subarray(100, 200)));
  const etag = (await client.fetch(`${base}/style.css`, { method: 'HEAD' })).headers.get('etag');
  assert.ok(etag);
  const cached = await client.fetch(`${base}/style.css`, { headers: { 'if-none-match': etag } });
  assert.equal(cached.status, 304);
  const post = await client.fetch(`${base}/style.css`, { method: 'POST', body: 'x' });
  assert.equal(post.status, 404, 'serve-static passes other methods on to finalhandler');
  await post.body?.cancel();
});
