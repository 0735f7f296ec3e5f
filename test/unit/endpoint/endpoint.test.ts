/**
 * The server side of the Endpoint with hand-made datagrams: Version Negotiation (RFC 9000 §6.1), the
 * minimum Initial size and DCID length (§14.1, §7.2), Retry (§8.1.2, RFC 9001 §5.8), stateless reset
 * (§10.3), the half-open bound, and that routes go away with their connections.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DatagramBuilder } from '../../../src/connection/datagram-builder.js';
import { deriveInitialKeys } from '../../../src/crypto/packet-keys.js';
import { verifyRetryIntegrity } from '../../../src/crypto/retry.js';
import { StatelessResetTokens } from '../../../src/crypto/stateless-reset.js';
import { AddressTokens } from '../../../src/endpoint/address-token.js';
import { Endpoint, type EndpointConfig, type ServerEndpointOptions } from '../../../src/endpoint/endpoint.js';
import { PacketNumberSpace } from '../../../src/recovery/types.js';
import { FrameType } from '../../../src/wire/frames.js';
import { PacketType, parsePacket } from '../../../src/wire/packet-header.js';
import { QUIC_V1, QUIC_V2, SUPPORTED_VERSIONS } from '../../../src/wire/version.js';
import { forgeInitial, realHello } from '../../sim/forged-initials.js';
import { DEFAULT_START_TIME, Prng, seededRandomBytes } from '../../sim/network.js';
import { CLIENT_ADDRESS, QuicSim, SERVER_ADDRESS, SERVER_NAME, simPki } from '../../sim/quic-harness.js';

const NOW = DEFAULT_START_TIME;
const RESET_KEY = new Uint8Array(32).fill(0x42);
const TOKEN_KEY = new Uint8Array(32).fill(0x24);

function server(opts: Partial<ServerEndpointOptions> = {}, extra: Partial<EndpointConfig> = {}): Endpoint {
  const pki = simPki();
  return new Endpoint({
    random: seededRandomBytes(new Prng(1)),
    statelessResetKey: RESET_KEY,
    tokenKey: TOKEN_KEY,
    server: {
      tls: {
        alpn: ['hq-interop'],
        identity: { certificateChain: pki.leaf.certPem, privateKey: pki.leaf.keyPem },
      },
      ...opts,
    },
    ...extra,
  });
}

function drain(e: Endpoint, now = NOW): Array<{ datagram: Uint8Array; to: string }> {
  const out: Array<{ datagram: Uint8Array; to: string }> = [];
  for (let d = e.transmit(now); d; d = e.transmit(now))
    out.push({ datagram: Uint8Array.from(d.datagram), to: d.to });
  return out;
}

/** A long header with an arbitrary version (RFC 8999 §5.1): only the invariant fields are meaningful. */
function unknownVersionDatagram(
  version: number,
  dcid: Uint8Array,
  scid: Uint8Array,
  size: number,
): Uint8Array {
  const d = new Uint8Array(size).fill(0x5a);
  let o = 0;
  d[o++] = 0xc3;
  new DataView(d.buffer).setUint32(o, version);
  o += 4;
  d[o++] = dcid.length;
  d.set(dcid, o);
  o += dcid.length;
  d[o++] = scid.length;
  d.set(scid, o);
  return d;
}

const dcidOf = (n: number, len = 8) => Uint8Array.from({ length: len }, (_, i) => (n * 17 + i) & 0xff);

describe('Version Negotiation (RFC 9000 §6.1, §17.2.1)', () => {
  test('an unknown version in a datagram of 1200 bytes gets VN: CIDs swapped, our versions listed', () => {
    const e = server();
    const dcid = dcidOf(1);
    const scid = Uint8Array.from([1, 2, 3]);
    e.receive(unknownVersionDatagram(0x1a2a3a4a, dcid, scid, 1200), CLIENT_ADDRESS, NOW);
    const out = drain(e);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.to, CLIENT_ADDRESS);
    const vn = parsePacket(out[0]!.datagram, 0, 8);
    assert.equal(vn.type, PacketType.VersionNegotiation);
    assert.ok(vn.type === PacketType.VersionNegotiation);
    assert.deepEqual(Uint8Array.from(vn.dcid), scid);
    assert.deepEqual(Uint8Array.from(vn.scid), dcid);
    assert.deepEqual(vn.versions, [...SUPPORTED_VERSIONS]);
    // Long header form bit set, version field 0.
    assert.equal(out[0]!.datagram[0]! & 0x80, 0x80);
    assert.deepEqual([...out[0]!.datagram.subarray(1, 5)], [0, 0, 0, 0]);
    // No state was created.
    assert.equal(e.connections.size, 0);
    assert.equal(e.routeCount, 0);
  });

  test('the configured versions are listed, and CIDs longer than 20 bytes (RFC 8999) are echoed', () => {
    const e = server({ versions: [QUIC_V2] });
    const dcid = dcidOf(2, 40);
    const scid = dcidOf(3, 255);
    // QUIC v1 is unknown to this server.
    e.receive(unknownVersionDatagram(QUIC_V1, dcid, scid, 1300), CLIENT_ADDRESS, NOW);
    const [vn] = drain(e);
    const p = parsePacket(vn!.datagram, 0, 8);
    assert.ok(p.type === PacketType.VersionNegotiation);
    assert.deepEqual(Uint8Array.from(p.dcid), scid);
    assert.deepEqual(Uint8Array.from(p.scid), dcid);
    assert.deepEqual(p.versions, [QUIC_V2]);
  });

  test('no VN below 1200 bytes (amplification), nor for version 0 itself', () => {
    const e = server();
    e.receive(unknownVersionDatagram(0x1a2a3a4a, dcidOf(1), dcidOf(2), 1199), CLIENT_ADDRESS, NOW);
    e.receive(unknownVersionDatagram(0, dcidOf(1), dcidOf(2), 1200), CLIENT_ADDRESS, NOW);
    assert.deepEqual(drain(e), []);
  });
});

describe('accepting Initials (RFC 9000 §14.1, §7.2)', () => {
  test('a valid Initial of 1200 bytes creates a connection that answers', () => {
    const e = server();
    e.receive(forgeInitial({ dcid: dcidOf(1), size: 1200 }), CLIENT_ADDRESS, NOW);
    assert.equal(e.connections.size, 1);
    const ev = e.pollEvent();
    assert.equal(ev?.type, 'connection');
    assert.equal(e.pollEvent(), undefined);
    // Routed by the client's DCID and by the server's own CID.
    assert.equal(e.routeCount, 2);
    assert.equal(e.halfOpenCount, 1);
    // The PING is acknowledged in an Initial to the client.
    const out = drain(e);
    assert.ok(out.length >= 1);
    assert.equal(out[0]!.to, CLIENT_ADDRESS);
    assert.equal(parsePacket(out[0]!.datagram, 0, 8).type, PacketType.Initial);
    // The same DCID again is routed to that connection, not a new one.
    e.receive(forgeInitial({ dcid: dcidOf(1), size: 1200 }), CLIENT_ADDRESS, NOW);
    assert.equal(e.connections.size, 1);
  });

  test('a datagram routed to an existing connection makes it transmit without any other prompt', () => {
    const e = server();
    e.receive(forgeInitial({ dcid: dcidOf(1), size: 1200 }), CLIENT_ADDRESS, NOW);
    drain(e);
    assert.deepEqual(drain(e), []);
    // A second Initial (packet number 1 this time would be new; 0 again is a duplicate, so bump it).
    const b = new DatagramBuilder(new Uint8Array(2048));
    b.reset(1200);
    b.openLong(
      { type: PacketType.Initial, version: QUIC_V1, dcid: dcidOf(1), scid: realHello().scid },
      PacketNumberSpace.Initial,
      deriveInitialKeys(QUIC_V1, dcidOf(1)).client,
      1,
      4,
    );
    b.writeFrame({ type: FrameType.Ping });
    b.closePacket();
    b.padDatagramTo(1200);
    e.receive(b.buffer.slice(0, b.seal()), CLIENT_ADDRESS, NOW + 1);
    // RFC 9000 §13.2.1: Initial packets are acknowledged at once.
    const out = drain(e, NOW + 1);
    assert.equal(out.length, 1);
    assert.equal(parsePacket(out[0]!.datagram, 0, 8).type, PacketType.Initial);
  });

  test('an Initial in a datagram below 1200 bytes is dropped without a response', () => {
    const e = server();
    e.receive(forgeInitial({ dcid: dcidOf(1), size: 1199 }), CLIENT_ADDRESS, NOW);
    assert.equal(e.connections.size, 0);
    assert.equal(e.pollEvent(), undefined);
    assert.deepEqual(drain(e), []);
  });

  test('an Initial with a DCID shorter than 8 bytes is dropped', () => {
    const e = server();
    for (const len of [0, 1, 7]) {
      e.receive(forgeInitial({ dcid: dcidOf(1, len), size: 1200 }), CLIENT_ADDRESS, NOW);
    }
    assert.equal(e.connections.size, 0);
    assert.deepEqual(drain(e), []);
    e.receive(forgeInitial({ dcid: dcidOf(1, 20), size: 1200 }), CLIENT_ADDRESS, NOW);
    assert.equal(e.connections.size, 1);
  });

  test('0-RTT and Handshake packets for unknown connections, and garbage, create nothing', () => {
    const e = server();
    const d = forgeInitial({ dcid: dcidOf(1), size: 1200 });
    // Rewrite the long packet type bits: v1 0-RTT is 01, Handshake 10.
    const zeroRtt = Uint8Array.from(d);
    zeroRtt[0] = (zeroRtt[0]! & 0xcf) | 0x10;
    const handshake = Uint8Array.from(d);
    handshake[0] = (handshake[0]! & 0xcf) | 0x20;
    e.receive(zeroRtt, CLIENT_ADDRESS, NOW);
    e.receive(handshake, CLIENT_ADDRESS, NOW);
    e.receive(new Uint8Array(0), CLIENT_ADDRESS, NOW);
    e.receive(Uint8Array.of(0xc0, 0, 0), CLIENT_ADDRESS, NOW);
    assert.equal(e.connections.size, 0);
    assert.deepEqual(drain(e), []);
  });

  test('the half-open bound: Initials beyond maxHalfOpen are dropped until one closes', () => {
    const e = server({ maxHalfOpen: 3 });
    for (let i = 0; i < 5; i++)
      e.receive(forgeInitial({ dcid: dcidOf(10 + i), size: 1200 }), CLIENT_ADDRESS, NOW);
    assert.equal(e.connections.size, 3);
    assert.equal(e.halfOpenCount, 3);
    const first = [...e.connections][0]!;
    first.close(0, 'bye', NOW);
    assert.equal(e.halfOpenCount, 2);
    e.receive(forgeInitial({ dcid: dcidOf(20), size: 1200 }), CLIENT_ADDRESS, NOW);
    assert.equal(e.halfOpenCount, 3);
    assert.equal(e.connections.size, 4);
  });

  test('stopAccepting: new Initials are ignored', () => {
    const e = server();
    e.stopAccepting();
    e.receive(forgeInitial({ dcid: dcidOf(1), size: 1200 }), CLIENT_ADDRESS, NOW);
    assert.equal(e.connections.size, 0);
  });
});

describe('Retry (RFC 9000 §8.1.2, §17.2.5)', () => {
  function clientInitial() {
    const client = new Endpoint({ random: seededRandomBytes(new Prng(2)) });
    const conn = client.connect(
      {
        remoteAddress: SERVER_ADDRESS,
        tls: { alpn: ['hq-interop'], serverName: SERVER_NAME, ca: [simPki().ca.certPem] },
      },
      NOW,
    );
    const [first] = drain(client);
    return { client, conn, datagram: first!.datagram };
  }

  test('a Retry with a valid integrity tag and a token that validates; the client follows it', () => {
    const e = server({ retry: true });
    const { client, conn, datagram } = clientInitial();
    assert.ok(datagram.length >= 1200);
    const odcid = Uint8Array.from(conn.originalDcid);
    e.receive(datagram, CLIENT_ADDRESS, NOW);
    assert.equal(e.connections.size, 0, 'no state before the address is validated');
    const out = drain(e);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.to, CLIENT_ADDRESS);
    const retry = parsePacket(out[0]!.datagram, 0, 8);
    assert.ok(retry.type === PacketType.Retry);
    assert.equal(retry.version, QUIC_V1);
    assert.deepEqual(Uint8Array.from(retry.dcid), Uint8Array.from(conn.localCid));
    assert.equal(retry.scid.length, 8);
    assert.notDeepEqual(Uint8Array.from(retry.scid), odcid);
    // RFC 9001 §5.8: the tag covers the client's original DCID.
    assert.equal(verifyRetryIntegrity(QUIC_V1, odcid, out[0]!.datagram), true);
    const badOdcid = Uint8Array.from(odcid);
    badOdcid[0]! ^= 1;
    assert.equal(verifyRetryIntegrity(QUIC_V1, badOdcid, out[0]!.datagram), false);
    // The token is ours, bound to the address and the original DCID.
    const tokens = new AddressTokens({ key: TOKEN_KEY, random: seededRandomBytes(new Prng(3)) });
    const t = tokens.validate(retry.token, 'retry', CLIENT_ADDRESS, NOW + 100);
    assert.ok(t);
    assert.deepEqual(Uint8Array.from(t.originalDcid!), odcid);
    assert.equal(tokens.validate(retry.token, 'retry', '10.9.9.9:1', NOW), undefined);

    // The client takes the Retry and sends its Initial again, with the token, to the Retry SCID.
    client.receive(out[0]!.datagram, SERVER_ADDRESS, NOW + 10);
    assert.deepEqual(Uint8Array.from(conn.retrySourceCid!), Uint8Array.from(retry.scid));
    const [second] = drain(client, NOW + 10);
    const p = parsePacket(second!.datagram, 0, 8);
    assert.ok(p.type === PacketType.Initial);
    assert.deepEqual(Uint8Array.from(p.token), Uint8Array.from(retry.token));
    assert.deepEqual(Uint8Array.from(p.dcid), Uint8Array.from(retry.scid));

    // From another address, or too late, the token is not accepted: another Retry.
    e.receive(Uint8Array.from(second!.datagram), '10.9.9.9:1', NOW + 20);
    e.receive(Uint8Array.from(second!.datagram), CLIENT_ADDRESS, NOW + 20_000);
    assert.equal(e.connections.size, 0);
    assert.deepEqual(
      drain(e).map((d) => parsePacket(d.datagram, 0, 8).type),
      [PacketType.Retry, PacketType.Retry],
    );
    // In time and from the right address: a validated connection that knows both CIDs (RFC 9000 §7.3).
    e.receive(second!.datagram, CLIENT_ADDRESS, NOW + 20);
    assert.equal(e.connections.size, 1);
    const s = [...e.connections][0]!;
    assert.equal(s.addressValidated, true);
    assert.deepEqual(Uint8Array.from(s.originalDcid), odcid);
    assert.deepEqual(Uint8Array.from(s.retrySourceCid!), Uint8Array.from(retry.scid));
  });

  test('without retry, an Initial carrying a valid NEW_TOKEN token makes an address-validated connection', () => {
    const e = server();
    const tokens = new AddressTokens({ key: TOKEN_KEY, random: seededRandomBytes(new Prng(3)) });
    const token = tokens.issue({ kind: 'new-token', address: CLIENT_ADDRESS, issuedAt: NOW - 1000 });
    e.receive(forgeInitial({ dcid: dcidOf(1), size: 1200, token }), CLIENT_ADDRESS, NOW);
    e.receive(forgeInitial({ dcid: dcidOf(2), size: 1200, token }), '10.9.9.9:1', NOW);
    e.receive(
      forgeInitial({ dcid: dcidOf(3), size: 1200, token: Uint8Array.of(1, 2, 3) }),
      CLIENT_ADDRESS,
      NOW,
    );
    const conns = [...e.connections];
    assert.equal(conns.length, 3);
    assert.deepEqual(
      conns.map((c) => c.addressValidated),
      [true, false, false],
    );
  });
});

describe('stateless reset (RFC 9000 §10.3)', () => {
  function shortHeader(dcid: Uint8Array, size: number): Uint8Array {
    const d = new Uint8Array(size).fill(0x77);
    d[0] = 0x41;
    d.set(dcid.subarray(0, Math.max(0, size - 1)), 1);
    return d;
  }

  test('an unknown short header packet gets a smaller reset ending with tokenFor(dcid)', () => {
    const e = server();
    const tokens = new StatelessResetTokens(RESET_KEY);
    for (const size of [22, 23, 30, 43, 44, 100, 1200]) {
      const dcid = dcidOf(size);
      e.receive(shortHeader(dcid, size), CLIENT_ADDRESS, NOW);
      const out = drain(e);
      assert.equal(out.length, 1, `size ${size}`);
      const reset = out[0]!.datagram;
      assert.equal(out[0]!.to, CLIENT_ADDRESS);
      assert.ok(reset.length < size, `reset of ${reset.length} bytes for ${size}`);
      assert.ok(reset.length >= 21);
      assert.equal(reset.length, Math.max(21, Math.min(size - 1, 43)));
      // Looks like a short header: form bit 0, fixed bit 1.
      assert.equal(reset[0]! & 0xc0, 0x40);
      assert.deepEqual(
        Uint8Array.from(reset.subarray(reset.length - 16)),
        Uint8Array.from(tokens.tokenFor(dcid)),
      );
    }
  });

  test("a short header routed after one for a connection, its DCID differing in the last byte only, is not that connection's", () => {
    // The endpoint routes a datagram whose DCID repeats the last one routed without parsing its
    // header (issue 13); every byte of the DCID must still decide.
    const e = server();
    const dcid = dcidOf(1);
    e.receive(forgeInitial({ dcid, size: 1200 }), CLIENT_ADDRESS, NOW);
    drain(e);
    for (const last of [dcid[7]! ^ 0x01, dcid[7]! ^ 0x80]) {
      // Routed by the connection's original DCID (the client has no 1-RTT keys: it is dropped there).
      e.receive(shortHeader(dcid, 100), CLIENT_ADDRESS, NOW);
      drain(e);
      const other = Uint8Array.from(dcid);
      other[7] = last;
      e.receive(shortHeader(other, 100), CLIENT_ADDRESS, NOW);
      const out = drain(e);
      assert.equal(out.length, 1, 'a stateless reset for the unknown DCID');
      assert.deepEqual(
        Uint8Array.from(out[0]!.datagram.subarray(out[0]!.datagram.length - 16)),
        Uint8Array.from(new StatelessResetTokens(RESET_KEY).tokenFor(other)),
      );
    }
  });

  test('no reset for packets of 21 bytes or fewer (a reset must be smaller and at least 21 bytes)', () => {
    const e = server();
    for (let size = 1; size <= 21; size++) e.receive(shortHeader(dcidOf(size), size), CLIENT_ADDRESS, NOW);
    assert.deepEqual(drain(e), []);
  });

  test('stateless responses are bounded: a flood queues at most 64', () => {
    const e = server();
    for (let i = 0; i < 200; i++) e.receive(shortHeader(dcidOf(i), 100), CLIENT_ADDRESS, NOW);
    assert.equal(drain(e).length, 64);
  });
});

describe('configuration errors surface at construction', () => {
  test('bad transport options or CID length throw RangeError from the constructor', () => {
    assert.throws(() => server({ transport: { maxStreamsBidi: -1 } }), RangeError);
    assert.throws(() => server({ transport: { maxIdleTimeout: 1.5 } }), RangeError);
    assert.throws(() => server({}, { connectionIdLength: 3 }), RangeError);
    assert.throws(() => server({}, { transport: { activeConnectionIdLimit: 1 } }), RangeError);
    assert.throws(
      () => new Endpoint({ random: seededRandomBytes(new Prng(1)), statelessResetKey: new Uint8Array(8) }),
      RangeError,
    );
    assert.doesNotThrow(() => server({ transport: { maxStreamsBidi: 0 } }));
  });
});

describe('routes follow connections', () => {
  test('after many connections close in different ways, routeCount returns to 0 on both endpoints', () => {
    const sim = new QuicSim({
      seed: 77,
      clientTransport: { maxIdleTimeout: 2_000, handshakeTimeout: 3_000 },
      serverTransport: { maxIdleTimeout: 2_000, handshakeTimeout: 3_000, activeConnectionIdLimit: 4 },
    });
    const conns = [];
    for (let i = 0; i < 12; i++) {
      const c = sim.dial();
      const s = sim.handshake(c);
      conns.push([c, s] as const);
    }
    // Let NEW_CONNECTION_ID frames arrive: each side has several routed CIDs per connection.
    sim.net.runFor(100);
    assert.ok(sim.server.routeCount >= 12 * 3, `server routes: ${sim.server.routeCount}`);
    assert.ok(sim.client.routeCount >= 12 * 2, `client routes: ${sim.client.routeCount}`);
    // Four closed by the client, four by the server, four left to the idle timeout.
    for (let i = 0; i < 4; i++) conns[i]![0].close(1, 'client done', sim.now);
    for (let i = 4; i < 8; i++) conns[i]![1].close(2, 'server done', sim.now);
    // Half-open connections whose client never answers (forged Initials): the handshake times out.
    for (let i = 0; i < 5; i++) {
      sim.net.inject('10.0.0.9:1000', SERVER_ADDRESS, forgeInitial({ dcid: dcidOf(100 + i), size: 1200 }));
    }
    sim.net.at(sim.now, () => {});
    sim.run(() => sim.server.connections.size === 0 && sim.client.connections.size === 0, 60_000);
    assert.equal(sim.server.routeCount, 0);
    assert.equal(sim.client.routeCount, 0);
    assert.equal(sim.serverConnections.length, 12 + 5);
    for (const c of sim.serverConnections) {
      assert.equal(c.isTerminated, true);
      assert.deepEqual(c.internalErrors, []);
    }
    assert.deepEqual(
      conns.map(([c]) => c.closeInfo?.source),
      [...Array(4).fill('local'), ...Array(4).fill('remote'), ...Array(4).fill('idle-timeout')],
    );
  });
});
