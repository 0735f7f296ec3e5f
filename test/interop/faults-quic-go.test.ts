/**
 * Fault injection over real UDP against quic-go 0.29 (issue 10, issue 16): the quic-go client
 * against the tsquic server and the tsquic client against the quic-go server, through the project's
 * fault proxy (test/fault/fault-proxy.ts) in the interop runner's scenarios plus burst loss. Every
 * file arrives whole (SHA-256) within the bound. `npm run bench -- --only faults` prints the times
 * next to quic-go <-> quic-go's.
 */
import { after, before, describe, test } from 'node:test';
import { runScenario, type Stack, scenarios } from '../fault/fault-runs.js';
import { killAllGoPeers, makeTempDir, removeDir, type TestPkiFiles, writeTestPki } from './go-peers.js';

let work = '';
let pki: TestPkiFiles;
before(() => {
  work = makeTempDir('tsquic-faults-go-');
  pki = writeTestPki(work);
});
after(async () => {
  await killAllGoPeers();
  removeDir(work);
});

const PAIRS: Array<[Stack, Stack]> = [
  ['quic-go', 'tsquic'],
  ['tsquic', 'quic-go'],
];

for (const [client, server] of PAIRS) {
  describe(`${client} client -> ${server} server through the fault proxy`, () => {
    for (const s of scenarios().filter((x) => x.servers?.includes(server) ?? true)) {
      test(s.name, { timeout: 90_000 }, async () => {
        await runScenario(s, client, server, { work, pki, seed: 20, timeoutMs: 60_000 });
      });
    }
  });
}
