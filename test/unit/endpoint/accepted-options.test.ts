/**
 * The transport options of accepted connections (issue 13, session 25): an endpoint resolves and
 * checks its server options once, and the connections it accepts share that object, as long as the
 * per-peer adjustments (EndpointConfig.transportFor) are the same as the previous connection's; each
 * connection still gets the values meant for its peer. What a server's tickets remember (the
 * transport parameters of its options) is encoded once per set of options.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Connection } from '../../../src/connection/connection.js';
import {
  localTransportParameters,
  optionTransportParameters,
  resolveTransportOptions,
  sharedTransportOptions,
  type TransportOptions,
} from '../../../src/connection/connection-options.js';
import { Endpoint, type EndpointConfig } from '../../../src/endpoint/endpoint.js';
import { forgeInitial } from '../../sim/forged-initials.js';
import { DEFAULT_START_TIME, Prng, seededRandomBytes } from '../../sim/network.js';
import { simPki } from '../../sim/quic-harness.js';

const NOW = DEFAULT_START_TIME;
const dcidOf = (n: number) => Uint8Array.from({ length: 8 }, (_, i) => (n * 31 + i) & 0xff);

function server(extra: Partial<EndpointConfig> = {}): Endpoint {
  const pki = simPki();
  return new Endpoint({
    random: seededRandomBytes(new Prng(3)),
    server: {
      tls: {
        alpn: ['hq-interop'],
        identity: { certificateChain: pki.leaf.certPem, privateKey: pki.leaf.keyPem },
      },
      transport: { maxIdleTimeout: 12_345, maxStreamsBidi: 7 },
    },
    ...extra,
  });
}

/** A client Initial with a ClientHello from `from`: the connection the endpoint accepts for it. */
function accept(e: Endpoint, n: number, from: string): Connection {
  e.receive(forgeInitial({ dcid: dcidOf(n), size: 1200 }), from, NOW);
  const ev = e.pollEvent();
  assert.ok(ev, `connection ${n} accepted`);
  return ev.connection;
}

test('accepted connections share one resolved, frozen options object with the server settings', () => {
  const e = server();
  const a = accept(e, 1, '192.0.2.1:1000');
  const b = accept(e, 2, '192.0.2.2:2000');
  assert.equal(a.options, b.options, 'one object for both');
  assert.ok(Object.isFrozen(a.options));
  assert.equal(a.options.maxIdleTimeout, 12_345);
  assert.equal(a.options.maxStreamsBidi, 7);
  assert.equal(a.options.connectionIdLength, 8);
  // Everything else is the default, as resolveTransportOptions gives it.
  assert.deepEqual(
    { ...a.options },
    resolveTransportOptions({ maxIdleTimeout: 12_345, maxStreamsBidi: 7, connectionIdLength: 8 }),
  );
});

test('per-peer adjustments reach each connection; the same adjustments in a row share the options', () => {
  const asked: string[] = [];
  const e = server({
    transportFor: (remote) => {
      asked.push(remote);
      return { mtuDiscoveryMax: remote.startsWith('127.') ? 16_383 : 1452 };
    },
  });
  const a = accept(e, 1, '127.0.0.1:1000');
  const b = accept(e, 2, '127.0.0.1:1001');
  const c = accept(e, 3, '192.0.2.7:443');
  const d = accept(e, 4, '127.0.0.1:1002');
  assert.deepEqual(asked, ['127.0.0.1:1000', '127.0.0.1:1001', '192.0.2.7:443', '127.0.0.1:1002']);
  assert.equal(a.options.mtuDiscoveryMax, 16_383);
  assert.equal(b.options.mtuDiscoveryMax, 16_383);
  assert.equal(c.options.mtuDiscoveryMax, 1452);
  assert.equal(d.options.mtuDiscoveryMax, 16_383);
  assert.equal(a.options, b.options, 'same adjustments in a row: same object');
  assert.notEqual(c.options, b.options);
  // The server's own settings and the endpoint's CID length stay under the adjustments.
  for (const conn of [a, b, c, d]) {
    assert.equal(conn.options.maxIdleTimeout, 12_345);
    assert.equal(conn.options.connectionIdLength, 8);
  }
});

test('an adjustment object the application changes afterwards does not leak into the next connection', () => {
  const shared: Partial<TransportOptions> = { mtuDiscoveryMax: 1400 };
  const e = server({ transportFor: () => shared });
  const a = accept(e, 1, '192.0.2.1:1');
  shared.mtuDiscoveryMax = 1300;
  const b = accept(e, 2, '192.0.2.1:2');
  assert.equal(a.options.mtuDiscoveryMax, 1400);
  assert.equal(b.options.mtuDiscoveryMax, 1300);
});

test('bad per-peer adjustments are refused at the connection (RangeError), as before', () => {
  const e = server({ transportFor: () => ({ maxDatagramSize: 100 }) });
  assert.throws(
    () => e.receive(forgeInitial({ dcid: dcidOf(1), size: 1200 }), '192.0.2.1:1', NOW),
    RangeError,
  );
});

test('resolveTransportOptions takes shared options as they are, and copies anything else', () => {
  const shared = sharedTransportOptions({ maxStreamsUni: 3 });
  assert.ok(Object.isFrozen(shared));
  assert.equal(resolveTransportOptions(shared), shared);
  const plain = resolveTransportOptions({ maxStreamsUni: 3 });
  assert.notEqual(resolveTransportOptions(plain), plain);
  assert.equal(Object.isFrozen(plain), false);
  assert.throws(() => sharedTransportOptions({ maxStreamsUni: -1 }), RangeError);
});

test('the transport parameters of shared options are built once and equal localTransportParameters', () => {
  const shared = sharedTransportOptions({ initialMaxData: 5000, maxDatagramFrameSize: 1200 });
  const p = optionTransportParameters(shared);
  assert.equal(optionTransportParameters(shared), p);
  assert.ok(Object.isFrozen(p));
  assert.deepEqual({ ...p }, localTransportParameters(shared));
  // Mutable options are not cached: a change shows in the next call.
  const plain = resolveTransportOptions({ initialMaxData: 5000 });
  const q = optionTransportParameters(plain);
  plain.initialMaxData = 6000;
  assert.notEqual(optionTransportParameters(plain), q);
  assert.equal(optionTransportParameters(plain).initialMaxData, 6000);
});
