/**
 * tshark on loopback for the HTTP/3 interop tests: a capture of some UDP ports into a file, and its
 * dissection decrypted with an NSS key log. (The same technique as keylog.test.ts: marker datagrams
 * make sure tshark was capturing before the first packet and until after the last.)
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import type { TestContext } from 'node:test';
import { type ProcessResult, runProcess } from '../support/child-process.js';

export type Run = ProcessResult;

export function run(command: string, args: string[], timeoutMs = 60_000): Promise<Run> {
  return runProcess(command, args, { timeoutMs });
}

export class Capture {
  private output = '';
  private errors = '';
  private exited = false;
  private sequence = 0;

  private constructor(
    private readonly child: ChildProcess,
    private readonly marker: Socket,
  ) {
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      this.output += s;
    });
    child.stderr?.setEncoding('utf8').on('data', (s: string) => {
      this.errors += s;
    });
    child.once('exit', () => {
      this.exited = true;
    });
    child.once('error', (err) => {
      this.errors += err.message;
      this.exited = true;
    });
  }

  /**
   * Capture UDP on `lo` for `ports` into `file`; resolves once tshark is capturing. tshark is live only
   * some time after it says so: marker datagrams to a port of our own (part of the capture filter) are
   * sent until tshark prints one, at start and at stop, so every packet in between is in the file.
   */
  static async start(t: TestContext, ports: number[], file: string): Promise<Capture> {
    const marker = createSocket('udp4');
    await new Promise<void>((resolve) => marker.bind(0, '127.0.0.1', resolve));
    const filter = [...ports, marker.address().port].map((p) => `udp port ${p}`).join(' or ');
    const child = spawn(
      'tshark',
      // -B 64: a 64 MiB capture buffer (default 2 MiB), so that a loaded machine, where dumpcap
      // falls behind a 10 MiB transfer on loopback, does not drop packets from the capture.
      ['-i', 'lo', '-B', '64', '-f', filter, '-w', file, '-P', '-l', '-T', 'fields', '-e', 'data.data'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const capture = new Capture(child, marker);
    t.after(() => capture.kill());
    try {
      await capture.sync('start', 20_000);
    } catch (err) {
      capture.kill();
      const uid = process.getuid?.() ?? -1;
      throw new Error(
        `tshark cannot capture on the loopback interface (uid ${uid}): ${(err as Error).message}\n` +
          'Run the tests as root, or allow dumpcap to capture (e.g. `setcap cap_net_raw,cap_net_admin+eip ' +
          `$(command -v dumpcap)\`; .ci/run runs as root). tshark said:\n${capture.errors}`,
      );
    }
    return capture;
  }

  private async sync(what: string, timeoutMs: number): Promise<void> {
    const text = `tsquic-capture-${what}-${this.sequence++}`;
    const hex = Buffer.from(text).toString('hex');
    const deadline = performance.now() + timeoutMs;
    while (!this.output.includes(hex)) {
      if (this.exited) throw new Error('tshark exited');
      if (performance.now() > deadline) throw new Error(`no marker packet seen within ${timeoutMs} ms`);
      this.marker.send(text, this.marker.address().port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    await this.sync('end', 20_000);
    const exited = new Promise<void>((resolve) => {
      if (this.exited) resolve();
      else this.child.once('exit', () => resolve());
    });
    this.child.kill('SIGINT');
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('tshark did not stop within 15 s')), 15_000);
    });
    try {
      await Promise.race([exited, bound]);
    } finally {
      clearTimeout(timer);
    }
    this.marker.close();
  }

  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
    try {
      this.marker.close();
    } catch {
      // already closed
    }
  }
}

/** tshark's fields for the packets on `port` matching `filter`, decrypted with `keylog`. */
export async function dissect(
  file: string,
  keylog: string,
  port: number,
  filter: string,
  fields: string[],
): Promise<string[][]> {
  const r = await run('tshark', [
    '-r',
    file,
    '-o',
    `tls.keylog_file:${keylog}`,
    '-d',
    `udp.port==${port},quic`,
    '-Y',
    `udp.port == ${port}${filter ? ` && (${filter})` : ''}`,
    '-T',
    'fields',
    ...fields.flatMap((f) => ['-e', f]),
    '-E',
    'separator=|',
  ]);
  assert.equal(r.code, 0, `tshark -r failed: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('|'));
}

/**
 * Every QUIC packet on `port` decrypts with `keylog`, nothing is malformed and tshark has no expert
 * warning; returns the HTTP/3 frame types it dissected.
 *
 * `opaqueZeroRtt`: datagrams carrying a 0-RTT packet may fail to decrypt, and only those. Wireshark
 * 4.0 (Debian 12) opens 0-RTT packets with AES-128-GCM only: under ChaCha20-Poly1305 it cannot read
 * them (later versions try each suite). The caller then proves the 0-RTT data arrived another way
 * (the server's log), and the returned count says how many such datagrams there were.
 */
export async function assertCleanHttp3(
  file: string,
  keylog: string,
  port: number,
  opts: { opaqueZeroRtt?: boolean } = {},
): Promise<Set<number>> {
  const failed = opts.opaqueZeroRtt
    ? '(quic.decryption_failed && !(quic.long.packet_type == 1))'
    : 'quic.decryption_failed';
  const bad = await dissect(
    file,
    keylog,
    port,
    `${failed} || quic.remaining_payload || _ws.malformed || (_ws.expert.severity >= warning && !quic.decryption_failed)`,
    ['frame.number', '_ws.expert.message'],
  );
  assert.deepEqual(bad, [], 'tshark reported undecryptable or malformed packets, or expert warnings');
  const rows = await dissect(file, keylog, port, '', [
    'frame.number',
    'quic.frame_type',
    'http3.frame_type',
    'quic.long.packet_type',
  ]);
  assert.ok(rows.length > 0, 'packets were captured');
  const h3 = new Set<number>();
  for (const [frame, quicTypes, h3Types, longTypes] of rows) {
    const zeroRtt = (longTypes ?? '').split(',').includes('1');
    if (!(opts.opaqueZeroRtt && zeroRtt))
      assert.notEqual(quicTypes, '', `frame ${frame}: no QUIC frame was decrypted`);
    for (const t of h3Types ? h3Types.split(',') : []) h3.add(Number(t));
  }
  return h3;
}
