/**
 * Session tickets, PSK resumption and 0-RTT between the engines: accepted, rejected (policy, HRR, ALPN,
 * ticket age, ticket without early data), and the fallbacks to a full handshake.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CipherSuite, DEFAULT_CIPHER_SUITES } from '../../../src/crypto/cipher-suite.js';
import { QuicTransportError, TransportErrorCode } from '../../../src/errors/transport-error.js';
import { AlertDescription, TlsAlertError } from '../../../src/tls/alert.js';
import { ExtensionType, HandshakeType } from '../../../src/tls/codepoints.js';
import { KeySchedule } from '../../../src/tls/key-schedule.js';
import { decodeClientHello } from '../../../src/tls/messages/client-hello.js';
import {
  decodeNewSessionTicket,
  encodeNewSessionTicket,
} from '../../../src/tls/messages/new-session-ticket.js';
import { SessionTicketKeys } from '../../../src/tls/session-ticket-keys.js';
import { type EarlyDataContext, EncryptionLevel, type ResumptionSession } from '../../../src/tls/types.js';
import {
  catchTyped,
  clientConfig,
  eventsOfType,
  handshake,
  NOW,
  SERVER_TP,
  secretPairs,
  seededRandom,
  serverConfig,
  sessions,
  testPki,
  ticketKeys,
} from './helpers.js';

const pki = testPki();
const DAY = 86400 * 1000;

function firstSession(
  serverOverrides: Parameters<typeof serverConfig>[1] = {},
  clientOverrides: Parameters<typeof clientConfig>[1] = {},
): { session: ResumptionSession; keys: SessionTicketKeys } {
  const keys = (serverOverrides.ticketKeys as SessionTicketKeys | undefined) ?? ticketKeys();
  const r = handshake(
    clientConfig(pki, clientOverrides),
    serverConfig(pki, { ticketKeys: keys, ...serverOverrides }),
  );
  const [session] = sessions(r.client);
  assert.ok(session, 'a session ticket was received');
  return { session, keys };
}

const early = { issueEarlyDataTickets: true, acceptEarlyData: () => true };

test('tickets: NewSessionTicket at the Application level becomes a ResumptionSession', () => {
  const keys = ticketKeys();
  const r = handshake(
    clientConfig(pki),
    serverConfig(pki, {
      ticketKeys: keys,
      ticketsPerConnection: 2,
      issueEarlyDataTickets: true,
      ticketLifetime: 7200,
    }),
  );
  const nsts = r.messages.filter((m) => m.type === HandshakeType.new_session_ticket);
  assert.equal(nsts.length, 2);
  for (const m of nsts) assert.equal(m.level, EncryptionLevel.Application);
  const nst = decodeNewSessionTicket(nsts[0]!.bytes.subarray(4));
  assert.equal(nst.lifetime, 7200);
  assert.equal(Buffer.from(nst.extensions.get(ExtensionType.early_data)!).toString('hex'), 'ffffffff');
  const list = sessions(r.client);
  assert.equal(list.length, 2);
  const s = list[0]!;
  assert.equal(s.serverName, 'example.com');
  assert.equal(s.alpn, 'h3');
  assert.equal(s.suite, DEFAULT_CIPHER_SUITES[0]);
  assert.equal(s.lifetime, 7200);
  assert.equal(s.receivedAt, NOW);
  assert.equal(s.maxEarlyDataSize, 0xffffffff);
  assert.equal(s.psk.length, 32);
  assert.deepEqual(Buffer.from(s.transportParameters), SERVER_TP);
  assert.equal(s.ticketAgeAdd, nst.ageAdd);
  assert.notDeepEqual(Buffer.from(list[0]!.psk), Buffer.from(list[1]!.psk));
  assert.notEqual(list[0]!.ticketAgeAdd, list[1]!.ticketAgeAdd);
});

test("a ticket's PSK is derived when first read; the resumption master secret once per connection", () => {
  const original = KeySchedule.prototype.resumptionMasterSecret;
  let derived = 0;
  KeySchedule.prototype.resumptionMasterSecret = function (this: KeySchedule, th: Uint8Array) {
    derived++;
    return original.call(this, th);
  };
  try {
    const keys = ticketKeys();
    const r = handshake(clientConfig(pki), serverConfig(pki, { ticketKeys: keys, ticketsPerConnection: 2 }));
    const list = sessions(r.client);
    assert.equal(list.length, 2);
    // The server's, for the tickets it sealed; the client has derived nothing yet (a client that
    // keeps no sessions never does).
    assert.equal(derived, 1);
    const psk0 = Buffer.from(list[0]!.psk);
    assert.equal(derived, 2);
    const psk1 = Buffer.from(list[1]!.psk);
    assert.equal(derived, 2, 'one resumption master secret for both tickets');
    assert.equal(psk0.length, 32);
    assert.notDeepEqual(psk0, psk1);
    assert.deepEqual(Buffer.from(list[0]!.psk), psk0, 'stable');
    // To its readers it is a plain field: spread, JSON, assignment.
    assert.deepEqual(Buffer.from({ ...list[1]! }.psk), psk1);
    assert.ok(Object.keys(list[0]!).includes('psk'));
    const replaced = { ...list[0]! };
    replaced.psk = Buffer.alloc(32, 1);
    assert.deepEqual(Buffer.from(replaced.psk), Buffer.alloc(32, 1));
    // Each resumes (the server's ticket holds the PSK the client derived lazily).
    for (const session of list) {
      const again = handshake(clientConfig(pki, { session }), serverConfig(pki, { ticketKeys: keys }), {
        now: NOW + 1000,
      });
      assert.equal(eventsOfType(again.client, 'handshake-complete')[0]!.resumed, true);
      for (const [name, a, b] of secretPairs(again)) assert.equal(a, b, name);
    }
  } finally {
    KeySchedule.prototype.resumptionMasterSecret = original;
  }
});

test('tickets: none without ticketKeys; no early_data extension unless issueEarlyDataTickets', () => {
  const r = handshake(clientConfig(pki), serverConfig(pki));
  assert.equal(r.messages.filter((m) => m.type === HandshakeType.new_session_ticket).length, 0);
  const { session } = firstSession();
  assert.equal(session.maxEarlyDataSize, 0);
});

test('resumption: PSK handshake without certificates, same secrets, new tickets', () => {
  const { session, keys } = firstSession();
  const r = handshake(clientConfig(pki, { session }), serverConfig(pki, { ticketKeys: keys }), {
    now: NOW + 5000,
  });
  assert.equal(r.client.complete && r.server.complete, true);
  const [c] = eventsOfType(r.client, 'handshake-complete');
  const [s] = eventsOfType(r.server, 'handshake-complete');
  assert.equal(c!.resumed, true);
  assert.equal(s!.resumed, true);
  assert.equal(c!.peerCertificates.length, 0);
  assert.deepEqual(
    r.messages.map((m) => HandshakeType[m.type]),
    ['client_hello', 'server_hello', 'encrypted_extensions', 'finished', 'finished', 'new_session_ticket'],
  );
  for (const [name, a, b] of secretPairs(r)) assert.equal(a, b, name);
  assert.equal(eventsOfType(r.client, 'early-data').length, 0);
  assert.equal(sessions(r.client).length, 1);
});

test('resumption: the server decrypts the offered ticket once (suite choice and PSK selection share it)', () => {
  const { session, keys } = firstSession({ issueEarlyDataTickets: true });
  let opened = 0;
  const counting = {
    seal: (plaintext: Uint8Array, now: number) => keys.seal(plaintext, now),
    open: (ticket: Uint8Array, now: number) => {
      opened++;
      return keys.open(ticket, now);
    },
  };
  const r = handshake(
    clientConfig(pki, { session, offerEarlyData: true }),
    serverConfig(pki, { ticketKeys: counting, acceptEarlyData: () => true }),
    { now: NOW + 3000 },
  );
  assert.equal(eventsOfType(r.server, 'handshake-complete')[0]!.resumed, true);
  assert.deepEqual(eventsOfType(r.server, 'early-data'), [{ type: 'early-data', accepted: true }]);
  assert.equal(opened, 1);
});

test('0-RTT accepted: early secret on both sides, policy context, EncryptedExtensions early_data', () => {
  const contexts: EarlyDataContext[] = [];
  const appData = Buffer.from('remembered server settings');
  const { session, keys } = firstSession({ issueEarlyDataTickets: true, ticketAppData: () => appData });
  const clientLog: string[] = [];
  const serverLog: string[] = [];
  const r = handshake(
    clientConfig(pki, { session, offerEarlyData: true, keyLog: (l) => clientLog.push(l) }),
    serverConfig(pki, {
      ticketKeys: keys,
      keyLog: (l) => serverLog.push(l),
      acceptEarlyData: (ctx) => {
        contexts.push(ctx);
        return true;
      },
    }),
    { now: NOW + 3000 },
  );
  assert.deepEqual(eventsOfType(r.client, 'early-data'), [{ type: 'early-data', accepted: true }]);
  assert.deepEqual(eventsOfType(r.server, 'early-data'), [{ type: 'early-data', accepted: true }]);
  const clientEarly = r.client.secrets.get('EarlyData/write');
  assert.ok(clientEarly);
  assert.equal(clientEarly, r.server.secrets.get('EarlyData/read'));
  // The client's early secret comes right after the ClientHello, before any server byte.
  assert.equal(r.client.events[0]!.type, 'secret');
  for (const [name, a, b] of secretPairs(r)) assert.equal(a, b, name);
  assert.equal(contexts.length, 1);
  const ctx = contexts[0]!;
  assert.equal(ctx.serverName, 'example.com');
  assert.equal(ctx.alpn, 'h3');
  assert.equal(ctx.suite, DEFAULT_CIPHER_SUITES[0]);
  assert.equal(ctx.clientTicketAge, 3000);
  assert.equal(ctx.serverTicketAge, 3000);
  assert.deepEqual(Buffer.from(ctx.ticketAppData), appData);
  assert.equal(ctx.ticketId.length, 16);
  const ch = decodeClientHello(r.messages[0]!.bytes.subarray(4));
  assert.equal(ch.extensions.has(ExtensionType.early_data), true);
  assert.equal(ch.extensions.order.at(-1), ExtensionType.pre_shared_key);
  const cets = (lines: string[]) =>
    lines.find((l) => l.startsWith('CLIENT_EARLY_TRAFFIC_SECRET'))?.split(' ')[2];
  assert.equal(cets(clientLog), clientEarly);
  assert.equal(cets(serverLog), clientEarly);
});

test('0-RTT rejected by the server policy: both sides told, no early read key, still resumed', () => {
  for (const acceptEarlyData of [undefined, () => false]) {
    const { session, keys } = firstSession({ issueEarlyDataTickets: true });
    const r = handshake(
      clientConfig(pki, { session, offerEarlyData: true }),
      serverConfig(pki, { ticketKeys: keys, acceptEarlyData }),
      { now: NOW + 1000 },
    );
    assert.deepEqual(eventsOfType(r.client, 'early-data'), [{ type: 'early-data', accepted: false }]);
    assert.deepEqual(eventsOfType(r.server, 'early-data'), [{ type: 'early-data', accepted: false }]);
    assert.ok(r.client.secrets.has('EarlyData/write'));
    assert.equal(r.server.secrets.has('EarlyData/read'), false);
    assert.equal(eventsOfType(r.client, 'handshake-complete')[0]!.resumed, true);
  }
});

test('0-RTT rejected by a HelloRetryRequest; the PSK still resumes the session', () => {
  const { session, keys } = firstSession({ issueEarlyDataTickets: true });
  let asked = 0;
  const r = handshake(
    clientConfig(pki, { session, offerEarlyData: true }),
    serverConfig(pki, {
      ticketKeys: keys,
      groups: ['secp256r1'],
      acceptEarlyData: () => {
        asked++;
        return true;
      },
    }),
    { now: NOW + 1000 },
  );
  assert.equal(r.messages.filter((m) => m.type === HandshakeType.client_hello).length, 2);
  assert.deepEqual(eventsOfType(r.client, 'early-data'), [{ type: 'early-data', accepted: false }]);
  assert.deepEqual(eventsOfType(r.server, 'early-data'), [{ type: 'early-data', accepted: false }]);
  assert.equal(asked, 0);
  assert.equal(eventsOfType(r.server, 'handshake-complete')[0]!.resumed, true);
  const ch2 = decodeClientHello(r.messages[2]!.bytes.subarray(4));
  assert.equal(ch2.extensions.has(ExtensionType.early_data), false);
  assert.equal(ch2.extensions.has(ExtensionType.pre_shared_key), true);
});

test('0-RTT is not offered with a ticket that does not allow it', () => {
  const { session, keys } = firstSession();
  const r = handshake(
    clientConfig(pki, { session, offerEarlyData: true }),
    serverConfig(pki, { ticketKeys: keys, ...early }),
  );
  assert.equal(eventsOfType(r.client, 'early-data').length, 0);
  assert.equal(eventsOfType(r.server, 'early-data').length, 0);
  assert.equal(
    decodeClientHello(r.messages[0]!.bytes.subarray(4)).extensions.has(ExtensionType.early_data),
    false,
  );
  assert.equal(eventsOfType(r.client, 'handshake-complete')[0]!.resumed, true);
});

test('a different ALPN selection falls back to a full handshake and rejects 0-RTT', () => {
  const { session, keys } = firstSession({ issueEarlyDataTickets: true });
  const r = handshake(
    clientConfig(pki, { session, offerEarlyData: true, alpn: ['h3', 'hq-interop'] }),
    serverConfig(pki, { ticketKeys: keys, alpn: ['hq-interop', 'h3'], ...early }),
  );
  assert.equal(eventsOfType(r.client, 'handshake-complete')[0]!.resumed, false);
  assert.equal(eventsOfType(r.client, 'handshake-complete')[0]!.alpn, 'hq-interop');
  assert.deepEqual(eventsOfType(r.client, 'early-data'), [{ type: 'early-data', accepted: false }]);
  assert.ok(r.messages.some((m) => m.type === HandshakeType.certificate));
});

test('ticket age outside the tolerance: resumed, but 0-RTT rejected without asking the policy', () => {
  const { session, keys } = firstSession({ issueEarlyDataTickets: true });
  let asked = 0;
  // The client believes the ticket is 20 s younger than the server knows it is.
  const skewed = { ...session, receivedAt: session.receivedAt + 20000 };
  const r = handshake(
    clientConfig(pki, { session: skewed, offerEarlyData: true }),
    serverConfig(pki, {
      ticketKeys: keys,
      ticketAgeTolerance: 10000,
      acceptEarlyData: () => {
        asked++;
        return true;
      },
    }),
    { now: NOW + 25000 },
  );
  assert.equal(asked, 0);
  assert.deepEqual(eventsOfType(r.client, 'early-data'), [{ type: 'early-data', accepted: false }]);
  assert.equal(eventsOfType(r.client, 'handshake-complete')[0]!.resumed, true);
});

test('unusable tickets fall back to a full handshake: expired, tampered, foreign keyring, other SNI', () => {
  const { session, keys } = firstSession({ ticketLifetime: 60 });
  const full = (s: ResumptionSession, now: number, serverKeys = keys, serverName = 'example.com') => {
    const r = handshake(
      clientConfig(pki, { session: s, serverName }),
      serverConfig(pki, { ticketKeys: serverKeys }),
      {
        now,
      },
    );
    assert.equal(r.client.complete && r.server.complete, true);
    return eventsOfType(r.client, 'handshake-complete')[0]!.resumed;
  };
  assert.equal(full(session, NOW + 1000), true);
  // Expired by the server's clock although the client thinks it is fine.
  assert.equal(full({ ...session, lifetime: 3600 }, NOW + 120000), false);
  const tampered = Buffer.from(session.ticket);
  tampered[tampered.length - 1]! ^= 1;
  assert.equal(full({ ...session, ticket: tampered }, NOW + 1000), false);
  assert.equal(full(session, NOW + 1000, ticketKeys('another keyring')), false);
  // Client side: a session for another server name is not offered.
  assert.equal(full({ ...session, serverName: 'other.example' }, NOW + 1000), false);
});

test('a PSK whose binder does not verify aborts with decrypt_error', () => {
  const { session, keys } = firstSession();
  const badPsk = Buffer.from(session.psk);
  badPsk[0]! ^= 0x80;
  const err = catchTyped(() =>
    handshake(
      clientConfig(pki, { session: { ...session, psk: badPsk } }),
      serverConfig(pki, { ticketKeys: keys }),
    ),
  );
  assert.ok(err instanceof TlsAlertError);
  assert.equal(err.alert, AlertDescription.decrypt_error);
});

test('the server prefers the ticket suite so that 0-RTT stays possible', () => {
  const suites = [CipherSuite.AES_128_GCM_SHA256, CipherSuite.CHACHA20_POLY1305_SHA256];
  const { session, keys } = firstSession(
    { cipherSuites: suites, issueEarlyDataTickets: true },
    { cipherSuites: suites },
  );
  assert.equal(session.suite, CipherSuite.AES_128_GCM_SHA256);
  const r = handshake(
    clientConfig(pki, { session, offerEarlyData: true, cipherSuites: suites }),
    serverConfig(pki, { ticketKeys: keys, cipherSuites: [...suites].reverse(), ...early }),
  );
  assert.equal(eventsOfType(r.client, 'handshake-complete')[0]!.suite, CipherSuite.AES_128_GCM_SHA256);
  assert.deepEqual(eventsOfType(r.client, 'early-data'), [{ type: 'early-data', accepted: true }]);
});

test('a SHA-384 ticket is not offered when only SHA-256 suites are configured', () => {
  const { session, keys } = firstSession(
    { cipherSuites: [CipherSuite.AES_256_GCM_SHA384] },
    { cipherSuites: [CipherSuite.AES_256_GCM_SHA384] },
  );
  assert.equal(session.psk.length, 48);
  const r = handshake(
    clientConfig(pki, { session, cipherSuites: [CipherSuite.AES_128_GCM_SHA256] }),
    serverConfig(pki, { ticketKeys: keys }),
  );
  assert.equal(
    decodeClientHello(r.messages[0]!.bytes.subarray(4)).extensions.has(ExtensionType.pre_shared_key),
    false,
  );
  assert.equal(eventsOfType(r.client, 'handshake-complete')[0]!.resumed, false);
});

test('servers sharing explicit ticket keys resume each other’s sessions', () => {
  const shared = [Buffer.alloc(32, 7)];
  const a = new SessionTicketKeys({ random: seededRandom('a'), now: NOW, keys: shared });
  const b = new SessionTicketKeys({ random: seededRandom('b'), now: NOW, keys: shared });
  const { session } = firstSession({ ticketKeys: a, ...early });
  const r = handshake(
    clientConfig(pki, { session, offerEarlyData: true }),
    serverConfig(pki, { ticketKeys: b, ...early }),
  );
  assert.equal(eventsOfType(r.server, 'handshake-complete')[0]!.resumed, true);
  assert.deepEqual(eventsOfType(r.server, 'early-data'), [{ type: 'early-data', accepted: true }]);
});

test('tickets from resumed connections keep the original authentication time (7-day cap)', () => {
  const keys = new SessionTicketKeys({ random: seededRandom('long'), now: NOW, rotationPeriod: 30 * DAY });
  const cfg = { ticketKeys: keys, ticketLifetime: 604800 };
  const { session } = firstSession(cfg);
  const r1 = handshake(clientConfig(pki, { session }), serverConfig(pki, cfg), { now: NOW + 6 * DAY });
  assert.equal(eventsOfType(r1.client, 'handshake-complete')[0]!.resumed, true);
  const [second] = sessions(r1.client);
  const r2 = handshake(clientConfig(pki, { session: second }), serverConfig(pki, cfg), {
    now: NOW + 7.5 * DAY,
  });
  assert.equal(r2.client.complete, true);
  assert.equal(eventsOfType(r2.client, 'handshake-complete')[0]!.resumed, false);
});

test('client checks NewSessionTicket: max_early_data_size must be 0xffffffff; lifetime 0 is dropped', () => {
  const rewrite = (
    mutate: (nst: ReturnType<typeof decodeNewSessionTicket>) => Parameters<typeof encodeNewSessionTicket>[0],
  ) =>
    handshake(
      clientConfig(pki),
      serverConfig(pki, { ticketKeys: ticketKeys(), issueEarlyDataTickets: true }),
      {
        transform: (m) =>
          m.type === HandshakeType.new_session_ticket
            ? encodeNewSessionTicket(mutate(decodeNewSessionTicket(m.bytes.subarray(4))))
            : m.bytes,
      },
    );
  const base = (nst: ReturnType<typeof decodeNewSessionTicket>) => ({
    lifetime: nst.lifetime,
    ageAdd: nst.ageAdd,
    nonce: nst.nonce,
    ticket: nst.ticket,
    extensions: [] as Array<{ type: number; data: Uint8Array }>,
  });
  const err = catchTyped(() =>
    rewrite((nst) => ({
      ...base(nst),
      extensions: [{ type: ExtensionType.early_data, data: Buffer.from('00000400', 'hex') }],
    })),
  );
  assert.ok(err instanceof QuicTransportError);
  assert.equal(err.errorCode, TransportErrorCode.PROTOCOL_VIOLATION);
  const tooLong = catchTyped(() => rewrite((nst) => ({ ...base(nst), lifetime: 604801 })));
  assert.ok(tooLong instanceof TlsAlertError);
  assert.equal(tooLong.alert, AlertDescription.illegal_parameter);
  const zero = rewrite((nst) => ({ ...base(nst), lifetime: 0 }));
  assert.equal(sessions(zero.client).length, 0);
  assert.equal(zero.client.complete, true);
});
