/**
 * The recovery glue (connection-recovery.ts) driven through a fake RecoveryHost: what becomes of the
 * frames of acknowledged and lost packets (RFC 9000 §13.3) and which probes a PTO asks for
 * (RFC 9002 §6.2).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ConnectionRecovery,
  probeSpacing,
  type RecoveryHost,
} from '../../src/connection/connection-recovery.js';
import { PacketSpace } from '../../src/connection/packet-space.js';
import type { SentFrame, SentPacketPayload } from '../../src/connection/sent-frames.js';
import { TrafficCounters } from '../../src/connection/traffic-counters.js';
import { PacketNumberSpace, type SentPacket } from '../../src/recovery/types.js';
import { EncryptionLevel } from '../../src/tls/types.js';
import { FrameType } from '../../src/wire/frames.js';

type Timeout = ReturnType<RecoveryHost['lossDetector']['onLossDetectionTimeout']>;
type AckResult = ReturnType<RecoveryHost['lossDetector']['onAckReceived']>;
const ackResult = (newlyAcked: AckResult['newlyAcked'], lost: AckResult['lost']): AckResult => ({
  newlyAcked,
  lost,
  largestAckedNewlyAcked: newlyAcked.length > 0,
  rttSampled: false,
  persistentCongestion: false,
});
const ackFrame = (largest: number) => ({
  type: FrameType.Ack as const,
  ackDelay: 0,
  ranges: [{ largest, smallest: 0 }],
});

function fakeHost(role: 'client' | 'server' = 'client') {
  const log: string[] = [];
  const spaces = [
    new PacketSpace(PacketNumberSpace.Initial, 25),
    new PacketSpace(PacketNumberSpace.Handshake, 25),
    new PacketSpace(PacketNumberSpace.ApplicationData, 25),
  ] as const;
  let mtu = 1200;
  const host = {
    role,
    handshakeComplete: false,
    handshakeConfirmed: false,
    peerParams: undefined as { ackDelayExponent: number } | undefined,
    spaces,
    rtt: { smoothedRtt: 40 },
    nextTimeout: { lost: [], probe: undefined } as unknown as Timeout,
    nextAck: ackResult([], []),
    lossDetector: {
      discardPackets: () => [],
      onLossDetectionTimeout: () => host.nextTimeout,
      onAckReceived: (
        space: PacketNumberSpace,
        ranges: readonly { largest: number; smallest: number }[],
        ackDelay: number,
        now: number,
        _ecn: unknown,
        confirmed?: boolean,
      ) => {
        log.push(
          `ack ${PacketNumberSpace[space]} ${ranges[0]?.largest} delay ${ackDelay} @${now} confirmed ${confirmed}`,
        );
        return host.nextAck;
      },
      setPeerCompletedAddressValidation: () => log.push('peer-validated-address'),
    },
    oneRtt: { onPacketAcked: (pn: number, phase: number) => log.push(`1rtt-acked ${pn} ${phase}`) },
    epoch: undefined,
    peerCids: {
      onRetirementAcked: (seq: number) => log.push(`retire-acked ${seq}`),
    },
    mtu: {
      get current() {
        return mtu;
      },
      onProbeAcked: (size: number) => {
        mtu = Math.max(mtu, size);
      },
      onProbeLost: (size: number) => log.push(`probe-lost ${size}`),
    },
    congestion: { setMaxDatagramSize: (n: number) => log.push(`cc-size ${n}`) },
    pacer: { setMaxDatagramSize: (n: number) => log.push(`pacer-size ${n}`) },
    get maxDatagramSize() {
      return mtu;
    },
    counters: new TrafficCounters(),
    recoveryReporter: undefined,
    // The framer takes back the connection-level control frames (framer.test.ts tests what it does with them).
    framer: {
      onFrameLost: (f: SentFrame) => {
        if (f.kind === 'crypto' || f.kind === 'stream' || f.kind === 'ack') return false;
        log.push(`framer-lost ${f.kind}`);
        return true;
      },
    },
  };
  return { host, log, recovery: new ConnectionRecovery(host satisfies RecoveryHost) };
}

function packet(space: PacketNumberSpace, frames: SentFrame[], extra: Partial<SentPacketPayload> = {}) {
  const p: SentPacket<SentPacketPayload> = {
    packetNumber: 5,
    space,
    timeSent: 0,
    size: 1000,
    ackEliciting: true,
    inFlight: true,
    payload: { frames, zeroRtt: false, keyPhase: 1, ...extra },
  };
  return p;
}

test('lost frames are queued again with their owners; the loss is counted', () => {
  const { host, log, recovery } = fakeHost();
  const crypto = host.spaces[1].crypto;
  crypto.write(new Uint8Array(100));
  const chunk = crypto.nextChunk(1000);
  assert.ok(chunk);
  assert.equal(crypto.hasDataToSend(), false);
  const token = new Uint8Array([1, 2, 3]);
  recovery.onFramesLost(
    packet(PacketNumberSpace.Handshake, [
      { kind: 'crypto', level: EncryptionLevel.Handshake, offset: 0, length: 100 },
      { kind: 'handshake-done' },
      { kind: 'new-token', token },
      { kind: 'new-connection-id', sequenceNumber: 3 },
      { kind: 'retire-connection-id', sequenceNumber: 1 },
      { kind: 'ack', largestAcked: 9 },
    ]),
  );
  assert.equal(crypto.hasDataToSend(), true, 'CRYPTO data goes again');
  assert.deepEqual(log, [
    'framer-lost handshake-done',
    'framer-lost new-token',
    'framer-lost new-connection-id',
    'framer-lost retire-connection-id',
  ]);
  assert.deepEqual(
    { lost: host.counters.snapshot().packetsLost, bytes: host.counters.snapshot().bytesLost },
    { lost: 1, bytes: 1000 },
  );
});

test('a lost PMTU probe is not a loss of data; an acknowledged one raises the datagram size', () => {
  const { host, log, recovery } = fakeHost();
  recovery.onFramesLost(packet(PacketNumberSpace.ApplicationData, [], { pmtuProbe: 1400 }));
  assert.deepEqual(log, ['probe-lost 1400']);
  assert.equal(host.counters.snapshot().packetsLost, 0);
  log.length = 0;
  recovery.onFramesAcked(packet(PacketNumberSpace.ApplicationData, [], { pmtuProbe: 1400 }));
  assert.deepEqual(log, ['cc-size 1400', 'pacer-size 1400', '1rtt-acked 5 1']);
});

test('acknowledged 1-RTT packets confirm their key phase; 0-RTT and long-header ones do not', () => {
  const { log, recovery } = fakeHost();
  recovery.onFramesAcked(
    packet(PacketNumberSpace.ApplicationData, [{ kind: 'retire-connection-id', sequenceNumber: 2 }]),
  );
  recovery.onFramesAcked(packet(PacketNumberSpace.ApplicationData, [], { zeroRtt: true }));
  recovery.onFramesAcked(packet(PacketNumberSpace.Handshake, []));
  assert.deepEqual(log, ['retire-acked 2', '1rtt-acked 5 1']);
});

test('a PTO asks its space for probes; a client without the handshake also probes with an Initial', () => {
  const { host, recovery } = fakeHost('client');
  host.nextTimeout = { lost: [], probe: { space: PacketNumberSpace.ApplicationData, count: 2 } } as Timeout;
  recovery.onLossDetectionTimeout(0);
  // The second 1-RTT probe is owed an eighth of the smoothed RTT (40 ms) later.
  assert.equal(host.spaces[2].probesPending, 1);
  assert.equal(host.spaces[2].deferredProbeAt, 5);
  // RFC 9002 §6.2.2.1: the anti-deadlock probe of a client that has not completed the handshake.
  assert.equal(host.spaces[0].probesPending, 1);

  const server = fakeHost('server');
  server.host.nextTimeout = {
    lost: [],
    probe: { space: PacketNumberSpace.ApplicationData, count: 1 },
  } as Timeout;
  server.recovery.onLossDetectionTimeout(0);
  assert.equal(server.host.spaces[0].probesPending, 0, 'a server sends no Initial probe for 1-RTT');

  const done = fakeHost('client');
  done.host.handshakeComplete = true;
  done.host.nextTimeout = {
    lost: [],
    probe: { space: PacketNumberSpace.ApplicationData, count: 1 },
  } as Timeout;
  done.recovery.onLossDetectionTimeout(0);
  assert.equal(done.host.spaces[0].probesPending, 0);
});

test('a 1-RTT PTO round: the second probe owed from probeSpacing() on, and not at all once an ACK of something new came', () => {
  const { host, recovery } = fakeHost('client');
  host.handshakeComplete = true;
  host.handshakeConfirmed = true;
  host.nextTimeout = { lost: [], probe: { space: PacketNumberSpace.ApplicationData, count: 2 } } as Timeout;
  recovery.onLossDetectionTimeout(100);
  const app = host.spaces[2];
  assert.equal(app.probesPending, 1);
  assert.equal(app.deferredProbeAt, 100 + probeSpacing(40));
  app.releaseDeferredProbe(104.9);
  assert.equal(app.probesPending, 1, 'not before its time');
  app.releaseDeferredProbe(105);
  assert.equal(app.probesPending, 2);
  assert.equal(app.deferredProbeAt, undefined);

  // The next round: the ACK of its first probe comes before the second is due.
  recovery.onLossDetectionTimeout(200);
  assert.equal(app.deferredProbeAt, 205);
  host.nextAck = ackResult([packet(PacketNumberSpace.ApplicationData, [])], []);
  recovery.onAckFrame(PacketNumberSpace.ApplicationData, ackFrame(7), 201);
  assert.equal(app.deferredProbeAt, undefined, 'the round is over');
  app.releaseDeferredProbe(205);
  assert.equal(app.probesPending, 2, 'nothing more is owed');

  // An ACK of nothing new leaves the round as it is.
  recovery.onLossDetectionTimeout(300);
  host.nextAck = ackResult([], []);
  recovery.onAckFrame(PacketNumberSpace.ApplicationData, ackFrame(7), 301);
  assert.equal(app.deferredProbeAt, 305);

  // Handshake rounds send both probes at once (their peers acknowledge Handshake packets at once).
  host.nextTimeout = { lost: [], probe: { space: PacketNumberSpace.Handshake, count: 2 } } as Timeout;
  recovery.onLossDetectionTimeout(400);
  assert.equal(host.spaces[1].probesPending, 2);
  assert.equal(host.spaces[1].deferredProbeAt, undefined);
});

test('probeSpacing: an eighth of the smoothed RTT, at least the timer granularity (1 ms)', () => {
  assert.equal(probeSpacing(40), 5);
  assert.equal(probeSpacing(4), 1);
  assert.equal(probeSpacing(0.2), 1);
});

test('a Handshake PTO sends the unacknowledged CRYPTO data again (RFC 9002 §6.2.4)', () => {
  const { host, recovery } = fakeHost('server');
  const crypto = host.spaces[1].crypto;
  crypto.write(new Uint8Array(50));
  assert.ok(crypto.nextChunk(1000));
  host.nextTimeout = { lost: [], probe: { space: PacketNumberSpace.Handshake, count: 1 } } as Timeout;
  recovery.onLossDetectionTimeout(0);
  assert.equal(host.spaces[1].probesPending, 1);
  assert.equal(crypto.hasDataToSend(), true);
});

test('an ACK frame: its delay scaled by the exponent of its space, then acked and lost frames, in order', () => {
  const { host, log, recovery } = fakeHost('client');
  host.peerParams = { ackDelayExponent: 5 };
  host.handshakeConfirmed = true;
  const ack = (largest: number) => ({
    type: FrameType.Ack as const,
    ackDelay: 1000,
    ranges: [{ largest, smallest: 0 }],
  });
  host.nextAck = ackResult(
    [packet(PacketNumberSpace.ApplicationData, [{ kind: 'retire-connection-id', sequenceNumber: 4 }])],
    [packet(PacketNumberSpace.ApplicationData, [{ kind: 'handshake-done' }])],
  );
  recovery.onAckFrame(PacketNumberSpace.ApplicationData, ack(7), 50);
  // RFC 9000 §19.3: ack delay x 2^ack_delay_exponent microseconds; the 1-RTT space uses the peer's.
  assert.deepEqual(log, [
    'ack ApplicationData 7 delay 32 @50 confirmed true',
    'retire-acked 4',
    '1rtt-acked 5 1',
    'framer-lost handshake-done',
  ]);
  log.length = 0;
  host.nextAck = ackResult([], []);
  // RFC 9002 §5.3: Initial's ack delay is ignored; Handshake uses the default exponent 3.
  recovery.onAckFrame(PacketNumberSpace.Initial, ack(1), 60);
  recovery.onAckFrame(PacketNumberSpace.Handshake, ack(2), 70);
  assert.deepEqual(log, [
    'ack Initial 1 delay 0 @60 confirmed true',
    'ack Handshake 2 delay 8 @70 confirmed true',
    // RFC 9002 §6.2.2.1: a Handshake ACK tells the client the server validated its address.
    'peer-validated-address',
  ]);
  const server = fakeHost('server');
  server.recovery.onAckFrame(PacketNumberSpace.Handshake, ack(2), 70);
  assert.deepEqual(server.log, ['ack Handshake 2 delay 8 @70 confirmed false']);
});
