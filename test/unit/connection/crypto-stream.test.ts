/**
 * CryptoStream (RFC 9000 §7.5, §19.6): handshake bytes sent with retransmission of lost ranges only,
 * acknowledged ranges never resent, resend-all after Retry, and the receive side's bounded buffer
 * (CRYPTO_BUFFER_EXCEEDED beyond the limit or when fragmented).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CRYPTO_RECEIVE_LIMIT, CryptoStream } from '../../../src/connection/crypto-stream.js';
import { QuicTransportError, TransportErrorCode } from '../../../src/errors/transport-error.js';
import { FrameType } from '../../../src/wire/frames.js';

const bytes = (n: number, seed = 0) => Uint8Array.from({ length: n }, (_, i) => (i * 13 + seed) & 0xff);

/** Drain every chunk (at most `max` bytes each) as [offset, length] pairs, checking the bytes. */
function drain(s: CryptoStream, all: Uint8Array, max = 1000): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let c = s.nextChunk(max); c; c = s.nextChunk(max)) {
    assert.ok(c.data.length <= max && c.data.length > 0);
    assert.deepEqual(Uint8Array.from(c.data), all.subarray(c.offset, c.offset + c.data.length));
    out.push([c.offset, c.data.length]);
  }
  assert.equal(s.hasDataToSend(), false);
  return out;
}

function isCryptoBufferExceeded(err: unknown): boolean {
  assert.ok(err instanceof QuicTransportError, String(err));
  assert.equal(err.errorCode, TransportErrorCode.CRYPTO_BUFFER_EXCEEDED);
  assert.equal(err.frameType, FrameType.Crypto);
  return true;
}

test('new data goes out in order, in chunks of at most maxData, across several writes', () => {
  const s = new CryptoStream();
  assert.equal(s.hasDataToSend(), false);
  assert.equal(s.nextChunk(100), undefined);
  const all = bytes(3500);
  // Several writes, one larger than the initial buffer.
  s.write(all.subarray(0, 10));
  s.write(all.subarray(10, 2500));
  s.write(all.subarray(2500));
  assert.equal(s.hasDataToSend(), true);
  assert.equal(s.nextChunk(0), undefined);
  assert.equal(s.nextChunk(-5), undefined);
  assert.deepEqual(drain(s, all), [
    [0, 1000],
    [1000, 1000],
    [2000, 1000],
    [3000, 500],
  ]);
});

test('a lost range is sent again, and only it; new data waits behind it', () => {
  const s = new CryptoStream();
  const all = bytes(4000);
  s.write(all.subarray(0, 3000));
  drain(s, all);
  s.onLost(1000, 1000);
  s.write(all.subarray(3000));
  // Retransmission first (RFC 9000 §13.3: lost CRYPTO data is sent again), then new data.
  assert.deepEqual(drain(s, all, 600), [
    [1000, 600],
    [1600, 400],
    [3000, 600],
    [3600, 400],
  ]);
});

test('acknowledged bytes are never resent, even when another packet carrying them is lost', () => {
  const s = new CryptoStream();
  const all = bytes(3000);
  s.write(all);
  drain(s, all);
  s.onAcked(0, 1000);
  s.onAcked(2500, 200);
  // A packet carrying [0, 3000) (say a PTO probe) is declared lost: only the gaps in the acks go again.
  s.onLost(0, 3000);
  assert.deepEqual(drain(s, all, 5000), [
    [1000, 1500],
    [2700, 300],
  ]);
  // An ack arriving after the loss removes the range from the retransmission queue.
  s.onLost(1000, 1000);
  s.onAcked(1200, 300);
  assert.deepEqual(drain(s, all, 5000), [
    [1000, 200],
    [1500, 500],
  ]);
  // Losing fully acknowledged data queues nothing.
  s.onAcked(0, 3000);
  s.onLost(0, 3000);
  assert.equal(s.hasDataToSend(), false);
});

test('resendUnacked queues every unacknowledged byte sent so far (PTO probe)', () => {
  const s = new CryptoStream();
  const all = bytes(2000);
  s.write(all);
  assert.equal(s.nextChunk(1500)?.offset, 0);
  // 500 bytes never sent; 1500 sent, of which [200, 700) acked.
  s.onAcked(200, 500);
  s.resendUnacked();
  assert.deepEqual(drain(s, all, 5000), [
    [0, 200],
    [700, 800],
    [1500, 500],
  ]);
  // Nothing sent yet: nothing to resend.
  const t = new CryptoStream();
  t.resendUnacked();
  assert.equal(t.hasDataToSend(), false);
});

test('resendAll queues everything sent, acknowledged or not (after a Retry)', () => {
  const s = new CryptoStream(true);
  const all = bytes(1500);
  s.write(all);
  drain(s, all);
  s.onAcked(0, 1500);
  assert.equal(s.hasDataToSend(), false);
  s.resendAll();
  assert.deepEqual(drain(s, all, 700), [
    [0, 700],
    [700, 700],
    [1400, 100],
  ]);
  // The acks before resendAll are forgotten: a loss now requeues the whole range.
  s.onLost(0, 1500);
  assert.deepEqual(drain(s, all, 5000), [[0, 1500]]);
  const t = new CryptoStream();
  t.resendAll();
  assert.equal(t.hasDataToSend(), false);
});

test('received CRYPTO data is reassembled in order; duplicates and overlaps deliver nothing twice', () => {
  const s = new CryptoStream();
  const all = bytes(300, 5);
  assert.equal(s.receive(100, all.subarray(100, 200)), undefined);
  assert.equal(s.receive(250, all.subarray(250, 300)), undefined);
  const first = s.receive(0, all.subarray(0, 120));
  assert.deepEqual(first && Uint8Array.from(first), all.subarray(0, 200));
  assert.equal(s.receive(0, all.subarray(0, 200)), undefined);
  const rest = s.receive(150, all.subarray(150, 260));
  assert.deepEqual(rest && Uint8Array.from(rest), all.subarray(200, 300));
});

test('RFC 9000 §7.5: data beyond the receive limit is CRYPTO_BUFFER_EXCEEDED; the window slides with reads', () => {
  const s = new CryptoStream();
  assert.ok(CRYPTO_RECEIVE_LIMIT >= 4096, 'at least 4096 bytes must be buffered');
  // Ending exactly at the limit is fine (out of order, so nothing is read yet).
  assert.equal(s.receive(CRYPTO_RECEIVE_LIMIT - 10, new Uint8Array(10)), undefined);
  assert.throws(() => s.receive(CRYPTO_RECEIVE_LIMIT - 10, new Uint8Array(11)), isCryptoBufferExceeded);
  assert.throws(() => s.receive(CRYPTO_RECEIVE_LIMIT, new Uint8Array(1)), isCryptoBufferExceeded);
  // Reading 1000 bytes moves the limit by 1000.
  assert.equal(s.receive(0, new Uint8Array(1000))?.length, 1000);
  assert.equal(s.receive(CRYPTO_RECEIVE_LIMIT + 999, new Uint8Array(1)), undefined);
  assert.throws(() => s.receive(CRYPTO_RECEIVE_LIMIT + 1000, new Uint8Array(1)), isCryptoBufferExceeded);
  // A huge offset (a varint up to 2^62) is refused the same way, without allocating.
  assert.throws(() => s.receive(2 ** 53, new Uint8Array(1)), isCryptoBufferExceeded);
});

test('fragmenting CRYPTO data into many holes is CRYPTO_BUFFER_EXCEEDED, within a bounded number of pieces', () => {
  const s = new CryptoStream();
  let accepted = 0;
  let error: unknown;
  // One byte at every other offset: each piece opens a new hole.
  for (let offset = 1; offset < 2 * 10_000; offset += 2) {
    try {
      s.receive(offset, Uint8Array.of(offset & 0xff));
      accepted++;
    } catch (err) {
      error = err;
      break;
    }
  }
  assert.ok(isCryptoBufferExceeded(error));
  assert.ok(accepted >= 1024 && accepted < 2000, `${accepted} pieces accepted before the error`);
  // Contiguous data still flows when it does not add holes.
  const t = new CryptoStream();
  for (let i = 0; i < 3000; i++) assert.equal(t.receive(i, Uint8Array.of(i & 0xff))?.length, 1);
});

test('acknowledged CRYPTO data is dropped; later writes continue at the right offsets', () => {
  const s = new CryptoStream();
  const bytes = (n: number, from: number) => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);
  s.write(bytes(300, 0));
  const a = s.nextChunk(200)!;
  const b = s.nextChunk(200)!;
  assert.deepEqual([a.offset, a.data.length, b.offset, b.data.length], [0, 200, 200, 100]);
  s.onAcked(200, 100);
  // A hole below: nothing may be dropped yet; the lost first range comes back intact.
  s.onLost(0, 200);
  assert.deepEqual(s.nextChunk(1000), { offset: 0, data: bytes(200, 0) });
  s.onAcked(0, 200);
  assert.equal(s.hasDataToSend(), false);
  // Everything acknowledged: a new message (a session ticket) continues the offsets.
  s.write(bytes(50, 300));
  assert.deepEqual(s.nextChunk(1000), { offset: 300, data: bytes(50, 300) });
  s.onLost(300, 50);
  assert.deepEqual(s.nextChunk(20), { offset: 300, data: bytes(20, 300) });
  assert.deepEqual(s.nextChunk(1000), { offset: 320, data: bytes(30, 320) });
  s.resendUnacked();
  assert.deepEqual(s.nextChunk(1000), { offset: 300, data: bytes(50, 300) });
  s.onAcked(300, 50);
  assert.equal(s.hasDataToSend(), false);
  assert.throws(() => s.resendAll(), /already acknowledged/);
});

test('once all is acknowledged it keeps no ranges; late losses and ACKs of dropped data change nothing', () => {
  const s = new CryptoStream();
  const ranges = () => (s as unknown as { acked: { rangeCount: number } }).acked.rangeCount;
  const bytes = (n: number, from: number) => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);
  s.write(bytes(300, 0));
  s.nextChunk(1000);
  s.onAcked(0, 100);
  s.onAcked(200, 100);
  assert.equal(ranges(), 2);
  s.onAcked(100, 100);
  // Everything acknowledged and dropped: no range is kept (issue 13: idle connections).
  assert.equal(ranges(), 0);
  // A packet carrying dropped bytes is declared lost, or acknowledged, late: nothing to send again.
  s.onLost(0, 300);
  s.onAcked(50, 100);
  assert.equal(s.hasDataToSend(), false);
  assert.equal(ranges(), 0);
  // The next message (a session ticket): sent, its first half and a stale range acknowledged in
  // one ACK, its second half lost: only that half goes again, and once acknowledged nothing is kept.
  s.write(bytes(100, 300));
  assert.deepEqual(s.nextChunk(1000), { offset: 300, data: bytes(100, 300) });
  s.onAcked(250, 100);
  s.onLost(250, 150);
  assert.deepEqual(s.nextChunk(1000), { offset: 350, data: bytes(50, 350) });
  assert.equal(s.nextChunk(1000), undefined);
  s.onAcked(350, 50);
  assert.equal(ranges(), 0);
  assert.equal(s.hasDataToSend(), false);
});
