/**
 * The Node shell's spares (node/spares.ts, issue 13): by default a spare is made only after the
 * immediates queued in the turn that took one, so a dial's flush never waits for it.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
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

test('spares are made while the process waits for its peer, not after the answer comes', async () => {
  // A handshake that took a spare sends its datagram and waits for the peer. The refill must run in
  // that wait. Were the turn after the send to block in the poll phase (an unref()'d immediate does
  // not keep it from blocking), the refill would run only once the peer's datagram had woken the
  // loop, after its callback and before the reply that callback queued (issue 13: ~0.1 ms of a key
  // share and Initial keys on each side's critical path of every resumed and 0-RTT connection). The
  // peer here is a worker thread that answers 200 ms after it is asked.
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const peer = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const s = require('node:dgram').createSocket('udp4');
     parentPort.once('message', () =>
       setTimeout(() => s.send('answer', workerData.port, '127.0.0.1', () => s.close()), 200));`,
    { eval: true, workerData: { port: socket.address().port } },
  );
  try {
    await new Promise((resolve) => peer.once('online', resolve));
    const order: string[] = [];
    const spares = new Spares(() => {
      order.push('made');
      return 1;
    });
    const answered = new Promise<void>((resolve) =>
      socket.once('message', () => {
        order.push('answer');
        setImmediate(() => {
          order.push('reply');
          resolve();
        });
      }),
    );
    spares.take('x');
    setImmediate(() => order.push('flush'));
    peer.postMessage('go');
    await answered;
    assert.deepEqual(order, ['flush', 'made', 'answer', 'reply']);
  } finally {
    socket.close();
    await peer.terminate();
  }
});
