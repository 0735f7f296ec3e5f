/**
 * A scheduler for the shell's work-ahead sources (node/spares.ts) that runs their callbacks only when
 * a test says the turn is over.
 */
export function manualTurns(): { later: (fn: () => void) => void; endTurn: () => number } {
  const queue: Array<() => void> = [];
  return {
    later: (fn) => queue.push(fn),
    endTurn: () => {
      const n = queue.length;
      for (const fn of queue.splice(0)) fn();
      return n;
    },
  };
}
