/**
 * The life of a connection (RFC 9000 §10) as one value that carries its data: while closing or
 * draining, why it closes and until when it lingers (§10.2: three PTOs); once closed, why. A close
 * reason cannot exist without a closing state, nor a closing state without its deadline.
 *
 * The transitions are pure functions: the connection holds the value and emits the events.
 */
import type { Millis } from '../util/time.js';
import type { CloseInfo } from './connection-events.js';

export type ConnectionLifecycle =
  /** Before the TLS handshake completes. */
  | { readonly kind: 'handshake' }
  /** The handshake completed (RFC 9001 §4.1.1). */
  | { readonly kind: 'established' }
  /** We sent CONNECTION_CLOSE and answer further packets with it until `deadline` (RFC 9000 §10.2.1). */
  | { readonly kind: 'closing'; readonly info: CloseInfo; readonly deadline: Millis }
  /** The peer closed (or reset): we send nothing until `deadline` (RFC 9000 §10.2.2). */
  | { readonly kind: 'draining'; readonly info: CloseInfo; readonly deadline: Millis }
  /** Gone: the endpoint may forget the connection. */
  | { readonly kind: 'closed'; readonly info: CloseInfo };

export type ConnectionState = ConnectionLifecycle['kind'];

export const HANDSHAKE: ConnectionLifecycle = { kind: 'handshake' };
const ESTABLISHED: ConnectionLifecycle = { kind: 'established' };

/** Closing, draining or closed: the application sees the connection as closed. */
export function isClosedState(s: ConnectionLifecycle): boolean {
  return s.kind === 'closing' || s.kind === 'draining' || s.kind === 'closed';
}

/** The reason the connection closes or closed, once it does. */
export function closeInfoOf(s: ConnectionLifecycle): CloseInfo | undefined {
  return s.kind === 'closing' || s.kind === 'draining' || s.kind === 'closed' ? s.info : undefined;
}

/** Until when a closing or draining connection lingers. */
export function closeDeadlineOf(s: ConnectionLifecycle): Millis | undefined {
  return s.kind === 'closing' || s.kind === 'draining' ? s.deadline : undefined;
}

/** The handshake completed: established, unless the connection is already closing. */
export function established(s: ConnectionLifecycle): ConnectionLifecycle {
  return s.kind === 'handshake' ? ESTABLISHED : s;
}

/** Start closing (RFC 9000 §10.2.1); undefined when already closing, draining or closed. */
export function closing(
  s: ConnectionLifecycle,
  info: CloseInfo,
  deadline: Millis,
): ConnectionLifecycle | undefined {
  if (isClosedState(s)) return undefined;
  return { kind: 'closing', info, deadline };
}

/**
 * Start draining (RFC 9000 §10.2.2); undefined when already draining or closed. A closing connection
 * keeps the reason it gave (`info` is then ignored).
 */
export function draining(
  s: ConnectionLifecycle,
  info: CloseInfo,
  deadline: Millis,
): ConnectionLifecycle | undefined {
  if (s.kind === 'draining' || s.kind === 'closed') return undefined;
  return { kind: 'draining', info: s.kind === 'closing' ? s.info : info, deadline };
}

/**
 * End the connection. `info` is the reason when it ends without closing first (idle timeout,
 * abandon); a closing or draining connection keeps its own. Undefined when already closed.
 */
export function closed(s: ConnectionLifecycle, info?: CloseInfo): ConnectionLifecycle | undefined {
  if (s.kind === 'closed') return undefined;
  const own = closeInfoOf(s);
  const reason = info ?? own;
  if (!reason) throw new Error('a connection ends with a reason');
  return { kind: 'closed', info: reason };
}
