/**
 * When a dialled connection's first flight leaves (src/node/udp-endpoint.ts attach(), issue 13):
 * without early data nothing can share the ClientHello's datagram, so it is sent inside dial(),
 * not from an event-loop turn of its own; with a ticket, dialEarly() leaves it to the turn's flush,
 * so that 0-RTT data written as soon as dialEarly() resolves goes in the same datagram (RFC 9000
 * §12.2). White box: the sends of the QuicEndpoint's socket are counted.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { QuicEndpoint } from '../../src/index.js';
import { clientOptions, echoServer, readAll, startServer, within } from './helpers.js';
import { cleanupZeroRtt, earlyEchoServer, getTicket, TIMEOUT, TicketCache } from './zero-rtt-helpers.js';

after(cleanupZeroRtt);

function countSends(ep: QuicEndpoint): { sends: number } {
  const socket = (ep as unknown as { driver: { socket: { send: (...a: unknown[]) => unknown } } }).driver
    .socket;
  const counter = { sends: 0 };
  const send = socket.send;
  socket.send = function counted(this: unknown, ...a: unknown[]) {
    counter.sends++;
    return send.apply(this, a);
  };
  return counter;
}

test('dial() sends the ClientHello before it returns', { timeout: 30_000 }, async () => {
  const server = await startServer();
  echoServer(server);
  const ep = await QuicEndpoint.bind({ host: '127.0.0.1' });
  try {
    const counter = countSends(ep);
    const dialled = ep.dial({ host: '127.0.0.1', port: server.address().port }, clientOptions());
    assert.equal(counter.sends, 1, 'the ClientHello left inside dial()');
    const conn = await within(dialled, 10_000, 'the handshake');
    const s = await conn.openStream();
    s.end(Buffer.from('hi'));
    assert.equal((await within(readAll(s), 10_000, 'the echo')).toString(), 'hi');
    await conn.close();
  } finally {
    await ep.close();
    await server.close();
  }
});

test('dialEarly() with a ticket sends its first flight with the 0-RTT data written at once', {
  timeout: 30_000,
}, async () => {
  const view = await earlyEchoServer({ allow0RTT: () => true });
  const cache = new TicketCache();
  await getTicket(view.port, cache);
  const ep = await QuicEndpoint.bind({ host: '127.0.0.1' });
  try {
    const counter = countSends(ep);
    const dialled = ep.dialEarly(
      { host: '127.0.0.1', port: view.port },
      clientOptions({ sessionCache: cache }),
    );
    assert.equal(counter.sends, 0, 'the ClientHello waits for the turn');
    const conn = await dialled;
    const s = await conn.openStream();
    s.end(Buffer.from('early'));
    // Still within the turn of the dial: the flush has not run yet.
    assert.equal(counter.sends, 0, 'nothing sent before the flush');
    assert.equal((await within(readAll(s), TIMEOUT, 'the early echo')).toString(), 'early');
    assert.equal(conn.used0RTT, true);
    await conn.close();
  } finally {
    await ep.close();
  }
});
