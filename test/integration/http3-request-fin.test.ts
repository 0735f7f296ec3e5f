/**
 * Over real UDP: a request whose FIN has arrived is read to its end before its handler's response
 * ends, so the server abandons nothing (RFC 9114 §4.1.1 is for requests still incomplete). The
 * QuicStream's 'end' comes a tick after its last data; the HTTP/3 transport must not wait for it.
 * Both sides use the literal test codec, whose decoder records QPACK Stream Cancellations.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client, createServer } from '../../src/http3/index.js';
import { LiteralCodec } from '../unit/http3/literal-codec.js';
import { testPki, within } from './helpers.js';

test('GETs answered at once by their handler: no QPACK Stream Cancellation (RFC 9204 §4.4.2) for complete requests', async () => {
  const pki = testPki();
  const codec = new LiteralCodec();
  const server = createServer({ cert: pki.leaf.certPem, key: pki.leaf.keyPem, codec }, (req, res) => {
    res.end(`ok ${req.url}`);
  });
  await server.listen({ host: '127.0.0.1', port: 0 });
  const client = new Client({ ca: pki.ca.certPem, codec: new LiteralCodec() });
  try {
    const base = `https://localhost:${server.address().port}`;
    for (let i = 0; i < 5; i++) {
      const res = await within(client.fetch(`${base}/r${i}`), 10_000, `GET ${i}`);
      assert.equal(await res.text(), `ok /r${i}`);
    }
  } finally {
    await client.close();
    await server.close();
  }
  assert.equal(codec.decoders.length, 1, 'one connection');
  assert.deepEqual(codec.decoders[0]!.cancelled, [], 'no request stream was abandoned');
});
