/**
 * HTTP/3 (src/http3, its QPACK codec and its Node adapters) owns its state the way the connection
 * core does (test/connection/structure.test.ts, docs/architecture.md): no class has a field another
 * module can assign, and no file writes a property that another file declares. The session hears a
 * transport's events through `transport.deliverTo(conn)`, an application a request's through
 * `exchange.deliverTo(events)`; QPACK's reader and writer cursors move through take() and commit().
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assignableMembersIn, dirsUnder, foreignWritesExcept } from '../support/state-owners.js';

const DIRS = dirsUnder('src/http3');

/**
 * node:http's own IncomingMessage and ServerResponse let the application assign these (routers
 * rewrite `req.url`; handlers set `res.statusCode`): the compatible API keeps them.
 */
const NODE_HTTP_API = [
  'src/http3/node/server-request.ts: Http3ServerRequest.url',
  'src/http3/node/server-request.ts: Http3ServerRequest.set trailers',
  'src/http3/node/server-request.ts: Http3ServerRequest.set rawTrailers',
  'src/http3/node/server-response.ts: Http3ServerResponse.statusCode',
  'src/http3/node/server-response.ts: Http3ServerResponse.statusMessage',
  'src/http3/node/server-response.ts: Http3ServerResponse.sendDate',
  // The server answers 500 for a failed handler through that API, as a handler would.
  'src/http3/node/server.ts -> Http3ServerResponse.statusCode',
];

test('no class of HTTP/3 has a field another module can assign (but the node:http API)', () => {
  const found = assignableMembersIn(DIRS).filter((m) => !NODE_HTTP_API.includes(m));
  assert.deepEqual(found, [], 'assignable fields: make them private, with a getter and intent-named methods');
});

test('no file of HTTP/3 writes state another file declares (but the node:http API)', () => {
  const found = foreignWritesExcept(DIRS, NODE_HTTP_API);
  assert.deepEqual(found, [], "writes of another file's state: give the owner a method named for the change");
});
