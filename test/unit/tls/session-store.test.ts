/**
 * Session ticket keys (sealing, rotation, shared keys), the ticket plaintext, ResumptionSession
 * serialisation and usability, and the client session cache.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CipherSuite } from '../../../src/crypto/cipher-suite.js';
import { TlsConfigError } from '../../../src/tls/private-key.js';
import {
  decodeResumptionSession,
  encodeResumptionSession,
  InvalidResumptionSessionError,
  isResumptionSessionUsable,
} from '../../../src/tls/resumption-session.js';
import { SessionCache } from '../../../src/tls/session-cache.js';
import {
  decodeSessionTicket,
  encodeSessionTicket,
  type SessionTicketContents,
} from '../../../src/tls/session-ticket.js';
import { SessionTicketKeys } from '../../../src/tls/session-ticket-keys.js';
import type { ResumptionSession } from '../../../src/tls/types.js';
import { NOW, seededRandom } from './helpers.js';

const HOUR = 3600 * 1000;

test('SessionTicketKeys: seal/open round trip; any tampering -> undefined', () => {
  const keys = new SessionTicketKeys({ random: seededRandom('k'), now: NOW, rotationPeriod: HOUR });
  const plaintext = Buffer.from('ticket plaintext');
  const sealed = Buffer.from(keys.seal(plaintext, NOW));
  assert.deepEqual(Buffer.from(keys.open(sealed, NOW + 1)!), plaintext);
  for (let i = 0; i < sealed.length; i++) {
    const t = Buffer.from(sealed);
    t[i]! ^= 0x01;
    assert.equal(keys.open(t, NOW), undefined, `byte ${i}`);
  }
  assert.equal(keys.open(sealed.subarray(0, 20), NOW), undefined);
  assert.equal(keys.open(new Uint8Array(0), NOW), undefined);
  // Two seals of the same plaintext differ (random nonce).
  assert.notDeepEqual(Buffer.from(keys.seal(plaintext, NOW)), sealed);
});

test('SessionTicketKeys: tickets open during their epoch and the next, not later', () => {
  const keys = new SessionTicketKeys({ random: seededRandom('rot'), now: NOW, rotationPeriod: HOUR });
  const start = Math.floor(NOW / HOUR) * HOUR;
  const sealed = keys.seal(Buffer.from('x'), start + 10);
  assert.ok(keys.open(sealed, start + HOUR - 1));
  assert.ok(keys.open(sealed, start + HOUR + 10));
  // A ticket sealed in the new epoch opens too (new key generated lazily).
  const newer = keys.seal(Buffer.from('y'), start + HOUR + 20);
  assert.ok(keys.open(newer, start + HOUR + 30));
  assert.equal(keys.open(sealed, start + 2 * HOUR + 1), undefined);
  // A separate keyring cannot open it.
  const other = new SessionTicketKeys({ random: seededRandom('other'), now: NOW, rotationPeriod: HOUR });
  assert.equal(other.open(newer, start + HOUR + 30), undefined);
});

test('SessionTicketKeys: explicit shared keys work across instances and across a key roll-over', () => {
  const k1 = Buffer.alloc(32, 1);
  const k2 = Buffer.alloc(48, 2);
  const a = new SessionTicketKeys({ random: seededRandom('a'), now: NOW, keys: [k1] });
  const b = new SessionTicketKeys({ random: seededRandom('b'), now: NOW, keys: [k1] });
  const sealed = a.seal(Buffer.from('shared'), NOW);
  assert.equal(Buffer.from(b.open(sealed, NOW + 1000)!).toString(), 'shared');
  const rolled = new SessionTicketKeys({ random: seededRandom('c'), now: NOW, keys: [k2, k1] });
  assert.equal(Buffer.from(rolled.open(sealed, NOW)!).toString(), 'shared');
  const fromRolled = rolled.seal(Buffer.from('new'), NOW);
  assert.equal(a.open(fromRolled, NOW), undefined);
  assert.equal(Buffer.from(rolled.open(fromRolled, NOW)!).toString(), 'new');
  const onlyK2 = new SessionTicketKeys({ random: seededRandom('d'), now: NOW, keys: [k2] });
  assert.equal(onlyK2.open(sealed, NOW), undefined);
  // Shared keys rotate by epoch too (default period: one day).
  assert.equal(b.open(sealed, NOW + 3 * 86400 * 1000), undefined);
  assert.throws(
    () => new SessionTicketKeys({ random: seededRandom('e'), now: NOW, keys: [Buffer.alloc(16)] }),
    TlsConfigError,
  );
  assert.throws(
    () => new SessionTicketKeys({ random: seededRandom('e'), now: NOW, keys: [] }),
    TlsConfigError,
  );
  assert.throws(
    () => new SessionTicketKeys({ random: seededRandom('e'), now: NOW, rotationPeriod: 0 }),
    TlsConfigError,
  );
});

test('session ticket plaintext round-trips; garbage decodes to undefined', () => {
  const t: SessionTicketContents = {
    suite: CipherSuite.AES_256_GCM_SHA384,
    psk: Buffer.alloc(48, 5),
    issuedAt: NOW + 0.5,
    authTime: NOW - 1000,
    ageAdd: 0x01020304,
    lifetime: 86400,
    maxEarlyData: 0xffffffff,
    alpn: Buffer.from('h3'),
    serverName: 'example.com',
    appData: Buffer.from('app'),
    ticketId: Buffer.alloc(16, 9),
  };
  const d = decodeSessionTicket(encodeSessionTicket(t))!;
  assert.deepEqual({ ...d, psk: Buffer.from(d.psk), alpn: Buffer.from(d.alpn) }, t);
  assert.equal(decodeSessionTicket(Buffer.from('garbage')), undefined);
  assert.equal(decodeSessionTicket(encodeSessionTicket({ ...t, psk: Buffer.alloc(32) })), undefined);
  const enc = encodeSessionTicket(t);
  assert.equal(decodeSessionTicket(enc.subarray(0, enc.length - 1)), undefined);
});

const session: ResumptionSession = {
  serverName: 'example.com',
  ticket: Buffer.from('ticket-bytes'),
  ticketAgeAdd: 0xfffffff0,
  lifetime: 3600,
  receivedAt: NOW,
  suite: CipherSuite.AES_128_GCM_SHA256,
  psk: Buffer.alloc(32, 3),
  maxEarlyDataSize: 0xffffffff,
  alpn: 'h3',
  transportParameters: Buffer.from('0104', 'hex'),
};

test('ResumptionSession: encode/decode round trip; garbage -> InvalidResumptionSessionError', () => {
  const enc = encodeResumptionSession(session);
  const d = decodeResumptionSession(enc);
  assert.deepEqual(
    {
      ...d,
      ticket: Buffer.from(d.ticket),
      psk: Buffer.from(d.psk),
      transportParameters: Buffer.from(d.transportParameters),
    },
    session,
  );
  for (let cut = 0; cut < enc.length; cut++) {
    assert.throws(
      () => decodeResumptionSession(enc.slice(0, cut)),
      InvalidResumptionSessionError,
      `cut ${cut}`,
    );
  }
  assert.throws(
    () => decodeResumptionSession(Buffer.concat([enc, Buffer.of(0)])),
    InvalidResumptionSessionError,
  );
  const wrongSuite = Buffer.from(enc);
  assert.throws(
    () => decodeResumptionSession(encodeResumptionSession({ ...session, suite: 0x1304 as CipherSuite })),
    (e: unknown) => e instanceof InvalidResumptionSessionError && e.code === 'ERR_QUIC_INVALID_SESSION',
  );
  wrongSuite[0] = 0x41;
  assert.throws(() => decodeResumptionSession(wrongSuite), InvalidResumptionSessionError);
  assert.throws(
    () => decodeResumptionSession(encodeResumptionSession({ ...session, psk: Buffer.alloc(48) })),
    InvalidResumptionSessionError,
  );
});

test('ResumptionSession: applicationData (HTTP/3 SETTINGS) round-trips; version 1 encodings still decode', () => {
  const withData = { ...session, applicationData: Buffer.from('0106', 'hex') };
  const d = decodeResumptionSession(encodeResumptionSession(withData));
  assert.deepEqual(Buffer.from(d.applicationData ?? []), Buffer.from('0106', 'hex'));
  assert.equal(decodeResumptionSession(encodeResumptionSession(session)).applicationData, undefined);
  // Version 1: the same layout without the trailing applicationData vector (and the u32 rtt of v3).
  const v3 = Buffer.from(encodeResumptionSession(session));
  const v1 = Buffer.from(v3.subarray(0, v3.length - 6));
  v1[4] = 1;
  const old = decodeResumptionSession(v1);
  assert.equal(old.serverName, session.serverName);
  assert.equal(old.applicationData, undefined);
});

test('isResumptionSessionUsable: within the lifetime, never beyond 7 days', () => {
  assert.equal(isResumptionSessionUsable(session, NOW), true);
  assert.equal(isResumptionSessionUsable(session, NOW + 3600 * 1000 - 1), true);
  assert.equal(isResumptionSessionUsable(session, NOW + 3600 * 1000), false);
  assert.equal(isResumptionSessionUsable({ ...session, lifetime: 0 }, NOW), false);
  assert.equal(
    isResumptionSessionUsable({ ...session, lifetime: 0xffffffff }, NOW + 8 * 86400 * 1000),
    false,
  );
  assert.equal(isResumptionSessionUsable({ ...session, ticket: new Uint8Array(0) }, NOW), false);
});

test('SessionCache: single use, newest first, expired skipped, bounded', () => {
  const cache = new SessionCache({ maxServers: 2, maxTicketsPerServer: 2 });
  const s = (name: string, tag: string, lifetime = 3600): ResumptionSession => ({
    ...session,
    serverName: name,
    ticket: Buffer.from(tag),
    lifetime,
  });
  cache.add(s('Example.com', 'old', 1));
  cache.add(s('example.com', 'mid'));
  cache.add(s('example.com', 'new'));
  assert.equal(cache.count('example.com'), 2);
  assert.equal(Buffer.from(cache.take('EXAMPLE.com', NOW)!.ticket).toString(), 'new');
  assert.equal(Buffer.from(cache.take('example.com', NOW)!.ticket).toString(), 'mid');
  assert.equal(cache.take('example.com', NOW), undefined);
  cache.add(s('a', 'expired', 1));
  assert.equal(cache.take('a', NOW + 5000), undefined);
  assert.equal(cache.count('a'), 0);
  cache.add(s('a', '1'));
  cache.add(s('b', '2'));
  cache.add(s('c', '3'));
  assert.equal(cache.count('a'), 0);
  assert.equal(cache.count('b'), 1);
  assert.equal(cache.count('c'), 1);
});

test('ResumptionSession: the remembered RTT (RFC 9002 §6.2.2) round-trips; version 2 decodes without it', () => {
  const d = decodeResumptionSession(encodeResumptionSession({ ...session, rtt: 87.4 }));
  assert.equal(d.rtt, 87);
  assert.equal(decodeResumptionSession(encodeResumptionSession(session)).rtt, undefined);
  const v3 = Buffer.from(encodeResumptionSession({ ...session, rtt: 87 }));
  const v2 = Buffer.from(v3.subarray(0, v3.length - 4));
  v2[4] = 2;
  assert.equal(decodeResumptionSession(v2).rtt, undefined);
});
