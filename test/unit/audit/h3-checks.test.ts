/**
 * The HTTP/3 side of the server-mode checks (ALPN h3): check 5 compares requests by their decoded
 * heads, check 6 knows a client that abandons the connection after the rejection, and check 7
 * (h3-fresh-state) looks for the dead attempt's HTTP/3 state (control stream, QPACK) on the new
 * connection.
 *
 * Recorded over UDP (fixtures/README.md): tsquic-h3-client.json (`tsquic client --alpn h3
 * --session-file F --0rtt`, twice), tsquic-h3-client-abandons.json (the same before its pool was
 * fixed: it left the connection after the rejection open and asked again on a new one),
 * ngtcp2-h3-client.json (gtlsclient, twice), quic-go-h3-client.json (interop/bin/h3client -0rtt
 * -runs 2). The
 * misbehaving clients are built here frame by frame, with tsquic's own QPACK encoder, so that each
 * trace holds exactly one fault.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import type { ClientTrace, ConnectionTrace, Limits } from '../../../src/audit/audit-trace.js';
import { checkClientRecovers } from '../../../src/audit/checks/client-recovers.js';
import { checkDataResentOnce } from '../../../src/audit/checks/data-resent-once.js';
import { checkH3FreshState } from '../../../src/audit/checks/h3-fresh-state.js';
import type { LoggedFrame, PacketKind } from '../../../src/audit/frame-record.js';
import { runServerChecks } from '../../../src/audit/server-checks.js';
import { encodeFrame, H3FrameType } from '../../../src/http3/frames.js';
import { ByteWriter } from '../../../src/http3/qpack/byte-writer.js';
import { writeStreamCancellation } from '../../../src/http3/qpack/decoder-instructions.js';
import { QpackEncoder } from '../../../src/http3/qpack/index.js';

function fixture(name: string): ClientTrace {
  return JSON.parse(readFileSync(new URL(`fixtures/${name}.json`, import.meta.url), 'utf8')) as ClientTrace;
}

function verdicts(t: ClientTrace): string[] {
  return runServerChecks(t).map((c) => `${c.id} ${c.verdict}`);
}

// ------------------------------------------------------------------ building a client frame by frame

const LIMITS: Limits = {
  maxData: 8192,
  maxStreamDataBidiRemote: 8,
  maxStreamDataUni: 8,
  maxStreamsBidi: 1,
  maxStreamsUni: 3,
  activeConnectionIdLimit: 2,
  maxDatagramFrameSize: null,
};

/** The client's HTTP/3 streams on one connection, as STREAM frames of one packet each. */
class H3Client {
  readonly frames: LoggedFrame[] = [];
  private pn = 0;
  /** Its QPACK encoder: the dynamic table is allowed (the auditor announces 4096 bytes). */
  readonly qpack = new QpackEncoder({ maxTableCapacity: 4096, blockedStreams: 16 }, { insert: 'all' });

  constructor(private readonly packet: PacketKind) {}

  stream(id: number, bytes: Uint8Array, fin: boolean): this {
    this.frames.push({
      dir: 'recv',
      packet: this.packet,
      pn: this.pn++,
      frame: {
        type: 'STREAM',
        stream: id,
        offset: 0,
        length: bytes.length,
        fin,
        data: Buffer.from(bytes).toString('hex'),
      },
    });
    return this;
  }

  control(
    first: Uint8Array = encodeFrame({ type: H3FrameType.Settings, entries: [{ id: 0x01, value: 0 }] }),
  ): this {
    return this.stream(2, Buffer.concat([Buffer.from([0x00]), first]), false);
  }

  /** A GET on `id`; its encoder-stream instructions go on stream 6 (type 0x02) when there are any. */
  get(id: number, path: string): this {
    const section = this.qpack.encode(id, [
      { name: ':method', value: 'GET' },
      { name: ':scheme', value: 'https' },
      { name: ':authority', value: 'localhost' },
      { name: ':path', value: path },
      { name: 'x-audit-token', value: 'abcdef' },
    ]);
    const ins = this.qpack.takeEncoderStreamData();
    if (ins) this.stream(6, Buffer.concat([Buffer.from([0x02]), ins]), false);
    return this.stream(id, encodeFrame({ type: H3FrameType.Headers, fieldSection: section }), true);
  }

  /** The decoder stream (type 0x03) with a Stream Cancellation for `stream` (RFC 9204 §4.4.2). */
  cancel(stream: number): this {
    const w = new ByteWriter(8);
    writeStreamCancellation(w, stream);
    return this.stream(10, Buffer.concat([Buffer.from([0x03]), w.take() ?? new Uint8Array(0)]), false);
  }
}

function trace(dead: H3Client, after: H3Client, requests: string[] = ['GET /a']): ClientTrace {
  const conn: ConnectionTrace = {
    role: 'attempt',
    remote: '127.0.0.1:5000',
    resumed: true,
    offered0Rtt: true,
    handshakeComplete: true,
    announced: LIMITS,
    dead: dead.frames,
    deadPns: dead.frames.map((f) => f.pn),
    deadUndecryptable: 0,
    appPns: after.frames.map((f) => f.pn),
    log: after.frames,
    app: requests.map((r, i) => ({
      stream: i * 4,
      request: r,
      requestBytes: 0,
      requestComplete: true,
      responseBytes: 10,
      answered: true,
      acknowledged: true,
    })),
    close: { by: 'client', application: true, code: 0x100, reason: '' },
  };
  return {
    format: 'tsquic-audit-0rtt/1',
    client: '127.0.0.1',
    alpn: 'h3',
    remembered: LIMITS,
    connections: [conn],
  };
}

/** The dead attempt: control stream, one GET whose head uses the dynamic table. */
function deadAttempt(): H3Client {
  return new H3Client('0rtt').control().get(0, '/a');
}

describe('server-mode checks for HTTP/3 clients', () => {
  test("tsquic's h3 client: every check passes, check 7 names the restarted control stream", () => {
    const t = fixture('tsquic-h3-client');
    assert.deepEqual(verdicts(t), ['1 PASS', '2 PASS', '3 PASS', '4 PASS', '5 PASS', '6 PASS', '7 PASS']);
    const c7 = checkH3FreshState(t);
    assert.match(c7.summary, /control stream 2 starts with SETTINGS again/);
    assert.match(c7.summary, /2 control, 6 QPACK encoder, 10 QPACK decoder/);
    assert.match(
      checkDataResentOnce(t).summary,
      /GET https:\/\/localhost:\d+\/index\.html \(dead stream 0\) again on the same connection/,
    );
  });

  test('a client that leaves the connection after the rejection open and asks on a new one fails check 6', () => {
    const t = fixture('tsquic-h3-client-abandons');
    const c6 = checkClientRecovers(t);
    assert.equal(c6.verdict, 'FAIL');
    assert.match(
      c6.summary,
      /abandoned the connection that goes on after the rejection .*idle-timeout.* 2 requests answered on a later connection/,
    );
    // The requests themselves were repeated (on the later connection): check 5 passes.
    assert.equal(checkDataResentOnce(t).verdict, 'PASS');
    assert.match(checkDataResentOnce(t).summary, /again on later connection 1/);
  });

  test('ngtcp2 0.12 gtlsclient: every check passes, requests re-encoded with a fresh dynamic table', () => {
    const t = fixture('ngtcp2-h3-client');
    assert.deepEqual(verdicts(t), ['1 PASS', '2 PASS', '3 PASS', '4 PASS', '5 PASS', '6 PASS', '7 PASS']);
    assert.match(
      checkH3FreshState(t).summary,
      /2 field sections decoded with this connection's table \(2 inserted\)/,
    );
  });

  test("quic-go 0.29's http3 RoundTripper: a RESET_STREAM of the dead request stream on the connection after the rejection", () => {
    const t = fixture('quic-go-h3-client');
    assert.deepEqual(verdicts(t), [
      '1 FAIL',
      '2 NOT-EXERCISED',
      '3 NOT-EXERCISED',
      '4 NOT-EXERCISED',
      '5 PASS',
      '6 FAIL',
      '7 PASS',
    ]);
    const c1 = runServerChecks(t)[0]!;
    assert.deepEqual(
      c1.evidence.map((e) => [e.packet, e.frame]),
      [['1-RTT pn 5', 'RESET_STREAM stream 0 code 262 final size 49']],
    );
    assert.match(
      c1.evidence[0]!.note,
      /the rejected 0-RTT attempt held stream 0 with the same final size 49/,
    );
  });

  test('hq-interop and echo clients are not judged by check 7', () => {
    assert.equal(runServerChecks(fixture('tsquic-client')).length, 6);
    const t = { ...trace(deadAttempt(), new H3Client('1rtt').control().get(0, '/a')), alpn: 'hq-interop' };
    assert.equal(checkH3FreshState(t).verdict, 'NOT-EXERCISED');
  });

  test('a correct client: control stream again, the request re-encoded against the new table', () => {
    const t = trace(deadAttempt(), new H3Client('1rtt').control().get(0, '/a'));
    assert.equal(checkH3FreshState(t).verdict, 'PASS', checkH3FreshState(t).summary);
    const c5 = checkDataResentOnce(t);
    assert.equal(c5.verdict, 'PASS', c5.summary);
    assert.match(c5.summary, /^GET https:\/\/localhost\/a \(dead stream 0\) again on the same connection$/);
  });

  test('a head that refers to dynamic table entries only the dead attempt inserted fails check 7', () => {
    const dead = deadAttempt();
    // The client's encoder keeps its table: its next section refers to the dead attempt's entries
    // and it sends no encoder instruction on the new connection.
    const after = new H3Client('1rtt').control();
    const section = dead.qpack.encode(0, [
      { name: ':method', value: 'GET' },
      { name: ':scheme', value: 'https' },
      { name: ':authority', value: 'localhost' },
      { name: ':path', value: '/a' },
      { name: 'x-audit-token', value: 'abcdef' },
    ]);
    assert.equal(dead.qpack.takeEncoderStreamData(), undefined, 'every line is in the table already');
    after.stream(0, encodeFrame({ type: H3FrameType.Headers, fieldSection: section }), true);
    const c7 = checkH3FreshState(trace(dead, after));
    assert.equal(c7.verdict, 'FAIL');
    assert.equal(c7.evidence[0]!.packet, '1-RTT pn 1');
    assert.equal(c7.evidence[0]!.stream, 0);
    assert.match(
      c7.summary,
      /the request on stream 0 cannot be decoded with this connection's QPACK state: its field section needs dynamic table entries that this connection's encoder stream never inserted \(0 inserted\) \(the dead attempt inserted 3 entries\)/,
    );
  });

  test("a Stream Cancellation for the dead attempt's request stream fails check 7 (the HTTP/3 #4706)", () => {
    const after = new H3Client('1rtt').control().cancel(4).get(0, '/a');
    const dead = new H3Client('0rtt').control().get(0, '/a').get(4, '/b');
    const c7 = checkH3FreshState(trace(dead, after, ['GET /a']));
    assert.equal(c7.verdict, 'FAIL');
    assert.match(
      c7.summary,
      /decoder stream Stream Cancellation for stream 4, which the client has not opened on this connection, a request stream of the dead attempt/,
    );
    assert.equal(c7.evidence[0]!.stream, 10);
  });

  test('a control stream that does not start with SETTINGS fails check 7', () => {
    const goaway = encodeFrame({ type: H3FrameType.Goaway, id: 0 });
    const after = new H3Client('1rtt').control(goaway).get(0, '/a');
    const c7 = checkH3FreshState(trace(deadAttempt(), after));
    assert.equal(c7.verdict, 'FAIL');
    assert.match(c7.summary, /control stream 2 starts with frame type 0x7, not SETTINGS/);
    // Requests but no control stream at all.
    const none = checkH3FreshState(trace(deadAttempt(), new H3Client('1rtt').get(0, '/a')));
    assert.equal(none.verdict, 'FAIL');
    assert.match(none.summary, /requests but no control stream/);
  });

  test('check 5 (h3): a request asked twice, or never again, fails', () => {
    const twice = checkDataResentOnce(
      trace(deadAttempt(), new H3Client('1rtt').control().get(0, '/a').get(4, '/a'), ['GET /a', 'GET /a']),
    );
    assert.equal(twice.verdict, 'FAIL');
    assert.match(
      twice.summary,
      /GET https:\/\/localhost\/a \(dead stream 0\) was asked 2 times after the rejection \(streams 0, 4\)/,
    );
    const never = checkDataResentOnce(trace(deadAttempt(), new H3Client('1rtt').control().get(0, '/b')));
    assert.equal(never.verdict, 'FAIL');
    assert.match(never.summary, /GET https:\/\/localhost\/a \(dead stream 0\) was never asked again/);
  });
});
