/**
 * NAT rebinding and probing packets (RFC 9000 §9, §9.3, §9.4, §8.2): the client's address changes
 * under a running download without the client knowing. The server follows it on the next non-probing
 * packet, sends at most 3x what it received there until PATH_CHALLENGE/PATH_RESPONSE validate the new
 * address, and the download completes byte-exact. Congestion control and RTT are kept for a port
 * change (likely NAT rebinding) and start again for a new IP address. A packet with only probing
 * frames, or an older non-probing packet, from another address is answered there at most, and moves
 * nothing.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PathValidator } from '../../src/connection/path-validator.js';
import { initialWindow } from '../../src/recovery/congestion-base.js';
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

const REBOUND_PORT = '10.0.0.2:50001';
const NEW_HOST = '10.0.0.3:50000';

interface Rebinding {
  /** Bytes the new address sent / was sent before its validation, checked at every send. */
  received: number;
  sent: number;
  violations: string[];
  /** Server recovery state right after the new address was validated. */
  atValidation?: { hasRttSample: boolean; cwnd: number; initialCwnd: number; mtu: number };
  /** The datagram size the server used on the old path, when the client moved. */
  mtuBefore: number;
}

/** Moves the client to `to` once the server has sent `after` bytes. */
function rebindDuring(run: PathRun, to: string, after: number): Rebinding {
  const r: Rebinding = { received: 0, sent: 0, violations: [], mtuBefore: 0 };
  let validated = false;
  let scheduled = false;
  run.sim.net.onSend((e) => {
    if (!scheduled && e.from === SERVER_ADDRESS && serverBytesSent(run) >= after) {
      scheduled = true;
      r.mtuBefore = run.server().maxDatagramSize;
      run.sim.net.at(run.sim.now, () => run.sim.rebindClient(to, { up: { delay: 20 }, down: { delay: 20 } }));
    }
    validated ||= run.serverEvents.some((ev) => ev.type === 'validated' && ev.address === to);
    if (validated) return;
    if (e.from === to) r.received += e.datagram.length;
    if (e.from === SERVER_ADDRESS && e.to === to) {
      r.sent += e.datagram.length;
      if (r.sent > 3 * r.received) r.violations.push(`sent ${r.sent} > 3 x ${r.received}`);
    }
  });
  run.sim.appHooks.push(() => {
    if (r.atValidation || !run.serverEvents.some((ev) => ev.type === 'validated' && ev.address === to))
      return;
    const s = run.server();
    r.atValidation = {
      hasRttSample: s.rtt.hasSample,
      cwnd: s.congestion.congestionWindow,
      initialCwnd: initialWindow(s.maxDatagramSize),
      mtu: s.maxDatagramSize,
    };
  });
  return r;
}

describe('NAT rebinding in the middle of a download (RFC 9000 §9.3)', () => {
  test('a new port: validated with PATH_CHALLENGE/PATH_RESPONSE, 3x limit until then, byte-exact', () => {
    withSimSeed(simSeed(3200), (seed) => {
      const run = startDownload(seed, 4 * 1024 * KiB);
      const r = rebindDuring(run, REBOUND_PORT, 1024 * KiB);
      run.finish();
      const events = run.serverEvents.map(({ t: _t, ...e }) => e);
      assert.deepEqual(events.slice(0, 4), [
        { type: 'migrated', from: CLIENT_ADDRESS, to: REBOUND_PORT },
        { type: 'validation-started', address: REBOUND_PORT, reason: 'migration' },
        { type: 'validation-started', address: CLIENT_ADDRESS, reason: 'old-path' },
        { type: 'validated', address: REBOUND_PORT, reason: 'migration' },
      ]);
      assert.equal(run.server().remoteAddress, REBOUND_PORT);
      assert.ok(run.sentFrames.server.includes(FrameType.PathChallenge));
      assert.ok(run.sentFrames.client.includes(FrameType.PathResponse));
      assert.deepEqual(r.violations, []);
      assert.ok(r.received > 0 && r.sent > 0);
      // RFC 9000 §9.4: only the port changed: congestion control and RTT carry on.
      assert.ok(r.atValidation, 'validated during the download');
      assert.equal(r.atValidation.hasRttSample, true);
      assert.notEqual(r.atValidation.cwnd, r.atValidation.initialCwnd);
    });
  });

  test('a new IP address: congestion control, RTT and the path MTU start again once validated (§9.4)', () => {
    withSimSeed(simSeed(3201), (seed) => {
      const run = startDownload(seed, 4 * 1024 * KiB);
      const r = rebindDuring(run, NEW_HOST, 1024 * KiB);
      run.finish();
      assert.ok(run.serverEvents.some((e) => e.type === 'validated' && e.address === NEW_HOST));
      assert.equal(run.server().remoteAddress, NEW_HOST);
      assert.deepEqual(r.violations, []);
      assert.ok(r.atValidation, 'validated during the download');
      assert.equal(r.atValidation.hasRttSample, false);
      assert.equal(r.atValidation.cwnd, r.atValidation.initialCwnd);
      assert.ok(r.mtuBefore > run.server().options.maxDatagramSize, `PMTU ${r.mtuBefore} on the old path`);
      assert.equal(r.atValidation.mtu, run.server().options.maxDatagramSize);
    });
  });
});

describe('after a migration the new path is a full path again (RFC 9002 §6.2.2.1, RFC 9000 §8.2)', () => {
  test('a tail loss on the validated new path is repaired by the server\u2019s PTO, not the idle timeout', () => {
    // While the new address is unvalidated the server is held to 3x what it received there, which
    // leaves less than one datagram of allowance after each of the client's small ACK-only packets.
    // Once PATH_RESPONSE (and the padded MTU check, §8.2.1) validate the address that limit is gone,
    // and so must be the loss detector's "amplification blocked" state: otherwise the server arms no
    // PTO and a lost tail stalls the download until the idle timeout closes the connection.
    withSimSeed(simSeed(3202), (seed) => {
      const run = startDownload(seed, 4 * 1024 * KiB);
      rebindDuring(run, REBOUND_PORT, 1024 * KiB);
      let blackholeFrom: number | undefined;
      run.sim.appHooks.push(() => {
        if (blackholeFrom !== undefined) return;
        const path = run.server().paths.current;
        if (path.address !== REBOUND_PORT || !path.validated || !path.mtuValidated || path.validator) return;
        // Everything the server sends for the next 300 ms is lost, the tail included. Nothing is
        // left for the client to send and no path validation is running: only a PTO brings the
        // download back.
        blackholeFrom = run.sim.now;
        run.sim.net.setLink(SERVER_ADDRESS, REBOUND_PORT, {
          mtu: 1472,
          delay: 20,
          blackholes: [{ start: blackholeFrom, end: blackholeFrom + 300 }],
        });
      });
      run.finish(10_000);
      assert.ok(blackholeFrom !== undefined, 'the new address was validated during the download');
      assert.equal(run.server().remoteAddress, REBOUND_PORT);
    });
  });
});

describe('probing packets and reordered packets from another address move nothing (RFC 9000 §9.1, §9.3)', () => {
  test('a PATH_CHALLENGE-only packet from a new address is answered there; the connection stays', () => {
    withSimSeed(simSeed(3202), (seed) => {
      const PROBER = '10.0.0.2:50002';
      const run = startDownload(seed, 2 * 1024 * KiB);
      let copied = 0;
      let armed = false;
      run.sim.net.onSend((e) => {
        if (armed && e.from === CLIENT_ADDRESS) {
          // The client's next datagram is its PATH_CHALLENGE probe: a copy arrives first from PROBER.
          armed = false;
          copied = e.datagram.length;
          run.sim.net.inject(PROBER, SERVER_ADDRESS, e.datagram, run.sim.now);
        }
        if (copied === 0 && !armed && e.from === SERVER_ADDRESS && serverBytesSent(run) >= 300 * KiB) {
          armed = true;
          // Make the client validate its path: it sends a packet with only PATH_CHALLENGE (and padding).
          run.sim.net.at(run.sim.now, () => {
            run.conn.paths.current.startValidation(
              new PathValidator('old-path', run.sim.now, 60_000, 120_000),
            );
          });
        }
      });
      run.finish();
      assert.ok(copied > 0);
      assert.equal(run.serverEvents.filter((e) => e.type === 'migrated').length, 0);
      assert.equal(run.server().remoteAddress, CLIENT_ADDRESS);
      // One PATH_RESPONSE datagram went to the prober, expanded to 1200 bytes (§8.2.2), within 3x.
      assert.equal(run.serverBytesTo.get(PROBER), 1200);
      assert.ok(1200 <= 3 * copied);
      assert.ok(run.sentFrames.server.includes(FrameType.PathResponse));
    });
  });

  test('an older non-probing packet from a new address (reordered) does not move the connection', () => {
    withSimSeed(simSeed(3203), (seed) => {
      const LATE = '10.0.0.2:50003';
      const run = startDownload(seed, 2 * 1024 * KiB);
      let held: Uint8Array | undefined;
      let sentAfter = 0;
      // Take one 1-RTT datagram of the client off the wire and deliver it 60 ms late, from LATE,
      // after packets with higher numbers arrived from the client's address.
      run.sim.net.setLink(CLIENT_ADDRESS, SERVER_ADDRESS, {
        mtu: 1472,
        delay: 20,
        lossIf: ({ datagram }) => {
          if (held || serverBytesSent(run) < 300 * KiB || (datagram[0]! & 0x80) !== 0) return false;
          held = datagram;
          run.sim.net.inject(LATE, SERVER_ADDRESS, datagram, run.sim.now + 60);
          return true;
        },
      });
      run.sim.net.onSend((e) => {
        if (held && e.from === CLIENT_ADDRESS) sentAfter++;
      });
      run.finish();
      assert.ok(held, 'a datagram was held back');
      assert.ok(sentAfter > 3, 'newer packets went out meanwhile');
      assert.equal(run.serverEvents.filter((e) => e.type === 'migrated').length, 0);
      assert.equal(run.serverBytesTo.get(LATE) ?? 0, 0);
    });
  });
});
