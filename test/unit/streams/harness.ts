/**
 * Test harness: two StreamManagers (client and server) wired back to back. Frames popped from one
 * are delivered to the other's handleFrame; the sender then gets onFrameAcked, or onFrameLost when
 * the test drops the frame. Every delivered frame is logged for assertions.
 */
import assert from 'node:assert/strict';
import type { SentFrameRecord } from '../../../src/streams/sent-frame-record.js';
import type { Role } from '../../../src/streams/stream-id.js';
import {
  type FlowLimits,
  type StreamEvent,
  StreamManager,
  type StreamManagerConfig,
  type StreamManagerFrame,
} from '../../../src/streams/stream-manager.js';
import { frameLength } from '../../../src/wire/frame-codec.js';
import { type Frame, FrameType } from '../../../src/wire/frames.js';

export const LIMITS: FlowLimits = {
  initialMaxData: 1 << 20,
  initialMaxStreamDataBidiLocal: 256 * 1024,
  initialMaxStreamDataBidiRemote: 256 * 1024,
  initialMaxStreamDataUni: 256 * 1024,
  initialMaxStreamsBidi: 10,
  initialMaxStreamsUni: 10,
};

export function limits(overrides: Partial<FlowLimits> = {}): FlowLimits {
  return { ...LIMITS, ...overrides };
}

export interface PairOptions {
  clientLimits?: Partial<FlowLimits>;
  serverLimits?: Partial<FlowLimits>;
  client?: Partial<Omit<StreamManagerConfig, 'role' | 'local' | 'peer'>>;
  server?: Partial<Omit<StreamManagerConfig, 'role' | 'local' | 'peer'>>;
  rtt?: number;
}

/** The frame interface(s) whose `type` admits T (MAX_STREAMS and STREAMS_BLOCKED share one interface for two types). */
export type FrameOfType<T extends Frame['type']> = Frame extends infer F
  ? F extends { type: infer U }
    ? T extends U
      ? F
      : never
    : never
  : never;

export interface SentFrame {
  frame: Frame;
  record: SentFrameRecord;
}

export function isStreamManagerFrame(frame: Frame): frame is StreamManagerFrame {
  switch (frame.type) {
    case FrameType.Stream:
    case FrameType.ResetStream:
    case FrameType.StopSending:
    case FrameType.MaxData:
    case FrameType.MaxStreamData:
    case FrameType.MaxStreamsBidi:
    case FrameType.MaxStreamsUni:
    case FrameType.DataBlocked:
    case FrameType.StreamDataBlocked:
    case FrameType.StreamsBlockedBidi:
    case FrameType.StreamsBlockedUni:
      return true;
    default:
      return false;
  }
}

/** A copy of a frame whose data no longer aliases the sender's buffers. */
export function cloneFrame(frame: StreamManagerFrame): StreamManagerFrame {
  if (frame.type === FrameType.Stream) return { ...frame, data: Uint8Array.from(frame.data) };
  return { ...frame };
}

export class Pair {
  readonly client: StreamManager;
  readonly server: StreamManager;
  now = 1_000_000;
  rtt: number;
  /** Every frame delivered, in order, with its sender. */
  readonly log: Array<{ from: Role; frame: Frame }> = [];

  constructor(options: PairOptions = {}) {
    this.rtt = options.rtt ?? 100;
    const clientLimits = limits(options.clientLimits);
    const serverLimits = limits(options.serverLimits);
    this.client = new StreamManager({
      role: 'client',
      local: clientLimits,
      peer: serverLimits,
      rtt: () => this.rtt,
      ...options.client,
    });
    this.server = new StreamManager({
      role: 'server',
      local: serverLimits,
      peer: clientLimits,
      rtt: () => this.rtt,
      ...options.server,
    });
  }

  side(role: Role): StreamManager {
    return role === 'client' ? this.client : this.server;
  }

  /** Pops every frame `from` has right now (up to `max` frames) without delivering them. */
  take(from: Role, max = Number.POSITIVE_INFINITY, maxBytes = 1200): SentFrame[] {
    const sender = this.side(from);
    const out: SentFrame[] = [];
    while (out.length < max) {
      const popped = sender.popFrame(maxBytes, this.now);
      if (popped === undefined) break;
      // The wire codec's exact size (Length field included) fits what was asked for.
      assert.ok(frameLength(popped.frame) <= maxBytes, `frame of ${frameLength(popped.frame)} > ${maxBytes}`);
      out.push(popped);
    }
    return out;
  }

  /** Delivers frames taken from `from` to the other side (without acknowledging them). */
  deliver(from: Role, frames: SentFrame[]): void {
    const receiver = this.side(from === 'client' ? 'server' : 'client');
    for (const { frame } of frames) {
      assert.ok(isStreamManagerFrame(frame), `unexpected frame type ${frame.type}`);
      this.log.push({ from, frame });
      receiver.handleFrame(cloneFrame(frame), this.now);
    }
  }

  ack(from: Role, frames: SentFrame[]): void {
    for (const f of frames) this.side(from).onFrameAcked(f.record);
  }

  lose(from: Role, frames: SentFrame[]): void {
    for (const f of frames) this.side(from).onFrameLost(f.record);
  }

  /** take + deliver + ack, with optional loss. Returns the frames that arrived. */
  flush(
    from: Role,
    options: { lose?: (frame: Frame, index: number) => boolean; maxBytes?: number } = {},
  ): Frame[] {
    const sent = this.take(from, Number.POSITIVE_INFINITY, options.maxBytes);
    const arrived: SentFrame[] = [];
    const lost: SentFrame[] = [];
    sent.forEach((f, i) => {
      if (options.lose?.(f.frame, i)) lost.push(f);
      else arrived.push(f);
    });
    this.deliver(from, arrived);
    this.ack(from, arrived);
    this.lose(from, lost);
    return arrived.map((f) => f.frame);
  }

  /** Alternates both directions until neither has anything to send. */
  run(
    options: { lose?: (frame: Frame, index: number) => boolean; maxRounds?: number; advance?: number } = {},
  ): void {
    const maxRounds = options.maxRounds ?? 10_000;
    for (let round = 0; round < maxRounds; round++) {
      const a = this.flush('client', options);
      const b = this.flush('server', options);
      this.now += options.advance ?? this.rtt / 2;
      if (
        a.length === 0 &&
        b.length === 0 &&
        !this.client.hasPendingFrames() &&
        !this.server.hasPendingFrames()
      ) {
        return;
      }
    }
    assert.fail('pair did not go quiet');
  }

  /** Frames of `type` in the log sent by `from`. */
  sent<T extends Frame['type']>(from: Role, type: T): Array<FrameOfType<T>> {
    return this.log
      .filter((e) => e.from === from && e.frame.type === type)
      .map((e) => e.frame as FrameOfType<T>);
  }
}

/** Drains all pending events of a manager. */
export function drainEvents(m: StreamManager): StreamEvent[] {
  const out: StreamEvent[] = [];
  for (let e = m.pollEvent(); e !== undefined; e = m.pollEvent()) out.push(e);
  return out;
}

/** Reads everything currently readable on a stream. */
export function readAll(m: StreamManager, id: number, maxBytes?: number): { data: Buffer; fin: boolean } {
  const parts: Uint8Array[] = [];
  let fin = false;
  for (let r = m.read(id, maxBytes); r !== undefined; r = m.read(id, maxBytes)) {
    parts.push(r.data);
    if (r.fin) {
      fin = true;
      break;
    }
  }
  return { data: Buffer.concat(parts), fin };
}

/** Deterministic pseudo-random bytes. */
export function pattern(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
