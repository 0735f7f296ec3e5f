/**
 * Interop: DATAGRAM frames (RFC 9221) between tsquic's public API and quic-go 0.29 with
 * `EnableDatagrams` (interop/ -datagrams), both directions, plus 0-RTT datagrams to quic-go and the
 * limits quic-go advertises (max_datagram_frame_size 1220 in 0.29). Without `go` or the quic-go
 * sources these tests fail with an install hint (ensureGoPeers).
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { dial, dialEarly, listen, type QuicConnection, SessionCache } from '../../src/index.js';
import {
  describeClientRun,
  type GoEvent,
  killAllGoPeers,
  makeTempDir,
  removeDir,
  runGoClient,
  sha256Hex,
  startGoServerFor,
  writeTestPki,
} from './go-peers.js';
import { clientOptionsFor, echoOnce, until, within } from './tsquic-peers.js';

const TEST_TIMEOUT = 60_000;
const dirs: string[] = [];
after(async () => {
  await killAllGoPeers();
  for (const d of dirs) removeDir(d);
});

function payload(index: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  b.writeUInt32BE(index, 0);
  for (let i = 4; i < size; i++) b[i] = (index * 13 + i) & 0xff;
  return b;
}

function datagramEvents(events: readonly GoEvent[]): GoEvent[] {
  return events.filter((e) => e.event === 'datagram');
}

/** Collect `n` datagrams from the iterator. */
async function take(conn: QuicConnection, n: number): Promise<Buffer[]> {
  const got: Buffer[] = [];
  for await (const d of conn.datagrams()) {
    got.push(Buffer.from(d));
    if (got.length === n) break;
  }
  return got;
}

describe('tsquic client -> quic-go server with EnableDatagrams', () => {
  test('datagrams up to quic-go limit go both ways; above it sendDatagram throws', {
    timeout: TEST_TIMEOUT,
  }, async (t) => {
    const go = await startGoServerFor(t, { echo: true, extraArgs: ['-datagrams'] });
    const conn = await dial(
      { host: go.address.host, port: go.address.port },
      clientOptionsFor(go.pki, t, { alpn: ['echo'], maxDatagramFrameSize: 65535 }),
    );
    // quic-go 0.29 advertises max_datagram_frame_size 1220: type (1) + length (2) + 1217 bytes.
    const max = conn.maxDatagramPayloadSize;
    assert.ok(max !== undefined && max <= 1217 && max >= 1150, `maxDatagramPayloadSize ${max}`);
    assert.throws(
      () => conn.sendDatagram(Buffer.alloc(1218)),
      (e: NodeJS.ErrnoException) => e.code === 'ERR_QUIC_DATAGRAM_TOO_LARGE',
    );
    const sent = [4, 100, 1000, max].map((size, i) => payload(i, size));
    const back = take(conn, sent.length);
    for (const d of sent) assert.equal(conn.sendDatagram(d), true);
    const got = await within(back, 10_000, 'datagrams echoed by quic-go');
    const hex = (b: Buffer) => b.toString('hex');
    assert.deepEqual(got.map(hex).sort(), sent.map(hex).sort());
    await until(() => datagramEvents(go.events).length === sent.length, 10_000, 'quic-go datagram events');
    assert.deepEqual(
      datagramEvents(go.events)
        .map((e) => e.sha256)
        .sort(),
      sent.map((d) => sha256Hex(d)).sort(),
    );
    // Streams still work next to datagrams.
    assert.equal((await echoOnce(conn, Buffer.from('stream too'))).toString(), 'stream too');
    await conn.close();
  });

  test('quic-go without EnableDatagrams: maxDatagramPayloadSize is undefined and sendDatagram throws', {
    timeout: TEST_TIMEOUT,
  }, async (t) => {
    const go = await startGoServerFor(t, { echo: true });
    const conn = await dial(
      { host: go.address.host, port: go.address.port },
      clientOptionsFor(go.pki, t, { alpn: ['echo'], maxDatagramFrameSize: 65535 }),
    );
    assert.equal(conn.maxDatagramPayloadSize, undefined);
    assert.throws(
      () => conn.sendDatagram(Buffer.from('x')),
      (e: NodeJS.ErrnoException) => e.code === 'ERR_QUIC_DATAGRAM_UNSUPPORTED',
    );
    await conn.close();
  });

  test('0-RTT: a datagram sent before the handshake reaches quic-go in a 0-RTT packet', {
    timeout: TEST_TIMEOUT,
  }, async (t) => {
    const go = await startGoServerFor(t, {
      echo: true,
      zeroRtt: true,
      frames: ['DATAGRAM'],
      extraArgs: ['-datagrams'],
    });
    const cache = new SessionCache();
    const opts = clientOptionsFor(go.pki, t, {
      alpn: ['echo'],
      maxDatagramFrameSize: 65535,
      sessionCache: cache,
    });
    const first = await dial({ host: go.address.host, port: go.address.port }, opts);
    await echoOnce(first, Buffer.from('ticket'));
    await until(() => cache.size > 0, 10_000, 'a session ticket from quic-go');
    await first.close();

    const early = await dialEarly({ host: go.address.host, port: go.address.port }, opts);
    assert.ok((early.maxDatagramPayloadSize ?? 0) > 1000, 'the remembered limit allows datagrams in 0-RTT');
    const d = payload(7, 300);
    const back = take(early, 1);
    assert.equal(early.sendDatagram(d), true);
    assert.deepEqual((await within(back, 10_000, 'echo of the 0-RTT datagram'))[0], d);
    assert.equal((await within(early.nextConnection(), 10_000, 'handshake')) === early, true);
    assert.equal(early.used0RTT, true);
    const frames = go.events.filter((e) => e.event === 'frame' && e.frame === 'DATAGRAM');
    assert.ok(
      frames.some((e) => e.packet === '0RTT'),
      `quic-go saw the DATAGRAM in a 0-RTT packet: ${JSON.stringify(frames)}`,
    );
    await early.close();
  });
});

describe('quic-go client with EnableDatagrams -> tsquic server', () => {
  test('quic-go sends 20 datagrams, the tsquic server echoes each one back', {
    timeout: TEST_TIMEOUT,
  }, async (t) => {
    const work = makeTempDir();
    dirs.push(work);
    const pki = writeTestPki(work);
    const server = await listen({
      host: '127.0.0.1',
      port: 0,
      cert: pki.certPem,
      key: pki.keyPem,
      alpn: ['echo'],
      maxDatagramFrameSize: 65535,
    });
    t.after(() => server.close());
    const received: Buffer[] = [];
    (async () => {
      for await (const conn of server) {
        (async () => {
          for await (const d of conn.datagrams()) {
            received.push(Buffer.from(d));
            conn.sendDatagram(d);
          }
        })();
        (async () => {
          for await (const s of conn) s.pipe(s);
        })();
      }
    })();
    const r = await runGoClient(
      [
        '-ca',
        pki.caFile,
        '-sni',
        'localhost',
        '-echo',
        '100',
        '-datagrams',
        '20',
        '-datagram-size',
        '1000',
        `https://127.0.0.1:${server.address().port}/`,
      ],
      30_000,
    );
    assert.equal(r.code, 0, describeClientRun(r));
    assert.equal(datagramEvents(r.events).length, 20, describeClientRun(r));
    assert.equal(received.length, 20);
    assert.deepEqual(
      received.map((d) => d.readUInt32BE(0)).sort((a, b) => a - b),
      Array.from({ length: 20 }, (_, i) => i),
    );
  });
});
