/**
 * The HTTP/3 Node API over real UDP on loopback: createServer with node:http-shaped req/res, the
 * pooling Client and fetch() returning WHATWG Responses.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { H3ErrorCode } from '../../src/http3/error-codes.js';
import { Client, createServer, type Http3Server } from '../../src/http3/index.js';
import { testPki, within } from './helpers.js';

let server: Http3Server;
let base: string;
const handlerErrors: unknown[] = [];

before(async () => {
  const pki = testPki();
  server = createServer({ cert: pki.leaf.certPem, key: pki.leaf.keyPem }, async (req, res) => {
    const url = new URL(req.url, 'https://x');
    switch (url.pathname) {
      case '/hello':
        res.setHeader('content-type', 'text/plain');
        res.end(`hello ${req.url} ${req.httpVersion} ${req.headers['x-test'] ?? ''}`);
        return;
      case '/echo': {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        const body = Buffer.concat(chunks);
        res.writeHead(200, {
          'x-sha256': createHash('sha256').update(body).digest('hex'),
          'content-length': body.length,
        });
        res.end(body);
        return;
      }
      case '/big': {
        const n = Number(url.searchParams.get('n'));
        res.setHeader('content-length', String(n));
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        let sent = 0;
        const pump = () => {
          while (sent < n) {
            const k = Math.min(chunk.length, n - sent);
            sent += k;
            if (!res.write(chunk.subarray(0, k))) return void res.once('drain', pump);
          }
          res.end();
        };
        pump();
        return;
      }
      case '/trailers':
        res.addTrailers({ 'x-checksum': 'abc' });
        res.write('body');
        res.end();
        return;
      case '/headers':
        res.setHeader('X-A', 'set');
        res.setHeader('set-cookie', ['a=1', 'b=2']);
        res.setHeader('x-b', 2);
        res.writeHead(201, { 'x-a': 'replaced', 'x-c': ['p', 'q'] });
        res.end();
        return;
      case '/throw':
        throw new Error('handler bug');
      case '/info':
        res.socket.remoteAddress; // exists
        res.end(
          JSON.stringify({
            method: req.method,
            authority: req.authority,
            scheme: req.scheme,
            early: req.early,
            remote: req.socket.remoteAddress,
          }),
        );
        return;
      default:
        res.statusCode = 404;
        res.end('not found');
    }
  });
  server.on('handlerError', (err: unknown) => handlerErrors.push(err));
  await server.listen({ host: '127.0.0.1', port: 0 });
  base = `https://localhost:${server.address().port}`;
});

after(async () => {
  await server.close();
});

function client() {
  return new Client({ ca: testPki().ca.certPem });
}

test('GET: a WHATWG Response with status, headers and body', async () => {
  const c = client();
  try {
    const res = await c.fetch(`${base}/hello?x=1`, { headers: { 'X-Test': 'yes' } });
    assert.ok(res instanceof Response);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain');
    assert.equal(await res.text(), 'hello /hello?x=1 3 yes');
    assert.equal(res.zeroRTT, 'not-attempted');
    const nf = await c.fetch(`${base}/nope`);
    assert.equal(nf.status, 404);
    assert.equal(await nf.text(), 'not found');
  } finally {
    await c.close();
  }
});

test('POST bodies of every kind are echoed byte-exact', async () => {
  const c = client();
  try {
    const big = Buffer.alloc(3 * 1024 * 1024 + 7);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    const bodies: Array<[string, unknown, Buffer]> = [
      ['string', 'héllo', Buffer.from('héllo')],
      ['Uint8Array', new Uint8Array([1, 2, 3]), Buffer.from([1, 2, 3])],
      ['Buffer 3 MiB', big, big],
      ['ReadableStream', new Blob([big]).stream(), big],
      [
        'async iterable',
        (async function* () {
          yield 'a';
          yield Buffer.from('b');
        })(),
        Buffer.from('ab'),
      ],
    ];
    for (const [what, body, expected] of bodies) {
      const res = await c.fetch(`${base}/echo`, { method: 'POST', body: body as never });
      const got = Buffer.from(await res.arrayBuffer());
      assert.equal(res.status, 200, what);
      assert.equal(got.length, expected.length, what);
      assert.ok(got.equals(expected), what);
      assert.equal(res.headers.get('x-sha256'), createHash('sha256').update(expected).digest('hex'), what);
    }
  } finally {
    await c.close();
  }
});

test('concurrent requests share one pooled connection', async () => {
  const c = client();
  try {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => c.fetch(`${base}/hello?i=${i}`).then((r) => r.text())),
    );
    for (const [i, t] of results.entries()) assert.equal(t, `hello /hello?i=${i} 3 `);
    assert.equal(server.connectionCount, 1);
  } finally {
    await c.close();
  }
});

test('a 20 MiB response streams through res.body', async () => {
  const c = client();
  try {
    const n = 20 * 1024 * 1024;
    const res = await c.fetch(`${base}/big?n=${n}`);
    let total = 0;
    for await (const chunk of res.body!) {
      total += chunk.length;
      assert.ok(chunk.every((b: number) => b === 0x61));
    }
    assert.equal(total, n);
  } finally {
    await c.close();
  }
});

test('trailers, request info, a throwing handler gets 500 and the connection goes on', async () => {
  const c = client();
  try {
    const t = await c.fetch(`${base}/trailers`);
    assert.equal(await t.text(), 'body');
    assert.equal((await t.trailers).get('x-checksum'), 'abc');
    const info = await (await c.fetch(`${base}/info`)).json();
    assert.deepEqual(info, {
      method: 'GET',
      authority: `localhost:${server.address().port}`,
      scheme: 'https',
      early: false,
      remote: '127.0.0.1',
    });
    const boom = await c.fetch(`${base}/throw`);
    assert.equal(boom.status, 500);
    assert.ok(handlerErrors.some((e) => e instanceof Error && e.message === 'handler bug'));
    assert.equal((await c.fetch(`${base}/hello`)).status, 200);
  } finally {
    await c.close();
  }
});

test('AbortSignal cancels the request with H3_REQUEST_CANCELLED', async () => {
  const c = client();
  try {
    const ac = new AbortController();
    const res = await c.fetch(`${base}/big?n=${50 * 1024 * 1024}`, { signal: ac.signal });
    const reader = res.body!.getReader();
    await reader.read();
    ac.abort();
    await assert.rejects(
      async () => {
        for (;;) {
          const r = await reader.read();
          if (r.done) break;
        }
      },
      (e: unknown) => e instanceof DOMException && e.name === 'AbortError',
    );
    const ac2 = new AbortController();
    ac2.abort();
    await assert.rejects(
      c.fetch(`${base}/hello`, { signal: ac2.signal }),
      (e: unknown) => (e as Error).name === 'AbortError',
    );
    // The connection is still usable.
    assert.equal((await c.fetch(`${base}/hello`)).status, 200);
    assert.equal(H3ErrorCode.H3_REQUEST_CANCELLED, 0x10c);
  } finally {
    await c.close();
  }
});

test('server.close(): GOAWAY, the request in flight finishes, then everything closes', async () => {
  const pki = testPki();
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  let slowArrived!: () => void;
  const arrived = new Promise<void>((r) => {
    slowArrived = r;
  });
  const s = createServer({ cert: pki.leaf.certPem, key: pki.leaf.keyPem }, async (req, res) => {
    if (req.url === '/slow') {
      slowArrived();
      await gate;
    }
    res.end(`done ${req.url}`);
  });
  await s.listen({ host: '127.0.0.1', port: 0 });
  const c = client();
  const url = `https://localhost:${s.address().port}`;
  await (await c.fetch(`${url}/fast`)).text();
  const slow = c.fetch(`${url}/slow`);
  // The server must have the request before it closes (a fixed sleep was too short under load).
  await within(arrived, 10_000, 'the slow request reaches the server');
  const closing = s.close();
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(s.connectionCount, 1, 'the connection stays while its request is in flight');
  release();
  const res = await slow;
  assert.equal(await res.text(), 'done /slow');
  await closing;
  assert.equal(s.connectionCount, 0);
  await c.close();
});

test('response fields: setHeader values (arrays, numbers), writeHead replacing a set field, lowercase names', async () => {
  const client = new Client({ ca: testPki().ca.certPem });
  try {
    const res = await within(client.fetch(`${base}/headers`), 10_000, 'GET /headers');
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('x-a'), 'replaced');
    assert.deepEqual(res.headers.getSetCookie(), ['a=1', 'b=2']);
    assert.equal(res.headers.get('x-b'), '2');
    assert.equal(res.headers.get('x-c'), 'p, q');
    assert.match(res.headers.get('date') ?? '', / GMT$/);
  } finally {
    await client.close();
  }
});
