/**
 * Test helpers for the TLS engine: deterministic randomness, generated PKIs, engine configs, and an
 * in-memory driver that shuttles handshake bytes between a client and a server per encryption level
 * (optionally split into small chunks, or with messages rewritten on the way).
 */
import { createHash } from 'node:crypto';
import type { CipherSuite } from '../../../src/crypto/cipher-suite.js';
import { QuicTransportError } from '../../../src/errors/transport-error.js';
import { TlsAlertError } from '../../../src/tls/alert.js';
import { HandshakeType } from '../../../src/tls/codepoints.js';
import { type Extension, type ExtensionBlock, writeExtensions } from '../../../src/tls/extensions.js';
import { frameHandshakeMessage } from '../../../src/tls/handshake-message-framing.js';
import { decodeClientHello } from '../../../src/tls/messages/client-hello.js';
import { encodeEncryptedExtensions } from '../../../src/tls/messages/encrypted-extensions.js';
import { SessionTicketKeys } from '../../../src/tls/session-ticket-keys.js';
import { TlsClient } from '../../../src/tls/tls-client.js';
import { TlsServer } from '../../../src/tls/tls-server.js';
import { TlsWriter } from '../../../src/tls/tls-writer.js';
import {
  EncryptionLevel,
  type ResumptionSession,
  type TlsClientConfig,
  type TlsEngine,
  type TlsEvent,
  type TlsServerConfig,
} from '../../../src/tls/types.js';
import {
  type CertificateKeyType,
  createTestPki,
  type GeneratedCertificate,
} from '../../../src/tls/x509-builder.js';
import type { RandomBytes } from '../../../src/util/random.js';
import type { Millis } from '../../../src/util/time.js';

/** A fixed wall-clock time for tests (2025-01-15T00:00:00Z). */
export const NOW: Millis = Date.UTC(2025, 0, 15);

export const CLIENT_TP = Buffer.from('client transport parameters');
export const SERVER_TP = Buffer.from('server transport parameters');

/** Deterministic RandomBytes: SHA-256 in counter mode over a seed. */
export function seededRandom(seed: string): RandomBytes {
  let counter = 0;
  return (length: number) => {
    const out = Buffer.allocUnsafe(length);
    let filled = 0;
    while (filled < length) {
      const block = createHash('sha256').update(seed).update(String(counter++)).digest();
      filled += block.copy(out, filled, 0, Math.min(block.length, length - filled));
    }
    return out;
  };
}

export interface TestPki {
  ca: GeneratedCertificate;
  leaf: GeneratedCertificate;
}

const pkiCache = new Map<string, TestPki>();

/** A CA and a leaf for `names` (cached per key type and names: RSA key generation is slow). */
export function testPki(keyType: CertificateKeyType = 'ec-p256', names: string[] = ['example.com']): TestPki {
  const key = `${keyType}|${names.join(',')}`;
  let pki = pkiCache.get(key);
  if (!pki) {
    pki = createTestPki({ names, now: NOW, keyType });
    pkiCache.set(key, pki);
  }
  return pki;
}

let seedCounter = 0;

export function clientConfig(pki: TestPki, overrides: Partial<TlsClientConfig> = {}): TlsClientConfig {
  return {
    alpn: ['h3'],
    transportParameters: CLIENT_TP,
    random: seededRandom(`client-${seedCounter++}`),
    serverName: 'example.com',
    ca: [pki.ca.certPem],
    ...overrides,
  };
}

export function serverConfig(pki: TestPki, overrides: Partial<TlsServerConfig> = {}): TlsServerConfig {
  return {
    alpn: ['h3'],
    transportParameters: SERVER_TP,
    random: seededRandom(`server-${seedCounter++}`),
    identity: { certificateChain: pki.leaf.certPem + pki.ca.certPem, privateKey: pki.leaf.keyPem },
    ...overrides,
  };
}

export function ticketKeys(seed = 'ticket-keys'): SessionTicketKeys {
  return new SessionTicketKeys({ random: seededRandom(seed), now: NOW });
}

/** A handshake message on its way from one engine to the other. */
export interface InFlightMessage {
  from: 'client' | 'server';
  level: EncryptionLevel;
  /** Index among all messages sent by `from` so far (0 = ClientHello or ServerHello). */
  index: number;
  type: number;
  bytes: Buffer;
}

export interface DriveOptions {
  now?: Millis;
  /** Deliver bytes in chunks of this size (tests reassembly across CRYPTO frames). */
  chunkSize?: number;
  /** Rewrites (or drops, by returning an empty buffer) messages in flight. */
  transform?: (msg: InFlightMessage) => Buffer;
  /** Start the client (default true). */
  start?: boolean;
}

export interface SideResult {
  events: TlsEvent[];
  /** "<level>/<direction>" -> secret hex. */
  secrets: Map<string, string>;
  complete: boolean;
}

export interface DriveResult {
  client: SideResult;
  server: SideResult;
  /** Messages delivered, in order. */
  messages: InFlightMessage[];
}

function secretKey(level: EncryptionLevel, direction: string): string {
  return `${EncryptionLevel[level]}/${direction}`;
}

function splitMessages(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let off = 0;
  while (off + 4 <= data.length) {
    const len = data.readUIntBE(off + 1, 3);
    const end = Math.min(data.length, off + 4 + len);
    out.push(data.subarray(off, end));
    off = end;
  }
  if (off < data.length) out.push(data.subarray(off));
  return out;
}

function drain(engine: TlsEngine, side: SideResult): void {
  for (let e = engine.pollEvent(); e; e = engine.pollEvent()) {
    side.events.push(e);
    if (e.type === 'secret')
      side.secrets.set(secretKey(e.level, e.direction), Buffer.from(e.secret).toString('hex'));
  }
  side.complete = engine.handshakeComplete;
}

/**
 * Runs the handshake to quiescence. Throws whatever an engine throws (the test inspects it); the
 * partial result is attached to thrown errors as `.drive`.
 */
export function drive(client: TlsEngine, server: TlsEngine, opts: DriveOptions = {}): DriveResult {
  const now = opts.now ?? NOW;
  const result: DriveResult = {
    client: { events: [], secrets: new Map(), complete: false },
    server: { events: [], secrets: new Map(), complete: false },
    messages: [],
  };
  const counters = { client: 0, server: 0 };
  try {
    if (opts.start !== false) client.start(now);
    drain(client, result.client);
    for (let round = 0; round < 20; round++) {
      let moved = false;
      for (const [from, to] of [
        [client, server],
        [server, client],
      ] as const) {
        const fromName = from === client ? 'client' : 'server';
        const toSide = to === client ? result.client : result.server;
        for (let out = from.takeOutput(); out; out = from.takeOutput()) {
          moved = true;
          let bytes = Buffer.alloc(0);
          for (const m of splitMessages(Buffer.from(out.data))) {
            const msg: InFlightMessage = {
              from: fromName,
              level: out.level,
              index: counters[fromName]++,
              type: m[0]!,
              bytes: Buffer.from(m),
            };
            const rewritten = opts.transform ? opts.transform(msg) : msg.bytes;
            result.messages.push({ ...msg, bytes: rewritten });
            bytes = Buffer.concat([bytes, rewritten]);
          }
          const chunk = opts.chunkSize ?? bytes.length;
          for (let off = 0; off < bytes.length; off += Math.max(1, chunk)) {
            to.receive(out.level, bytes.subarray(off, off + Math.max(1, chunk)), now);
          }
          drain(to, toSide);
        }
        drain(from, from === client ? result.client : result.server);
      }
      if (!moved) break;
    }
  } catch (err) {
    if (err instanceof Error) Object.assign(err, { drive: result });
    throw err;
  }
  return result;
}

/** Drives a fresh client/server pair. */
export function handshake(
  clientCfg: TlsClientConfig,
  serverCfg: TlsServerConfig,
  opts: DriveOptions = {},
): DriveResult & { clientEngine: TlsClient; serverEngine: TlsServer } {
  const clientEngine = new TlsClient(clientCfg);
  const serverEngine = new TlsServer(serverCfg);
  return { ...drive(clientEngine, serverEngine, opts), clientEngine, serverEngine };
}

/** The error thrown by `fn`, asserting it is typed. */
export function catchTyped(fn: () => unknown): TlsAlertError | QuicTransportError {
  try {
    fn();
  } catch (err) {
    if (err instanceof TlsAlertError || err instanceof QuicTransportError) return err;
    throw new Error(`expected a typed error, got ${String(err)}`);
  }
  throw new Error('expected an error, none was thrown');
}

export function eventsOfType<T extends TlsEvent['type']>(
  side: SideResult,
  type: T,
): Extract<TlsEvent, { type: T }>[] {
  return side.events.filter((e): e is Extract<TlsEvent, { type: T }> => e.type === type);
}

export function sessions(side: SideResult): ResumptionSession[] {
  return eventsOfType(side, 'session-ticket').map((e) => e.session);
}

/** Asserts both sides derived matching secrets: client write == server read and vice versa. */
export function secretPairs(r: DriveResult): Array<[string, string | undefined, string | undefined]> {
  const pairs: Array<[string, string | undefined, string | undefined]> = [];
  for (const level of [EncryptionLevel.EarlyData, EncryptionLevel.Handshake, EncryptionLevel.Application]) {
    const name = EncryptionLevel[level];
    pairs.push([`${name} c->s`, r.client.secrets.get(`${name}/write`), r.server.secrets.get(`${name}/read`)]);
    pairs.push([`${name} s->c`, r.server.secrets.get(`${name}/write`), r.client.secrets.get(`${name}/read`)]);
  }
  return pairs;
}

export function suiteName(suite: CipherSuite): string {
  return `0x${suite.toString(16)}`;
}

export interface RawClientHello {
  legacyVersion?: number;
  random: Uint8Array;
  legacySessionId?: Uint8Array;
  cipherSuites: number[];
  compressionMethods?: Uint8Array;
  extensions: Extension[];
}

/** Encodes any ClientHello, including ones the engine would never send (for negative tests). */
export function encodeRawClientHello(ch: RawClientHello): Buffer {
  const w = new TlsWriter(512);
  w.u16(ch.legacyVersion ?? 0x0303);
  w.bytes(ch.random);
  w.vector8(ch.legacySessionId ?? new Uint8Array(0));
  w.vector(2, () => {
    for (const s of ch.cipherSuites) w.u16(s);
  });
  w.vector8(ch.compressionMethods ?? Uint8Array.of(0));
  writeExtensions(w, ch.extensions);
  return frameHandshakeMessage(HandshakeType.client_hello, w.finish());
}

/** Decodes a framed ClientHello into the editable form of encodeRawClientHello. */
export function editableClientHello(raw: Uint8Array): RawClientHello {
  const ch = decodeClientHello(raw.subarray(4));
  return {
    legacyVersion: ch.legacyVersion,
    random: ch.random,
    legacySessionId: ch.legacySessionId,
    cipherSuites: ch.cipherSuites,
    compressionMethods: ch.compressionMethods,
    extensions: ch.extensions.order.map((type) => ({ type, data: ch.extensions.get(type)! })),
  };
}

/** Re-encodes a framed message that carries only an extension block (EncryptedExtensions). */
export function rewriteExtensions(
  extensions: ExtensionBlock,
  edit: (list: Extension[]) => Extension[],
): Buffer {
  const list = edit(extensions.order.map((type) => ({ type, data: extensions.get(type)! })));
  return encodeEncryptedExtensions(list);
}

/** A ClientHello from a fresh client with `overrides`, as bytes. */
export function clientHelloBytes(overrides: Partial<TlsClientConfig> = {}, pki: TestPki = testPki()): Buffer {
  const c = new TlsClient(clientConfig(pki, overrides));
  c.start(NOW);
  return Buffer.from(c.takeOutput()!.data);
}
