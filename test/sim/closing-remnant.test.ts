/**
 * A connection's closing and draining periods served by its endpoint (closing-remnant.ts, issue 13):
 * once the CONNECTION_CLOSE is sent, or the peer's arrives, the connection ends and the endpoint
 * keeps only a remnant until 3 PTO have passed (RFC 9000 §10.2). What the peer sees is what the
 * connection itself did: its CONNECTION_CLOSE again for packets that authenticate, nothing while
 * draining, the connection IDs kept until the end of the period.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Connection } from '../../src/connection/connection.js';
import { parseInvariantHeader } from '../../src/wire/packet-header.js';
import { CLIENT_ADDRESS, QuicSim, SERVER_ADDRESS } from './quic-harness.js';

/** The server keeps sending stream data to the client (which answers as long as it is open). */
function serverSends(sim: QuicSim, server: Connection): void {
  const streams = server.epoch!.streams;
  const id = streams.openStream(false);
  assert.ok(id !== undefined);
  sim.appHooks.push(() => {
    if (server.isClosed) return;
    while (streams.write(id, new Uint8Array(1000).fill(3))) {
      // until the send buffer is full
    }
    sim.server.markActive(server);
  });
}

/** Datagrams each side sends from now on. */
function record(sim: QuicSim): { client: Uint8Array[]; server: Uint8Array[] } {
  const seen = { client: [] as Uint8Array[], server: [] as Uint8Array[] };
  sim.net.onSend(({ from, datagram }) => {
    (from === CLIENT_ADDRESS ? seen.client : seen.server).push(Uint8Array.from(datagram));
  });
  return seen;
}

/**
 * A client closes while its server keeps sending (nothing the client sends reaches the server any
 * more); the datagrams each side sends from the close on are recorded.
 */
function closeWhilePeerSends(
  seed: number,
  errorCode: number,
): {
  sim: QuicSim;
  client: Connection;
  seen: { client: Uint8Array[]; server: Uint8Array[] };
  pto: number;
  closedAt: number;
} {
  const sim = new QuicSim({ seed });
  const client = sim.dial();
  serverSends(sim, sim.handshake(client));
  sim.net.runFor(20);
  sim.net.setLink(CLIENT_ADDRESS, SERVER_ADDRESS, { loss: 1 });
  const seen = record(sim);
  const pto = client.ptoPeriod();
  const closedAt = sim.now;
  client.close(errorCode, 'done', sim.now);
  sim.client.markActive(client);
  sim.net.runFor(1);
  return { sim, client, seen, pto, closedAt };
}

describe('closing remnant (RFC 9000 §10.2)', () => {
  test('a closed connection ends at once; the endpoint repeats its CONNECTION_CLOSE until 3 PTO, then resets', () => {
    const { sim, client, seen, pto, closedAt } = closeWhilePeerSends(4101, 0x17);
    const close = seen.client[0];
    assert.ok(close !== undefined, 'the CONNECTION_CLOSE');
    // The connection has ended; only a remnant is left in the endpoint.
    assert.equal(client.isTerminated, true);
    assert.equal(sim.client.connections.has(client), false);
    assert.equal(sim.client.remnantCount, 1);
    assert.equal(client.closeInfo?.errorCode, 0x17);
    const deadline = sim.client.earliestRemnantDeadline;
    assert.ok(deadline !== undefined && deadline >= closedAt + 3 * pto - 1, 'three PTO');

    sim.net.runFor(deadline - sim.now - 1);
    assert.equal(sim.client.remnantCount, 1);
    const answers = seen.client.slice(1);
    // The server's packets kept coming and drew answers: the same datagram again (§10.2.1 allows
    // a closing packet to be retransmitted as it was).
    assert.ok(answers.length >= 2, `${answers.length} answers`);
    for (const a of answers) assert.deepEqual(a, close);
    assert.ok(answers.length < seen.server.length / 2, 'at a decreasing rate');

    // The period ends: the routes go with the remnant, and a packet for the old connection ID draws
    // a stateless reset (§10.3), smaller than the packet and not the CONNECTION_CLOSE.
    sim.net.runFor(2);
    assert.equal(sim.client.remnantCount, 0);
    const before = seen.client.length;
    const trigger = seen.server.find((d) => d.length > 100)!;
    sim.net.inject(SERVER_ADDRESS, CLIENT_ADDRESS, Uint8Array.from(trigger));
    sim.net.runFor(1);
    const reset = seen.client[before];
    assert.ok(reset !== undefined);
    assert.notDeepEqual(reset, close);
    assert.ok(reset.length < trigger.length);
    assert.equal(parseInvariantHeader(reset, 0, 8).form, 'short');
  });

  test("the peer's CONNECTION_CLOSE: the endpoint drains in the connection's place and sends nothing", () => {
    const sim = new QuicSim({ seed: 4102 });
    const client = sim.dial();
    const server = sim.handshake(client);
    const seen = record(sim);
    client.close(0, 'bye', sim.now);
    sim.client.markActive(client);
    sim.run(() => server.isClosed, 1000);
    const close = seen.client[0];
    assert.ok(close !== undefined);
    assert.equal(server.isTerminated, true, 'the server connection ended once it drained');
    assert.equal(server.closeInfo?.source, 'remote');
    assert.equal(sim.server.remnantCount, 1);
    assert.equal(sim.server.connections.has(server), false);
    // The client's close again (a copy the network delivered late) and anything else: no answer.
    const sentBefore = seen.server.length;
    for (let i = 0; i < 4; i++) sim.net.inject(CLIENT_ADDRESS, SERVER_ADDRESS, Uint8Array.from(close));
    sim.net.runFor(5);
    assert.equal(seen.server.length, sentBefore);
    // Not taken for a new connection or reset either: the remnant keeps the routes.
    assert.equal(sim.server.remnantCount, 1);
  });

  test('a server closing before the client address is validated keeps the connection (RFC 9000 §8.1)', () => {
    const sim = new QuicSim({ seed: 4104 });
    // No ALPN in common: the server closes in answer to the ClientHello, before any Handshake packet
    // from the client has validated its address.
    const client = sim.dial({ alpn: ['not-offered'] });
    sim.run(() => client.isClosed, 5_000);
    assert.equal(client.closeInfo?.source, 'remote');
    assert.equal(sim.server.connections.size, 1, 'the closing server connection stays whole');
    assert.equal(sim.server.remnantCount, 0);
    const [server] = [...sim.server.connections];
    assert.equal(server?.state, 'closing');
    assert.equal(server?.addressValidated, false);
  });

  test('a stateless reset from the peer ends the answers (RFC 9000 §10.3.1: draining)', () => {
    const { sim, client, seen } = closeWhilePeerSends(4103, 0);
    assert.equal(sim.client.remnantCount, 1);
    const token = client.peerParams?.statelessResetToken;
    assert.ok(token !== undefined);
    // A short header packet to the client's connection ID ending with the server's token.
    const cid = client.localCid;
    const reset = new Uint8Array(1 + cid.length + 30 + 16).fill(0x5a);
    reset[0] = 0x40 | 0x1a;
    reset.set(cid, 1);
    reset.set(token, reset.length - 16);
    sim.net.inject(SERVER_ADDRESS, CLIENT_ADDRESS, reset);
    sim.net.runFor(1);
    const after = seen.client.length;
    const sentBefore = seen.server.length;
    sim.net.runFor(sim.client.earliestRemnantDeadline! - sim.now - 1);
    assert.ok(seen.server.length - sentBefore >= 2, 'the server kept sending');
    assert.equal(seen.client.length, after, 'no answer after the reset');
    assert.equal(sim.client.remnantCount, 1, 'the routes stay until the end of the period');
  });
});
