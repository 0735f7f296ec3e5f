/**
 * Node `tls` over TCP, the reference of the real-UDP benchmark (bench/udp.ts), run as its own process:
 *
 *   node --import tsx bench/peers/tls-peer.ts server --cert FILE --key FILE
 *   node --import tsx bench/peers/tls-peer.ts client --addr HOST:PORT --ca FILE
 *        --mode upload|full|resumed [--size BYTES] [--request BYTES] [--warmup MS] [--duration MS]
 *
 * The same protocol as the QUIC peers (bench/peers/protocol.ts), with an 8-byte length before each
 * request since TLS has no per-request FIN. TLS 1.3 only, default Node settings otherwise (the server
 * sends session tickets). full: a new TCP connection and full handshake each time; resumed: each
 * connection offers the newest ticket. OpenSSL's TLS 1.3 tickets may be used again and a resumed
 * connection receives no new one, so (unlike the QUIC clients, whose tickets are single-use) only the
 * first, full connection waits for a ticket. Node's tls has no early data, so there is no 0-RTT mode.
 */
import { readFileSync } from 'node:fs';
import { type ConnectionOptions, connect, createServer, type TLSSocket } from 'node:tls';
import {
  checkAnswer,
  handshakeLoop,
  numberOption,
  type Outcome,
  parseMode,
  report,
  requestBody,
  requiredOption,
  runMain,
  runUntilStdinCloses,
  SERVER_NAME,
  splitHostPort,
  timeUpload,
  uploadChunk,
} from './protocol.js';

const HEADER = 8;

/** Server side of one connection: length header, body counted, answer, then wait for the client's end. */
function serveSocket(socket: TLSSocket): void {
  // No Nagle delay for the small answers (QUIC has none either).
  socket.setNoDelay(true);
  let header = Buffer.alloc(0);
  let expected = -1;
  let count = 0;
  socket.on('data', (chunk: Buffer) => {
    let body = chunk;
    if (expected < 0) {
      header = Buffer.concat([header, chunk]);
      if (header.length < HEADER) return;
      expected = Number(header.readBigUInt64BE(0));
      body = header.subarray(HEADER);
    }
    count += body.length;
    if (count >= expected && expected >= 0) {
      socket.write(String(count));
      expected = -2; // answered; further bytes are a protocol error and ignored
    }
  });
  socket.on('end', () => socket.end());
  socket.on('error', () => {});
}

async function server(argv: readonly string[]): Promise<void> {
  const srv = createServer(
    {
      cert: readFileSync(requiredOption(argv, '--cert')),
      key: readFileSync(requiredOption(argv, '--key')),
      minVersion: 'TLSv1.3',
    },
    serveSocket,
  );
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const address = srv.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  process.stdout.write(`LISTENING ${address.address}:${address.port}\n`);
  runUntilStdinCloses(
    () =>
      new Promise<void>((resolve) => {
        srv.close(() => resolve());
      }),
  );
}

/** Connects, sends one request of `total` bytes, reads the answer; `socket` stays open. */
async function connection(
  options: ConnectionOptions,
  onSocket: (socket: TLSSocket) => void,
): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect(options, () => resolve(socket));
    // No Nagle delay: small requests go at once, as over QUIC.
    socket.setNoDelay(true);
    socket.once('error', reject);
    onSocket(socket);
  });
}

async function request(socket: TLSSocket, data: Buffer, total: number): Promise<void> {
  const answer: Buffer[] = [];
  let received = 0;
  const expected = String(total).length;
  const done = new Promise<void>((resolve, reject) => {
    socket.on('data', (c: Buffer) => {
      answer.push(c);
      received += c.length;
      if (received >= expected) resolve();
    });
    socket.once('error', reject);
    socket.once('end', () => reject(new Error('the server closed before answering')));
  });
  const header = Buffer.alloc(HEADER);
  header.writeBigUInt64BE(BigInt(total));
  let written = 0;
  if (total <= data.length) {
    // A small request: one write (one TLS record), as the QUIC clients send one packet.
    socket.write(Buffer.concat([header, data.subarray(0, total)]));
    written = total;
  } else {
    socket.write(header);
  }
  while (written < total) {
    const n = Math.min(data.length, total - written);
    written += n;
    if (!socket.write(n === data.length ? data : data.subarray(0, n))) {
      await new Promise<void>((resolve) => socket.once('drain', resolve));
    }
  }
  await done;
  checkAnswer(Buffer.concat(answer), total);
}

async function client(argv: readonly string[]): Promise<void> {
  const mode = parseMode(requiredOption(argv, '--mode'));
  const { host, port } = splitHostPort(requiredOption(argv, '--addr'));
  const base: ConnectionOptions = {
    host,
    port,
    servername: SERVER_NAME,
    ca: readFileSync(requiredOption(argv, '--ca')),
    minVersion: 'TLSv1.3',
  };
  if (mode === 'upload') {
    const size = numberOption(argv, '--size', 200 * 1024 * 1024);
    const socket = await connection(base, () => {});
    const result = await timeUpload(size, () => request(socket, uploadChunk(), size));
    socket.end();
    report(result);
    return;
  }
  if (mode === '0rtt') throw new Error("Node's tls has no early data: no 0rtt mode");
  if (mode === 'download' || mode === 'streams') throw new Error(`the tls peer has no ${mode} mode`);
  const body = requestBody(numberOption(argv, '--request', 32));
  let session: Buffer | undefined;
  const one = async (resume: boolean): Promise<Outcome> => {
    let ticket: Promise<void> = Promise.resolve();
    const socket = await connection(resume && session ? { ...base, session } : base, (s) => {
      if (!resume) return;
      ticket = new Promise((resolve) => {
        s.on('session', (t: Buffer) => {
          session = t;
          resolve();
        });
      });
    });
    await request(socket, body, body.length);
    const resumed = socket.isSessionReused();
    // OpenSSL's tickets can be used again and a resumed connection gets no new one: only a full
    // handshake has to wait for its ticket.
    if (!resumed) await ticket;
    socket.end();
    return { resumed, used0RTT: false, rejected0RTT: false };
  };
  // The first ticket comes from a full handshake.
  if (mode === 'resumed') await one(true);
  const warmup = numberOption(argv, '--warmup', 500);
  const duration = numberOption(argv, '--duration', 3000);
  report(await handshakeLoop(mode, () => one(mode === 'resumed'), warmup, duration));
}

const [command, ...args] = process.argv.slice(2);
if (command === 'server') {
  server(args).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
} else if (command === 'client') {
  runMain(() => client(args));
} else {
  process.stderr.write('usage: tls-peer.ts server|client [options]\n');
  process.exitCode = 2;
}
