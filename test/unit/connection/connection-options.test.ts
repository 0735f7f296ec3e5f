/**
 * Transport options (src/connection/connection-options.ts): defaults, partial overrides, the transport
 * parameters they produce (RFC 9000 §18.2), and a RangeError naming every bad option.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type CongestionControlAlgorithm,
  DEFAULT_TRANSPORT_OPTIONS,
  localTransportParameters,
  resolveTransportOptions,
  sharedTransportOptions,
  type TransportOptions,
} from '../../../src/connection/connection-options.js';
import {
  decodeTransportParameters,
  encodeTransportParameters,
} from '../../../src/wire/transport-parameters.js';

test('no options: the defaults, as a fresh object', () => {
  const a = resolveTransportOptions(undefined);
  assert.deepEqual(a, { ...DEFAULT_TRANSPORT_OPTIONS });
  assert.notEqual(a, DEFAULT_TRANSPORT_OPTIONS);
  a.maxStreamsBidi = 1;
  assert.equal(resolveTransportOptions({}).maxStreamsBidi, DEFAULT_TRANSPORT_OPTIONS.maxStreamsBidi);
});

test('shared options: frozen, and taken back as they are by resolveTransportOptions', () => {
  const shared = sharedTransportOptions({ maxStreamsBidi: 3 });
  assert.equal(shared.maxStreamsBidi, 3);
  // Frozen: one connection cannot change what the others sharing it (issue 13) see.
  assert.throws(() => {
    shared.maxStreamsBidi = 1;
  }, TypeError);
  assert.equal(resolveTransportOptions(shared), shared);
  assert.equal(sharedTransportOptions(shared), shared);
  // Plain partial options are resolved into a new object each time.
  const partial = { maxStreamsBidi: 3 };
  assert.notEqual(resolveTransportOptions(partial), resolveTransportOptions(partial));
});

test('partial options override only what they set; undefined values keep the default', () => {
  const o = resolveTransportOptions({
    maxIdleTimeout: 0,
    initialMaxData: 10,
    maxStreamsUni: 0,
    congestionControl: 'newreno',
    maxDatagramFrameSize: 1200,
    keepAlivePeriod: undefined,
  });
  assert.equal(o.maxIdleTimeout, 0);
  assert.equal(o.initialMaxData, 10);
  assert.equal(o.maxStreamsUni, 0);
  assert.equal(o.congestionControl, 'newreno');
  assert.equal(o.maxDatagramFrameSize, 1200);
  assert.equal(o.keepAlivePeriod, DEFAULT_TRANSPORT_OPTIONS.keepAlivePeriod);
  assert.equal(o.initialMaxStreamData, DEFAULT_TRANSPORT_OPTIONS.initialMaxStreamData);
});

test('boundary values are accepted', () => {
  const ok: Array<Partial<TransportOptions>> = [
    { maxIdleTimeout: 0 },
    { initialMaxData: 0, initialMaxStreamData: 0 },
    { maxStreamsBidi: 0, maxStreamsUni: Number.MAX_SAFE_INTEGER },
    { ackDelayExponent: 0 },
    { ackDelayExponent: 20 },
    { maxAckDelay: 0 },
    { maxAckDelay: 2 ** 14 - 1 },
    { activeConnectionIdLimit: 2 },
    { maxUdpPayloadSize: 1200 },
    { maxUdpPayloadSize: 65527 },
    { maxDatagramSize: 1200 },
    { maxDatagramSize: 16383 },
    { keyUpdateInterval: 1 },
    { keepAlivePeriod: 0 },
    { connectionIdLength: 4 },
    { connectionIdLength: 20 },
    { initialRtt: 0.5 },
    { maxDatagramFrameSize: 0 },
    { initialMaxData: 100, maxConnectionReceiveWindow: 100 },
    { initialMaxStreamData: 100, maxStreamReceiveWindow: 100 },
  ];
  for (const o of ok) assert.doesNotThrow(() => resolveTransportOptions(o), JSON.stringify(o));
});

const bad: Array<[string, Partial<TransportOptions>]> = [
  ['maxIdleTimeout', { maxIdleTimeout: -1 }],
  ['maxIdleTimeout', { maxIdleTimeout: Number.NaN }],
  ['maxIdleTimeout', { maxIdleTimeout: 1.5 }],
  ['maxIdleTimeout', { maxIdleTimeout: Number.POSITIVE_INFINITY }],
  ['handshakeTimeout', { handshakeTimeout: 0 }],
  ['handshakeTimeout', { handshakeTimeout: -1 }],
  ['initialMaxData', { initialMaxData: -1 }],
  ['initialMaxData', { initialMaxData: 0.5 }],
  ['initialMaxData', { initialMaxData: 2 ** 53 }],
  ['initialMaxStreamData', { initialMaxStreamData: -1 }],
  ['initialMaxStreamData', { initialMaxStreamData: 1.25 }],
  ['maxConnectionReceiveWindow', { initialMaxData: 1000, maxConnectionReceiveWindow: 999 }],
  ['maxStreamReceiveWindow', { initialMaxStreamData: 1000, maxStreamReceiveWindow: 999 }],
  ['maxStreamsBidi', { maxStreamsBidi: -1 }],
  ['maxStreamsBidi', { maxStreamsBidi: 2.5 }],
  ['maxStreamsBidi', { maxStreamsBidi: 2 ** 60 + 2 ** 40 }],
  ['maxStreamsUni', { maxStreamsUni: -1 }],
  ['maxStreamsUni', { maxStreamsUni: Number.NaN }],
  ['sendBufferSize', { sendBufferSize: 0 }],
  ['sendBufferSize', { sendBufferSize: Number.NaN }],
  ['ackDelayExponent', { ackDelayExponent: 21 }],
  ['ackDelayExponent', { ackDelayExponent: -1 }],
  ['ackDelayExponent', { ackDelayExponent: 2.5 }],
  ['maxAckDelay', { maxAckDelay: 2 ** 14 }],
  ['maxAckDelay', { maxAckDelay: -1 }],
  ['maxAckDelay', { maxAckDelay: 1.5 }],
  ['activeConnectionIdLimit', { activeConnectionIdLimit: 1 }],
  ['activeConnectionIdLimit', { activeConnectionIdLimit: 0 }],
  ['activeConnectionIdLimit', { activeConnectionIdLimit: 3.5 }],
  ['maxUdpPayloadSize', { maxUdpPayloadSize: 1199 }],
  ['maxUdpPayloadSize', { maxUdpPayloadSize: 65528 }],
  ['maxUdpPayloadSize', { maxUdpPayloadSize: 1300.5 }],
  ['maxDatagramSize', { maxDatagramSize: 1199 }],
  ['maxDatagramSize', { maxDatagramSize: 16384 }],
  ['maxDatagramSize', { maxDatagramSize: 1300.5 }],
  ['congestionControl', { congestionControl: 'bbr' as unknown as CongestionControlAlgorithm }],
  ['keyUpdateInterval', { keyUpdateInterval: 0 }],
  ['keyUpdateInterval', { keyUpdateInterval: 10.5 }],
  ['keepAlivePeriod', { keepAlivePeriod: -1 }],
  ['keepAlivePeriod', { keepAlivePeriod: Number.NaN }],
  ['connectionIdLength', { connectionIdLength: 3 }],
  ['connectionIdLength', { connectionIdLength: 0 }],
  ['connectionIdLength', { connectionIdLength: 21 }],
  ['connectionIdLength', { connectionIdLength: 8.5 }],
  ['initialRtt', { initialRtt: 0 }],
  ['initialRtt', { initialRtt: -10 }],
  ['initialRtt', { initialRtt: Number.POSITIVE_INFINITY }],
  ['maxDatagramFrameSize', { maxDatagramFrameSize: -1 }],
  ['maxDatagramFrameSize', { maxDatagramFrameSize: 1.5 }],
];

for (const [name, options] of bad) {
  test(`bad option ${JSON.stringify(options)} -> RangeError naming ${name}`, () => {
    assert.throws(
      () => resolveTransportOptions(options),
      (err: unknown) => {
        assert.ok(err instanceof RangeError, `not a RangeError: ${String(err)}`);
        assert.match(err.message, /^invalid transport option: /);
        assert.ok(err.message.includes(name), err.message);
        return true;
      },
    );
  });
}

test('localTransportParameters maps every option to its transport parameter', () => {
  const o = resolveTransportOptions({
    maxIdleTimeout: 12_345,
    maxUdpPayloadSize: 1400,
    initialMaxData: 70_000,
    initialMaxStreamData: 9_000,
    maxStreamsBidi: 7,
    maxStreamsUni: 3,
    ackDelayExponent: 5,
    maxAckDelay: 40,
    activeConnectionIdLimit: 6,
    maxDatagramFrameSize: 1100,
  });
  const p = localTransportParameters(o);
  assert.equal(p.maxIdleTimeout, 12_345);
  assert.equal(p.maxUdpPayloadSize, 1400);
  assert.equal(p.initialMaxData, 70_000);
  assert.equal(p.initialMaxStreamDataBidiLocal, 9_000);
  assert.equal(p.initialMaxStreamDataBidiRemote, 9_000);
  assert.equal(p.initialMaxStreamDataUni, 9_000);
  assert.equal(p.initialMaxStreamsBidi, 7);
  assert.equal(p.initialMaxStreamsUni, 3);
  assert.equal(p.ackDelayExponent, 5);
  assert.equal(p.maxAckDelay, 40);
  assert.equal(p.activeConnectionIdLimit, 6);
  assert.equal(p.disableActiveMigration, true);
  assert.equal(p.maxDatagramFrameSize, 1100);
  // No CIDs or tokens: the connection fills those in.
  assert.equal(p.initialSourceConnectionId, undefined);
  assert.equal(p.originalDestinationConnectionId, undefined);
  assert.equal(p.statelessResetToken, undefined);
  // DATAGRAM support is off unless asked for (RFC 9221 §3).
  assert.equal(localTransportParameters(resolveTransportOptions({})).maxDatagramFrameSize, undefined);
  // Whatever validates also encodes, and decodes to the same values.
  const decoded = decodeTransportParameters(encodeTransportParameters(p), 'client');
  assert.equal(decoded.maxIdleTimeout, 12_345);
  assert.equal(decoded.initialMaxStreamsBidi, 7);
  assert.equal(decoded.maxDatagramFrameSize, 1100);
});
