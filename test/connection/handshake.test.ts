/**
 * The handshake driver (connection-handshake.ts) on its own: a client and a server driver, each
 * with a fake HandshakeHost, exchange CRYPTO data directly. The driver owns what TLS produces (keys,
 * the peer's parameters, ALPN, the epoch) and tells its host only through the interface.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { ConnectionEvent } from '../../src/connection/connection-events.js';
import { HandshakeDriver, type HandshakeHost } from '../../src/connection/connection-handshake.js';
import {
  localTransportParameters,
  resolveTransportOptions,
} from '../../src/connection/connection-options.js';
import type { PacketKeys } from '../../src/crypto/packet-keys.js';
import type { EncryptionLevel } from '../../src/tls/types.js';
import type { TransportParameters } from '../../src/wire/transport-parameters.js';
import { QUIC_V1 } from '../../src/wire/version.js';
import { DEFAULT_START_TIME } from '../sim/network.js';
import { SERVER_NAME, simPki } from '../sim/quic-harness.js';

class FakeHost implements HandshakeHost {
  readonly version = QUIC_V1;
  readonly random = (n: number) => randomBytes(n);
  readonly options = resolveTransportOptions({});
  readonly localParams: TransportParameters;
  readonly rtt = { hasSample: false, smoothedRtt: 100, recentMinRtt: 0 };
  readonly congestion = { congestionWindow: 12_000 };
  readonly crypto: Array<{ level: EncryptionLevel; data: Uint8Array }> = [];
  readonly handshakeKeys: Array<'read' | 'write'> = [];
  readonly events: ConnectionEvent[] = [];
  readonly calls: string[] = [];
  rejectParameters = false;

  constructor(readonly role: 'client' | 'server') {
    this.localParams = localTransportParameters(this.options);
    const cid = new Uint8Array(8).fill(role === 'client' ? 1 : 2);
    this.localParams.initialSourceConnectionId = cid;
    if (role === 'server') this.localParams.originalDestinationConnectionId = new Uint8Array(8).fill(9);
  }
  writeCrypto(level: EncryptionLevel, data: Uint8Array): void {
    this.crypto.push({ level, data: new Uint8Array(data) });
  }
  installHandshakeKeys(direction: 'read' | 'write', _keys: PacketKeys): void {
    this.handshakeKeys.push(direction);
  }
  acceptPeerParameters(_params: TransportParameters): void {
    this.calls.push('accept-params');
    if (this.rejectParameters) throw new Error('connection IDs do not match');
  }
  discardZeroRttPackets(): void {
    this.calls.push('discard-0rtt');
  }
  onHandshakeComplete(): void {
    this.calls.push('complete');
  }
  pushEvent(e: ConnectionEvent): void {
    this.events.push(e);
  }
}

function pair() {
  const pki = simPki();
  const clientHost = new FakeHost('client');
  const serverHost = new FakeHost('server');
  const client = new HandshakeDriver(clientHost);
  const server = new HandshakeDriver(serverHost);
  server.initServer({
    tls: {
      alpn: ['hq-interop'],
      identity: { certificateChain: pki.leaf.certPem, privateKey: pki.leaf.keyPem },
    },
  });
  client.initClient({ alpn: ['hq-interop'], serverName: SERVER_NAME, ca: [pki.ca.certPem] });
  /** Deliver every CRYPTO chunk written so far, both ways, until nothing moves. */
  const pump = () => {
    for (let round = 0; round < 10; round++) {
      const toServer = clientHost.crypto.splice(0);
      const toClient = serverHost.crypto.splice(0);
      if (toServer.length === 0 && toClient.length === 0) return;
      for (const c of toServer) server.feed(c.level, c.data, DEFAULT_START_TIME);
      for (const c of toClient) client.feed(c.level, c.data, DEFAULT_START_TIME);
    }
  };
  return { client, server, clientHost, serverHost, pump };
}

test('a handshake leaves its results with the driver and tells the host once', () => {
  const { client, server, clientHost, serverHost, pump } = pair();
  assert.equal(client.complete, false);
  client.startClient(DEFAULT_START_TIME);
  pump();
  for (const [d, host] of [
    [client, clientHost],
    [server, serverHost],
  ] as const) {
    assert.equal(d.complete, true, host.role);
    assert.equal(d.alpn, 'hq-interop');
    assert.equal(d.resumed, false);
    assert.ok(d.oneRtt, '1-RTT keys from both application secrets');
    assert.ok(d.peerParams);
    assert.ok(d.epoch, 'the stream epoch of the peer parameters');
    assert.equal(d.earlyDataState, 'none');
    assert.deepEqual(host.handshakeKeys.sort(), ['read', 'write']);
    assert.deepEqual(host.calls, ['accept-params', 'complete']);
    assert.deepEqual(
      host.events.filter((e) => e.type === 'epoch').map((e) => e.type),
      ['epoch'],
    );
  }
  assert.equal(client.peerCertificates.length > 0, true, 'the server proved its identity');
  assert.equal(client.confirmed, false, 'completion is not confirmation for a client');
  assert.equal(client.confirm(), true);
  assert.equal(client.confirm(), false, 'confirmed once');
  assert.equal(client.confirmed, true);
});

test('parameters the host refuses are not kept and start no epoch', () => {
  const { client, clientHost, pump } = pair();
  clientHost.rejectParameters = true;
  client.startClient(DEFAULT_START_TIME);
  assert.throws(pump, /connection IDs/);
  assert.equal(client.peerParams, undefined);
  assert.equal(client.epoch, undefined);
  assert.equal(client.complete, false);
});
