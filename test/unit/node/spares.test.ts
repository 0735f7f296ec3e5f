/**
 * The Node shell's spares (node/spares.ts, issue 13): by default a spare is made only after the
 * immediates queued in the turn that took one, so a dial's flush never waits for it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Spares } from '../../../src/node/spares.js';

test('spares are made after the immediates queued in the turn that took one (the driver flush first)', async () => {
  const order: string[] = [];
  const spares = new Spares(() => {
    order.push('made');
    return 1;
  });
  spares.take('x');
  // What the UDP driver does when a dialEarly() has written its 0-RTT request: flush this turn.
  setImmediate(() => order.push('flush'));
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(order, ['flush', 'made']);
  assert.equal(spares.readyCount('x'), 1);
});
