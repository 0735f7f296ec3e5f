/**
 * One of our unidirectional streams (control, QPACK encoder or decoder, GREASE): opened on
 * creation, starting with its stream type (RFC 9114 §6.2); bytes written before the transport has
 * opened it wait in order. These streams carry little and are never closed (except GREASE), so
 * the transport's backpressure signal is not needed: nothing written is ever dropped.
 */
import { varintLength, writeVarint } from '../wire/varint.js';
import type { H3Transport } from './transport.js';

export class OutgoingUniStream {
  private id: number | undefined;
  private pending: Uint8Array[] = [];
  private ended = false;

  constructor(
    private readonly transport: H3Transport,
    type: number,
  ) {
    const prefix = new Uint8Array(varintLength(type));
    writeVarint(prefix, 0, type);
    this.pending.push(prefix);
    transport.openStream(false, (id) => {
      this.id = id;
      for (const chunk of this.pending) transport.write(id, chunk);
      this.pending = [];
      if (this.ended) transport.end(id);
    });
  }

  /** The stream ID once opened. */
  get streamId(): number | undefined {
    return this.id;
  }

  write(data: Uint8Array): void {
    if (this.ended) return;
    if (this.id === undefined) this.pending.push(data);
    else this.transport.write(this.id, data);
  }

  /** FIN (only for streams that may close, such as GREASE streams). */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.id !== undefined) this.transport.end(this.id);
  }
}
