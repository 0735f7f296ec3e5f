/**
 * The server's checks of a new client's Initial, alone (src/endpoint/initial-admission.ts): which
 * datagrams are dropped, answered statelessly (Version Negotiation, Retry, refusal) or admitted, in
 * which order the checks apply, and that the load is asked only when a check needs it. The endpoint
 * tests (half-open, endpoint) cover the same rules through Endpoint.receive.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AddressTokens } from '../../../src/endpoint/address-token.js';
import { Endpoint as ClientEndpoint, type Endpoint } from '../../../src/endpoint/endpoint.js';
import {
  type AdmissionLoad,
  type AdmissionOptions,
  InitialAdmission,
} from '../../../src/endpoint/initial-admission.js';
import { PacketType, parseInvariantHeader, parsePacket } from '../../../src/wire/packet-header.js';
import { QUIC_V1 } from '../../../src/wire/version.js';
import { junkInitial } from '../../sim/forged-initials.js';
import { DEFAULT_START_TIME, Prng, seededRandomBytes } from '../../sim/network.js';
import { SERVER_ADDRESS, SERVER_NAME, simPki } from '../../sim/quic-harness.js';

const NOW = DEFAULT_START_TIME;
const FROM = '10.0.0.7:4000';

function clientHello(seed = 2): Uint8Array {
  const client: Endpoint = new ClientEndpoint({ random: seededRandomBytes(new Prng(seed)) });
  client.connect(
    {
      remoteAddress: SERVER_ADDRESS,
      tls: { alpn: ['hq-interop'], serverName: SERVER_NAME, ca: [simPki().ca.certPem] },
    },
    NOW,
  );
  const d = client.transmit(NOW);
  assert.ok(d);
  return Uint8Array.from(d.datagram);
}

/** A load that counts how often each figure was asked for. */
function load(halfOpen = 0, unvalidated = 0, connections = 0) {
  const asked = { halfOpen: 0, unvalidated: 0, connections: 0 };
  const l: AdmissionLoad = {
    halfOpen: () => {
      asked.halfOpen++;
      return halfOpen;
    },
    unvalidatedHalfOpen: () => {
      asked.unvalidated++;
      return unvalidated;
    },
    serverConnections: () => {
      asked.connections++;
      return connections;
    },
  };
  return { load: l, asked };
}

/** The load the admission under test sees: set by admit() for each call. */
let currentLoad: AdmissionLoad = load().load;

function admission(options: AdmissionOptions = {}, seed = 1) {
  const random = seededRandomBytes(new Prng(seed));
  const tokens = new AddressTokens({ key: random(32), random });
  const forward: AdmissionLoad = {
    halfOpen: () => currentLoad.halfOpen(),
    unvalidatedHalfOpen: () => currentLoad.unvalidatedHalfOpen(),
    serverConnections: () => currentLoad.serverConnections(),
  };
  return { admission: new InitialAdmission(options, tokens, random, 8, forward), tokens };
}

function admit(a: InitialAdmission, datagram: Uint8Array, l = load().load, from = FROM) {
  currentLoad = l;
  return a.admit(datagram, parseInvariantHeader(datagram, 0, 8), from, NOW);
}

describe('initial admission', () => {
  test('a real ClientHello is admitted with its opened packet and the client keys', () => {
    const hello = clientHello();
    const { admission: a } = admission();
    const r = admit(a, hello);
    assert.equal(r?.kind, 'admit');
    const { admitted } = r as Extract<typeof r, { kind: 'admit' }>;
    const parsed = parsePacket(hello, 0, 8);
    assert.equal(parsed.type, PacketType.Initial);
    assert.deepEqual(Uint8Array.from(admitted.initial.dcid), Uint8Array.from(parsed.dcid));
    assert.deepEqual(Uint8Array.from(admitted.originalDcid), Uint8Array.from(parsed.dcid));
    assert.equal(admitted.retrySourceCid, undefined);
    assert.equal(admitted.validated, false);
    assert.equal(admitted.serverSecret.length, 32);
    assert.ok(admitted.opened.payload.length > 0);
    assert.deepEqual(a.stats, { notClientHello: 0, halfOpenFull: 0, retried: 0, refused: 0 });
  });

  test('under 1200 bytes: dropped, nothing asked, nothing counted', () => {
    const { admission: a } = admission();
    const { load: l, asked } = load();
    assert.equal(admit(a, clientHello().subarray(0, 1199), l), undefined);
    assert.deepEqual(asked, { halfOpen: 0, unvalidated: 0, connections: 0 });
  });

  test('an unknown version gets Version Negotiation listing ours; version 0 gets nothing', () => {
    const hello = clientHello();
    const { admission: a } = admission({ versions: [QUIC_V1] });
    const other = Uint8Array.from(hello);
    new DataView(other.buffer).setUint32(1, 0x1a2a3a4a);
    const r = admit(a, other);
    assert.equal(r?.kind, 'answer');
    const vn = (r as Extract<typeof r, { kind: 'answer' }>).datagram;
    const vnHeader = parseInvariantHeader(vn, 0, 8);
    assert.equal(vnHeader.version, 0);
    // RFC 9000 §6.1 / §17.2.1: the client's CIDs, swapped, then the supported versions.
    const hh = parseInvariantHeader(other, 0, 8);
    assert.deepEqual(Uint8Array.from(vnHeader.dcid), Uint8Array.from(hh.scid));
    assert.deepEqual(Uint8Array.from(vnHeader.scid), Uint8Array.from(hh.dcid));
    assert.deepEqual(Uint8Array.from(vn.subarray(vn.length - 4)), Uint8Array.of(0, 0, 0, 1));
    const zero = Uint8Array.from(hello);
    new DataView(zero.buffer).setUint32(1, 0);
    assert.equal(admit(a, zero), undefined);
  });

  test('junk under an Initial header is dropped and counted as not a ClientHello', () => {
    const { admission: a } = admission();
    const { load: l, asked } = load();
    const prng = new Prng(5);
    for (let i = 0; i < 20; i++) assert.equal(admit(a, junkInitial(prng, i), l), undefined);
    assert.equal(a.stats.notClientHello, 20);
    assert.deepEqual(asked, { halfOpen: 0, unvalidated: 0, connections: 0 });
  });

  test('retry: true answers every tokenless ClientHello with a Retry', () => {
    const hello = clientHello();
    const { admission: a } = admission({ retry: true });
    const r = admit(a, hello);
    assert.equal(r?.kind, 'answer');
    assert.equal(a.stats.retried, 1);
    const retry = parsePacket((r as Extract<typeof r, { kind: 'answer' }>).datagram, 0, 8);
    assert.equal(retry.type, PacketType.Retry);
  });

  test('Retry comes before the half-open bound, the half-open bound before the refusal', () => {
    const hello = clientHello();
    // Many unvalidated half-open connections: Retry, without asking for the other figures.
    const { admission: a1 } = admission({ retryThreshold: 3, maxHalfOpen: 1, maxConnections: 1 });
    const busy = load(5, 3, 5);
    assert.equal(admit(a1, hello, busy.load)?.kind, 'answer');
    assert.equal(a1.stats.retried, 1);
    assert.equal(busy.asked.halfOpen, 0);
    assert.equal(busy.asked.connections, 0);
    // Below the Retry threshold but at the half-open bound: dropped, not refused.
    const { admission: a2 } = admission({ retryThreshold: 3, maxHalfOpen: 1, maxConnections: 1 });
    assert.equal(admit(a2, hello, load(1, 2, 5).load), undefined);
    assert.deepEqual(a2.stats, { notClientHello: 0, halfOpenFull: 1, retried: 0, refused: 0 });
    // Below both: at the connection bound, refused with CONNECTION_CLOSE in an Initial.
    const { admission: a3 } = admission({ retryThreshold: 3, maxHalfOpen: 1, maxConnections: 1 });
    const r = admit(a3, hello, load(0, 0, 1).load);
    assert.equal(r?.kind, 'answer');
    assert.equal(
      parsePacket((r as Extract<typeof r, { kind: 'answer' }>).datagram, 0, 8).type,
      PacketType.Initial,
    );
    assert.deepEqual(a3.stats, { notClientHello: 0, halfOpenFull: 0, retried: 0, refused: 1 });
  });

  /** A fresh client's first Initial carrying `token`. */
  function helloWithToken(token: Uint8Array, seed = 9): Uint8Array {
    const client = new ClientEndpoint({ random: seededRandomBytes(new Prng(seed)) });
    client.connect(
      {
        remoteAddress: SERVER_ADDRESS,
        token,
        tls: { alpn: ['hq-interop'], serverName: SERVER_NAME, ca: [simPki().ca.certPem] },
      },
      NOW,
    );
    const d = client.transmit(NOW);
    assert.ok(d);
    return Uint8Array.from(d.datagram);
  }

  test('a NEW_TOKEN token validates the address: no Retry even with retry: true', () => {
    const { admission: a, tokens } = admission({ retry: true });
    const hello = helloWithToken(tokens.issue({ kind: 'new-token', address: FROM, issuedAt: NOW }));
    const { load: l, asked } = load(0, 1000, 0);
    const r = admit(a, hello, l);
    assert.equal(r?.kind, 'admit');
    const { admitted } = r as Extract<typeof r, { kind: 'admit' }>;
    assert.equal(admitted.validated, true);
    assert.equal(admitted.retrySourceCid, undefined);
    assert.equal(asked.unvalidated, 0);
    // The same token from another address does not validate it: a Retry.
    assert.equal(admit(a, hello, l, '10.9.9.9:1')?.kind, 'answer');
    assert.equal(a.stats.retried, 1);
  });

  test('a Retry token admits with the original DCID it binds and the Retry source CID', () => {
    const { admission: a, tokens } = admission({ retry: true });
    const original = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9);
    const hello = helloWithToken(
      tokens.issue({ kind: 'retry', address: FROM, issuedAt: NOW, originalDcid: original }),
    );
    const r = admit(a, hello);
    assert.equal(r?.kind, 'admit');
    const { admitted } = r as Extract<typeof r, { kind: 'admit' }>;
    assert.equal(admitted.validated, true);
    assert.deepEqual(Uint8Array.from(admitted.originalDcid), original);
    assert.deepEqual(Uint8Array.from(admitted.retrySourceCid ?? []), Uint8Array.from(admitted.initial.dcid));
  });
});
