/**
 * Issue 13: what shares a datagram when connections share a batch. Over real UDP on 127.0.0.1
 * through a relay that records (and can hold) the datagrams it forwards, so the figures do not come
 * from tsquic's own accounting.
 *
 * - A server that reads, in one batch, a client's Finished with its first request and another
 *   client's ClientHello answers the first client in one datagram (HANDSHAKE_DONE with the answer).
 *   The ClientHello makes an ACK due at once (RFC 9000 §13.2.1); only that connection sends then,
 *   the others of the batch wait for their applications' answers. Before, everything queued went
 *   at once: HANDSHAKE_DONE alone, the answer in a second datagram.
 * - The same when the Finished and request arrive just after a flush that scheduled a send turn
 *   (another connection's application was answering): the send turn runs before the next poll
 *   phase, so the datagram finds a flush and a send turn of its own.
 * - Liveness: a connection whose requests keep arriving, each just after the flush of the one
 *   before, gets answers out while they keep coming.
 * - The send turn runs in the check phase of the flush that asked for it (right after the
 *   application's ticks and microtasks), not after the next poll phase, which may read and process
 *   many other datagrams first.
 * - A client that closes once the handshake is confirmed sends the CONNECTION_CLOSE alone: no
 *   datagram with only the ACK of the last answer before it (that cost the client a send and the
 *   server a reply).
 * - A server's answer to 0-RTT requests that came with a ClientHello rides in its flight's
 *   datagram (0.5-RTT data) when other clients' datagrams follow in the batch: the application gets
 *   the requests in the middle of the batch, and the flight waits for the next datagram's callback.
 *   Before, the requests reached it at the end of the batch, and the answers went separately.
 * - Without waiting for the end of the batch either: the answer to a client's Finished and request,
 *   and the HANDSHAKE_DONE of a client whose 0-RTT requests were answered already (RFC 9001
 *   §4.1.2: sent as soon as the handshake completes).
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { after, test } from 'node:test';
import { dial, dialEarly, type EarlyConnection, type QuicStream } from '../../src/index.js';
import { splitDatagram } from '../../src/wire/coalesced.js';
import { PacketType } from '../../src/wire/packet-header.js';
import { clientOptions, echoServer, readAll, serve, startServer, within } from './helpers.js';
import { type Flow, packetTypes, showFlow as show, UdpRelay } from './udp-relay.js';
import { cleanupZeroRtt, earlyEchoServer, getTicket, TicketCache } from './zero-rtt-helpers.js';

after(cleanupZeroRtt);

const TIMEOUT = 10_000;

/** Datagrams `dir` in `flow` after its `after`-th entry, up to the next one the other way. */
function runAfter(flow: ReadonlyArray<{ dir: 'up' | 'down' }>, after: number, dir: 'up' | 'down'): number {
  let n = 0;
  for (let i = after + 1; i < flow.length && flow[i]!.dir === dir; i++) n++;
  return n;
}

/**
 * Client A's second datagram (Initial ACK, Finished, first request), held by the relay until the
 * test lets it go. What A sends after it, while it is held and until the server's next datagram
 * (A's PTO may fire: its first RTT sample was the server's quick flight), is lost: the server hears
 * of A's Finished from that datagram, and what it sends back comes right after it in A's flow.
 */
class HeldFinished {
  private datagram: Buffer | undefined;
  /** Where the released datagram is in A's flow (-1: not released). */
  private releasedAt = -1;
  private onHeld: () => void = () => {};
  readonly held = new Promise<void>((resolve) => {
    this.onHeld = resolve;
  });

  /** The relay's rule for A's datagram number `up` (`flow`: what the relay saw of A): true to hold or lose it. */
  hold(up: number, datagram: Buffer, flow: Flow | undefined): boolean {
    if (up === 1) {
      this.datagram = datagram;
      this.onHeld();
      return true;
    }
    if (up < 1) return false;
    return this.releasedAt < 0 || !flow?.slice(this.releasedAt).some((d) => d.dir === 'down');
  }

  /** The held datagram, once (undefined before it is held or once taken); `flow`: A's. */
  take(flow: Flow | undefined): Buffer | undefined {
    if (this.datagram === undefined || this.releasedAt >= 0) return undefined;
    this.releasedAt = flow?.length ?? 0;
    return this.datagram;
  }
}

/**
 * A relay in which client A's (flow `a`) held Finished waits for the ClientHello of the next client
 * (flow `a + 1`); both then go to the server back to back, from one callback, so the server reads
 * them in one batch, A's first.
 */
async function releasedByNextClient(serverPort: number, held: HeldFinished, a: number): Promise<UdpRelay> {
  const relay = await UdpRelay.start(serverPort, (flow, up, datagram) => {
    if (flow === a) return held.hold(up, datagram, relay.flows[a]);
    const finished = flow === a + 1 && up === 0 ? held.take(relay.flows[a]) : undefined;
    if (!finished) return false;
    relay.forward(a, finished);
    relay.forward(a + 1, datagram);
    return true;
  });
  return relay;
}

/** Where A's released datagram (its first after the server's flight) is in A's flow. */
function releasedAt(flowA: Flow): number {
  const released = flowA.findIndex(
    (d, i) => d.dir === 'up' && flowA.slice(0, i).some((e) => e.dir === 'down'),
  );
  assert.ok(released > 0, show(flowA));
  return released;
}

/** After A's released datagram, one datagram from the server (HANDSHAKE_DONE and the answer). */
function assertOneAnswer(flowA: Flow): void {
  assert.equal(
    runAfter(flowA, releasedAt(flowA), 'down'),
    1,
    `one datagram answers A's Finished and request (HANDSHAKE_DONE and the answer): ${show(flowA)}`,
  );
}

/**
 * The server answered A's released datagram before B's ClientHello, which came right after it in
 * the same batch: A's answer did not wait for the end of the batch.
 */
function assertAnsweredFirst(flowA: Flow, flowB: Flow): void {
  const answer = flowA[releasedAt(flowA) + 1];
  const flightB = flowB.find((d) => d.dir === 'down');
  assert.ok(answer?.dir === 'down' && flightB !== undefined, `${show(flowA)} ${show(flowB)}`);
  assert.ok(answer.at < flightB.at, `A answered before B's flight: ${show(flowA)} ${show(flowB)}`);
}

test("a server answers a client's first request in the datagram of its HANDSHAKE_DONE while another client's ClientHello shares the batch", async () => {
  const server = await startServer({ pmtuDiscoveryMax: 0 });
  const errors = echoServer(server);
  const a = new HeldFinished();
  // Client A (flow 0): its second datagram (Initial ACK, Finished, request) waits for client B's
  // ClientHello (flow 1).
  const relay = await releasedByNextClient(server.address().port, a, 0);
  try {
    const opts = clientOptions({ pmtuDiscoveryMax: 0 });
    const connA = await dial({ host: '127.0.0.1', port: relay.port }, opts);
    const s = await connA.openStream();
    s.end('request A');
    await within(a.held, TIMEOUT, "the relay holds A's Finished");
    // B's ClientHello releases them.
    const b = await within(dial({ host: '127.0.0.1', port: relay.port }, opts), TIMEOUT, 'B connects');
    assert.equal((await within(readAll(s), TIMEOUT, 'the echo of A')).toString(), 'request A');
    await connA.close();
    await b.close();
    assert.deepEqual(errors, []);
  } finally {
    await server.close();
    await relay.close();
  }
  assertOneAnswer(relay.flows[0]!);
  assertAnsweredFirst(relay.flows[0]!, relay.flows[1]!);
});

test("a server answers a client's first request in the datagram of its HANDSHAKE_DONE when they arrive just after a flush that scheduled a send turn", async () => {
  const server = await startServer({ pmtuDiscoveryMax: 0 });
  let release: () => void = () => {};
  // Echo; a stream saying 'release' also lets client A's Finished and request go to the server,
  // from the handler, so they arrive in the poll phase after the flush that read the request.
  const errors = serve(server, async (conn) => {
    for await (const st of conn) {
      st.on('error', () => {});
      st.on('data', (chunk: Buffer) => {
        if (chunk.toString() === 'release') release();
      });
      st.pipe(st);
    }
  });
  const a = new HeldFinished();
  // Flow 0: client X, connected first. Flow 1: client A, whose second datagram waits.
  const relay = await UdpRelay.start(
    server.address().port,
    (flow, up, datagram) => flow === 1 && a.hold(up, datagram, relay.flows[1]),
  );
  release = () => {
    const finished = a.take(relay.flows[1]);
    if (finished) relay.forward(1, finished);
  };
  try {
    const opts = clientOptions({ pmtuDiscoveryMax: 0 });
    const x = await dial({ host: '127.0.0.1', port: relay.port }, opts);
    const warm = await x.openStream();
    warm.end('warm up');
    assert.equal((await within(readAll(warm), TIMEOUT, 'the echo of X')).toString(), 'warm up');
    const connA = await dial({ host: '127.0.0.1', port: relay.port }, opts);
    const s = await connA.openStream();
    s.end('request A');
    await within(a.held, TIMEOUT, "the relay holds A's Finished");
    const go = await x.openStream();
    go.end('release');
    assert.equal((await within(readAll(go), TIMEOUT, 'the echo of release')).toString(), 'release');
    assert.equal((await within(readAll(s), TIMEOUT, 'the echo of A')).toString(), 'request A');
    await connA.close();
    await x.close();
    assert.deepEqual(errors, []);
  } finally {
    await server.close();
    await relay.close();
  }
  assertOneAnswer(relay.flows[1]!);
});

test("answers keep going out while a connection's requests arrive just after each flush", async () => {
  const server = await startServer({ pmtuDiscoveryMax: 0 });
  const REQUESTS = 6;
  const BIG = 200;
  let releaseNext: () => void = () => {};
  // Echo; each request lets the next one go to the server, from the handler: it arrives in the
  // event-loop turn before the send turn that would answer the one before.
  const errors = serve(server, async (conn) => {
    for await (const st of conn) {
      st.on('error', () => {});
      st.on('data', () => releaseNext());
      st.pipe(st);
    }
  });
  let holding = false;
  const queue: Buffer[] = [];
  const relay = await UdpRelay.start(server.address().port, (_flow, _up, datagram) => {
    if (!holding) return false;
    queue.push(datagram);
    return true;
  });
  // The next request (the held datagrams up to the next large one: smaller ones are ACKs).
  releaseNext = () => {
    while (queue.length > 0) {
      const d = queue.shift()!;
      relay.forward(0, d);
      if (d.length >= BIG) return;
    }
  };
  const flow = relay.flows;
  let firstRelease = -1;
  try {
    const conn = await dial({ host: '127.0.0.1', port: relay.port }, clientOptions({ pmtuDiscoveryMax: 0 }));
    holding = true;
    const answers: Array<Promise<Buffer>> = [];
    for (let i = 0; i < REQUESTS; i++) {
      const s = await conn.openStream();
      s.end(`r${i}`.padEnd(BIG, '.'));
      answers.push(readAll(s));
      // One datagram per request: the client sends from the next check phase.
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.ok(queue.filter((d) => d.length >= BIG).length >= REQUESTS, 'the requests are held');
    holding = false;
    firstRelease = flow[0]!.length;
    releaseNext();
    const got = await within(Promise.all(answers), TIMEOUT, 'the echoes');
    assert.deepEqual(
      got.map((b) => b.toString().slice(0, 2)),
      Array.from({ length: REQUESTS }, (_, i) => `r${i}`),
    );
    await conn.close();
    assert.deepEqual(errors, []);
  } finally {
    await server.close();
    await relay.close();
  }
  // Between the first request and the last, answers went out.
  const f = flow[0]!;
  const lastRequest = f.map((d) => d.dir === 'up' && d.size >= BIG).lastIndexOf(true);
  const between = f.slice(firstRelease, lastRequest).filter((d) => d.dir === 'down').length;
  assert.ok(between >= 1, `answers while the requests kept coming: ${show(f.slice(firstRelease))}`);
});

test("an answer written in a promise continuation leaves before the event loop's next poll phase", async () => {
  const server = await startServer();
  const REQUESTS = 10;
  // A UDP socket the handler sends to after answering: its 'message' event comes in the next poll
  // phase, where it looks whether the answer has been sent (the server's packets sent).
  const probe = createSocket('udp4');
  probe.bind(0, '127.0.0.1');
  await once(probe, 'listening');
  const seen: boolean[] = [];
  const errors = serve(server, async (conn) => {
    for await (const st of conn) {
      st.on('error', () => {});
      void readAll(st).then((req) => {
        const before = conn.stats().packetsSent;
        st.end(req);
        probe.once('message', () => seen.push(conn.stats().packetsSent > before));
        probe.send('x', probe.address().port, '127.0.0.1');
      });
    }
  });
  try {
    const conn = await dial({ host: '127.0.0.1', port: server.address().port }, clientOptions());
    for (let i = 0; i < REQUESTS; i++) {
      const s = await conn.openStream();
      s.end(`r${i}`);
      assert.equal((await within(readAll(s), TIMEOUT, 'the echo')).toString(), `r${i}`);
    }
    await conn.close();
    assert.deepEqual(errors, []);
  } finally {
    await server.close();
    await new Promise<void>((done) => probe.close(() => done()));
  }
  assert.deepEqual(seen, Array(REQUESTS).fill(true));
});

test('a client that closes after its answer sends the CONNECTION_CLOSE alone, no ACK-only datagram first', async () => {
  const server = await startServer({ pmtuDiscoveryMax: 0 });
  const errors = echoServer(server);
  const relay = await UdpRelay.start(server.address().port);
  // Several packets of answer: their ACK is due (RFC 9000 §13.2.1, every second ack-eliciting
  // packet) when the application reads the end of it and closes.
  const request = Buffer.alloc(6000, 1);
  try {
    const conn = await dial({ host: '127.0.0.1', port: relay.port }, clientOptions({ pmtuDiscoveryMax: 0 }));
    const s = await conn.openStream();
    s.end(request);
    assert.equal((await within(readAll(s), TIMEOUT, 'the echo')).length, request.length);
    await conn.close();
    assert.deepEqual(errors, []);
  } finally {
    await server.close();
    await relay.close();
  }
  const flow = relay.flows[0]!;
  const lastDown = flow.map((d) => d.dir).lastIndexOf('down');
  assert.equal(
    runAfter(flow, lastDown, 'up'),
    1,
    `only the CONNECTION_CLOSE after the answer: ${show(flow)}`,
  );
});

/**
 * Client A with 0-RTT through `relay`: a first connection (flow 0) gets the ticket, then A (flow 1)
 * dials early and writes its request at once, so it goes with the ClientHello.
 */
async function earlyRequestA(relay: UdpRelay): Promise<{ connA: EarlyConnection; s: QuicStream }> {
  const cache = new TicketCache();
  await getTicket(relay.port, cache, { pmtuDiscoveryMax: 0 });
  const connA = await dialEarly(
    { host: '127.0.0.1', port: relay.port },
    clientOptions({ pmtuDiscoveryMax: 0, sessionCache: cache }),
  );
  const s = await connA.openStream();
  s.end('early A');
  return { connA, s };
}

/** The server's first datagram to A carries its answer (1-RTT) after the flight. */
function assertAnswerInFlight(flowA: Flow): void {
  const flight = flowA.find((d) => d.dir === 'down');
  assert.deepEqual(
    flight && packetTypes(flight.data),
    [PacketType.Initial, PacketType.Handshake, PacketType.OneRtt],
    `the answer (1-RTT) rides in the flight's datagram: ${show(flowA)}`,
  );
}

test("a server's answer to 0-RTT requests rides in its flight's datagram while another client's ClientHello shares the batch", async () => {
  const view = await earlyEchoServer({ allow0RTT: () => true, pmtuDiscoveryMax: 0 });
  let heldA: Buffer | undefined;
  let onHeld: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    onHeld = resolve;
  });
  // Flow 0: the client that gets the ticket. Flow 1: client A, whose first datagram (ClientHello
  // and 0-RTT request) waits for client B's ClientHello (flow 2); both then go to the server back
  // to back, from one callback, so the server reads them in one batch: A's first. What A sends
  // while its first datagram is held (its PTO) is lost.
  const relay = await UdpRelay.start(view.port, (flow, up, datagram) => {
    if (flow === 1 && heldA === undefined && up === 0) {
      heldA = datagram;
      onHeld();
      return true;
    }
    if (flow === 1) return relay.sizes(1, 'up').length === 0;
    if (flow === 2 && up === 0 && heldA !== undefined) {
      relay.forward(1, heldA);
      relay.forward(2, datagram);
      return true;
    }
    return false;
  });
  try {
    const { connA, s } = await earlyRequestA(relay);
    await within(held, TIMEOUT, "the relay holds A's ClientHello");
    const b = await within(
      dial({ host: '127.0.0.1', port: relay.port }, clientOptions({ pmtuDiscoveryMax: 0 })),
      TIMEOUT,
      'B connects',
    );
    assert.equal((await within(readAll(s), TIMEOUT, 'the echo of A')).toString(), 'early A');
    await within(connA.handshakeComplete, TIMEOUT, "A's handshake");
    assert.equal(connA.used0RTT, true);
    await connA.close();
    await b.close();
    assert.deepEqual(view.errors, []);
  } finally {
    await relay.close();
  }
  const flowA = relay.flows[1]!;
  assert.ok(
    packetTypes(flowA[0]!.data).includes(PacketType.ZeroRtt),
    'the request came with the ClientHello',
  );
  assertAnswerInFlight(flowA);
});

test('a server sends the HANDSHAKE_DONE of a client whose 0-RTT requests it answered before the rest of the batch', async () => {
  const view = await earlyEchoServer({ allow0RTT: () => true, pmtuDiscoveryMax: 0 });
  const a = new HeldFinished();
  // Flow 0: the client that gets the ticket. Flow 1: client A (0-RTT), whose second datagram
  // (Initial ACK, Finished) waits for client B's ClientHello (flow 2).
  const relay = await releasedByNextClient(view.port, a, 1);
  try {
    const { connA, s } = await earlyRequestA(relay);
    const confirmed = once(connA, 'session');
    assert.equal((await within(readAll(s), TIMEOUT, 'the echo of A')).toString(), 'early A');
    await within(a.held, TIMEOUT, "the relay holds A's Finished");
    const b = await within(
      dial({ host: '127.0.0.1', port: relay.port }, clientOptions({ pmtuDiscoveryMax: 0 })),
      TIMEOUT,
      'B connects',
    );
    // The ticket comes with the HANDSHAKE_DONE.
    await within(confirmed, TIMEOUT, "A's ticket");
    assert.equal(connA.used0RTT, true);
    await connA.close();
    await b.close();
    assert.deepEqual(view.errors, []);
  } finally {
    await relay.close();
  }
  assertAnsweredFirst(relay.flows[1]!, relay.flows[2]!);
});

test("a client's PTO that comes due while its process is busy waits for the datagrams that arrived meanwhile", async () => {
  const server = await startServer({ pmtuDiscoveryMax: 0 });
  const errors = echoServer(server);
  const cache = new TicketCache();
  const relay = await UdpRelay.start(server.address().port);
  try {
    const opts = clientOptions({ pmtuDiscoveryMax: 0 });
    // Flow 0: the ticket, which remembers the RTT of its connection: the resumed client's first PTO
    // is about three times that (RFC 9002 §6.2.2). The relay holds that flow's datagrams for 20 ms each
    // way, so the PTO (over 100 ms) comes well after a prompt server's flight, even on a loaded machine
    // (a PTO before the flight would rightly probe), and well before the 400 ms busy period ends.
    relay.delayFor = (flow) => (flow === 0 ? 20 : 0);
    await getTicket(relay.port, cache, { pmtuDiscoveryMax: 0 });
    let busy = false;
    relay.afterDown = (flow) => {
      if (flow !== 1 || busy) return;
      busy = true;
      // Once the server's flight is in the client's socket (the relay's send completes its address
      // lookup in a tick), the process is busy for 400 ms: the client's PTO comes due meanwhile, and
      // its timer fires in the next turn of the event loop, before the poll phase reads the flight.
      process.nextTick(() => {
        const end = performance.now() + 400;
        while (performance.now() < end);
      });
    };
    const conn = await within(
      dial({ host: '127.0.0.1', port: relay.port }, { ...opts, sessionCache: cache }),
      TIMEOUT,
      'the resumed handshake',
    );
    assert.equal(conn.resumed, true);
    assert.ok(busy, "the server's flight came through the relay");
    const s = await conn.openStream();
    s.end('after the flight');
    assert.equal((await within(readAll(s), TIMEOUT, 'the echo')).toString(), 'after the flight');
    await conn.close();
    assert.deepEqual(errors, []);
  } finally {
    await server.close();
    await relay.close();
  }
  // After its ClientHello the client sends its Finished (Initial ACK and Handshake), not a probe.
  const up = relay.flows[1]!.filter((d) => d.dir === 'up');
  assert.deepEqual(
    packetTypes(up[1]!.data).slice(0, 2),
    [PacketType.Initial, PacketType.Handshake],
    `the Finished follows the ClientHello: ${show(relay.flows[1]!)}`,
  );
});

test("a server's answer to 0-RTT requests that follow the ClientHello in a datagram of their own rides in the flight's datagram", async () => {
  const view = await earlyEchoServer({ allow0RTT: () => true, pmtuDiscoveryMax: 0 });
  // Flow 0: the client that gets the ticket. Flow 1: client A, whose first datagram (ClientHello
  // and 0-RTT request, coalesced) the relay splits in two, as quic-go's client sends them: the
  // Initial packet with zeros after it to keep the datagram at 1200 bytes (RFC 9000 §14.1), then the
  // 0-RTT packet. Both go to the server back to back, so it reads them in one batch.
  const relay = await UdpRelay.start(view.port, (flow, up, datagram) => {
    if (flow !== 1 || up !== 0) return false;
    const packets = splitDatagram(datagram, datagram[5]!);
    assert.deepEqual(
      packets.map((p) => p.type),
      [PacketType.Initial, PacketType.ZeroRtt],
    );
    const initialEnd = packets[0]!.packetEnd;
    const first = Buffer.alloc(Math.max(1200, initialEnd));
    datagram.copy(first, 0, 0, initialEnd);
    relay.forward(1, first);
    relay.forward(1, datagram.subarray(initialEnd));
    return true;
  });
  try {
    const { connA, s } = await earlyRequestA(relay);
    assert.equal((await within(readAll(s), TIMEOUT, 'the echo of A')).toString(), 'early A');
    await within(connA.handshakeComplete, TIMEOUT, "A's handshake");
    assert.equal(connA.used0RTT, true);
    await connA.close();
    assert.deepEqual(view.errors, []);
  } finally {
    await relay.close();
  }
  const flowA = relay.flows[1]!;
  assertAnswerInFlight(flowA);
});
