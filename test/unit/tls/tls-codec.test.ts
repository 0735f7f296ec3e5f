/**
 * The TLS byte layer: the bounds-checked reader and writer, handshake message reassembly, extension
 * codecs, and message encode/decode round trips — decode_error / illegal_parameter on bad input.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AlertDescription, TlsAlertError } from '../../../src/tls/alert.js';
import { ExtensionType, HandshakeType } from '../../../src/tls/codepoints.js';
import {
  checkAllowedExtensions,
  decodeAlpn,
  decodeKeyShareClient,
  decodeOfferedPsks,
  decodeServerName,
  decodeSupportedVersionsClient,
  encodeOfferedPsks,
  encodeServerName,
  readExtensions,
} from '../../../src/tls/extensions.js';
import { frameHandshakeMessage, HandshakeFramer } from '../../../src/tls/handshake-message-framing.js';
import { keyLogLine } from '../../../src/tls/key-log.js';
import { decodeCertificate, encodeCertificate } from '../../../src/tls/messages/certificate.js';
import {
  decodeCertificateRequest,
  encodeCertificateRequest,
} from '../../../src/tls/messages/certificate-request.js';
import {
  decodeCertificateVerify,
  encodeCertificateVerify,
} from '../../../src/tls/messages/certificate-verify.js';
import { decodeFinished } from '../../../src/tls/messages/finished.js';
import {
  decodeNewSessionTicket,
  encodeNewSessionTicket,
} from '../../../src/tls/messages/new-session-ticket.js';
import { deobfuscateTicketAge, obfuscateTicketAge } from '../../../src/tls/psk.js';
import { TlsReader } from '../../../src/tls/tls-reader.js';
import { TlsWriter } from '../../../src/tls/tls-writer.js';

function alertOf(fn: () => unknown): AlertDescription {
  try {
    fn();
  } catch (err) {
    if (err instanceof TlsAlertError) return err.alert;
    throw err;
  }
  assert.fail('no error thrown');
}

test('TlsReader: integers, vectors and every out-of-bounds read -> decode_error', () => {
  const r = new TlsReader(Buffer.from('01 0203 040506 0708090a 02 aabb 0001 ff'.replace(/ /g, ''), 'hex'));
  assert.equal(r.u8(), 1);
  assert.equal(r.u16(), 0x0203);
  assert.equal(r.u24(), 0x040506);
  assert.equal(r.u32(), 0x0708090a);
  assert.deepEqual(Buffer.from(r.vector8('v')), Buffer.from('aabb', 'hex'));
  assert.deepEqual(Buffer.from(r.vector16('v')), Buffer.from('ff', 'hex'));
  assert.equal(r.atEnd, true);
  assert.equal(
    alertOf(() => r.u8()),
    AlertDescription.decode_error,
  );
  assert.equal(new TlsReader(Buffer.from('ffffffff', 'hex')).u32(), 0xffffffff);
  assert.equal(
    alertOf(() => new TlsReader(Buffer.from('0005aa', 'hex')).vector16('v')),
    AlertDescription.decode_error,
  );
  assert.equal(
    alertOf(() => new TlsReader(Buffer.from('00', 'hex')).vector8('v', 1)),
    AlertDescription.decode_error,
  );
  assert.equal(
    alertOf(() => new TlsReader(Buffer.from('000003aabb', 'hex')).sub24('v')),
    AlertDescription.decode_error,
  );
  assert.equal(
    alertOf(() => new TlsReader(Buffer.from('00', 'hex')).expectEnd('x')),
    AlertDescription.decode_error,
  );
  // A sub-reader never reads past its own end, even when the parent has more bytes.
  const sub = new TlsReader(Buffer.from('01aa bb'.replace(/ /g, ''), 'hex')).sub8('s');
  assert.equal(sub.u8(), 0xaa);
  assert.equal(
    alertOf(() => sub.u8()),
    AlertDescription.decode_error,
  );
});

test('TlsWriter: nested vectors get their lengths patched; too long vectors throw RangeError', () => {
  const w = new TlsWriter(2);
  w.u8(1).u16(0x0203).u24(0x040506).u32(0xfffffffe);
  w.vector(2, () => {
    w.vector8(Buffer.from('ab', 'hex'));
    w.vector(3, () => w.bytes(Buffer.alloc(300, 7)));
  });
  const out = w.finish();
  assert.equal(out.subarray(0, 10).toString('hex'), '01020304050 6fffffffe'.replace(/ /g, ''));
  assert.equal(out.readUInt16BE(10), 2 + 3 + 300);
  assert.equal(out.length, 10 + 2 + 2 + 3 + 300);
  assert.throws(() => new TlsWriter().vector8(Buffer.alloc(256)), RangeError);
});

test('HandshakeFramer: messages split at every boundary are reassembled identically', () => {
  const a = frameHandshakeMessage(HandshakeType.encrypted_extensions, Buffer.from('0000', 'hex'));
  const b = frameHandshakeMessage(HandshakeType.finished, Buffer.alloc(32, 9));
  const c = frameHandshakeMessage(HandshakeType.certificate, Buffer.alloc(0));
  const all = Buffer.concat([a, b, c]);
  for (let i = 0; i <= all.length; i++) {
    for (const j of [i, Math.min(all.length, i + 5)]) {
      const f = new HandshakeFramer();
      const got: string[] = [];
      for (const part of [all.subarray(0, i), all.subarray(i, j), all.subarray(j)]) {
        f.push(part);
        for (let m = f.take(); m; m = f.take()) got.push(`${m.type}:${Buffer.from(m.raw).toString('hex')}`);
      }
      assert.deepEqual(
        got,
        [a, b, c].map((m) => `${m[0]}:${m.toString('hex')}`),
        `split ${i}/${j}`,
      );
      assert.equal(f.buffered, 0);
    }
  }
});

test('HandshakeFramer: a declared length above the limit is rejected from the header alone', () => {
  const f = new HandshakeFramer(1000);
  f.push(Buffer.from('0b0003', 'hex'));
  assert.equal(f.take(), undefined);
  f.push(Buffer.from('e9', 'hex'));
  assert.equal(
    alertOf(() => f.take()),
    AlertDescription.decode_error,
  );
  const ok = new HandshakeFramer(1000);
  ok.push(Buffer.from('0b0003e8', 'hex'));
  assert.equal(ok.take(), undefined);
  assert.equal(ok.header()!.length, 1000);
});

test('extension blocks: duplicates -> illegal_parameter, truncation -> decode_error, allowed lists', () => {
  const block = (hex: string) => readExtensions(new TlsReader(Buffer.from(hex, 'hex')), 'test');
  const b = block('0009' + '0010000100' + '002a0000');
  assert.deepEqual(b.order, [0x10, 0x2a]);
  assert.equal(b.size, 2);
  assert.equal(
    alertOf(() => block('0008' + '002a0000' + '002a0000')),
    AlertDescription.illegal_parameter,
  );
  assert.equal(
    alertOf(() => block('0006' + '002a0005ff')),
    AlertDescription.decode_error,
  );
  assert.equal(
    alertOf(() => block('0005' + '002a0000')),
    AlertDescription.decode_error,
  );
  // Recognised but not allowed -> illegal_parameter; unknown (GREASE) tolerated.
  const ee = block('0008' + '00330000' + '0a0a0000');
  assert.equal(
    alertOf(() => checkAllowedExtensions(ee, [ExtensionType.early_data], 'EE')),
    AlertDescription.illegal_parameter,
  );
  checkAllowedExtensions(block('0004' + '0a0a0000'), [], 'EE');
});

test('extension codecs reject malformed values', () => {
  const w = new TlsWriter();
  encodeServerName(w, 'Example.COM');
  assert.equal(decodeServerName(w.finish()), 'example.com');
  assert.equal(
    alertOf(() => decodeServerName(Buffer.from('0005000002c3a9', 'hex'))),
    AlertDescription.illegal_parameter,
  );
  assert.equal(
    alertOf(() => decodeServerName(Buffer.from('000a' + '0000026162' + '0000026364', 'hex'))),
    AlertDescription.illegal_parameter,
  );
  assert.equal(
    alertOf(() => decodeServerName(Buffer.from('0004000001', 'hex'))),
    AlertDescription.decode_error,
  );
  assert.deepEqual(
    decodeAlpn(Buffer.from('0003026833', 'hex')).map((p) => Buffer.from(p).toString()),
    ['h3'],
  );
  assert.equal(
    alertOf(() => decodeAlpn(Buffer.from('000100', 'hex'))),
    AlertDescription.decode_error,
  );
  assert.equal(
    alertOf(() => decodeAlpn(Buffer.from('0000', 'hex'))),
    AlertDescription.decode_error,
  );
  assert.equal(
    alertOf(() => decodeSupportedVersionsClient(Buffer.from('03030403', 'hex'))),
    AlertDescription.decode_error,
  );
  assert.equal(
    alertOf(() => decodeKeyShareClient(Buffer.from('000a' + '001d000101' + '001d000102', 'hex'))),
    AlertDescription.illegal_parameter,
  );
  assert.equal(
    alertOf(() => decodeKeyShareClient(Buffer.from('0004001d0000', 'hex'))),
    AlertDescription.decode_error,
  );
  const psk = new TlsWriter();
  encodeOfferedPsks(
    psk,
    [{ identity: Buffer.from('ticket'), obfuscatedTicketAge: 5 }],
    [Buffer.alloc(32), Buffer.alloc(32)],
  );
  assert.equal(
    alertOf(() => decodeOfferedPsks(psk.finish())),
    AlertDescription.illegal_parameter,
  );
  const ok = new TlsWriter();
  encodeOfferedPsks(ok, [{ identity: Buffer.from('ticket'), obfuscatedTicketAge: 5 }], [Buffer.alloc(32, 1)]);
  const offered = decodeOfferedPsks(ok.finish());
  assert.equal(offered.bindersLength, 2 + 1 + 32);
  assert.equal(offered.identities[0]!.obfuscatedTicketAge, 5);
});

test('messages round-trip and reject bad lengths', () => {
  const nst = encodeNewSessionTicket({
    lifetime: 3600,
    ageAdd: 0xdeadbeef,
    nonce: Uint8Array.of(7),
    ticket: Buffer.from('opaque'),
    extensions: [{ type: ExtensionType.early_data, data: Buffer.from('ffffffff', 'hex') }],
  });
  const d = decodeNewSessionTicket(nst.subarray(4));
  assert.equal(d.lifetime, 3600);
  assert.equal(d.ageAdd, 0xdeadbeef);
  assert.deepEqual(Array.from(d.nonce), [7]);
  assert.equal(Buffer.from(d.ticket).toString(), 'opaque');
  const cert = decodeCertificate(
    encodeCertificate(new Uint8Array(0), [Buffer.from('a'), Buffer.from('bc')]).subarray(4),
  );
  assert.deepEqual(
    cert.entries.map((e) => Buffer.from(e.certData).toString()),
    ['a', 'bc'],
  );
  const cv = decodeCertificateVerify(encodeCertificateVerify(0x0807, Buffer.alloc(64, 3)).subarray(4));
  assert.equal(cv.scheme, 0x0807);
  assert.equal(cv.signature.length, 64);
  const cr = decodeCertificateRequest(
    encodeCertificateRequest(new Uint8Array(0), [
      { type: ExtensionType.signature_algorithms, data: Buffer.from('00020807', 'hex') },
    ]).subarray(4),
  );
  assert.equal(cr.extensions.has(ExtensionType.signature_algorithms), true);
  assert.equal(
    alertOf(() => decodeFinished(Buffer.alloc(31), 32)),
    AlertDescription.decode_error,
  );
  assert.equal(
    alertOf(() => decodeCertificateVerify(Buffer.from('08070000', 'hex'))),
    AlertDescription.decode_error,
  );
  assert.equal(
    alertOf(() => decodeNewSessionTicket(nst.subarray(4, nst.length - 1))),
    AlertDescription.decode_error,
  );
});

test('ticket age obfuscation wraps modulo 2^32', () => {
  assert.equal(obfuscateTicketAge(1000, 0xffffff00), (1000 + 0xffffff00) % 2 ** 32);
  assert.equal(deobfuscateTicketAge(obfuscateTicketAge(123456, 0xfffffff0), 0xfffffff0), 123456);
  assert.equal(obfuscateTicketAge(-5, 10), 10);
});

test('key log lines use the NSS format', () => {
  assert.equal(
    keyLogLine('CLIENT_HANDSHAKE_TRAFFIC_SECRET', Buffer.from('0102', 'hex'), Buffer.from('aabb', 'hex')),
    'CLIENT_HANDSHAKE_TRAFFIC_SECRET 0102 aabb',
  );
});
