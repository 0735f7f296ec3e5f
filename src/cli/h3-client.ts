/**
 * `tsquic client --alpn h3`: fetch URLs over HTTP/3 with the tsquic/http3 Client (one pooled
 * connection, requests in parallel), saving each 2xx body under its file name. With --0rtt the GET
 * requests go in 0-RTT when a saved ticket allows it; a rejection is recovered by the Client (the
 * requests are sent again on the next connection). Prints the status of every URL; fails if any is
 * not 2xx.
 */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { Client, type Http3ClientOptions, type ZeroRttOutcome } from '../http3/index.js';
import { EXIT_FAILURE, type FetchPlan } from './args.js';
import { formatBytes, formatDuration, formatRate, oneLine } from './format.js';
import type { TicketWatch } from './ticket-watch.js';

export interface H3FetchOptions {
  plan: FetchPlan;
  urls: string[];
  client: Http3ClientOptions;
  early: boolean;
  outDir: string;
  watch: TicketWatch;
  wantTicket: boolean;
}

interface Outcome {
  url: string;
  status: number | undefined;
  bytes: number;
  zeroRTT: ZeroRttOutcome;
  error?: string;
}

export async function fetchH3(o: H3FetchOptions): Promise<number> {
  const client = new Client({ ...o.client, sessionCache: o.watch, earlyData: o.early });
  const start = performance.now();
  const outcomes = await Promise.all(
    o.urls.map((url, i) => fetchOne(client, url, join(o.outDir, o.plan.targets[i]!.name))),
  );
  const elapsed = performance.now() - start;
  if (o.wantTicket) await o.watch.waitForTicket(200);
  await client.close();
  const zero = outcomes.some((r) => r.zeroRTT === 'rejected')
    ? 'rejected'
    : outcomes.some((r) => r.zeroRTT === 'accepted')
      ? 'accepted'
      : 'not-attempted';
  if (o.early) {
    process.stdout.write(
      zero === 'accepted'
        ? '0-RTT accepted: the requests went out with the first flight\n'
        : zero === 'rejected'
          ? `0-RTT rejected: the requests were sent again on a new connection\n`
          : '0-RTT not attempted (no session ticket allowing early data)\n',
    );
  }
  let failed = 0;
  let total = 0;
  for (const r of outcomes) {
    total += r.bytes;
    if (r.status === undefined) {
      failed++;
      process.stdout.write(`error ${r.url}: ${r.error}\n`);
    } else {
      if (r.status < 200 || r.status > 299) failed++;
      process.stdout.write(
        `${r.status} ${r.url} ${formatBytes(r.bytes)}${r.zeroRTT === 'not-attempted' ? '' : ` (0-RTT ${r.zeroRTT})`}\n`,
      );
    }
  }
  const kind = zero === 'not-attempted' ? 'no 0-RTT' : `0-RTT ${zero}`;
  process.stdout.write(
    `${o.urls.length} URL${o.urls.length === 1 ? '' : 's'}, ${formatBytes(total)} in ${formatDuration(elapsed)}, ` +
      `${formatRate(total, elapsed)} goodput, HTTP/3, ${kind}\n`,
  );
  if (failed > 0) {
    process.stderr.write(
      `tsquic client: error: ${failed} of ${o.urls.length} requests did not succeed (2xx)\n`,
    );
    return EXIT_FAILURE;
  }
  return 0;
}

async function fetchOne(client: Client, url: string, file: string): Promise<Outcome> {
  let res: Awaited<ReturnType<Client['fetch']>>;
  try {
    res = await client.fetch(url);
  } catch (err) {
    return { url, status: undefined, bytes: 0, zeroRTT: 'not-attempted', error: oneLine(err) };
  }
  const ok = res.status >= 200 && res.status <= 299;
  if (!ok || !res.body) {
    const n = (await res.arrayBuffer()).byteLength;
    return { url, status: res.status, bytes: ok ? n : 0, zeroRTT: res.zeroRTT };
  }
  const part = `${file}.part`;
  let bytes = 0;
  try {
    const body = Readable.fromWeb(res.body as unknown as NodeReadableStream<Uint8Array>);
    body.on('data', (c: Buffer) => {
      bytes += c.length;
    });
    await pipeline(body, createWriteStream(part));
    await rename(part, file);
    return { url, status: res.status, bytes, zeroRTT: res.zeroRTT };
  } catch (err) {
    await rm(part, { force: true });
    return { url, status: undefined, bytes: 0, zeroRTT: res.zeroRTT, error: oneLine(err) };
  }
}
