/**
 * Issue 16: a `tsquic client` that is done does not wait out its closing period (3 PTO, RFC 9000
 * §10.2): once its CONNECTION_CLOSE is sent, the socket and timers no longer keep the process alive.
 * On an 800 ms RTT path (through the fault proxy) the closing period lasts over 2.4 s; the client
 * must have exited well before it would end.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FaultProxy } from '../fault/fault-proxy.js';
import { cleanup, makeFixture, runCli, serverArgs, startCliServer, urls } from './helpers.js';

after(cleanup);

const PROBE = fileURLToPath(new URL('./exit-clock.mjs', import.meta.url));

test('a finished client exits during its closing period, with nothing left open', {
  timeout: 90_000,
}, async () => {
  const f = makeFixture({ 'a.txt': 1000 });
  const server = await startCliServer(serverArgs(f));
  const proxy = await FaultProxy.start({
    target: { host: '127.0.0.1', port: server.port },
    up: { delay: 400 },
    down: { delay: 400 },
  });
  try {
    const qlogDir = join(f.dir, 'qlog');
    const out = f.out();
    const r = await runCli(
      ['client', '--ca', f.ca, '--output', out, '--qlog-dir', qlogDir, ...urls(proxy.port, 'a.txt')],
      { preload: [PROBE], timeoutMs: 60_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readFileSync(join(out, 'a.txt')), f.files.get('a.txt'));
    const line = r.stderr.split('\n').find((l) => l.startsWith('exit-clock: '));
    assert.ok(line, r.stderr);
    const exit = JSON.parse(line.slice('exit-clock: '.length)) as { at: number; alive: string[] };
    assert.deepEqual(exit.alive, [], 'nothing kept the process alive');

    // When the client sent its CONNECTION_CLOSE, and the RTT it measured (from its qlog).
    const [file] = readdirSync(qlogDir).filter((n) => n.endsWith('_client.sqlog'));
    assert.ok(file);
    const records = readFileSync(join(qlogDir, file), 'utf8')
      .split('\x1e')
      .filter((s) => s.trim())
      .map((s) => JSON.parse(s) as Record<string, unknown>);
    const reference = (records[0] as { trace: { common_fields: { reference_time: number } } }).trace
      .common_fields.reference_time;
    const close = records.find(
      (rec) => rec.name === 'transport:packet_sent' && JSON.stringify(rec.data).includes('connection_close'),
    ) as { time: number } | undefined;
    assert.ok(close, 'a CONNECTION_CLOSE in the qlog');
    let smoothed = 0;
    for (const rec of records) {
      const d = rec.data as { smoothed_rtt?: number } | undefined;
      if (rec.name === 'recovery:metrics_updated' && d?.smoothed_rtt !== undefined) smoothed = d.smoothed_rtt;
    }
    assert.ok(smoothed >= 700, `smoothed RTT ${smoothed} ms`);
    // The closing period is 3 PTO > 3 * smoothed RTT (> 2.1 s); the CLI's own fallback exit comes 3 s
    // after it is done. A client that waited for either would exit long after this bound.
    const afterClose = exit.at - (reference + close.time);
    assert.ok(
      afterClose >= 0 && afterClose < 1500,
      `exited ${afterClose.toFixed(0)} ms after its CONNECTION_CLOSE`,
    );
  } finally {
    proxy.close();
    await server.stop();
  }
});
