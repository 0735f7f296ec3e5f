/**
 * `for await` over a stream object (src/node/quic-stream.ts), ending only its reading direction.
 */
import type { Readable } from 'node:stream';
import { ZeroRTTRejectedError } from '../errors/public-errors.js';
import { type StreamCore, streamClosedError } from './stream-core.js';

/** A stream object that can be read: QuicStream or QuicReceiveStream. */
export interface ChunkSource extends Readable {
  readonly core: StreamCore;
  cancelRead(code: number): void;
}

/**
 * The stream's chunks for `for await`. Unlike Node's default iterator, the end of the loop ends
 * only the reading direction, so `for await (const c of s) s.write(c); s.end()` works: reaching the
 * end destroys nothing, and leaving the loop early (break, return, throw) sends STOP_SENDING with
 * the default code and leaves writing alone. A peer's reset throws its StreamResetError.
 */
export async function* readChunks(stream: ChunkSource): AsyncGenerator<Buffer, void, undefined> {
  const core = stream.core;
  let wake: (() => void) | undefined;
  const poke = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  stream.on('readable', poke);
  stream.on('end', poke);
  stream.on('close', poke);
  core.setReaderWake(poke);
  let complete = false;
  try {
    for (;;) {
      if (core.rejected || core.epoch.rejected) throw stream.errored ?? new ZeroRTTRejectedError();
      if (core.readError) throw core.readError;
      if (stream.readableEnded) {
        complete = true;
        return;
      }
      if (stream.destroyed) throw stream.errored ?? core.endedBy ?? streamClosedError();
      const chunk = stream.read() as Buffer | null;
      if (chunk !== null) {
        yield chunk;
        continue;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    stream.off('readable', poke);
    stream.off('end', poke);
    stream.off('close', poke);
    core.clearReaderWake(poke);
    if (!complete && !stream.destroyed) stream.cancelRead(core.host.defaultErrorCode);
  }
}
