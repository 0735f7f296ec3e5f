/**
 * Any bytes, on any streams, in any order, into an HTTP/3 session (client or server, real QPACK):
 * the session never throws out of its transport events; it either keeps going or closes the
 * connection with an HTTP/3 or QPACK error code naming the peer's fault (never H3_INTERNAL_ERROR); and a closed session stays closed. Inputs mix
 * well-formed frames (to get past the first checks) with random bytes, resets and STOP_SENDINGs.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { H3ClientSession } from '../../src/http3/client-session.js';
import { H3ErrorCode } from '../../src/http3/error-codes.js';
import { encodeFrame, H3FrameType } from '../../src/http3/frames.js';
import { qpackCodec } from '../../src/http3/qpack-codec.js';
import { H3ServerSession } from '../../src/http3/server-session.js';
import { FakeTransport, headersFrame, req } from '../unit/http3/fake-transport.js';

const random = (n: number) => new Uint8Array(n).fill(9);
/** Every code the RFCs name for a peer's fault; H3_INTERNAL_ERROR would mean an exception of ours. */
const VALID_CODES = new Set(
  Object.values(H3ErrorCode).filter(
    (v): v is number => typeof v === 'number' && v !== H3ErrorCode.H3_INTERNAL_ERROR,
  ),
);

const chunk = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc.constant(encodeFrame({ type: H3FrameType.Settings, entries: [{ id: 6, value: 1000 }] })),
  fc.constant(encodeFrame({ type: H3FrameType.Data, data: Uint8Array.of(1, 2, 3) })),
  fc.constant(encodeFrame({ type: H3FrameType.Goaway, id: 8 })),
  fc.constant(headersFrame(req('/x'))),
  fc.constant(headersFrame([{ name: ':status', value: '200' }])),
  fc.constant(Uint8Array.of(0x00)),
  fc.constant(Uint8Array.of(0x02)),
  fc.constant(Uint8Array.of(0x03)),
);

const op = fc.oneof(
  fc.record({
    kind: fc.constant('send' as const),
    stream: fc.integer({ min: 0, max: 12 }),
    data: chunk,
    fin: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('reset' as const),
    stream: fc.integer({ min: 0, max: 12 }),
    code: fc.integer({ min: 0, max: 0x300 }),
  }),
  fc.record({
    kind: fc.constant('stop' as const),
    stream: fc.integer({ min: 0, max: 12 }),
    code: fc.integer({ min: 0, max: 0x300 }),
  }),
  fc.record({ kind: fc.constant('request' as const) }),
);

test('random stream input never throws out of a session; closes carry HTTP/3 codes', () => {
  fc.assert(
    fc.property(
      fc.constantFrom('client' as const, 'server' as const),
      fc.array(op, { maxLength: 40 }),
      (role, ops) => {
        const t = new FakeTransport(role);
        const session =
          role === 'server'
            ? new H3ServerSession(t, {
                codec: qpackCodec,
                random,
                onRequest: (ex) => {
                  ex.deliverTo({
                    onData() {},
                    onTrailers() {},
                    onEnd: () => ex.respond(200, [], true),
                    onAborted() {},
                    onWritable() {},
                  });
                },
              })
            : new H3ClientSession(t, { codec: qpackCodec, random });
        t.deliverTo(session.conn);
        const finished = new Set<number>();
        for (const o of ops) {
          // Peer streams: a server's peer opens 0,4,8 (bidi) and 2,6,10 (uni); a client's peer 3,7,11 (uni).
          const id =
            role === 'server'
              ? o.kind === 'request'
                ? 0
                : 'stream' in o
                  ? o.stream
                  : 0
              : 'stream' in o
                ? o.stream | 1
                : 3;
          if (o.kind === 'send') {
            if (finished.has(id)) continue;
            if (o.fin) finished.add(id);
            t.peerSend(id, o.data, o.fin);
          } else if (o.kind === 'reset') {
            t.events.onStreamReset(id, o.code);
          } else if (o.kind === 'stop') {
            t.events.onStopSending(id, o.code);
          } else if (session instanceof H3ClientSession) {
            session
              .request(
                { method: 'GET', scheme: 'https', authority: 'a', path: '/', fields: [] },
                { onResponse() {}, onData() {}, onTrailers() {}, onEnd() {}, onError() {}, onWritable() {} },
              )
              .end();
          }
        }
        if (t.closed)
          assert.ok(
            VALID_CODES.has(t.closed.code),
            `closed with 0x${t.closed.code.toString(16)}: ${t.closed.reason}`,
          );
        assert.equal(t.ops.filter((o) => o.startsWith('close')).length <= 1, true, 'closed at most once');
      },
    ),
    { numRuns: 1500 },
  );
});
