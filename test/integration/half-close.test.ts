/**
 * One stream, two directions (docs/streams.md; issue 11 item 3), over real UDP on loopback. QUIC
 * ends each direction on its own (RFC 9000 §3); the Duplex must too:
 * - the end of a `for await` loop ends reading only, so the usual echo delivers every byte;
 * - a peer's RESET_STREAM ends reading only: the application still writes, or answers with its own
 *   code, and that code is the one the peer receives;
 * - a peer's STOP_SENDING ends writing only: reading goes on to the last byte, and we send no
 *   STOP_SENDING of our own;
 * - destroy() after end() aborts nothing: every byte and the FIN arrive;
 * - implicit aborts (destroy(), a loop left early) carry the `defaultStreamErrorCode` option.
 * The codes are asserted where the peer sees them: the StreamResetError its application gets.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import {
  dial,
  type QuicConnection,
  type QuicServer,
  type QuicStream,
  QuicUsageError,
  StreamResetError,
} from '../../src/index.js';
import { type ProcessErrorWatch, settleTicks, watchProcessErrors } from '../sim/process-errors.js';
import { clientOptions, startServer, within } from './helpers.js';

const TIMEOUT = 15_000;
const servers: QuicServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** A server whose application hands every stream to `handler`; outcomes are kept in order. */
async function handlerServer(
  handler: (s: QuicStream) => Promise<unknown>,
  options: Record<string, unknown> = {},
): Promise<{ port: number; outcomes: Array<Promise<unknown>> }> {
  const server = await startServer(options);
  servers.push(server);
  const outcomes: Array<Promise<unknown>> = [];
  (async () => {
    for await (const conn of server) {
      (async () => {
        for await (const stream of conn) outcomes.push(handler(stream).catch((e: unknown) => e));
      })();
    }
  })();
  return { port: server.address().port, outcomes };
}

function connect(port: number, extra: Record<string, unknown> = {}): Promise<QuicConnection> {
  return dial({ host: '127.0.0.1', port }, clientOptions(extra));
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + TIMEOUT;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Read with a for-await loop; resolves with the bytes, or with the error the loop threw. */
async function readOutcome(s: QuicStream): Promise<Buffer | unknown> {
  const chunks: Buffer[] = [];
  try {
    for await (const c of s) chunks.push(c);
    return Buffer.concat(chunks);
  } catch (e) {
    return e;
  }
}

function sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

let watch: ProcessErrorWatch;

describe('each direction of a stream ends on its own', () => {
  test('for await (const c of s) s.write(c); s.end(): every byte comes back, nothing is reset', async () => {
    watch = watchProcessErrors();
    const srv = await handlerServer(async (s) => {
      for await (const c of s) s.write(c);
      s.end();
      await new Promise<void>((resolve) => s.once('finish', () => resolve()));
      return s.errored;
    });
    const conn = await connect(srv.port);
    const payload = randomBytes(300_000);
    const s = await conn.openStream();
    s.end(payload);
    const back = await within(readOutcome(s), TIMEOUT, 'echo');
    assert.ok(Buffer.isBuffer(back), String(back));
    assert.equal(back.length, payload.length);
    assert.equal(sha(back), sha(payload));
    assert.equal(
      await within(srv.outcomes[0]!, TIMEOUT, 'server outcome'),
      null,
      'the server stream ended without error',
    );
    await conn.close();
    await settleTicks();
    assert.deepEqual(watch.stop(), []);
  });

  test("the peer's RESET_STREAM ends reading only: the application writes on, then answers with its own code", async () => {
    const srv = await handlerServer(async (s) => {
      const read = await readOutcome(s);
      // Reading failed with the peer's code; writing still works...
      await new Promise<void>((resolve, reject) =>
        s.write('still writing', (e) => (e ? reject(e) : resolve())),
      );
      // ...and the application resets it with a code of its choice.
      s.cancelWrite(0x99);
      return read;
    });
    const conn = await connect(srv.port);
    const s = await conn.openStream();
    s.write(Buffer.alloc(2000, 1));
    await until(() => srv.outcomes.length > 0, 'server stream');
    s.cancelWrite(7);
    const chunks: Buffer[] = [];
    let err: unknown;
    try {
      for await (const c of s) chunks.push(c);
    } catch (e) {
      err = e;
    }
    const serverRead = await within(srv.outcomes[0]!, TIMEOUT, 'server');
    assert.ok(serverRead instanceof StreamResetError, String(serverRead));
    assert.deepEqual([serverRead.errorCode, serverRead.kind], [7, 'reset']);
    // (What the server wrote before its reset may or may not arrive: RFC 9000 §3.2 lets a reset discard it.)
    assert.ok('still writing'.startsWith(Buffer.concat(chunks).toString()));
    assert.ok(err instanceof StreamResetError, String(err));
    assert.deepEqual(
      [err.errorCode, err.kind],
      [0x99, 'reset'],
      'the code on the wire is the one the application chose',
    );
    await conn.close();
  });

  test("the peer's RESET_STREAM ends reading only: the application's own answer and FIN arrive in full", async () => {
    const srv = await handlerServer(async (s) => {
      const read = await readOutcome(s);
      s.end('complete answer');
      return read;
    });
    const conn = await connect(srv.port);
    const s = await conn.openStream();
    s.write('question');
    await until(() => srv.outcomes.length > 0, 'server stream');
    s.cancelWrite(5);
    const back = await within(readOutcome(s), TIMEOUT, 'answer');
    assert.ok(Buffer.isBuffer(back), String(back));
    assert.equal(back.toString(), 'complete answer');
    const serverRead = await within(srv.outcomes[0]!, TIMEOUT, 'server');
    assert.ok(serverRead instanceof StreamResetError && serverRead.errorCode === 5, String(serverRead));
    await conn.close();
  });

  test("the peer's STOP_SENDING ends writing only: reading goes on to the last byte, no STOP_SENDING back", async () => {
    const srv = await handlerServer(async (s) => {
      let n = 0;
      const writeErrors: unknown[] = [];
      const record = (e: Error | null | undefined) => {
        if (e) writeErrors.push(e);
      };
      for await (const c of s) {
        // First 2 MB, more than the send buffer: that write is still pending at STOP_SENDING.
        if (n === 0) s.write(Buffer.alloc(2_000_000, 5), record);
        n += c.length;
        s.write(c, record);
      }
      s.end();
      return { n, writeErrors };
    });
    const conn = await connect(srv.port);
    const s = await conn.openStream();
    s.write(Buffer.alloc(1005, 2));
    // Wait until some echo came back: the server is writing.
    await new Promise<void>((resolve) => s.once('readable', () => resolve()));
    s.cancelRead(8);
    const finished = new Promise<unknown>((resolve) => {
      s.once('finish', () => resolve('finished'));
      s.once('error', (e) => resolve(e));
    });
    for (let i = 0; i < 4; i++) s.write(Buffer.alloc(1000, 3));
    s.end();
    // Our writing completes: the server read everything and stopped nothing.
    assert.equal(await within(finished, TIMEOUT, 'finish'), 'finished');
    const out = (await within(srv.outcomes[0]!, TIMEOUT, 'server')) as { n: number; writeErrors: unknown[] };
    assert.equal(out.n, 5005, 'the server read every byte');
    assert.ok(out.writeErrors.length > 0, 'later writes failed');
    const e = out.writeErrors[0];
    assert.ok(e instanceof StreamResetError, String(e));
    assert.deepEqual([e.errorCode, e.kind], [8, 'stop-sending']);
    await conn.close();
  });

  test('destroy() right after end() aborts nothing: every byte and the FIN arrive', async () => {
    const srv = await handlerServer(async (s) => {
      s.end();
      return readOutcome(s);
    });
    const conn = await connect(srv.port);
    // More than the 1 MiB send buffer in one write: _final has not run when destroy() comes.
    const payload = randomBytes(1_500_000);
    const s = await conn.openStream();
    s.write(payload);
    s.end();
    s.destroy();
    const got = await within(
      srv.outcomes[0] ?? until(() => srv.outcomes.length > 0, 'stream').then(() => srv.outcomes[0]),
      TIMEOUT,
      'server read',
    );
    assert.ok(Buffer.isBuffer(got), `the server got ${String(got)}`);
    assert.equal(sha(got), sha(payload));
    await conn.close();
  });

  test('implicit aborts carry defaultStreamErrorCode: destroy() and a for-await loop left early', async () => {
    const srv = await handlerServer(async (s) => {
      if (s.id === 0) return readOutcome(s);
      // Stream 4: write until the client's STOP_SENDING shows in a write callback.
      for (let i = 0; i < 10_000; i++) {
        const e = await new Promise<Error | null | undefined>((resolve) =>
          s.write(Buffer.alloc(4096, 4), resolve),
        );
        if (e) return e;
      }
      return 'never stopped';
    });
    const conn = await connect(srv.port, { defaultStreamErrorCode: 0x42 });
    const a = await conn.openStream();
    a.write('some data, then destroy() without end()');
    await until(() => srv.outcomes.length > 0, 'server stream 0');
    a.destroy();
    const readA = await within(srv.outcomes[0]!, TIMEOUT, 'stream 0');
    assert.ok(readA instanceof StreamResetError, String(readA));
    assert.deepEqual([readA.errorCode, readA.kind], [0x42, 'reset']);

    const b = await conn.openStream();
    b.write('go');
    for await (const _ of b) break;
    const writeB = await within(
      until(() => srv.outcomes.length > 1, 'server stream 4').then(() => srv.outcomes[1]),
      TIMEOUT,
      'stream 4',
    );
    assert.ok(writeB instanceof StreamResetError, String(writeB));
    assert.deepEqual([writeB.errorCode, writeB.kind], [0x42, 'stop-sending']);
    // Leaving the loop ended reading only: the stream still writes.
    assert.equal(b.destroyed, false);
    assert.equal(b.writable, true);
    await conn.close();
  });

  test('write() and end() on a closed stream: a typed QuicUsageError ERR_STREAM_DESTROYED, nothing emitted', async () => {
    const srv = await handlerServer(async (s) => readOutcome(s));
    const conn = await connect(srv.port);
    const s = await conn.openStream();
    s.destroy();
    const seen: unknown[] = [];
    const onWrite = new Promise<unknown>((resolve) => s.write('late', resolve));
    const onEnd = new Promise<unknown>((resolve) => s.end(resolve));
    for (const err of [
      await within(onWrite, TIMEOUT, 'write callback'),
      await within(onEnd, TIMEOUT, 'end callback'),
    ]) {
      assert.ok(err instanceof QuicUsageError, String(err));
      assert.equal(err.code, 'ERR_STREAM_DESTROYED');
      seen.push(err);
    }
    assert.equal(seen.length, 2);
    await conn.close();
  });

  test('defaultStreamErrorCode is validated like every option', async () => {
    await assert.rejects(connect(1, { defaultStreamErrorCode: -1 }), {
      name: 'RangeError',
      code: 'ERR_OUT_OF_RANGE',
    });
    await assert.rejects(connect(1, { defaultStreamErrorCode: 1.5 }), {
      name: 'RangeError',
      code: 'ERR_OUT_OF_RANGE',
    });
    await assert.rejects(connect(1, { defaultStreamErrorCode: '7' }), {
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_TYPE',
    });
    await assert.rejects(startServer({ defaultStreamErrorCode: -1 } as Record<string, unknown>), {
      code: 'ERR_OUT_OF_RANGE',
    });
  });
});
