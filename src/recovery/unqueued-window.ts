/**
 * How many bytes a path carries without a queue building up: the congestion window scaled by
 * min_rtt / smoothed_rtt (RFC 9002 §5.2, §5.3; the caller passes the recent minimum,
 * RttEstimator.recentMinRtt, so that a route whose RTT grew is not judged by the old one). Where smoothed_rtt is near min_rtt nothing is
 * queued and the whole window is the path's; where a bottleneck's queue (a receiver's socket buffer
 * on loopback, a bloated router buffer) has stretched smoothed_rtt to ten times min_rtt, a tenth of
 * the window is what the path itself holds and the rest waits in the queue.
 *
 * The connection's send budget follows it (streams/send-budget.ts): bytes written far ahead of what
 * the path carries only wait in memory, long enough to leave the CPU's caches and V8's young
 * generation (issue 13, docs/performance.md "Ten streams and the send budget").
 */
import type { Millis } from '../util/time.js';

export function unqueuedWindow(congestionWindow: number, minRtt: Millis, smoothedRtt: Millis): number {
  // Without two usable samples, or when the smoothed RTT has fallen below the minimum (it lags),
  // the whole window.
  if (!(minRtt > 0) || !(smoothedRtt > minRtt)) return congestionWindow;
  return (congestionWindow * minRtt) / smoothedRtt;
}
