/**
 * Checks on the peer's transport parameters that need connection context: connection ID
 * authentication (RFC 9000 §7.3) and the 0-RTT rules on remembered values (RFC 9000 §7.4.1).
 */
import { TransportErrorCode, transportError } from '../errors/transport-error.js';
import type { TransportParameters } from '../wire/transport-parameters.js';
import { equalBytes } from './local-connection-ids.js';

/** RFC 9000 §7.3: what a client checks in the server's transport parameters. */
export function checkServerConnectionIds(
  p: TransportParameters,
  expected: { originalDcid: Uint8Array; serverScid: Uint8Array; retrySourceCid: Uint8Array | undefined },
): void {
  const fail = (reason: string) => {
    throw transportError(TransportErrorCode.TRANSPORT_PARAMETER_ERROR, reason);
  };
  if (
    !p.originalDestinationConnectionId ||
    !equalBytes(p.originalDestinationConnectionId, expected.originalDcid)
  ) {
    fail('original_destination_connection_id does not match the DCID of our first Initial');
  }
  if (!p.initialSourceConnectionId || !equalBytes(p.initialSourceConnectionId, expected.serverScid)) {
    fail("initial_source_connection_id does not match the server's Source Connection ID");
  }
  if (expected.retrySourceCid) {
    if (!p.retrySourceConnectionId || !equalBytes(p.retrySourceConnectionId, expected.retrySourceCid)) {
      fail('retry_source_connection_id does not match the Retry packet');
    }
  } else if (p.retrySourceConnectionId) {
    fail('retry_source_connection_id present without a Retry');
  }
}

/** RFC 9000 §7.3: what a server checks in the client's transport parameters. */
export function checkClientConnectionIds(p: TransportParameters, clientScid: Uint8Array): void {
  if (!p.initialSourceConnectionId || !equalBytes(p.initialSourceConnectionId, clientScid)) {
    throw transportError(
      TransportErrorCode.TRANSPORT_PARAMETER_ERROR,
      "initial_source_connection_id does not match the client's Source Connection ID",
    );
  }
}

/**
 * The values a client may rely on when sending 0-RTT (RFC 9000 §7.4.1): flow-control windows, stream
 * limits, active_connection_id_limit and max_datagram_frame_size. Returns the name of the first one
 * that `actual` makes smaller than `remembered`, or undefined when none is reduced.
 */
export function reducedZeroRttLimit(
  remembered: TransportParameters,
  actual: TransportParameters,
): string | undefined {
  const pairs: Array<[string, number, number]> = [
    ['initial_max_data', remembered.initialMaxData, actual.initialMaxData],
    [
      'initial_max_stream_data_bidi_local',
      remembered.initialMaxStreamDataBidiLocal,
      actual.initialMaxStreamDataBidiLocal,
    ],
    [
      'initial_max_stream_data_bidi_remote',
      remembered.initialMaxStreamDataBidiRemote,
      actual.initialMaxStreamDataBidiRemote,
    ],
    ['initial_max_stream_data_uni', remembered.initialMaxStreamDataUni, actual.initialMaxStreamDataUni],
    ['initial_max_streams_bidi', remembered.initialMaxStreamsBidi, actual.initialMaxStreamsBidi],
    ['initial_max_streams_uni', remembered.initialMaxStreamsUni, actual.initialMaxStreamsUni],
    ['active_connection_id_limit', remembered.activeConnectionIdLimit, actual.activeConnectionIdLimit],
  ];
  for (const [name, before, now] of pairs) if (now < before) return name;
  if (remembered.maxDatagramFrameSize !== undefined) {
    if (
      actual.maxDatagramFrameSize === undefined ||
      actual.maxDatagramFrameSize < remembered.maxDatagramFrameSize
    ) {
      return 'max_datagram_frame_size';
    }
  }
  return undefined;
}
