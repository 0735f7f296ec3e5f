/**
 * Stream identifiers (RFC 9000 §2.1).
 *
 * A stream ID is a 62-bit integer; bit 0x01 is the initiator (0 = client, 1 = server) and bit 0x02
 * the direction (0 = bidirectional, 1 = unidirectional). IDs above 2^32 are handled with arithmetic
 * instead of 32-bit bitwise operators so that every value a varint can carry stays exact up to 2^53.
 */

export type Role = 'client' | 'server';

/** The two low bits of a stream ID (RFC 9000 §2.1, Table 1). */
function typeBits(id: number): number {
  return id % 4;
}

/** RFC 9000 §2.1: bit 0x02 clear = bidirectional. */
export function isBidirectional(id: number): boolean {
  return (typeBits(id) & 0x02) === 0;
}

/** RFC 9000 §2.1: bit 0x01 clear = client-initiated. */
export function isClientInitiated(id: number): boolean {
  return (typeBits(id) & 0x01) === 0;
}

export function isLocallyInitiated(id: number, role: Role): boolean {
  return isClientInitiated(id) === (role === 'client');
}

/** The ID of the `index`-th stream (0-based) of a type (RFC 9000 §2.1: IDs of a type increase by 4). */
export function streamId(initiator: Role, bidirectional: boolean, index: number): number {
  return index * 4 + (bidirectional ? 0 : 0x02) + (initiator === 'client' ? 0 : 0x01);
}

/** The 0-based index of a stream among the streams of its type; `streamId(..., streamIndex(id)) === id`. */
export function streamIndex(id: number): number {
  return Math.floor(id / 4);
}

/** The largest value a MAX_STREAMS frame or max_streams parameter may carry (RFC 9000 §4.6, §19.11). */
export const MAX_STREAMS_LIMIT = 2 ** 60;

/**
 * Stream offset + length must stay below this (RFC 9000 §19.8: at most 2^62-1). As a JS number 2^62-1
 * rounds to 2^62, so callers test `>= STREAM_OFFSET_BOUND`; values that large can never be within
 * flow control anyway.
 */
export const STREAM_OFFSET_BOUND = 2 ** 62;
