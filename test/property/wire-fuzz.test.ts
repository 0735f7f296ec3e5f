import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { QuicTransportError, TransportErrorCode } from '../../src/errors/transport-error.js';
import { BufferReader } from '../../src/wire/buffer-reader.js';
import { BufferWriter } from '../../src/wire/buffer-writer.js';
import { splitDatagram } from '../../src/wire/coalesced.js';
import { decodeFrame, decodeFrames } from '../../src/wire/frame-codec.js';
import {
  PacketParseError,
  PacketType,
  parseInvariantHeader,
  parsePacket,
  patchLongHeaderLength,
  writeLongHeader,
  writeShortHeader,
} from '../../src/wire/packet-header.js';
import { decodeTransportParameters, encodeTransportParameters } from '../../src/wire/transport-parameters.js';
import { QUIC_V1, QUIC_V2 } from '../../src/wire/version.js';

/** Runs `fn`; it must return normally or throw an error accepted by `isExpected`. */
function valueOrTypedError(fn: () => unknown, isExpected: (e: unknown) => boolean): void {
  try {
    fn();
  } catch (err) {
    if (!isExpected(err)) throw new Error(`unexpected error: ${String(err)}`, { cause: err });
  }
}

const frameError = (e: unknown) =>
  e instanceof QuicTransportError &&
  (e.errorCode === TransportErrorCode.FRAME_ENCODING_ERROR ||
    e.errorCode === TransportErrorCode.PROTOCOL_VIOLATION);
const paramError = (e: unknown) =>
  e instanceof QuicTransportError && e.errorCode === TransportErrorCode.TRANSPORT_PARAMETER_ERROR;
const headerError = (e: unknown) => e instanceof PacketParseError;

/** Random bytes, biased towards the interesting prefixes of each format. */
const prefixes = [
  [], // plain random
  [0xc3, 0x00, 0x00, 0x00, 0x01], // v1 Initial
  [0xe0, 0x00, 0x00, 0x00, 0x01], // v1 Handshake
  [0xf0, 0x00, 0x00, 0x00, 0x01], // v1 Retry
  [0xd0, 0x6b, 0x33, 0x43, 0xcf], // v2 Initial
  [0x80, 0x00, 0x00, 0x00, 0x00], // Version Negotiation
  [0x40], // short header
  [0x02], // ACK
  [0x03], // ACK ECN
  [0x0e], // STREAM
  [0x18], // NEW_CONNECTION_ID
  [0x1c], // CONNECTION_CLOSE
];
const input = fc
  .tuple(fc.constantFrom(...prefixes), fc.uint8Array({ maxLength: 300 }))
  .map(([p, rest]) => Uint8Array.from([...p, ...rest]));

test('property: arbitrary bytes give a value or the documented typed error, for every decoder', () => {
  fc.assert(
    fc.property(input, fc.integer({ min: 0, max: 20 }), (bytes, dcidLength) => {
      valueOrTypedError(() => decodeFrames(bytes), frameError);
      valueOrTypedError(() => {
        const r = new BufferReader(bytes);
        while (r.remaining > 0) decodeFrame(r);
      }, frameError);
      valueOrTypedError(() => parsePacket(bytes, 0, dcidLength), headerError);
      valueOrTypedError(() => parseInvariantHeader(bytes, 0, dcidLength), headerError);
      valueOrTypedError(() => {
        const p = decodeTransportParameters(bytes, 'server');
        // Whatever decodes is valid input for the encoder.
        encodeTransportParameters(p);
      }, paramError);
      valueOrTypedError(() => decodeTransportParameters(bytes, 'client'), paramError);
      const packets = splitDatagram(bytes, dcidLength);
      let end = 0;
      for (const p of packets) {
        assert.equal(p.packetStart, end);
        assert.ok(p.packetEnd > p.packetStart && p.packetEnd <= bytes.length);
        end = p.packetEnd;
      }
    }),
    { numRuns: 3000 },
  );
});

test('property: transport parameters built from random (id, value) tuples never throw untyped errors', () => {
  const tuple = fc.tuple(
    fc.oneof(fc.integer({ min: 0, max: 0x21 }), fc.integer({ min: 0, max: 2 ** 30 })),
    fc.uint8Array({ maxLength: 60 }),
  );
  fc.assert(
    fc.property(fc.array(tuple, { maxLength: 8 }), (tuples) => {
      const w = BufferWriter.alloc(4096);
      for (const [id, value] of tuples) {
        w.varint(id);
        w.varint(value.length);
        w.bytes(value);
      }
      valueOrTypedError(() => decodeTransportParameters(w.toBytes(), 'server'), paramError);
    }),
    { numRuns: 2000 },
  );
});

test('property: a corrupted byte in a valid coalesced datagram never breaks the splitter', () => {
  fc.assert(
    fc.property(
      fc.nat(),
      fc.integer({ min: 0, max: 255 }),
      fc.constantFrom(QUIC_V1, QUIC_V2),
      (pos, byte, version) => {
        const w = BufferWriter.alloc(600);
        const { lengthOffset, pnOffset } = writeLongHeader(w, {
          type: PacketType.Initial,
          version,
          dcid: new Uint8Array(8).fill(1),
          scid: new Uint8Array(4).fill(2),
          token: new Uint8Array(3),
          packetNumber: 0,
          packetNumberLength: 1,
        });
        w.fill(0x11, 100);
        patchLongHeaderLength(w.buffer, lengthOffset, w.offset - pnOffset);
        writeShortHeader(w, {
          dcid: new Uint8Array(8).fill(1),
          packetNumber: 1,
          packetNumberLength: 1,
          keyPhase: false,
          spin: true,
        });
        w.fill(0x22, 50);
        const datagram = Buffer.from(w.toBytes());
        datagram[pos % datagram.length] = byte;
        const packets = splitDatagram(datagram, 8);
        assert.ok(packets.length <= 2);
        for (const p of packets) assert.ok(p.packetEnd <= datagram.length);
      },
    ),
    { numRuns: 2000 },
  );
});
