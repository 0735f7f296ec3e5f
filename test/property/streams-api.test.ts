/**
 * Property: random sequences of application calls on both sides, interleaved with network steps
 * (with loss), never throw anything but StreamStateError from the API, and never make a correct peer
 * raise a QuicTransportError. Afterwards, when both applications cancel everything and the network
 * settles, every stream is freed on both sides.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Role } from '../../src/streams/stream-id.js';
import type { StreamManager } from '../../src/streams/stream-manager.js';
import { StreamStateError } from '../../src/streams/stream-state-error.js';
import { frameLength } from '../../src/wire/frame-codec.js';
import { cloneFrame, isStreamManagerFrame, Pair, pattern, type SentFrame } from '../unit/streams/harness.js';

type Op =
  | { op: 'open'; side: Role; bidi: boolean }
  | { op: 'write'; side: Role; pick: number; size: number }
  | { op: 'end'; side: Role; pick: number }
  | { op: 'reset'; side: Role; pick: number; code: number }
  | { op: 'stop'; side: Role; pick: number; code: number }
  | { op: 'read'; side: Role; pick: number; max: number }
  | { op: 'poll'; side: Role }
  | { op: 'net'; side: Role; maxBytes: number; lossMask: number; ackLater: boolean }
  | { op: 'flushLate'; side: Role; lose: boolean };

const side = fc.constantFrom<Role>('client', 'server');
/** < 4: a stream ID the side may not know; otherwise one it opened or saw opened. */
const pick = fc.nat(60);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('open' as const), side, bidi: fc.boolean() }),
  fc.record({ op: fc.constant('write' as const), side, pick, size: fc.integer({ min: 0, max: 5000 }) }),
  fc.record({ op: fc.constant('end' as const), side, pick }),
  fc.record({ op: fc.constant('reset' as const), side, pick, code: fc.nat(1000) }),
  fc.record({ op: fc.constant('stop' as const), side, pick, code: fc.nat(1000) }),
  fc.record({ op: fc.constant('read' as const), side, pick, max: fc.integer({ min: 1, max: 3000 }) }),
  fc.record({ op: fc.constant('poll' as const), side }),
  fc.record({
    op: fc.constant('net' as const),
    side,
    maxBytes: fc.integer({ min: 1, max: 1400 }),
    lossMask: fc.constantFrom(0, 0, 0, 0x01, 0x11, 0x55, 0xff),
    ackLater: fc.boolean(),
  }),
  fc.record({ op: fc.constant('flushLate' as const), side, lose: fc.boolean() }),
);

/** Calls an API method; only StreamStateError may escape. */
function api(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof StreamStateError, `unexpected ${String(e)}`);
    assert.equal(e.code, 'ERR_QUIC_STREAM_STATE');
  }
}

test('random API call sequences only throw StreamStateError; a correct peer never sees a protocol error', () => {
  fc.assert(
    fc.property(
      fc.array(opArb, { minLength: 20, maxLength: 200, size: 'max' }),
      fc.boolean(),
      (ops, smallLimits) => {
        const lim = smallLimits
          ? {
              initialMaxData: 6000,
              initialMaxStreamDataBidiLocal: 2000,
              initialMaxStreamDataBidiRemote: 1500,
              initialMaxStreamDataUni: 1000,
              initialMaxStreamsBidi: 2,
              initialMaxStreamsUni: 1,
            }
          : undefined;
        const p = new Pair(lim === undefined ? {} : { clientLimits: lim, serverLimits: lim });
        // Stream IDs each side knows of, and a few it may not, for picking targets.
        const known: Record<Role, number[]> = { client: [], server: [] };
        const bogus = [0, 1, 2, 3, 4, 5, 100, 101];
        const late: Record<Role, SentFrame[]> = { client: [], server: [] };
        const deliver = (from: Role, f: SentFrame) => {
          assert.ok(isStreamManagerFrame(f.frame));
          // handleFrame must not throw: both peers follow the protocol.
          p.side(from === 'client' ? 'server' : 'client').handleFrame(cloneFrame(f.frame), p.now);
        };
        const noteEvents = (role: Role, m: StreamManager) => {
          for (let e = m.pollEvent(); e !== undefined; e = m.pollEvent()) {
            if (e.type === 'opened') known[role].push(e.id);
          }
        };
        for (const o of ops) {
          const m = p.side(o.side);
          const target = () => {
            const k = 'pick' in o ? o.pick : 0;
            const ids = known[o.side];
            return k < 4 || ids.length === 0 ? bogus[k % bogus.length]! : ids[k % ids.length]!;
          };
          switch (o.op) {
            case 'open': {
              const id = m.openStream(o.bidi);
              if (id !== undefined) known[o.side].push(id);
              break;
            }
            case 'write':
              api(() => m.write(target(), pattern(o.size, o.size + 1)));
              break;
            case 'end':
              api(() => m.end(target()));
              break;
            case 'reset':
              api(() => m.resetStream(target(), o.code));
              break;
            case 'stop':
              api(() => m.stopSending(target(), o.code));
              break;
            case 'read':
              api(() => {
                m.read(target(), o.max);
              });
              break;
            case 'poll':
              noteEvents(o.side, m);
              break;
            case 'net': {
              // At most 64 frames: a lost frame is queued again at once, so an all-loss step would not end.
              for (let i = 0; i < 64; i++) {
                const f = m.popFrame(o.maxBytes, p.now);
                if (f === undefined) break;
                assert.ok(frameLength(f.frame) <= o.maxBytes);
                if ((o.lossMask >> (i % 8)) & 1) {
                  m.onFrameLost(f.record);
                } else if (o.ackLater) {
                  late[o.side].push(f);
                } else {
                  deliver(o.side, f);
                  m.onFrameAcked(f.record);
                }
              }
              p.now += 7;
              break;
            }
            case 'flushLate':
              for (const f of late[o.side].splice(0)) {
                if (o.lose) {
                  m.onFrameLost(f.record);
                } else {
                  deliver(o.side, f);
                  m.onFrameAcked(f.record);
                }
              }
              break;
          }
        }
        // Settle: deliver what is in flight, then both applications cancel every stream they know.
        for (const role of ['client', 'server'] as const) {
          for (const f of late[role].splice(0)) {
            deliver(role, f);
            p.side(role).onFrameAcked(f.record);
          }
        }
        for (let round = 0; round < 50; round++) {
          for (const role of ['client', 'server'] as const) {
            const m = p.side(role);
            noteEvents(role, m);
            for (const id of known[role]) {
              if (!m.has(id)) continue;
              api(() => m.resetStream(id, 0));
              api(() => m.stopSending(id, 0));
            }
          }
          p.flush('client');
          p.flush('server');
          if (p.client.openStreamCount === 0 && p.server.openStreamCount === 0) break;
        }
        assert.equal(p.client.openStreamCount, 0, 'client streams left');
        assert.equal(p.server.openStreamCount, 0, 'server streams left');
        for (const m of [p.client, p.server]) {
          const st = m.stats();
          assert.ok(st.bytesReceived <= st.localMaxData);
          assert.ok(st.bytesSent <= st.peerMaxData);
        }
        assert.equal(p.client.stats().bytesSent, p.server.stats().bytesReceived);
        assert.equal(p.server.stats().bytesSent, p.client.stats().bytesReceived);
      },
    ),
    { numRuns: 300 },
  );
});
