import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClosingAnswers } from '../../../src/connection/closing-answers.js';

test('a closing connection answers the 1st, 2nd, 4th, 8th, ... datagram (RFC 9000 §10.2.1)', () => {
  const answers = new ClosingAnswers();
  const answered: number[] = [];
  for (let i = 1; i <= 1000; i++) if (answers.onDatagram()) answered.push(i);
  assert.deepEqual(answered, [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]);
  assert.equal(answers.datagramsReceived, 1000);
});
