import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CipherSuite } from '../../../src/crypto/cipher-suite.js';
import { buildClientHello, type ClientHelloParams } from '../../../src/tls/client-hello-builder.js';
import { ExtensionType, HandshakeType } from '../../../src/tls/codepoints.js';
import {
  decodeAlpn,
  decodeCookie,
  decodeKeyShareClient,
  decodeOfferedPsks,
  decodeServerName,
} from '../../../src/tls/extensions.js';
import { KeySchedule } from '../../../src/tls/key-schedule.js';
import { decodeClientHello, encodeClientHello } from '../../../src/tls/messages/client-hello.js';
import { singleBinderListLength, truncateClientHello } from '../../../src/tls/psk.js';
import { TranscriptHash } from '../../../src/tls/transcript-hash.js';
import type { ResumptionSession } from '../../../src/tls/types.js';

const SESSION: ResumptionSession = {
  serverName: 'example.com',
  ticket: new Uint8Array(120).fill(7),
  ticketAgeAdd: 0x01020304,
  lifetime: 3600,
  receivedAt: 1_000,
  suite: CipherSuite.CHACHA20_POLY1305_SHA256,
  psk: new Uint8Array(32).fill(9),
  maxEarlyDataSize: 0xffffffff,
  alpn: 'h3',
  transportParameters: new Uint8Array(0),
};

function params(over: Partial<ClientHelloParams>): ClientHelloParams {
  return {
    random: new Uint8Array(32).fill(1),
    suites: [CipherSuite.CHACHA20_POLY1305_SHA256, CipherSuite.AES_128_GCM_SHA256],
    groups: [0x001d, 0x0017],
    alpn: [Buffer.from('h3')],
    transportParameters: new Uint8Array([1, 2, 3, 4]),
    sniHost: 'example.com',
    keyShare: {
      group: 0x001d,
      publicKey: Buffer.alloc(32, 4),
      computeSecret: () => {
        throw new Error('not used');
      },
    },
    cookie: undefined,
    earlyData: false,
    psk: undefined,
    now: 5_000,
    transcript: new TranscriptHash(),
    ...over,
  };
}

test('buildClientHello: a framed ClientHello whose extensions are the ones it reports, pre_shared_key last with a valid binder', () => {
  const cookie = new Uint8Array(33).fill(5);
  const { message, sent } = buildClientHello(params({ cookie, earlyData: true, psk: SESSION }));
  assert.equal(message[0], HandshakeType.client_hello);
  assert.equal(message.readUIntBE(1, 3), message.length - 4);
  const hello = decodeClientHello(message.subarray(4));
  assert.deepEqual(hello.cipherSuites, [
    CipherSuite.CHACHA20_POLY1305_SHA256,
    CipherSuite.AES_128_GCM_SHA256,
  ]);
  assert.equal(hello.legacySessionId.length, 0);
  assert.deepEqual([...hello.compressionMethods], [0]);
  assert.deepEqual(hello.extensions.order, [
    ExtensionType.server_name,
    ExtensionType.supported_versions,
    ExtensionType.supported_groups,
    ExtensionType.key_share,
    ExtensionType.signature_algorithms,
    ExtensionType.application_layer_protocol_negotiation,
    ExtensionType.quic_transport_parameters,
    ExtensionType.psk_key_exchange_modes,
    ExtensionType.cookie,
    ExtensionType.early_data,
    ExtensionType.pre_shared_key,
  ]);
  assert.deepEqual([...sent].sort(), [...hello.extensions.order].sort());
  const ext = (type: number) => hello.extensions.get(type)!;
  assert.equal(decodeServerName(ext(ExtensionType.server_name)), 'example.com');
  assert.deepEqual(decodeAlpn(ext(ExtensionType.application_layer_protocol_negotiation)).map(String), ['h3']);
  assert.deepEqual(Buffer.from(decodeCookie(ext(ExtensionType.cookie))), Buffer.from(cookie));
  assert.deepEqual([...ext(ExtensionType.quic_transport_parameters)], [1, 2, 3, 4]);
  assert.equal(decodeKeyShareClient(ext(ExtensionType.key_share))[0]!.group, 0x001d);
  assert.equal(ext(ExtensionType.early_data).length, 0);
  // RFC 8446 §4.2.11.2: the binder is the HMAC over the ClientHello truncated before the binders.
  const offered = decodeOfferedPsks(ext(ExtensionType.pre_shared_key));
  assert.deepEqual(Buffer.from(offered.identities[0]!.identity), Buffer.from(SESSION.ticket));
  const truncated = truncateClientHello(message, singleBinderListLength(32));
  const expected = new KeySchedule('sha256', SESSION.psk).binder(
    new TranscriptHash().digestWith(truncated, 'sha256'),
  );
  assert.deepEqual(Buffer.from(offered.binders[0]!), Buffer.from(expected));
});

test('buildClientHello writes the same bytes as encodeClientHello over the same extensions', () => {
  for (const p of [params({}), params({ sniHost: undefined }), params({ earlyData: true })]) {
    const { message } = buildClientHello(p);
    const hello = decodeClientHello(message.subarray(4));
    const again = encodeClientHello({
      random: p.random,
      cipherSuites: p.suites,
      extensions: hello.extensions.order.map((type) => ({ type, data: hello.extensions.get(type)! })),
    });
    assert.deepEqual(again, message);
  }
});
