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

test('every option given is used: a full set of non-default values comes back as given', () => {
  const given: TransportOptions = {
    maxIdleTimeout: 1,
    handshakeTimeout: 2,
    initialMaxData: 3,
    initialMaxStreamData: 4,
    maxConnectionReceiveWindow: 5,
    maxStreamReceiveWindow: 6,
    maxStreamsBidi: 7,
    maxStreamsUni: 8,
    sendBufferSize: 9,
    connectionSendBufferSize: 10,
    ackDelayExponent: 11,
    maxAckDelay: 12,
    activeConnectionIdLimit: 13,
    maxDatagramFrameSize: 14,
    maxUdpPayloadSize: 1215,
    maxDatagramSize: 1216,
    mtuDiscoveryMax: 1217,
    congestionControl: 'newreno',
    initialCongestionWindow: 23,
    keyUpdateInterval: 19,
    keepAlivePeriod: 20,
    connectionIdLength: 5,
    initialRtt: 22,
  };
  // The same keys as the defaults: an option added to one and not the other turns this red.
  assert.deepEqual(Object.keys(given).sort(), Object.keys(DEFAULT_TRANSPORT_OPTIONS).sort());
  for (const [k, v] of Object.entries(given)) {
    assert.notEqual(
      v,
      DEFAULT_TRANSPORT_OPTIONS[k as keyof TransportOptions],
      `${k} differs from its default`,
    );
  }
  assert.deepEqual(resolveTransportOptions(given), given);
});

test('null is not a missing option: it is validated (and refused), not replaced by the default', () => {
  assert.throws(
    () => resolveTransportOptions({ maxIdleTimeout: null as unknown as number }),
    /invalid transport option: maxIdleTimeout/,
  );
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
    { initialCongestionWindow: 0 },
    { initialCongestionWindow: 2 },
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
  ['initialCongestionWindow', { initialCongestionWindow: 1 }],
  ['initialCongestionWindow', { initialCongestionWindow: 2.5 }],
  ['initialCongestionWindow', { initialCongestionWindow: -2 }],
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

test("localTransportParameters carries the connection's IDs and token as given", () => {
  const ids = {
    initialSourceConnectionId: new Uint8Array([1, 2, 3, 4]),
    originalDestinationConnectionId: new Uint8Array([5, 6, 7, 8]),
    retrySourceConnectionId: new Uint8Array([9, 10, 11, 12]),
    statelessResetToken: new Uint8Array(16).fill(7),
  };
  const p = localTransportParameters(resolveTransportOptions({}), ids);
  assert.equal(p.initialSourceConnectionId, ids.initialSourceConnectionId);
  assert.equal(p.originalDestinationConnectionId, ids.originalDestinationConnectionId);
  assert.equal(p.retrySourceConnectionId, ids.retrySourceConnectionId);
  assert.equal(p.statelessResetToken, ids.statelessResetToken);
  const decoded = decodeTransportParameters(encodeTransportParameters(p), 'server');
  assert.deepEqual([...(decoded.retrySourceConnectionId ?? [])], [...ids.retrySourceConnectionId]);
  // A client names only its first source CID.
  const c = localTransportParameters(resolveTransportOptions({}), {
    initialSourceConnectionId: ids.initialSourceConnectionId,
  });
  assert.equal(c.originalDestinationConnectionId, undefined);
  assert.equal(c.statelessResetToken, undefined);
});

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
