/**
 * Field sections the encoder sent with dynamic table references that the decoder has not yet
 * acknowledged, per stream and in order (RFC 9204 §2.1.4, §4.4.1: a Section Acknowledgment
 * acknowledges the earliest unacknowledged section on its stream), and the blocked-stream count
 * derived from them (§2.1.2).
 */

export interface UnackedSection {
  /** Required Insert Count. */
  readonly ric: number;
  /** Absolute indices referenced (with repetitions: one reference each). */
  readonly refs: readonly number[];
}

export class UnackedSections {
  private readonly byStream = new Map<number, UnackedSection[]>();
  /** Sections held, over all streams. */
  private _count = 0;
  get count() {
    return this._count;
  }

  add(streamId: number, section: UnackedSection): void {
    const q = this.byStream.get(streamId);
    if (q === undefined) this.byStream.set(streamId, [section]);
    else q.push(section);
    this._count++;
  }

  /** Removes and returns the stream's earliest section, or undefined if it has none. */
  acknowledge(streamId: number): UnackedSection | undefined {
    const q = this.byStream.get(streamId);
    if (q === undefined) return undefined;
    const s = q.shift()!;
    if (q.length === 0) this.byStream.delete(streamId);
    this._count--;
    return s;
  }

  /** Removes and returns all of the stream's sections. */
  cancel(streamId: number): readonly UnackedSection[] {
    const q = this.byStream.get(streamId);
    if (q === undefined) return [];
    this.byStream.delete(streamId);
    this._count -= q.length;
    return q;
  }

  /**
   * Whether the stream could be blocked at the decoder: one of its unacknowledged sections needs
   * insertions beyond the Known Received Count (RFC 9204 §2.1.2).
   */
  isBlocking(streamId: number, knownReceivedCount: number): boolean {
    const q = this.byStream.get(streamId);
    if (q === undefined) return false;
    for (const s of q) if (s.ric > knownReceivedCount) return true;
    return false;
  }

  /** The number of streams that could be blocked at the decoder. */
  blockingStreams(knownReceivedCount: number): number {
    let n = 0;
    for (const q of this.byStream.values()) {
      for (const s of q) {
        if (s.ric > knownReceivedCount) {
          n++;
          break;
        }
      }
    }
    return n;
  }
}
