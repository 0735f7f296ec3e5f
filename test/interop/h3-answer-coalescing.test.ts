/**
 * Over real UDP against quic-go 0.29's RoundTripper, which acknowledges a response and sends the
 * next request back to back: the tsquic server's first datagram after a request carries the
 * response, together with the ACK (and the MAX_STREAMS that the acknowledged response freed). The
 * Node shell sends from the turn after the one in which a peer opened a stream, so the handler's
 * answer, written in that turn's ticks and microtasks, is not preceded by a datagram of its own.
 * Read from the server's qlog.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createServer } from '../../src/http3/index.js';
import { makeTempDir, removeDir, writeTestPki } from './go-peers.js';
import { ensureH3GoPeers, startPeer } from './h3-peers.js';

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

test('quic-go RoundTripper -> tsquic server: the first datagram after a request carries its response', async (t) => {
  const { client: bin } = await ensureH3GoPeers();
  const dir = makeTempDir('tsquic-h3-coalesce-');
  t.after(() => removeDir(dir));
  const pki = writeTestPki(dir);
  const qlogDir = join(dir, 'qlog');
  const server = createServer({ cert: pki.certPem, key: pki.keyPem, qlogDir }, (req, res) => {
    res.end(`ok ${req.url}`);
  });
  await server.listen({ host: '127.0.0.1', port: 0 });
  const base = `https://localhost:${server.address().port}`;
  const urls = Array.from({ length: REQUESTS }, (_, i) => `${base}/r${i}`);
  // The server's I/O loop is the only one in this process: count the event-loop turns it queues.
  let immediates = 0;
  const setImmediateBefore = globalThis.setImmediate;
  globalThis.setImmediate = ((...args: Parameters<typeof setImmediate>) => {
    immediates++;
    return setImmediateBefore(...args);
  }) as typeof setImmediate;
  try {
    const go = startPeer(t, bin, ['-ca', pki.caFile, ...urls]);
    const code = await go.exited();
    assert.equal(code, 0, go.stderr() + go.lines.join('\n'));
  } finally {
    globalThis.setImmediate = setImmediateBefore;
  }
  await server.close();
  // One turn per request answered at once: the flush that reads it sends the answer (no send turn,
  // no flush of its own for the handler's writes). A request whose ACK of the previous response
  // came in a datagram of its own costs a second flush; the handshake a few, and the server's next
  // key share two more (node/spares.ts makes it in the turn after the one that took it): 47-51 in
  // all, measured. Three per request (the I/O loop before: 60 and more) cannot pass.
  assert.ok(immediates <= 2 * REQUESTS + 15, `${immediates} setImmediate calls for ${REQUESTS} requests`);
  const files = readdirSync(qlogDir).filter((f) => f.includes('server'));
  assert.equal(files.length, 1, `one server qlog: ${files}`);
  const events = readFileSync(join(qlogDir, files[0]!), 'utf8')
    .split('\n')
    .map((l) => l.replace(/^[^{]*/, ''))
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as QlogEvent);
  // For each request: is the first packet sent after the one that brought it its response?
  let waiting: number | undefined;
  let together = 0;
  let apart = 0;
  for (const e of events) {
    const frames = e.data?.frames ?? [];
    if (e.name === 'transport:packet_received') {
      const f = frames.find((x) => x.frame_type === 'stream' && x.stream_id! % 4 === 0);
      if (f) waiting = f.stream_id;
    } else if (e.name === 'transport:packet_sent' && waiting !== undefined) {
      if (frames.some((x) => x.frame_type === 'stream' && x.stream_id === waiting && x.fin)) together++;
      else apart++;
      waiting = undefined;
    }
  }
  assert.equal(together + apart, REQUESTS, 'every request seen in the qlog');
  // A timer (ACK delay, PTO) firing between the two turns may still send first: rare, so a bound.
  assert.ok(together >= REQUESTS - 4, `responses in the first datagram: ${together} of ${REQUESTS}`);
});
