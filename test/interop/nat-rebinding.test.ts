/**
 * Interop, NAT rebinding (RFC 9000 §9.3): a quic-go 0.29 client downloads 10 MiB from a tsquic server
 * through a relay on loopback that gives the client a new source port after 2 MiB, as a NAT that
 * forgets its mapping does. The tsquic server validates the new address with PATH_CHALLENGE, quic-go
 * answers with PATH_RESPONSE (both in the server's qlog), and the file arrives whole.
 *
 * The mapping is forgotten at the client's first datagram after 2 MiB, not at an arbitrary moment:
 * forgotten while the client had acknowledged everything it had received, with the server's next
 * packets on their way to the old port, nothing would ever come from the new one (quic-go 0.29 sends
 * no keep-alive and had nothing in flight), and the client would give up at its idle timeout with
 * "no recent network activity", whatever the server does. Under load that happened in some runs:
 * the server's qlog showed no datagram received after the rebinding and the relay none from the
 * client.
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
  // TSQUIC_KEEP_WORK=1 keeps the qlog, the PKI and the file for a look after a failure.
  if (work && !process.env.TSQUIC_KEEP_WORK) removeDir(work);
  else if (work) console.log(`# kept ${work}`);
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
  let armed = false;
  const watch = setInterval(() => {
    if (!armed && relay.bytesToClients >= 2 * MiB) {
      armed = true;
      relay.rebindAtNextDatagram();
    }
  }, 2);
  t.after(() => clearInterval(watch));

  const r = await runGoClient(['-ca', pki.caFile, `https://127.0.0.1:${relay.port}/10m.bin`]);
  assert.equal(r.code, 0, describeClientRun(r));
  assert.equal(relay.rebinds, 1, 'the relay rebound during the download');
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
