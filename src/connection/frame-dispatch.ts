/**
 * Where each frame of an authenticated packet goes (RFC 9000 §12.4, §19): ACK to recovery, CRYPTO to
 * the handshake, stream frames to the current epoch's streams, connection IDs, path validation,
 * CONNECTION_CLOSE, HANDSHAKE_DONE and DATAGRAM to their owners, with the checks that belong to the
 * frame itself (who may send it, whether the handshake allows it). Which frames a packet type may
 * carry is checked before, in connection-receiver.ts (RFC 9000 §12.4, Table 3).
 */
import { TransportErrorCode, transportError } from '../errors/transport-error.js';
import { PacketNumberSpace } from '../recovery/types.js';
import { EncryptionLevel } from '../tls/types.js';
import type { Millis } from '../util/time.js';
import { type Frame, FrameType } from '../wire/frames.js';
import { type LongHeaderPacket, PacketType, type ShortHeaderPacket } from '../wire/packet-header.js';
import type { ReceiverHost } from './connection-receiver.js';

/**
 * Hands `f`, from packet `p` of `spaceIndex` received from `from`, to its owner in `c`. `p` gives the
 * packet type (stream frames in 0-RTT) and the DCID it used (RETIRE_CONNECTION_ID). Throws a
 * transport error for a frame the peer may not send.
 */
export function dispatchFrame(
  c: ReceiverHost,
  f: Frame,
  spaceIndex: PacketNumberSpace,
  p: LongHeaderPacket | ShortHeaderPacket,
  from: string,
  now: Millis,
): void {
  switch (f.type) {
    case FrameType.Padding:
    case FrameType.Ping:
      return;
    case FrameType.Ack:
      c.recovery.onAckFrame(spaceIndex, f, now);
      return;
    case FrameType.Crypto: {
      const level =
        spaceIndex === PacketNumberSpace.Initial
          ? EncryptionLevel.Initial
          : spaceIndex === PacketNumberSpace.Handshake
            ? EncryptionLevel.Handshake
            : EncryptionLevel.Application;
      const bytes = c.spaces[spaceIndex].crypto.receive(f.offset, f.data);
      if (bytes && bytes.length > 0) c.handshake.feed(level, bytes, now);
      return;
    }
    case FrameType.NewToken:
      // RFC 9000 §19.7: only servers send NEW_TOKEN.
      if (c.role === 'server') {
        throw transportError(TransportErrorCode.PROTOCOL_VIOLATION, 'NEW_TOKEN from a client', f.type);
      }
      c.events.pushEvent({ type: 'new-token', token: new Uint8Array(f.token) });
      return;
    case FrameType.Stream:
    case FrameType.ResetStream:
    case FrameType.StopSending:
    case FrameType.MaxData:
    case FrameType.MaxStreamData:
    case FrameType.MaxStreamsBidi:
    case FrameType.MaxStreamsUni:
    case FrameType.DataBlocked:
    case FrameType.StreamDataBlocked:
    case FrameType.StreamsBlockedBidi:
    case FrameType.StreamsBlockedUni: {
      const epoch = c.handshake.epoch;
      if (!epoch || epoch.rejected) {
        throw transportError(
          TransportErrorCode.PROTOCOL_VIOLATION,
          'stream frame before the handshake',
          f.type,
        );
      }
      // The frame's data is a view of the decrypted payload, a fresh buffer nobody writes again.
      epoch.streams.handleFrame(f, now, p.type === PacketType.ZeroRtt, true);
      return;
    }
    case FrameType.NewConnectionId:
      c.peerCids.onNewConnectionId(f, c.peerCids.current.length === 0);
      return;
    case FrameType.RetireConnectionId:
      c.localCids.onRetire(f.sequenceNumber, p.dcid);
      // RFC 9000 §5.1.1: an endpoint SHOULD supply a new connection ID when the peer retires one.
      if (c.handshake.confirmed) c.localCids.replenish(c.handshake.peerParams?.activeConnectionIdLimit ?? 2);
      return;
    case FrameType.PathChallenge:
      // RFC 9000 §8.2.2: answered on the path it arrived on.
      c.paths.onChallenge(from, f.data);
      // RFC 9000 §9.3.3: a challenge on the active path gets a non-probing packet too, so that a
      // peer misled by a copied packet moves back here.
      if (from === c.paths.current.address) c.framer.queuePing();
      return;
    case FrameType.PathResponse:
      // RFC 9000 §8.2.3: validates the path its challenge went out on, wherever it arrives; one
      // matching no challenge of ours is ignored (§19.18 allows that).
      c.paths.onResponse(f.data, now);
      return;
    case FrameType.ConnectionCloseTransport:
      c.events.onPeerClosed(
        {
          source: 'remote',
          application: false,
          errorCode: f.errorCode,
          frameType: f.frameType,
          reason: f.reason,
          ...(f.errorCode >= 0x100 && f.errorCode <= 0x1ff ? { tlsAlert: f.errorCode - 0x100 } : {}),
        },
        now,
      );
      return;
    case FrameType.ConnectionCloseApplication:
      c.events.onPeerClosed(
        { source: 'remote', application: true, errorCode: f.errorCode, reason: f.reason },
        now,
      );
      return;
    case FrameType.HandshakeDone:
      // RFC 9000 §19.20: a server receiving HANDSHAKE_DONE treats it as PROTOCOL_VIOLATION.
      if (c.role === 'server') {
        throw transportError(TransportErrorCode.PROTOCOL_VIOLATION, 'HANDSHAKE_DONE from a client', f.type);
      }
      c.events.onHandshakeDone();
      return;
    case FrameType.Datagram: {
      const max = c.options.maxDatagramFrameSize;
      // RFC 9221 §3: DATAGRAM without having advertised support (absent or 0), or larger than our
      // limit, which counts the whole frame: PROTOCOL_VIOLATION. The decoded frame no longer says
      // whether it carried a Length field, so its smallest encoding (type + payload) is compared.
      if (max === undefined || max === 0 || 1 + f.data.length > max) {
        throw transportError(TransportErrorCode.PROTOCOL_VIOLATION, 'unexpected DATAGRAM frame', f.type);
      }
      const epoch = c.handshake.epoch;
      if (epoch && !epoch.rejected)
        c.events.pushEvent({ type: 'datagram', epoch, data: new Uint8Array(f.data) });
      return;
    }
  }
}
