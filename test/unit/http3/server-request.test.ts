/**
 * The request object a handler receives (src/http3/node/server-request.ts): node:http's header
 * shapes, rawHeaders and the trailers built from the field lines when asked for.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PeerSocket } from '../../../src/http3/node/peer-socket.js';
import { Http3ServerRequest } from '../../../src/http3/node/server-request.js';
import type { ServerExchange } from '../../../src/http3/server-exchange.js';

function request(): Http3ServerRequest {
  const exchange = {
    head: {
      method: 'POST',
      scheme: 'https',
      authority: 'example.com',
      path: '/upload?x=1',
      protocol: undefined,
      fields: [
        { name: 'content-type', value: 'text/plain' },
        { name: 'cookie', value: 'a=1' },
        { name: 'cookie', value: 'b=2' },
      ],
    },
    early: false,
    streamId: 4,
    setWantData: () => {},
  } as unknown as ServerExchange;
  return new Http3ServerRequest(exchange, {} as PeerSocket);
}

test('server request: headers, rawHeaders and, after the body, trailers and rawTrailers', () => {
  const req = request();
  assert.equal(req.method, 'POST');
  assert.equal(req.url, '/upload?x=1');
  assert.equal(req.streamId, 4);
  assert.deepEqual(
    { ...req.headers },
    { 'content-type': 'text/plain', cookie: 'a=1; b=2', host: 'example.com' },
  );
  assert.deepEqual(req.rawHeaders, ['content-type', 'text/plain', 'cookie', 'a=1', 'cookie', 'b=2']);
  assert.equal(req.rawHeaders, req.rawHeaders, 'built once');
  // No trailers (yet): empty, like node:http's.
  assert.deepEqual({ ...req.trailers }, {});
  assert.deepEqual(req.rawTrailers, []);
  req._onTrailers([
    { name: 'x-checksum', value: 'abc' },
    { name: 'x-n', value: '1' },
    { name: 'x-n', value: '2' },
  ]);
  assert.deepEqual({ ...req.trailers }, { 'x-checksum': 'abc', 'x-n': '1, 2' });
  assert.deepEqual(req.rawTrailers, ['x-checksum', 'abc', 'x-n', '1', 'x-n', '2']);
  // Assignable, as on node:http's IncomingMessage.
  req.trailers = { a: 'b' };
  req.rawTrailers = ['a', 'b'];
  assert.deepEqual(req.trailers, { a: 'b' });
  assert.deepEqual(req.rawTrailers, ['a', 'b']);
});
