/**
 * Same-run A/B of bulk transfers at <= 1452-byte packets between two or more checkouts (issue 13):
 * each `--root` is compiled as the package ships (its bench/tsconfig.dist.json into ROOT/.bench/js)
 * and the roots take turns, run by run, in the order rotated each round, so that they share the
 * machine's moods. quic-go 0.29 is the other side, so each figure isolates one tsquic side:
 *
 *  - `go-ts`: quic-go's client uploads to the tsquic server (the server's CPU: the receiver);
 *  - `ts-go`: the tsquic client uploads to quic-go's server (the client's CPU: the sender);
 *  - `ts-go-down`: the tsquic client downloads from quic-go's server (the client's CPU: the receiver);
 *  - `ts-ts`: the tsquic client uploads to the tsquic server of the same root.
 *
 * Printed per run: goodput (Mbit/s), CPU seconds per GiB of each tsquic side (user + system from
 * /proc/PID/stat for servers, process.cpuUsage for clients), packets the receiver sent per data packet
 * where tsquic counts them (its ACKs), and the load average. At the end: medians per root and the
 * median of the per-round ratios against the first root. CPU per GiB is the figure to trust on a busy
 * machine; goodput is wall-clock.
 *
 *   npx tsx bench/transfer-ab.ts --root OLD --root NEW [--rounds 5] [--size 100] [--cases go-ts,ts-go]
 *
 * The roots' bench/peers must report packetsReceived (copy this checkout's bench/peers into an old
 * one). Figures are printed, never asserted.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CAP, processCpuSeconds, type Server, startServer } from './compare.js';
import { formatMachine } from './core.js';
import type { PeerResult } from './peers/protocol.js';
import { buildGoPeer, type Command, GO_BINARY, runClient, writePki } from './udp.js';

type Case = 'go-ts' | 'ts-go' | 'ts-go-down' | 'ts-ts';
const CASES: readonly Case[] = ['go-ts', 'ts-go', 'ts-go-down', 'ts-ts'];
const GiB = 1024 ** 3;

function optionList(argv: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++)
    if (argv[i] === name && argv[i + 1] !== undefined) out.push(argv[i + 1]!);
  return out;
}

/** Compiles ROOT's src/ and bench/peers/ with ROOT's own TypeScript settings into ROOT/.bench/js. */
function build(root: string): void {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', join(root, 'bench', 'tsconfig.dist.json')], {
    stdio: 'inherit',
  });
}

const peer = (root: string, script: string, args: string[]): Command => ({
  file: process.execPath,
  args: [join(root, '.bench', 'js', 'bench', 'peers', script), ...args],
});

interface Figures {
  mbps: number;
  clientCpu?: number;
  serverCpu?: number;
  /** Packets the receiver sent per packet the sender sent (tsquic's ACKs). */
  acksPerPacket?: number;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  const roots = optionList(argv, '--root').map((r) => resolve(r));
  if (roots.length === 0) throw new Error('give at least one --root');
  const rounds = Number(optionList(argv, '--rounds')[0] ?? '5');
  const bytes = Number(optionList(argv, '--size')[0] ?? '100') * 1024 * 1024;
  const cases = (optionList(argv, '--cases')[0]?.split(',') ?? CASES) as Case[];
  for (const c of cases) if (!CASES.includes(c)) throw new Error(`unknown case ${c}`);
  console.log(formatMachine());
  for (const root of roots) build(root);
  const goMissing = buildGoPeer();
  if (goMissing) throw new Error(goMissing);
  const pki = writePki();
  const cap = ['--pmtu-max', String(CAP)];
  const goServer = await startServer({
    file: GO_BINARY,
    args: ['server', '-cert', pki.cert, '-key', pki.key],
  });
  const tsServers = new Map<string, Server>();
  for (const root of roots) {
    tsServers.set(
      root,
      await startServer(peer(root, 'quic-server.js', ['--cert', pki.cert, '--key', pki.key, ...cap])),
    );
  }
  const results = new Map<string, Figures[]>();
  const key = (c: Case, root: string) => `${c} ${root}`;
  try {
    for (let round = 0; round < rounds; round++) {
      for (const c of cases) {
        // Rotate the order of the roots each round.
        const order = roots.map((_, i) => roots[(i + round) % roots.length]!);
        for (const root of order) {
          const ts = tsServers.get(root)!;
          const server = c === 'go-ts' || c === 'ts-ts' ? ts : goServer;
          const mode = c === 'ts-go-down' ? 'download' : 'upload';
          const client: Command =
            c === 'go-ts'
              ? {
                  file: GO_BINARY,
                  args: [
                    'client',
                    '-addr',
                    server.address,
                    '-ca',
                    pki.ca,
                    '-mode',
                    mode,
                    '-size',
                    String(bytes),
                  ],
                }
              : peer(root, 'quic-client.js', [
                  '--addr',
                  server.address,
                  '--ca',
                  pki.ca,
                  '--mode',
                  mode,
                  '--size',
                  String(bytes),
                  ...cap,
                ]);
          const load0 = loadavg()[0]!;
          const stats0 = server === goServer ? undefined : await server.stats();
          const cpu0 = processCpuSeconds(server.pid);
          const r: PeerResult = await runClient(client, 600_000);
          const cpu1 = processCpuSeconds(server.pid);
          // The server counts a connection's packets once it has ended: wait for the close to arrive.
          await new Promise((done) => setTimeout(done, 300));
          const stats1 = server === goServer ? undefined : await server.stats();
          const gib = (r.bytes ?? bytes) / GiB;
          const f: Figures = { mbps: ((r.bytes ?? bytes) * 8) / 1e6 / r.seconds };
          if (c !== 'go-ts') f.clientCpu = r.cpuSeconds / gib;
          if (server !== goServer && cpu0 !== undefined && cpu1 !== undefined)
            f.serverCpu = (cpu1 - cpu0) / gib;
          if (c === 'go-ts' || c === 'ts-ts') {
            const sent = (stats1?.packetsSent ?? 0) - (stats0?.packetsSent ?? 0);
            const received = (stats1?.packetsReceived ?? 0) - (stats0?.packetsReceived ?? 0);
            if (received > 0) f.acksPerPacket = sent / received;
          } else if (c === 'ts-go' && r.packetsReceived !== undefined && r.packetsSent) {
            f.acksPerPacket = r.packetsReceived / r.packetsSent;
          } else if (c === 'ts-go-down' && r.packetsReceived && r.packetsSent !== undefined) {
            f.acksPerPacket = r.packetsSent / r.packetsReceived;
          }
          const list = results.get(key(c, root)) ?? [];
          list.push(f);
          results.set(key(c, root), list);
          console.log(
            `round ${round + 1} ${c.padEnd(10)} ${root}: ${f.mbps.toFixed(0)} Mbit/s, ` +
              `CPU s/GiB client ${f.clientCpu?.toFixed(2) ?? '-'} server ${f.serverCpu?.toFixed(2) ?? '-'}, ` +
              `receiver packets per sender packet ${f.acksPerPacket?.toFixed(3) ?? '-'}, ` +
              `load ${load0.toFixed(2)} -> ${loadavg()[0]!.toFixed(2)}`,
          );
        }
      }
    }
  } finally {
    await goServer.stop();
    for (const s of tsServers.values()) await s.stop();
    rmSync(pki.dir, { recursive: true, force: true });
  }
  const median = (v: number[]) => {
    const s = [...v].sort((a, b) => a - b);
    return s.length === 0
      ? Number.NaN
      : s.length % 2
        ? s[s.length >> 1]!
        : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  };
  console.log(`\nmedians over ${rounds} rounds, ${bytes / 1024 / 1024} MiB, datagrams <= ${CAP} B:`);
  for (const c of cases) {
    const base = results.get(key(c, roots[0]!)) ?? [];
    for (const root of roots) {
      const list = results.get(key(c, root)) ?? [];
      const field = (g: (f: Figures) => number | undefined) => {
        const v = list.map(g).filter((x): x is number => x !== undefined);
        return v.length ? median(v) : undefined;
      };
      const ratio = (g: (f: Figures) => number | undefined) => {
        const v = list
          .map((f, i) => {
            const a = g(f);
            const b = base[i] ? g(base[i]!) : undefined;
            return a !== undefined && b !== undefined && b > 0 ? a / b : undefined;
          })
          .filter((x): x is number => x !== undefined);
        return v.length ? median(v).toFixed(2) : '-';
      };
      console.log(
        `${c.padEnd(10)} ${root}: ${field((f) => f.mbps)?.toFixed(0)} Mbit/s (x${ratio((f) => f.mbps)}), ` +
          `client ${field((f) => f.clientCpu)?.toFixed(2) ?? '-'} s/GiB (x${ratio((f) => f.clientCpu)}), ` +
          `server ${field((f) => f.serverCpu)?.toFixed(2) ?? '-'} s/GiB (x${ratio((f) => f.serverCpu)}), ` +
          `receiver packets per sender packet ${field((f) => f.acksPerPacket)?.toFixed(3) ?? '-'}`,
      );
    }
  }
  console.log(
    `load average at the end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
}
