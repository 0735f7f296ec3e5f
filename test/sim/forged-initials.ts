/**
 * Client Initials made by hand for endpoint tests: a real ClientHello (taken from a real client's
 * first Initial) in packets with any DCID, token and size, or PING-only packets that decrypt but
 * start no handshake.
 */
import assert from 'node:assert/strict';
import { DatagramBuilder } from '../../src/connection/datagram-builder.js';
import { deriveInitialKeys } from '../../src/crypto/packet-keys.js';
import { openPacket } from '../../src/crypto/packet-protection.js';
import { Endpoint } from '../../src/endpoint/endpoint.js';
import { PacketNumberSpace } from '../../src/recovery/types.js';
import { decodeFrames } from '../../src/wire/frame-codec.js';
import { FrameType } from '../../src/wire/frames.js';
import { PacketType, parsePacket } from '../../src/wire/packet-header.js';
import { QUIC_V1 } from '../../src/wire/version.js';
import { DEFAULT_START_TIME, Prng, seededRandomBytes } from './network.js';
import { SERVER_ADDRESS, SERVER_NAME, simPki } from './quic-harness.js';

const NOW = DEFAULT_START_TIME;

let helloCache: { hello: Uint8Array; scid: Uint8Array } | undefined;

/** A real client's ClientHello (the CRYPTO data of its first Initial) and its SCID. */
export function realHello(): { hello: Uint8Array; scid: Uint8Array } {
  if (helloCache) return helloCache;
  const client = new Endpoint({ random: seededRandomBytes(new Prng(9)) });
  const conn = client.connect(
    {
      remoteAddress: SERVER_ADDRESS,
      tls: { alpn: ['hq-interop'], serverName: SERVER_NAME, ca: [simPki().ca.certPem] },
    },
    NOW,
  );
  const datagram = Uint8Array.from(client.transmit(NOW)!.datagram);
  const p = parsePacket(datagram, 0, 8);
  assert.ok(p.type === PacketType.Initial);
  const keys = deriveInitialKeys(QUIC_V1, p.dcid).client;
  const opened = openPacket(keys, datagram, p.packetStart, p.pnOffset, p.packetEnd, -1);
  assert.ok(opened);
  const crypto = decodeFrames(opened.payload).find((f) => f.type === FrameType.Crypto);
  assert.ok(crypto?.type === FrameType.Crypto && crypto.offset === 0);
  helloCache = { hello: Uint8Array.from(crypto.data), scid: Uint8Array.from(conn.localCid) };
  return helloCache;
}

/**
 * A client Initial protected with the Initial keys of `dcid`: a real ClientHello (unless `hello` is
 * false: then only PING, which no longer creates a connection), and PADDING up to `size`.
 */
export function forgeInitial(opts: {
  dcid: Uint8Array;
  scid?: Uint8Array;
  size: number;
  version?: number;
  token?: Uint8Array;
  hello?: boolean;
  packetNumber?: number;
}) {
  const version = opts.version ?? QUIC_V1;
  const b = new DatagramBuilder(new Uint8Array(2048));
  b.reset(Math.max(opts.size, 100));
  b.openLong(
    {
      type: PacketType.Initial,
      version,
      dcid: opts.dcid,
      scid: opts.scid ?? realHello().scid,
      token: opts.token ?? new Uint8Array(0),
    },
    PacketNumberSpace.Initial,
    deriveInitialKeys(version, opts.dcid).client,
    opts.packetNumber ?? 0,
    4,
  );
  if (opts.hello !== false) b.writeFrame({ type: FrameType.Crypto, offset: 0, data: realHello().hello });
  b.writeFrame({ type: FrameType.Ping });
  b.closePacket();
  b.padDatagramTo(opts.size);
  const n = b.seal();
  assert.equal(n, opts.size);
  return b.buffer.slice(0, n);
}

/**
 * 1200 random bytes behind a v1 Initial header with an 8-byte DCID (varying with `i`), an empty
 * token and a 2-byte length: what a junk flood sends. It does not decrypt, so it starts nothing.
 */
export function junkInitial(prng: Prng, i: number): Uint8Array {
  const d = seededRandomBytes(prng)(1200);
  d.set([0xc3, 0, 0, 0, 1, 8], 0);
  d.set([i & 0xff, (i >> 8) & 0xff, 1, 2, 3, 4, 5, 6], 6);
  d[14] = 0;
  d[15] = 0;
  d.set([0x44, 0x90], 16);
  return d;
}
