/**
 * Issue 10, defect 3: a copy of the client's newest 1-RTT packet, sent from a spoofed address so that
 * it reaches the server before the original, made the server stream 806 KB to that address (5,008x
 * what the attacker sent) without a PATH_CHALLENGE. RFC 9000 §9.3.1-§9.3.3: the server may follow
 * the packet, but sends the unvalidated address at most three times what it received from it,
 * validates it with PATH_CHALLENGE, probes the old path too, and goes back to the last validated
 * path when validation fails; the genuine path keeps working. RFC 9000 §9: a client discards packets
 * from an address its server is not at.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_TRANSPORT_OPTIONS } from '../../src/connection/connection-options.js';
import { simSeed, withSimSeed } from './network.js';
import {
  CLIENT_ADDRESS,
  FrameType,
  KiB,
  type PathRun,
  SERVER_ADDRESS,
  serverBytesSent,
  startDownload,
} from './path-harness.js';

const ATTACKER = '10.6.6.6:6666';
const ROGUE_SERVER = '10.0.0.66:4433';

/** Once the server has sent `after` bytes, copy the client's next 1-RTT datagram and deliver it from `ATTACKER` first. */
function attackOnce(run: PathRun, after: number, onAttack?: (now: number) => void): { bytes: number } {
  const attack = { bytes: 0 };
  run.sim.net.onSend((e) => {
    if (attack.bytes > 0 || e.from !== CLIENT_ADDRESS || e.to !== SERVER_ADDRESS) return;
    if (serverBytesSent(run) < after || (e.datagram[0]! & 0x80) !== 0) return;
    attack.bytes = e.datagram.length;
    // The original takes 20 ms; the copy arrives now.
    run.sim.net.inject(ATTACKER, SERVER_ADDRESS, e.datagram, run.sim.now);
    onAttack?.(run.sim.now);
  });
  return attack;
}

describe('a spoofed copy of the client\u2019s newest 1-RTT packet (RFC 9000 §9.3)', () => {
  test('the spoofed address gets at most 3x what it sent, is challenged, and the download completes', () => {
    withSimSeed(simSeed(3100), (seed) => {
      const run = startDownload(seed, 2 * 1024 * KiB);
      const attack = attackOnce(run, 300 * KiB);
      run.finish();
      assert.ok(attack.bytes > 0, 'the attack ran');
      const toAttacker = run.serverBytesTo.get(ATTACKER) ?? 0;
      assert.ok(
        toAttacker <= 3 * attack.bytes,
        `the server sent ${toAttacker} bytes to the spoofed address, which sent ${attack.bytes}`,
      );
      const events = run.serverEvents.map((e) => ({ ...e, t: undefined }));
      // It followed the packet, validated the new address and probed the old path (§9.3.3) ...
      assert.deepEqual(events.slice(0, 3), [
        { type: 'migrated', from: CLIENT_ADDRESS, to: ATTACKER, t: undefined },
        { type: 'validation-started', address: ATTACKER, reason: 'migration', t: undefined },
        { type: 'validation-started', address: CLIENT_ADDRESS, reason: 'old-path', t: undefined },
      ]);
      // ... and the genuine client, answering on the old path, moved it back.
      assert.ok(
        events.some((e) => e.type === 'migrated' && e.from === ATTACKER && e.to === CLIENT_ADDRESS),
        JSON.stringify(events),
      );
      assert.equal(run.server().remoteAddress, CLIENT_ADDRESS);
      assert.ok(toAttacker > 0, 'a PATH_CHALLENGE went to the spoofed address');
      assert.ok(run.sentFrames.server.filter((t) => t === FrameType.PathChallenge).length >= 2);
      assert.ok(run.sentFrames.client.includes(FrameType.PathResponse));
      // The spoofed path's connection ID was retired: the attacker's path is not linked to the new one.
      assert.ok(run.sentFrames.server.includes(FrameType.RetireConnectionId));
    });
  });

  test('validation of the spoofed address fails: the server reverts to the last validated path (§9.3.2)', () => {
    withSimSeed(simSeed(3101), (seed) => {
      const run = startDownload(seed, 1024 * KiB);
      let attackAt = 0;
      const BLACKOUT = 6000;
      // The client cannot answer for 6 s (its packets to the server are lost): only the validation
      // timer can bring the server back.
      const attack = attackOnce(run, 300 * KiB, (now) => {
        attackAt = now - run.sim.net.startTime;
        run.sim.net.setLink(CLIENT_ADDRESS, SERVER_ADDRESS, {
          mtu: 1472,
          delay: 20,
          blackholes: [{ start: now, end: now + BLACKOUT }],
        });
      });
      let addressAtRevert: string | undefined;
      run.sim.appHooks.push(() => {
        if (addressAtRevert === undefined && run.serverEvents.some((e) => e.type === 'reverted')) {
          addressAtRevert = run.server().remoteAddress;
        }
      });
      run.finish();
      const failed = run.serverEvents.find((e) => e.type === 'validation-failed' && e.address === ATTACKER);
      const reverted = run.serverEvents.find((e) => e.type === 'reverted');
      assert.ok(failed, JSON.stringify(run.serverEvents));
      assert.deepEqual(
        { ...reverted, t: undefined },
        { type: 'reverted', from: ATTACKER, to: CLIENT_ADDRESS, t: undefined },
      );
      // RFC 9000 §8.2.4: three times the larger of the PTO and a new path's PTO (from the initial
      // RTT: rtt + 4 * rtt / 2 + max_ack_delay).
      const { initialRtt } = DEFAULT_TRANSPORT_OPTIONS;
      const newPathPto = 3 * initialRtt + 25;
      const after = reverted!.t - attackAt;
      assert.ok(after >= 3 * newPathPto && after < BLACKOUT, `reverted ${after} ms after the attack`);
      assert.equal(addressAtRevert, CLIENT_ADDRESS);
      const toAttacker = run.serverBytesTo.get(ATTACKER) ?? 0;
      assert.ok(toAttacker <= 3 * attack.bytes, `${toAttacker} bytes to the attacker for ${attack.bytes}`);
      assert.equal(run.server().remoteAddress, CLIENT_ADDRESS);
    });
  });
});

describe('a client and packets from an unknown server address (RFC 9000 §9)', () => {
  test('a copy of the server\u2019s packet from another address is discarded, the download completes', () => {
    withSimSeed(simSeed(3102), (seed) => {
      const run = startDownload(seed, 1024 * KiB);
      let injected = 0;
      let clientToRogue = 0;
      run.sim.net.onSend((e) => {
        if (e.to === ROGUE_SERVER) clientToRogue += e.datagram.length;
        if (injected > 0 || e.from !== SERVER_ADDRESS || serverBytesSent(run) < 200 * KiB) return;
        if ((e.datagram[0]! & 0x80) !== 0) return;
        injected = e.datagram.length;
        run.sim.net.inject(ROGUE_SERVER, CLIENT_ADDRESS, e.datagram, run.sim.now);
      });
      run.finish();
      assert.ok(injected > 0, 'the copy was delivered');
      assert.equal(clientToRogue, 0, 'the client sent nothing to the rogue address');
      assert.equal(run.conn.remoteAddress, SERVER_ADDRESS);
      // Everything the connection read came from the server's address: the copy was not read.
      const fromServer = run.sim.net.linkStats(SERVER_ADDRESS, CLIENT_ADDRESS).bytesDelivered;
      assert.equal(run.conn.snapshotStats().bytesReceived, fromServer);
    });
  });
});
