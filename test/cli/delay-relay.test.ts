/**
 * The relay of the demo and of the NAT-rebinding interop test (src/cli/delay-relay.ts), over real UDP
 * on loopback. rebindAtNextDatagram() forgets the client's mapping exactly when the client sends next:
 * until then the server still reaches the client on the old port, so a client with nothing left to
 * send is never cut off for good (it was, with rebind() called while the client was quiet: the
 * quic-go client of test/interop/nat-rebinding.test.ts gave up at its idle timeout); from then on the
 * client's datagrams come from a new port and the old one is dead.
 */
import assert from 'node:assert/strict';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { test } from 'node:test';
import { DelayRelay } from '../../src/cli/delay-relay.js';

/** Bound for a datagram to arrive over loopback (a liveness bound, not a timing assertion). */
const ARRIVAL_BOUND = 10_000;

async function bound(): Promise<Socket> {
  const s = createSocket('udp4');
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  return s;
}

/** The next datagram `s` receives, with its sender. */
function next(s: Socket, what: string): Promise<{ text: string; from: RemoteInfo }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      s.off('message', onMessage);
      reject(new Error(`no datagram within ${ARRIVAL_BOUND} ms: ${what}`));
    }, ARRIVAL_BOUND);
    const onMessage = (msg: Buffer, from: RemoteInfo) => {
      clearTimeout(timer);
      resolve({ text: msg.toString(), from });
    };
    s.once('message', onMessage);
  });
}

test('rebindAtNextDatagram: the old mapping carries the server until the client sends, then only the new one', async (t) => {
  const server = await bound();
  const client = await bound();
  const relay = await DelayRelay.start({ host: '127.0.0.1', port: server.address().port }, 0);
  t.after(() => {
    relay.close();
    server.close();
    client.close();
  });

  let got = next(server, 'client -> server');
  client.send('a', relay.port, '127.0.0.1');
  const first = await got;
  assert.equal(first.text, 'a');
  const oldPort = first.from.port;

  relay.rebindAtNextDatagram();
  assert.equal(relay.rebinds, 0);
  // The client has nothing to send: the mapping must still carry what the server sends it.
  got = next(client, 'server -> client on the old mapping, before the client sent again');
  server.send('still there', oldPort, '127.0.0.1');
  assert.equal((await got).text, 'still there');

  // The client speaks: that datagram already leaves from a new port.
  got = next(server, 'client -> server after the rebinding');
  client.send('b', relay.port, '127.0.0.1');
  const second = await got;
  assert.equal(second.text, 'b');
  assert.notEqual(second.from.port, oldPort);
  assert.equal(relay.rebinds, 1);

  // The old port is dead (what the server sends there is lost), the new one carries.
  got = next(client, 'server -> client on the new mapping');
  server.send('lost', oldPort, '127.0.0.1');
  server.send('new', second.from.port, '127.0.0.1');
  assert.equal((await got).text, 'new');

  // Rebinding happens once per arming.
  got = next(server, 'client -> server, same mapping');
  client.send('c', relay.port, '127.0.0.1');
  assert.equal((await got).from.port, second.from.port);
  assert.equal(relay.rebinds, 1);
});
