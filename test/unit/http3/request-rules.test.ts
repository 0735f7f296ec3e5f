/**
 * Request-stream rules (RFC 9114 §4.1, §4.2, §4.3, §7.1) on the sans-IO sessions, the test playing
 * the peer: frame order, malformed messages, content-length, truncation, cancellation.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { H3ClientSession } from '../../../src/http3/client-session.js';
import { H3ErrorCode } from '../../../src/http3/error-codes.js';
import {
  Http3ProtocolError,
  Http3RequestRejectedError,
  Http3StreamResetError,
  Http3UsageError,
} from '../../../src/http3/errors.js';
import type { FieldLine } from '../../../src/http3/field-codec.js';
import { encodeFrame, encodeFrameHeader, H3FrameType } from '../../../src/http3/frames.js';
import type { ServerExchange } from '../../../src/http3/server-exchange.js';
import { H3ServerSession } from '../../../src/http3/server-session.js';
import { FakeTransport, headersFrame, req } from './fake-transport.js';
import { decodeLiteralSection, LiteralCodec } from './literal-codec.js';

const random = (n: number) => new Uint8Array(n).fill(7);
const cat = (...parts: Uint8Array[]) => Buffer.concat(parts);
const data = (s: string) => encodeFrame({ type: H3FrameType.Data, data: Buffer.from(s) });
const hex = (c: number) => `0x${c.toString(16)}`;

interface Seen {
  ex: ServerExchange;
  body: string;
  ended: boolean;
  aborted: Error | undefined;
  trailers: FieldLine[] | undefined;
}

function server(respond = false) {
  const t = new FakeTransport('server');
  const seen: Seen[] = [];
  const codec = new LiteralCodec();
  const s = new H3ServerSession(t, {
    codec,
    random,
    onRequest: (ex) => {
      const rec: Seen = { ex, body: '', ended: false, aborted: undefined, trailers: undefined };
      seen.push(rec);
      ex.deliverTo({
        onData: (c) => {
          rec.body += Buffer.from(c).toString();
        },
        onTrailers: (f) => {
          rec.trailers = f;
        },
        onEnd: () => {
          rec.ended = true;
          if (respond) ex.respond(200, [], true);
        },
        onAborted: (e) => {
          rec.aborted = e;
        },
        onWritable() {},
      });
    },
  });
  t.deliverTo(s.conn);
  return { t, s, seen, codec };
}

/** The response head the server wrote on `id` (decoded). */
function responseOn(t: FakeTransport, id: number): FieldLine[] {
  const f = t.framesOn(id)[0];
  assert.ok(f && f.type === H3FrameType.Headers);
  return decodeLiteralSection(f.fieldSection);
}

test('a request with body and trailers reaches the handler; the stream leaves the registry when done', () => {
  const { t, s, seen } = server(true);
  t.peerSend(
    0,
    cat(headersFrame(req('/p', 'POST', [{ name: 'content-length', value: '5' }])), data('ab'), data('cde')),
  );
  t.peerSend(0, headersFrame([{ name: 'x-t', value: '1' }]), true);
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.ex.head?.method, 'POST');
  assert.equal(seen[0]!.ex.head?.path, '/p');
  assert.equal(seen[0]!.ex.head?.authority, 'example.test');
  assert.equal(seen[0]!.body, 'abcde');
  assert.deepEqual(seen[0]!.trailers, [{ name: 'x-t', value: '1' }]);
  assert.ok(seen[0]!.ended);
  assert.deepEqual(responseOn(t, 0), [{ name: ':status', value: '200' }]);
  assert.ok(t.ended.has(0));
  assert.equal(s.activeRequests, 0);
  assert.equal(t.closed, undefined);
});

test('malformed requests get 400 and STOP_SENDING H3_MESSAGE_ERROR; the handler never sees them (RFC 9114 §4.1.2)', () => {
  const cases: Array<[string, FieldLine[]]> = [
    ['uppercase name', req('/', 'GET', [{ name: 'X-Up', value: '1' }])],
    ['missing :path', req('/').filter((f) => f.name !== ':path')],
    ['empty :path', req('')],
    ['missing :method', req('/').filter((f) => f.name !== ':method')],
    ['missing :scheme', req('/').filter((f) => f.name !== ':scheme')],
    ['no authority', req('/').filter((f) => f.name !== ':authority')],
    ['connection header', req('/', 'GET', [{ name: 'connection', value: 'close' }])],
    ['transfer-encoding', req('/', 'GET', [{ name: 'transfer-encoding', value: 'chunked' }])],
    ['te: gzip', req('/', 'GET', [{ name: 'te', value: 'gzip' }])],
    [
      'pseudo after regular',
      [...req('/', 'GET', [{ name: 'a', value: 'b' }]), { name: ':protocol', value: 'x' }],
    ],
    ['duplicate :path', [...req('/'), { name: ':path', value: '/2' }]],
    ['unknown pseudo', [...req('/'), { name: ':status', value: '200' }]],
    ['CR in value', req('/', 'GET', [{ name: 'a', value: 'x\ry' }])],
    ['NUL in value', req('/', 'GET', [{ name: 'a', value: 'x\0y' }])],
    ['bad content-length', req('/', 'POST', [{ name: 'content-length', value: '1x' }])],
    ['conflicting content-length', req('/', 'POST', [{ name: 'content-length', value: '1, 2' }])],
    [
      ':protocol without Extended CONNECT',
      [...req('/'), { name: ':protocol', value: 'websocket' }].map((f) =>
        f.name === ':method' ? { ...f, value: 'CONNECT' } : f,
      ),
    ],
    ['authority and host differ', req('/', 'GET', [{ name: 'host', value: 'other.test' }])],
  ];
  for (const [what, fields] of cases) {
    const { t, seen } = server(true);
    t.peerSend(0, headersFrame(fields), true);
    assert.equal(seen.length, 0, what);
    assert.deepEqual(
      responseOn(t, 0),
      [
        { name: ':status', value: '400' },
        { name: 'content-length', value: '0' },
      ],
      what,
    );
    assert.ok(t.ended.has(0), what);
    assert.ok(t.actions.includes(`stop 0 ${hex(H3ErrorCode.H3_MESSAGE_ERROR)}`), `${what}: ${t.actions}`);
    assert.equal(t.closed, undefined, what);
  }
});

test('valid request forms: OPTIONS *, CONNECT, host instead of :authority, te: trailers', () => {
  const { t, seen } = server(true);
  t.peerSend(0, headersFrame(req('*', 'OPTIONS')), true);
  t.peerSend(
    4,
    headersFrame([
      { name: ':method', value: 'CONNECT' },
      { name: ':authority', value: 'h:443' },
    ]),
    true,
  );
  t.peerSend(
    8,
    headersFrame([...req('/').filter((f) => f.name !== ':authority'), { name: 'host', value: 'h.test' }]),
    true,
  );
  t.peerSend(12, headersFrame(req('/', 'GET', [{ name: 'te', value: 'trailers' }])), true);
  assert.equal(seen.length, 4, t.actions.join());
  assert.equal(seen[1]!.ex.head?.path, undefined);
  assert.equal(seen[2]!.ex.head?.authority, 'h.test');
});

test('content-length must equal the DATA received, both ways (RFC 9114 §4.1.2)', () => {
  {
    const { t, seen } = server();
    t.peerSend(
      0,
      cat(headersFrame(req('/', 'POST', [{ name: 'content-length', value: '3' }])), data('abcd')),
    );
    assert.ok(t.actions.includes(`reset 0 ${hex(H3ErrorCode.H3_MESSAGE_ERROR)}`), 'more than declared');
    assert.ok(seen[0]!.aborted instanceof Http3ProtocolError);
    assert.equal(seen[0]!.body, '', 'the excess is not delivered');
  }
  {
    const { t, seen } = server();
    t.peerSend(
      0,
      cat(headersFrame(req('/', 'POST', [{ name: 'content-length', value: '3' }])), data('ab')),
      true,
    );
    assert.ok(t.actions.includes(`reset 0 ${hex(H3ErrorCode.H3_MESSAGE_ERROR)}`), 'less than declared');
    assert.equal(seen[0]!.ended, false);
    assert.equal((seen[0]!.aborted as Http3ProtocolError).h3Code, H3ErrorCode.H3_MESSAGE_ERROR);
  }
});

test('frame order on a request stream: H3_FRAME_UNEXPECTED / H3_FRAME_ERROR are connection errors', () => {
  const cases: Array<[string, Uint8Array, boolean, number]> = [
    ['DATA before HEADERS', data('x'), false, H3ErrorCode.H3_FRAME_UNEXPECTED],
    [
      'SETTINGS on a request stream',
      encodeFrame({ type: H3FrameType.Settings, entries: [] }),
      false,
      H3ErrorCode.H3_FRAME_UNEXPECTED,
    ],
    [
      'GOAWAY on a request stream',
      cat(headersFrame(req()), encodeFrame({ type: H3FrameType.Goaway, id: 0 })),
      false,
      H3ErrorCode.H3_FRAME_UNEXPECTED,
    ],
    [
      'PUSH_PROMISE from a client',
      encodeFrame({ type: H3FrameType.PushPromise, pushId: 0, fieldSection: Uint8Array.of(0, 0) }),
      false,
      H3ErrorCode.H3_FRAME_UNEXPECTED,
    ],
    [
      'DATA after trailers',
      cat(headersFrame(req()), headersFrame([]), data('x')),
      false,
      H3ErrorCode.H3_FRAME_UNEXPECTED,
    ],
    [
      'HEADERS after trailers',
      cat(headersFrame(req()), headersFrame([]), headersFrame([])),
      false,
      H3ErrorCode.H3_FRAME_UNEXPECTED,
    ],
    [
      'truncated frame at FIN',
      cat(headersFrame(req()), encodeFrameHeader(0, 10), Buffer.from('abc')),
      true,
      H3ErrorCode.H3_FRAME_ERROR,
    ],
    [
      'HTTP/2 PRIORITY frame',
      encodeFrame({ type: 'unknown', frameType: 0x02, payload: Uint8Array.of() }),
      false,
      H3ErrorCode.H3_FRAME_UNEXPECTED,
    ],
  ];
  for (const [what, bytes, fin, code] of cases) {
    const { t } = server();
    t.peerSend(0, bytes, fin);
    assert.deepEqual(t.closed?.code, code, what);
  }
  // Unknown frame types anywhere on a request stream are skipped.
  const { t, seen } = server(true);
  const grease = encodeFrame({ type: 'unknown', frameType: 0x21 + 0x1f * 9, payload: Buffer.alloc(30) });
  t.peerSend(0, cat(grease, headersFrame(req()), grease, data('x'), grease), true);
  assert.equal(t.closed, undefined);
  assert.equal(seen[0]!.body, 'x');
});

test('FIN before the header section: H3_REQUEST_INCOMPLETE; a huge header section: 431', () => {
  {
    const { t, seen } = server();
    t.peerSend(0, new Uint8Array(0), true);
    assert.equal(seen.length, 0);
    assert.ok(t.actions.includes(`reset 0 ${hex(H3ErrorCode.H3_REQUEST_INCOMPLETE)}`), t.actions.join());
  }
  {
    const { t, seen, codec } = server();
    t.peerSend(0, encodeFrameHeader(H3FrameType.Headers, 100_000));
    assert.equal(seen.length, 0);
    assert.equal(responseOn(t, 0)[0]!.value, '431');
    assert.ok(t.actions.includes(`stop 0 ${hex(H3ErrorCode.H3_EXCESSIVE_LOAD)}`));
    assert.deepEqual(codec.decoders[0]!.cancelled, [0], 'QPACK Stream Cancellation for the unread section');
    assert.equal(t.closed, undefined);
  }
});

test('the client cancels: the handler hears of it; the server stops reading; QPACK cancels unread sections', () => {
  const { t, seen, codec } = server();
  t.peerSend(0, headersFrame(req('/', 'POST')));
  t.events.onStreamReset(0, H3ErrorCode.H3_REQUEST_CANCELLED);
  assert.ok(seen[0]!.aborted instanceof Http3StreamResetError);
  assert.equal((seen[0]!.aborted as Http3StreamResetError).h3Code, H3ErrorCode.H3_REQUEST_CANCELLED);
  t.events.onStopSending(0, H3ErrorCode.H3_REQUEST_CANCELLED);
  // A reset before the head arrived: nothing reaches the handler, QPACK is told.
  t.peerSend(4, new Uint8Array(0));
  t.events.onStreamReset(4, H3ErrorCode.H3_REQUEST_CANCELLED);
  assert.equal(seen.length, 1);
  assert.deepEqual(
    codec.decoders[0]!.cancelled,
    [0, 4],
    'each stream reset before its end (RFC 9204 §4.4.2)',
  );
  assert.equal(t.closed, undefined);
});

test('a response completed before the request body: STOP_SENDING H3_NO_ERROR (RFC 9114 §4.1.1)', () => {
  const { t, seen } = server();
  t.peerSend(0, cat(headersFrame(req('/', 'POST')), data('part')));
  seen[0]!.ex.respond(413, [], true);
  assert.ok(t.actions.includes(`stop 0 ${hex(H3ErrorCode.H3_NO_ERROR)}`));
  assert.ok(t.ended.has(0));
});

test('a handler that ends its response at once, the request complete: nothing abandoned (RFC 9114 §4.1.1)', () => {
  // The handler runs inside the read of the HEADERS, before the reader has seen the FIN that came
  // with them: the decision to abandon waits for the end of that read.
  const t = new FakeTransport('server');
  const codec = new LiteralCodec();
  const s = new H3ServerSession(t, {
    codec,
    random,
    onRequest: (ex) => {
      ex.deliverTo({ onData() {}, onTrailers() {}, onEnd() {}, onAborted() {}, onWritable() {} });
      ex.respond(200, [], true);
    },
  });
  t.deliverTo(s.conn);
  t.peerSend(0, headersFrame(req('/')), true);
  assert.ok(t.ended.has(0));
  assert.ok(!t.actions.some((a) => a.startsWith('stop 0')), `${t.actions}`);
  assert.deepEqual(codec.decoders[0]!.cancelled, [], 'no QPACK Stream Cancellation');
  // Still abandoned when the request is not complete after that read.
  t.peerSend(4, cat(headersFrame(req('/', 'POST')), data('part')));
  assert.ok(t.actions.includes(`stop 4 ${hex(H3ErrorCode.H3_NO_ERROR)}`), `${t.actions}`);
  assert.deepEqual(codec.decoders[0]!.cancelled, [4]);
});

test('HEAD responses, 204 and 304 carry no content even if written', () => {
  const { t, seen } = server();
  t.peerSend(0, headersFrame(req('/', 'HEAD')), true);
  seen[0]!.ex.respond(200, [{ name: 'content-length', value: '10' }]);
  seen[0]!.ex.write(Buffer.from('0123456789'));
  seen[0]!.ex.end();
  assert.deepEqual(
    t.framesOn(0).map((f) => f.type),
    [H3FrameType.Headers],
  );
  t.peerSend(4, headersFrame(req('/')), true);
  seen[1]!.ex.respond(204, []);
  seen[1]!.ex.write(Buffer.from('x'));
  seen[1]!.ex.end();
  assert.deepEqual(
    t.framesOn(4).map((f) => f.type),
    [H3FrameType.Headers],
  );
});

test('misuse of the response API throws typed errors', () => {
  const { t, seen } = server();
  t.peerSend(0, headersFrame(req('/')), true);
  const ex = seen[0]!.ex;
  assert.throws(
    () => ex.write(Buffer.from('x')),
    (e: unknown) => e instanceof Http3UsageError && e.code === 'ERR_HTTP3_WRITE_STATE',
  );
  assert.throws(
    () => ex.respond(99, []),
    (e: unknown) => e instanceof Http3UsageError && e.code === 'ERR_HTTP3_INVALID_STATUS',
  );
  assert.throws(
    () => ex.sendInterim(101, []),
    (e: unknown) => e instanceof Http3UsageError,
  );
  assert.throws(
    () => ex.respond(200, [{ name: 'bad name', value: 'x' }]),
    (e: unknown) => e instanceof Http3UsageError && e.code === 'ERR_HTTP3_INVALID_HEADER',
  );
  assert.throws(
    () => ex.respond(200, [{ name: 'x', value: 'a\nb' }]),
    (e: unknown) => e instanceof Http3UsageError,
  );
  ex.respond(200, [
    { name: 'Connection', value: 'close' },
    { name: 'X-Ok', value: ' v ' },
  ]);
  assert.deepEqual(responseOn(t, 0), [
    { name: ':status', value: '200' },
    { name: 'x-ok', value: 'v' },
  ]);
  assert.throws(
    () => ex.respond(200, []),
    (e: unknown) => e instanceof Http3UsageError && e.code === 'ERR_HTTP3_HEADERS_SENT',
  );
});

// ------------------------------------------------------------------ client side

function client() {
  const t = new FakeTransport('client');
  const s = new H3ClientSession(t, { codec: new LiteralCodec(), random });
  t.deliverTo(s.conn);
  return { t, s };
}

function clientRequest(s: H3ClientSession, method = 'GET') {
  const rec = {
    status: 0,
    interim: [] as number[],
    body: '',
    ended: false,
    error: undefined as Error | undefined,
  };
  const ex = s.request(
    { method, scheme: 'https', authority: 'a.test', path: '/x', fields: [{ name: 'Accept', value: '*/*' }] },
    {
      onInterim: (h) => rec.interim.push(h.status),
      onResponse: (h) => {
        rec.status = h.status;
      },
      onData: (c) => {
        rec.body += Buffer.from(c).toString();
      },
      onTrailers() {},
      onEnd: () => {
        rec.ended = true;
      },
      onError: (e) => {
        rec.error = e;
      },
      onWritable() {},
    },
  );
  return { ex, rec };
}

const resp = (status: string, extra: FieldLine[] = []) =>
  headersFrame([{ name: ':status', value: status }, ...extra]);

test('client: request head on the wire, interim responses, body; malformed responses are H3_MESSAGE_ERROR', () => {
  {
    const { t, s } = client();
    const { ex, rec } = clientRequest(s);
    ex.end();
    const sent = t.framesOn(0);
    assert.equal(sent[0]!.type, H3FrameType.Headers);
    if (sent[0]!.type === H3FrameType.Headers) {
      assert.deepEqual(decodeLiteralSection(sent[0]!.fieldSection), [
        { name: ':method', value: 'GET' },
        { name: ':scheme', value: 'https' },
        { name: ':authority', value: 'a.test' },
        { name: ':path', value: '/x' },
        { name: 'accept', value: '*/*' },
      ]);
    }
    assert.ok(t.ended.has(0));
    t.peerSend(0, cat(resp('100'), resp('103'), resp('200'), data('hello')), true);
    assert.deepEqual(rec, { status: 200, interim: [100, 103], body: 'hello', ended: true, error: undefined });
  }
  for (const [what, frames] of [
    ['101', resp('101')],
    ['no :status', headersFrame([{ name: 'a', value: 'b' }])],
    [
      'request pseudo-header',
      headersFrame([
        { name: ':status', value: '200' },
        { name: ':path', value: '/' },
      ]),
    ],
    ['a second final response', cat(resp('200'), resp('200'))],
    ['content on a 204', cat(resp('204'), data('x'))],
    ['content-length mismatch', cat(resp('200', [{ name: 'content-length', value: '1' }]), data('xy'))],
  ] as const) {
    const { t, s } = client();
    const { ex, rec } = clientRequest(s);
    ex.end();
    t.peerSend(0, frames, true);
    assert.ok(rec.error instanceof Http3ProtocolError, what);
    assert.equal((rec.error as Http3ProtocolError).h3Code, H3ErrorCode.H3_MESSAGE_ERROR, what);
    assert.ok(t.actions.includes(`stop 0 ${hex(H3ErrorCode.H3_MESSAGE_ERROR)}`), what);
  }
});

test('client: HEAD responses have no content; H3_REQUEST_REJECTED is retryable; STOP_SENDING H3_NO_ERROR is not an error', () => {
  {
    const { t, s } = client();
    const { ex, rec } = clientRequest(s, 'HEAD');
    ex.end();
    t.peerSend(0, resp('200', [{ name: 'content-length', value: '100' }]), true);
    assert.ok(rec.ended && rec.error === undefined);
  }
  {
    const { t, s } = client();
    const { ex, rec } = clientRequest(s);
    ex.end();
    t.events.onStreamReset(0, H3ErrorCode.H3_REQUEST_REJECTED);
    assert.ok(rec.error instanceof Http3RequestRejectedError);
  }
  {
    const { t, s } = client();
    const { ex, rec } = clientRequest(s, 'POST');
    ex.write(Buffer.from('part of a body'));
    t.peerSend(0, resp('413'), true);
    t.events.onStopSending(0, H3ErrorCode.H3_NO_ERROR);
    ex.write(Buffer.from('more'));
    ex.end();
    assert.equal(rec.status, 413);
    assert.ok(rec.ended);
    assert.equal(rec.error, undefined);
    assert.ok(!t.ended.has(0), 'no FIN after the server stopped us');
  }
});

test('client: cancel resets both directions with H3_REQUEST_CANCELLED, before or after the stream opened', () => {
  const { t, s } = client();
  const a = clientRequest(s);
  a.ex.end();
  a.ex.cancel();
  assert.ok(t.actions.includes(`reset 0 ${hex(H3ErrorCode.H3_REQUEST_CANCELLED)}`));
  assert.ok(t.actions.includes(`stop 0 ${hex(H3ErrorCode.H3_REQUEST_CANCELLED)}`));
  t.bidiCredit = 0;
  const b = clientRequest(s);
  b.ex.cancel();
  t.grantBidi(1);
  assert.ok(
    t.actions.includes(`reset 4 ${hex(H3ErrorCode.H3_REQUEST_CANCELLED)}`),
    'opened after the cancel: reset at once',
  );
  assert.equal(t.framesOn(4).length, 0, 'nothing of the cancelled request is sent');
});
