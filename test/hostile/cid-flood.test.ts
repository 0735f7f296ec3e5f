/**
 * Issue 10, defect 2: one packet with 70 NEW_CONNECTION_ID frames, each retiring all before it
 * (sequence s, Retire Prior To s). The CID in use was deleted, the retirement bound threw before the
 * switch to a live CID, and every later packet threw a TypeError; the peer never got the
 * CONNECTION_CLOSE. Now: CONNECTION_ID_LIMIT_ERROR (RFC 9000 §5.1.2) reaches the peer, on the server
 * and on the client (both use PeerConnectionIds).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Connection, FrameTraceEvent } from '../../src/connection/connection.js';
import { TransportErrorCode } from '../../src/errors/transport-error.js';
import { type Frame, FrameType } from '../../src/wire/frames.js';
import { CLIENT_ADDRESS, QuicSim, SERVER_ADDRESS } from '../sim/quic-harness.js';
import { forge1Rtt, frameBytes, openDatagram } from './forge.js';

/** Sequence numbers above those the attacker's real connection already issued. */
function flood(count: number, first = 10): Frame[] {
  return Array.from({ length: count }, (_, i) => {
    const s = first + i;
    return {
      type: FrameType.NewConnectionId,
      sequenceNumber: s,
      retirePriorTo: s,
      connectionId: Uint8Array.of(0xf1, s, s >> 8, 0x99),
      statelessResetToken: new Uint8Array(16).fill(s & 0xff),
    };
  });
}

for (const side of ['server', 'client'] as const) {
  test(`${side}: 70 NEW_CONNECTION_ID retiring each other in one packet -> CONNECTION_CLOSE 0x09 on the wire`, () => {
    const trace: Array<{ conn: Connection; e: FrameTraceEvent }> = [];
    const sim = new QuicSim({
      seed: side === 'server' ? 1201 : 1202,
      trace: (conn, e) => trace.push({ conn, e }),
    });
    const conn = sim.dial();
    const server = sim.handshake(conn);
    const [attacker, victim, from, to] =
      side === 'server'
        ? [conn, server, CLIENT_ADDRESS, SERVER_ADDRESS]
        : [server, conn, SERVER_ADDRESS, CLIENT_ADDRESS];
    // What the victim sends from now on, decrypted with its own 1-RTT keys. The flood's CIDs are
    // 4 bytes long and are not routed to the attacker's endpoint: read them off the wire.
    const sentFrames: Frame[] = [];
    const keys = victim.oneRtt!.write;
    sim.net.onSend(({ from: f, datagram }) => {
      if (f !== to) return;
      for (const p of openDatagram(datagram, () => keys, 4)) sentFrames.push(...p.frames);
    });
    sim.net.inject(from, to, forge1Rtt(attacker, frameBytes(...flood(70))));
    sim.run(() => victim.isClosed, 10_000);
    sim.net.runFor(100);
    assert.equal(victim.closeInfo?.source, 'local');
    assert.equal(victim.closeInfo?.errorCode, TransportErrorCode.CONNECTION_ID_LIMIT_ERROR);
    // The peer gets a CONNECTION_CLOSE frame (not only a stateless reset a second later).
    const close = sentFrames.find((f) => f.type === FrameType.ConnectionCloseTransport);
    assert.ok(close && close.type === FrameType.ConnectionCloseTransport, 'CONNECTION_CLOSE sent');
    assert.equal(close.errorCode, TransportErrorCode.CONNECTION_ID_LIMIT_ERROR);
    assert.equal(close.frameType, FrameType.NewConnectionId);
    assert.equal(trace.length > 0, true);
    // The victim keeps working on a live CID: later packets do not throw.
    for (let i = 0; i < 20; i++) {
      sim.net.inject(from, to, forge1Rtt(attacker, frameBytes({ type: FrameType.Ping })));
    }
    sim.net.runFor(1_000);
    assert.deepEqual(victim.internalErrors, []);
    assert.deepEqual(attacker.internalErrors, []);
    // The CONNECTION_CLOSE went to one of the attacker's CIDs that is still active for the victim.
    assert.ok(victim.peerCids.cidFor(victim.peerCids.currentSequenceNumber));
  });
}
