/**
 * "Cancel write" (resetStream: RESET_STREAM, RFC 9000 §3.1, §19.4) and "cancel read" (stopSending:
 * STOP_SENDING, §3.5, §19.5) between two whole connections, on client- and server-opened
 * bidirectional and unidirectional streams, in every state of the data flow:
 *
 *   nothing-sent   the sender has not sent anything yet
 *   in-flight      the receiver has some of the data, more is in flight
 *   blocked        the sender is blocked by the receiver's stream flow-control window
 *   fin-sent       the FIN is sent but not acknowledged (the receiver has only part of the data)
 *   unread         the receiver has all the data (and the FIN) but the application has read none
 *
 * Checked on both sides: the peer sees the reset / stop-sending event with the code, no data is
 * delivered afterwards, the frames on the wire are the ones the RFC prescribes, and both
 * StreamManagers free the stream and emit 'closed'. The receiving application never reads the data
 * in these scenarios, so anything delivered would show up as a 'readable' event.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Connection } from '../../src/connection/connection.js';
import { ReceiveState, SendState, type StreamEvent } from '../../src/streams/stream-manager.js';
import { type Frame, FrameType } from '../../src/wire/frames.js';
import { withSimSeed } from './network.js';
import { QuicSim } from './quic-harness.js';

type Role = 'client' | 'server';
type Op = 'cancel-write' | 'cancel-read';
type State = 'nothing-sent' | 'in-flight' | 'blocked' | 'fin-sent' | 'unread';

const WINDOW = 16 * 1024;
const CODE = 0x1234;
const STATES: State[] = ['nothing-sent', 'in-flight', 'blocked', 'fin-sent', 'unread'];
/** How much the sender writes in each state (all of it fits the window except when blocked). */
const AMOUNT: Record<State, number> = {
  'nothing-sent': 5000,
  'in-flight': 12_000,
  blocked: 60_000,
  'fin-sent': 6000,
  unread: 3000,
};

const pattern = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

/** `time` is a global sequence number, so that order within one virtual instant is kept. */
interface Logged<T> {
  time: number;
  item: T;
}

interface Scenario {
  op: Op;
  state: State;
  bidi: boolean;
  /** Who opens the stream. */
  opener: Role;
  /** Who sends the data (and, for cancel write, cancels). */
  sender: Role;
}

/** Runs one scenario and checks it; returns nothing, throws on failure. */
function run(sc: Scenario, seed: number): void {
  const receiverRole: Role = sc.sender === 'client' ? 'server' : 'client';
  let tick = 0;
  const frames: Record<Role, Array<Logged<{ dir: 'sent' | 'received'; frame: Frame }>>> = {
    client: [],
    server: [],
  };
  const sim = new QuicSim({
    seed,
    clientTransport: { initialMaxStreamData: WINDOW },
    serverTransport: { initialMaxStreamData: WINDOW },
    trace: (conn, e) => frames[conn.role].push({ time: tick++, item: { dir: e.direction, frame: e.frame } }),
  });
  const client = sim.dial();
  const server = sim.handshake(client);
  const conns: Record<Role, Connection> = { client, server };
  const S = conns[sc.sender];
  const R = conns[receiverRole];
  const sm = (c: Connection) => c.epoch!.streams;
  const events: Record<Role, Array<Logged<StreamEvent>>> = { client: [], server: [] };
  const total = AMOUNT[sc.state];
  const data = pattern(total, 3);
  let id = -1;
  let cancelledAt = Number.POSITIVE_INFINITY;
  let senderWrote = false;

  const senderWrites = () => {
    if (senderWrote || sc.state === 'nothing-sent') return;
    senderWrote = true;
    sm(S).write(id, data);
    if (sc.state === 'fin-sent' || sc.state === 'unread') sm(S).end(id);
  };
  const cancel = () => {
    cancelledAt = tick++;
    if (sc.op === 'cancel-write') sm(S).resetStream(id, CODE);
    else sm(R).stopSending(id, CODE);
  };

  // Open the stream.
  const opener = conns[sc.opener];
  id = sm(opener).openStream(sc.bidi)!;
  if (sc.opener === receiverRole) {
    // Cancel read on a bidirectional stream the receiver opened: it ends its own direction at once
    // so that the sender learns of the stream; the sender writes when it sees it.
    sm(R).end(id);
  } else {
    senderWrites();
  }
  if (sc.state === 'nothing-sent') cancel();

  const received = () => sm(R).streamBuffers(id)?.receive ?? 0;
  const sentFin = () =>
    frames[sc.sender].some(
      (f) =>
        f.item.dir === 'sent' &&
        f.item.frame.type === FrameType.Stream &&
        f.item.frame.streamId === id &&
        f.item.frame.fin,
    );
  const sentBlocked = () =>
    frames[sc.sender].some(
      (f) =>
        f.item.dir === 'sent' &&
        f.item.frame.type === FrameType.StreamDataBlocked &&
        f.item.frame.streamId === id,
    );
  let senderStateAtCancel: SendState | undefined;
  let unackedAtCancel = 0;
  let receivedAtCancel = 0;
  const due = (): boolean => {
    if (cancelledAt !== Number.POSITIVE_INFINITY) return false;
    const rs = sm(R).streamState(id)?.receive;
    switch (sc.state) {
      case 'nothing-sent':
        return false;
      case 'in-flight':
        return received() > 0 && received() < total;
      case 'blocked':
        return sentBlocked() && received() === WINDOW;
      case 'fin-sent':
        return sentFin() && received() > 0 && rs === ReceiveState.Recv;
      case 'unread':
        return rs === ReceiveState.DataRecvd;
    }
  };

  sim.appHooks.push(() => {
    for (const role of ['client', 'server'] as const) {
      const c = conns[role];
      for (let e = c.pollEvent(); e; e = c.pollEvent()) {
        if (e.type !== 'stream') continue;
        const ev = e.event;
        events[role].push({ time: tick++, item: ev });
        if (!('id' in ev) || ev.id !== id) continue;
        if (ev.type === 'opened' && role === receiverRole && sc.bidi) sm(R).end(id); // close the reverse direction
        if (ev.type === 'opened' && role === sc.sender) senderWrites();
        // The sender drains the (empty) reverse direction of a bidirectional stream.
        if (ev.type === 'readable' && role === sc.sender) while (sm(S).read(id)) {}
      }
    }
    if (due()) {
      senderStateAtCancel = sm(S).streamState(id)?.send;
      unackedAtCancel = sm(S).streamBuffers(id)?.send ?? 0;
      receivedAtCancel = received();
      cancel();
    }
  });
  const freed = () => !sm(S).has(id) && !sm(R).has(id) && cancelledAt !== Number.POSITIVE_INFINITY;
  sim.run(freed, 20_000);
  // Anything still to come would show now.
  sim.net.runFor(500);

  const label = `${sc.op} ${sc.state} (${sc.bidi ? 'bidi' : 'uni'} ${id} opened by the ${sc.opener})`;
  const ofStream = (l: Array<Logged<StreamEvent>>) => l.filter((e) => 'id' in e.item && e.item.id === id);
  const sEvents = ofStream(events[sc.sender]);
  const rEvents = ofStream(events[receiverRole]);
  const sent = (role: Role, type: FrameType) =>
    frames[role].filter(
      (f) =>
        f.item.dir === 'sent' &&
        f.item.frame.type === type &&
        'streamId' in f.item.frame &&
        f.item.frame.streamId === id,
    );

  // Both StreamManagers freed the stream and said so.
  assert.equal(sm(S).has(id), false, `${label}: sender still tracks the stream`);
  assert.equal(sm(R).has(id), false, `${label}: receiver still tracks the stream`);
  assert.equal(sm(S).openStreamCount, 0);
  assert.equal(sm(R).openStreamCount, 0);
  assert.equal(sEvents.filter((e) => e.item.type === 'closed').length, 1, `${label}: sender 'closed'`);
  assert.equal(rEvents.filter((e) => e.item.type === 'closed').length, 1, `${label}: receiver 'closed'`);
  // No data is delivered after the cancel; the receiving application read nothing at all.
  assert.equal(
    rEvents.filter((e) => e.item.type === 'readable' && e.time >= cancelledAt).length,
    0,
    `${label}: data delivered after the cancel`,
  );
  assert.equal(sm(R).read(id), undefined);
  // Connection-level flow control agrees on what the stream consumed (RFC 9000 §4.5).
  assert.equal(sm(R).stats().bytesReceived, sm(S).stats().bytesSent, `${label}: final size`);
  const maxSentEnd = Math.max(
    0,
    ...sent(sc.sender, FrameType.Stream).map((f) =>
      f.item.frame.type === FrameType.Stream ? f.item.frame.offset + f.item.frame.data.length : 0,
    ),
  );
  const resets = sent(sc.sender, FrameType.ResetStream);
  const stops = sent(receiverRole, FrameType.StopSending);

  if (sc.op === 'cancel-write') {
    // The sender sent exactly one RESET_STREAM with the code and the final size, and no STREAM
    // frame after it.
    assert.equal(resets.length, 1, `${label}: RESET_STREAM frames`);
    const reset = resets[0]!.item.frame;
    assert.ok(reset.type === FrameType.ResetStream);
    assert.equal(reset.errorCode, CODE);
    const expectedFinal =
      sc.state === 'nothing-sent' ? 0 : sc.state === 'fin-sent' || sc.state === 'unread' ? total : maxSentEnd;
    assert.equal(reset.finalSize, expectedFinal, `${label}: final size`);
    assert.equal(
      sent(sc.sender, FrameType.Stream).filter((f) => f.time >= cancelledAt).length,
      0,
      `${label}: STREAM frames after the reset`,
    );
    // The receiver's application sees the reset with the code, once, and nothing readable after it.
    const resetEvents = rEvents.filter((e) => e.item.type === 'reset');
    assert.deepEqual(
      resetEvents.map((e) => e.item),
      [{ type: 'reset', id, errorCode: CODE }],
      `${label}: reset event`,
    );
    assert.equal(
      rEvents.filter((e) => e.item.type === 'readable' && e.time >= resetEvents[0]!.time).length,
      0,
    );
    assert.equal(stops.length, 0);
    if (sc.state === 'unread')
      assert.equal(senderStateAtCancel, SendState.DataSent, `${label}: not yet acknowledged`);
  } else if (sc.state === 'unread') {
    // RFC 9000 §3.5: with all data received, STOP_SENDING is pointless and not sent; the sender's
    // data was acknowledged as usual.
    assert.equal(stops.length, 0, `${label}: STOP_SENDING after all data arrived`);
    assert.equal(resets.length, 0);
    assert.equal(sEvents.filter((e) => e.item.type === 'stop-sending').length, 0);
    assert.equal(sEvents.filter((e) => e.item.type === 'send-done').length, 1);
  } else {
    // The receiver sent one STOP_SENDING with the code; the sender's application saw it, and the
    // sender answered with RESET_STREAM copying the code (§3.5), sending no STREAM frame after.
    assert.equal(stops.length, 1, `${label}: STOP_SENDING frames`);
    const stop = stops[0]!.item.frame;
    assert.ok(stop.type === FrameType.StopSending);
    assert.equal(stop.errorCode, CODE);
    const stopEvents = sEvents.filter((e) => e.item.type === 'stop-sending');
    assert.deepEqual(
      stopEvents.map((e) => e.item),
      [{ type: 'stop-sending', id, errorCode: CODE }],
      `${label}: stop-sending event`,
    );
    assert.equal(resets.length, 1, `${label}: RESET_STREAM in answer`);
    const reset = resets[0]!.item.frame;
    assert.ok(reset.type === FrameType.ResetStream);
    assert.equal(reset.errorCode, CODE);
    assert.equal(reset.finalSize, sc.state === 'nothing-sent' ? 0 : maxSentEnd);
    const stopArrived = frames[sc.sender].find(
      (f) => f.item.dir === 'received' && f.item.frame.type === FrameType.StopSending,
    )!.time;
    assert.equal(
      sent(sc.sender, FrameType.Stream).filter((f) => f.time > stopArrived).length,
      0,
      `${label}: STREAM frames after STOP_SENDING`,
    );
    // The receiver asked for the reset: it gets no 'reset' event for it.
    assert.equal(rEvents.filter((e) => e.item.type === 'reset').length, 0);
  }
  // The intended state was reached when the cancel happened.
  switch (sc.state) {
    case 'in-flight':
      assert.ok(
        unackedAtCancel > 0 && receivedAtCancel > 0 && receivedAtCancel < total,
        `${label}: in flight`,
      );
      break;
    case 'blocked':
      assert.equal(receivedAtCancel, WINDOW);
      assert.equal(maxSentEnd, WINDOW, `${label}: the sender stopped at the window`);
      assert.ok(unackedAtCancel > WINDOW, `${label}: data waiting for credit`);
      break;
    case 'fin-sent':
      assert.ok(receivedAtCancel > 0 && receivedAtCancel < total, `${label}: part received`);
      assert.ok(senderStateAtCancel === SendState.DataSent, `${label}: FIN not acknowledged`);
      break;
    case 'unread':
      assert.equal(receivedAtCancel, total);
      break;
    case 'nothing-sent':
      assert.equal(
        frames[sc.sender].filter(
          (f) =>
            f.item.frame.type === FrameType.Stream &&
            'streamId' in f.item.frame &&
            f.item.frame.streamId === id &&
            f.item.dir === 'sent' &&
            f.item.frame.data.length > 0,
        ).length,
        0,
      );
      break;
  }
  assert.deepEqual(client.internalErrors, []);
  assert.deepEqual(server.internalErrors, []);
  assert.equal(client.isClosed, false, client.closeInfo?.reason);
  assert.equal(server.isClosed, false, server.closeInfo?.reason);
}

let seed = 2000;
for (const op of ['cancel-write', 'cancel-read'] as const) {
  describe(op === 'cancel-write' ? 'cancel write (resetStream)' : 'cancel read (stopSending)', () => {
    for (const bidi of [true, false]) {
      for (const opener of ['client', 'server'] as const) {
        const other: Role = opener === 'client' ? 'server' : 'client';
        // Cancel write: the opener sends. Cancel read: on a unidirectional stream the opener sends; on a
        // bidirectional one the opener is the receiver that cancels.
        const sender: Role = op === 'cancel-read' && bidi ? other : opener;
        for (const state of STATES) {
          // The receiver of a peer's unidirectional stream cannot cancel before it knows the stream.
          if (op === 'cancel-read' && state === 'nothing-sent' && !bidi) continue;
          const s = seed++;
          test(`${state}, ${bidi ? 'bidi' : 'uni'} stream opened by the ${opener}`, () => {
            withSimSeed(s, (sd) => run({ op, state, bidi, opener, sender }, sd));
          });
        }
      }
    }
  });
}
