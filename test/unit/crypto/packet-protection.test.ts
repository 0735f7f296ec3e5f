import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CipherSuite } from '../../../src/crypto/cipher-suite.js';
import { deriveInitialKeys, derivePacketKeys, type PacketKeys } from '../../../src/crypto/packet-keys.js';
import {
  decryptPayload,
  openPacket,
  openPacketIntact,
  removeHeaderProtection,
  sealPacket,
} from '../../../src/crypto/packet-protection.js';
import { QUIC_V1 } from '../../../src/crypto/quic-version.js';
import { CHACHA_SECRET, DCID, hex, V1 } from './rfc-vectors.js';

const SECRET_48 = Buffer.alloc(48, 0x5a);

/** A 1-RTT packet: short header with an 8-byte DCID, then payload, then 16 bytes of room. */
function shortPacket(pnLength: number, truncatedPn: number, payload: Buffer, firstByteExtra = 0): Buffer {
  const header = Buffer.alloc(1 + 8 + pnLength);
  header[0] = 0x40 | firstByteExtra | (pnLength - 1);
  hex('0011223344556677').copy(header, 1);
  header.writeUIntBE(truncatedPn, 9, pnLength);
  return Buffer.concat([header, payload, Buffer.alloc(16)]);
}

function sealShort(keys: PacketKeys, pnLength: number, pn: number, payload: Buffer, extra = 0): Buffer {
  const truncated = pn % 2 ** (8 * pnLength);
  const buf = shortPacket(pnLength, truncated, payload, extra);
  const end = sealPacket(keys, buf, 0, 9, pnLength, pn, 9 + pnLength + payload.length);
  assert.equal(end, buf.length);
  return buf;
}

test('short header round trip with the key phase bit (5 protected bits), AES-256-GCM', () => {
  const keys = derivePacketKeys(CipherSuite.AES_256_GCM_SHA384, SECRET_48, QUIC_V1);
  const payload = Buffer.from('0102030405060708', 'hex');
  // spin bit 0x20 (not protected) and key phase 0x04 (protected).
  const buf = sealShort(keys, 2, 0x1234, payload, 0x20 | 0x04);
  assert.equal(buf[0]! & 0xe0, 0x60, 'unprotected bits unchanged');
  const opened = openPacket(keys, buf, 0, 9, buf.length, 0x1200);
  assert.ok(opened);
  assert.equal(opened.firstByte, 0x40 | 0x20 | 0x04 | 0x01);
  assert.equal(opened.packetNumber, 0x1234);
  assert.deepEqual(Buffer.from(opened.payload ?? []), payload);
});

test('long header: only the low 4 bits of the first byte are masked', () => {
  const keys = deriveInitialKeys(QUIC_V1, DCID);
  // Over many packet numbers, the top 4 bits never change while the low ones vary.
  const seenLow = new Set<number>();
  for (let pn = 0; pn < 64; pn++) {
    const buf = Buffer.concat([hex(V1.clientHeader), Buffer.alloc(40), Buffer.alloc(16)]);
    buf.writeUInt32BE(pn, 18);
    sealPacket(keys.client, buf, 0, 18, 4, pn, 22 + 40);
    assert.equal(buf[0]! & 0xf0, 0xc0);
    seenLow.add(buf[0]! & 0x0f);
  }
  assert.ok(seenLow.size > 4);
});

test('coalesced packets: each is protected and opened at its own offset', () => {
  const keys = deriveInitialKeys(QUIC_V1, DCID);
  const one = Buffer.concat([hex(V1.clientHeader), Buffer.alloc(30, 1), Buffer.alloc(16)]);
  const two = shortPacket(1, 5, Buffer.alloc(20, 2));
  const datagram = Buffer.concat([Buffer.alloc(3, 0xaa), one, two]);
  const s1 = 3;
  const e1 = sealPacket(keys.client, datagram, s1, s1 + 18, 4, 2, s1 + 22 + 30);
  assert.equal(e1, s1 + one.length);
  const e2 = sealPacket(keys.client, datagram, e1, e1 + 9, 1, 5, e1 + 10 + 20);
  assert.equal(e2, datagram.length);
  assert.deepEqual(datagram.subarray(0, 3), Buffer.alloc(3, 0xaa));
  const o2 = openPacket(keys.client, datagram, e1, e1 + 9, e2, 4);
  const o1 = openPacket(keys.client, datagram, s1, s1 + 18, e1, -1);
  assert.ok(o1 && o2);
  assert.equal(o1.packetNumber, 2);
  assert.equal(o1.headerEnd, s1 + 22);
  assert.deepEqual(Buffer.from(o1.payload ?? []), Buffer.alloc(30, 1));
  assert.equal(o2.packetNumber, 5);
  assert.equal(o2.headerEnd, e1 + 10);
  assert.deepEqual(Buffer.from(o2.payload ?? []), Buffer.alloc(20, 2));
});

test('openPacketIntact opens like openPacket and leaves the datagram as it arrived (Buffer or not)', () => {
  const keys = deriveInitialKeys(QUIC_V1, DCID);
  const one = Buffer.concat([hex(V1.clientHeader), Buffer.alloc(30, 1), Buffer.alloc(16)]);
  const two = shortPacket(1, 5, Buffer.alloc(20, 2));
  const datagram = Buffer.concat([Buffer.alloc(3, 0xaa), one, two]);
  const e1 = sealPacket(keys.client, datagram, 3, 3 + 18, 4, 2, 3 + 22 + 30);
  sealPacket(keys.client, datagram, e1, e1 + 9, 1, 5, e1 + 10 + 20);
  for (const view of [Buffer.from(datagram), new Uint8Array(datagram)]) {
    const intact = openPacketIntact(keys.client, view, 3, 3 + 18, e1, -1);
    assert.deepEqual(Buffer.from(view), datagram, 'not a byte written');
    const second = openPacketIntact(keys.client, view, e1, e1 + 9, view.length, 4);
    assert.deepEqual(Buffer.from(view), datagram, 'not a byte written');
    const inPlace = openPacket(keys.client, view, 3, 3 + 18, e1, -1);
    assert.ok(intact && inPlace && second);
    assert.deepEqual(
      { ...intact, payload: [...intact.payload] },
      { ...inPlace, payload: [...inPlace.payload] },
    );
    assert.equal(intact.packetNumber, 2);
    assert.equal(second.packetNumber, 5);
    assert.deepEqual(Buffer.from(second.payload ?? []), Buffer.alloc(20, 2));
  }
  // Any flipped bit, a wrong largest_pn or a packet too short to sample: null, and still nothing written.
  for (const i of [3, 20, 25, 40, e1 - 1]) {
    const copy = Buffer.from(datagram);
    copy[i]! ^= 0x04;
    const before = Buffer.from(copy);
    assert.equal(openPacketIntact(keys.client, copy, 3, 3 + 18, e1, -1), null, `byte ${i}`);
    assert.deepEqual(copy, before);
  }
  assert.equal(openPacketIntact(keys.client, datagram, e1, e1 + 9, datagram.length, 300), null);
  assert.equal(openPacketIntact(keys.client, datagram, 3, 3 + 18, 3 + 18 + 19, -1), null);
  assert.equal(openPacketIntact(keys.client, datagram, 3, 3 + 18, datagram.length + 1, -1), null);
});

test('a flipped byte in the header, payload or tag, or a wrong key, gives null', () => {
  for (const suite of [
    CipherSuite.AES_128_GCM_SHA256,
    CipherSuite.AES_256_GCM_SHA384,
    CipherSuite.CHACHA20_POLY1305_SHA256,
  ]) {
    const secret = suite === CipherSuite.AES_256_GCM_SHA384 ? SECRET_48 : hex(CHACHA_SECRET);
    const keys = derivePacketKeys(suite, secret, QUIC_V1);
    const sealed = sealShort(keys, 2, 700, Buffer.from('hello, packet protection', 'latin1'));
    const positions = [0, 3, 9, 10, 11, 20, sealed.length - 16, sealed.length - 1];
    for (const i of positions) {
      for (const bit of [0x01, 0x04, 0x80]) {
        const copy = Buffer.from(sealed);
        copy[i]! ^= bit;
        assert.equal(
          openPacket(keys, copy, 0, 9, copy.length, 699),
          null,
          `suite ${suite} byte ${i} bit ${bit}`,
        );
      }
    }
    const failures = keys.aead.openFailures;
    assert.ok(failures >= positions.length * 3 - 3, `failures counted: ${failures}`);
    const other = derivePacketKeys(suite, Buffer.from(secret).fill(1, 0, 1), QUIC_V1);
    assert.equal(openPacket(other, Buffer.from(sealed), 0, 9, sealed.length, 699), null, 'wrong key');
    // The untouched packet still opens.
    assert.ok(openPacket(keys, Buffer.from(sealed), 0, 9, sealed.length, 699));
  }
});

test('a packet number decoded against the wrong largest_pn fails authentication', () => {
  const keys = derivePacketKeys(CipherSuite.AES_128_GCM_SHA256, hex(CHACHA_SECRET), QUIC_V1);
  const sealed = sealShort(keys, 1, 300, Buffer.alloc(10, 7));
  // truncated 300 & 0xff = 44; against largest 0 it decodes to 44, not 300.
  assert.equal(openPacket(keys, Buffer.from(sealed), 0, 9, sealed.length, 0), null);
  const ok = openPacket(keys, Buffer.from(sealed), 0, 9, sealed.length, 290);
  assert.equal(ok?.packetNumber, 300);
});

test('removeHeaderProtection then decryptPayload (the key update path)', () => {
  const keys = derivePacketKeys(CipherSuite.AES_128_GCM_SHA256, hex(CHACHA_SECRET), QUIC_V1);
  const sealed = sealShort(keys, 4, 0xdeadbeef, Buffer.alloc(12, 9));
  const header = removeHeaderProtection(keys.hp, sealed, 0, 9, sealed.length);
  assert.deepEqual(header, { firstByte: 0x43, truncatedPn: 0xdeadbeef, pnLength: 4 });
  assert.equal(sealed.readUInt32BE(9), 0xdeadbeef);
  assert.equal(decryptPayload(keys.aead, sealed, 0, 13, sealed.length, 0xdeadbeee), null);
  assert.deepEqual(
    Buffer.from(decryptPayload(keys.aead, sealed, 0, 13, sealed.length, 0xdeadbeef) ?? []),
    Buffer.alloc(12, 9),
  );
});

test('packets too short to sample and offsets outside the buffer give null', () => {
  const keys = deriveInitialKeys(QUIC_V1, DCID);
  const buf = Buffer.alloc(40, 0x33);
  buf[0] = 0xc0;
  // The sample needs pnOffset + 4 + 16 bytes.
  assert.equal(removeHeaderProtection(keys.client.hp, buf, 0, 18, 37), null);
  assert.notEqual(removeHeaderProtection(keys.client.hp, Buffer.from(buf), 0, 18, 38), null);
  assert.equal(removeHeaderProtection(keys.client.hp, buf, 0, 18, 41), null, 'end past the buffer');
  assert.equal(removeHeaderProtection(keys.client.hp, buf, 5, 5, 40), null, 'pnOffset at packetStart');
  assert.equal(removeHeaderProtection(keys.client.hp, buf, -1, 2, 40), null, 'negative start');
  assert.equal(openPacket(keys.client, buf, 0, 18, 37, -1), null);
  assert.equal(decryptPayload(keys.client.aead, buf, 0, 30, 50, 0), null, 'end past the buffer');
  assert.equal(decryptPayload(keys.client.aead, buf, 0, 35, 30, 0), null, 'header past the end');
  assert.equal(decryptPayload(keys.client.aead, buf, 0, 30, 40, 0), null, 'garbage');
  assert.equal(decryptPayload(keys.client.aead, buf, 0, 30, 35, 0), null, 'shorter than a tag');
});

test('sealPacket rejects callers that break its preconditions', () => {
  const keys = deriveInitialKeys(QUIC_V1, DCID);
  const ok = () => Buffer.concat([hex(V1.clientHeader), Buffer.alloc(20), Buffer.alloc(16)]);
  // First byte says 4-byte pn, caller says 2.
  assert.throws(() => sealPacket(keys.client, ok(), 0, 18, 2, 2, 42), RangeError);
  // No room for the tag.
  assert.throws(() => sealPacket(keys.client, ok(), 0, 18, 4, 2, 50), RangeError);
  // A 1-byte payload after a 2-byte pn ends at 37, but the sample needs bytes up to 18 + 4 + 16 = 38.
  const short = Buffer.concat([
    hex('c1000000010008f067a5502a4262b5004075'),
    hex('0001'),
    Buffer.alloc(1),
    Buffer.alloc(16),
  ]);
  assert.throws(() => sealPacket(keys.client, short, 0, 18, 2, 1, 21), RangeError);
  assert.equal(keys.client.aead.sealCount, 0);
});
