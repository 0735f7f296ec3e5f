/**
 * HTTP/3 requests end to end in the simulator: the sans-IO client and server sessions over core
 * connections, with loss and reordering, checking bytes, statuses, trailers and stream states.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { H3ErrorCode } from '../../src/http3/error-codes.js';
import type { FieldCodec } from '../../src/http3/field-codec.js';
import { qpackCodec } from '../../src/http3/qpack-codec.js';
import { H3Sim, respondWith } from './h3-harness.js';

const SEED = Number(process.env.SIM_SEED ?? 0x4833);

function echoServer() {
  return respondWith((ex, body) => ({
    fields: [
      { name: 'x-method', value: ex.head!.method },
      { name: 'x-path', value: ex.head!.path! },
    ],
    body: Buffer.concat([Buffer.from(`${ex.head!.method} ${ex.head!.path} `), body]),
  }));
}

test('GET, POST with a body, HEAD: statuses, fields and bytes', () => {
  const h = new H3Sim({ seed: SEED, onRequest: echoServer() });
  h.connect();
  const get = h.request('/hello?x=1');
  const post = h.request('/upload', { method: 'POST', body: Buffer.from('payload') });
  const head = h.request('/hello', { method: 'HEAD' });
  h.run(() => get.rec.ended && post.rec.ended && head.rec.ended);
  assert.equal(get.rec.head?.status, 200);
  assert.equal(get.rec.body.toString(), 'GET /hello?x=1 ');
  assert.deepEqual(
    get.rec.head?.fields.filter((f) => f.name.startsWith('x-')),
    [
      { name: 'x-method', value: 'GET' },
      { name: 'x-path', value: '/hello?x=1' },
    ],
  );
  assert.equal(post.rec.body.toString(), 'POST /upload payload');
  // HEAD: content-length of the would-be body, no content.
  assert.equal(head.rec.head?.status, 200);
  assert.equal(head.rec.head?.fields.find((f) => f.name === 'content-length')?.value, '12');
  assert.equal(head.rec.body.length, 0);
  // Request streams are 0, 4, 8: client-initiated bidirectional.
  assert.deepEqual([get.ex.streamId, post.ex.streamId, head.ex.streamId], [0, 4, 8]);
});

test('control and QPACK streams, SETTINGS both ways, GREASE ignored', () => {
  const h = new H3Sim({
    seed: SEED + 1,
    onRequest: echoServer(),
    serverSettings: { maxFieldSectionSize: 10000, qpackMaxTableCapacity: 1000, qpackBlockedStreams: 3 },
  });
  h.connect();
  const r = h.request('/');
  h.run(
    () =>
      r.rec.ended &&
      h.session.conn.peerSettings !== undefined &&
      h.servers[0]?.session.conn.peerSettings !== undefined,
  );
  assert.deepEqual(h.session.conn.peerSettings, {
    maxFieldSectionSize: 10000,
    qpackMaxTableCapacity: 1000,
    qpackBlockedStreams: 3,
    enableConnectProtocol: false,
    h3Datagram: false,
  });
  // Client streams: 2 control, 6 encoder, 10 decoder, 14 GREASE (uni), 0 the request.
  const opened = h.clientTransports[0]!.log.filter((l) => l.startsWith('open')).map((l) =>
    Number(l.split(' ')[1]),
  );
  assert.deepEqual(opened, [2, 6, 10, 14, 0]);
  // The server stopped reading our GREASE stream with H3_STREAM_CREATION_ERROR and nothing else.
  assert.deepEqual(
    h.servers[0]!.transport.log.filter(
      (l) => l.startsWith('stop') || l.startsWith('reset') || l.startsWith('close'),
    ),
    [`stop 14 0x${H3ErrorCode.H3_STREAM_CREATION_ERROR.toString(16)}`],
  );
  assert.equal(h.client!.isClosed, false);
});

test('trailers both ways and interim responses', () => {
  const h = new H3Sim({
    seed: SEED + 2,
    onRequest: (ex) => {
      let trailers: string | undefined;
      ex.deliverTo({
        onData() {},
        onTrailers: (t) => {
          trailers = t.map((f) => `${f.name}=${f.value}`).join(',');
        },
        onEnd: () => {
          ex.sendInterim(103, [{ name: 'link', value: '</style.css>; rel=preload' }]);
          ex.respond(200, [{ name: 'trailer', value: 'x-checksum' }]);
          ex.write(Buffer.from(`got trailers ${trailers}`));
          ex.end([{ name: 'x-checksum', value: 'abc' }]);
        },
        onAborted() {},
        onWritable() {},
      });
    },
  });
  h.connect();
  const r = h.request('/t', {
    method: 'POST',
    body: Buffer.from('x'),
    trailers: [{ name: 'x-sig', value: '1' }],
  });
  h.run(() => r.rec.ended);
  assert.deepEqual(
    r.rec.interim.map((i) => i.status),
    [103],
  );
  assert.equal(r.rec.interim[0]!.fields[0]!.name, 'link');
  assert.equal(r.rec.body.toString(), 'got trailers x-sig=1');
  assert.deepEqual(r.rec.trailers, [{ name: 'x-checksum', value: 'abc' }]);
});

test('100 concurrent requests with 1% loss and reordering all complete byte-exact', () => {
  const h = new H3Sim({
    seed: SEED + 3,
    link: { delay: 20, jitter: 5, loss: 0.01 },
    onRequest: respondWith((ex) => ({
      body: Buffer.alloc(Number(ex.head!.path!.slice(1)), ex.head!.path!.length),
    })),
  });
  h.connect();
  const reqs = Array.from({ length: 100 }, (_, i) => h.request(`/${i * 997}`));
  h.run(() => reqs.every((r) => r.rec.ended || r.rec.error));
  for (const [i, r] of reqs.entries()) {
    assert.equal(r.rec.error, undefined, `request ${i}`);
    assert.equal(r.rec.body.length, i * 997);
    assert.ok(r.rec.body.every((b) => b === `/${i * 997}`.length));
  }
  // Every request stream left the registries.
  assert.equal(h.session.activeRequests, 0);
  assert.equal(h.servers[0]!.session.activeRequests, 0);
});

test('a large response is flow-controlled by a client that stops reading, then resumes', () => {
  const size = 4 * 1024 * 1024;
  const h = new H3Sim({
    seed: SEED + 4,
    onRequest: (ex) => {
      let sent = 0;
      const pump = () => {
        while (sent < size) {
          const n = Math.min(65536, size - sent);
          sent += n;
          if (!ex.write(Buffer.alloc(n, 7))) return;
        }
        ex.end();
      };
      ex.deliverTo({
        onData() {},
        onTrailers() {},
        onEnd: () => {
          ex.respond(200, [{ name: 'content-length', value: String(size) }]);
          pump();
        },
        onAborted() {},
        onWritable: pump,
      });
    },
  });
  h.connect(undefined, { initialMaxStreamData: 256 * 1024, maxStreamReceiveWindow: 256 * 1024 });
  const r = h.request('/big');
  h.run(() => r.rec.body.length > 0);
  r.ex.setWantData(false);
  const before = r.rec.body.length;
  h.sim.net.runFor(2000);
  // Nothing more was delivered while paused; the server is held by flow control.
  assert.equal(r.rec.body.length, before);
  r.ex.setWantData(true);
  h.run(() => r.rec.ended);
  assert.equal(r.rec.body.length, size);
});

test('QPACK dynamic table both ways under loss and reordering: blocked streams resolve, bytes exact', () => {
  // The real codec, counting the field sections that had to wait for encoder instructions.
  let blocked = 0;
  let unblocked = 0;
  const codec: FieldCodec = {
    createEncoder: (r) => qpackCodec.createEncoder(r),
    createDecoder: (o) => {
      const d = qpackCodec.createDecoder(o);
      return {
        decode: (id, section) => {
          const r = d.decode(id, section);
          if (r.status === 'blocked') blocked++;
          return r;
        },
        onEncoderStreamData: (data) => {
          const u = d.onEncoderStreamData(data);
          unblocked += u.length;
          return u;
        },
        cancelStream: (id) => d.cancelStream(id),
        takeDecoderStreamData: () => d.takeDecoderStreamData(),
      };
    },
  };
  const h = new H3Sim({
    seed: SEED + 5,
    codec,
    link: { delay: 15, jitter: 10, loss: 0.03 },
    serverSettings: { qpackMaxTableCapacity: 4096, qpackBlockedStreams: 100 },
    clientSettings: { qpackMaxTableCapacity: 4096, qpackBlockedStreams: 100 },
    onRequest: respondWith((ex) => ({
      fields: [
        { name: 'x-served-by', value: 'tsquic-simulated-server-with-a-long-name' },
        { name: 'x-echo', value: ex.head!.fields.find((f) => f.name === 'x-token')?.value ?? '' },
      ],
      body: Buffer.from(ex.head!.path!),
    })),
  });
  h.connect();
  const token = 'a-repeated-header-value-that-is-worth-indexing';
  const rounds: Array<ReturnType<typeof h.request>[]> = [];
  for (let round = 0; round < 4; round++) {
    const reqs = Array.from({ length: 25 }, (_, i) =>
      h.request(`/r${round}/${i}`, {
        fields: [
          { name: 'x-token', value: token },
          { name: 'user-agent', value: 'sim' },
        ],
      }),
    );
    h.run(() => reqs.every((r) => r.rec.ended || r.rec.error));
    rounds.push(reqs);
  }
  for (const reqs of rounds) {
    for (const r of reqs) {
      assert.equal(r.rec.error, undefined);
      assert.equal(r.rec.head?.fields.find((f) => f.name === 'x-echo')?.value, token);
    }
  }
  // Both encoders inserted the repeated fields into their dynamic tables.
  const clientEncoder = h.session.conn.encoder as unknown as { tableEntries(): Array<{ name: string }> };
  const serverEncoder = h.servers[0]!.session.conn.encoder as unknown as {
    tableEntries(): Array<{ name: string }>;
  };
  assert.ok(clientEncoder.tableEntries().some((e) => e.name === 'x-token'));
  assert.ok(serverEncoder.tableEntries().some((e) => e.name === 'x-served-by'));
  assert.equal(h.client!.isClosed, false);
  assert.ok(blocked > 0, 'some sections arrived before the instructions they need');
  assert.equal(unblocked, blocked);
});

test('a peer allowing exactly 3 unidirectional streams: our GREASE stream waits, requests do not (found against ngtcp2)', () => {
  const h = new H3Sim({
    seed: SEED + 6,
    serverTransport: { maxStreamsUni: 3 },
    onRequest: respondWith(() => ({ body: Buffer.from('ok') })),
  });
  h.connect();
  const r = h.request('/');
  h.run(() => r.rec.ended || r.rec.error !== undefined);
  assert.equal(r.rec.body.toString(), 'ok');
  const opened = h.clientTransports[0]!.log.filter((l) => l.startsWith('open')).map((l) =>
    Number(l.split(' ')[1]),
  );
  assert.deepEqual(
    opened.sort((a, b) => a - b),
    [0, 2, 6, 10],
    'control, encoder, decoder and the request; no GREASE stream',
  );
});

test('graceful shutdown under loss: requests below the GOAWAY complete whole, later ones are rejected, then H3_NO_ERROR', () => {
  // The server holds its responses until told, so that requests are in flight at shutdown.
  const held: Array<() => void> = [];
  const h = new H3Sim({
    seed: SEED + 7,
    link: { delay: 20, loss: 0.05 },
    onRequest: (ex) => {
      ex.deliverTo({
        onData() {},
        onTrailers() {},
        onEnd: () =>
          held.push(() => {
            const body = Buffer.alloc(50_000, ex.head!.path!.length);
            ex.respond(200, [{ name: 'content-length', value: String(body.length) }]);
            ex.write(body);
            ex.end();
          }),
        onAborted() {},
        onWritable() {},
      });
    },
  });
  h.connect();
  const reqs = Array.from({ length: 20 }, (_, i) => h.request(`/${'x'.repeat(i + 1)}`));
  h.run(() => held.length >= 5);
  h.servers[0]!.session.shutdown();
  for (const release of held.splice(0)) release();
  h.run(() => {
    for (const release of held.splice(0)) release();
    return h.client!.isClosed;
  });
  let completed = 0;
  for (const [i, r] of reqs.entries()) {
    if (r.rec.error) {
      assert.equal(
        (r.rec.error as { code?: string }).code,
        'ERR_HTTP3_REQUEST_REJECTED',
        `request ${i}: ${r.rec.error.message}`,
      );
      continue;
    }
    assert.ok(r.rec.ended, `request ${i} neither completed nor was rejected`);
    assert.equal(r.rec.body.length, 50_000);
    assert.ok(r.rec.body.every((b) => b === i + 2));
    completed++;
  }
  assert.ok(completed >= 5, `${completed} completed`);
  assert.equal(h.client!.closeInfo?.source, 'remote');
  assert.equal(h.client!.closeInfo?.errorCode, H3ErrorCode.H3_NO_ERROR);
});
