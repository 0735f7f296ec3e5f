/**
 * The public objects of one dialled connection: the `EarlyConnection` bound to the early (0-RTT)
 * stream epoch, and the connection `nextConnection()` resolves to -- the same object when 0-RTT was
 * accepted or not attempted, a new `QuicConnection` bound to the fresh epoch when it was rejected
 * (docs/0rtt.md). Shared by dial()/dialEarly() and the simulator tests of the public API, so both run
 * the same wiring.
 */
import type { ConnectionHandle } from './connection-handle.js';
import { EarlyConnection, QuicConnection } from './quic-connection.js';

export interface ClientConnection {
  /** The EarlyConnection, once the early epoch exists (at once when 0-RTT is offered). */
  early(): EarlyConnection | undefined;
  /** The first public connection created (the early one, or the only one). */
  first(): QuicConnection | undefined;
  /** What `nextConnection()` resolves to; rejects if the handshake fails. Never unobserved. */
  readonly next: Promise<QuicConnection>;
}

/** Install the callbacks that create the public connections of a client handle as its epochs start. */
export function bindClientConnection(handle: ConnectionHandle, wantEarly: boolean): ClientConnection {
  let firstPub: QuicConnection | undefined;
  let earlyPub: EarlyConnection | undefined;
  let nextPub: QuicConnection | undefined;
  let resolveNext!: (c: QuicConnection) => void;
  let rejectNext!: (e: Error) => void;
  const next = new Promise<QuicConnection>((res, rej) => {
    resolveNext = res;
    rejectNext = rej;
  });
  // A handshake failure is also reported through handshakeComplete and closed: an application that
  // never asks for the next connection must not see an unhandled rejection.
  next.catch(() => {});
  handle.bind({
    onEpoch: (epoch) => {
      let pub: QuicConnection;
      if (epoch.early) {
        earlyPub = new EarlyConnection(handle, epoch, next);
        pub = earlyPub;
      } else if (earlyPub || !wantEarly) {
        // The fresh epoch after a rejected 0-RTT attempt, or a plain dial().
        pub = new QuicConnection(handle, epoch);
      } else {
        // dialEarly() without 0-RTT: the one connection is also its own next connection.
        pub = new EarlyConnection(handle, epoch, next);
      }
      firstPub ??= pub;
      if (!epoch.early) nextPub = pub;
      return pub;
    },
    onEarlyData: (accepted) => {
      if (!accepted) earlyPub?._reject0Rtt();
    },
    onHandshakeComplete: () => {
      const pub = nextPub ?? earlyPub;
      if (pub) resolveNext(pub);
    },
  });
  handle.handshakeComplete.catch((err: Error) => rejectNext(err));
  return { early: () => earlyPub, first: () => firstPub, next };
}
