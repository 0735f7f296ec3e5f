/**
 * The open streams of one StreamManager, one typed map per kind (RFC 9000 §2.1): bidirectional
 * streams (either side opened them), unidirectional streams we opened (send only) and
 * unidirectional streams the peer opened (receive only). A lookup by ID goes to the one map the ID's
 * type bits name, so asking for the sending part of a stream returns an entry that has one.
 */
import type {
  BidiStreamEntry,
  ReceiveOnlyStreamEntry,
  ReceivingEntry,
  SendingEntry,
  SendOnlyStreamEntry,
  StreamEntry,
} from './stream-entry.js';
import { isBidirectional, isLocallyInitiated, type Role } from './stream-id.js';

export class StreamMaps {
  private readonly bidi = new Map<number, BidiStreamEntry>();
  private readonly localUni = new Map<number, SendOnlyStreamEntry>();
  private readonly remoteUni = new Map<number, ReceiveOnlyStreamEntry>();
  /** Streams added so far: the next sending entry's `order` (see sendingInOrder). */
  private created = 0;

  constructor(private readonly role: Role) {}

  add(entry: StreamEntry): void {
    switch (entry.kind) {
      case 'bidi':
        this.bidi.set(entry.id, entry);
        entry.order = this.created;
        break;
      case 'send-only':
        this.localUni.set(entry.id, entry);
        entry.order = this.created;
        break;
      case 'receive-only':
        this.remoteUni.set(entry.id, entry);
        break;
    }
    this.created++;
  }

  delete(entry: StreamEntry): void {
    switch (entry.kind) {
      case 'bidi':
        this.bidi.delete(entry.id);
        return;
      case 'send-only':
        this.localUni.delete(entry.id);
        return;
      case 'receive-only':
        this.remoteUni.delete(entry.id);
        return;
    }
  }

  get(id: number): StreamEntry | undefined {
    if (isBidirectional(id)) return this.bidi.get(id);
    return isLocallyInitiated(id, this.role) ? this.localUni.get(id) : this.remoteUni.get(id);
  }

  /** The open stream `id` if it has a sending part. */
  sending(id: number): SendingEntry | undefined {
    if (isBidirectional(id)) return this.bidi.get(id);
    return isLocallyInitiated(id, this.role) ? this.localUni.get(id) : undefined;
  }

  /** The open stream `id` if it has a receiving part. */
  receiving(id: number): ReceivingEntry | undefined {
    if (isBidirectional(id)) return this.bidi.get(id);
    return isLocallyInitiated(id, this.role) ? undefined : this.remoteUni.get(id);
  }

  get size(): number {
    return this.bidi.size + this.localUni.size + this.remoteUni.size;
  }

  /** Every open stream with a sending part, in the order the streams were created. */
  *sendingInOrder(): Generator<SendingEntry> {
    const bidi = this.bidi.values();
    const uni = this.localUni.values();
    let b = bidi.next();
    let u = uni.next();
    for (;;) {
      if (b.done) {
        if (u.done) return;
        yield u.value;
        u = uni.next();
      } else if (u.done || b.value.order < u.value.order) {
        yield b.value;
        b = bidi.next();
      } else {
        yield u.value;
        u = uni.next();
      }
    }
  }
}
