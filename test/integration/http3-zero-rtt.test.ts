/**
 * 0-RTT at the HTTP level through the public API over real UDP: the Client remembers the server's
 * SETTINGS with the ticket, sends safe requests early, reports `res.zeroRTT`; a rejection is
 * recovered transparently on nextConnection() (one response per request, nothing of the dead
 * attempt in the server's qlog); 425 Too Early is retried after the handshake; unsafe methods wait
 * for the handshake unless allowed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Client, createServer, type Http3Server } from '../../src/http3/index.js';
import { SessionCache } from '../../src/node/session-cache.js';
import { testPki } from './helpers.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Seen {
  method: string;
  url: string;
  early: boolean;
  streamId: number;
}

async function server(opts: {
  allow: () => boolean;
  tooEarly?: boolean;
  allowUnsafeEarly?: boolean;
  qlogDir?: string;
}) {
  const pki = testPki();
  const seen: Seen[] = [];
  const s = createServer(
    {
      cert: pki.leaf.certPem,
      key: pki.leaf.keyPem,
      allow0RTT: () => opts.allow(),
      ...(opts.allowUnsafeEarly ? { allowUnsafeEarly: true } : {}),
      ...(opts.qlogDir ? { qlogDir: opts.qlogDir } : {}),
    },
    (req, res) => {
      seen.push({ method: req.method, url: req.url, early: req.early, streamId: req.streamId });
      if (opts.tooEarly && req.early) {
        res.writeHead(425);
        res.end();
        return;
      }
      req.resume();
      res.end(`${req.method} ${req.url}`);
    },
  );
  await s.listen({ host: '127.0.0.1', port: 0 });
  return { s, seen, base: `https://localhost:${s.address().port}` };
}

/** A Client, and a first request that earns a ticket (with the SETTINGS kept in it). */
async function warmClient(base: string, cache: SessionCache): Promise<void> {
  const c = new Client({ ca: testPki().ca.certPem, sessionCache: cache });
  const r = await c.fetch(`${base}/warm`);
  await r.text();
  for (let i = 0; i < 100 && !cache.hasSession('localhost', Date.now()); i++)
    await new Promise((res) => setTimeout(res, 10));
  await c.close();
  assert.ok(cache.hasSession('localhost', Date.now()), 'a ticket was saved');
}

async function stop(s: Http3Server) {
  await s.close();
}

test('0-RTT accepted: safe requests go early, res.zeroRTT is accepted, the server marks req.early', async () => {
  const { s, seen, base } = await server({ allow: () => true });
  try {
    const cache = new SessionCache();
    await warmClient(base, cache);
    seen.length = 0;
    const c = new Client({ ca: testPki().ca.certPem, sessionCache: cache });
    const [a, b] = await Promise.all([c.fetch(`${base}/a`), c.fetch(`${base}/b`, { method: 'HEAD' })]);
    assert.equal(await a.text(), 'GET /a');
    assert.equal(a.zeroRTT, 'accepted');
    assert.equal(b.zeroRTT, 'accepted');
    assert.deepEqual(seen.map((x) => [x.url, x.early]).sort(), [
      ['/a', true],
      ['/b', true],
    ]);
    // Later requests on the same connection are 1-RTT.
    const later = await c.fetch(`${base}/later`);
    assert.equal(later.zeroRTT, 'not-attempted');
    await c.close();
  } finally {
    await stop(s);
  }
});

test('0-RTT rejected: sent again on the next connection; one response; the server qlog shows nothing of the dead attempt', async () => {
  const qlogDir = mkdtempSync(join(tmpdir(), 'tsquic-h3-qlog-'));
  dirs.push(qlogDir);
  let allow = true;
  const { s, seen, base } = await server({ allow: () => allow, qlogDir });
  try {
    const cache = new SessionCache();
    await warmClient(base, cache);
    seen.length = 0;
    allow = false;
    const c = new Client({ ca: testPki().ca.certPem, sessionCache: cache });
    const results = await Promise.all(['/a', '/b', '/c'].map((p) => c.fetch(`${base}${p}`)));
    for (const [i, r] of results.entries()) {
      assert.equal(r.status, 200);
      assert.equal(await r.text(), `GET /${'abc'[i]}`);
      assert.equal(r.zeroRTT, 'rejected');
    }
    // Each request reached the server exactly once, on the new connection, as 1-RTT, streams from 0.
    assert.deepEqual(seen.map((x) => x.url).sort(), ['/a', '/b', '/c']);
    assert.ok(seen.every((x) => !x.early));
    assert.deepEqual(
      seen.map((x) => x.streamId).sort((x, y) => x - y),
      [0, 4, 8],
    );
    await c.close();
    await stop(s);
    // The server's qlog of that connection: no 0-RTT packet processed, no reset or stop-sending.
    const files = readdirSync(qlogDir).filter((f) => f.endsWith('_server.sqlog'));
    // The ticket's connection and the attempt: the requests were repeated on the connection that
    // goes on after the rejection, not on a third one (which left the attempt open until its idle
    // timeout; found by `tsquic audit-0rtt --alpn h3`).
    assert.equal(files.length, 2, files.join(', '));
    const frames = files.flatMap((f) =>
      readFileSync(join(qlogDir, f), 'utf8')
        .split('\x1e')
        .filter((r) => r.trim())
        .map(
          (r) =>
            JSON.parse(r) as {
              name?: string;
              data?: {
                header?: { packet_type?: string };
                frames?: Array<{ frame_type: string; stream_id?: number }>;
              };
            },
        )
        .filter((r) => r.name === 'transport:packet_received')
        .flatMap((r) =>
          (r.data?.frames ?? []).map((f) => ({ ...f, packetType: r.data?.header?.packet_type })),
        ),
    );
    assert.ok(frames.length > 0);
    assert.equal(frames.filter((f) => f.packetType === '0RTT').length, 0, 'no 0-RTT packet was processed');
    assert.deepEqual(
      frames.filter((f) => f.frame_type === 'reset_stream' || f.frame_type === 'stop_sending'),
      [],
    );
  } finally {
    await stop(s);
  }
});

test('425 Too Early: the early request is repeated after the handshake', async () => {
  const { s, seen, base } = await server({ allow: () => true, tooEarly: true });
  try {
    const cache = new SessionCache();
    await warmClient(base, cache);
    seen.length = 0;
    const c = new Client({ ca: testPki().ca.certPem, sessionCache: cache });
    const r = await c.fetch(`${base}/x`);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), 'GET /x');
    assert.equal(r.zeroRTT, 'rejected');
    assert.deepEqual(
      seen.map((x) => x.early),
      [true, false],
    );
    await c.close();
  } finally {
    await stop(s);
  }
});

test('unsafe methods wait for the handshake unless allowed; the server answers early unsafe requests 425', async () => {
  const { s, seen, base } = await server({ allow: () => true });
  try {
    const cache = new SessionCache();
    await warmClient(base, cache);
    await warmClient(base, cache);
    seen.length = 0;
    const c1 = new Client({ ca: testPki().ca.certPem, sessionCache: cache });
    const post = await c1.fetch(`${base}/p`, { method: 'POST', body: 'data' });
    assert.equal(await post.text(), 'POST /p');
    assert.equal(post.zeroRTT, 'not-attempted');
    await c1.close();
    // early: true sends it in 0-RTT; this server refuses unsafe early requests (425): it is repeated.
    const c2 = new Client({ ca: testPki().ca.certPem, sessionCache: cache });
    const forced = await c2.fetch(`${base}/q`, { method: 'POST', body: 'data', early: true });
    assert.equal(forced.status, 200);
    assert.equal(forced.zeroRTT, 'rejected');
    await c2.close();
    assert.deepEqual(
      seen.map((x) => [x.url, x.early]),
      [
        ['/p', false],
        ['/q', false],
      ],
      'the 425 answer came before the handler',
    );
  } finally {
    await stop(s);
  }
});
