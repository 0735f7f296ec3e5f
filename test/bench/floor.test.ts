/**
 * bench/floor.ts (the per-packet floor of issue 13) in a tiny bounded mode: every step is measured
 * (a positive, finite CPU time), the per-packet floors are the documented sums of the steps, the
 * quic-go column comes from a compare JSON or from a run of quic-go 0.29 itself, and `npm run bench
 * -- --only floor` prints it. The figures themselves are not checked (no timed assertions).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { formatFloor, PAYLOAD_PER_PACKET, run } from '../../bench/floor.js';
import { runTsx } from '../support/child-process.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dir = mkdtempSync(join(tmpdir(), 'tsquic-floor-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('floor: every step measured, the floors are their documented sums, quic-go from a compare JSON', async () => {
  const json = join(dir, 'compare.json');
  writeFileSync(
    json,
    JSON.stringify({
      rows: [
        { key: 'cpu-upload-client', cells: { 'quic-go': { median: 10.5 }, tsquic: { median: 23 } } },
        { key: 'cpu-upload-server', cells: { 'quic-go': { median: 7.5 }, tsquic: { median: 17 } } },
        { key: 'cpu-download-client', cells: { 'quic-go': { median: 8 }, tsquic: { median: 24 } } },
        { key: 'cpu-download-server', cells: { 'quic-go': { median: 9.9 }, tsquic: { median: 19 } } },
      ],
    }),
  );
  const r = await run({ durationMs: 20, datagrams: 2000, ackRatio: 0.25, quicGo: { compareJson: json } });
  const s = r.steps;
  for (const [name, v] of Object.entries(s)) assert.ok(Number.isFinite(v) && v > 0, `${name}: ${v}`);
  assert.ok(s.deliveredData <= 1 && s.deliveredAck <= 1);
  const sender = s.sealData + s.hp + s.sendData + 0.25 * (s.recvAck + s.openAck + s.hp);
  const receiver = s.recvData + s.openData + s.hp + 0.25 * (s.sealAck + s.hp + s.sendAck);
  assert.equal(r.senderUs, sender);
  assert.equal(r.receiverUs, receiver);
  assert.equal(PAYLOAD_PER_PACKET, 1452 - 11 - 16 - 8);
  assert.equal(r.senderSPerGiB, (sender / 1e6) * (1024 ** 3 / PAYLOAD_PER_PACKET));
  assert.equal(r.receiverSPerGiB, (receiver / 1e6) * (1024 ** 3 / PAYLOAD_PER_PACKET));
  // The same sums with the WebAssembly AEAD and ChaCha20 header protection.
  const h = s.hpChaCha;
  const wasmSender = s.wasmSealData + h + s.sendData + 0.25 * (s.recvAck + s.wasmOpenAck + h);
  const wasmReceiver = s.recvData + s.wasmOpenData + h + 0.25 * (s.wasmSealAck + h + s.sendAck);
  assert.equal(r.wasmSenderUs, wasmSender);
  assert.equal(r.wasmReceiverUs, wasmReceiver);
  assert.equal(r.wasmSenderSPerGiB, (wasmSender / 1e6) * (1024 ** 3 / PAYLOAD_PER_PACKET));
  assert.deepEqual(r.quicGo, { source: json, senderSPerGiB: 10.5, receiverSPerGiB: 7.5 });
  // A download's sender is quic-go's server, its receiver the client.
  assert.deepEqual(r.quicGoDownload, { source: json, senderSPerGiB: 9.9, receiverSPerGiB: 8 });
  const text = formatFloor(r);
  assert.match(text, /seal 1452 B .* open 1452 B .* header protection/);
  assert.match(text, /WebAssembly ChaCha20-Poly1305 instead[^\n]*\n {2}seal 1452 B .* open 1452 B/);
  assert.match(text, /1417 B of stream data in a 1452-byte datagram, 0\.25 ACK-only datagrams/);
  assert.match(text, /sender \(client\) 10\.50 CPU s\/GiB/);
  assert.match(text, /download at <= 1452 B[^\n]*\n {2}sender \(server\) 9\.90 CPU s\/GiB/);
});

test('npm run bench -- --only floor --quick: prints the floor next to a run of quic-go 0.29', async () => {
  const args = ['--only', 'floor', '--quick', '--duration', '20', '--datagrams', '2000', '--size', '0.25'];
  const r = await runTsx([join(ROOT, 'bench/index.ts'), ...args], { cwd: ROOT, timeoutMs: 240_000 });
  assert.equal(r.code, 0, `bench failed:\n${r.stderr.slice(-2000)}`);
  assert.match(r.stdout, /sender {3}floor +[\d.]+ us = [\d.]+ CPU s\/GiB/);
  assert.match(r.stdout, /receiver floor +[\d.]+ us = [\d.]+ CPU s\/GiB/);
  assert.match(r.stdout, /quic-go 0\.29 whole process, upload at <= 1452 B \(measured, 0\.25 MiB upload/);
  assert.match(r.stdout, /quic-go 0\.29 whole process, download at <= 1452 B \(measured, 0\.25 MiB download/);
  assert.match(r.stdout, /floor +sender floor \(seal \+ hp \+ send, its ACKs opened\) +[\d.]+ CPU s\/GiB/);
});
