/**
 * Completion times under faults, over real UDP on loopback through the project's fault proxy
 * (test/fault/fault-proxy.ts): each interop-runner scenario (and issue 16's burst loss) for
 * tsquic <-> tsquic, quic-go client -> tsquic server, tsquic client -> quic-go server and quic-go <->
 * quic-go 0.29, every peer in a process of its own, the same seeds (hence the same fault patterns
 * for the same datagram sequence) for every pairing. The proxy passes datagrams of at most 1452
 * bytes (PMTU discovery settles there). Printed as a table with each time's ratio to quic-go's;
 * nothing is asserted.
 *
 *   npm run bench -- --only faults [--runs N] [--quick]
 */

import { PATH_MTU, runScenario, type Stack, scenarios } from '../test/fault/fault-runs.js';
import { killAllGoPeers, makeTempDir, removeDir, writeTestPki } from '../test/interop/go-peers.js';

export const PAIRS: Array<[Stack, Stack]> = [
  ['tsquic', 'tsquic'],
  ['quic-go', 'tsquic'],
  ['tsquic', 'quic-go'],
  ['quic-go', 'quic-go'],
];

export interface FaultsRow {
  scenario: string;
  /** Median completion time (ms) per pairing ("client>server"); undefined: not applicable. */
  ms: Map<string, number | undefined>;
  /** Runs that failed (file not whole, or over the bound), per pairing. */
  failures: Map<string, number>;
}

const pairName = ([c, s]: [Stack, Stack]) => `${c}>${s}`;

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >>> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export async function run(opts: {
  runs: number;
  quick: boolean;
  log?: (line: string) => void;
}): Promise<FaultsRow[]> {
  const work = makeTempDir('tsquic-bench-faults-');
  const pki = writeTestPki(work);
  const rows: FaultsRow[] = [];
  try {
    for (const s of scenarios(opts.quick ? 0.5 : 1)) {
      const row: FaultsRow = { scenario: s.name, ms: new Map(), failures: new Map() };
      for (const pair of PAIRS) {
        const name = pairName(pair);
        if (s.servers && !s.servers.includes(pair[1])) {
          row.ms.set(name, undefined);
          continue;
        }
        const times: number[] = [];
        let failures = 0;
        for (let i = 0; i < opts.runs; i++) {
          try {
            const r = await runScenario(s, pair[0], pair[1], {
              work,
              pki,
              seed: 100 + i,
              timeoutMs: 60_000,
              ownProcesses: true,
            });
            times.push(r.ms);
          } catch (e) {
            failures++;
            opts.log?.(`faults: ${s.name} ${name} run ${i}: ${String(e).split('\n')[0]}`);
          }
        }
        row.ms.set(name, times.length > 0 ? median(times) : Number.NaN);
        row.failures.set(name, failures);
        opts.log?.(`faults: ${s.name} ${name}: ${times.map((t) => t.toFixed(0)).join(', ')} ms`);
      }
      rows.push(row);
    }
  } finally {
    await killAllGoPeers();
    removeDir(work);
  }
  return rows;
}

export function formatFaults(rows: FaultsRow[], runs: number): string {
  const names = PAIRS.map(pairName);
  const ref = pairName(['quic-go', 'quic-go']);
  const lines = [
    `Completion time under faults (median of ${runs} seeds, ms; datagrams <= ${PATH_MTU} bytes; x = / quic-go>quic-go)`,
    ['scenario', ...names].map((c, i) => (i === 0 ? c.padEnd(20) : c.padStart(22))).join(''),
  ];
  for (const r of rows) {
    const base = r.ms.get(ref);
    const cells = names.map((n) => {
      const v = r.ms.get(n);
      if (v === undefined) return 'n/a'.padStart(22);
      const fails = r.failures.get(n) ?? 0;
      const x =
        base !== undefined && Number.isFinite(base) && Number.isFinite(v)
          ? ` (${(v / base).toFixed(1)}x)`
          : '';
      return `${Number.isFinite(v) ? v.toFixed(0) : 'failed'}${x}${fails > 0 ? ` ${fails}F` : ''}`.padStart(
        22,
      );
    });
    lines.push(`${r.scenario.padEnd(20)}${cells.join('')}`);
  }
  lines.push(
    'F: runs that did not complete byte-exact within 60 s. n/a: quic-go 0.29 servers do not follow a NAT rebinding.',
  );
  return lines.join('\n');
}
