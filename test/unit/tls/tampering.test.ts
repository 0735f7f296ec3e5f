/**
 * Tampering: flipping any byte of any handshake message makes the handshake fail with a TLS alert —
 * never succeed, never throw anything untyped. Full, resumed and HelloRetryRequest handshakes.
 *
 * A flip in a length field of the last message of a flight can also leave the receiver waiting for
 * bytes that never come (QUIC's idle timeout ends that); this is accepted only for the 4-byte header.
 * NewSessionTicket is not covered: it is post-handshake and only QUIC packet protection guards it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TlsAlertError } from '../../../src/tls/alert.js';
import { HandshakeType } from '../../../src/tls/codepoints.js';
import type { ResumptionSession, TlsClientConfig, TlsServerConfig } from '../../../src/tls/types.js';
import {
  catchTyped,
  clientConfig,
  handshake,
  type InFlightMessage,
  NOW,
  seededRandom,
  serverConfig,
  sessions,
  testPki,
  ticketKeys,
} from './helpers.js';

const pki = testPki();

function positions(length: number): number[] {
  if (length <= 96) return Array.from({ length }, (_, i) => i);
  const out = new Set<number>();
  for (let i = 0; i < 12; i++) out.add(i);
  for (let i = length - 8; i < length; i++) out.add(i);
  const step = Math.max(1, Math.floor(length / 40));
  for (let i = 12; i < length - 8; i += step) out.add(i);
  return [...out].sort((a, b) => a - b);
}

type Outcome = 'alert' | 'stalled';

function tamperRun(
  makeClient: () => TlsClientConfig,
  makeServer: () => TlsServerConfig,
  target: { from: 'client' | 'server'; index: number },
  pos: number,
  xor: number,
): Outcome {
  let hit = false;
  const transform = (m: InFlightMessage): Buffer => {
    if (m.from !== target.from || m.index !== target.index || m.type === HandshakeType.new_session_ticket)
      return m.bytes;
    hit = true;
    const b = Buffer.from(m.bytes);
    // ECDSA signatures vary in length between runs: stay inside the message.
    b[Math.min(pos, b.length - 1)]! ^= xor;
    return b;
  };
  let result: ReturnType<typeof handshake> | undefined;
  let error: unknown;
  try {
    result = handshake(makeClient(), makeServer(), { transform, now: NOW + 1000 });
  } catch (err) {
    error = err;
  }
  assert.ok(hit, 'the targeted message was sent');
  if (error !== undefined) {
    const typed = catchTyped(() => {
      throw error;
    });
    assert.ok(typed instanceof TlsAlertError, `${typed.name}: ${typed.message}`);
    return 'alert';
  }
  assert.ok(result);
  assert.ok(
    !(result.client.complete && result.server.complete),
    `handshake succeeded (${target.from} #${target.index} flip ${xor} at ${pos})`,
  );
  return 'stalled';
}

function tamperAll(name: string, makeClient: () => TlsClientConfig, makeServer: () => TlsServerConfig): void {
  const reference = handshake(makeClient(), makeServer(), { now: NOW + 1000 });
  assert.equal(reference.client.complete && reference.server.complete, true);
  const targets = reference.messages.filter((m) => m.type !== HandshakeType.new_session_ticket);
  assert.ok(targets.length >= 5);
  for (const m of targets) {
    let alerts = 0;
    for (const pos of positions(m.bytes.length)) {
      for (const xor of [0x01, 0x80]) {
        const outcome = tamperRun(makeClient, makeServer, m, pos, xor);
        if (outcome === 'stalled') {
          assert.ok(pos < 4, `${name} ${m.from} ${HandshakeType[m.type]} stalled at ${pos}`);
        } else {
          alerts++;
        }
      }
    }
    assert.ok(alerts > 0, `${name}: ${HandshakeType[m.type]}`);
  }
}

test('tampering with any message of a full handshake -> alert', () => {
  tamperAll(
    'full',
    () => clientConfig(pki, { random: seededRandom('tamper-client') }),
    () => serverConfig(pki, { random: seededRandom('tamper-server') }),
  );
});

test('tampering with any message of a resumed 0-RTT handshake -> alert', () => {
  const keys = ticketKeys('tamper');
  const first = handshake(
    clientConfig(pki),
    serverConfig(pki, { ticketKeys: keys, issueEarlyDataTickets: true }),
  );
  const session: ResumptionSession = sessions(first.client)[0]!;
  tamperAll(
    'resumed',
    () => clientConfig(pki, { session, offerEarlyData: true, random: seededRandom('tamper-client') }),
    () =>
      serverConfig(pki, {
        ticketKeys: keys,
        acceptEarlyData: () => true,
        random: seededRandom('tamper-server'),
      }),
  );
});

test('tampering with any message of a HelloRetryRequest handshake -> alert', () => {
  tamperAll(
    'hrr',
    () => clientConfig(pki, { groups: ['x25519', 'secp256r1'], random: seededRandom('tamper-client') }),
    () => serverConfig(pki, { groups: ['secp256r1'], random: seededRandom('tamper-server') }),
  );
});
