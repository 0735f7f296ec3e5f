/**
 * The core's drop hook (Connection `dropTrace`, qlog `transport:packet_dropped`): every packet a
 * connection discards unprocessed is reported with its type, the reason and its protected bytes.
 * Rejected 0-RTT packets (RFC 9001 §4.6.2) are the case that matters: a server that has processed the
 * ClientHello and rejected 0-RTT drops them at once, instead of holding them in the buffer that
 * packets arriving before their keys need, and the trace hands their bytes to whoever watches (the
 * 0-RTT auditor decrypts them with the ticket it issued).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Connection, PacketDropTraceEvent } from '../../src/connection/connection.js';
import { QlogWriter } from '../../src/node/qlog.js';
import { SessionTicketKeys } from '../../src/tls/session-ticket-keys.js';
import type { ResumptionSession } from '../../src/tls/types.js';
import { splitDatagram } from '../../src/wire/coalesced.js';
import { PacketType } from '../../src/wire/packet-header.js';
import { DEFAULT_START_TIME, Prng, seededRandomBytes, withSimSeed } from './network.js';
import { CLIENT_ADDRESS, QuicSim, SERVER_ADDRESS } from './quic-harness.js';

interface Drop extends PacketDropTraceEvent {
  conn: Connection;
  /** Whether the connection had completed its handshake when it dropped the packet. */
  handshakeComplete: boolean;
}

function setup(seed: number) {
  const drops: Drop[] = [];
  const sim = new QuicSim({
    seed,
    server: {
      tls: {
        ticketKeys: new SessionTicketKeys({
          random: seededRandomBytes(new Prng(seed)),
          now: DEFAULT_START_TIME,
        }),
        issueEarlyDataTickets: true,
      },
      allowEarlyData: () => false,
    },
    serverEndpoint: {
      dropTrace: (conn, e) => drops.push({ ...e, conn, handshakeComplete: conn.handshakeComplete }),
    },
  });
  const first = sim.dial();
  sim.handshake(first);
  let session: ResumptionSession | undefined;
  sim.run(() => {
    for (let e = first.pollEvent(); e; e = first.pollEvent())
      if (e.type === 'session-ticket') session = e.session;
    return session !== undefined;
  }, 5_000);
  assert.ok(session);
  return { sim, session, drops };
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('the drop trace', () => {
  test('rejected 0-RTT: every 0-RTT packet the client sent is reported, bytes intact, before the handshake completes', () => {
    withSimSeed(1400, (seed) => {
      const { sim, session, drops } = setup(seed);
      // Every 0-RTT packet the client puts on the wire, as sent.
      const sent0Rtt: string[] = [];
      sim.net.onSend((e) => {
        if (e.from !== CLIENT_ADDRESS || e.to !== SERVER_ADDRESS) return;
        for (const p of splitDatagram(e.datagram, 8)) {
          if (p.type === PacketType.ZeroRtt)
            sent0Rtt.push(hex(e.datagram.subarray(p.packetStart, p.packetEnd)));
        }
      });
      const conn = sim.dial({ session, offerEarlyData: true });
      const epoch = conn.epoch!;
      const id = epoch.streams.openStream(true)!;
      epoch.streams.write(id, new Uint8Array(6000).fill(0x5a));
      epoch.streams.end(id);
      sim.run(() => conn.handshakeConfirmed, 10_000);
      assert.equal(conn.earlyDataState, 'rejected');
      assert.ok(sent0Rtt.length >= 3, `the early data took several 0-RTT packets (${sent0Rtt.length})`);

      const dropped = drops.filter((d) => d.packetType === PacketType.ZeroRtt);
      assert.deepEqual(dropped.map((d) => hex(d.packet)).sort(), [...sent0Rtt].sort());
      assert.ok(dropped.every((d) => d.reason === 'key_unavailable'));
      // RFC 9001 §4.6.2: discarded as they arrive, not buffered until the handshake completes.
      assert.deepEqual(
        dropped.filter((d) => d.handshakeComplete),
        [],
        'a rejected 0-RTT packet was held until the handshake completed',
      );
      assert.ok(dropped.every((d) => d.conn.role === 'server'));
    });
  });

  test('a duplicated datagram is reported as duplicate, with the packet bytes', () => {
    withSimSeed(1401, (seed) => {
      const { sim, drops } = setup(seed);
      const conn = sim.dial();
      let copy: Uint8Array | undefined;
      sim.net.onSend((e) => {
        if (e.from === CLIENT_ADDRESS && conn.handshakeConfirmed && !copy) copy = e.datagram;
      });
      const epoch = () => conn.epoch!;
      sim.handshake(conn);
      const id = epoch().streams.openStream(true)!;
      epoch().streams.write(id, new Uint8Array(100));
      sim.client.markActive(conn);
      sim.run(() => copy !== undefined, 5_000);
      assert.ok(copy);
      const before = drops.length;
      sim.net.inject(CLIENT_ADDRESS, SERVER_ADDRESS, copy);
      sim.run(() => drops.length > before, 5_000);
      const d = drops[drops.length - 1]!;
      assert.equal(d.reason, 'duplicate');
      assert.equal(d.packetType, PacketType.OneRtt);
      assert.equal(hex(d.packet), hex(copy));
    });
  });

  test('qlog writes each drop as transport:packet_dropped with the packet type, size and trigger', async () => {
    const { sim, session, drops } = withSimSeed(1402, (seed) => setup(seed));
    const conn = sim.dial({ session, offerEarlyData: true });
    const epoch = conn.epoch!;
    const id = epoch.streams.openStream(true)!;
    epoch.streams.end(id);
    sim.run(() => conn.handshakeConfirmed, 10_000);
    const dropped = drops.filter((d) => d.packetType === PacketType.ZeroRtt);
    assert.ok(dropped.length > 0);
    const dir = mkdtempSync(join(tmpdir(), 'tsquic-qlog-drop-'));
    try {
      const qlog = new QlogWriter(dir);
      for (const d of dropped) qlog.dropped(d.conn, d);
      qlog.close(dropped[0]!.conn);
      // The file is written asynchronously: wait until the writer has closed it (no wall-clock
      // bound to miss on a loaded machine; the test's own timeout turns a hang into a failure).
      await qlog.finished();
      const [file] = readdirSync(dir);
      assert.ok(file?.endsWith('_server.sqlog'));
      const events = readFileSync(join(dir, file), 'utf8')
        .split('\x1e')
        .filter((r) => r.trim())
        .map((r) => JSON.parse(r) as { name?: string; data?: Record<string, unknown> })
        .filter((r) => r.name === 'transport:packet_dropped');
      assert.deepEqual(
        events.map((r) => r.data),
        dropped.map((d) => ({
          header: { packet_type: '0RTT' },
          raw: { length: d.packet.length },
          trigger: 'key_unavailable',
        })),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
