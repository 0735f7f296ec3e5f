/** Flow control between two managers (RFC 9000 §4.1, §4.2): limits hold, windows reopen and auto-tune. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { streamFrameLength } from '../../../src/streams/frame-size.js';
import { FrameType } from '../../../src/wire/frames.js';
import { drainEvents, Pair, pattern, readAll } from './harness.js';

const KiB = 1024;

test('a slow reader never lets the sender exceed the stream or connection window (receiver view)', () => {
  const p = new Pair({
    serverLimits: { initialMaxData: 64 * KiB, initialMaxStreamDataUni: 16 * KiB },
    server: { maxStreamReceiveWindow: 16 * KiB, maxConnectionReceiveWindow: 64 * KiB },
  });
  const ids = [0, 1, 2, 3, 4].map(() => p.client.openStream(false)!);
  const payload = ids.map((id) => pattern(100 * KiB, id + 3));
  ids.forEach((id, k) => {
    p.client.write(id, payload[k]!);
    p.client.end(id);
  });
  const got = ids.map(() => [] as Uint8Array[]);
  let rounds = 0;
  let done = 0;
  while (done < ids.length) {
    assert.ok(++rounds < 5000, 'transfer stalled');
    p.flush('client', { lose: (_f, i) => i % 11 === 5 });
    const stats = p.server.stats();
    // Receiver's view: total highest offsets never above the advertised MAX_DATA.
    assert.ok(stats.bytesReceived <= stats.localMaxData, `${stats.bytesReceived} > ${stats.localMaxData}`);
    assert.ok(stats.localMaxData <= stats.bytesReceived + 64 * KiB + 64 * KiB);
    for (const id of ids) {
      const b = p.server.streamBuffers(id);
      if (b !== undefined) assert.ok(b.receive <= 16 * KiB, `stream ${id} buffers ${b.receive}`);
    }
    const c = p.client.stats();
    assert.ok(c.bytesSent <= c.peerMaxData);
    // Slow reader: at most 1500 bytes per stream per round.
    ids.forEach((id, k) => {
      const r = p.server.read(id, 1500);
      if (r === undefined) return;
      got[k]!.push(r.data);
      if (r.fin) done++;
    });
    p.flush('server');
    p.now += 10;
  }
  for (let k = 0; k < ids.length; k++) assert.deepEqual(Buffer.concat(got[k]!), Buffer.from(payload[k]!));
  // The sender reported being blocked, at the limits then in force.
  const dataBlocked = p.sent('client', FrameType.DataBlocked);
  const streamBlocked = p.sent('client', FrameType.StreamDataBlocked);
  assert.ok(dataBlocked.length > 0 || streamBlocked.length > 0);
  for (const f of streamBlocked) assert.equal(f.maximumStreamData % 1, 0);
  const maxData = p.sent('server', FrameType.MaxData).map((f) => f.maximumData);
  assert.ok(maxData.length > 0);
  assert.deepEqual(
    maxData,
    [...maxData].sort((a, b) => a - b),
  );
});

test('MAX_DATA / MAX_STREAM_DATA are due when half of the window is consumed', () => {
  const p = new Pair({
    serverLimits: { initialMaxData: 10_000, initialMaxStreamDataUni: 10_000 },
    server: { maxStreamReceiveWindow: 10_000, maxConnectionReceiveWindow: 10_000 },
  });
  const id = p.client.openStream(false)!;
  p.client.write(id, pattern(10_000));
  p.flush('client');
  let n = 0;
  while (n < 4999) n += p.server.read(id, 4999 - n)!.data.length;
  assert.equal(p.server.hasPendingFrames(), false);
  p.server.read(id, 1);
  assert.deepEqual(
    p.flush('server').map((f) => f),
    [
      { type: FrameType.MaxData, maximumData: 15_000 },
      { type: FrameType.MaxStreamData, streamId: id, maximumStreamData: 15_000 },
    ],
  );
  assert.equal(p.client.stats().peerMaxData, 15_000);
});

test('a reset stream returns its whole final size to the connection window', () => {
  const p = new Pair({
    serverLimits: { initialMaxData: 10_000, initialMaxStreamDataUni: 10_000 },
    server: { maxConnectionReceiveWindow: 10_000 },
  });
  const id = p.client.openStream(false)!;
  p.client.write(id, pattern(8000));
  const frames = p.take('client');
  // Deliver only the last frame: highest offset 8000, nothing readable.
  p.deliver('client', frames.slice(-1));
  assert.equal(p.server.stats().bytesReceived, 8000);
  p.client.resetStream(id, 1);
  p.flush('client');
  drainEvents(p.server);
  const sent = p.flush('server');
  assert.deepEqual(sent[0], { type: FrameType.MaxData, maximumData: 18_000 });
});

test('DATA_BLOCKED and STREAM_DATA_BLOCKED are sent once per limit, with the limit', () => {
  const p = new Pair({ serverLimits: { initialMaxData: 1000, initialMaxStreamDataUni: 600 } });
  const a = p.client.openStream(false)!;
  const b = p.client.openStream(false)!;
  p.client.write(a, pattern(3000));
  p.client.write(b, pattern(3000));
  const frames = p.take('client').map((f) => f.frame);
  const blocked = frames.filter((f) => f.type !== FrameType.Stream);
  assert.deepEqual(blocked, [
    { type: FrameType.StreamDataBlocked, streamId: a, maximumStreamData: 600 },
    { type: FrameType.DataBlocked, maximumData: 1000 },
  ]);
  const bytes = frames.reduce((n, f) => n + (f.type === FrameType.Stream ? f.data.length : 0), 0);
  assert.equal(bytes, 1000);
  p.client.write(a, pattern(10));
  assert.deepEqual(p.take('client'), []);
  assert.equal(p.client.hasPendingFrames(), false);
  // New connection credit: b uses its remaining stream credit and is blocked at its stream limit.
  p.client.handleFrame({ type: FrameType.MaxData, maximumData: 2000 }, p.now);
  const more = p.take('client').map((f) => f.frame);
  assert.deepEqual(
    more.filter((f) => f.type !== FrameType.Stream),
    [{ type: FrameType.StreamDataBlocked, streamId: b, maximumStreamData: 600 }],
  );
  assert.equal(p.client.stats().bytesSent, 1200);
  // Stream credit for both, then the connection limit is reached again: DATA_BLOCKED at 2000.
  p.client.handleFrame({ type: FrameType.MaxStreamData, streamId: a, maximumStreamData: 5000 }, p.now);
  p.client.handleFrame({ type: FrameType.MaxStreamData, streamId: b, maximumStreamData: 5000 }, p.now);
  const last = p.take('client').map((f) => f.frame);
  assert.deepEqual(
    last.filter((f) => f.type !== FrameType.Stream),
    [{ type: FrameType.DataBlocked, maximumData: 2000 }],
  );
  assert.equal(p.client.stats().bytesSent, 2000);
});

test('window auto-tuning: a fast reader makes the stream and connection windows grow up to the maximum', () => {
  const p = new Pair({
    rtt: 100,
    serverLimits: { initialMaxData: 64 * KiB, initialMaxStreamDataUni: 16 * KiB },
    server: { maxStreamReceiveWindow: 256 * KiB, maxConnectionReceiveWindow: 1024 * KiB },
  });
  const id = p.client.openStream(false)!;
  const payload = pattern(3 * 1024 * KiB, 9);
  p.client.write(id, payload);
  p.client.end(id);
  const parts: Uint8Array[] = [];
  for (let round = 0; round < 10_000; round++) {
    p.flush('client');
    parts.push(readAll(p.server, id).data);
    p.flush('server');
    p.now += 1; // updates arrive far faster than 2 RTTs
    if (parts.reduce((n, x) => n + x.length, 0) === payload.length) break;
  }
  assert.deepEqual(Buffer.concat(parts), Buffer.from(payload));
  const updates = p.sent('server', FrameType.MaxStreamData).map((f) => f.maximumStreamData);
  const steps = updates.map((v, i) => v - (i === 0 ? 16 * KiB : updates[i - 1]!));
  assert.ok(Math.max(...steps) > 16 * KiB, `window did not grow: ${steps.slice(0, 10)}`);
  assert.ok(p.server.connectionReceiveWindow >= 384 * KiB, `${p.server.connectionReceiveWindow}`);
  assert.ok(p.server.connectionReceiveWindow <= 1024 * KiB);
  // Every advertised step is bounded by the maximum window.
  for (const v of updates) assert.ok(v <= payload.length + 256 * KiB);
});

test('window auto-tuning: slow updates (more than 2 RTTs apart) keep the initial window', () => {
  const p = new Pair({
    rtt: 10,
    serverLimits: { initialMaxData: 64 * KiB, initialMaxStreamDataUni: 16 * KiB },
    server: { maxStreamReceiveWindow: 256 * KiB },
  });
  const id = p.client.openStream(false)!;
  p.client.write(id, pattern(200 * KiB));
  for (let round = 0; round < 200; round++) {
    p.flush('client');
    readAll(p.server, id);
    assert.ok((p.server.streamBuffers(id)?.receiveWindow ?? 16 * KiB) === 16 * KiB);
    p.flush('server');
    p.now += 1000;
  }
  assert.equal(p.server.streamBuffers(id)!.receiveWindow, 16 * KiB);
  assert.equal(p.server.connectionReceiveWindow, 64 * KiB);
});

test('every STREAM frame fits the size asked for, Length field included', () => {
  const p = new Pair();
  const id = p.client.openStream(false)!;
  p.client.write(id, pattern(100_000));
  for (const maxBytes of [3, 4, 5, 10, 64, 65, 66, 67, 100, 1200, 16_390]) {
    const popped = p.client.popFrame(maxBytes, p.now);
    if (popped === undefined) {
      assert.ok(maxBytes <= 4, `nothing fit in ${maxBytes}`);
      continue;
    }
    const f = popped.frame;
    assert.equal(f.type, FrameType.Stream);
    if (f.type !== FrameType.Stream) continue;
    const size = streamFrameLength(f.streamId, f.offset, f.data.length);
    assert.ok(size <= maxBytes, `${size} > ${maxBytes}`);
    assert.ok(size >= maxBytes - 1, `frame of ${size} wastes room in ${maxBytes}`);
  }
});
