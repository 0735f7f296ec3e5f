/**
 * The outcome of something a connection waits for (its handshake, its close), as a promise made
 * when someone first asks for it (issue 13, idle memory). A connection whose `closed` nobody reads
 * holds this small object instead of a promise, its two resolving functions and the rejection
 * handler's promise (about 0.35 KiB each). Asked before the outcome, the promise settles with it;
 * asked after, it is made already settled: to the application both look the same, as promise
 * reactions always run later anyway.
 *
 * Rejections are also reported through other paths (events, stream errors): a rejected promise
 * nobody handles must not crash the process, so every one made here has a no-op handler.
 */

/** One no-op rejection handler for every outcome (not a new function per connection). */
function ignoreRejection(): void {}

const PENDING = 0;
const RESOLVED = 1;
const REJECTED = 2;

export class LazyOutcome<T> {
  private state: typeof PENDING | typeof RESOLVED | typeof REJECTED = PENDING;
  /** The value or the error, once settled and until the promise is made. */
  private result: T | Error | undefined;
  private made: Promise<T> | undefined;
  private resolveMade: ((v: T) => void) | undefined;
  private rejectMade: ((e: Error) => void) | undefined;

  /** The promise of the outcome, made on the first call. */
  get promise(): Promise<T> {
    let p = this.made;
    if (p !== undefined) return p;
    if (this.state === RESOLVED) p = Promise.resolve(this.result as T);
    else if (this.state === REJECTED) p = Promise.reject(this.result as Error);
    else {
      p = new Promise<T>((resolve, reject) => {
        this.resolveMade = resolve;
        this.rejectMade = reject;
      });
    }
    p.catch(ignoreRejection);
    this.made = p;
    this.result = undefined;
    return p;
  }

  /** Whether the outcome is known. */
  get settled(): boolean {
    return this.state !== PENDING;
  }

  /** The first outcome counts, later ones are ignored (as with a promise). */
  resolve(value: T): void {
    if (this.state !== PENDING) return;
    this.state = RESOLVED;
    const resolve = this.resolveMade;
    if (resolve === undefined) this.result = value;
    else resolve(value);
    this.resolveMade = undefined;
    this.rejectMade = undefined;
  }

  reject(error: Error): void {
    if (this.state !== PENDING) return;
    this.state = REJECTED;
    const reject = this.rejectMade;
    if (reject === undefined) this.result = error;
    else reject(error);
    this.resolveMade = undefined;
    this.rejectMade = undefined;
  }
}
