/**
 * Delivery you can wait for (docs/streams.md; issue 11 item 4), over real UDP on loopback:
 * - 'finish' (so `end(cb)` and pipeline()) comes only once the peer has acknowledged every byte and
 *   the FIN (RFC 9000 §3.1 Data Recvd), never when the FIN is merely queued;
 * - `await pipeline(source, stream); await conn.close()` leaves every byte with the server's
 *   application, which reads on after the close;
 * - `conn.close({ drain: true, timeout })` sends CONNECTION_CLOSE only once the streams have
 *   drained, and after `timeout` when they do not;
 * - 'stream' listeners take streams for themselves: nothing is left queued for acceptStream().
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, describe, test } from 'node:test';
import { dial, type QuicConnection, type QuicServer, type QuicStream } from '../../src/index.js';
import { clientOptions, startServer, within } from './helpers.js';

const TIMEOUT = 60_000;
const servers: QuicServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function server(options: Record<string, unknown> = {}): Promise<QuicServer> {
  const s = await startServer(options);
  servers.push(s);
  return s;
}

function connect(s: QuicServer): Promise<QuicConnection> {
  return dial({ host: '127.0.0.1', port: s.address().port }, clientOptions());
}

/** `total` bytes of a known pattern, in 64 KiB chunks (a file read from disk looks the same). */
function fileLike(total: number): Readable {
  return Readable.from(
    (function* () {
      for (let off = 0; off < total; off += 65_536) {
        const n = Math.min(65_536, total - off);
        yield Buffer.from(Uint8Array.from({ length: n }, (_, i) => ((off + i) * 31) & 0xff));
      }
    })(),
  );
}

function patternHash(total: number): string {
  const h = createHash('sha256');
  for (let off = 0; off < total; off += 65_536) {
    const n = Math.min(65_536, total - off);
    h.update(Uint8Array.from({ length: n }, (_, i) => ((off + i) * 31) & 0xff));
  }
  return h.digest('hex');
}

/** Every accepted stream's bytes (hashed) and how its reading ended. */
function hashingServer(s: QuicServer): Array<Promise<{ bytes: number; hash: string; error?: unknown }>> {
  const results: Array<Promise<{ bytes: number; hash: string; error?: unknown }>> = [];
  (async () => {
    for await (const conn of s) {
      (async () => {
        for await (const stream of conn) {
          results.push(
            (async () => {
              const h = createHash('sha256');
              let bytes = 0;
              try {
                for await (const c of stream) {
                  h.update(c);
                  bytes += c.length;
                }
                return { bytes, hash: h.digest('hex') };
              } catch (error) {
                return { bytes, hash: '', error };
              }
            })(),
          );
        }
      })();
    }
  })();
  return results;
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + TIMEOUT;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("'finish' means the peer has the data", () => {
  test("'finish' waits for the acknowledgment: not while the server has not read past its window", async () => {
    // 16 KiB of stream window: 200 KB cannot be acknowledged before the server reads.
    const s = await server({ initialMaxStreamData: 16_384, maxStreamWindow: 16_384 });
    let accepted: QuicStream | undefined;
    (async () => {
      for await (const conn of s) accepted = await conn.acceptStream();
    })();
    const conn = await connect(s);
    const st = await conn.openStream();
    let finished = false;
    st.on('finish', () => {
      finished = true;
    });
    st.end(Buffer.alloc(200_000, 9));
    await until(() => accepted !== undefined, 'server stream');
    // The server application has read nothing: the data cannot all have arrived, whatever the timing.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(finished, false, "'finish' before the peer could have the data");
    let got = 0;
    for await (const c of accepted!) got += (c as Buffer).length;
    assert.equal(got, 200_000);
    await within(
      until(() => finished, 'finish'),
      TIMEOUT,
      'finish',
    );
    await conn.close();
  });

  test('await pipeline(16 MB, stream); await conn.close(): the server application gets every byte', async () => {
    const TOTAL = 16 * 1024 * 1024;
    const s = await server();
    const results = hashingServer(s);
    const conn = await connect(s);
    const st = await conn.openStream();
    await within(pipeline(fileLike(TOTAL), st), TIMEOUT, 'pipeline');
    await conn.close();
    await until(() => results.length > 0, 'server stream');
    const r = await within(results[0]!, TIMEOUT, 'server read');
    assert.equal(r.error, undefined, String(r.error));
    assert.equal(r.bytes, TOTAL);
    assert.equal(r.hash, patternHash(TOTAL));
  });

  test('what the server acknowledged stays readable after the client closes (read only after the close)', async () => {
    const TOTAL = 300_000; // within the default 512 KiB stream window: acknowledged without any read
    const s = await server();
    const results: Array<Promise<{ bytes: number; hash: string }>> = [];
    (async () => {
      for await (const conn of s) {
        const stream = await conn.acceptStream();
        results.push(
          (async () => {
            await conn.closed; // read nothing until the connection is gone
            const h = createHash('sha256');
            let bytes = 0;
            for await (const c of stream) {
              h.update(c);
              bytes += c.length;
            }
            return { bytes, hash: h.digest('hex') };
          })(),
        );
      }
    })();
    const conn = await connect(s);
    const st = await conn.openStream();
    await within(pipeline(fileLike(TOTAL), st), TIMEOUT, 'pipeline');
    await conn.close();
    await until(() => results.length > 0, 'server stream');
    const r = await within(results[0]!, TIMEOUT, 'server read');
    assert.equal(r.bytes, TOTAL);
    assert.equal(r.hash, patternHash(TOTAL));
  });

  test('close({ drain: true }) waits for the upload to be acknowledged, even without awaiting pipeline', async () => {
    const TOTAL = 2 * 1024 * 1024;
    const s = await server();
    const results = hashingServer(s);
    const conn = await connect(s);
    const st = await conn.openStream();
    const piped = pipeline(fileLike(TOTAL), st);
    // Close right away: the stream drains first.
    await conn.close({ drain: true, timeout: TIMEOUT });
    await piped;
    const r = await within(results[0]!, TIMEOUT, 'server read');
    assert.equal(r.error, undefined, String(r.error));
    assert.equal(r.bytes, TOTAL);
    assert.equal(r.hash, patternHash(TOTAL));
  });

  test('close({ drain: true, timeout }) closes after the timeout when a stream never finishes', async () => {
    const s = await server();
    hashingServer(s);
    const conn = await connect(s);
    const st = await conn.openStream();
    st.write('never ended');
    const t0 = performance.now();
    const reason = await within(conn.close({ drain: true, timeout: 200 }), TIMEOUT, 'close');
    assert.ok(performance.now() - t0 >= 190, 'it waited for the timeout');
    assert.equal(reason.source, 'local');
  });

  test('close() options are checked', async () => {
    const s = await server();
    const conn = await connect(s);
    await assert.rejects(conn.close({ timeout: -1, drain: true }), { code: 'ERR_OUT_OF_RANGE' });
    await assert.rejects(conn.close({ drain: 'yes' } as never), { code: 'ERR_INVALID_ARG_TYPE' });
    await assert.rejects(conn.close({ code: -1 }), { code: 'ERR_QUIC_INVALID_ERROR_CODE' });
    await conn.close();
  });
});

test("streams a 'stream' listener got leave the acceptStream() queue when they close", async () => {
  const s = await server();
  let serverConn: QuicConnection | undefined;
  const seen: number[] = [];
  (async () => {
    for await (const conn of s) {
      serverConn = conn;
      conn.on('stream', (st: QuicStream) => {
        st.resume();
        st.end('ok');
        st.on('close', () => seen.push(st.id));
      });
    }
  })();
  const conn = await connect(s);
  for (let i = 0; i < 3; i++) (await conn.openStream()).end('x');
  await within(
    until(() => seen.length === 3, 'three streams closed'),
    TIMEOUT,
    'stream events',
  );
  const sc = serverConn!;
  sc.removeAllListeners('stream');
  const next = sc.acceptStream();
  (await conn.openStream()).end('y');
  const st = await within(next, TIMEOUT, 'acceptStream');
  assert.equal(st.id, 12, 'acceptStream() gives the next new stream, not a closed one a listener had');
  await conn.close();
});
