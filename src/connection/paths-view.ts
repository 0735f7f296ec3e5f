/**
 * The paths' host (PathsHost) as a class whose methods forward to the connection: an object literal
 * of methods would keep a closure per method and connection, ~0.3 KiB per connection (issue 13,
 * idle memory).
 */

import type { RandomBytes } from '../util/random.js';
import type { Millis } from '../util/time.js';
import type { PathConnectionIds, PathEvent, PathsHost } from './connection-paths.js';

/** What the paths ask of the connection. */
export interface PathsSource {
  ptoPeriod(): Millis;
  initialPtoPeriod(): Millis;
  onNewPathValidated(portOnly: boolean, now: Millis): void;
  closeSilently(reason: string): void;
}

export class PathsView implements PathsHost {
  constructor(
    private readonly source: PathsSource,
    readonly role: 'client' | 'server',
    readonly random: RandomBytes,
    readonly cids: PathConnectionIds,
    readonly trace: ((e: PathEvent) => void) | undefined,
  ) {}

  ptoPeriod(): Millis {
    return this.source.ptoPeriod();
  }

  initialPtoPeriod(): Millis {
    return this.source.initialPtoPeriod();
  }

  onNewPathValidated(portOnly: boolean, now: Millis): void {
    this.source.onNewPathValidated(portOnly, now);
  }

  closeSilently(reason: string): void {
    this.source.closeSilently(reason);
  }
}
