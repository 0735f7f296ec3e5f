/**
 * The connection send budget follows the path (issue 13, streams/send-budget.ts): twice what the
 * path carries without a queue, at least sendBufferSize, at most connectionSendBufferSize. Ten
 * streams on a path that carries little hold about one stream's worth, not the 8 MiB ceiling.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { drainEvents, Pair } from './harness.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const CHUNK = new Uint8Array(64 * KiB).fill(0x5a);

/** Ten client streams (opened once) each write as much as writeSome() takes; the bytes taken per stream. */
function fillTen(pair: Pair, ids: number[] = []): number[] {
  const out: number[] = [];
  for (let i = 0; i < 10; i++) {
    if (ids[i] === undefined) {
      const opened = pair.client.openStream(false);
      assert.ok(opened !== undefined);
      ids[i] = opened;
    }
    const id = ids[i]!;
    let taken = 0;
    for (;;) {
      const n = pair.client.writeSome(id, CHUNK);
      taken += n;
      if (n < CHUNK.length) break;
    }
    out.push(taken);
  }
  return out;
}

function pairWith(
  capacity: { value: number },
  sendBufferSize = MiB,
  connectionSendBufferSize = 8 * MiB,
): Pair {
  return new Pair({
    client: { sendBufferSize, connectionSendBufferSize, pathCapacity: () => capacity.value },
    clientLimits: { initialMaxStreamsUni: 10 },
    serverLimits: { initialMaxStreamsUni: 10 },
  });
}

describe('the connection send budget follows what the path carries', () => {
  test('a path that carries 100 KiB: ten streams hold one sendBufferSize together, not 8 MiB', () => {
    const pair = pairWith({ value: 100 * KiB });
    const taken = fillTen(pair);
    const total = taken.reduce((a, b) => a + b, 0);
    // The floor (1 MiB) plus at most one chunk that found room before the budget filled.
    assert.ok(total >= MiB && total <= MiB + CHUNK.length, `held ${total}`);
    assert.equal(pair.client.queuedSendBytes, total);
    // The first streams took it all; the rest found the budget full.
    assert.equal(taken[0], MiB);
    assert.deepEqual(taken.slice(2), [0, 0, 0, 0, 0, 0, 0, 0]);
  });

  test('a path that carries 3 MiB: twice that, 6 MiB', () => {
    const pair = pairWith({ value: 3 * MiB });
    const total = fillTen(pair).reduce((a, b) => a + b, 0);
    assert.ok(total >= 6 * MiB && total <= 6 * MiB + CHUNK.length, `held ${total}`);
  });

  test('a path that carries 20 MiB: the ceiling, connectionSendBufferSize', () => {
    const pair = pairWith({ value: 20 * MiB });
    const total = fillTen(pair).reduce((a, b) => a + b, 0);
    assert.ok(total >= 8 * MiB && total <= 8 * MiB + CHUNK.length, `held ${total}`);
  });

  test('a ceiling below sendBufferSize wins over the floor', () => {
    const pair = pairWith({ value: 10 * KiB }, MiB, 256 * KiB);
    const total = fillTen(pair).reduce((a, b) => a + b, 0);
    assert.ok(total >= 256 * KiB && total <= 256 * KiB + CHUNK.length, `held ${total}`);
  });

  test('no estimate (NaN) counts as none: the ceiling, not a budget that takes nothing', () => {
    const pair = pairWith({ value: Number.NaN });
    const total = fillTen(pair).reduce((a, b) => a + b, 0);
    assert.ok(total >= 8 * MiB, `held ${total}`);
  });

  test('parked streams are told writable when acknowledgments bring the connection under its budget', () => {
    const capacity = { value: 100 * KiB };
    const pair = pairWith(capacity);
    const ids: number[] = [];
    const taken = fillTen(pair, ids);
    assert.equal(taken[9], 0);
    drainEvents(pair.client);
    // The path turns out to carry more: the next acknowledgments let the parked streams write again.
    capacity.value = 2 * MiB;
    pair.flush('client', { maxBytes: 1200 });
    const writable = drainEvents(pair.client).filter((e) => e.type === 'writable');
    assert.ok(writable.length >= 8, `writable events: ${writable.length}`);
    const again = fillTen(pair, ids);
    assert.ok(
      pair.client.queuedSendBytes > MiB + CHUNK.length &&
        pair.client.queuedSendBytes <= 4 * MiB + CHUNK.length,
      `held ${pair.client.queuedSendBytes} (${again.join(',')})`,
    );
  });
});
