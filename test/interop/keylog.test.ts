/**
 * Key-log check, both directions: one transfer between tsquic and quic-go 0.29 is captured on loopback
 * with tshark while tsquic writes an NSS key log (the `keylog` option); tshark must then decrypt every
 * QUIC packet of the capture with tsquic's key log alone (Initial, Handshake and 1-RTT, across key
 * updates) and find no malformed packet and no error. The secrets tsquic logs must also equal, line for
 * line, those quic-go logs for the same connection.
 *
 * Needs tshark (Debian package tshark; .ci/run installs it) and permission to capture on `lo` (root, or
 * dumpcap with CAP_NET_RAW). Without either the tests fail with an explanation; they never skip.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dial } from '../../src/index.js';
import {
  describeClientRun,
  killAllGoPeers,
  makeTempDir,
  removeDir,
  runGoClient,
  startGoServerFor,
  type TestPkiFiles,
  writeTestFile,
  writeTestPki,
} from './go-peers.js';
import { Capture, dissect, run } from './tshark-capture.js';
import { clientOptionsFor, fetchAll, startTsquicHqServer, until, within } from './tsquic-peers.js';

const TEST_TIMEOUT = 90_000;
const INSTALL_HINT = 'install it with `apt-get install tshark` (.ci/run does this)';
const FILES: Array<[string, number]> = [
  ['/small.txt', 13],
  ['/1m.bin', 1024 * 1024],
];

let work = '';
let root = '';
let pki: TestPkiFiles;
const hashes = new Map<string, string>();

before(async () => {
  work = makeTempDir('tsquic-keylog-');
  root = join(work, 'www');
  await mkdir(root);
  pki = writeTestPki(work);
  for (const [path, size] of FILES) hashes.set(path, await writeTestFile(root, path.slice(1), size, size));
});

after(async () => {
  await killAllGoPeers();
  if (work) removeDir(work);
});

// ---------------------------------------------------------------------------------------------------
// tshark

/** Fails the calling test with an install hint when tshark cannot be run. */
async function requireTshark(): Promise<void> {
  const r = await run('tshark', ['--version'], 30_000);
  if (r.code !== 0) {
    throw new Error(
      `tshark is needed for the key-log check but could not be run (${r.stderr.trim()}): ${INSTALL_HINT}`,
    );
  }
}

interface Decrypted {
  datagrams: number;
  oneRtt: number;
  frameTypes: Set<number>;
  keyPhases: Set<string>;
  streamBytesToClient: number;
}

/**
 * Asserts that tshark decrypted every QUIC packet on `port` with `keylog` and found nothing malformed,
 * and returns what it saw. `port` is the server's: STREAM data from it goes to the client.
 */
async function assertDecrypts(file: string, keylog: string, port: number): Promise<Decrypted> {
  const failures = await dissect(
    file,
    keylog,
    port,
    'quic.decryption_failed || quic.remaining_payload || _ws.malformed || _ws.expert.severity >= error',
    ['frame.number', '_ws.expert.message'],
  );
  assert.deepEqual(failures, [], 'tshark reported undecryptable or malformed packets');
  const rows = await dissect(file, keylog, port, '', [
    'frame.number',
    'udp.srcport',
    'quic.short',
    'quic.frame_type',
    'quic.key_phase',
    // The data itself (hex): STREAM frames filling a packet carry no length field.
    'quic.stream_data',
  ]);
  const result: Decrypted = {
    datagrams: rows.length,
    oneRtt: 0,
    frameTypes: new Set(),
    keyPhases: new Set(),
    streamBytesToClient: 0,
  };
  for (const [frame, srcPort, short, types, phases, data] of rows) {
    assert.notEqual(types, '', `frame ${frame}: no QUIC frame was decrypted`);
    for (const ft of types!.split(',')) result.frameTypes.add(Number(ft));
    if (short) result.oneRtt++;
    for (const p of phases ? phases.split(',') : []) result.keyPhases.add(p);
    if (Number(srcPort) === port && data) {
      for (const hex of data.split(',')) result.streamBytesToClient += hex.length / 2;
    }
  }
  return result;
}

/** Checks what a decrypted transfer of FILES must show. */
function assertTransferVisible(d: Decrypted): void {
  const fileBytes = FILES.reduce((sum, [, size]) => sum + size, 0);
  assert.ok(d.oneRtt >= 500, `only ${d.oneRtt} 1-RTT datagrams captured`);
  assert.ok(d.frameTypes.has(0x06), 'CRYPTO frames decrypted');
  assert.ok(d.frameTypes.has(0x1e), 'HANDSHAKE_DONE decrypted');
  assert.ok(
    [...d.frameTypes].some((ft) => ft >= 0x08 && ft <= 0x0f),
    'STREAM frames decrypted',
  );
  assert.ok(d.streamBytesToClient >= fileBytes, `server STREAM data ${d.streamBytesToClient} < ${fileBytes}`);
}

// ---------------------------------------------------------------------------------------------------
// Key logs

const TRAFFIC_LABELS = [
  'CLIENT_HANDSHAKE_TRAFFIC_SECRET',
  'SERVER_HANDSHAKE_TRAFFIC_SECRET',
  'CLIENT_TRAFFIC_SECRET_0',
  'SERVER_TRAFFIC_SECRET_0',
];

/** label -> secret for every client random in an NSS key log. */
function parseKeyLog(text: string): Map<string, Map<string, string>> {
  const byRandom = new Map<string, Map<string, string>>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+) ([0-9a-f]{64}) ([0-9a-f]+)$/.exec(line.trim());
    if (!m) continue;
    const entry = byRandom.get(m[2]!) ?? new Map<string, string>();
    entry.set(m[1]!, m[3]!);
    byRandom.set(m[2]!, entry);
  }
  return byRandom;
}

/** Waits until `file` holds the four traffic secrets of a connection (key logs are written async). */
async function readKeyLog(file: string): Promise<Map<string, Map<string, string>>> {
  const deadline = performance.now() + 5000;
  for (;;) {
    const parsed = parseKeyLog(await readFile(file, 'utf8').catch(() => ''));
    if ([...parsed.values()].some((e) => TRAFFIC_LABELS.every((l) => e.has(l)))) return parsed;
    if (performance.now() > deadline) throw new Error(`the four traffic secrets did not appear in ${file}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** tsquic's secrets for the one connection equal quic-go's, label for label. */
function assertSameSecrets(
  tsquic: Map<string, Map<string, string>>,
  go: Map<string, Map<string, string>>,
): void {
  assert.equal(tsquic.size, 1, 'tsquic logged one connection');
  const [random, ours] = [...tsquic.entries()][0]!;
  const theirs = go.get(random);
  assert.ok(theirs, `quic-go logged no secrets for client random ${random}`);
  for (const label of TRAFFIC_LABELS) {
    assert.match(ours.get(label) ?? '', /^[0-9a-f]{64}$/, `tsquic ${label}`);
    assert.equal(ours.get(label), theirs.get(label), label);
  }
}

// ---------------------------------------------------------------------------------------------------

describe('interop: key log check with tshark', () => {
  test("tsquic client -> quic-go server: the capture decrypts with tsquic's key log", {
    timeout: TEST_TIMEOUT,
  }, async (t) => {
    await requireTshark();
    const dir = join(work, 'client');
    await mkdir(dir);
    const goKeylog = join(dir, 'go.keylog');
    const keylog = join(dir, 'tsquic.keylog');
    const pcap = join(dir, 'capture.pcapng');
    const server = await startGoServerFor(t, { root, pki, keylog: goKeylog });
    const capture = await Capture.start(t, [server.address.port], pcap);
    // tsquic initiates key updates: the capture spans several key phases.
    const conn = await within(
      dial(server.address, clientOptionsFor(pki, t, { keylog, keyUpdateInterval: 8 })),
      10_000,
      'dial',
    );
    const fetched = await within(
      fetchAll(
        conn,
        FILES.map(([p]) => p),
      ),
      30_000,
      'fetch',
    );
    for (const [path, f] of fetched) assert.equal(f.sha256, hashes.get(path), path);
    const keyUpdates = conn.stats().keyUpdates;
    await within(conn.close(), 20_000, 'close');
    await server.waitFor((e) => e.event === 'closed');
    await capture.stop();

    assertSameSecrets(await readKeyLog(keylog), await readKeyLog(goKeylog));
    const seen = await assertDecrypts(pcap, keylog, server.address.port);
    assertTransferVisible(seen);
    assert.ok(keyUpdates >= 1, `tsquic made ${keyUpdates} key updates`);
    assert.deepEqual([...seen.keyPhases].sort(), ['0', '1'], 'both key phases decrypted');
  });

  test("quic-go client -> tsquic server: the capture decrypts with tsquic's key log", {
    timeout: TEST_TIMEOUT,
  }, async (t) => {
    await requireTshark();
    const dir = join(work, 'server');
    await mkdir(dir);
    const goKeylog = join(dir, 'go.keylog');
    const keylog = join(dir, 'tsquic.keylog');
    const pcap = join(dir, 'capture.pcapng');
    const hq = await startTsquicHqServer(t, { root, pki, keylog });
    const capture = await Capture.start(t, [hq.port], pcap);
    // quic-go initiates key updates: tsquic must follow them.
    const r = await runGoClient([
      '-ca',
      pki.caFile,
      '-keylog',
      goKeylog,
      '-key-update',
      '100',
      ...FILES.map(([p]) => hq.url(p)),
    ]);
    assert.equal(r.code, 0, describeClientRun(r));
    const files = r.events.filter((e) => e.event === 'file');
    assert.equal(files.length, FILES.length);
    for (const f of files) assert.equal(f.sha256, hashes.get(String(f.path)), String(f.path));
    const [served] = await hq.waitForConnections(1);
    await until(() => served!.closeReason !== undefined, 5000, 'the connection to close');
    await capture.stop();

    assertSameSecrets(await readKeyLog(keylog), await readKeyLog(goKeylog));
    const seen = await assertDecrypts(pcap, keylog, hq.port);
    assertTransferVisible(seen);
    assert.ok(served!.conn.stats().keyUpdates >= 1);
    assert.deepEqual([...seen.keyPhases].sort(), ['0', '1'], 'both key phases decrypted');
  });
});
