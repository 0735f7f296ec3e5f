/**
 * The public API (src/node: EarlyConnection, QuicConnection, QuicStream) on the deterministic
 * simulator: a client core connection is wrapped exactly as dial()/dialEarly() wrap it (a
 * ConnectionHandle and bindClientConnection), with the simulator's virtual clock and a driver that
 * marks the connection active instead of scheduling a socket flush. The server stays at core level
 * (the zero-rtt-harness applications).
 *
 * The application is ordinary async code. The simulation advances in small steps of virtual time and
 * lets Node's event loop run between them (promise continuations, process.nextTick, setImmediate), so
 * the application reacts within a step, in the same order on every run: same seed, same run.
 */
import type { Connection } from '../../src/connection/connection.js';
import { bindClientConnection, type ClientConnection } from '../../src/node/client-connection.js';
import { ConnectionHandle } from '../../src/node/connection-handle.js';
import type { SessionStore } from '../../src/node/session-cache.js';
import type { Millis } from '../../src/util/time.js';
import { settleTicks } from './process-errors.js';
import type { QuicSim } from './quic-harness.js';

/** Virtual time per step: the application's reaction time. */
const STEP: Millis = 1;

/** One client connection driven through the public API. */
export class PublicClient {
  readonly handle: ConnectionHandle;
  readonly client: ClientConnection;
  private terminated = false;

  constructor(
    sim: QuicSim,
    readonly core: Connection,
    wantEarly: boolean,
    /** As ClientOptions.sessionCache. */
    store?: SessionStore,
  ) {
    const driver = { kick: (c: Connection) => sim.client.markActive(c) };
    this.handle = new ConnectionHandle(core, driver, store, undefined, () => sim.now);
    this.client = bindClientConnection(this.handle, wantEarly);
    // As in QuicEndpoint.start(): the early epoch exists as soon as the ClientHello is built.
    this.handle.drainEvents();
    sim.appHooks.push(() => this.turn());
  }

  /** What UdpEndpoint.flush() does for its connections after every I/O event. */
  private turn(): void {
    if (this.terminated) return;
    this.handle.drainEvents();
    if (this.core.isTerminated) {
      this.terminated = true;
      this.handle.onTerminated();
    }
  }
}

/**
 * One step of virtual time, run from a macrotask (setImmediate) like UdpEndpoint's socket and timer
 * callbacks: what it queues with process.nextTick (stream 'error' and 'close' events) runs before the
 * application's promise continuations, in the same order as over UDP.
 */
async function step(sim: QuicSim): Promise<void> {
  await new Promise<void>((resolve) =>
    setImmediate(() => {
      sim.net.runFor(STEP);
      resolve();
    }),
  );
  await settleTicks(1);
}

/** Run the simulation for `ms` of virtual time, letting the application run after every step. */
export async function advance(sim: QuicSim, ms: Millis): Promise<void> {
  for (let t = 0; t < ms; t += STEP) await step(sim);
}

/**
 * Wait for `p` while the simulation runs (at most `maxMs` of virtual time; then it fails with `what`).
 */
export async function simWait<T>(
  sim: QuicSim,
  p: Promise<T>,
  what: string,
  maxMs: Millis = 30_000,
): Promise<T> {
  let settled = false;
  const tracked = p.finally(() => {
    settled = true;
  });
  // The caller awaits `tracked`; its rejection is theirs to handle.
  tracked.catch(() => {});
  await settleTicks(2);
  for (let t = 0; !settled; t += STEP) {
    if (t >= maxMs) throw new Error(`simulation: ${what} did not happen within ${maxMs} ms of virtual time`);
    await step(sim);
  }
  return tracked;
}
