/**
 * Issue 13: what shares a datagram when connections share a batch. Over real UDP on 127.0.0.1
 * through a relay that records (and can hold) the datagrams it forwards, so the figures do not come
 * from tsquic's own accounting.
 *
 * - A server that reads, in one batch, a client's Finished with its first request and another
 *   client's ClientHello answers the first client in one datagram (HANDSHAKE_DONE with the answer).
 *   The ClientHello makes an ACK due at once (RFC 9000 §13.2.1); only that connection sends then,
 *   the others of the batch wait for their applications' answers. Before, everything queued went
 *   at once: HANDSHAKE_DONE alone, the answer in a second datagram.
 * - A client that closes once the handshake is confirmed sends the CONNECTION_CLOSE alone: no
 *   datagram with only the ACK of the last answer before it (that cost the client a send and the
 *   server a reply).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dial } from '../../src/index.js';
import { clientOptions, echoServer, readAll, startServer, within } from './helpers.js';
import { UdpRelay } from './udp-relay.js';

const TIMEOUT = 10_000;

/** Datagrams `dir` in `flow` after its `after`-th entry, up to the next one the other way. */
function runAfter(flow: ReadonlyArray<{ dir: 'up' | 'down' }>, after: number, dir: 'up' | 'down'): number {
  let n = 0;
  for (let i = after + 1; i < flow.length && flow[i]!.dir === dir; i++) n++;
  return n;
}

test("a server answers a client's first request in the datagram of its HANDSHAKE_DONE while another client's ClientHello shares the batch", async () => {
  const server = await startServer({ pmtuDiscoveryMax: 0 });
  const errors = echoServer(server);
  let heldFinished: Buffer | undefined;
  let onHeld: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    onHeld = resolve;
  });
  // Client A (flow 0): its second datagram (Initial ACK, Finished, request) waits for client B's
  // ClientHello (flow 1); both then go to the server back to back, from one callback, so the server
  // reads them in one batch: A's first.
  const relay = await UdpRelay.start(server.address().port, (flow, up, datagram) => {
    if (flow === 0 && up === 1) {
      heldFinished = datagram;
      onHeld();
      return true;
    }
    if (flow === 1 && up === 0 && heldFinished) {
      relay.forward(0, heldFinished);
      relay.forward(1, datagram);
      return true;
    }
    return false;
  });
  try {
    const opts = clientOptions({ pmtuDiscoveryMax: 0 });
    const a = await dial({ host: '127.0.0.1', port: relay.port }, opts);
    const s = await a.openStream();
    s.end('request A');
    await within(held, TIMEOUT, "the relay holds A's Finished");
    // B's ClientHello releases them.
    const b = await within(dial({ host: '127.0.0.1', port: relay.port }, opts), TIMEOUT, 'B connects');
    assert.equal((await within(readAll(s), TIMEOUT, 'the echo of A')).toString(), 'request A');
    await a.close();
    await b.close();
    assert.deepEqual(errors, []);
  } finally {
    await server.close();
    await relay.close();
  }
  const flowA = relay.flows[0]!;
  const released = flowA.findIndex(
    (d, i) => d.dir === 'up' && flowA.slice(0, i).some((e) => e.dir === 'down'),
  );
  assert.ok(released > 0, JSON.stringify(flowA));
  assert.equal(
    runAfter(flowA, released, 'down'),
    1,
    `one datagram answers A's Finished and request (HANDSHAKE_DONE and the answer): ${JSON.stringify(flowA)}`,
  );
});

test('a client that closes after its answer sends the CONNECTION_CLOSE alone, no ACK-only datagram first', async () => {
  const server = await startServer({ pmtuDiscoveryMax: 0 });
  const errors = echoServer(server);
  const relay = await UdpRelay.start(server.address().port);
  // Several packets of answer: their ACK is due (RFC 9000 §13.2.1, every second ack-eliciting
  // packet) when the application reads the end of it and closes.
  const request = Buffer.alloc(6000, 1);
  try {
    const conn = await dial({ host: '127.0.0.1', port: relay.port }, clientOptions({ pmtuDiscoveryMax: 0 }));
    const s = await conn.openStream();
    s.end(request);
    assert.equal((await within(readAll(s), TIMEOUT, 'the echo')).length, request.length);
    await conn.close();
    assert.deepEqual(errors, []);
  } finally {
    await server.close();
    await relay.close();
  }
  const flow = relay.flows[0]!;
  const lastDown = flow.map((d) => d.dir).lastIndexOf('down');
  assert.equal(
    runAfter(flow, lastDown, 'up'),
    1,
    `only the CONNECTION_CLOSE after the answer: ${JSON.stringify(flow)}`,
  );
});
