/**
 * A peer that never reads, over real UDP (issue 10, defect 5): 100 streams each asked to carry
 * 50 MB. The server's writes apply backpressure (write() returns false, 'drain' later) once the
 * connection holds connectionSendBufferSize bytes, however many streams write; what it holds for
 * that peer stays within the budget, and the streams resume when the peer reads.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { dial, type QuicServer, type QuicStream } from '../../src/index.js';
import { clientOptions, serve, startServer, within } from './helpers.js';

const servers: QuicServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

const MiB = 1024 * 1024;
const STREAMS = 100;
const PER_STREAM = 50 * MiB;

test('100 streams x 50 MB to a peer that never reads: the server holds at most connectionSendBufferSize', async () => {
  const budget = 2 * MiB;
  // Per-stream buffers above the ceiling: the ceiling is what holds (below it the budget follows
  // what the path carries, at least sendBufferSize; send-budget.ts).
  const s = await startServer({
    connectionSendBufferSize: budget,
    sendBufferSize: 2 * budget,
    maxStreamsBidi: STREAMS,
  });
  servers.push(s);
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const blocked = new Set<QuicStream>();
  let serverConn: import('../../src/index.js').QuicConnection | undefined;
  let maxBuffered = 0;
  let onBlocked: (() => void) | undefined;
  serve(s, async (conn) => {
    serverConn = conn;
    for await (const st of conn) {
      st.on('error', () => {});
      let written = 0;
      const pump = () => {
        blocked.delete(st);
        while (written < PER_STREAM) {
          written += chunk.length;
          if (!st.write(chunk)) {
            blocked.add(st);
            maxBuffered = Math.max(maxBuffered, conn.stats().sendBufferedBytes);
            st.once('drain', pump);
            onBlocked?.();
            return;
          }
        }
        st.end();
      };
      pump();
    }
  });
  const conn = await dial(
    { host: '127.0.0.1', port: s.address().port },
    clientOptions({ maxStreamsBidi: STREAMS }),
  );
  const mine: QuicStream[] = [];
  for (let i = 0; i < STREAMS; i++) {
    const st = await conn.openStream();
    st.write(Buffer.from('GET'));
    mine.push(st);
  }
  // Wait until every server stream is blocked (backpressure, not a timer).
  await within(
    new Promise<void>((resolve) => {
      onBlocked = () => {
        if (blocked.size === STREAMS) resolve();
      };
      onBlocked();
    }),
    30_000,
    'all 100 server streams blocked',
  );
  onBlocked = undefined;
  // Let whatever is in flight settle; the connection must not take more meanwhile.
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 25));
    maxBuffered = Math.max(maxBuffered, serverConn!.stats().sendBufferedBytes);
  }
  console.log(
    `# server holds at most ${(maxBuffered / MiB).toFixed(2)} MiB for 100 blocked streams (budget 2 MiB)`,
  );
  assert.ok(maxBuffered <= budget, `held ${maxBuffered} > ${budget}`);
  assert.ok(maxBuffered > budget / 2, `the budget is used: ${maxBuffered}`);
  assert.equal(blocked.size, STREAMS);

  // The peer starts reading one stream: its server stream gets 'drain' and goes on.
  const reader = mine[0]!;
  let got = 0;
  reader.on('data', (d: Buffer) => {
    got += d.length;
  });
  await within(
    new Promise<void>((resolve) => {
      const check = () => (got > 4 * MiB ? resolve() : setTimeout(check, 10));
      check();
    }),
    30_000,
    'the reading stream makes progress',
  );
  assert.ok(serverConn!.stats().sendBufferedBytes <= budget);
  await conn.close();
});

test('maxConnections over real UDP: the next client is refused with CONNECTION_REFUSED (0x2), not a timeout', async () => {
  const { ConnectionClosedError } = await import('../../src/index.js');
  const s = await startServer({ maxConnections: 1 });
  servers.push(s);
  serve(s, () => {});
  const first = await dial({ host: '127.0.0.1', port: s.address().port }, clientOptions());
  const err = await within(
    dial({ host: '127.0.0.1', port: s.address().port }, clientOptions()).then(
      () => undefined,
      (e: unknown) => e,
    ),
    10_000,
    'the refused dial settles',
  );
  assert.ok(err instanceof ConnectionClosedError, String(err));
  assert.equal(err.errorCode, 0x2);
  assert.equal(err.remote, true);
  assert.equal(err.application, false);
  await first.close();
});
