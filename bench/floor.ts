/**
 * The per-packet floor of a QUIC bulk transfer in pure TypeScript on Node 20 (issue 13): what the
 * platform calls a data packet cannot avoid cost, measured on this machine, and the CPU seconds per
 * GiB they add up to for a sender and a receiver, next to quic-go 0.29's whole cost per GiB measured
 * in the same run.
 *
 * Measured, each as CPU time (process.cpuUsage, user + system) per call over many calls (the crypto
 * steps in 5 interleaved rounds, the median of each kept):
 *  - the AES-128-GCM seal of one packet through node:crypto, as the suites negotiate it:
 *    createCipheriv + setAAD + update + final + getAuthTag, for a 1452-byte datagram and for an
 *    ACK-only one (ACK_DATAGRAM bytes); the open (createDecipheriv + setAuthTag + setAAD + update +
 *    final) of both;
 *  - the header-protection mask (one 16-byte update of a reused AES-128-ECB cipher, RFC 9001 §5.4.3);
 *  - a dgram send() of one datagram on a connected socket (the cheapest send Node has; no callback)
 *    and the receive of it in another process (its 'message' callback), both sizes, over loopback;
 *    each side's CPU is its own process's.
 * None of this is tsquic's code: it is what any QUIC stack on node:crypto and node:dgram pays.
 * A second floor swaps the node:crypto AEAD for the cheapest one tsquic has: its WebAssembly
 * ChaCha20-Poly1305 (src/crypto/wasm-chacha20-poly1305.ts, no object per call; ChaCha20 header
 * protection in JS), which a stack on Node can also write for itself: what tsquic's packets pay now.
 *
 * From those, per data packet (RFC 9000 §13.2: the receiver acknowledges at the decimated rate,
 * `--ack-ratio` ACK-only datagrams per data packet, 0.10 by default as tsquic's receiver sends):
 *   sender   = seal(1452) + hp + send(1452) + ratio * (recv(ACK) + open(ACK) + hp)
 *   receiver = recv(1452) + open(1452) + hp + ratio * (seal(ACK) + hp + send(ACK))
 * and CPU s/GiB = per-packet seconds * GiB / PAYLOAD_PER_PACKET (the STREAM bytes one 1452-byte
 * datagram carries). quic-go 0.29 columns: one `--size` MiB upload (client CPU = sender, server CPU
 * = receiver) and one download (server = sender, client = receiver) between its own client and
 * server (bench/peers/quicgo, 1452-byte packets); or the quic-go figures of a compare JSON given with
 * `--compare-json FILE` (bench/results/compare.json: its cpu-upload-* and cpu-download-* rows).
 *
 *   npx tsx bench/floor.ts [--duration ms] [--size MiB] [--ack-ratio r] [--compare-json FILE | --no-quic-go]
 *   npm run bench -- --only floor
 *
 * Figures are printed, never asserted.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { chacha20KeyWords, chacha20Mask } from '../src/crypto/chacha20.js';
import { WasmChaCha20Poly1305, wasmChaCha20Poly1305 } from '../src/crypto/wasm-chacha20-poly1305.js';
import { CAP, processCpuSeconds, startServer } from './compare.js';
import { formatMachine, numberFlag } from './core.js';
import { buildGoPeer, GO_BINARY, runClient, writePki } from './udp.js';

const GiB = 1024 ** 3;
/** Every datagram of the compared runs is at most this long (bench/compare.ts CAP). */
export const DATA_DATAGRAM = CAP;
/** A 1-RTT short header: first byte, 8-byte DCID, 2-byte packet number (RFC 9000 §17.3.1). */
export const HEADER = 1 + 8 + 2;
/** AES-128-GCM tag (RFC 9001 §5.3). */
export const TAG = 16;
/** STREAM frame header of a bulk packet: type, 1-byte stream ID, 4-byte offset, 2-byte length. */
export const STREAM_FRAME_HEADER = 1 + 1 + 4 + 2;
/** Stream bytes one full data datagram carries. */
export const PAYLOAD_PER_PACKET = DATA_DATAGRAM - HEADER - TAG - STREAM_FRAME_HEADER;
/** An ACK-only datagram: header, ACK frame with one range (~10 bytes), tag. */
export const ACK_DATAGRAM = HEADER + 10 + TAG;
/** ACK-only datagrams per data packet: tsquic's decimated receiver (docs/recovery.md) sends ~0.10. */
export const DEFAULT_ACK_RATIO = 0.1;

export interface FloorOptions {
  /** CPU time per micro-measurement, spread over 5 interleaved rounds, median kept (default 1000 ms). */
  durationMs?: number;
  /** Datagrams per UDP measurement (default 200,000). */
  datagrams?: number;
  ackRatio?: number;
  /** quic-go column: 'run' (one upload of sizeMiB), a compare JSON path, or 'none'. */
  quicGo?: 'run' | 'none' | { compareJson: string };
  sizeMiB?: number;
  log?: (line: string) => void;
}

/** CPU microseconds per call of each measured step. */
export interface FloorSteps {
  sealData: number;
  openData: number;
  sealAck: number;
  openAck: number;
  hp: number;
  /** The same with tsquic's WebAssembly ChaCha20-Poly1305 and ChaCha20 header protection. */
  wasmSealData: number;
  wasmOpenData: number;
  wasmSealAck: number;
  wasmOpenAck: number;
  hpChaCha: number;
  sendData: number;
  recvData: number;
  sendAck: number;
  recvAck: number;
  /** Datagrams the receiver got of those sent, per size (loss on loopback under load). */
  deliveredData: number;
  deliveredAck: number;
}

export interface QuicGoFigures {
  source: string;
  senderSPerGiB: number;
  receiverSPerGiB: number;
  mbps?: number;
}

export interface FloorResult {
  steps: FloorSteps;
  ackRatio: number;
  /** CPU microseconds per data packet. */
  senderUs: number;
  receiverUs: number;
  /** CPU seconds per GiB of stream payload. */
  senderSPerGiB: number;
  receiverSPerGiB: number;
  /** The same floors with the WebAssembly AEAD instead of node:crypto's. */
  wasmSenderUs: number;
  wasmReceiverUs: number;
  wasmSenderSPerGiB: number;
  wasmReceiverSPerGiB: number;
  /** quic-go's upload: its client is the sender, its server the receiver. */
  quicGo?: QuicGoFigures;
  /** quic-go's download: its server is the sender, its client the receiver. */
  quicGoDownload?: QuicGoFigures;
  quicGoMissing?: string;
  load: [number, number];
}

/** Rounds of the micro-measurements (each `durationMs / ROUNDS` of CPU); the median is kept. */
const ROUNDS = 5;

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >>> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const cpuNow = (): number => {
  const c = process.cpuUsage();
  return c.user + c.system;
};

/** CPU microseconds per call of `op`, run in batches until `durationMs` of CPU have passed. */
export function cpuPerCall(durationMs: number, op: (i: number) => void): number {
  for (let i = 0; i < 500; i++) op(i);
  let calls = 0;
  const start = cpuNow();
  let used = 0;
  while (used < durationMs * 1000) {
    for (let k = 0; k < 512; k++) op(calls++);
    used = cpuNow() - start;
  }
  return used / calls;
}

/** The node:crypto calls of one AES-128-GCM seal and open of a `size`-byte datagram (no code of ours). */
function aeadSteps(size: number): { seal: (i: number) => void; open: (i: number) => void } {
  const key = randomBytes(16);
  const iv = randomBytes(12);
  const nonce = Buffer.alloc(12);
  const datagram = randomBytes(size);
  const aad = datagram.subarray(0, HEADER);
  const plaintext = datagram.subarray(HEADER, size - TAG);
  const setNonce = (pn: number) => {
    iv.copy(nonce);
    nonce.writeUInt32BE((nonce.readUInt32BE(8) ^ pn) >>> 0, 8);
  };
  const seal = (pn: number) => {
    setNonce(pn);
    const c = createCipheriv('aes-128-gcm', key, nonce, { authTagLength: TAG });
    c.setAAD(aad);
    c.update(plaintext);
    c.final();
    c.getAuthTag();
  };
  // One genuine packet, opened over and over.
  setNonce(7);
  const c = createCipheriv('aes-128-gcm', key, nonce, { authTagLength: TAG });
  c.setAAD(aad);
  const ct = Buffer.concat([c.update(plaintext), c.final()]);
  const tag = c.getAuthTag();
  const open = () => {
    setNonce(7);
    const d = createDecipheriv('aes-128-gcm', key, nonce, { authTagLength: TAG });
    d.setAuthTag(tag);
    d.setAAD(aad);
    d.update(ct);
    d.final();
  };
  return { seal, open };
}

/** tsquic's WebAssembly ChaCha20-Poly1305 seal and open of a `size`-byte datagram (aead.ts's path). */
function wasmAeadSteps(size: number): { seal: (i: number) => void; open: (i: number) => void } {
  if (wasmChaCha20Poly1305 === undefined) throw new Error('WebAssembly is not available');
  const aead = new WasmChaCha20Poly1305(wasmChaCha20Poly1305, randomBytes(32));
  const nonce = randomBytes(12);
  const datagram = randomBytes(size);
  const aad = datagram.subarray(0, HEADER);
  const plaintext = datagram.subarray(HEADER, size - TAG);
  const out = new Uint8Array(size);
  const seal = (pn: number) => {
    nonce[11] = pn & 0xff;
    aead.seal(nonce, aad, plaintext, out, HEADER);
  };
  // One genuine packet, opened over and over (not in place: the bytes must stay the ciphertext).
  nonce[11] = 7;
  aead.seal(nonce, aad, plaintext, datagram, HEADER);
  const ciphertext = datagram.subarray(HEADER);
  const open = () => {
    if (aead.open(nonce, aad, ciphertext) === null) throw new Error('the floor packet failed to open');
  };
  return { seal, open };
}

/** The ChaCha20 header-protection mask (RFC 9001 §5.4.4): one keystream block in JS (chacha20.ts). */
function hpChaChaStep(): (i: number) => void {
  const key = chacha20KeyWords(randomBytes(32));
  const sample = randomBytes(16);
  const mask = new Uint8Array(5);
  return (i) => {
    sample[0] = i & 0xff;
    chacha20Mask(key, sample, 0, mask);
  };
}

/** The header-protection mask: AES-128-ECB of a 16-byte sample on a reused cipher (RFC 9001 §5.4.3). */
function hpStep(): (i: number) => void {
  const ecb = createCipheriv('aes-128-ecb', randomBytes(16), null);
  ecb.setAutoPadding(false);
  const sample = randomBytes(16);
  return (i) => {
    sample[0] = i & 0xff;
    ecb.update(sample);
  };
}

/** The receiving process: counts datagrams and reports its CPU from the first to the end marker. */
const RECEIVER = `
import { createSocket } from 'node:dgram';
const s = createSocket('udp4');
let n = 0, cpu0;
s.on('message', (m) => {
  if (m.length === 1) {
    const c = process.cpuUsage(cpu0);
    process.stdout.write(JSON.stringify({ n, cpu: c.user + c.system }) + '\\n');
    s.close();
    return;
  }
  if (n++ === 0) cpu0 = process.cpuUsage();
});
s.bind(0, '127.0.0.1', () => {
  try { s.setRecvBufferSize(4 * 1024 * 1024); } catch {}
  process.stdout.write('PORT ' + s.address().port + '\\n');
});
`;

/**
 * Sends `count` datagrams of `size` bytes on a connected socket in bursts of 32 per event-loop turn
 * to a receiver process; returns the sender's and the receiver's CPU microseconds per datagram.
 */
export async function udpStep(
  size: number,
  count: number,
): Promise<{ send: number; recv: number; delivered: number }> {
  const child: ChildProcess = spawn(process.execPath, ['--input-type=module', '-e', RECEIVER], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  let buf = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => {
    buf += s;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
      waiters.shift()?.();
    }
  });
  const nextLine = async (): Promise<string> => {
    if (lines.length === 0) await new Promise<void>((done) => waiters.push(done));
    return lines.shift()!;
  };
  try {
    const port = Number(/^PORT (\d+)/.exec(await nextLine())?.[1]);
    const socket = createSocket('udp4');
    await new Promise<void>((done) => socket.connect(port, '127.0.0.1', done));
    try {
      socket.setSendBufferSize(4 * 1024 * 1024);
    } catch {
      // The OS caps it: keep its default.
    }
    socket.on('error', () => {});
    const datagram = randomBytes(size);
    // Warm-up, then the measured sends.
    for (let i = 0; i < 2000; i++) socket.send(datagram);
    await new Promise((done) => setTimeout(done, 50));
    const start = cpuNow();
    let sent = 0;
    await new Promise<void>((done) => {
      const burst = () => {
        for (let k = 0; k < 32 && sent < count; k++, sent++) socket.send(datagram);
        if (sent < count) setImmediate(burst);
        else done();
      };
      burst();
    });
    const send = (cpuNow() - start) / count;
    const end = Buffer.alloc(1);
    const timer = setInterval(() => socket.send(end), 50);
    socket.send(end);
    const answer = JSON.parse(await nextLine()) as { n: number; cpu: number };
    clearInterval(timer);
    socket.close();
    return { send, recv: answer.cpu / Math.max(1, answer.n - 1), delivered: answer.n / (count + 2000) };
  } finally {
    child.kill();
  }
}

/**
 * quic-go 0.29's client uploading `sizeMiB` to its own server or downloading it, both capped at
 * 1452-byte packets; CPU per GiB of the side that sends and of the side that receives.
 */
async function quicGoTransfer(
  sizeMiB: number,
  mode: 'upload' | 'download',
): Promise<{ senderSPerGiB: number; receiverSPerGiB: number; mbps: number } | string> {
  const missing = buildGoPeer();
  if (missing) return missing;
  const pki = writePki();
  const server = await startServer({
    file: GO_BINARY,
    args: ['server', '-cert', pki.cert, '-key', pki.key],
  });
  try {
    const bytes = sizeMiB * 1024 * 1024;
    const cpu0 = processCpuSeconds(server.pid);
    const r = await runClient(
      {
        file: GO_BINARY,
        args: ['client', '-addr', server.address, '-ca', pki.ca, '-mode', mode, '-size', String(bytes)],
      },
      600_000,
    );
    const cpu1 = processCpuSeconds(server.pid);
    const gib = (r.bytes ?? bytes) / GiB;
    const clientCpu = r.cpuSeconds / gib;
    const serverCpu = cpu0 !== undefined && cpu1 !== undefined ? (cpu1 - cpu0) / gib : Number.NaN;
    return {
      senderSPerGiB: mode === 'upload' ? clientCpu : serverCpu,
      receiverSPerGiB: mode === 'upload' ? serverCpu : clientCpu,
      mbps: ((r.bytes ?? bytes) * 8) / 1e6 / r.seconds,
    };
  } finally {
    await server.stop();
    rmSync(pki.dir, { recursive: true, force: true });
  }
}

/**
 * quic-go's CPU per GiB from a compare JSON: the upload rows (client = sender, server = receiver)
 * and, when present, the download rows (server = sender, client = receiver).
 */
function quicGoFromJson(file: string): { upload: QuicGoFigures; download?: QuicGoFigures } {
  const json = JSON.parse(readFileSync(file, 'utf8')) as {
    rows: Array<{ key: string; cells: Record<string, { median?: number } | undefined> }>;
  };
  const find = (key: string) => json.rows.find((r) => r.key === key)?.cells['quic-go']?.median;
  const cell = (key: string) => {
    const v = find(key);
    if (v === undefined) throw new Error(`${file}: no quic-go figure for ${key}`);
    return v;
  };
  const upload = {
    source: file,
    senderSPerGiB: cell('cpu-upload-client'),
    receiverSPerGiB: cell('cpu-upload-server'),
  };
  const sender = find('cpu-download-server');
  const receiver = find('cpu-download-client');
  return sender !== undefined && receiver !== undefined
    ? { upload, download: { source: file, senderSPerGiB: sender, receiverSPerGiB: receiver } }
    : { upload };
}

export async function run(opts: FloorOptions = {}): Promise<FloorResult> {
  const durationMs = opts.durationMs ?? 1000;
  const datagrams = opts.datagrams ?? 200_000;
  const ackRatio = opts.ackRatio ?? DEFAULT_ACK_RATIO;
  const log = opts.log ?? (() => {});
  const load0 = loadavg()[0]!;
  log('floor: AEAD calls ...');
  const ops = {
    sealData: aeadSteps(DATA_DATAGRAM).seal,
    openData: aeadSteps(DATA_DATAGRAM).open,
    sealAck: aeadSteps(ACK_DATAGRAM).seal,
    openAck: aeadSteps(ACK_DATAGRAM).open,
    hp: hpStep(),
    wasmSealData: wasmAeadSteps(DATA_DATAGRAM).seal,
    wasmOpenData: wasmAeadSteps(DATA_DATAGRAM).open,
    wasmSealAck: wasmAeadSteps(ACK_DATAGRAM).seal,
    wasmOpenAck: wasmAeadSteps(ACK_DATAGRAM).open,
    hpChaCha: hpChaChaStep(),
  };
  const names = Object.keys(ops) as (keyof typeof ops)[];
  // Rounds of every step in turn, the median per step: the steps share the machine's moods.
  const perRound: number[][] = names.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    names.forEach((name, k) => {
      perRound[k]!.push(cpuPerCall(durationMs / ROUNDS, ops[name]));
    });
  }
  const cryptoSteps = Object.fromEntries(names.map((name, k) => [name, median(perRound[k]!)])) as Record<
    keyof typeof ops,
    number
  >;
  log('floor: UDP send/receive over loopback ...');
  const udpData = await udpStep(DATA_DATAGRAM, datagrams);
  const udpAck = await udpStep(ACK_DATAGRAM, datagrams);
  const steps: FloorSteps = {
    ...cryptoSteps,
    sendData: udpData.send,
    recvData: udpData.recv,
    sendAck: udpAck.send,
    recvAck: udpAck.recv,
    deliveredData: udpData.delivered,
    deliveredAck: udpAck.delivered,
  };
  // The sums of the module's doc comment, for one AEAD's seal, open and header-protection costs.
  const sender = (sealData: number, openAck: number, hp: number) =>
    sealData + hp + steps.sendData + ackRatio * (steps.recvAck + openAck + hp);
  const receiver = (openData: number, sealAck: number, hp: number) =>
    steps.recvData + openData + hp + ackRatio * (sealAck + hp + steps.sendAck);
  const senderUs = sender(steps.sealData, steps.openAck, steps.hp);
  const receiverUs = receiver(steps.openData, steps.sealAck, steps.hp);
  const wasmSenderUs = sender(steps.wasmSealData, steps.wasmOpenAck, steps.hpChaCha);
  const wasmReceiverUs = receiver(steps.wasmOpenData, steps.wasmSealAck, steps.hpChaCha);
  const perGiB = (us: number) => (us / 1e6) * (GiB / PAYLOAD_PER_PACKET);
  const result: FloorResult = {
    steps,
    ackRatio,
    senderUs,
    receiverUs,
    senderSPerGiB: perGiB(senderUs),
    receiverSPerGiB: perGiB(receiverUs),
    wasmSenderUs,
    wasmReceiverUs,
    wasmSenderSPerGiB: perGiB(wasmSenderUs),
    wasmReceiverSPerGiB: perGiB(wasmReceiverUs),
    load: [load0, 0],
  };
  const q = opts.quicGo ?? 'run';
  if (q === 'run') {
    const size = opts.sizeMiB ?? 100;
    log(`floor: quic-go 0.29 ${size} MiB upload and download ...`);
    const up = await quicGoTransfer(size, 'upload');
    if (typeof up === 'string') result.quicGoMissing = up;
    else {
      result.quicGo = { source: `measured, ${size} MiB upload, this run`, ...up };
      const down = await quicGoTransfer(size, 'download');
      if (typeof down !== 'string')
        result.quicGoDownload = { source: `measured, ${size} MiB download, this run`, ...down };
    }
  } else if (q !== 'none') {
    const g = quicGoFromJson(q.compareJson);
    result.quicGo = g.upload;
    if (g.download) result.quicGoDownload = g.download;
  }
  result.load[1] = loadavg()[0]!;
  return result;
}

export function formatFloor(r: FloorResult): string {
  const s = r.steps;
  const us = (v: number) => v.toFixed(2).padStart(8);
  const lines = [
    `floor per packet (node:crypto AES-128-GCM, node:dgram over 127.0.0.1), CPU us per call:`,
    `  seal ${DATA_DATAGRAM} B ${us(s.sealData)}   open ${DATA_DATAGRAM} B ${us(s.openData)}   header protection ${us(s.hp)}`,
    `  seal ${ACK_DATAGRAM} B   ${us(s.sealAck)}   open ${ACK_DATAGRAM} B   ${us(s.openAck)}`,
    `  send ${DATA_DATAGRAM} B ${us(s.sendData)}   receive ${DATA_DATAGRAM} B ${us(s.recvData)}   (${(s.deliveredData * 100).toFixed(0)}% delivered)`,
    `  send ${ACK_DATAGRAM} B   ${us(s.sendAck)}   receive ${ACK_DATAGRAM} B   ${us(s.recvAck)}   (${(s.deliveredAck * 100).toFixed(0)}% delivered)`,
    `per data packet (${PAYLOAD_PER_PACKET} B of stream data in a ${DATA_DATAGRAM}-byte datagram, ${r.ackRatio} ACK-only datagrams per data packet):`,
    `  sender   floor ${us(r.senderUs)} us = ${r.senderSPerGiB.toFixed(2)} CPU s/GiB`,
    `  receiver floor ${us(r.receiverUs)} us = ${r.receiverSPerGiB.toFixed(2)} CPU s/GiB`,
    `with tsquic's WebAssembly ChaCha20-Poly1305 instead (no object per call; ChaCha20 header protection), CPU us per call:`,
    `  seal ${DATA_DATAGRAM} B ${us(s.wasmSealData)}   open ${DATA_DATAGRAM} B ${us(s.wasmOpenData)}   header protection ${us(s.hpChaCha)}`,
    `  seal ${ACK_DATAGRAM} B   ${us(s.wasmSealAck)}   open ${ACK_DATAGRAM} B   ${us(s.wasmOpenAck)}`,
    `  sender   floor ${us(r.wasmSenderUs)} us = ${r.wasmSenderSPerGiB.toFixed(2)} CPU s/GiB`,
    `  receiver floor ${us(r.wasmReceiverUs)} us = ${r.wasmReceiverSPerGiB.toFixed(2)} CPU s/GiB`,
  ];
  const quicGo = (g: QuicGoFigures, what: string, sender: string, receiver: string) =>
    lines.push(
      `quic-go 0.29 whole process, ${what} at <= ${CAP} B (${g.source}${g.mbps ? `, ${g.mbps.toFixed(0)} Mbit/s` : ''}):`,
      `  sender (${sender}) ${g.senderSPerGiB.toFixed(2)} CPU s/GiB: floor / quic-go ${(r.senderSPerGiB / g.senderSPerGiB).toFixed(2)}`,
      `  receiver (${receiver}) ${g.receiverSPerGiB.toFixed(2)} CPU s/GiB: floor / quic-go ${(r.receiverSPerGiB / g.receiverSPerGiB).toFixed(2)}`,
      `  both sides: floor ${(r.senderSPerGiB + r.receiverSPerGiB).toFixed(2)} vs quic-go ${(g.senderSPerGiB + g.receiverSPerGiB).toFixed(2)} CPU s/GiB`,
      `  with the WebAssembly AEAD: sender ${(r.wasmSenderSPerGiB / g.senderSPerGiB).toFixed(2)}, receiver ${(r.wasmReceiverSPerGiB / g.receiverSPerGiB).toFixed(2)} (floor / quic-go)`,
    );
  if (r.quicGo) quicGo(r.quicGo, 'upload', 'client', 'server');
  if (r.quicGoDownload) quicGo(r.quicGoDownload, 'download', 'server', 'client');
  if (r.quicGoMissing) {
    lines.push(`quic-go column: ${r.quicGoMissing}`);
  }
  lines.push(`load average ${r.load[0].toFixed(2)} -> ${r.load[1].toFixed(2)}`);
  return lines.join('\n');
}

/** Options of the command line (bench/index.ts passes its argv too). */
export function floorOptions(argv: readonly string[]): FloorOptions {
  const json = argv.indexOf('--compare-json');
  const d = numberFlag(argv, '--duration');
  const n = numberFlag(argv, '--datagrams');
  const size = numberFlag(argv, '--size');
  const ack = numberFlag(argv, '--ack-ratio');
  return {
    ...(d !== undefined ? { durationMs: d } : {}),
    ...(n !== undefined ? { datagrams: n } : {}),
    ...(size !== undefined ? { sizeMiB: size } : {}),
    ...(ack !== undefined ? { ackRatio: ack } : {}),
    quicGo: argv.includes('--no-quic-go')
      ? 'none'
      : json >= 0 && argv[json + 1] !== undefined
        ? { compareJson: argv[json + 1]! }
        : 'run',
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(formatMachine());
  const r = await run({ ...floorOptions(process.argv.slice(2)), log: (l) => console.error(l) });
  console.log(formatFloor(r));
}
