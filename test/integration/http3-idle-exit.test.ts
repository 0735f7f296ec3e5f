/**
 * An idle pooled HTTP/3 connection does not keep the process alive (issue 11, found while fixing
 * it): a program that fetches once and does nothing else exits on its own, like one using fetch()
 * over node:http with a keep-alive agent. The child's pool keeps connections for 60 s
 * (keepAliveTimeout), so exiting well before that shows the idle connection holds nothing; a child
 * that does not exit within the bound is killed and the test fails. `conn.unref()`/`ref()` are
 * checked the same way on a plain QUIC connection.
 */
import assert from 'node:assert/strict';

import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createServer, type Http3Server } from '../../src/http3/index.js';
import type { QuicServer } from '../../src/index.js';
import { runTsx } from '../support/child-process.js';
import { startServer, testPki } from './helpers.js';

/** Far below the child's 60 s keep-alive; generous for a loaded machine. */
const EXIT_BOUND_MS = 20_000;
const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

let h3: Http3Server;
let quic: QuicServer;
before(async () => {
  const pki = testPki();
  h3 = createServer({ cert: pki.leaf.certPem, key: pki.leaf.keyPem }, (_req, res) => {
    res.end('hello');
  });
  await h3.listen({ host: '127.0.0.1', port: 0 });
  quic = await startServer();
  (async () => {
    for await (const conn of quic) {
      (async () => {
        for await (const s of conn) s.pipe(s);
      })();
    }
  })();
});
after(async () => {
  await Promise.all([h3.close(), quic.close()]);
});

/** Run `code` (an ES module) in a child process; resolves with its exit code and output, or kills it. */
async function runChild(code: string): Promise<{ status: number | null; out: string; killed: boolean }> {
  const r = await runTsx(['--input-type=module', '-e', code], { timeoutMs: EXIT_BOUND_MS });
  return { status: r.code, out: r.stdout + r.stderr, killed: r.timedOut };
}

test('a program that fetches once over HTTP/3 exits on its own while its pooled connection is idle', async () => {
  const ca = JSON.stringify(testPki().ca.certPem);
  const url = `https://localhost:${h3.address().port}/`;
  const r = await runChild(`
    import { Client } from ${JSON.stringify(`${SRC}http3/index.ts`)};
    const client = new Client({ ca: ${ca}, keepAliveTimeout: 60_000 });
    const res = await client.fetch(${JSON.stringify(url)});
    console.log('body:', await res.text());
  `);
  assert.equal(r.killed, false, `the child did not exit within ${EXIT_BOUND_MS} ms: ${r.out}`);
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /body: hello/);
});

test('conn.unref() lets the process exit with the connection open; ref() holds it again', async () => {
  const ca = JSON.stringify(testPki().ca.certPem);
  const port = quic.address().port;
  const prelude = `
    import { dial } from ${JSON.stringify(`${SRC}index.ts`)};
    const conn = await dial({ host: '127.0.0.1', port: ${port} }, { alpn: ['test'], ca: ${ca}, idleTimeout: 60_000, keepAlive: 1000 });
    const s = await conn.openStream();
    s.end('ping');
    for await (const c of s) console.log('echo:', String(c));
  `;
  const unrefd = await runChild(`${prelude} conn.unref();`);
  assert.equal(unrefd.killed, false, `unref(): the child did not exit: ${unrefd.out}`);
  assert.equal(unrefd.status, 0, unrefd.out);
  assert.match(unrefd.out, /echo: ping/);
  // ref() after unref(): the open connection (with keep-alive PINGs) holds the process until the
  // child closes it after 1.5 s; without ref() it would exit at once, which the output tells apart.
  const refd = await runChild(`${prelude}
    conn.unref(); conn.ref();
    setTimeout(() => { console.log('closing'); void conn.close(); }, 1500).unref();
  `);
  assert.equal(refd.killed, false, refd.out);
  assert.equal(refd.status, 0, refd.out);
  assert.match(refd.out, /closing/, 'ref() kept the process alive until the close');
});
