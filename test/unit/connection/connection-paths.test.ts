/**
 * ConnectionPaths, PathValidator and Path alone, with a fake connection (RFC 9000 §8.1, §8.2, §9).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ConnectionPaths,
  type PathConnectionIds,
  type PathEvent,
  type PathsHost,
} from '../../../src/connection/connection-paths.js';
import { Path, sameHost } from '../../../src/connection/path.js';
import { PathValidator } from '../../../src/connection/path-validator.js';

const CLIENT = '192.0.2.1:5000';
const REBOUND = '192.0.2.1:5001';
const OTHER = '198.51.100.7:5000';
const SPOOFED = '203.0.113.9:666';

class FakeCids implements PathConnectionIds {
  currentSequenceNumber = 0;
  readonly active = new Set<number>([0]);
  readonly retired: number[] = [];
  cidFor(seq: number): Uint8Array | undefined {
    return this.active.has(seq) ? Uint8Array.of(seq) : undefined;
  }
  unusedSequenceNumber(inUse: ReadonlySet<number>): number | undefined {
    return [...this.active].sort((a, b) => a - b).find((s) => !inUse.has(s));
  }
  use(seq: number): void {
    this.currentSequenceNumber = seq;
  }
  retire(seq: number): void {
    this.active.delete(seq);
    this.retired.push(seq);
  }
}

interface Fixture {
  paths: ConnectionPaths;
  cids: FakeCids;
  events: PathEvent[];
  newPaths: boolean[];
  closed: string[];
  challenges: number;
}

const PTO = 100;
const INITIAL_PTO = 1000;

function fixture(role: 'client' | 'server' = 'server', spareCids = 2): Fixture {
  const cids = new FakeCids();
  for (let i = 1; i <= spareCids; i++) cids.active.add(i);
  const f: Fixture = {
    paths: undefined as unknown as ConnectionPaths,
    cids,
    events: [],
    newPaths: [],
    closed: [],
    challenges: 0,
  };
  const host: PathsHost = {
    role,
    random: (n) => {
      f.challenges++;
      return new Uint8Array(n).fill(f.challenges);
    },
    cids,
    ptoPeriod: () => PTO,
    initialPtoPeriod: () => INITIAL_PTO,
    onNewPathValidated: (portOnly) => f.newPaths.push(portOnly),
    closeSilently: (reason) => f.closed.push(reason),
    trace: (e) => f.events.push(e),
  };
  f.paths = new ConnectionPaths(host, CLIENT, true);
  return f;
}

/** Send the challenge `path` has due, as the sender would; returns its data. */
function sendChallenge(f: Fixture, path: Path, now: number, padded = true): Uint8Array {
  assert.ok(path.validator?.challengeDue, `a challenge is due on ${path.address}`);
  const data = f.paths.newChallengeData();
  path.validator.onChallengeSent(data, padded, now);
  return data;
}

describe('Path', () => {
  test('an unvalidated path may be sent 3x what it received; a validated one anything', () => {
    const p = new Path(CLIENT, false);
    assert.equal(p.allowance, 0);
    p.onDatagramReceived(100);
    assert.equal(p.allowance, 300);
    p.onDatagramSent(250);
    assert.equal(p.allowance, 50);
    p.onDatagramSent(100);
    assert.equal(p.allowance, 0);
    p.markValidated(false);
    assert.equal(p.allowance, Number.POSITIVE_INFINITY);
    assert.equal(p.mtuValidated, false);
    p.markValidated(true);
    assert.equal(p.mtuValidated, true);
  });

  test('PATH_RESPONSE data is owed once per challenge, at most 4 queued', () => {
    const p = new Path(CLIENT, true);
    for (let i = 0; i < 6; i++) p.queueResponse(Uint8Array.of(i));
    const got: number[] = [];
    for (let d = p.takeResponse(); d; d = p.takeResponse()) got.push(d[0]!);
    assert.deepEqual(got, [0, 1, 2, 3]);
    assert.equal(p.hasResponses, false);
  });

  test('sameHost: a port-only change', () => {
    assert.equal(sameHost('192.0.2.1:1', '192.0.2.1:2'), true);
    assert.equal(sameHost('192.0.2.1:1', '192.0.2.2:1'), false);
    assert.equal(sameHost('[2001:db8::1]:443', '[2001:db8::1]:8443'), true);
    assert.equal(sameHost('[2001:db8::1]:443', '[2001:db8::2]:443'), false);
  });
});

describe('PathValidator (RFC 9000 §8.2)', () => {
  test('challenges are resent every interval until the deadline; a matching response is found', () => {
    const v = new PathValidator('migration', 0, 1000, 3000);
    assert.equal(v.challengeDue, true);
    assert.equal(v.nextTimeout(), 3000);
    v.onChallengeSent(Uint8Array.of(1, 1, 1, 1, 1, 1, 1, 1), false, 0);
    assert.equal(v.challengeDue, false);
    assert.equal(v.nextTimeout(), 1000);
    assert.equal(v.onTimeout(999), undefined);
    assert.equal(v.challengeDue, false);
    assert.equal(v.onTimeout(1000), undefined);
    assert.equal(v.challengeDue, true);
    v.onChallengeSent(Uint8Array.of(2, 2, 2, 2, 2, 2, 2, 2), true, 1000);
    assert.deepEqual(v.match(Uint8Array.of(1, 1, 1, 1, 1, 1, 1, 1)), { padded: false });
    assert.deepEqual(v.match(Uint8Array.of(2, 2, 2, 2, 2, 2, 2, 2)), { padded: true });
    assert.equal(v.match(Uint8Array.of(3, 3, 3, 3, 3, 3, 3, 3)), undefined);
    assert.equal(v.onTimeout(3000), 'failed');
  });
});

describe('ConnectionPaths', () => {
  test('a client discards datagrams from any address but its server\u2019s (RFC 9000 §9)', () => {
    const f = fixture('client');
    assert.equal(f.paths.onDatagramReceived(CLIENT, 100), true);
    assert.equal(f.paths.onDatagramReceived(OTHER, 100), false);
    f.paths.onPacket(OTHER, 10, true, true, 0);
    assert.equal(f.paths.current.address, CLIENT);
    assert.deepEqual(f.events, []);
  });

  test('the highest-numbered non-probing packet from a new address migrates, with validation and 3x limit', () => {
    const f = fixture();
    f.paths.onDatagramReceived(CLIENT, 1000);
    f.paths.onPacket(CLIENT, 5, true, true, 0);
    f.paths.onDatagramReceived(SPOOFED, 40);
    f.paths.onPacket(SPOOFED, 6, true, true, 0);
    const now = f.paths.current;
    assert.equal(now.address, SPOOFED);
    assert.equal(now.validated, false);
    assert.equal(now.allowance, 120);
    assert.deepEqual(f.events, [
      { type: 'migrated', from: CLIENT, to: SPOOFED },
      { type: 'validation-started', address: SPOOFED, reason: 'migration' },
      // RFC 9000 §9.3.3: the old path is probed too.
      { type: 'validation-started', address: CLIENT, reason: 'old-path' },
    ]);
    // A connection ID of its own for the new path (RFC 9000 §9.5).
    assert.equal(f.cids.currentSequenceNumber, 1);
    assert.equal(f.paths.get(CLIENT)?.cidSequence, 0);
    // Both paths have a challenge to send.
    assert.equal(f.paths.nextProbe(64)?.address, CLIENT);
    assert.equal(now.validator?.challengeDue, true);
    // §8.2.4: the validation timer is 3 x max(PTO, a new path's PTO).
    assert.equal(now.validator?.deadline, 3 * INITIAL_PTO);
  });

  test('probing packets, older packets and packets before handshake confirmation do not migrate', () => {
    const f = fixture();
    f.paths.onPacket(CLIENT, 10, true, true, 0);
    f.paths.onDatagramReceived(OTHER, 1200);
    f.paths.onPacket(OTHER, 11, false, true, 0); // probing only
    f.paths.onPacket(OTHER, 9, true, true, 0); // older than 10
    assert.equal(f.paths.current.address, CLIENT);
    const g = fixture();
    g.paths.onPacket(OTHER, 11, true, false, 0); // handshake not confirmed
    assert.equal(g.paths.current.address, CLIENT);
    assert.deepEqual([...f.events, ...g.events], []);
  });

  test('a PATH_CHALLENGE from a new address is answered on that path, within its 3x limit', () => {
    const f = fixture();
    f.paths.onDatagramReceived(OTHER, 30);
    f.paths.onChallenge(OTHER, Uint8Array.of(7, 7, 7, 7, 7, 7, 7, 7));
    // 90 bytes allowed: enough for a 64-byte probe datagram, not for 100.
    assert.equal(f.paths.nextProbe(100), undefined);
    const p = f.paths.nextProbe(64);
    assert.equal(p?.address, OTHER);
    assert.deepEqual(p.takeResponse(), Uint8Array.of(7, 7, 7, 7, 7, 7, 7, 7));
    // It gets a spare connection ID, not the current path's (§9.5).
    assert.deepEqual(f.paths.dcidFor(p), Uint8Array.of(1));
    f.paths.afterProbe(p);
    assert.equal(f.paths.get(OTHER), undefined, 'nothing left to do there: forgotten');
    assert.deepEqual(f.cids.retired, [1]);
    assert.equal(f.paths.current.address, CLIENT);
  });

  test('NAT rebinding: validated by PATH_RESPONSE, recovery state kept for a port change (§9.4)', () => {
    const f = fixture();
    f.paths.onDatagramReceived(REBOUND, 50);
    f.paths.onPacket(REBOUND, 1, true, true, 0);
    const data = sendChallenge(f, f.paths.current, 0, false);
    f.paths.onResponse(data, 40);
    assert.equal(f.paths.current.validated, true);
    assert.deepEqual(f.newPaths, [true]);
    // The challenge went in a small datagram: the MTU is checked with a second one (§8.2.1).
    assert.equal(f.paths.current.validator?.reason, 'mtu');
    f.paths.onResponse(sendChallenge(f, f.paths.current, 40, true), 80);
    assert.equal(f.paths.current.validator, undefined);
    assert.equal(f.paths.current.mtuValidated, true);
    // The old path's probe times out: it is forgotten and its connection ID retired.
    f.paths.handleTimeout(3 * INITIAL_PTO);
    assert.equal(f.paths.get(CLIENT), undefined);
    assert.deepEqual(f.cids.retired, [0]);
    assert.equal(f.paths.current.address, REBOUND);
    const g = fixture();
    g.paths.onDatagramReceived(OTHER, 50);
    g.paths.onPacket(OTHER, 1, true, true, 0);
    g.paths.onResponse(sendChallenge(g, g.paths.current, 0), 40);
    assert.deepEqual(g.newPaths, [false], 'a new IP address: reset');
  });

  test('failed validation reverts to the last validated path (§9.3.2); a later response changes nothing', () => {
    const f = fixture();
    f.paths.onDatagramReceived(SPOOFED, 40);
    f.paths.onPacket(SPOOFED, 3, true, true, 0);
    const data = sendChallenge(f, f.paths.current, 0, false);
    assert.equal(f.paths.nextTimeout(), INITIAL_PTO);
    f.paths.handleTimeout(INITIAL_PTO);
    assert.equal(f.paths.current.validator?.challengeDue, true, 'resent after a PTO');
    f.paths.handleTimeout(3 * INITIAL_PTO);
    assert.equal(f.paths.current.address, CLIENT);
    assert.equal(f.cids.currentSequenceNumber, 0);
    assert.deepEqual(f.cids.retired, [1]);
    assert.deepEqual(f.events.slice(-2), [
      { type: 'validation-failed', address: SPOOFED, reason: 'migration' },
      { type: 'reverted', from: SPOOFED, to: CLIENT },
    ]);
    f.paths.onResponse(data, 3 * INITIAL_PTO + 1);
    assert.equal(f.paths.current.address, CLIENT);
    assert.deepEqual(f.closed, []);
  });

  test('back to the validated path on a newer packet: no validation, the spoofed path is abandoned', () => {
    const f = fixture();
    f.paths.onDatagramReceived(SPOOFED, 40);
    f.paths.onPacket(SPOOFED, 3, true, true, 0);
    f.paths.onDatagramReceived(CLIENT, 40);
    f.paths.onPacket(CLIENT, 4, true, true, 10);
    assert.equal(f.paths.current.address, CLIENT);
    assert.equal(f.paths.current.validated, true);
    assert.equal(f.paths.get(SPOOFED), undefined);
    assert.deepEqual(f.cids.retired, [1]);
    assert.equal(f.cids.currentSequenceNumber, 0);
    assert.deepEqual(f.events.slice(3), [
      { type: 'migrated', from: SPOOFED, to: CLIENT },
      { type: 'validation-abandoned', address: SPOOFED, reason: 'migration' },
    ]);
    assert.deepEqual(f.newPaths, []);
  });

  test('without a spare connection ID the current one is used on the new path', () => {
    const f = fixture('server', 0);
    f.paths.onDatagramReceived(REBOUND, 50);
    f.paths.onPacket(REBOUND, 1, true, true, 0);
    assert.equal(f.paths.current.address, REBOUND);
    assert.equal(f.cids.currentSequenceNumber, 0);
    assert.deepEqual(f.paths.dcidFor(f.paths.current), Uint8Array.of(0));
    // The old path shares it: probing it sends with the same connection ID, none is retired.
    assert.deepEqual(f.paths.dcidFor(f.paths.get(CLIENT)!), Uint8Array.of(0));
    f.paths.handleTimeout(3 * INITIAL_PTO);
    assert.deepEqual(f.cids.retired, []);
  });

  test('at most 4 paths are remembered: the oldest spare one makes room', () => {
    const f = fixture();
    for (let i = 0; i < 10; i++) {
      const a = `198.51.100.${i}:1`;
      f.paths.onDatagramReceived(a, 100);
      f.paths.onChallenge(a, Uint8Array.of(i, 0, 0, 0, 0, 0, 0, 0));
    }
    const addresses = f.paths.all().map((p) => p.address);
    assert.equal(addresses.length, 4);
    assert.ok(addresses.includes(CLIENT));
    assert.deepEqual(addresses.slice(1), ['198.51.100.7:1', '198.51.100.8:1', '198.51.100.9:1']);
  });
});
