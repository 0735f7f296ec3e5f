/**
 * TLS 1.3 engine benchmark: full handshakes per second and resumed (PSK, with 0-RTT accepted)
 * handshakes per second, client and server engines talking in memory, for server keys ECDSA P-256,
 * RSA-2048 and Ed25519. Full handshakes include the client's certificate chain verification.
 *
 *   npx tsx bench/tls.ts [durationMs per measurement, default 1000]
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { SessionTicketKeys } from '../src/tls/session-ticket-keys.js';
import { TlsClient } from '../src/tls/tls-client.js';
import { TlsServer } from '../src/tls/tls-server.js';
import type { ResumptionSession, TlsClientConfig, TlsEngine, TlsServerConfig } from '../src/tls/types.js';
import { type CertificateKeyType, createTestPki } from '../src/tls/x509-builder.js';

export interface TlsBenchResult {
  keyType: CertificateKeyType;
  fullPerSecond: number;
  resumedPerSecond: number;
}

const random = (n: number) => randomBytes(n);

/** Shuttles handshake bytes until both engines are done; returns the client's session tickets. */
function connect(client: TlsEngine, server: TlsEngine, now: number): ResumptionSession[] {
  const tickets: ResumptionSession[] = [];
  client.start(now);
  for (let moved = true; moved; ) {
    moved = false;
    for (const [from, to] of [
      [client, server],
      [server, client],
    ] as const) {
      for (let out = from.takeOutput(); out; out = from.takeOutput()) {
        to.receive(out.level, out.data, now);
        moved = true;
      }
    }
  }
  for (let e = client.pollEvent(); e; e = client.pollEvent())
    if (e.type === 'session-ticket') tickets.push(e.session);
  while (server.pollEvent());
  if (!client.handshakeComplete || !server.handshakeComplete) throw new Error('handshake did not complete');
  return tickets;
}

function measure(durationMs: number, op: () => void): number {
  for (let i = 0; i < 5; i++) op();
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < durationMs) {
    op();
    n++;
    now = performance.now();
  }
  return (n * 1000) / (now - start);
}

export async function run(durationMs = 1000): Promise<TlsBenchResult[]> {
  const results: TlsBenchResult[] = [];
  const now = Date.now();
  for (const keyType of ['ec-p256', 'rsa-2048', 'ed25519'] as const) {
    const { ca, leaf } = createTestPki({ names: ['bench.example'], now, keyType });
    const ticketKeys = new SessionTicketKeys({ random, now });
    const serverConfig: TlsServerConfig = {
      alpn: ['h3'],
      transportParameters: Buffer.from('server-tp'),
      random,
      identity: { certificateChain: leaf.certPem + ca.certPem, privateKey: leaf.keyPem },
      ticketKeys,
      issueEarlyDataTickets: true,
      acceptEarlyData: () => true,
    };
    const clientConfig: TlsClientConfig = {
      alpn: ['h3'],
      transportParameters: Buffer.from('client-tp'),
      random,
      serverName: 'bench.example',
      ca: [ca.certPem],
    };
    let session: ResumptionSession | undefined;
    const fullPerSecond = measure(durationMs, () => {
      session = connect(new TlsClient(clientConfig), new TlsServer(serverConfig), now)[0];
    });
    const resumed: TlsClientConfig = { ...clientConfig, session, offerEarlyData: true };
    const resumedPerSecond = measure(durationMs, () => {
      connect(new TlsClient(resumed), new TlsServer(serverConfig), now);
    });
    results.push({ keyType, fullPerSecond, resumedPerSecond });
  }
  return results;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = Number(process.argv[2]);
  const results = await run(Number.isFinite(arg) && arg > 0 ? arg : 1000);
  console.log('tls: handshakes per second (client + server engines in memory, one thread)');
  for (const r of results) {
    console.log(
      `  ${r.keyType.padEnd(10)} full ${r.fullPerSecond.toFixed(0).padStart(6)}/s   resumed+0-RTT ${r.resumedPerSecond
        .toFixed(0)
        .padStart(6)}/s`,
    );
  }
}
