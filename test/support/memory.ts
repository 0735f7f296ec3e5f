/**
 * Heap measurements for the memory tests: a real garbage collection whatever flags the test process
 * got (so a heap check can fail), and the memory a collection leaves.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gcFn: (() => void) | undefined;

/** Two full garbage collections (the second collects what the first's finalizers released). */
export function collectGarbage(): void {
  if (!gcFn) {
    setFlagsFromString('--expose-gc');
    gcFn = runInNewContext('gc') as () => void;
  }
  gcFn();
  gcFn();
}

/** The JS heap plus ArrayBuffer memory (Node Buffers live outside the heap), after collectGarbage(). */
export function memoryAfterGc(): number {
  collectGarbage();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}
