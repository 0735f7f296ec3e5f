/**
 * The receiver (connection-receiver.ts) driven through a fake ReceiverHost: the client's handling of
 * Version Negotiation (RFC 9000 §6.2) and of stateless resets (RFC 9000 §10.3.1), checked on what
 * the receiver asks its connection to do.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CloseInfo } from '../../src/connection/connection-events.js';
import { ConnectionReceiver, type ReceiverHost } from '../../src/connection/connection-receiver.js';
import { TransportErrorCode } from '../../src/errors/transport-error.js';
import { encodeVersionNegotiation } from '../../src/wire/packet-header.js';
import { QUIC_V1, QUIC_V2 } from '../../src/wire/version.js';

const LOCAL_CID = new Uint8Array(8).fill(0xa1);
const ORIGINAL_DCID = new Uint8Array(8).fill(0xb2);
const RESET_TOKEN = new Uint8Array(16).fill(0x5e);

function fakeHost(canNegotiateVersion = true) {
  const calls: string[] = [];
  const closes: CloseInfo[] = [];
  const host = {
    role: 'client',
    version: QUIC_V1,
    options: { connectionIdLength: 8 },
    isClosed: false,
    state: 'handshake',
    trace: undefined,
    dropTrace: undefined,
    canNegotiateVersion,
    localCid: LOCAL_CID,
    originalDcid: ORIGINAL_DCID,
    peerCids: {
      isStatelessResetToken: (token: Uint8Array) => Buffer.from(token).equals(Buffer.from(RESET_TOKEN)),
    },
    abandon: (info: CloseInfo) => {
      closes.push(info);
      calls.push('abandon');
    },
    startDraining: (info: CloseInfo, now: number) => {
      closes.push(info);
      calls.push(`drain@${now}`);
    },
    restartWithVersion: (v: number) => calls.push(`restart 0x${v.toString(16)}`),
  };
  const receiver = new ConnectionReceiver(host as unknown as ReceiverHost);
  return { calls, closes, receiver };
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

test('Version Negotiation is ignored when stale, spoofed or too late', () => {
  const cases: Array<[string, Uint8Array, boolean]> = [
    ['lists our own version', vn([QUIC_V1, QUIC_V2]), true],
    ['for another connection ID', vn([QUIC_V2], new Uint8Array(8).fill(1)), true],
    ['not echoing our first DCID', vn([QUIC_V2], LOCAL_CID, new Uint8Array(8).fill(2)), true],
    ['after a server packet or a first negotiation', vn([QUIC_V2]), false],
  ];
  for (const [what, datagram, canNegotiate] of cases) {
    const { calls, receiver } = fakeHost(canNegotiate);
    receiver.receiveDatagram(datagram, 'server', 5);
    assert.deepEqual(calls, [], what);
  }
});

test('a datagram ending with a reset token of the peer drains the connection; others do not', () => {
  const reset = new Uint8Array(40).fill(0x40);
  reset.set(RESET_TOKEN, reset.length - 16);
  const { calls, closes, receiver } = fakeHost();
  assert.equal(receiver.checkStatelessReset(reset, 9), true);
  assert.deepEqual(calls, ['drain@9']);
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
