/**
 * Over real UDP, tsquic Client -> tsquic server, one request at a time: the client's first datagram
 * after a response carries its next request, together with the ACK of the response (and the QPACK
 * Section Acknowledgment of its field section), rather than sending those first in a datagram of
 * their own. The Node shell sends from the turn after the one in which the answer on a stream we
 * opened ended, so the application's next request, made in that turn's ticks and microtasks, goes in
 * the same datagram. Read from the client's qlog.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Client, createServer } from '../../src/http3/index.js';
import { testPki, within } from './helpers.js';

interface QlogFrame {
  frame_type: string;
  stream_id?: number;
  fin?: boolean;
}
interface QlogEvent {
  name: string;
  data?: { frames?: QlogFrame[] };
}

const REQUESTS = 20;

test('tsquic Client: the first datagram after a response carries the next request', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsquic-h3-client-coalesce-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pki = testPki();
  const server = createServer({ cert: pki.leaf.certPem, key: pki.leaf.keyPem }, (req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(`ok ${req.url}`);
  });
  await server.listen({ host: '127.0.0.1', port: 0 });
  const client = new Client({ ca: pki.ca.certPem, qlogDir: dir });
  try {
    const base = `https://localhost:${server.address().port}`;
    for (let i = 0; i < REQUESTS; i++) {
      const res = await within(client.fetch(`${base}/r${i}`), 10_000, `GET ${i}`);
      assert.equal(await res.text(), `ok /r${i}`);
    }
  } finally {
    await client.close();
    await server.close();
  }
  // The client's qlog is complete once its socket has closed, a little after client.close().
  let counts = analyse(dir);
  const deadline = performance.now() + 10_000;
  while (counts.together + counts.apart < REQUESTS - 1 && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    counts = analyse(dir);
  }
  const { together, apart } = counts;
  assert.equal(together + apart, REQUESTS - 1, 'every response but the last seen in the qlog');
  // A timer (ACK delay, PTO) firing between the two turns may still send first: rare, so a bound.
  assert.ok(together >= REQUESTS - 5, `next request in the first datagram: ${together} of ${REQUESTS - 1}`);
});

/** For each response but the last: does the first packet sent after its end carry the next request? */
function analyse(dir: string): { together: number; apart: number } {
  const files = readdirSync(dir);
  assert.equal(files.length, 1, `one client qlog: ${files}`);
  const events = readFileSync(join(dir, files[0]!), 'utf8')
    .split('\n')
    .map((l) => l.replace(/^[^{]*/, ''))
    .filter((l) => l.startsWith('{'))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as QlogEvent];
      } catch {
        return []; // the last line may still be partly written
      }
    });
  let answered: number | undefined;
  let together = 0;
  let apart = 0;
  for (const e of events) {
    const frames = e.data?.frames ?? [];
    if (e.name === 'transport:packet_received') {
      const f = frames.find((x) => x.frame_type === 'stream' && x.stream_id! % 4 === 0 && x.fin);
      if (f && f.stream_id! < (REQUESTS - 1) * 4) answered = f.stream_id;
    } else if (e.name === 'transport:packet_sent' && answered !== undefined) {
      const next = answered + 4;
      if (frames.some((x) => x.frame_type === 'stream' && x.stream_id === next)) together++;
      else apart++;
      answered = undefined;
    }
  }
  return { together, apart };
}
