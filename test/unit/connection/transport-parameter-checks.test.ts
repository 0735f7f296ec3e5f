/**
 * Transport parameter checks that need connection context: connection ID authentication
 * (RFC 9000 §7.3) and the 0-RTT rule that a server accepting early data must not reduce the
 * remembered limits (RFC 9000 §7.4.1).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  checkClientConnectionIds,
  checkServerConnectionIds,
  reducedZeroRttLimit,
} from '../../../src/connection/transport-parameter-checks.js';
import { QuicTransportError, TransportErrorCode } from '../../../src/errors/transport-error.js';
import {
  defaultTransportParameters,
  type TransportParameters,
} from '../../../src/wire/transport-parameters.js';

const ODCID = Uint8Array.from([1, 1, 1, 1, 1, 1, 1, 1]);
const SERVER_SCID = Uint8Array.from([2, 2, 2, 2, 2, 2, 2, 2]);
const RETRY_SCID = Uint8Array.from([3, 3, 3, 3, 3, 3, 3, 3]);
const CLIENT_SCID = Uint8Array.from([4, 4, 4, 4]);

function params(extra: Partial<TransportParameters>): TransportParameters {
  return { ...defaultTransportParameters(), ...extra };
}

function isTransportParameterError(err: unknown): boolean {
  assert.ok(err instanceof QuicTransportError, `not a QuicTransportError: ${String(err)}`);
  assert.equal(err.errorCode, TransportErrorCode.TRANSPORT_PARAMETER_ERROR);
  return true;
}

const good = { originalDestinationConnectionId: ODCID, initialSourceConnectionId: SERVER_SCID };
const noRetry = { originalDcid: ODCID, serverScid: SERVER_SCID, retrySourceCid: undefined };
const withRetry = { originalDcid: ODCID, serverScid: SERVER_SCID, retrySourceCid: RETRY_SCID };

test('§7.3 client side: matching CIDs without a Retry pass', () => {
  assert.doesNotThrow(() => checkServerConnectionIds(params(good), noRetry));
  // Equal bytes in different objects are equal.
  assert.doesNotThrow(() =>
    checkServerConnectionIds(
      params({
        originalDestinationConnectionId: Uint8Array.from(ODCID),
        initialSourceConnectionId: Buffer.from(SERVER_SCID),
      }),
      noRetry,
    ),
  );
});

test('§7.3: original_destination_connection_id absent or different is TRANSPORT_PARAMETER_ERROR', () => {
  assert.throws(
    () => checkServerConnectionIds(params({ initialSourceConnectionId: SERVER_SCID }), noRetry),
    isTransportParameterError,
  );
  const other = Uint8Array.from(ODCID);
  other[7] = 9;
  assert.throws(
    () => checkServerConnectionIds(params({ ...good, originalDestinationConnectionId: other }), noRetry),
    isTransportParameterError,
  );
  // A prefix is not a match.
  assert.throws(
    () =>
      checkServerConnectionIds(
        params({ ...good, originalDestinationConnectionId: ODCID.subarray(0, 7) }),
        noRetry,
      ),
    isTransportParameterError,
  );
});

test("§7.3: initial_source_connection_id absent or not the server's SCID is TRANSPORT_PARAMETER_ERROR", () => {
  assert.throws(
    () => checkServerConnectionIds(params({ originalDestinationConnectionId: ODCID }), noRetry),
    isTransportParameterError,
  );
  assert.throws(
    () => checkServerConnectionIds(params({ ...good, initialSourceConnectionId: RETRY_SCID }), noRetry),
    isTransportParameterError,
  );
  // A zero-length server SCID must still be present, as an empty value.
  const empty = new Uint8Array(0);
  assert.doesNotThrow(() =>
    checkServerConnectionIds(params({ ...good, initialSourceConnectionId: empty }), {
      ...noRetry,
      serverScid: empty,
    }),
  );
  assert.throws(
    () =>
      checkServerConnectionIds(params({ originalDestinationConnectionId: ODCID }), {
        ...noRetry,
        serverScid: empty,
      }),
    isTransportParameterError,
  );
});

test('§7.3: after a Retry, retry_source_connection_id must be present and match', () => {
  assert.doesNotThrow(() =>
    checkServerConnectionIds(params({ ...good, retrySourceConnectionId: RETRY_SCID }), withRetry),
  );
  assert.throws(() => checkServerConnectionIds(params(good), withRetry), isTransportParameterError);
  assert.throws(
    () => checkServerConnectionIds(params({ ...good, retrySourceConnectionId: SERVER_SCID }), withRetry),
    isTransportParameterError,
  );
});

test('§7.3: retry_source_connection_id without a Retry is TRANSPORT_PARAMETER_ERROR', () => {
  assert.throws(
    () => checkServerConnectionIds(params({ ...good, retrySourceConnectionId: RETRY_SCID }), noRetry),
    isTransportParameterError,
  );
});

test("§7.3 server side: the client's initial_source_connection_id must equal its SCID", () => {
  assert.doesNotThrow(() =>
    checkClientConnectionIds(
      params({ initialSourceConnectionId: Uint8Array.from(CLIENT_SCID) }),
      CLIENT_SCID,
    ),
  );
  assert.throws(() => checkClientConnectionIds(params({}), CLIENT_SCID), isTransportParameterError);
  assert.throws(
    () => checkClientConnectionIds(params({ initialSourceConnectionId: ODCID }), CLIENT_SCID),
    isTransportParameterError,
  );
  assert.throws(
    () => checkClientConnectionIds(params({ initialSourceConnectionId: new Uint8Array(0) }), CLIENT_SCID),
    isTransportParameterError,
  );
});

const remembered = params({
  initialMaxData: 100_000,
  initialMaxStreamDataBidiLocal: 10_000,
  initialMaxStreamDataBidiRemote: 20_000,
  initialMaxStreamDataUni: 30_000,
  initialMaxStreamsBidi: 10,
  initialMaxStreamsUni: 5,
  activeConnectionIdLimit: 4,
});

test('§7.4.1: equal or larger limits are no reduction', () => {
  assert.equal(reducedZeroRttLimit(remembered, { ...remembered }), undefined);
  const larger = params({
    initialMaxData: 100_001,
    initialMaxStreamDataBidiLocal: 10_001,
    initialMaxStreamDataBidiRemote: 20_001,
    initialMaxStreamDataUni: 30_001,
    initialMaxStreamsBidi: 11,
    initialMaxStreamsUni: 6,
    activeConnectionIdLimit: 5,
    maxDatagramFrameSize: 1200,
  });
  assert.equal(reducedZeroRttLimit(remembered, larger), undefined);
  // Values a client must not remember may change freely (ack_delay_exponent, max_ack_delay, ...).
  assert.equal(
    reducedZeroRttLimit(remembered, {
      ...remembered,
      ackDelayExponent: 0,
      maxAckDelay: 1,
      maxIdleTimeout: 1,
    }),
    undefined,
  );
});

test('§7.4.1: each of the seven limits, reduced by one, is reported by its name', () => {
  const cases: Array<[keyof TransportParameters, string]> = [
    ['initialMaxData', 'initial_max_data'],
    ['initialMaxStreamDataBidiLocal', 'initial_max_stream_data_bidi_local'],
    ['initialMaxStreamDataBidiRemote', 'initial_max_stream_data_bidi_remote'],
    ['initialMaxStreamDataUni', 'initial_max_stream_data_uni'],
    ['initialMaxStreamsBidi', 'initial_max_streams_bidi'],
    ['initialMaxStreamsUni', 'initial_max_streams_uni'],
    ['activeConnectionIdLimit', 'active_connection_id_limit'],
  ];
  for (const [field, name] of cases) {
    const actual: TransportParameters = { ...remembered, [field]: (remembered[field] as number) - 1 };
    assert.equal(reducedZeroRttLimit(remembered, actual), name, field);
  }
});

test('RFC 9221 §3: max_datagram_frame_size may not shrink or disappear when it was remembered', () => {
  const withDatagrams = { ...remembered, maxDatagramFrameSize: 1000 };
  assert.equal(reducedZeroRttLimit(withDatagrams, { ...remembered }), 'max_datagram_frame_size');
  assert.equal(
    reducedZeroRttLimit(withDatagrams, { ...remembered, maxDatagramFrameSize: 999 }),
    'max_datagram_frame_size',
  );
  assert.equal(reducedZeroRttLimit(withDatagrams, { ...remembered, maxDatagramFrameSize: 1000 }), undefined);
  // Not remembered: the server may add it.
  assert.equal(reducedZeroRttLimit(remembered, { ...remembered, maxDatagramFrameSize: 10 }), undefined);
});
