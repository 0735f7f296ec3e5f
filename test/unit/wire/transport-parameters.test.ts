import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QuicTransportError, TransportErrorCode } from '../../../src/errors/transport-error.js';
import {
  decodeTransportParameters,
  defaultTransportParameters,
  encodeTransportParameters,
  type TransportParameters,
} from '../../../src/wire/transport-parameters.js';
import { MAX_VARINT } from '../../../src/wire/varint.js';
import { QUIC_V1, QUIC_V2 } from '../../../src/wire/version.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Byte fields as hex, so that deepEqual compares contents and not Buffer vs Uint8Array. */
function normalize(v: unknown): unknown {
  if (v instanceof Uint8Array) return { bytes: toHex(v) };
  if (Array.isArray(v)) return v.map(normalize);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]));
  }
  return v;
}

function plain(p: TransportParameters): unknown {
  return normalize(p);
}

function expectParamError(data: Uint8Array, sender: 'client' | 'server', message: RegExp): void {
  assert.throws(
    () => decodeTransportParameters(data, sender),
    (e: unknown) => {
      assert.ok(e instanceof QuicTransportError, String(e));
      assert.equal(e.errorCode, TransportErrorCode.TRANSPORT_PARAMETER_ERROR);
      assert.match(e.reason, message);
      return true;
    },
    toHex(data),
  );
}

function fullServerSet(): TransportParameters {
  return {
    originalDestinationConnectionId: hex('8394c8f03e515708'),
    maxIdleTimeout: 30000,
    statelessResetToken: hex('00112233445566778899aabbccddeeff'),
    maxUdpPayloadSize: 1472,
    initialMaxData: 2 ** 40,
    initialMaxStreamDataBidiLocal: 1 << 20,
    initialMaxStreamDataBidiRemote: 1 << 19,
    initialMaxStreamDataUni: 1 << 18,
    initialMaxStreamsBidi: 100,
    initialMaxStreamsUni: 2 ** 60,
    ackDelayExponent: 20,
    maxAckDelay: 2 ** 14 - 1,
    disableActiveMigration: true,
    preferredAddress: {
      ipv4Address: hex('c0000201'),
      ipv4Port: 4433,
      ipv6Address: hex('20010db8000000000000000000000001'),
      ipv6Port: 4434,
      connectionId: hex('0102030405060708'),
      statelessResetToken: hex('ffeeddccbbaa99887766554433221100'),
    },
    activeConnectionIdLimit: 8,
    initialSourceConnectionId: hex('f067a5502a4262b5'),
    retrySourceConnectionId: hex(''),
    maxDatagramFrameSize: 65535,
    versionInformation: { chosenVersion: QUIC_V1, availableVersions: [QUIC_V1, QUIC_V2] },
  };
}

test('defaults: an empty extension decodes to the RFC 9000 §18.2 defaults; defaults encode to nothing', () => {
  const d = defaultTransportParameters();
  assert.deepEqual(decodeTransportParameters(new Uint8Array(0), 'client'), d);
  assert.equal(encodeTransportParameters(d).length, 0);
  assert.equal(d.maxUdpPayloadSize, 65527);
  assert.equal(d.ackDelayExponent, 3);
  assert.equal(d.maxAckDelay, 25);
  assert.equal(d.activeConnectionIdLimit, 2);
});

test('byte-exact encoding of a small set', () => {
  const p = { ...defaultTransportParameters(), maxIdleTimeout: 30000, initialMaxData: 1048576 };
  p.initialSourceConnectionId = new Uint8Array(0);
  assert.equal(toHex(encodeTransportParameters(p)), '0104800075300404801000000f00');
  const bytes = hex('0104 80007530 0404 80100000 0f00');
  assert.deepEqual(plain(decodeTransportParameters(bytes, 'client')), plain(p));
});

test('a full server set round-trips; the values are copies', () => {
  const p = fullServerSet();
  const encoded = encodeTransportParameters(p);
  const decoded = decodeTransportParameters(encoded, 'server');
  assert.deepEqual(plain(decoded), plain(p));
  (encoded as Buffer).fill(0);
  assert.equal(toHex(decoded.initialSourceConnectionId!), 'f067a5502a4262b5');
});

test('GREASE and unknown parameters are ignored; the encoder adds one reserved parameter', () => {
  const base = { ...defaultTransportParameters(), initialMaxData: 1000 };
  const encoded = encodeTransportParameters(base);
  const withUnknown = Buffer.concat([
    hex('1b 03 aabbcc'),
    encoded,
    hex('c0000000deadbeef 00'),
    hex('4ff0 01 00'),
  ]);
  assert.deepEqual(decodeTransportParameters(withUnknown, 'client'), base);
  let calls = 0;
  const random = (n: number) => {
    calls++;
    return new Uint8Array(n).fill(n === 5 ? 0x07 : 0x5a);
  };
  const greased = encodeTransportParameters(base, random);
  assert.ok(calls >= 2);
  // N = 0x07070707, id = 31 * N + 27, value length 7 % 17 = 7.
  const id = 31 * 0x07070707 + 27;
  assert.equal(id % 31, 27);
  assert.ok(greased.length > encoded.length);
  assert.deepEqual(decodeTransportParameters(greased, 'server'), base);
  assert.ok(toHex(greased).endsWith('075a5a5a5a5a5a5a'));
});

test('RFC 9000 §18.2: server-only parameters from a client are rejected; accepted from a server', () => {
  const token = '00112233445566778899aabbccddeeff';
  const pa = `c0000201 1151 20010db8000000000000000000000001 1152 04 01020304 ${token}`;
  for (const [name, bytes] of [
    ['original_destination_connection_id', '00 04 01020304'],
    ['stateless_reset_token', `02 10 ${token}`],
    ['preferred_address', `0d 2d ${pa}`],
    ['retry_source_connection_id', '10 00'],
  ] as const) {
    expectParamError(hex(bytes), 'client', /server-only/);
    assert.doesNotThrow(() => decodeTransportParameters(hex(bytes), 'server'), name);
  }
});

test('RFC 9000 §7.4: duplicate parameters are rejected, known or not', () => {
  expectParamError(hex('0101 05 0101 05'), 'client', /duplicate/);
  expectParamError(hex('1b00 1b01 aa'), 'client', /duplicate/);
  expectParamError(hex('01 01 05 4001 01 05'), 'client', /duplicate/);
  // The same id in a 1-byte and an 8-byte varint (read as a number and through a bigint).
  expectParamError(hex('01 01 05 c000000000000001 01 05'), 'client', /duplicate/);
  expectParamError(hex('c0000000deadbeef 00 c0000000deadbeef 00'), 'client', /duplicate/);
  // An 8-byte encoding of a defined id is that parameter; an id beyond 2^53 is unknown (ignored).
  assert.equal(decodeTransportParameters(hex('c000000000000001 02 4100'), 'client').maxIdleTimeout, 256);
  assert.deepEqual(
    decodeTransportParameters(hex('ffffffffffffffff 01 05'), 'client'),
    defaultTransportParameters(),
  );
});

test('RFC 9000 §18.2 value rules', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['max_udp_payload_size 1199', '03 02 44af', /below 1200/],
    ['ack_delay_exponent 21', '0a 01 15', /above 20/],
    ['max_ack_delay 2^14', '0b 04 80004000', /2\^14/],
    ['active_connection_id_limit 1', '0e 01 01', /below 2/],
    ['active_connection_id_limit 0', '0e 01 00', /below 2/],
    ['initial_max_streams_bidi 2^60+1', '08 08 d000000000000001', /2\^60/],
    ['initial_max_streams_uni 2^62-1', '09 08 ffffffffffffffff', /2\^60/],
    ['stateless_reset_token 15 bytes', `02 0f ${'aa'.repeat(15)}`, /16 bytes/],
    ['stateless_reset_token 17 bytes', `02 11 ${'aa'.repeat(17)}`, /16 bytes/],
    ['disable_active_migration with a value', '0c 01 00', /empty/],
    ['initial_source_connection_id of 21 bytes', `0f 15 ${'aa'.repeat(21)}`, /longer than 20/],
    ['original_destination_connection_id of 21 bytes', `00 15 ${'aa'.repeat(21)}`, /longer than 20/],
    ['integer with trailing bytes', '01 02 0500', /length does not match/],
    ['integer longer than its parameter', '01 01 40', /truncated integer/],
    ['empty integer', '04 00', /truncated integer/],
    ['preferred_address with empty CID', `0d 29 ${'00'.repeat(24)} 00 ${'aa'.repeat(16)}`, /zero-length/],
    ['preferred_address too short', `0d 18 ${'00'.repeat(24)}`, /truncated/],
    [
      'preferred_address with a CID of 21',
      `0d 3e ${'00'.repeat(24)} 15 ${'aa'.repeat(21)} ${'bb'.repeat(16)}`,
      /longer than 20/,
    ],
    [
      'preferred_address with trailing bytes',
      `0d 2e ${'00'.repeat(24)} 04 01020304 ${'bb'.repeat(16)} 00`,
      /bad length/,
    ],
    ['version_information of 6 bytes', '11 06 000000010000', /bad length/],
    ['version_information empty', '11 00', /bad length/],
    ['version_information chosen 0', '11 08 00000000 00000001', /version 0/],
    ['version_information available 0', '11 08 00000001 00000000', /version 0/],
    ['truncated id', '40', /truncated/],
    ['truncated length', '01', /truncated/],
    ['truncated value', '01 04 8000', /truncated/],
  ];
  for (const [name, bytes, message] of cases) {
    try {
      expectParamError(hex(bytes), 'server', message);
    } catch (err) {
      assert.fail(`${name}: ${String(err)}`);
    }
  }
  // The limits themselves are accepted.
  const ok = decodeTransportParameters(
    hex('03 02 44b0 0a 01 14 0b 02 7fff 0e 01 02 08 08 d000000000000000'),
    'client',
  );
  assert.deepEqual(
    [
      ok.maxUdpPayloadSize,
      ok.ackDelayExponent,
      ok.maxAckDelay,
      ok.activeConnectionIdLimit,
      ok.initialMaxStreamsBidi,
    ],
    [1200, 20, 16383, 2, 2 ** 60],
  );
});

test('values beyond what a number can hold exactly become MAX_VARINT (still encodable)', () => {
  const p = decodeTransportParameters(hex('04 08 ffffffffffffffff'), 'client');
  assert.equal(p.initialMaxData, MAX_VARINT);
  assert.doesNotThrow(() => encodeTransportParameters(p));
});

test('the encoder rejects values the decoder would reject', () => {
  const d = defaultTransportParameters();
  const bad: TransportParameters[] = [
    { ...d, maxUdpPayloadSize: 1199 },
    { ...d, ackDelayExponent: 21 },
    { ...d, maxAckDelay: 2 ** 14 },
    { ...d, activeConnectionIdLimit: 1 },
    { ...d, initialMaxStreamsBidi: 2 ** 60 + 2 ** 10 },
    { ...d, initialMaxData: -1 },
    { ...d, statelessResetToken: new Uint8Array(15) },
    { ...d, initialSourceConnectionId: new Uint8Array(21) },
    { ...d, preferredAddress: { ...fullServerSet().preferredAddress!, connectionId: new Uint8Array(0) } },
    { ...d, preferredAddress: { ...fullServerSet().preferredAddress!, ipv4Address: new Uint8Array(5) } },
    { ...d, versionInformation: { chosenVersion: 0, availableVersions: [] } },
  ];
  for (const p of bad)
    assert.throws(() => encodeTransportParameters(p), RangeError, JSON.stringify(plain(p)));
});

test('parameters larger than the encoder scratch buffer: encoded whole, and the next encoding is right', () => {
  const d = defaultTransportParameters();
  const many = Array.from({ length: 400 }, (_, i) => 0x0a0a0a0a + i);
  const big: TransportParameters = {
    ...d,
    initialMaxData: 123456,
    initialSourceConnectionId: hex('0102030405060708'),
    versionInformation: { chosenVersion: QUIC_V1, availableVersions: [QUIC_V1, ...many] },
  };
  const encoded = encodeTransportParameters(big);
  // id (1) + length (2) + 4 * 402 bytes, and the other two.
  assert.ok(encoded.length > 1600, `${encoded.length} bytes`);
  assert.deepEqual(plain(decodeTransportParameters(encoded, 'client')), plain(big));
  // Each result is its own copy of exact size: encoding again does not change an earlier result.
  const small: TransportParameters = { ...d, initialSourceConnectionId: hex('aa') };
  const before = toHex(encoded);
  const smallEncoded = encodeTransportParameters(small);
  assert.equal(toHex(encoded), before);
  assert.equal(toHex(smallEncoded), '0f01aa');
  assert.equal(smallEncoded.byteLength, smallEncoded.buffer.byteLength);
});
