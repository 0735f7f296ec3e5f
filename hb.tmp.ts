import { hmacSha256Into } from './src/crypto/hmac-sha256.ts';
import { createHmac } from 'node:crypto';
const out = new Uint8Array(32);
const data = new Uint8Array(40).fill(7);
const keys = Array.from({ length: 8 }, (_, i) => new Uint8Array(32).fill(i + 1));
for (let r = 0; r < 5; r++) {
  const N = 100000;
  let t = performance.now();
  for (let i = 0; i < N; i++) hmacSha256Into(keys[i & 7]!, data, 40, out);
  const miss = (performance.now() - t) / N * 1000;
  t = performance.now();
  for (let i = 0; i < N; i++) hmacSha256Into(keys[0]!, data, 40, out);
  const hit = (performance.now() - t) / N * 1000;
  console.log(`hmac: new key ${miss.toFixed(2)} us (4 compressions), cached key ${hit.toFixed(2)} us (2)`);
}
const ref = createHmac('sha256', keys[3]!).update(data).digest('hex');
hmacSha256Into(keys[3]!, data, 40, out);
console.log(Buffer.from(out).toString('hex') === ref ? 'ok' : 'MISMATCH');
