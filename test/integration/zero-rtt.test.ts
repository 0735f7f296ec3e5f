/**
 * 0-RTT through the public API over real UDP on loopback (docs/0rtt.md): dialEarly, listenEarly,
 * allow0RTT, ZeroRTTRejectedError, nextConnection().
 *
 * The headline is the quic-go #4706 scenario, against a tsquic listenEarly server whose allow0RTT
 * policy rejects: the request on stream 0 of the rejected attempt fails; `nextConnection()`; a new
 * stream -- ID 0 again -- is opened and written; only then the old request's cleanup runs,
 * `oldStream.cancelRead(42); oldStream.cancelWrite(42)` (quic-go's deferred cancels), so that a cancel
 * forwarded to the same ID on the next connection would hit the new stream; then the new stream ends
 * and awaits the echo. The echo must arrive; neither application may see a stream reset;
 * and the wire must show no RESET_STREAM or STOP_SENDING: there is no public trace hook, so the test
 * reads the qlog files both sides write (the `qlogDir` option), next to what the server application
 * saw. (The same scenario at core level, on the simulator's frame trace: test/sim/zero-rtt-4706.)
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import {
  dialEarly,
  type EarlyConnection,
  type ServerOptions,
  SessionCache,
  StreamResetError,
  ZeroRTTRejectedError,
} from '../../src/index.js';
import { clientOptions, readAll, within } from './helpers.js';
import {
  cleanupZeroRtt,
  earlyEchoServer,
  frames,
  getTicket,
  qlogDir,
  qlogOf,
  TIMEOUT,
  TicketCache,
} from './zero-rtt-helpers.js';

const CANCEL = 42;

after(cleanupZeroRtt);

const target = (port: number) => ({ host: '127.0.0.1', port });

describe('quic-go #4706 over UDP: a tsquic listenEarly server that rejects 0-RTT', () => {
  test('nextConnection(), new stream 0 written, then cancelRead(42)/cancelWrite(42) on the old stream 0: echo, no reset anywhere', async () => {
    const dir = qlogDir();
    const view = await earlyEchoServer({ allow0RTT: () => false, qlogDir: dir });
    const cache = new TicketCache();
    await getTicket(view.port, cache);
    const opts = clientOptions({ sessionCache: cache, qlogDir: dir });

    const early = await dialEarly(target(view.port), opts);
    const oldStream = await early.openStream();
    assert.equal(oldStream.id, 0);
    let failure: unknown;
    try {
      oldStream.write(Buffer.from('request of the early attempt'));
      oldStream.end();
      await within(readAll(oldStream), TIMEOUT, 'old stream');
      assert.fail('the early attempt must have been rejected');
    } catch (err) {
      failure = err;
    }
    assert.ok(failure instanceof ZeroRTTRejectedError, String(failure));
    assert.equal(failure.code, 'ERR_QUIC_0RTT_REJECTED');

    const next = await within(early.nextConnection(), TIMEOUT, 'nextConnection');
    assert.notEqual(next, early);
    assert.equal(next.used0RTT, false);
    assert.equal(early.used0RTT, false);
    assert.equal(next.resumed, true, 'the policy rejected 0-RTT, not the resumption');
    const s = await next.openStream();
    assert.equal(s.id, 0, 'the next connection starts again at stream 0');
    const newErrors: Error[] = [];
    s.on('error', (e: Error) => newErrors.push(e));
    const payload = Buffer.from('the request, again, on the next connection');
    s.write(payload.subarray(0, 10));
    // The old request's cleanup runs now, while the new stream 0 is open (quic-go: deferred cancels).
    oldStream.cancelRead(CANCEL);
    oldStream.cancelWrite(CANCEL);
    s.end(payload.subarray(10));
    const echo = await within(readAll(s), TIMEOUT, 'echo on the next connection');
    assert.deepEqual(echo, payload, 'the echo arrived');
    assert.deepEqual(newErrors, [], 'the new stream saw no reset');

    await next.close();
    await within(
      new Promise<void>((resolve) => {
        const check = () =>
          view.streams.length >= 2 && view.streams[1]!.finished ? resolve() : setTimeout(check, 5);
        check();
      }),
      TIMEOUT,
      'server stream finished',
    );
    await view.server.close();

    // The server application: the ticket connection's stream, then exactly one stream on the 0-RTT
    // connection -- the new stream 0, whole, echoed, never reset or stopped.
    assert.deepEqual(
      view.streams.map((r) => [r.conn, r.id, r.bidi, r.bytes, r.errors.length, r.finished]),
      [
        [0, 0, true, 'ticket please'.length, 0, true],
        [1, 0, true, payload.length, 0, true],
      ],
    );
    assert.ok(view.streams.every((r) => !r.errors.some((e) => e instanceof StreamResetError)));
    assert.deepEqual(view.errors, []);

    // The wire, from both sides' qlogs.
    const serverLogs = await qlogOf(dir, 'server', 'connection_close');
    const clientLogs = await qlogOf(dir, 'client', 'connection_close');
    assert.equal(serverLogs.length, 2, 'the ticket connection and the 0-RTT attempt');
    assert.equal(clientLogs.length, 1, 'the 0-RTT attempt (the ticket was fetched without qlog)');
    for (const packets of [...serverLogs, ...clientLogs]) {
      const all = [
        ...frames(packets, 'transport:packet_sent'),
        ...frames(packets, 'transport:packet_received'),
      ];
      const bad = all.filter((f) => f.frame_type === 'reset_stream' || f.frame_type === 'stop_sending');
      assert.deepEqual(bad, [], 'no RESET_STREAM or STOP_SENDING on the wire');
    }
    // The 0-RTT connection is the client log that sent 0-RTT packets.
    const attempt = clientLogs.find((p) => p.some((x) => x.packetType === '0RTT'));
    assert.ok(attempt, 'the client sent 0-RTT packets');
    assert.ok(
      frames(attempt, 'transport:packet_sent').some(
        (f) => f.packetType === '0RTT' && f.frame_type === 'stream',
      ),
      'the old stream went out in 0-RTT',
    );
    // After the first 1-RTT packet, stream frames are the new stream 0's bytes only.
    const oneRttStream = frames(attempt, 'transport:packet_sent').filter(
      (f) => f.packetType === '1RTT' && f.frame_type === 'stream',
    );
    assert.equal(
      oneRttStream.reduce((n, f) => n + (f.length ?? 0), 0),
      payload.length,
      'exactly the new bytes, once',
    );
    // The server processed no 0-RTT packet, and received stream bytes only for the new stream.
    for (const packets of serverLogs) {
      assert.ok(frames(packets, 'transport:packet_received').every((f) => f.packetType !== '0RTT'));
    }
  });

  test('variant: the cancels (and writes, end, destroy) on the old stream after nextConnection()', async () => {
    const view = await earlyEchoServer({ allow0RTT: () => false });
    const cache = new TicketCache();
    await getTicket(view.port, cache);
    const early = await dialEarly(target(view.port), clientOptions({ sessionCache: cache }));
    const oldStream = await early.openStream();
    const oldErrors: Error[] = [];
    oldStream.on('error', (e: Error) => oldErrors.push(e));
    oldStream.write(Buffer.alloc(5_000, 0xaa));

    const next = await within(early.nextConnection(), TIMEOUT, 'nextConnection');
    const s = await next.openStream();
    assert.equal(s.id, 0);
    const newErrors: Error[] = [];
    s.on('error', (e: Error) => newErrors.push(e));
    s.write(Buffer.alloc(3_000, 0xbb));

    // Now the old stream object is used again, every way there is.
    oldStream.cancelRead(CANCEL);
    oldStream.cancelWrite(CANCEL);
    const writeErr = await new Promise<Error | null | undefined>((resolve) =>
      oldStream.write(Buffer.from('late'), (e) => resolve(e)),
    );
    assert.ok(writeErr instanceof ZeroRTTRejectedError);
    oldStream.end();
    oldStream.destroy();

    s.end(Buffer.alloc(1_000, 0xbb));
    const echo = await within(readAll(s), TIMEOUT, 'echo');
    assert.equal(echo.length, 4_000);
    assert.ok(echo.every((b) => b === 0xbb));
    assert.deepEqual(newErrors, []);
    assert.equal(oldErrors.length, 1, 'the old stream failed once');
    assert.ok(oldErrors[0] instanceof ZeroRTTRejectedError);
    await next.close();
    const onAttempt = view.streams.filter((r) => r.conn === 1);
    assert.deepEqual(
      onAttempt.map((r) => [r.id, r.bytes, r.errors.length]),
      [[0, 4_000, 0]],
    );
  });
});

describe('0-RTT rejected: the early connection fails once and cleanly, the next one is fresh', () => {
  test('pending and later operations fail with ZeroRTTRejectedError; many old streams, bidi and uni', async () => {
    const view = await earlyEchoServer({ allow0RTT: () => false });
    const cache = new TicketCache();
    await getTicket(view.port, cache);
    const early: EarlyConnection = await dialEarly(target(view.port), clientOptions({ sessionCache: cache }));

    // Old streams in every state: pending read, data queued, a write larger than any window, FIN
    // queued, cancelled, uni with data, uni ended.
    const bidi = await Promise.all([
      early.openStream(),
      early.openStream(),
      early.openStream(),
      early.openStream(),
    ]);
    const uni = await Promise.all([early.openUniStream(), early.openUniStream()]);
    assert.deepEqual(
      [...bidi, ...uni].map((s) => s.id),
      [0, 4, 8, 12, 2, 6],
    );
    const errors = new Map<number, Error[]>();
    for (const s of [...bidi, ...uni]) {
      errors.set(s.id, []);
      s.on('error', (e: Error) => errors.get(s.id)!.push(e));
    }
    const pendingRead = readAll(bidi[0]!).then(
      () => undefined,
      (e: unknown) => e,
    );
    bidi[1]!.write(Buffer.alloc(1_000, 1));
    const bigWrite = new Promise<Error | null | undefined>((resolve) =>
      bidi[2]!.write(Buffer.alloc(3 * 1024 * 1024, 2), (e) => resolve(e)),
    );
    bidi[3]!.end(Buffer.alloc(10, 3));
    bidi[1]!.cancelWrite(7);
    uni[0]!.write(Buffer.alloc(2_000, 4));
    uni[1]!.end(Buffer.alloc(20, 5));
    const pendingAccept = early.acceptStream().then(
      () => undefined,
      (e: unknown) => e,
    );

    const next = await within(early.nextConnection(), TIMEOUT, 'nextConnection');
    assert.ok((await pendingRead) instanceof ZeroRTTRejectedError, 'the pending read failed');
    assert.ok((await bigWrite) instanceof ZeroRTTRejectedError, 'the blocked write failed');
    assert.ok((await pendingAccept) instanceof ZeroRTTRejectedError, 'the pending acceptStream failed');
    // Later operations on the early connection and its streams.
    await assert.rejects(early.openStream(), ZeroRTTRejectedError);
    await assert.rejects(early.openUniStream(), ZeroRTTRejectedError);
    await assert.rejects(early.acceptStream(), ZeroRTTRejectedError);
    await assert.rejects(early.acceptUniStream(), ZeroRTTRejectedError);
    assert.equal(early.sendDatagram(Buffer.from('x')), false);
    for (const s of [...bidi, ...uni]) {
      const e = await new Promise<Error | null | undefined>((resolve) =>
        s.write(Buffer.from('again'), (err) => resolve(err)),
      );
      assert.ok(e instanceof ZeroRTTRejectedError, `write on old stream ${s.id}`);
      const f = await new Promise<Error | null | undefined>((resolve) =>
        s.end((err?: Error | null) => resolve(err)),
      );
      assert.ok(f instanceof ZeroRTTRejectedError, `end on old stream ${s.id}`);
      if ('cancelRead' in s) s.cancelRead(CANCEL);
      s.cancelWrite(CANCEL);
      s.destroy();
    }
    await new Promise((r) => setImmediate(r));
    for (const [id, list] of errors) {
      assert.ok(list.length <= 1, `stream ${id}: ${list.length} error events`);
      assert.ok(
        list.every((e) => e instanceof ZeroRTTRejectedError),
        `stream ${id}`,
      );
    }

    // The next connection: fresh IDs, full limits, nothing of the old streams.
    const streams = await Promise.all([next.openStream(), next.openStream()]);
    const uniStream = await next.openUniStream();
    assert.deepEqual(
      [...streams, uniStream].map((s) => s.id),
      [0, 4, 2],
    );
    const payload = Buffer.alloc(50_000, 0xbb);
    uniStream.end(payload);
    const echoes = await Promise.all(
      streams.map((s) => {
        s.end(payload);
        return within(readAll(s), TIMEOUT, `echo ${s.id}`);
      }),
    );
    for (const e of echoes) assert.deepEqual(e, payload);
    await next.close();
    const onAttempt = view.streams.filter((r) => r.conn === 1).sort((a, b) => a.id - b.id);
    assert.deepEqual(
      onAttempt.map((r) => [r.id, r.errors.length]),
      [
        [0, 0],
        [2, 0],
        [4, 0],
      ],
    );
    for (const r of onAttempt) assert.equal(r.bytes, payload.length);
  });
});

describe('accepted 0-RTT over UDP', () => {
  test('used0RTT, the data arrives, nextConnection() resolves to the same object', async () => {
    const view = await earlyEchoServer({ allow0RTT: true });
    const cache = new TicketCache();
    await getTicket(view.port, cache);
    const early = await dialEarly(target(view.port), clientOptions({ sessionCache: cache }));
    const s = await early.openStream();
    assert.equal(s.id, 0);
    s.end(Buffer.from('early data'));
    assert.equal((await within(readAll(s), TIMEOUT, 'early echo')).toString(), 'early data');
    const next = await within(early.nextConnection(), TIMEOUT, 'nextConnection');
    assert.equal(next, early, 'the same connection');
    assert.equal(early.used0RTT, true);
    assert.equal(early.resumed, true);
    const s2 = await next.openStream();
    assert.equal(s2.id, 4, 'stream IDs continue');
    s2.end(Buffer.from('after'));
    assert.equal((await within(readAll(s2), TIMEOUT, 'echo')).toString(), 'after');
    await next.close();
    assert.ok(view.connections[1]!.used0RTT, 'the server side used 0-RTT too');
    // stream.early tells the server which requests came in 0-RTT (possibly replayed) data.
    assert.deepEqual(
      view.streams.filter((r) => r.conn === 1).map((r) => [r.id, r.early]),
      [
        [0, true],
        [4, false],
      ],
    );
    assert.deepEqual(
      view.streams.filter((r) => r.conn === 0).map((r) => r.early),
      [false],
      'nothing is early on the first connection',
    );
  });

  test('dialEarly without a ticket behaves like dial, and nextConnection() is the same object', async () => {
    const view = await earlyEchoServer({ allow0RTT: true });
    const early = await dialEarly(target(view.port), clientOptions({ sessionCache: new SessionCache() }));
    assert.equal(early.used0RTT, false);
    assert.equal(await early.nextConnection(), early);
    const s = await early.openStream();
    s.end(Buffer.from('plain'));
    assert.equal((await within(readAll(s), TIMEOUT, 'echo')).toString(), 'plain');
    await early.close();
  });
});

describe('rejections for other reasons, over UDP', () => {
  const ticketKey = Buffer.alloc(32, 0x5a);

  /**
   * A ticket from server A, then a 0-RTT attempt against server B. The next connection's first stream
   * (ID 0, like the old request) is opened before the old stream is cancelled, as in the #4706 headline.
   */
  async function againstB(
    a: Partial<ServerOptions>,
    b: Partial<ServerOptions>,
    clientExtra: Record<string, unknown> = {},
  ) {
    const viewA = await earlyEchoServer({ allow0RTT: true, ticketKey, ...a });
    const cache = new TicketCache();
    await getTicket(viewA.port, cache, clientExtra);
    const viewB = await earlyEchoServer({ allow0RTT: true, ticketKey, ...b });
    const early = await dialEarly(target(viewB.port), clientOptions({ sessionCache: cache, ...clientExtra }));
    const old = await early.openStream();
    old.on('error', () => {});
    old.end(Buffer.alloc(2_000, 0xaa));
    const oldResult = await readAll(old).then(
      () => undefined,
      (e: unknown) => e,
    );
    const next = await within(early.nextConnection(), TIMEOUT, 'nextConnection');
    const first = await within(next.openStream(), TIMEOUT, 'openStream');
    assert.equal(first.id, 0);
    old.cancelRead(CANCEL);
    old.cancelWrite(CANCEL);
    return { viewB, early, next, first, oldResult };
  }

  test('the server restarted with a new ticket key: no resumption, 0-RTT rejected, the next connection works', async () => {
    const { viewB, next, first: s, oldResult } = await againstB({}, { ticketKey: Buffer.alloc(32, 0x77) });
    assert.ok(oldResult instanceof ZeroRTTRejectedError);
    assert.equal(next.resumed, false);
    s.end(Buffer.from('fresh'));
    assert.equal((await within(readAll(s), TIMEOUT, 'echo')).toString(), 'fresh');
    await next.close();
    assert.deepEqual(
      viewB.streams.map((r) => [r.id, r.bytes, r.errors.length]),
      [[0, 5, 0]],
    );
  });

  test('the ALPN changed: 0-RTT rejected, the next connection speaks the new protocol', async () => {
    const {
      viewB,
      next,
      first: s,
      oldResult,
    } = await againstB({ alpn: ['test', 'other'] }, { alpn: ['other', 'test'] }, { alpn: ['test', 'other'] });
    assert.ok(oldResult instanceof ZeroRTTRejectedError);
    assert.equal(next.alpn, 'other');
    s.end(Buffer.from('other protocol'));
    assert.equal((await within(readAll(s), TIMEOUT, 'echo')).toString(), 'other protocol');
    await next.close();
    assert.deepEqual(
      viewB.streams.map((r) => [r.id, r.errors.length]),
      [[0, 0]],
    );
  });

  test('the server lowered its limits: resumed, 0-RTT rejected, the next connection honours 1 stream (openStream waits)', async () => {
    const { viewB, next, first, oldResult } = await againstB({ maxStreamsBidi: 10 }, { maxStreamsBidi: 1 });
    assert.ok(oldResult instanceof ZeroRTTRejectedError);
    assert.equal(next.resumed, true);
    const order: string[] = [];
    const secondOpened = next.openStream().then((s) => {
      order.push('second opened');
      return s;
    });
    first.end(Buffer.from('one'));
    assert.equal((await within(readAll(first), TIMEOUT, 'first echo')).toString(), 'one');
    order.push('first echoed');
    const second = await within(secondOpened, TIMEOUT, 'second openStream');
    assert.equal(second.id, 4);
    assert.deepEqual(order, ['first echoed', 'second opened'], 'the second stream waited for MAX_STREAMS');
    second.end(Buffer.from('two'));
    assert.equal((await within(readAll(second), TIMEOUT, 'second echo')).toString(), 'two');
    await next.close();
    assert.deepEqual(
      viewB.streams.map((r) => [r.id, r.errors.length]),
      [
        [0, 0],
        [4, 0],
      ],
    );
  });
});
