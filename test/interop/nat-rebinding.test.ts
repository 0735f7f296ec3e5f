/**
 * Interop, NAT rebinding (RFC 9000 §9.3): a quic-go 0.29 client downloads 10 MiB from a tsquic server
 * through a relay on loopback that gives the client a new source port after 2 MiB, as a NAT that
 * forgets its mapping does. The tsquic server validates the new address with PATH_CHALLENGE, quic-go
 * answers with PATH_RESPONSE (both in the server's qlog), and the file arrives whole.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DelayRelay } from '../../src/cli/delay-relay.js';
import {
  describeClientRun,
  killAllGoPeers,
  makeTempDir,
  removeDir,
  runGoClient,
  type TestPkiFiles,
  writeTestFile,
  writeTestPki,
} from './go-peers.js';
import { startTsquicHqServer } from './tsquic-peers.js';

const MiB = 1024 * 1024;

let work = '';
let pki: TestPkiFiles;
let hash = '';

before(async () => {
  work = makeTempDir();
  pki = writeTestPki(work);
  mkdirSync(join(work, 'www'));
  hash = await writeTestFile(join(work, 'www'), '10m.bin', 10 * MiB, 7);
});

after(async () => {
  await killAllGoPeers();
  if (work) removeDir(work);
});

interface QlogRecord {
  name?: string;
  data?: { new?: string; frames?: Array<{ frame_type: string }> };
}

test('quic-go client behind a rebinding NAT -> tsquic server: validated, followed, whole', {
  timeout: 90_000,
}, async (t) => {
  const qlogDir = join(work, 'qlog');
  mkdirSync(qlogDir, { recursive: true });
  const hq = await startTsquicHqServer(t, { root: join(work, 'www'), pki, qlogDir });
  const relay = await DelayRelay.start({ host: '127.0.0.1', port: hq.port }, 0);
  t.after(() => relay.close());
  let rebound = false;
  const watch = setInterval(() => {
    if (!rebound && relay.bytesToClients >= 2 * MiB) {
      rebound = true;
      relay.rebind();
    }
  }, 2);
  t.after(() => clearInterval(watch));

  const r = await runGoClient(['-ca', pki.caFile, `https://127.0.0.1:${relay.port}/10m.bin`]);
  assert.equal(r.code, 0, describeClientRun(r));
  assert.ok(rebound, 'the relay rebound during the download');
  const file = r.events.find((e) => e.event === 'file');
  assert.deepEqual([file?.bytes, file?.sha256], [10 * MiB, hash], describeClientRun(r));

  await hq.close();
  const name = readdirSync(qlogDir).find((f) => f.endsWith('_server.sqlog'));
  assert.ok(name, 'a server qlog');
  const records = readFileSync(join(qlogDir, name), 'utf8')
    .split('\x1e')
    .filter((x) => x.trim())
    .map((x) => JSON.parse(x) as QlogRecord);
  const frames = (event: string) =>
    records.filter((x) => x.name === event).flatMap((x) => (x.data?.frames ?? []).map((f) => f.frame_type));
  const states = records
    .filter((x) => x.name === 'connectivity:migration_state_updated')
    .map((x) => x.data?.new);
  assert.ok(states.includes('migration_started') && states.includes('migration_complete'), String(states));
  assert.ok(frames('transport:packet_sent').includes('path_challenge'));
  assert.ok(frames('transport:packet_received').includes('path_response'));
});
