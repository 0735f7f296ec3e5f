/**
 * Issue 13: the request an application makes right after `await dial()` rides in the datagram of the
 * client's Finished. The client's Finished (with the ACKs of the server's flight and its spare
 * connection ID) goes from the send turn after the application has heard of the handshake, so a
 * full handshake with one request is three client datagrams: ClientHello, Finished + request,
 * CONNECTION_CLOSE. Checked over real UDP on 127.0.0.1 through a relay that records the order of
 * the datagrams it forwards, so the figure does not come from tsquic's own accounting. And a close
 * right after `await dial()` still sends the Finished first (the server then reads the
 * application's code in 1-RTT, not a transport close: RFC 9000 §10.2.3).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dial } from '../../src/index.js';
import { PacketType } from '../../src/wire/packet-header.js';
import { clientOptions, echoServer, readAll, startServer, within } from './helpers.js';
import { packetTypes, showFlow, UdpRelay } from './udp-relay.js';

const TIMEOUT = 10_000;

test('a request made right after `await dial()` shares the datagram of the Finished', async () => {
  const server = await startServer({ pmtuDiscoveryMax: 0 });
  const errors = echoServer(server);
  const r = await UdpRelay.start(server.address().port);
  const DIALS = 5;
  try {
    for (let i = 0; i < DIALS; i++) {
      const conn = await dial({ host: '127.0.0.1', port: r.port }, clientOptions({ pmtuDiscoveryMax: 0 }));
      const s = await conn.openStream();
      s.end(`request ${i}`);
      assert.equal((await within(readAll(s), TIMEOUT, 'echo')).toString(), `request ${i}`);
      await conn.close();
    }
    assert.deepEqual(errors, []);
  } finally {
    await server.close();
    await r.close();
  }
  assert.equal(r.flows.length, DIALS);
  for (const flow of r.flows) {
    // Without the client's PTO probes (Handshake packets alone, RFC 9002 §6.2.4): its first RTT
    // sample is the server's quick flight, and a server busy with other tests may answer the
    // Finished later than three times that.
    const up = flow.filter(
      (d) => d.dir === 'up' && !packetTypes(d.data).every((t) => t === PacketType.Handshake),
    );
    // ClientHello, then the Initial ACK, the Finished and the request (padded: it carries an
    // Initial packet), then nothing until the server has answered.
    assert.ok(up[0]!.size >= 1200 && up[1]!.size >= 1200, showFlow(flow));
    const second = flow.indexOf(up[1]!);
    const next = flow.slice(second + 1).find((d) => d.dir === 'down' || up.includes(d));
    assert.equal(next?.dir, 'down', `the client waited for the answer: ${showFlow(flow)}`);
    assert.equal(up.length, 3, `ClientHello, Finished + request, CONNECTION_CLOSE: ${showFlow(flow)}`);
  }
});

test('a close right after `await dial()` sends the Finished first: the server reads the application code', async () => {
  const server = await startServer();
  const closed = (async () => {
    for await (const conn of server) return conn.closed;
    throw new Error('no connection');
  })();
  try {
    const conn = await dial({ host: '127.0.0.1', port: server.address().port }, clientOptions());
    await conn.close(7, 'done');
    const reason = await within(closed, TIMEOUT, 'the server side closed');
    assert.deepEqual([reason.source, reason.errorCode, reason.application], ['remote', 7, true]);
  } finally {
    await server.close();
  }
});
