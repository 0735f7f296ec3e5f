/**
 * Over real UDP: requests that arrive in a burst, each in its own datagram (as quic-go's client sends
 * 10 requests in flight), make the server acknowledge before the end of the batch (ACK_BATCH_LIMIT:
 * at least every 8 ack-eliciting packets). That ACK carries the answers to the requests read so far
 * (the I/O loop lets the handlers answer before it sends it): no datagram with an ACK (and
 * MAX_STREAMS) alone goes out first, and the client gets 8 answers while the server still reads the
 * rest.
 *
 * A relay between the tsquic Client and the server holds the client's datagrams (one request each)
 * and releases them together, so the server reads them all in one batch. Read from the server's
 * qlog: frames, not times.
 */
import assert from 'node:assert/strict';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { directH3Server } from './h3-direct-server.js';
import { within } from './helpers.js';

const BURST = 10;

interface QlogFrame {
  frame_type: string;
  stream_id?: number;
}
interface QlogEvent {
  name: string;
  data?: { header?: { packet_type?: string }; frames?: QlogFrame[] };
}

/** Forwards between one client and the server; holds the client's datagrams while `holding`. */
class HoldingRelay {
  readonly held: Buffer[] = [];
  holding = false;
  private client: RemoteInfo | undefined;

  private constructor(
    private readonly front: Socket,
    private readonly up: Socket,
    private readonly serverPort: number,
  ) {
    front.on('message', (msg, from) => {
      this.client = from;
      if (this.holding) this.held.push(msg);
      else up.send(msg, serverPort, '127.0.0.1');
    });
    up.on('message', (msg) => {
      if (this.client) front.send(msg, this.client.port, this.client.address);
    });
  }

  static async start(serverPort: number): Promise<HoldingRelay> {
    const front = createSocket('udp4');
    const up = createSocket('udp4');
    front.bind(0, '127.0.0.1');
    up.bind(0, '127.0.0.1');
    await Promise.all([once(front, 'listening'), once(up, 'listening')]);
    return new HoldingRelay(front, up, serverPort);
  }

  get port(): number {
    return this.front.address().port;
  }

  /** Sends everything held, back to back, and stops holding. */
  release(): void {
    this.holding = false;
    for (const d of this.held.splice(0)) this.up.send(d, this.serverPort, '127.0.0.1');
  }

  close(): void {
    this.front.close();
    this.up.close();
  }
}

test('a burst of requests: the ACK due mid-batch carries answers, not an ACK alone', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsquic-h3-burst-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const server = await directH3Server({ qlogDir: dir });
  const relay = await HoldingRelay.start(server.port);
  const client = server.client;
  const base = `https://localhost:${relay.port}`;
  let burstStreams: number[] = [];
  try {
    // The handshake, the control and QPACK streams, and a first request.
    assert.equal(
      await (await within(client.fetch(`${base}/first`), 10_000, 'first GET')).text(),
      'ok /first',
    );
    relay.holding = true;
    const responses: Array<Promise<Response>> = [];
    for (let i = 0; i < BURST; i++) {
      const before = relay.held.length;
      responses.push(client.fetch(`${base}/b${i}`));
      // Each request in a datagram of its own: wait until the client has sent it.
      await within(
        (async () => {
          while (relay.held.length === before) await new Promise((r) => setImmediate(r));
        })(),
        10_000,
        `request ${i} sent`,
      );
    }
    relay.release();
    const bodies = await within(
      Promise.all(responses.map(async (r) => (await r).text())),
      10_000,
      'the burst answered',
    );
    assert.deepEqual(
      bodies,
      Array.from({ length: BURST }, (_, i) => `ok /b${i}`),
    );
    burstStreams = Array.from({ length: BURST }, (_, i) => 4 * (i + 1));
  } finally {
    await server.close();
    relay.close();
  }
  // The server's qlog is complete once its socket has closed.
  const files = readdirSync(dir);
  assert.equal(files.length, 1, `one server qlog: ${files}`);
  const events = readFileSync(join(dir, files[0]!), 'utf8')
    .split('\n')
    .map((l) => l.replace(/^[^{]*/, ''))
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as QlogEvent);
  // From the first packet of the burst received to the last answer sent: what each packet sent held.
  const first = events.findIndex(
    (e) =>
      e.name === 'transport:packet_received' &&
      (e.data?.frames ?? []).some((f) => f.frame_type === 'stream' && f.stream_id === burstStreams[0]),
  );
  assert.ok(first >= 0, 'the burst in the qlog');
  const sent: string[][] = [];
  let answered = 0;
  for (const e of events.slice(first)) {
    if (e.name !== 'transport:packet_sent' || e.data?.header?.packet_type !== '1RTT') continue;
    const frames = e.data.frames ?? [];
    sent.push(frames.map((f) => f.frame_type));
    answered += frames.filter((f) => f.frame_type === 'stream' && burstStreams.includes(f.stream_id!)).length;
    if (answered >= BURST) break;
  }
  assert.equal(answered, BURST, `every answer in the qlog: ${JSON.stringify(sent)}`);
  // The old behaviour: [ack, max_streams] first, then all 10 answers.
  assert.ok(
    sent.every((frames) => frames.includes('stream')),
    `a packet without answers while the burst was answered: ${JSON.stringify(sent)}`,
  );
  assert.ok(sent.length >= 2, `the answers went out before the end of the batch: ${JSON.stringify(sent)}`);
});
