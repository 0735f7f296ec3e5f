/**
 * Accepted 0-RTT (RFC 9001 §4.6.1, RFC 9000 §7.4.1).
 *
 * - The early epoch simply carries on: one epoch, used0RTT on both sides, stream IDs continue, and
 *   nothing is resent -- every STREAM byte sent in 0-RTT is sent exactly once, data that did not fit in
 *   the 0-RTT flight follows in 1-RTT at the next offsets (counted on the wire at core level).
 * - A server that accepts 0-RTT must not reduce any limit remembered with the ticket; if it does, the
 *   client closes with PROTOCOL_VIOLATION. tsquic's own server cannot be made to do that through its
 *   public configuration (it rejects 0-RTT when its limits went down, see zero-rtt-reasons), so the
 *   test bypasses the endpoint: a server Connection built directly, accepting 0-RTT, whose encoded
 *   transport parameters are rewritten on the way out (the `testRewriteTransportParameters` hook).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Connection } from '../../src/connection/connection.js';
import type { ConnectionEvent } from '../../src/connection/connection-events.js';
import { TransportErrorCode } from '../../src/errors/transport-error.js';
import { SessionTicketKeys } from '../../src/tls/session-ticket-keys.js';
import type { ResumptionSession } from '../../src/tls/types.js';
import type { Millis } from '../../src/util/time.js';
import { FrameType } from '../../src/wire/frames.js';
import { PacketType } from '../../src/wire/packet-header.js';
import {
  decodeTransportParameters,
  encodeTransportParameters,
  type TransportParameters,
} from '../../src/wire/transport-parameters.js';
import { QUIC_V1 } from '../../src/wire/version.js';
import {
  DEFAULT_START_TIME,
  Prng,
  SimNetwork,
  type SimNode,
  seededRandomBytes,
  withSimSeed,
} from './network.js';
import { CLIENT_ADDRESS, SERVER_ADDRESS, SERVER_NAME, simPki } from './quic-harness.js';
import { allEqual, ClientApp, EchoServerApp, fill, ZeroRttSim } from './zero-rtt-harness.js';

const K = 1024;
const EARLY = 0xa1;

/** Byte ranges [offset, offset + length) per stream of the STREAM frames a connection sent, by packet type. */
function streamRanges(z: ZeroRttSim, conn: Connection, type: PacketType) {
  const out = new Map<number, Array<[number, number]>>();
  for (const r of z.framesOf(conn, 'sent')) {
    if (r.packetType !== type || r.frame.type !== FrameType.Stream) continue;
    const list = out.get(r.frame.streamId) ?? [];
    list.push([r.frame.offset, r.frame.offset + r.data!.length]);
    out.set(r.frame.streamId, list);
  }
  return out;
}

function totalLength(ranges: Array<[number, number]> | undefined): number {
  return (ranges ?? []).reduce((n, [a, b]) => n + (b - a), 0);
}

/** Ranges sorted, checked to be disjoint and to cover [0, size) exactly: each byte sent once. */
function assertExactCover(ranges: Array<[number, number]>, size: number, what: string): void {
  const sorted = [...ranges].sort((x, y) => x[0] - y[0]);
  let next = 0;
  for (const [a, b] of sorted) {
    assert.equal(a, next, `${what}: a byte range sent twice or skipped at ${a} (expected ${next})`);
    next = b;
  }
  assert.equal(next, size, `${what}: covers ${next} of ${size} bytes`);
}

describe('accepted 0-RTT', () => {
  test('used0RTT, one epoch, stream IDs continue, and not one byte is resent', () => {
    withSimSeed(7500, (seed) => {
      const z = new ZeroRttSim({ seed, allow: true });
      const echo = new EchoServerApp(z.sim);
      echo.echo = false;
      const conn = z.dialEarly();
      const app = new ClientApp(z.sim, conn);
      const epoch = conn.epoch!;
      // A small request fits the 0-RTT flight; a large one does not (congestion window).
      const small = epoch.streams.openStream(true)!;
      epoch.streams.write(small, fill(3_000, EARLY));
      epoch.streams.end(small);
      const large = epoch.streams.openStream(false)!;
      epoch.streams.write(large, fill(60 * K, EARLY));
      epoch.streams.end(large);
      let afterAccept: number | undefined;
      app.onAccepted = () => {
        // The application continues on the same connection: the next stream ID follows.
        afterAccept = epoch.streams.openStream(true);
        epoch.streams.write(afterAccept!, fill(1_000, EARLY));
        epoch.streams.end(afterAccept!);
      };
      let server: Connection | undefined;
      z.sim.run(() => {
        server = z.serverOf(conn);
        const log = server ? echo.logOf(server) : undefined;
        return log !== undefined && [small, large, 4].every((id) => log.get(id)?.fin === true);
      }, 20_000);
      z.settle();
      assert.ok(server);
      assert.equal(conn.used0RTT, true);
      assert.equal(server.used0RTT, true);
      assert.equal(conn.earlyDataState, 'accepted');
      assert.equal(conn.epoch, epoch, 'the early epoch carried on');
      assert.deepEqual(
        app.events.flatMap((e: ConnectionEvent) => (e.type === 'epoch' ? [e.epoch] : [])),
        [epoch],
        'one epoch only, the early one',
      );
      assert.deepEqual([small, large, afterAccept], [0, 2, 4]);
      // RFC 9000 §7.4.1: the limits are now the server's real ones (here: the same values).
      assert.equal(epoch.streams.stats().peerMaxData, conn.peerParams!.initialMaxData);

      const zeroRtt = streamRanges(z, conn, PacketType.ZeroRtt);
      const oneRtt = streamRanges(z, conn, PacketType.OneRtt);
      assert.equal(totalLength(zeroRtt.get(small)), 3_000, 'the small request went entirely in 0-RTT');
      assert.equal(totalLength(oneRtt.get(small)), 0, 'and was not resent in 1-RTT');
      const largeEarly = totalLength(zeroRtt.get(large));
      assert.ok(largeEarly > 0 && largeEarly < 60 * K, `${largeEarly} bytes of the large one in 0-RTT`);
      assertExactCover(
        [...(zeroRtt.get(large) ?? []), ...(oneRtt.get(large) ?? [])],
        60 * K,
        'large stream, 0-RTT + 1-RTT',
      );
      assertExactCover(oneRtt.get(4) ?? [], 1_000, 'stream opened after acceptance');
      assert.equal(zeroRtt.has(4), false);
      // The server delivered everything once, byte-exact.
      const served = echo.logOf(server);
      assert.equal(served.get(small)!.bytes.length, 3_000);
      assert.equal(served.get(large)!.bytes.length, 60 * K);
      assert.ok(allEqual(served.get(large)!.bytes, EARLY));
      assert.equal(served.get(4)!.bytes.length, 1_000);
      assert.ok(
        z.framesOf(server, 'received').some((r) => r.packetType === PacketType.ZeroRtt),
        'the server processed 0-RTT packets',
      );
      assert.deepEqual(conn.internalErrors, []);
      assert.deepEqual(server.internalErrors, []);
    });
  });
});

// ---------------------------------------------------------------------------------------------------
// A server that accepts 0-RTT but reduces a remembered limit.

/** A bare Connection as a simulator node talking to one peer. */
class ConnectionNode implements SimNode {
  constructor(
    readonly conn: Connection,
    private readonly peer: string,
  ) {}
  receive(datagram: Uint8Array, from: string, now: Millis): void {
    this.conn.receive(datagram, from, now);
  }
  transmit(now: Millis) {
    const d = this.conn.transmit(now);
    return d ? { datagram: d, to: this.peer } : undefined;
  }
  nextTimeout(): Millis | undefined {
    return this.conn.nextTimeout();
  }
  handleTimeout(now: Millis): void {
    this.conn.handleTimeout(now);
  }
}

interface DirectPair {
  net: SimNetwork;
  client: Connection;
  server: Connection;
}

/** A client and a server Connection wired directly (no Endpoint, so no 0-RTT policy or limit check). */
function directPair(
  seed: number,
  ticketKeys: SessionTicketKeys,
  session: ResumptionSession | undefined,
  rewrite?: (p: TransportParameters) => void,
): DirectPair {
  const net = new SimNetwork({ seed });
  const random = seededRandomBytes(net.prng.fork('direct pair'));
  const pki = simPki();
  const transport = { maxDatagramFrameSize: 1200 };
  const client = new Connection({
    role: 'client',
    remoteAddress: SERVER_ADDRESS,
    tls: {
      alpn: ['hq-interop'],
      serverName: SERVER_NAME,
      ca: [pki.ca.certPem],
      ...(session ? { session, offerEarlyData: true } : {}),
    },
    transport,
    random,
    now: net.now,
    statelessResetToken: () => random(16),
  });
  const server = new Connection({
    role: 'server',
    version: QUIC_V1,
    originalDcid: client.originalDcid,
    initialDcid: client.originalDcid,
    clientScid: client.localCid,
    localCid: random(8),
    addressValidated: true,
    remoteAddress: CLIENT_ADDRESS,
    tls: {
      alpn: ['hq-interop'],
      identity: { certificateChain: pki.leaf.certPem, privateKey: pki.leaf.keyPem },
      ticketKeys,
      issueEarlyDataTickets: true,
    },
    transport,
    random,
    now: net.now,
    statelessResetToken: () => random(16),
    // The application accepts every 0-RTT attempt; the connection keeps only the check of its own
    // (unchanged) options against the ticket, so the rewritten parameters go unnoticed by the server.
    acceptEarlyData: () => true,
    ...(rewrite
      ? {
          testRewriteTransportParameters: (encoded: Uint8Array) => {
            const p = decodeTransportParameters(encoded, 'server');
            rewrite(p);
            return encodeTransportParameters(p);
          },
        }
      : {}),
  });
  net.addNode(CLIENT_ADDRESS, new ConnectionNode(client, SERVER_ADDRESS));
  net.addNode(SERVER_ADDRESS, new ConnectionNode(server, CLIENT_ADDRESS));
  return { net, client, server };
}

function ticketFrom(seed: number, ticketKeys: SessionTicketKeys): ResumptionSession {
  const { net, client } = directPair(seed, ticketKeys, undefined);
  let session: ResumptionSession | undefined;
  net.run({
    until: () => {
      for (let e = client.pollEvent(); e; e = client.pollEvent())
        if (e.type === 'session-ticket') session = e.session;
      return session !== undefined;
    },
    maxTime: 10_000,
  });
  assert.ok(session && session.maxEarlyDataSize > 0);
  return session;
}

const REDUCTIONS: Array<[string, (p: TransportParameters) => void]> = [
  [
    'initial_max_data',
    (p) => {
      p.initialMaxData = Math.floor(p.initialMaxData / 2);
    },
  ],
  [
    'initial_max_stream_data_bidi_remote',
    (p) => {
      p.initialMaxStreamDataBidiRemote -= 1;
    },
  ],
  [
    'initial_max_stream_data_uni',
    (p) => {
      p.initialMaxStreamDataUni = 0;
    },
  ],
  [
    'initial_max_streams_bidi',
    (p) => {
      p.initialMaxStreamsBidi = 1;
    },
  ],
  [
    'initial_max_streams_uni',
    (p) => {
      p.initialMaxStreamsUni -= 1;
    },
  ],
  [
    'active_connection_id_limit',
    (p) => {
      p.activeConnectionIdLimit = 2;
    },
  ],
  [
    'max_datagram_frame_size',
    (p) => {
      p.maxDatagramFrameSize = undefined;
    },
  ],
];

describe('a server that accepts 0-RTT but reduces a remembered limit (RFC 9000 §7.4.1)', () => {
  for (const [name, reduce] of REDUCTIONS) {
    test(`reduced ${name}: the client closes with PROTOCOL_VIOLATION`, () => {
      withSimSeed(7600, (seed) => {
        const ticketKeys = new SessionTicketKeys({
          random: seededRandomBytes(new Prng(seed)),
          now: DEFAULT_START_TIME,
        });
        const session = ticketFrom(seed, ticketKeys);
        const { net, client, server } = directPair(seed + 1, ticketKeys, session, reduce);
        const epoch = client.epoch!;
        assert.ok(epoch.early);
        const id = epoch.streams.openStream(true)!;
        epoch.streams.write(id, fill(1_000, EARLY));
        net.run({ until: () => client.isClosed && server.isClosed, maxTime: 10_000 });
        assert.equal(server.earlyDataState, 'accepted', 'the server did accept 0-RTT');
        assert.equal(client.closeInfo?.source, 'local');
        assert.equal(client.closeInfo?.application, false);
        assert.equal(client.closeInfo?.errorCode, TransportErrorCode.PROTOCOL_VIOLATION);
        assert.match(client.closeInfo?.reason ?? '', new RegExp(name));
        assert.equal(server.closeInfo?.source, 'remote');
        assert.equal(server.closeInfo?.errorCode, TransportErrorCode.PROTOCOL_VIOLATION);
        assert.deepEqual(client.internalErrors, []);
      });
    });
  }

  test('control: raising every limit is allowed, the accepted 0-RTT data arrives', () => {
    withSimSeed(7601, (seed) => {
      const ticketKeys = new SessionTicketKeys({
        random: seededRandomBytes(new Prng(seed)),
        now: DEFAULT_START_TIME,
      });
      const session = ticketFrom(seed, ticketKeys);
      const { net, client, server } = directPair(seed + 1, ticketKeys, session, (p) => {
        p.initialMaxData *= 2;
        p.initialMaxStreamsBidi += 5;
        p.activeConnectionIdLimit += 1;
      });
      const epoch = client.epoch!;
      const id = epoch.streams.openStream(true)!;
      epoch.streams.write(id, fill(1_000, EARLY));
      epoch.streams.end(id);
      let got = 0;
      let fin = false;
      net.run({
        until: () => {
          for (let e = server.pollEvent(); e; e = server.pollEvent()) {
            if (e.type !== 'stream' || e.event.type !== 'readable') continue;
            for (let r = e.epoch.streams.read(id); r; r = e.epoch.streams.read(id)) {
              got += r.data.length;
              fin ||= r.fin;
            }
          }
          return fin && client.handshakeConfirmed;
        },
        maxTime: 10_000,
      });
      assert.equal(got, 1_000);
      assert.equal(client.used0RTT, true);
      assert.equal(client.isClosed, false);
      assert.equal(client.epoch, epoch);
      // The early epoch now runs on the larger, real limits (RFC 9000 §7.4.1).
      const remembered = decodeTransportParameters(session.transportParameters, 'server');
      assert.equal(client.peerParams!.initialMaxData, 2 * remembered.initialMaxData);
      assert.equal(epoch.streams.stats().peerMaxData, 2 * remembered.initialMaxData);
    });
  });
});
