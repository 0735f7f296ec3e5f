/**
 * Writes the seed corpus of every fuzz target (test/fuzz/corpus/<target>/NNN.bin) from real traffic:
 * a simulated handshake and transfer (datagrams, decrypted packet payloads, transport parameters,
 * TLS messages), the test PKI's certificates, QPACK output and HTTP/3 control streams.
 * `npx tsx test/fuzz/make-corpus.ts [target...]` rewrites the corpus (of the named targets only);
 * everything but the generated certificates' keys is the same on every run.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Connection, FrameTraceEvent } from '../../src/connection/connection.js';
import { encodeFrame as encodeH3Frame, H3FrameType } from '../../src/http3/frames.js';
import { QpackEncoder } from '../../src/http3/qpack/index.js';
import { decodePem } from '../../src/tls/private-key.js';
import { TlsClient } from '../../src/tls/tls-client.js';
import { TlsServer } from '../../src/tls/tls-server.js';
import { EncryptionLevel } from '../../src/tls/types.js';
import { type Frame, FrameType } from '../../src/wire/frames.js';
import { PacketType } from '../../src/wire/packet-header.js';
import { encodeTransportParameters } from '../../src/wire/transport-parameters.js';
import { frameBytes } from '../hostile/forge.js';
import { CLIENT_ADDRESS, QuicSim, simPki } from '../sim/quic-harness.js';
import { TransferClient, TransferServer } from '../sim/stream-apps.js';
import { headersFrame, req } from '../unit/http3/fake-transport.js';
import { clientConfig, NOW, seededRandom, serverConfig, testPki } from '../unit/tls/helpers.js';
import { FUZZ_DIR } from './engine.js';

const corpus = new Map<string, Uint8Array[]>();
function add(target: string, bytes: Uint8Array): void {
  const list = corpus.get(target) ?? [];
  // No duplicates, and not too many of one kind.
  if (list.length >= 40 || list.some((b) => Buffer.from(b).equals(Buffer.from(bytes)))) return;
  list.push(Uint8Array.from(bytes));
  corpus.set(target, list);
}
const withMode = (mode: number, bytes: Uint8Array) => Uint8Array.from([mode, ...bytes]);

// --- A real connection: datagrams and decrypted payloads, both directions.
const packets = new Map<string, { conn: Connection; type: PacketType; frames: Frame[] }>();
const sim = new QuicSim({
  seed: 4242,
  trace: (conn: Connection, e: FrameTraceEvent) => {
    if (e.direction !== 'sent') return;
    const key = `${conn.role}/${e.packetType}/${e.packetNumber}`;
    const p = packets.get(key) ?? { conn, type: e.packetType, frames: [] };
    p.frames.push(e.frame);
    packets.set(key, p);
  },
});
const transferServer = new TransferServer();
sim.onServerConnection = (c) => transferServer.add(c);
sim.net.onSend(({ from, datagram }) => {
  add('packet-header', datagram);
  if (from === CLIENT_ADDRESS) add('server', withMode(0, datagram));
});
const conn = sim.dial();
const client = new TransferClient(conn, { streams: 3, upload: 3000, download: 3000 });
sim.appHooks.push(() => {
  transferServer.pump();
  client.pump();
});
const server = sim.handshake(conn);
sim.run(() => client.done, 30_000);
conn.close(0, 'done', sim.now);
sim.client.markActive(conn);
sim.run(() => conn.isTerminated, 10_000);

for (const p of packets.values()) {
  const payload = frameBytes(
    ...p.frames.map((f) => (f.type === FrameType.Padding ? { ...f, length: 1 } : f)),
  );
  add('frames', payload);
  if (p.conn.role === 'client' && p.type === PacketType.Initial) add('server', withMode(1, payload));
  if (p.conn.role === 'client' && p.type === PacketType.OneRtt) add('server', withMode(2, payload));
}
for (const c of [conn, server]) add('transport-parameters', encodeTransportParameters(c.localParams));

// --- TLS: the flights of a real handshake between the engines.
const pki = testPki();
const tc = new TlsClient(clientConfig(pki, { random: seededRandom('corpus-client') }));
tc.start(NOW);
const clientHello = tc.takeOutput()!.data;
const ts = new TlsServer(serverConfig(pki, { random: seededRandom('corpus-server') }));
ts.receive(EncryptionLevel.Initial, clientHello, NOW);
const serverHello = ts.takeOutput()!.data;
const flight = ts.takeOutput()!.data;
add('tls-engine', withMode(0, clientHello));
add('tls-engine', withMode(1, serverHello));
add('tls-engine', withMode(2, flight));
/** Handshake messages of a flight: [type, body]. */
function messages(bytes: Uint8Array): Array<[number, Uint8Array]> {
  const out: Array<[number, Uint8Array]> = [];
  for (let o = 0; o + 4 <= bytes.length; ) {
    const len = (bytes[o + 1]! << 16) | (bytes[o + 2]! << 8) | bytes[o + 3]!;
    out.push([bytes[o]!, bytes.subarray(o + 4, o + 4 + len)]);
    o += 4 + len;
  }
  return out;
}
// Decoder index in targets.ts TLS_DECODERS for each handshake type.
const DECODER_INDEX: Record<number, number> = { 1: 0, 2: 1, 8: 2, 11: 3, 13: 4, 15: 5, 20: 6, 4: 7 };
for (const [type, body] of [...messages(clientHello), ...messages(serverHello), ...messages(flight)]) {
  const index = DECODER_INDEX[type];
  if (index !== undefined) add('tls-messages', withMode(index, body));
}

// --- DER: the certificates of both test PKIs.
for (const p of [simPki(), pki, simPki('rsa-2048')]) {
  for (const pem of [p.ca.certPem, p.leaf.certPem]) {
    const der = decodePem(pem.toString())[0]?.der;
    if (der) add('der-x509', der);
  }
}

// --- QPACK: field sections (even first byte) and encoder stream instructions (odd).
const fields = [
  { name: ':method', value: 'GET' },
  { name: ':scheme', value: 'https' },
  { name: ':authority', value: 'www.example.com' },
  { name: ':path', value: '/index.html' },
  { name: 'user-agent', value: 'tsquic-fuzz' },
  { name: 'x-custom', value: 'a'.repeat(40) },
];
const staticOnly = new QpackEncoder();
add('qpack', withMode(0, staticOnly.encode(0, fields)));
const dynamic = new QpackEncoder({ maxTableCapacity: 4096, blockedStreams: 4 }, { insert: 'all' });
dynamic.applyPeerSettings({ maxTableCapacity: 4096, blockedStreams: 4 });
const section = dynamic.encode(4, fields);
const instructions = dynamic.takeEncoderStreamData();
if (instructions) add('qpack', withMode(1, instructions));
add('qpack', withMode(0, section));

// --- HTTP/3 control streams (role byte, then frames).
const settings = encodeH3Frame({
  type: H3FrameType.Settings,
  entries: [
    { id: 1, value: 4096 },
    { id: 6, value: 16_384 },
    { id: 7, value: 16 },
    { id: 0x21, value: 7 },
  ],
});
const goaway = encodeH3Frame({ type: H3FrameType.Goaway, id: 8 });
const maxPush = encodeH3Frame({ type: H3FrameType.MaxPushId, pushId: 3 });
add('http3-frames', withMode(0, Buffer.concat([settings, maxPush])));
add('http3-frames', withMode(1, Buffer.concat([settings, goaway])));
add(
  'http3-frames',
  withMode(
    1,
    Buffer.concat([
      settings,
      encodeH3Frame({ type: 'unknown', frameType: 0x21, payload: Uint8Array.of(1, 2) }),
    ]),
  ),
);

// --- HTTP/3 sessions: [role, then (stream, flags, length, bytes)...] records.
function records(role: number, items: Array<[number, number, Uint8Array]>): Uint8Array {
  const parts: number[] = [role];
  for (const [stream, flags, data] of items) {
    for (let o = 0; o === 0 || o < data.length; o += 255) {
      const piece = data.subarray(o, o + 255);
      const last = o + 255 >= data.length;
      parts.push(stream, last ? flags : flags & ~1, piece.length, ...piece);
    }
  }
  return Uint8Array.from(parts);
}
const request = headersFrame(req('/index.html'));
const data = encodeH3Frame({ type: H3FrameType.Data, data: Uint8Array.of(1, 2, 3) });
const control = Buffer.concat([Uint8Array.of(0x00), settings]);
add(
  'http3-session',
  records(0, [
    [2, 0, control],
    [0, 1, Buffer.concat([request, data])],
  ]),
);
add(
  'http3-session',
  records(0, [
    [2, 0, control],
    [6, 0, Uint8Array.of(0x02)],
    [10, 0, Uint8Array.of(0x03)],
    [4, 0, request],
    [4, 2, new Uint8Array(0)],
  ]),
);
add(
  'http3-session',
  records(1, [
    [3, 0, control],
    [7, 0, Uint8Array.of(0x02, 0x3f, 0xe1, 0x1f)],
  ]),
);

// `npx tsx test/fuzz/make-corpus.ts [target...]`: only those targets (the PKI keys differ each run).
const only = process.argv.slice(2);
for (const [target, list] of corpus) {
  if (only.length > 0 && !only.includes(target)) continue;
  const dir = join(FUZZ_DIR, 'corpus', target);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [i, b] of list.entries()) writeFileSync(join(dir, `${String(i).padStart(3, '0')}.bin`), b);
  console.log(`${target}: ${list.length} seeds`);
}
