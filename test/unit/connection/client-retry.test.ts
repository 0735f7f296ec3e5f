/**
 * The client's handling of Retry packets (RFC 9000 §17.2.5.2, RFC 9001 §5.8): it accepts one valid
 * Retry, addressed to it, before any other server packet, and discards every other one.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Connection } from '../../../src/connection/connection.js';
import { retryIntegrityTag } from '../../../src/crypto/retry.js';
import { Endpoint } from '../../../src/endpoint/endpoint.js';
import { encodeRetryWithoutTag, PacketType, parsePacket } from '../../../src/wire/packet-header.js';
import { QUIC_V1, QUIC_V2 } from '../../../src/wire/version.js';
import { DEFAULT_START_TIME, Prng, seededRandomBytes } from '../../sim/network.js';
import { QuicSim, SERVER_ADDRESS, SERVER_NAME, simPki } from '../../sim/quic-harness.js';

const NOW = DEFAULT_START_TIME;
const NEW_SCID = Uint8Array.from([0x5c, 1, 2, 3, 4, 5, 6, 7]);
const TOKEN = Uint8Array.from([0x70, 0x6b, 0x6e]);

function dial(version = QUIC_V1): { client: Endpoint; conn: Connection; first: Uint8Array } {
  const client = new Endpoint({ random: seededRandomBytes(new Prng(17)) });
  const conn = client.connect(
    {
      remoteAddress: SERVER_ADDRESS,
      tls: { alpn: ['hq-interop'], serverName: SERVER_NAME, ca: [simPki().ca.certPem] },
      version,
    },
    NOW,
  );
  const first = client.transmit(NOW)!.datagram;
  assert.equal(client.transmit(NOW), undefined);
  return { client, conn, first: Uint8Array.from(first) };
}

function retry(
  conn: Connection,
  opts: {
    scid?: Uint8Array;
    dcid?: Uint8Array;
    odcid?: Uint8Array;
    version?: number;
    badTag?: boolean;
    emptyToken?: boolean;
  } = {},
): Uint8Array {
  const version = opts.version ?? conn.version;
  let body = encodeRetryWithoutTag(version, opts.dcid ?? conn.localCid, opts.scid ?? NEW_SCID, TOKEN, 0);
  // The token runs to the tag (RFC 9000 §17.2.5): cut it off and the Retry has an empty one, with a
  // tag that verifies.
  if (opts.emptyToken) body = body.subarray(0, body.length - TOKEN.length);
  const tag = retryIntegrityTag(version, opts.odcid ?? conn.originalDcid, body);
  if (opts.badTag) tag[0]! ^= 1;
  return Uint8Array.from([...body, ...tag]);
}

/** The Initial the client sends next: its DCID and token. */
function nextInitial(client: Endpoint, now: number): { dcid: Uint8Array; token: Uint8Array } | undefined {
  const out = client.transmit(now);
  if (!out) return undefined;
  const p = parsePacket(out.datagram, 0, 8);
  assert.ok(p.type === PacketType.Initial);
  return { dcid: Uint8Array.from(p.dcid), token: Uint8Array.from(p.token) };
}

for (const version of [QUIC_V1, QUIC_V2]) {
  test(`a valid Retry is followed: new DCID, the token, Initial keys from the Retry SCID (0x${version.toString(16)})`, () => {
    const { client, conn } = dial(version);
    const odcid = Uint8Array.from(conn.originalDcid);
    client.receive(retry(conn), SERVER_ADDRESS, NOW + 10);
    assert.deepEqual(conn.retrySourceCid, NEW_SCID);
    assert.deepEqual(conn.token, TOKEN);
    // The original DCID is kept for the transport parameter check (RFC 9000 §7.3).
    assert.deepEqual(conn.originalDcid, odcid);
    const next = nextInitial(client, NOW + 10);
    assert.ok(next, 'the client sends its Initial again at once');
    assert.deepEqual(next.dcid, NEW_SCID);
    assert.deepEqual(next.token, TOKEN);
    // A second Retry, even a valid one, is discarded.
    client.receive(
      retry(conn, { scid: Uint8Array.from([9, 9, 9, 9, 9, 9, 9, 9]), odcid }),
      SERVER_ADDRESS,
      NOW + 20,
    );
    assert.deepEqual(conn.retrySourceCid, NEW_SCID);
  });
}

test('Retries that must be discarded change nothing', () => {
  const { client, conn } = dial();
  const other = Uint8Array.from([1, 1, 1, 1, 1, 1, 1, 1]);
  const cases: Array<[string, Uint8Array]> = [
    ['bad integrity tag', retry(conn, { badTag: true })],
    ['tag over another original DCID', retry(conn, { odcid: other })],
    ['not addressed to our SCID', retry(conn, { dcid: other })],
    ['another version', retry(conn, { version: QUIC_V2 })],
    // RFC 9000 §17.2.5.2: a Retry whose SCID equals the DCID of our Initial is discarded.
    ['SCID equal to our Initial DCID', retry(conn, { scid: Uint8Array.from(conn.originalDcid) })],
    // RFC 9000 §17.2.5.2: a client MUST discard a Retry with a zero-length Retry Token.
    ['empty token, valid tag', retry(conn, { emptyToken: true })],
  ];
  for (const [what, packet] of cases) {
    client.receive(packet, SERVER_ADDRESS, NOW + 10);
    assert.equal(conn.retrySourceCid, undefined, what);
    assert.equal(conn.token.length, 0, what);
    assert.equal(conn.isClosed, false, what);
  }
  // Without a Retry the client has nothing new to send right away.
  assert.equal(nextInitial(client, NOW + 10), undefined);
});

test('a Retry after another server packet is discarded', () => {
  const sim = new QuicSim({ seed: 41 });
  const conn = sim.dial();
  sim.handshake(conn);
  assert.equal(conn.receivedServerPacket, true);
  const scid = Uint8Array.from(conn.peerCids.current);
  sim.client.receive(retry(conn), SERVER_ADDRESS, sim.now);
  assert.equal(conn.retrySourceCid, undefined);
  assert.deepEqual(conn.peerCids.current, scid);
  assert.equal(conn.isClosed, false);
});
