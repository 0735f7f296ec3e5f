/**
 * Streams are typed by kind (src/streams/stream-entry.ts, stream-maps.ts): bidirectional, send-only
 * (our unidirectional) and receive-only (the peer's unidirectional). The types carry the rule, so the
 * code needs no assertion that a part exists; this file checks that none crept back, and that the
 * split into one map per kind changed nothing the peer can see.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FrameType } from '../../../src/wire/frames.js';
import { limits, Pair, pattern } from './harness.js';

const SRC = join(import.meta.dirname, '../../../src/streams');

test('no non-null assertion on a stream part in src/streams (the entry types say which parts exist)', () => {
  const found: string[] = [];
  for (const name of readdirSync(SRC)) {
    if (!name.endsWith('.ts')) continue;
    readFileSync(join(SRC, name), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (/\.(send|recv|sending|receiving)!|\b(entry|stream)!\./.test(line))
          found.push(`${name}:${i + 1}: ${line.trim()}`);
      });
  }
  assert.deepEqual(found, []);
});

test('after 0-RTT limits are replaced, blocked streams are served in the order they were opened', () => {
  // The client opened its streams under remembered limits with no stream credit (as in 0-RTT).
  const p = new Pair({
    serverLimits: { initialMaxStreamDataBidiRemote: 0, initialMaxStreamDataUni: 0 },
  });
  const ids = [false, true, false, true].map((bidi) => {
    const id = p.client.openStream(bidi);
    assert.ok(id !== undefined);
    p.client.write(id, pattern(100, id + 1));
    return id;
  });
  assert.deepEqual(ids, [2, 0, 6, 4]);
  // Only STREAM_DATA_BLOCKED can go out.
  assert.ok(p.take('client').every((f) => f.frame.type === FrameType.StreamDataBlocked));
  p.client.updatePeerLimits(limits());
  const order = p
    .take('client')
    .filter((f) => f.frame.type === FrameType.Stream)
    .map((f) => (f.frame.type === FrameType.Stream ? f.frame.streamId : -1));
  assert.deepEqual(order, ids);
});

test('a peer frame on the wrong part of a unidirectional stream is STREAM_STATE_ERROR, per kind', () => {
  const p = new Pair();
  const ours = p.client.openStream(false);
  assert.equal(ours, 2);
  // The peer sends data on our send-only stream: RFC 9000 §19.8.
  assert.throws(
    () =>
      p.client.handleFrame(
        { type: FrameType.Stream, streamId: 2, offset: 0, data: new Uint8Array(1), fin: false },
        0,
      ),
    (err: Error) => /send-only stream 2/.test(err.message),
  );
  // MAX_STREAM_DATA for the peer's receive-only (to us) stream: RFC 9000 §19.10.
  assert.throws(
    () => p.client.handleFrame({ type: FrameType.MaxStreamData, streamId: 3, maximumStreamData: 10 }, 0),
    (err: Error) => /receive-only stream 3/.test(err.message),
  );
});
