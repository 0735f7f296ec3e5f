/**
 * Key shares made ahead of time (TlsCommonConfig.keyShares, issue 13): each engine puts the share its
 * source hands it on the wire and derives its secrets with it; without a ready share, or with one of
 * the wrong group, it makes its own from `random`, as without a source.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExtensionType, HandshakeType, NamedGroup } from '../../../src/tls/codepoints.js';
import { decodeKeyShareClient, decodeKeyShareServer } from '../../../src/tls/extensions.js';
import { type KeyShare, type KeyShareSource, newKeyShare } from '../../../src/tls/key-exchange.js';
import { decodeClientHello } from '../../../src/tls/messages/client-hello.js';
import { decodeServerHello } from '../../../src/tls/messages/server-hello.js';
import { clientConfig, handshake, secretPairs, seededRandom, serverConfig, testPki } from './helpers.js';

const pki = testPki();

/** Hands out the shares it was given, once each, and records every group asked for. */
class ListSource implements KeyShareSource {
  readonly asked: NamedGroup[] = [];
  constructor(private readonly shares: KeyShare[]) {}
  take(group: NamedGroup): KeyShare | undefined {
    this.asked.push(group);
    return this.shares.shift();
  }
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

function wireShares(r: ReturnType<typeof handshake>): { client: string; server: string } {
  const ch = r.messages.find((m) => m.type === HandshakeType.client_hello)!;
  const sh = r.messages.find((m) => m.type === HandshakeType.server_hello)!;
  const clientShares = decodeKeyShareClient(
    decodeClientHello(ch.bytes.subarray(4)).extensions.get(ExtensionType.key_share)!,
  );
  assert.equal(clientShares.length, 1);
  const serverShare = decodeKeyShareServer(
    decodeServerHello(sh.bytes.subarray(4)).extensions.get(ExtensionType.key_share)!,
  );
  return { client: hex(clientShares[0]!.keyExchange), server: hex(serverShare.keyExchange) };
}

test('key share source: the ClientHello and ServerHello carry the shares the sources handed out', () => {
  const clientShare = newKeyShare(NamedGroup.x25519, seededRandom('client-spare'));
  const serverShare = newKeyShare(NamedGroup.x25519, seededRandom('server-spare'));
  const clientSource = new ListSource([clientShare]);
  const serverSource = new ListSource([serverShare]);
  const r = handshake(
    clientConfig(pki, { keyShares: clientSource }),
    serverConfig(pki, { keyShares: serverSource }),
  );
  assert.equal(r.client.complete && r.server.complete, true);
  for (const [name, a, b] of secretPairs(r)) assert.equal(a, b, name);
  assert.deepEqual(wireShares(r), { client: hex(clientShare.publicKey), server: hex(serverShare.publicKey) });
  assert.deepEqual(clientSource.asked, [NamedGroup.x25519]);
  assert.deepEqual(serverSource.asked, [NamedGroup.x25519]);
});

test('key share source: with nothing ready, each side makes its share from its random bytes', () => {
  const seeded = (keyShares?: KeyShareSource) =>
    handshake(
      clientConfig(pki, { random: seededRandom('client'), keyShares }),
      serverConfig(pki, { random: seededRandom('server'), keyShares }),
    );
  const without = seeded();
  const withEmpty = seeded(new ListSource([]));
  assert.equal(withEmpty.client.complete && withEmpty.server.complete, true);
  // The same random bytes give the same shares as with no source at all.
  assert.deepEqual(wireShares(withEmpty), wireShares(without));
});

test('key share source: a share of another group than the one needed is not used', () => {
  const wrong = newKeyShare(NamedGroup.secp256r1, seededRandom('wrong-group'));
  const r = handshake(
    clientConfig(pki, { keyShares: new ListSource([wrong]) }),
    serverConfig(pki, { keyShares: new ListSource([wrong]) }),
  );
  assert.equal(r.client.complete && r.server.complete, true);
  const shares = wireShares(r);
  assert.notEqual(shares.client, hex(wrong.publicKey));
  assert.notEqual(shares.server, hex(wrong.publicKey));
  assert.equal(shares.client.length, 64);
});

test('key share source: after a HelloRetryRequest the client asks for the group the server named', () => {
  const source = new ListSource([]);
  const r = handshake(
    clientConfig(pki, { groups: ['x25519', 'secp256r1'], keyShares: source }),
    serverConfig(pki, { groups: ['secp256r1'] }),
  );
  assert.equal(r.client.complete && r.server.complete, true);
  assert.deepEqual(source.asked, [NamedGroup.x25519, NamedGroup.secp256r1]);
});
