/**
 * The receiver (connection-receiver.ts) driven through a fake ReceiverHost: real packets, built with
 * the packet packer and known keys, go in; the test checks what the receiver asks each owner to do
 * (TLS input, ACK tracking, the events it reports to the connection) and the errors it raises.
 * Covered: the client's handling of Version Negotiation (RFC 9000 §6.2), Retry (§17.2.5.2) and
 * stateless resets (§10.3.1); the frames a server must refuse (§19.7, §19.20); the peer's close
 * (§10.2.2); a Handshake packet at a server (§8.1, RFC 9001 §4.9.1); the closing state (§10.2.1).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CloseInfo } from '../../src/connection/connection-events.js';
import {
  type ClientPackets,
  ConnectionReceiver,
  type ReceiverHost,
} from '../../src/connection/connection-receiver.js';
import type { ConnectionState } from '../../src/connection/connection-state.js';
import { OneRttKeys } from '../../src/connection/one-rtt-keys.js';
import { type PacketHeaderSource, PacketPacker } from '../../src/connection/packet-packer.js';
import { PacketSpace } from '../../src/connection/packet-space.js';
import { CipherSuite } from '../../src/crypto/cipher-suite.js';
import { derivePacketKeys } from '../../src/crypto/packet-keys.js';
import { retryIntegrityTag } from '../../src/crypto/retry.js';
import { QuicTransportError, TransportErrorCode } from '../../src/errors/transport-error.js';
import { PacketNumberSpace } from '../../src/recovery/types.js';
import { EncryptionLevel } from '../../src/tls/types.js';
import { type Frame, FrameType } from '../../src/wire/frames.js';
import { encodeRetryWithoutTag, encodeVersionNegotiation, PacketType } from '../../src/wire/packet-header.js';
import { QUIC_V1, QUIC_V2 } from '../../src/wire/version.js';

const LOCAL_CID = new Uint8Array(8).fill(0xa1);
const ORIGINAL_DCID = new Uint8Array(8).fill(0xb2);
const RESET_TOKEN = new Uint8Array(16).fill(0x5e);
const PEER = '10.0.0.2:5000';
const SUITE = CipherSuite.AES_128_GCM_SHA256;
const HANDSHAKE_SECRET = new Uint8Array(32).fill(0x33);
const APP_SECRET = new Uint8Array(32).fill(0x44);

interface FakeOptions {
  role?: 'client' | 'server';
  state?: ConnectionState;
  canNegotiateVersion?: boolean;
  receivedServerPacket?: boolean;
  retrySourceCid?: Uint8Array;
  /** Our max_datagram_frame_size. */
  maxDatagramFrameSize?: number;
}

/** A host whose every part records what the receiver asks of it in `calls`. */
function fakeHost(o: FakeOptions = {}) {
  const calls: string[] = [];
  const closes: CloseInfo[] = [];
  const spaces = [
    new PacketSpace(PacketNumberSpace.Initial, 25),
    new PacketSpace(PacketNumberSpace.Handshake, 25),
    new PacketSpace(PacketNumberSpace.ApplicationData, 25),
  ] as const;
  spaces[1].installKeys('read', derivePacketKeys(SUITE, HANDSHAKE_SECRET, QUIC_V1));
  let state: ConnectionState = o.state ?? 'established';
  const client: ClientPackets = {
    localCid: LOCAL_CID,
    originalDcid: ORIGINAL_DCID,
    retrySourceCid: o.retrySourceCid,
    receivedServerPacket: o.receivedServerPacket ?? false,
    canNegotiateVersion: o.canNegotiateVersion ?? true,
    onFirstServerPacket: (scid) => calls.push(`first-server-packet ${scid.length}`),
    onRetry: (scid, token, now) =>
      calls.push(`retry ${Buffer.from(scid).toString('hex')} ${token.length} @${now}`),
    restartWithVersion: (v) => calls.push(`restart 0x${v.toString(16)}`),
    abandon: (info) => {
      closes.push(info);
      calls.push('abandon');
    },
  };
  const host: ReceiverHost = {
    role: o.role ?? 'client',
    version: QUIC_V1,
    options: { connectionIdLength: 8, maxDatagramFrameSize: o.maxDatagramFrameSize },
    get state() {
      return state;
    },
    trace: undefined,
    dropTrace: undefined,
    spaces,
    handshake: {
      // The peer's write secret is our read secret.
      oneRtt: new OneRttKeys(SUITE, QUIC_V1, APP_SECRET, new Uint8Array(32).fill(0x55)),
      zeroRttKeys: undefined,
      complete: true,
      confirmed: true,
      peerParams: undefined,
      epoch: undefined,
      feed: (level, data) => calls.push(`tls ${EncryptionLevel[level]} ${data.length}`),
    },
    peerCids: {
      current: new Uint8Array(8).fill(0xc3),
      onNewConnectionId: () => calls.push('new-cid'),
      isStatelessResetToken: (token) => Buffer.from(token).equals(Buffer.from(RESET_TOKEN)),
    },
    localCids: {
      onRetire: (seq) => calls.push(`retire ${seq}`),
      replenish: () => calls.push('replenish'),
    },
    paths: {
      current: { address: PEER } as ReceiverHost['paths']['current'],
      onPacket: (from, pn) => calls.push(`path-packet ${from} ${pn}`),
      onChallenge: (from) => calls.push(`challenge ${from}`),
      onResponse: () => calls.push('response'),
    },
    recovery: { onAckFrame: (space) => calls.push(`ack ${PacketNumberSpace[space]}`) },
    counters: { onPacketReceived: () => {} },
    framer: {
      queuePing: () => calls.push('queue-ping'),
      queueClose: () => calls.push('queue-close'),
    },
    ptoPeriod: () => 300,
    events: {
      pushEvent: (e) => calls.push(`event ${e.type}`),
      onPacketProcessed: (now) => calls.push(`processed @${now}`),
      onHandshakePacket: (from) => calls.push(`handshake-packet ${from}`),
      onHandshakeDone: () => calls.push('handshake-done'),
      onPeerClosed: (info, now) => {
        closes.push(info);
        calls.push(`peer-closed @${now}`);
        state = 'draining';
      },
    },
    client: (o.role ?? 'client') === 'client' ? client : undefined,
  };
  return { calls, closes, receiver: new ConnectionReceiver(host), spaces };
}

const header: PacketHeaderSource = {
  role: 'server',
  version: QUIC_V1,
  dcid: LOCAL_CID,
  scid: new Uint8Array(8).fill(0xc3),
  token: new Uint8Array(0),
  keyPhase: false,
  largestAcked: () => undefined,
};

/** One datagram holding one packet of `type` with `frames`, sealed with the keys the fake host reads. */
function datagramOf(type: PacketType.Handshake | PacketType.OneRtt, frames: Frame[], pn = 0): Uint8Array {
  const packer = new PacketPacker(header, 1500);
  packer.startDatagram(1500);
  const keys =
    type === PacketType.Handshake
      ? derivePacketKeys(SUITE, HANDSHAKE_SECRET, QUIC_V1)
      : derivePacketKeys(SUITE, APP_SECRET, QUIC_V1);
  const space =
    type === PacketType.Handshake ? PacketNumberSpace.Handshake : PacketNumberSpace.ApplicationData;
  assert.ok(packer.openPacket(type, space, keys, pn));
  for (const f of frames) packer.write(f);
  assert.ok(packer.closePacket());
  return packer.seal();
}

const vn = (versions: number[], dcid = LOCAL_CID, scid = ORIGINAL_DCID) =>
  encodeVersionNegotiation(dcid, scid, versions, 0x15);

test('Version Negotiation: a supported version restarts the attempt with it', () => {
  const { calls, receiver } = fakeHost();
  receiver.receiveDatagram(vn([0x0a0a0a0a, QUIC_V2]), 'server', 5);
  assert.deepEqual(calls, [`restart 0x${QUIC_V2.toString(16)}`]);
});

test('Version Negotiation: no version in common abandons with VERSION_NEGOTIATION_ERROR', () => {
  const { calls, closes, receiver } = fakeHost();
  receiver.receiveDatagram(vn([0x0a0a0a0a, 0xff00001d]), 'server', 5);
  assert.deepEqual(calls, ['abandon']);
  assert.equal(closes[0]?.source, 'version-negotiation');
  assert.equal(closes[0]?.errorCode, TransportErrorCode.VERSION_NEGOTIATION_ERROR);
});

test('Version Negotiation is ignored when stale, spoofed, too late, or by a server', () => {
  const cases: Array<[string, Uint8Array, FakeOptions]> = [
    ['lists our own version', vn([QUIC_V1, QUIC_V2]), {}],
    ['for another connection ID', vn([QUIC_V2], new Uint8Array(8).fill(1)), {}],
    ['not echoing our first DCID', vn([QUIC_V2], LOCAL_CID, new Uint8Array(8).fill(2)), {}],
    ['after a server packet or a first negotiation', vn([QUIC_V2]), { canNegotiateVersion: false }],
    ['at a server', vn([QUIC_V2]), { role: 'server' }],
  ];
  for (const [what, datagram, options] of cases) {
    const { calls, receiver } = fakeHost(options);
    receiver.receiveDatagram(datagram, 'server', 5);
    assert.deepEqual(calls, [], what);
  }
});

const RETRY_SCID = new Uint8Array(8).fill(0xd4);
function retry(opts: { scid?: Uint8Array; dcid?: Uint8Array; token?: number; badTag?: boolean } = {}) {
  const length = opts.token ?? 24;
  const token = new Uint8Array(Math.max(1, length)).fill(0x77);
  let body = encodeRetryWithoutTag(QUIC_V1, opts.dcid ?? LOCAL_CID, opts.scid ?? RETRY_SCID, token, 0);
  // The token runs to the tag (RFC 9000 §17.2.5): without its byte, the Retry has an empty one.
  if (length === 0) body = body.subarray(0, body.length - 1);
  const tag = retryIntegrityTag(QUIC_V1, ORIGINAL_DCID, body);
  if (opts.badTag) tag[3]! ^= 0x10;
  return Uint8Array.from([...body, ...tag]);
}

test('Retry: one valid Retry is handed to the client with its SCID and token (RFC 9000 §17.2.5.2)', () => {
  const { calls, receiver } = fakeHost();
  receiver.receiveDatagram(retry(), 'server', 7);
  assert.deepEqual(calls, [`retry ${Buffer.from(RETRY_SCID).toString('hex')} 24 @7`]);
});

test('Retry is discarded when forged, misaddressed, empty, repeated, late, or at a server', () => {
  const cases: Array<[string, Uint8Array, FakeOptions]> = [
    ['integrity tag does not verify', retry({ badTag: true }), {}],
    ['for another connection ID', retry({ dcid: new Uint8Array(8).fill(9) }), {}],
    ['empty token', retry({ token: 0 }), {}],
    ['SCID equal to our first DCID', retry({ scid: ORIGINAL_DCID }), {}],
    ['a second Retry', retry(), { retrySourceCid: new Uint8Array(8).fill(1) }],
    ['after a server packet', retry(), { receivedServerPacket: true }],
    ['at a server', retry(), { role: 'server' }],
  ];
  for (const [what, datagram, options] of cases) {
    const { calls, receiver } = fakeHost(options);
    receiver.receiveDatagram(datagram, 'server', 7);
    assert.deepEqual(calls, [], what);
  }
});

test('a datagram ending with a reset token of the peer drains the connection; others do not', () => {
  const reset = new Uint8Array(40).fill(0x40);
  reset.set(RESET_TOKEN, reset.length - 16);
  const { calls, closes, receiver } = fakeHost();
  assert.equal(receiver.checkStatelessReset(reset, 9), true);
  assert.deepEqual(calls, ['peer-closed @9']);
  assert.equal(closes[0]?.source, 'stateless-reset');

  const other = fakeHost();
  const tooShort = reset.subarray(reset.length - 20);
  assert.equal(other.receiver.checkStatelessReset(tooShort, 9), false, 'shorter than 21 bytes');
  const longHeader = new Uint8Array(reset);
  longHeader[0] = 0xc0;
  assert.equal(other.receiver.checkStatelessReset(longHeader, 9), false, 'a long header is no reset');
  const wrongToken = new Uint8Array(40).fill(0x40);
  assert.equal(other.receiver.checkStatelessReset(wrongToken, 9), false);
  assert.deepEqual(other.calls, []);
});

test('a Handshake packet at a server: CRYPTO to TLS, reported with its address, then processed', () => {
  const { calls, receiver, spaces } = fakeHost({ role: 'server' });
  const crypto: Frame = { type: FrameType.Crypto, offset: 0, data: new Uint8Array(52).fill(0x14) };
  receiver.receiveDatagram(datagramOf(PacketType.Handshake, [crypto], 3), PEER, 11);
  assert.deepEqual(calls, ['handshake-packet 10.0.0.2:5000', 'tls Handshake 52', 'processed @11']);
  assert.equal(spaces[1].acks.largestReceived, 3, 'the packet is tracked for an ACK');
  // The same packet again is a duplicate (RFC 9000 §12.3): nothing happens.
  calls.length = 0;
  receiver.receiveDatagram(datagramOf(PacketType.Handshake, [crypto], 3), PEER, 12);
  assert.deepEqual(calls, []);
});

test('a client packet carrying HANDSHAKE_DONE or NEW_TOKEN is a PROTOCOL_VIOLATION at a server', () => {
  for (const frame of [
    { type: FrameType.HandshakeDone },
    { type: FrameType.NewToken, token: Uint8Array.of(1) },
  ]) {
    const { calls, receiver } = fakeHost({ role: 'server' });
    assert.throws(
      () => receiver.receiveDatagram(datagramOf(PacketType.OneRtt, [frame as Frame]), PEER, 5),
      (err: unknown) =>
        err instanceof QuicTransportError &&
        err.errorCode === TransportErrorCode.PROTOCOL_VIOLATION &&
        err.frameType === frame.type,
    );
    assert.deepEqual(calls, [], FrameType[frame.type]);
  }
  // At a client, the same frames are the server's to send.
  const { calls, receiver } = fakeHost();
  receiver.receiveDatagram(
    datagramOf(PacketType.OneRtt, [
      { type: FrameType.HandshakeDone },
      { type: FrameType.NewToken, token: Uint8Array.of(1) },
    ]),
    PEER,
    5,
  );
  assert.deepEqual(calls, [
    'handshake-done',
    'event new-token',
    'processed @5',
    'path-packet 10.0.0.2:5000 0',
  ]);
});

test('DATAGRAM frames are refused unless we advertised support for their size (RFC 9221 §3)', () => {
  const frame: Frame = { type: FrameType.Datagram, data: new Uint8Array(30) };
  for (const max of [undefined, 0, 30]) {
    const { receiver } = fakeHost({ maxDatagramFrameSize: max });
    assert.throws(
      () => receiver.receiveDatagram(datagramOf(PacketType.OneRtt, [frame]), PEER, 5),
      (err: unknown) => err instanceof QuicTransportError && err.frameType === FrameType.Datagram,
      `max ${max}`,
    );
  }
});

test("the peer's CONNECTION_CLOSE drains, with a TLS alert named; nothing after it in the packet acts", () => {
  const { calls, closes, receiver } = fakeHost();
  const close: Frame = {
    type: FrameType.ConnectionCloseTransport,
    errorCode: 0x100 + 42,
    frameType: 0x06,
    reason: 'bad certificate',
  };
  receiver.receiveDatagram(
    datagramOf(PacketType.OneRtt, [close, { type: FrameType.Ping }, { type: FrameType.HandshakeDone }]),
    PEER,
    8,
  );
  assert.deepEqual(calls, ['peer-closed @8']);
  assert.deepEqual(closes, [
    {
      source: 'remote',
      application: false,
      errorCode: 0x12a,
      frameType: 0x06,
      reason: 'bad certificate',
      tlsAlert: 42,
    },
  ]);
});

test('closing: an authenticated datagram from the peer draws a CONNECTION_CLOSE, at a limited rate; others none', () => {
  const { calls, receiver } = fakeHost({ state: 'closing' });
  const ping = () => datagramOf(PacketType.OneRtt, [{ type: FrameType.Ping }]);
  receiver.receiveDatagram(ping(), '10.9.9.9:1', 5);
  assert.deepEqual(calls, [], 'not from the peer’s address (RFC 9000 §10.2.1)');
  const forged = ping();
  forged[forged.length - 1]! ^= 1;
  receiver.receiveDatagram(forged, PEER, 5);
  assert.deepEqual(calls, [], 'not authenticated: not ours');
  for (let i = 0; i < 20; i++) receiver.receiveDatagram(ping(), PEER, 5);
  // The 1st, 2nd, 4th, 8th and 16th (closing-answers.ts).
  assert.equal(calls.filter((c) => c === 'queue-close').length, 5);
  assert.deepEqual(new Set(calls), new Set(['queue-close']), 'nothing but the answer: no frame is processed');
});
