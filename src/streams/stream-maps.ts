/**
 * The open streams of one StreamManager (RFC 9000 §2.1): bidirectional streams (either side opened
 * them), unidirectional streams we opened (send only) and unidirectional streams the peer opened
 * (receive only). Each entry's kind follows from its ID's type bits, so asking for the sending part
 * of a stream returns an entry that has one.
 */
import type { ReceivingEntry, SendingEntry, StreamEntry } from './stream-entry.js';

export class StreamMaps {
  /**
   * Every open stream, by ID, in creation order. One map, not one per kind (issue 13: an idle
   * connection kept three empty maps and a WeakMap of creation ranks): the ID's type bits name
   * the kind, so a lookup checks the entry's kind instead of choosing a map.
   */
  private readonly all = new Map<number, StreamEntry>();

  add(entry: StreamEntry): void {
    this.all.set(entry.id, entry);
  }

  delete(entry: StreamEntry): void {
    this.all.delete(entry.id);
  }

  get(id: number): StreamEntry | undefined {
    return this.all.get(id);
  }

  /** The open stream `id` if it has a sending part. */
  sending(id: number): SendingEntry | undefined {
    const entry = this.all.get(id);
    return entry === undefined || entry.kind === 'receive-only' ? undefined : entry;
  }

  /** The open stream `id` if it has a receiving part. */
  receiving(id: number): ReceivingEntry | undefined {
    const entry = this.all.get(id);
    return entry === undefined || entry.kind === 'send-only' ? undefined : entry;
  }

  get size(): number {
    return this.all.size;
  }

  /** Every open stream with a sending part, in the order the streams were created. */
  *sendingInOrder(): Generator<SendingEntry> {
    for (const entry of this.all.values()) if (entry.kind !== 'receive-only') yield entry;
  }
}
