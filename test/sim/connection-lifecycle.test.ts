/**
 * How connections begin and end, in the simulator: idle timeout and keep-alive (RFC 9000 §10.1),
 * CONNECTION_CLOSE in each direction (§10.2), stateless reset (§10.3), Version Negotiation (§6),
 * Retry (§8.1.2) and NEW_TOKEN (§8.1.3).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Connection } from '../../src/connection/connection.js';
import type { ConnectionEvent } from '../../src/connection/connection-events.js';
import { TransportErrorCode } from '../../src/errors/transport-error.js';
import { QUIC_V1, QUIC_V2 } from '../../src/wire/version.js';
import { QuicSim } from './quic-harness.js';

function events(conn: Connection): ConnectionEvent[] {
  const out: ConnectionEvent[] = [];
  for (let e = conn.pollEvent(); e; e = conn.pollEvent()) out.push(e);
  return out;
}

describe('idle timeout', () => {
  test('both sides close silently after the negotiated idle timeout', () => {
    const sim = new QuicSim({
      seed: 1,
      clientTransport: { maxIdleTimeout: 5_000 },
      serverTransport: { maxIdleTimeout: 8_000 },
    });
    const conn = sim.dial();
    const server = sim.handshake(conn);
    const start = sim.now;
    sim.run(() => conn.isTerminated && server.isTerminated, 60_000);
    // The minimum of both sides' values applies (RFC 9000 §10.1).
    const elapsed = sim.now - start;
    assert.ok(elapsed >= 4_900 && elapsed <= 5_200, `closed after ${elapsed} ms`);
    assert.equal(conn.closeInfo?.source, 'idle-timeout');
    assert.equal(server.closeInfo?.source, 'idle-timeout');
    // Silent: no CONNECTION_CLOSE was sent by either side.
    assert.equal(
      events(conn).some((e) => e.type === 'closed' && e.info.source === 'remote'),
      false,
    );
  });

  test('keep-alive PINGs hold an idle connection open', () => {
    const sim = new QuicSim({
      seed: 2,
      clientTransport: { maxIdleTimeout: 3_000, keepAlivePeriod: 1_000 },
      serverTransport: { maxIdleTimeout: 3_000 },
    });
    const conn = sim.dial();
    const server = sim.handshake(conn);
    const until = sim.now + 20_000;
    sim.run(() => sim.now >= until || conn.isClosed, 60_000);
    assert.equal(conn.isClosed, false, `client closed: ${conn.closeInfo?.reason}`);
    assert.equal(server.isClosed, false, `server closed: ${server.closeInfo?.reason}`);
  });

  test('a handshake that cannot complete gives up after the handshake timeout', () => {
    const sim = new QuicSim({ seed: 3, link: { loss: 1 }, clientTransport: { handshakeTimeout: 4_000 } });
    const conn = sim.dial();
    sim.run(() => conn.isTerminated, 60_000);
    assert.equal(conn.closeInfo?.source, 'handshake-timeout');
  });
});

describe('CONNECTION_CLOSE', () => {
  for (const closer of ['client', 'server'] as const) {
    test(`${closer} closes with an application error; the peer sees code and reason`, () => {
      const sim = new QuicSim({ seed: 4 });
      const conn = sim.dial();
      const server = sim.handshake(conn);
      const [a, b] = closer === 'client' ? [conn, server] : [server, conn];
      a.close(42, 'going away', sim.now);
      sim.net.at(sim.now, () => {});
      sim.run(() => a.isTerminated && b.isTerminated, 30_000);
      assert.deepEqual(
        { source: a.closeInfo?.source, code: a.closeInfo?.errorCode, app: a.closeInfo?.application },
        { source: 'local', code: 42, app: true },
      );
      assert.deepEqual(
        {
          source: b.closeInfo?.source,
          code: b.closeInfo?.errorCode,
          app: b.closeInfo?.application,
          reason: b.closeInfo?.reason,
        },
        { source: 'remote', code: 42, app: true, reason: 'going away' },
      );
      assert.equal(a.state, 'closed');
      assert.equal(b.state, 'closed');
    });
  }

  test('a close during the handshake reaches the server as APPLICATION_ERROR in Initial packets', () => {
    const sim = new QuicSim({ seed: 5 });
    const conn = sim.dial();
    // Let the first flight leave, then close before the handshake completes.
    sim.run(() => sim.serverConnections.length > 0, 1_000);
    conn.close(7, 'never mind', sim.now);
    sim.run(() => sim.serverConnections[0]!.isClosed, 10_000);
    const server = sim.serverConnections[0]!;
    assert.equal(server.closeInfo?.source, 'remote');
    // RFC 9000 §10.2.3: outside 1-RTT an application close is sent as APPLICATION_ERROR.
    assert.equal(server.closeInfo?.application, false);
    assert.equal(server.closeInfo?.errorCode, TransportErrorCode.APPLICATION_ERROR);
  });
});

describe('stateless reset', () => {
  test('a server that lost the connection resets it; the client drains with stateless-reset', () => {
    const key = new Uint8Array(32).fill(7);
    const sim = new QuicSim({ seed: 6, serverEndpoint: { statelessResetKey: key } });
    const conn = sim.dial();
    sim.handshake(conn);
    // Let NEW_CONNECTION_ID frames (with their reset tokens) reach the client.
    sim.net.runFor(200);
    sim.restartServer();
    conn.framer.queuePing();
    sim.client.markActive(conn);
    sim.run(() => conn.isClosed, 10_000);
    assert.equal(conn.closeInfo?.source, 'stateless-reset');
    assert.equal(conn.state === 'draining' || conn.state === 'closed', true);
  });

  test('a reset with a token the client does not know is ignored', () => {
    const sim = new QuicSim({ seed: 7 });
    const conn = sim.dial();
    sim.handshake(conn);
    sim.net.runFor(200);
    sim.restartServer(); // a fresh random reset key: tokens do not match
    conn.framer.queuePing();
    sim.client.markActive(conn);
    sim.run(() => conn.isClosed, 60_000);
    // The client only gives up on the idle timeout.
    assert.equal(conn.closeInfo?.source, 'idle-timeout');
  });
});

describe('version negotiation', () => {
  test('a client starting with v1 moves to v2 when the server only speaks v2', () => {
    const sim = new QuicSim({ seed: 8, server: { versions: [QUIC_V2] } });
    const conn = sim.dial(undefined, undefined, { version: QUIC_V1 });
    const server = sim.handshake(conn);
    assert.equal(conn.version, QUIC_V2);
    assert.equal(server.version, QUIC_V2);
  });

  test('QUIC v2 end to end', () => {
    const sim = new QuicSim({ seed: 9 });
    const conn = sim.dial(undefined, undefined, { version: QUIC_V2 });
    const server = sim.handshake(conn);
    assert.equal(server.version, QUIC_V2);
  });

  test('no version in common: the client gives up with version-negotiation', () => {
    const sim = new QuicSim({ seed: 10, server: { versions: [0x1a2a3a4a] } });
    const conn = sim.dial();
    sim.run(() => conn.isTerminated, 10_000);
    assert.equal(conn.closeInfo?.source, 'version-negotiation');
    assert.equal(conn.closeInfo?.errorCode, TransportErrorCode.VERSION_NEGOTIATION_ERROR);
  });
});

describe('address validation', () => {
  test('Retry: the client follows it and the transport parameters prove it (RFC 9000 §7.3)', () => {
    const sim = new QuicSim({ seed: 11, server: { retry: true } });
    const conn = sim.dial();
    const server = sim.handshake(conn);
    assert.ok(conn.retrySourceCid, 'the client processed a Retry');
    assert.deepEqual(server.retrySourceCid, conn.retrySourceCid);
    assert.equal(server.addressValidated, true);
  });

  test('NEW_TOKEN: a later connection with the token skips Retry and amplification limits', () => {
    const sim = new QuicSim({ seed: 12, server: { retry: true } });
    const first = sim.dial();
    sim.handshake(first);
    let token: Uint8Array | undefined;
    sim.run(() => {
      for (const e of events(first)) if (e.type === 'new-token') token = e.token;
      return token !== undefined;
    }, 5_000);
    assert.ok(token, 'the server sent NEW_TOKEN');
    const second = sim.dial(undefined, undefined, { token });
    const server = sim.handshake(second);
    assert.equal(second.retrySourceCid, undefined, 'no Retry for a client with a valid token');
    assert.equal(server.addressValidated, true);
  });

  test('a token from another address is not accepted', () => {
    const sim = new QuicSim({ seed: 13, server: { retry: true } });
    const first = sim.dial();
    sim.handshake(first);
    let token: Uint8Array | undefined;
    sim.run(() => {
      for (const e of events(first)) if (e.type === 'new-token') token = e.token;
      return token !== undefined;
    }, 5_000);
    const tampered = Uint8Array.from(token!);
    tampered[tampered.length - 1]! ^= 1;
    const second = sim.dial(undefined, undefined, { token: tampered });
    sim.handshake(second);
    assert.ok(second.retrySourceCid, 'an invalid token means Retry again');
  });
});
