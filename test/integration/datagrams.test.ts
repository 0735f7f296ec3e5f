/**
 * DATAGRAM frames (RFC 9221) through the public API over real UDP on loopback (docs/datagrams.md):
 * the `maxDatagramFrameSize` option (off when absent), `sendDatagram()`'s return/throw contract, the
 * 'datagram' event and the `datagrams()` iterator, datagrams held until the application consumes
 * them, and 0-RTT: datagrams sent in 0-RTT under the remembered limit, and none of a rejected attempt
 * ever reaching the server.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import {
  dial,
  dialEarly,
  type QuicConnection,
  type QuicServer,
  type ResumptionSession,
  SessionCache,
} from '../../src/index.js';
import { clientOptions, serve, startServer, within } from './helpers.js';

const TIMEOUT = 10_000;
const servers: QuicServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function server(opts: Parameters<typeof startServer>[0] = {}): Promise<QuicServer> {
  const s = await startServer(opts);
  servers.push(s);
  return s;
}

function target(s: QuicServer) {
  return { host: '127.0.0.1', port: s.address().port };
}

/** A payload that says which datagram it is: 4-byte index, then a pattern. */
function payload(index: number, size: number, tag = 0): Buffer {
  const b = Buffer.alloc(size);
  b.writeUInt32BE(index, 0);
  for (let i = 4; i < size; i++) b[i] = (index * 7 + i + tag) & 0xff;
  return b;
}

/** Collect `n` datagrams from the connection's 'datagram' event. */
function collect(conn: QuicConnection, n: number): Promise<Buffer[]> {
  const got: Buffer[] = [];
  return new Promise((resolve) => {
    const on = (d: Buffer) => {
      got.push(Buffer.from(d));
      if (got.length === n) {
        conn.off('datagram', on);
        resolve(got);
      }
    };
    conn.on('datagram', on);
  });
}

/** A server echoing every datagram of every connection, read with the async iterator. */
function datagramEcho(s: QuicServer): { received: Buffer[]; errors: unknown[] } {
  const received: Buffer[] = [];
  const errors = serve(s, async (conn) => {
    for await (const d of conn.datagrams()) {
      received.push(Buffer.from(d));
      conn.sendDatagram(d);
    }
  });
  return { received, errors };
}

describe('DATAGRAM frames between two tsquic endpoints', () => {
  test('enabled on both sides: datagrams go both ways, byte-exact, through the event and the iterator', async () => {
    const s = await server({ maxDatagramFrameSize: 65535 });
    const echo = datagramEcho(s);
    const conn = await dial(target(s), clientOptions({ maxDatagramFrameSize: 65535 }));
    const max = conn.maxDatagramPayloadSize;
    assert.ok(max !== undefined && max >= 1200 - 60, `maxDatagramPayloadSize ${max}`);
    const sizes = [0, 4, 100, 1000, max];
    const sent = sizes.map((size, i) => (size >= 4 ? payload(i, size) : Buffer.alloc(size)));
    const back = collect(conn, sent.length);
    for (const d of sent) assert.equal(conn.sendDatagram(d), true);
    const got = await within(back, TIMEOUT, 'echoed datagrams');
    const key = (b: Buffer) => b.toString('hex');
    assert.deepEqual(got.map(key).sort(), sent.map(key).sort());
    assert.deepEqual(echo.received.map(key).sort(), sent.map(key).sort());
    await conn.close();
    assert.deepEqual(echo.errors, []);
  });

  test('off when absent: no max_datagram_frame_size, and sendDatagram throws ERR_QUIC_DATAGRAM_UNSUPPORTED', async () => {
    const s = await server();
    const accepted = new Promise<QuicConnection>((resolve) => s.once('connection', resolve));
    // The client enables them, the server does not: the client may not send, the server may.
    const conn = await dial(target(s), clientOptions({ maxDatagramFrameSize: 1200 }));
    assert.equal(conn.maxDatagramPayloadSize, undefined);
    assert.throws(
      () => conn.sendDatagram(Buffer.from('x')),
      (e: NodeJS.ErrnoException) => e.code === 'ERR_QUIC_DATAGRAM_UNSUPPORTED',
    );
    const sc = await within(accepted, TIMEOUT, 'server connection');
    assert.ok((sc.maxDatagramPayloadSize ?? 0) > 0);
    const got = collect(conn, 1);
    assert.equal(sc.sendDatagram(Buffer.from('from the server')), true);
    assert.equal((await within(got, TIMEOUT, 'server datagram'))[0]!.toString(), 'from the server');
    await conn.close();
  });

  test('too large: ERR_QUIC_DATAGRAM_TOO_LARGE above the peer limit, exactly the limit is sent', async () => {
    // max_datagram_frame_size 100 counts type (1) and length (2 bytes for 64..16383): 97 bytes of payload.
    const s = await server({ maxDatagramFrameSize: 100 });
    const echo = datagramEcho(s);
    const conn = await dial(target(s), clientOptions({ maxDatagramFrameSize: 100 }));
    assert.equal(conn.maxDatagramPayloadSize, 97);
    assert.throws(
      () => conn.sendDatagram(Buffer.alloc(98)),
      (e: NodeJS.ErrnoException) => e.code === 'ERR_QUIC_DATAGRAM_TOO_LARGE' && /97 bytes/.test(e.message),
    );
    const back = collect(conn, 1);
    assert.equal(conn.sendDatagram(payload(1, 97)), true);
    assert.deepEqual((await within(back, TIMEOUT, 'echo'))[0], payload(1, 97));
    assert.equal(echo.received.length, 1);
    await conn.close();
  });

  test('bad argument: a TypeError with code ERR_INVALID_ARG_TYPE', async () => {
    const s = await server({ maxDatagramFrameSize: 1200 });
    const conn = await dial(target(s), clientOptions());
    for (const bad of ['text', 42, undefined, [1, 2]]) {
      assert.throws(
        () => conn.sendDatagram(bad as unknown as Uint8Array),
        (e: NodeJS.ErrnoException) => e instanceof TypeError && e.code === 'ERR_INVALID_ARG_TYPE',
      );
    }
    await conn.close();
  });

  test('datagrams that arrive before the server application listens are held for it', async () => {
    const s = await server({ maxDatagramFrameSize: 1200 });
    const conn = await dial(target(s), clientOptions());
    for (let i = 0; i < 5; i++) assert.equal(conn.sendDatagram(payload(i, 50)), true);
    // Accept only now, and only listen a moment later: the five are waiting.
    const sc = await within(s.accept(), TIMEOUT, 'accept');
    await new Promise((r) => setTimeout(r, 50));
    const got = await within(collect(sc, 5), TIMEOUT, 'held datagrams');
    assert.deepEqual(
      got.map((d) => d.readUInt32BE(0)),
      [0, 1, 2, 3, 4],
    );
    await conn.close();
  });

  test('after close: sendDatagram returns false and the iterator ends', async () => {
    const s = await server({ maxDatagramFrameSize: 1200 });
    const conn = await dial(target(s), clientOptions({ maxDatagramFrameSize: 1200 }));
    const loop = (async () => {
      let n = 0;
      for await (const _ of conn.datagrams()) n++;
      return n;
    })();
    await conn.close();
    assert.equal(conn.sendDatagram(Buffer.from('late')), false);
    assert.equal(await within(loop, TIMEOUT, 'iterator end'), 0);
  });
});

/** A session cache that tells when a ticket arrived. */
class TicketCache extends SessionCache {
  private waiters: Array<() => void> = [];
  override saveSession(session: ResumptionSession): void {
    super.saveSession(session);
    for (const w of this.waiters.splice(0)) w();
  }
  whenTicket(): Promise<void> {
    return this.size > 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}

async function getTicket(s: QuicServer, cache: TicketCache): Promise<void> {
  const conn = await dial(target(s), clientOptions({ sessionCache: cache, maxDatagramFrameSize: 1200 }));
  await within(cache.whenTicket(), TIMEOUT, 'session ticket');
  await conn.close();
}

async function getTicketFrom(
  s: QuicServer,
  cache: TicketCache,
  options: ReturnType<typeof clientOptions>,
): Promise<void> {
  const conn = await dial(target(s), options);
  await within(cache.whenTicket(), TIMEOUT, 'session ticket');
  await conn.close();
}

interface ServerDatagram {
  data: Buffer;
  beforeHandshake: boolean;
}

/** A listenEarly server recording every datagram and whether its handshake had completed. */
function recordDatagrams(s: QuicServer): ServerDatagram[] {
  const seen: ServerDatagram[] = [];
  s.on('connection', (conn: QuicConnection) => {
    let done = false;
    conn.handshakeComplete.then(
      () => {
        done = true;
      },
      () => {},
    );
    conn.on('datagram', (d: Buffer) => seen.push({ data: Buffer.from(d), beforeHandshake: !done }));
  });
  return seen;
}

describe('DATAGRAM frames and 0-RTT', () => {
  test('accepted: datagrams go out in 0-RTT under the remembered max_datagram_frame_size', async () => {
    const s = await server({ early: true, allow0RTT: true, maxDatagramFrameSize: 500 });
    const seen = recordDatagrams(s);
    const cache = new TicketCache();
    await getTicket(s, cache);
    const early = await dialEarly(target(s), clientOptions({ sessionCache: cache }));
    // Before the handshake: the limit is the one remembered with the ticket (500 - 3).
    assert.equal(early.maxDatagramPayloadSize, 497);
    assert.throws(
      () => early.sendDatagram(Buffer.alloc(498)),
      (e: NodeJS.ErrnoException) => e.code === 'ERR_QUIC_DATAGRAM_TOO_LARGE',
    );
    assert.equal(early.sendDatagram(payload(1, 497, 0xee)), true);
    const next = await within(early.nextConnection(), TIMEOUT, 'handshake');
    assert.equal(next, early);
    assert.equal(early.used0RTT, true);
    await within(
      (async () => {
        while (seen.length === 0) await new Promise((r) => setTimeout(r, 5));
      })(),
      TIMEOUT,
      'the datagram',
    );
    assert.deepEqual(seen[0]!.data, payload(1, 497, 0xee));
    assert.equal(seen[0]!.beforeHandshake, true, 'the server had it before its handshake completed (0-RTT)');
    await early.close();
  });

  test('RFC 9221 §3: the remembered limit before the handshake, the actual one after; a lower one rejects 0-RTT', async () => {
    // Servers sharing a ticket key: the ticket of one is good at the others, whose limits differ.
    const ticketKey = Buffer.alloc(32, 7);
    const issuer = await server({ early: true, allow0RTT: true, ticketKey, maxDatagramFrameSize: 500 });
    const larger = await server({ early: true, allow0RTT: true, ticketKey, maxDatagramFrameSize: 1000 });
    const smaller = await server({ early: true, allow0RTT: true, ticketKey, maxDatagramFrameSize: 400 });
    // One cache key for all three (the server name), as for one service behind several addresses.
    const opts = (cache: TicketCache) => clientOptions({ sessionCache: cache, serverName: 'localhost' });

    const up = new TicketCache();
    await getTicketFrom(issuer, up, opts(up));
    const early = await dialEarly(target(larger), opts(up));
    assert.equal(early.maxDatagramPayloadSize, 497, 'before the handshake: the remembered 500');
    assert.equal(early.sendDatagram(Buffer.alloc(497)), true);
    assert.equal(await within(early.nextConnection(), TIMEOUT, 'handshake'), early);
    assert.equal(early.used0RTT, true);
    assert.equal(early.maxDatagramPayloadSize, 997, "after: the server's actual 1000");
    await early.close();

    const down = new TicketCache();
    await getTicketFrom(issuer, down, opts(down));
    const refused = await dialEarly(target(smaller), opts(down));
    assert.equal(refused.maxDatagramPayloadSize, 497);
    assert.equal(refused.sendDatagram(Buffer.alloc(497)), true);
    // The server may not accept 0-RTT with a smaller limit than remembered: it rejects.
    const next = await within(refused.nextConnection(), TIMEOUT, 'nextConnection');
    assert.notEqual(next, refused);
    assert.equal(refused.used0RTT, false);
    assert.equal(next.maxDatagramPayloadSize, 397);
    assert.throws(
      () => next.sendDatagram(Buffer.alloc(497)),
      (e: NodeJS.ErrnoException) => e.code === 'ERR_QUIC_DATAGRAM_TOO_LARGE',
    );
    await next.close();
  });

  test('rejected: no datagram of the rejected attempt reaches the server, queued or sent', async () => {
    const s = await server({ early: true, allow0RTT: () => false, maxDatagramFrameSize: 1200 });
    const seen = recordDatagrams(s);
    const cache = new TicketCache();
    // The ticket carries early-data permission (the policy is asked per connection), so 0-RTT is offered.
    await getTicket(s, cache);
    const early = await dialEarly(target(s), clientOptions({ sessionCache: cache }));
    assert.ok((early.maxDatagramPayloadSize ?? 0) >= 1000);
    // 60 KB: far beyond the first flight's congestion window, so many are still queued at the verdict.
    for (let i = 0; i < 60; i++) assert.equal(early.sendDatagram(payload(i, 1000, 0xaa)), true);
    const next = await within(early.nextConnection(), TIMEOUT, 'nextConnection');
    assert.notEqual(next, early);
    assert.equal(early.used0RTT, false);
    // The dead attempt queues nothing and throws nothing (docs/0rtt.md), also with the next
    // connection alive; its datagram iterator is over.
    assert.equal(early.sendDatagram(payload(99, 10, 0xaa)), false);
    assert.deepEqual(await early.datagrams().next(), { value: undefined, done: true });
    // The next connection's own datagrams arrive; give stragglers of the old attempt time to show.
    assert.equal(next.maxDatagramPayloadSize !== undefined, true);
    for (let i = 0; i < 5; i++) assert.equal(next.sendDatagram(payload(1000 + i, 200, 0xbb)), true);
    await within(
      (async () => {
        while (seen.length < 5) await new Promise((r) => setTimeout(r, 5));
      })(),
      TIMEOUT,
      'the next connection datagrams',
    );
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(
      seen.map((d) => d.data.readUInt32BE(0)).sort((a, b) => a - b),
      [1000, 1001, 1002, 1003, 1004],
      'only the next connection datagrams reached the server',
    );
    for (const d of seen) assert.equal(d.data.length, 200);
    await next.close();
  });
});
