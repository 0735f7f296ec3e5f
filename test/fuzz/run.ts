/**
 * `npm run fuzz [-- --seconds N] [--target name] [--seed S]`: each target for N seconds (default 120)
 * with a random seed unless given. Prints executions per target; stops at the first finding (saved in
 * test/fuzz/findings/; once fixed, move it to test/fuzz/regressions/<target>/).
 */
import { parseArgs } from 'node:util';
import { fuzz } from './engine.js';
import { TARGETS } from './targets.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '120' },
    target: { type: 'string' },
    seed: { type: 'string' },
  },
});
const ms = Number(values.seconds) * 1000;
const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const targets = values.target ? TARGETS.filter((t) => t.name === values.target) : TARGETS;
if (targets.length === 0) {
  console.error(`unknown target ${values.target}; targets: ${TARGETS.map((t) => t.name).join(', ')}`);
  process.exit(2);
}
console.log(`seed ${seed}, ${values.seconds} s per target`);
let failed = false;
for (const t of targets) {
  const started = Date.now();
  const r = fuzz(t, { ms, seed });
  const secs = (Date.now() - started) / 1000;
  console.log(
    `${t.name.padEnd(22)} ${String(r.executions).padStart(9)} executions in ${secs.toFixed(1)} s (corpus ${r.corpus}, regressions ${r.regressions})`,
  );
  if (r.failure) {
    console.log(`  FINDING: ${r.failure.file}\n${r.failure.error}`);
    failed = true;
    break;
  }
}
process.exit(failed ? 1 : 0);
