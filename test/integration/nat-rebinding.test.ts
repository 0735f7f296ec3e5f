/**
 * NAT rebinding over real UDP (RFC 9000 §9.3): client and server talk through a relay on loopback
 * that gives the client a new source port in the middle of a download, as a NAT that forgets its
 * mapping does. The server validates the new address (PATH_CHALLENGE/PATH_RESPONSE, seen in both
 * qlogs), moves there, and the download completes byte-exact.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DelayRelay } from '../../src/cli/delay-relay.js';
import { dial, type QuicConnection } from '../../src/index.js';
import { clientOptions, serve, startServer, within } from './helpers.js';

const TOTAL = 8 * 1024 * 1024;
const REBIND_AFTER = 2 * 1024 * 1024;
const TIMEOUT = 60_000;

function pattern(offset: number, length: number): Buffer {
  const b = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) b[i] = ((offset + i) * 31 + ((offset + i) >> 11)) & 0xff;
  return b;
}

interface QlogRecord {
  name?: string;
  data?: { new?: string; path_remote?: { port_v4?: number }; frames?: Array<{ frame_type: string }> };
}

function records(dir: string, role: 'client' | 'server'): QlogRecord[] {
  const file = readdirSync(dir).find((f) => f.endsWith(`_${role}.sqlog`));
  assert.ok(file, `a ${role} qlog`);
  return readFileSync(join(dir, file), 'utf8')
    .split('\x1e')
    .filter((r) => r.trim())
    .map((r) => JSON.parse(r) as QlogRecord);
}

function framesOf(recs: QlogRecord[], name: string): string[] {
  return recs.filter((r) => r.name === name).flatMap((r) => (r.data?.frames ?? []).map((f) => f.frame_type));
}

test('the client\u2019s port changes mid-download: validated, followed, byte-exact (RFC 9000 §9.3)', {
  timeout: 2 * TIMEOUT,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsquic-nat-'));
  const server = await startServer({ qlogDir: dir });
  const relay = await DelayRelay.start({ host: '127.0.0.1', port: server.address().port }, 0);
  let conn: QuicConnection | undefined;
  t.after(async () => {
    await conn?.close();
    await server.close();
    relay.close();
    rmSync(dir, { recursive: true, force: true });
  });
  let serverConn: QuicConnection | undefined;
  const errors = serve(server, async (conn) => {
    serverConn = conn;
    for await (const s of conn) {
      s.on('error', () => {});
      s.resume();
      for (let off = 0; off < TOTAL; off += 64 * 1024) {
        if (!s.write(pattern(off, Math.min(64 * 1024, TOTAL - off)))) {
          await new Promise((r) => s.once('drain', r));
        }
      }
      s.end();
    }
  });

  conn = await within(
    dial({ host: '127.0.0.1', port: relay.port }, clientOptions({ qlogDir: dir })),
    TIMEOUT,
    'handshake',
  );
  let before: number | undefined;
  const stream = await conn.openStream();
  stream.end('GET');
  let received = 0;
  let mismatches = 0;
  let rebound = false;
  await within(
    (async () => {
      for await (const chunk of stream) {
        const b = chunk as Buffer;
        before ??= serverConn?.remoteAddress.port;
        if (!pattern(received, b.length).equals(b)) mismatches++;
        received += b.length;
        if (!rebound && received >= REBIND_AFTER) {
          rebound = true;
          // At the client's next datagram: rebound while the client had nothing left to send, the
          // server would never hear from the new port (see test/interop/nat-rebinding.test.ts).
          relay.rebindAtNextDatagram();
        }
      }
    })(),
    TIMEOUT,
    'download',
  );
  assert.equal(received, TOTAL);
  assert.equal(relay.rebinds, 1);
  assert.equal(mismatches, 0);
  const after = serverConn?.remoteAddress.port;
  assert.ok(before !== undefined && after !== undefined && before !== after, `port ${before} -> ${after}`);
  await conn.close();
  await server.close();
  assert.deepEqual(errors, []);
  // server.close() resolves with the server's qlog on disk; the client's is written asynchronously.
  await within(
    (async () => {
      const complete = () => {
        try {
          return framesOf(records(dir, 'client'), 'transport:packet_sent').includes('connection_close');
        } catch {
          return false; // a record half written
        }
      };
      while (!complete()) await new Promise((r) => setTimeout(r, 10));
    })(),
    TIMEOUT,
    'the client qlog up to its CONNECTION_CLOSE',
  );

  const s = records(dir, 'server');
  const c = records(dir, 'client');
  const migration = s
    .filter((r) => r.name === 'connectivity:migration_state_updated')
    .map((r) => [r.data?.new, r.data?.path_remote?.port_v4]);
  assert.deepEqual(migration.slice(0, 2), [
    ['migration_started', after],
    ['probing_started', after],
  ]);
  assert.ok(
    migration.some(([state, port]) => state === 'migration_complete' && port === after),
    JSON.stringify(migration),
  );
  assert.ok(framesOf(s, 'transport:packet_sent').includes('path_challenge'));
  assert.ok(framesOf(c, 'transport:packet_received').includes('path_challenge'));
  assert.ok(framesOf(c, 'transport:packet_sent').includes('path_response'));
  assert.ok(framesOf(s, 'transport:packet_received').includes('path_response'));
});
