/**
 * Property tests for the TLS engine's input handling: arbitrary bytes at any encryption level, framed
 * messages with arbitrary bodies, and random mutations of a real server flight all end in a typed
 * error (or in waiting for more bytes) — never success, never an untyped exception.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { QuicTransportError, TransportErrorCode } from '../../src/errors/transport-error.js';
import { TlsAlertError } from '../../src/tls/alert.js';
import { HandshakeType } from '../../src/tls/codepoints.js';
import { frameHandshakeMessage, HandshakeFramer } from '../../src/tls/handshake-message-framing.js';
import { TlsClient } from '../../src/tls/tls-client.js';
import { TlsServer } from '../../src/tls/tls-server.js';
import { EncryptionLevel, type TlsEngine } from '../../src/tls/types.js';
import { clientConfig, handshake, NOW, seededRandom, serverConfig, testPki } from '../unit/tls/helpers.js';

const pki = testPki();
const LEVELS = [
  EncryptionLevel.Initial,
  EncryptionLevel.EarlyData,
  EncryptionLevel.Handshake,
  EncryptionLevel.Application,
];

/** Feeds chunks; returns 'alert' when a TlsAlertError is thrown, 'waiting' otherwise. */
function feed(engine: TlsEngine, level: EncryptionLevel, chunks: Uint8Array[]): 'alert' | 'waiting' {
  try {
    for (const c of chunks) engine.receive(level, c, NOW);
  } catch (err) {
    if (err instanceof TlsAlertError) return 'alert';
    throw err;
  }
  assert.equal(engine.handshakeComplete, false);
  return 'waiting';
}

function freshClient(): TlsClient {
  const c = new TlsClient(clientConfig(pki, { random: seededRandom('prop-client') }));
  c.start(NOW);
  return c;
}

function freshServer(): TlsServer {
  return new TlsServer(serverConfig(pki, { random: seededRandom('prop-server') }));
}

test('arbitrary bytes at any level -> TlsAlertError or waiting, on client and server', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...LEVELS),
      fc.boolean(),
      fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 4 }),
      (level, isClient, chunks) => {
        feed(isClient ? freshClient() : freshServer(), level, chunks);
      },
    ),
    { numRuns: 400 },
  );
});

test('complete messages of any type with arbitrary bodies -> TlsAlertError', () => {
  const types = Object.values(HandshakeType).filter((v): v is number => typeof v === 'number');
  fc.assert(
    fc.property(
      fc.oneof(fc.constantFrom(...types), fc.integer({ min: 0, max: 255 })),
      fc.uint8Array({ maxLength: 600 }),
      fc.boolean(),
      (type, body, isClient) => {
        const level = EncryptionLevel.Initial;
        const outcome = feed(isClient ? freshClient() : freshServer(), level, [
          frameHandshakeMessage(type, body),
        ]);
        assert.equal(outcome, 'alert');
      },
    ),
    { numRuns: 400 },
  );
});

test('random mutations of a real server flight -> TlsAlertError or waiting, never success', () => {
  const make = () => ({
    client: new TlsClient(clientConfig(pki, { random: seededRandom('mutate-client') })),
    server: new TlsServer(serverConfig(pki, { random: seededRandom('mutate-server') })),
  });
  // Record the server's Initial and Handshake flights once.
  const { client, server } = make();
  client.start(NOW);
  server.receive(EncryptionLevel.Initial, client.takeOutput()!.data, NOW);
  const serverHello = Buffer.from(server.takeOutput()!.data);
  const flight = Buffer.from(server.takeOutput()!.data);
  fc.assert(
    fc.property(
      fc.array(fc.record({ pos: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }), {
        minLength: 1,
        maxLength: 6,
      }),
      fc.integer({ min: 1, max: 64 }),
      (flips, chunk) => {
        const c = new TlsClient(clientConfig(pki, { random: seededRandom('mutate-client') }));
        c.start(NOW);
        c.receive(EncryptionLevel.Initial, serverHello, NOW);
        const mutated = Buffer.from(flight);
        for (const f of flips) mutated[f.pos % mutated.length]! ^= f.xor;
        const chunks: Buffer[] = [];
        for (let i = 0; i < mutated.length; i += chunk) chunks.push(mutated.subarray(i, i + chunk));
        feed(c, EncryptionLevel.Handshake, chunks);
      },
    ),
    { numRuns: 150 },
  );
});

test('after the handshake, arbitrary Application-level bytes -> alert, PROTOCOL_VIOLATION or waiting', () => {
  const r = handshake(clientConfig(pki), serverConfig(pki));
  let n = 0;
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (bytes, asMessage) => {
      // Each run needs a fresh connected client: reuse is impossible once one has failed.
      const fresh = n++ === 0 ? r.clientEngine : handshake(clientConfig(pki), serverConfig(pki)).clientEngine;
      const data = asMessage ? frameHandshakeMessage(bytes[0] ?? 4, bytes.subarray(1)) : bytes;
      try {
        fresh.receive(EncryptionLevel.Application, data, NOW);
      } catch (err) {
        if (err instanceof TlsAlertError) return;
        if (err instanceof QuicTransportError && err.errorCode === TransportErrorCode.PROTOCOL_VIOLATION)
          return;
        throw err;
      }
    }),
    { numRuns: 60 },
  );
});

test('framing: any split of a message sequence yields the same messages', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({ type: fc.integer({ min: 0, max: 255 }), body: fc.uint8Array({ maxLength: 70 }) }),
        {
          minLength: 1,
          maxLength: 6,
        },
      ),
      fc.array(fc.nat(), { maxLength: 8 }),
      (messages, cuts) => {
        const framed = messages.map((m) => frameHandshakeMessage(m.type, m.body));
        const all = Buffer.concat(framed);
        const points = [...new Set(cuts.map((c) => c % (all.length + 1)))].sort((a, b) => a - b);
        const f = new HandshakeFramer();
        const got: Buffer[] = [];
        let prev = 0;
        for (const p of [...points, all.length]) {
          f.push(all.subarray(prev, p));
          prev = p;
          for (let m = f.take(); m; m = f.take()) got.push(Buffer.from(m.raw));
        }
        assert.deepEqual(got, framed);
        assert.equal(f.buffered, 0);
      },
    ),
    { numRuns: 300 },
  );
});
