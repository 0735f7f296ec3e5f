/**
 * Connection-level rules of HTTP/3 (RFC 9114 §6, §7, §8; RFC 9204 §4.2) on the sans-IO session,
 * with the test playing the peer over a FakeTransport: each violation closes the connection with
 * the code the RFC names, and what must be ignored is ignored.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { H3ClientSession } from '../../../src/http3/client-session.js';
import { H3ErrorCode } from '../../../src/http3/error-codes.js';
import { Http3RequestRejectedError } from '../../../src/http3/errors.js';
import { encodeFrame, H3FrameType } from '../../../src/http3/frames.js';
import { H3ServerSession } from '../../../src/http3/server-session.js';
import { FakeTransport, headersFrame, req } from './fake-transport.js';
import { LiteralCodec } from './literal-codec.js';

const random = (n: number) => new Uint8Array(n).fill(0x42);
const SETTINGS = encodeFrame({ type: H3FrameType.Settings, entries: [] });
const u8 = (...b: number[]) => Uint8Array.of(...b);
const cat = (...parts: Uint8Array[]) => Buffer.concat(parts);
const code = (c: number) => `close 0x${c.toString(16)}`;

function server(onRequest = () => {}) {
  const t = new FakeTransport('server');
  const s = new H3ServerSession(t, { codec: new LiteralCodec(), random, onRequest });
  t.deliverTo(s.conn);
  return { t, s };
}

function client() {
  const t = new FakeTransport('client');
  const s = new H3ClientSession(t, { codec: new LiteralCodec(), random });
  t.deliverTo(s.conn);
  return { t, s };
}

/** Peer control stream 2 (client) or 3 (server) with SETTINGS, then `more`. */
function control(t: FakeTransport, more: Uint8Array = new Uint8Array(0), fin = false) {
  const id = t.role === 'server' ? 2 : 3;
  t.peerSend(id, cat(u8(0x00), SETTINGS, more), fin);
}

test('our control stream starts with SETTINGS (with GREASE) and the QPACK streams are opened', () => {
  const { t } = server();
  assert.deepEqual(t.ops.slice(0, 4), ['open 3', 'open 7', 'open 11', 'open 15']);
  assert.equal(t.written.get(3)![0], 0x00, 'control stream type');
  const frames = t.framesOn(3, 1);
  assert.equal(frames[0]!.type, H3FrameType.Settings);
  const ids = frames[0]!.type === H3FrameType.Settings ? frames[0]!.entries.map((e) => e.id) : [];
  // MAX_FIELD_SECTION_SIZE, QPACK capacity, blocked streams, and one reserved identifier.
  assert.deepEqual(ids.slice(0, 3).sort(), [0x01, 0x06, 0x07]);
  assert.equal((ids[3]! - 0x21) % 0x1f, 0);
  assert.equal(frames[1]!.type, 'unknown', 'a reserved frame type follows');
  assert.deepEqual([...t.written.get(7)!], [0x02]);
  assert.deepEqual([...t.written.get(11)!], [0x03]);
  assert.ok(t.ended.has(15), 'the GREASE stream ends');
  assert.equal(t.closed, undefined);
});

test('H3_MISSING_SETTINGS: a first control frame other than SETTINGS (RFC 9114 §6.2.1)', () => {
  const { t } = server();
  t.peerSend(2, cat(u8(0x00), encodeFrame({ type: H3FrameType.Goaway, id: 0 })));
  assert.deepEqual(t.actions.slice(-1), [code(H3ErrorCode.H3_MISSING_SETTINGS)]);
});

test('H3_FRAME_UNEXPECTED: second SETTINGS, DATA/HEADERS on the control stream, MAX_PUSH_ID to a client', () => {
  for (const bad of [
    SETTINGS,
    encodeFrame({ type: H3FrameType.Data, data: u8(1) }),
    encodeFrame({ type: H3FrameType.Headers, fieldSection: u8(0, 0) }),
    encodeFrame({ type: H3FrameType.PushPromise, pushId: 0, fieldSection: u8(0, 0) }),
    encodeFrame({ type: 'unknown', frameType: 0x06, payload: u8() }), // HTTP/2 PING
  ]) {
    const { t } = server();
    control(t, bad);
    assert.deepEqual(t.actions.slice(-1), [code(H3ErrorCode.H3_FRAME_UNEXPECTED)]);
  }
  const { t } = client();
  control(t, encodeFrame({ type: H3FrameType.MaxPushId, pushId: 5 }));
  assert.deepEqual(t.actions.slice(-1), [code(H3ErrorCode.H3_FRAME_UNEXPECTED)]);
});

test('H3_ID_ERROR: MAX_PUSH_ID decreasing, CANCEL_PUSH never promised, GOAWAY rules (RFC 9114 §5.2, §7.2)', () => {
  {
    const { t } = server();
    control(
      t,
      cat(
        encodeFrame({ type: H3FrameType.MaxPushId, pushId: 5 }),
        encodeFrame({ type: H3FrameType.MaxPushId, pushId: 4 }),
      ),
    );
    assert.deepEqual(t.actions.slice(-1), [code(H3ErrorCode.H3_ID_ERROR)]);
  }
  for (const role of ['client', 'server'] as const) {
    const { t } = role === 'client' ? client() : server();
    control(t, encodeFrame({ type: H3FrameType.CancelPush, pushId: 0 }));
    assert.deepEqual(t.actions.slice(-1), [code(H3ErrorCode.H3_ID_ERROR)], role);
  }
  {
    const { t } = client();
    control(t, encodeFrame({ type: H3FrameType.Goaway, id: 2 }));
    assert.deepEqual(
      t.actions.slice(-1),
      [code(H3ErrorCode.H3_ID_ERROR)],
      'GOAWAY with a non-request stream ID',
    );
  }
  {
    const { t } = client();
    control(
      t,
      cat(
        encodeFrame({ type: H3FrameType.Goaway, id: 8 }),
        encodeFrame({ type: H3FrameType.Goaway, id: 12 }),
      ),
    );
    assert.deepEqual(t.actions.slice(-1), [code(H3ErrorCode.H3_ID_ERROR)], 'GOAWAY increasing');
  }
  {
    const { t } = client();
    control(
      t,
      cat(encodeFrame({ type: H3FrameType.Goaway, id: 8 }), encodeFrame({ type: H3FrameType.Goaway, id: 4 })),
    );
    assert.equal(t.closed, undefined, 'GOAWAY decreasing is fine');
  }
});

test('H3_SETTINGS_ERROR: HTTP/2 settings, duplicates', () => {
  const { t } = server();
  t.peerSend(
    2,
    cat(u8(0x00), encodeFrame({ type: H3FrameType.Settings, entries: [{ id: 0x02, value: 0 }] })),
  );
  assert.deepEqual(t.actions.slice(-1), [code(H3ErrorCode.H3_SETTINGS_ERROR)]);
});

test('H3_STREAM_CREATION_ERROR: a second control, encoder or decoder stream; push from a client; server bidi stream', () => {
  for (const type of [0x00, 0x02, 0x03]) {
    const { t } = server();
    t.peerSend(2, cat(u8(type), type === 0 ? SETTINGS : u8()));
    t.peerSend(6, cat(u8(type), type === 0 ? SETTINGS : u8()));
    assert.deepEqual(t.actions.slice(-1), [code(H3ErrorCode.H3_STREAM_CREATION_ERROR)], `type ${type}`);
  }
  {
    const { t } = server();
    t.peerSend(2, u8(0x01, 0x00));
    assert.deepEqual(t.actions.slice(-1), [code(H3ErrorCode.H3_STREAM_CREATION_ERROR)], 'push from client');
  }
  {
    const { t } = client();
    t.peerSend(1, headersFrame(req()));
    assert.deepEqual(
      t.actions.slice(-1),
      [code(H3ErrorCode.H3_STREAM_CREATION_ERROR)],
      'server-initiated bidi',
    );
  }
  {
    const { t } = client();
    t.peerSend(3, u8(0x01, 0x00));
    assert.deepEqual(t.actions.slice(-1), [code(H3ErrorCode.H3_ID_ERROR)], 'push without MAX_PUSH_ID');
  }
});

test('H3_CLOSED_CRITICAL_STREAM: FIN or reset of control/QPACK streams, STOP_SENDING of ours', () => {
  for (const type of [0x00, 0x02, 0x03]) {
    const { t } = server();
    t.peerSend(2, cat(u8(type), type === 0 ? SETTINGS : u8()), true);
    assert.deepEqual(
      t.actions.slice(-1),
      [code(H3ErrorCode.H3_CLOSED_CRITICAL_STREAM)],
      `FIN of type ${type}`,
    );
  }
  {
    const { t } = server();
    control(t);
    t.events.onStreamReset(2, 0x100);
    assert.deepEqual(t.actions.slice(-1), [code(H3ErrorCode.H3_CLOSED_CRITICAL_STREAM)], 'reset');
  }
  {
    const { t } = server();
    t.events.onStopSending(3, 0x100);
    assert.deepEqual(
      t.actions.slice(-1),
      [code(H3ErrorCode.H3_CLOSED_CRITICAL_STREAM)],
      'STOP_SENDING on our control stream',
    );
  }
});

test('ignored: unknown and GREASE stream types (STOP_SENDING), streams ending before their type, unknown frames', () => {
  const { t } = server();
  control(t, encodeFrame({ type: 'unknown', frameType: 0x21, payload: u8(1, 2, 3) }));
  t.peerSend(6, u8(0x40, 0x21, 9, 9, 9)); // type 0x21 in a 2-byte varint: GREASE
  t.peerSend(10, u8(0x54)); // the first byte of a 2-byte varint, then FIN: no type
  t.peerSend(10, u8(), true);
  t.peerSend(14, u8(0x3a)); // unknown type 0x3a
  assert.equal(t.closed, undefined);
  assert.deepEqual(
    t.actions.filter((a) => a.startsWith('stop')),
    [`stop 6 0x${H3ErrorCode.H3_STREAM_CREATION_ERROR.toString(16)}`, `stop 14 0x103`],
  );
});

test('a QPACK decompression failure is a connection error QPACK_DECOMPRESSION_FAILED (RFC 9204 §2.2)', () => {
  const { t } = server();
  t.peerSend(0, encodeFrame({ type: H3FrameType.Headers, fieldSection: u8(0xff, 0xff, 0xff) }));
  assert.deepEqual(t.actions.slice(-1), [code(H3ErrorCode.QPACK_DECOMPRESSION_FAILED)]);
});

test('GOAWAY from the server: requests at or above its ID are rejected, safe to retry; no new requests', () => {
  const { t, s } = client();
  control(t);
  const errors: Array<Error | undefined> = [];
  for (let i = 0; i < 3; i++) {
    const idx = i;
    errors.push(undefined);
    s.request(
      { method: 'GET', scheme: 'https', authority: 'a', path: `/${i}`, fields: [] },
      {
        onResponse() {},
        onData() {},
        onTrailers() {},
        onEnd() {},
        onError: (e) => {
          errors[idx] = e;
        },
        onWritable() {},
      },
    ).end();
  }
  t.peerSend(3, encodeFrame({ type: H3FrameType.Goaway, id: 4 }));
  assert.equal(errors[0], undefined, 'stream 0 may still be answered');
  assert.ok(
    errors[1] instanceof Http3RequestRejectedError && errors[1].code === 'ERR_HTTP3_REQUEST_REJECTED',
  );
  assert.ok(errors[2] instanceof Http3RequestRejectedError);
  assert.deepEqual(
    t.actions.filter((a) => a.startsWith('reset')),
    ['reset 4 0x10c', 'reset 8 0x10c'],
  );
  assert.equal(s.available, false);
  let late: Error | undefined;
  s.request(
    { method: 'GET', scheme: 'https', authority: 'a', path: '/late', fields: [] },
    {
      onResponse() {},
      onData() {},
      onTrailers() {},
      onEnd() {},
      onError: (e) => (late = e),
      onWritable() {},
    },
  );
  assert.ok(late instanceof Http3RequestRejectedError, 'no new request after GOAWAY');
});

test('server shutdown: GOAWAY with the next request ID, later requests rejected, close when drained', () => {
  const pending: Array<() => void> = [];
  const { t, s } = server();
  const srv = s;
  // Respond only when told, so request 0 is in flight at shutdown.
  (
    srv as unknown as {
      opts: { onRequest: (ex: import('../../../src/http3/server-exchange.js').ServerExchange) => void };
    }
  ).opts.onRequest = (ex) => {
    ex.deliverTo({ onData() {}, onTrailers() {}, onEnd() {}, onAborted() {}, onWritable() {} });
    pending.push(() => ex.respond(200, [], true));
  };
  control(t);
  t.peerSend(0, headersFrame(req('/a')), true);
  srv.shutdown();
  const goaway = t.framesOn(3, 1).find((f) => f.type === H3FrameType.Goaway);
  assert.deepEqual(goaway, { type: H3FrameType.Goaway, id: 4 });
  t.peerSend(4, headersFrame(req('/b')), true);
  assert.ok(t.actions.includes('reset 4 0x10b') && t.actions.includes('stop 4 0x10b'), 'H3_REQUEST_REJECTED');
  assert.equal(t.closed, undefined, 'request 0 is still being served');
  pending[0]!();
  assert.deepEqual(t.closed, { code: H3ErrorCode.H3_NO_ERROR, reason: 'shutdown' });
});
