/**
 * A server answers each new client at once, even when a driver reads many datagrams before it
 * transmits (issue 13, session 25): accepting a connection makes an ACK due now (RFC 9000 §13.2.1:
 * an ack-eliciting Initial is acknowledged immediately), so Endpoint.takeAckNow() tells the driver
 * to send the first flight before it reads the next ClientHello of a burst. Before, a burst of N
 * ClientHellos was answered only after all N handshakes had been computed, and clients whose PTO
 * fired meanwhile sent their ClientHello again.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Endpoint } from '../../../src/endpoint/endpoint.js';
import { PacketType, parsePacket } from '../../../src/wire/packet-header.js';
import { forgeInitial } from '../../sim/forged-initials.js';
import { DEFAULT_START_TIME, Prng, seededRandomBytes } from '../../sim/network.js';
import { simPki } from '../../sim/quic-harness.js';

const NOW = DEFAULT_START_TIME;
const dcidOf = (n: number) => Uint8Array.from({ length: 8 }, (_, i) => (n * 37 + i) & 0xff);

function server(): Endpoint {
  const pki = simPki();
  return new Endpoint({
    random: seededRandomBytes(new Prng(4)),
    server: {
      tls: {
        alpn: ['hq-interop'],
        identity: { certificateChain: pki.leaf.certPem, privateKey: pki.leaf.keyPem },
      },
    },
  });
}

/** A driver that reads a burst and transmits only when the endpoint says an ACK is due now. */
function readBurst(e: Endpoint, clients: number): Array<{ after: number; to: string; type: PacketType }> {
  const sent: Array<{ after: number; to: string; type: PacketType }> = [];
  for (let i = 0; i < clients; i++) {
    e.receive(forgeInitial({ dcid: dcidOf(i), size: 1200 }), `192.0.2.1:${1000 + i}`, NOW);
    for (const conn of e.takeAckNow())
      for (let d = e.transmitOf(conn, NOW); d; d = e.transmitOf(conn, NOW))
        sent.push({ after: i, to: d.to, type: parsePacket(d.datagram, 0, 8).type });
  }
  return sent;
}

test('accepting a connection makes its ACK and first flight due at once (takeAckNow)', () => {
  const e = server();
  e.receive(forgeInitial({ dcid: dcidOf(1), size: 1200 }), '192.0.2.1:1000', NOW);
  assert.equal(e.serverConnectionCount, 1);
  const due = e.takeAckNow();
  assert.deepEqual(due, [...e.connections], 'the new connection owes its ACK now');
  assert.equal(e.takeAckNow().length, 0, 'reported once');
  const first = e.transmitOf(due[0]!, NOW);
  assert.ok(first, 'the first flight is ready');
  assert.equal(parsePacket(first.datagram, 0, 8).type, PacketType.Initial);
});

test('a datagram that creates no connection makes nothing due', () => {
  const e = server();
  e.receive(forgeInitial({ dcid: dcidOf(1), size: 1200, hello: false }), '192.0.2.1:1000', NOW);
  assert.equal(e.serverConnectionCount, 0);
  assert.equal(e.takeAckNow().length, 0);
});

test('in a burst of ClientHellos each client is answered before the next ClientHello is read', () => {
  const e = server();
  const sent = readBurst(e, 4);
  assert.equal(e.serverConnectionCount, 4);
  for (let i = 0; i < 4; i++) {
    const mine = sent.filter((s) => s.to === `192.0.2.1:${1000 + i}`);
    assert.ok(mine.length > 0, `client ${i} answered`);
    assert.ok(
      mine.every((s) => s.after === i),
      `client ${i} answered right after its own ClientHello: ${JSON.stringify(mine)}`,
    );
    assert.equal(mine[0]!.type, PacketType.Initial);
  }
});
