/**
 * Which stream errors may reach the process (docs/streams.md, "Errors the network causes").
 *
 * A Node stream that emits 'error' with no listener kills the process. tsquic fails a stream for
 * things the application did not do and cannot prevent: the peer reset it (RESET_STREAM) or stopped
 * reading it (STOP_SENDING), the connection ended (the peer closed it, an idle timeout, a stateless
 * reset, a protocol error, the application's own close with an error code), or the server rejected
 * 0-RTT. Such an error goes to everything that observes the stream -- its 'error' listeners, a
 * for-await loop, pipeline()/finished(), the callback of a pending or later write -- and when
 * nothing observes it, the stream is destroyed quietly ('close' without 'error'; `stream.errored`
 * still holds the error). Errors the application causes itself (destroy(err), writing after end(),
 * an invalid chunk) keep Node's behaviour.
 */
import { QuicError, QuicUsageError } from '../errors/public-errors.js';

/** An error tsquic raised because of the network or the connection's end, never because of misuse. */
export function isNetworkError(err: unknown): boolean {
  return err instanceof QuicError && !(err instanceof QuicUsageError);
}

/**
 * For the streams' `emit`: true when this 'error' must not be emitted, because it is a network error
 * and the stream has no 'error' listener (pipe() removes its own listener before re-emitting).
 */
export function dropUnobservedError(
  stream: { listenerCount(event: string): number },
  event: string | symbol,
  args: unknown[],
): boolean {
  return event === 'error' && stream.listenerCount('error') === 0 && isNetworkError(args[0]);
}
