/**
 * The HTTP/3 part of `tsquic demo`: a tsquic/http3 server and the Client's fetch(), showing a request
 * sent in 0-RTT and accepted, then one the server rejects, which the Client sends again on the next
 * connection by itself (the caller sees one response).
 */
import { performance } from 'node:perf_hooks';
import { Client, createServer, type Http3Server } from '../http3/index.js';
import { SessionCache } from '../index.js';
import { DelayRelay } from './delay-relay.js';

export interface H3DemoResult {
  outcomes: string[];
  ok: boolean;
}

export class H3Demo {
  private server: Http3Server | undefined;
  private relay: DelayRelay | undefined;
  private allowEarly = true;
  private readonly seen: Array<{ url: string; early: boolean }> = [];

  constructor(
    private readonly pki: { cert: string; key: string; ca: string },
    private readonly rtt: number,
    private readonly say: (line?: string) => void,
    private readonly time: (ms: number) => string,
  ) {}

  async run(): Promise<boolean> {
    const server = createServer(
      { cert: this.pki.cert, key: this.pki.key, allow0RTT: () => this.allowEarly },
      (req, res) => {
        this.seen.push({ url: req.url, early: req.early });
        res.setHeader('content-type', 'text/plain');
        res.end(`hello ${req.url} over HTTP/3${req.early ? ', served from 0-RTT' : ''}\n`);
      },
    );
    this.server = server;
    await server.listen({ host: '127.0.0.1', port: 0 });
    let port = server.address().port;
    if (this.rtt > 0) {
      this.relay = await DelayRelay.start({ host: '127.0.0.1', port }, this.rtt / 2);
      port = this.relay.port;
    }
    const base = `https://localhost:${port}`;
    const cache = new SessionCache();
    this.say('4) HTTP/3 (tsquic/http3): fetch() with 0-RTT, accepted and then rejected');
    // Warm-up on a direct connection, so that the timings below measure round trips.
    const warm = new Client({ ca: this.pki.ca, sessionCache: new SessionCache() });
    await (await warm.fetch(`https://localhost:${server.address().port}/warm`)).text();
    await warm.close();

    const first = await this.fetchOnce(base, cache, '/first');
    this.say(`   first fetch:    ${first.status}, 0-RTT ${first.zeroRTT}   ${this.time(first.ms)}`);
    const accepted = await this.fetchOnce(base, cache, '/early');
    const sawEarly = this.seen.find((s) => s.url === '/early')?.early === true;
    this.say(`   0-RTT accepted: ${accepted.status}, 0-RTT ${accepted.zeroRTT}   ${this.time(accepted.ms)}`);
    this.say(`     the request went with the first flight; the server saw req.early = ${sawEarly}`);
    this.allowEarly = false;
    const rejected = await this.fetchOnce(base, cache, '/again');
    const times = this.seen.filter((s) => s.url === '/again').length;
    this.say(`   0-RTT rejected: ${rejected.status}, 0-RTT ${rejected.zeroRTT}   ${this.time(rejected.ms)}`);
    this.say(
      `     the Client sent it again on nextConnection(): one response, the server saw it ${times === 1 ? 'once' : `${times} times`}`,
    );
    this.say();
    return (
      first.status === 200 &&
      first.zeroRTT === 'not-attempted' &&
      accepted.zeroRTT === 'accepted' &&
      sawEarly &&
      rejected.status === 200 &&
      rejected.zeroRTT === 'rejected' &&
      times === 1
    );
  }

  /** One Client per visit (a new connection), sharing the session cache; waits for a ticket. */
  private async fetchOnce(base: string, cache: SessionCache, path: string) {
    const client = new Client({ ca: this.pki.ca, sessionCache: cache });
    const t0 = performance.now();
    const res = await client.fetch(`${base}${path}`);
    await res.text();
    const ms = performance.now() - t0;
    for (let i = 0; i < 200 && !cache.hasSession('localhost', Date.now()); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await client.close();
    return { status: res.status, zeroRTT: res.zeroRTT, ms };
  }

  async cleanup(): Promise<void> {
    this.relay?.close();
    await this.server?.close();
  }
}
