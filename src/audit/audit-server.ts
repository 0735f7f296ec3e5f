/**
 * Server mode of `tsquic audit-0rtt`: a QUIC server, built from tsquic's sans-IO Endpoint, that
 * audits how clients handle a rejected 0-RTT attempt (docs/audit-0rtt.md).
 *
 * For each client (told apart by IP address, audited one after another): its first connection
 * completes normally, with generous limits, and gets a session ticket that allows early data. Its next
 * connection presents the ticket and sends 0-RTT, which the auditor rejects on purpose (its policy
 * says no, and it announces smaller limits than the ticket remembered, RFC 9000 §7.4.1), then watches
 * everything the client sends on that connection and any later one:
 *
 * - every frame processed, per connection, with its packet type and number: the core's frame trace;
 * - the 0-RTT packets the connection discarded unread: the core's drop trace, which the auditor opens
 *   with 0-RTT keys derived from the ticket it issued (early-keys.ts), never feeding them back;
 * - what its application (server-app.ts) saw on each stream.
 *
 * The record is a ClientTrace per client; the checks (server-checks.ts) judge it. Like the core, this
 * class does no I/O: datagrams and time in, datagrams and a deadline out. The CLI drives it over UDP,
 * the tests over the simulator too.
 */
import type { Connection, FrameTraceEvent, PacketDropTraceEvent } from '../connection/connection.js';
import type { TransportOptions } from '../connection/connection-options.js';
import { Endpoint } from '../endpoint/endpoint.js';
import type { ClientOffer } from '../tls/client-offer.js';
import { decodeSessionTicket } from '../tls/session-ticket.js';
import { SessionTicketKeys } from '../tls/session-ticket-keys.js';
import type { ServerIdentity } from '../tls/types.js';
import type { RandomBytes } from '../util/random.js';
import type { Millis } from '../util/time.js';
import { FrameType } from '../wire/frames.js';
import { PacketType } from '../wire/packet-header.js';
import { decodeTransportParameters, type TransportParameters } from '../wire/transport-parameters.js';
import {
  type ClientTrace,
  type ConnectionTrace,
  closeRecordOf,
  type Limits,
  TRACE_FORMAT,
} from './audit-trace.js';
import { deriveEarlyKeys, EarlyPacketOpener } from './early-keys.js';
import { recordFrame } from './frame-record.js';
import { AuditH3App } from './h3-server-app.js';
import { AuditServerApp, type FileSource } from './server-app.js';

/** The first connection: generous limits, DATAGRAM allowed. The ticket remembers these. */
export const FIRST_CONNECTION_LIMITS: Partial<TransportOptions> = {
  initialMaxData: 1024 * 1024,
  initialMaxStreamData: 256 * 1024,
  maxStreamsBidi: 100,
  maxStreamsUni: 100,
  activeConnectionIdLimit: 4,
  maxDatagramFrameSize: 65535,
};

/**
 * The rejected connection: every limit smaller than remembered, DATAGRAM not allowed. The stream window
 * is smaller than any hq-interop request line, and one bidirectional stream at a time: a client that
 * keeps the remembered limits exceeds them at once. Three unidirectional streams is what HTTP/3 needs
 * (RFC 9114 §6.2).
 */
export const REJECTED_CONNECTION_LIMITS: Partial<TransportOptions> = {
  initialMaxData: 8 * 1024,
  initialMaxStreamData: 8,
  maxStreamsBidi: 1,
  maxStreamsUni: 3,
  activeConnectionIdLimit: 2,
  maxDatagramFrameSize: undefined,
};

/** Per stream, payload bytes recorded beyond this offset are not kept (the trace stays small). */
const RECORDED_STREAM_PREFIX = 64 * 1024;

export interface AuditServerOptions {
  identity: ServerIdentity;
  /** ALPN protocols offered, in preference order. */
  alpn: string[];
  /** hq-interop files (default: the built-in file for every path). */
  files?: FileSource;
  /**
   * The rejected connection announces the limits the ticket remembered instead of smaller ones
   * (check 3 is then not exercised): for clients that give up on a rejecting server that lowers
   * them (Chromium: docs/audit-0rtt.md), so that the rest of their behaviour can be audited.
   */
  keepLimits?: boolean;
  /** Clients to audit before `done` (default 1). */
  clients?: number;
  /** How long a client's connections must all have ended before its audit is closed (default 500 ms). */
  lingerMs?: Millis;
  random: RandomBytes;
  now: Millis;
  /** Reported as they complete. */
  onClientDone?: (trace: ClientTrace) => void;
}

interface ConnState {
  conn: Connection;
  slot: Slot;
  trace: ConnectionTrace;
  crypto: Map<number, Uint8Array>;
  clientHello: Uint8Array | undefined;
  opener: EarlyPacketOpener | undefined;
  /** 0-RTT packets dropped before the ClientHello was complete. */
  pendingEarly: Uint8Array[];
  /** The ClientHello was read and its ticket is not the auditor's (or there is none). */
  earlyUnreadable: boolean;
  appPns: Set<number>;
  app: AuditServerApp | AuditH3App | undefined;
  /** Stream payload bytes recorded so far, per stream. */
  recorded: Map<number, number>;
  terminated: boolean;
}

interface Slot {
  host: string;
  conns: ConnState[];
  remembered: Limits | undefined;
  finished: boolean;
  /** When all connections had ended (the linger starts). */
  idleSince: Millis | undefined;
}

export class AuditServer {
  readonly endpoint: Endpoint;
  private readonly ticketKeys: SessionTicketKeys;
  private readonly slots = new Map<string, Slot>();
  private readonly states = new Map<Connection, ConnState>();
  private readonly finished: ClientTrace[] = [];
  private pendingFirst: boolean | undefined;
  private readonly lingerMs: Millis;
  private readonly clients: number;
  /** The time of the latest call in (the HTTP/3 app's clock). */
  private now: Millis;

  constructor(private readonly opts: AuditServerOptions) {
    this.lingerMs = opts.lingerMs ?? 500;
    this.clients = opts.clients ?? 1;
    this.now = opts.now;
    this.ticketKeys = new SessionTicketKeys({ random: opts.random, now: opts.now });
    this.endpoint = new Endpoint({
      random: opts.random,
      server: {
        tls: {
          alpn: opts.alpn,
          identity: opts.identity,
          ticketKeys: this.ticketKeys,
          issueEarlyDataTickets: true,
        },
        // Every 0-RTT attempt is rejected on purpose (RFC 9001 §4.6.2).
        allowEarlyData: () => false,
        transport: FIRST_CONNECTION_LIMITS,
      },
      transportFor: (remote) => this.transportFor(remote),
      trace: (conn, e) => this.onFrame(conn, e),
      dropTrace: (conn, e) => this.onDrop(conn, e),
    });
  }

  // ------------------------------------------------------------------ the sans-IO interface

  receive(datagram: Uint8Array, from: string, now: Millis): void {
    this.now = now;
    this.endpoint.receive(datagram, from, now);
    this.pump(now);
  }

  transmit(now: Millis): { datagram: Uint8Array; to: string } | undefined {
    this.now = now;
    const out = this.endpoint.transmit(now);
    this.pump(now);
    return out;
  }

  nextTimeout(): Millis | undefined {
    let t = this.endpoint.nextTimeout();
    for (const slot of this.slots.values()) {
      if (slot.finished || slot.idleSince === undefined) continue;
      const at = slot.idleSince + this.lingerMs;
      if (t === undefined || at < t) t = at;
    }
    return t;
  }

  handleTimeout(now: Millis): void {
    this.now = now;
    this.endpoint.handleTimeout(now);
    this.pump(now);
  }

  /** Every client to audit has been audited. */
  get done(): boolean {
    return this.finished.length >= this.clients;
  }

  /** The traces of the clients audited so far. */
  traces(): ClientTrace[] {
    return [...this.finished];
  }

  /**
   * Ends the audit now (a deadline, a signal): clients still in progress are reported with what was
   * seen; a client seen only on its first connection too (it never came back with its ticket).
   */
  finishAll(): ClientTrace[] {
    for (const slot of this.slots.values()) if (!slot.finished) this.finish(slot);
    return this.traces();
  }

  // ------------------------------------------------------------------ clients and connections

  /** Called by the endpoint for each new connection, just before it is created. */
  private transportFor(remote: string): Partial<TransportOptions> {
    const host = hostOf(remote);
    const slot = this.slots.get(host);
    const first = !slot || slot.finished;
    this.pendingFirst = first;
    return first || this.opts.keepLimits ? {} : REJECTED_CONNECTION_LIMITS;
  }

  private stateOf(conn: Connection): ConnState {
    let s = this.states.get(conn);
    if (s) return s;
    const host = hostOf(conn.remoteAddress);
    let slot = this.slots.get(host);
    const first = this.pendingFirst ?? true;
    this.pendingFirst = undefined;
    if (!slot || slot.finished || first) {
      slot = { host, conns: [], remembered: undefined, finished: false, idleSince: undefined };
      this.slots.set(host, slot);
    }
    slot.idleSince = undefined;
    s = {
      conn,
      slot,
      trace: {
        role: first ? 'first' : 'other',
        remote: conn.remoteAddress,
        resumed: false,
        offered0Rtt: false,
        handshakeComplete: false,
        announced: limitsOf(conn.localParams),
        dead: [],
        deadPns: [],
        deadUndecryptable: 0,
        appPns: [],
        log: [],
        app: [],
      },
      crypto: new Map(),
      clientHello: undefined,
      opener: undefined,
      pendingEarly: [],
      earlyUnreadable: false,
      appPns: new Set(),
      app: undefined,
      recorded: new Map(),
      terminated: false,
    };
    if (first) slot.remembered = limitsOf(conn.localParams);
    slot.conns.push(s);
    this.states.set(conn, s);
    return s;
  }

  /** The core's frame trace: every frame sent or received, per connection. */
  private onFrame(conn: Connection, e: FrameTraceEvent): void {
    const s = this.stateOf(conn);
    const f = e.frame;
    if (e.direction === 'received') {
      if (e.packetType === PacketType.Initial && f.type === FrameType.Crypto)
        this.onClientHelloBytes(s, f.offset, f.data);
      if (e.packetType !== PacketType.OneRtt) return;
      s.appPns.add(e.packetNumber);
      if (s.trace.role === 'first') return;
      const r = recordFrame(f);
      if (!r) return;
      this.keepPayload(s, r);
      s.trace.log.push({ dir: 'recv', packet: '1rtt', pn: e.packetNumber, frame: r });
      return;
    }
    if (s.trace.role === 'first') return;
    // What the auditor itself says that bears on the checks: its flow-control updates, and the first
    // frame of any stream it opens.
    const r = recordFrame(f);
    if (!r) return;
    const keep =
      r.type === 'MAX_DATA' ||
      r.type === 'MAX_STREAM_DATA' ||
      r.type === 'MAX_STREAMS' ||
      (r.type === 'STREAM' && r.offset === 0 && r.stream % 2 === 1);
    if (!keep) return;
    if (r.type === 'STREAM') r.data = '';
    s.trace.log.push({
      dir: 'sent',
      packet: e.packetType === PacketType.ZeroRtt ? '0rtt' : '1rtt',
      pn: e.packetNumber,
      frame: r,
    });
  }

  /** Keeps a bounded prefix of each stream's payload in the trace. */
  private keepPayload(s: ConnState, r: NonNullable<ReturnType<typeof recordFrame>>): void {
    if (r.type !== 'STREAM') return;
    const kept = s.recorded.get(r.stream) ?? 0;
    if (r.offset >= RECORDED_STREAM_PREFIX || kept >= RECORDED_STREAM_PREFIX) {
      r.data = '';
      return;
    }
    s.recorded.set(r.stream, kept + r.data.length / 2);
  }

  /** Reassembles the ClientHello from the Initial CRYPTO frames, then gets the 0-RTT keys if any. */
  private onClientHelloBytes(s: ConnState, offset: number, data: Uint8Array): void {
    if (s.clientHello) return;
    s.crypto.set(offset, new Uint8Array(data));
    const pieces: Uint8Array[] = [];
    let at = 0;
    for (;;) {
      const next = [...s.crypto].find(([o, d]) => o <= at && o + d.length > at);
      if (!next) break;
      const [o, d] = next;
      pieces.push(d.subarray(at - o));
      at = o + d.length;
    }
    const bytes = Buffer.concat(pieces);
    if (bytes.length < 4) return;
    const length = 4 + bytes.readUIntBE(1, 3);
    if (bytes.length < length) return;
    s.clientHello = bytes.subarray(0, length);
    s.crypto.clear();
    const result = deriveEarlyKeys(s.clientHello, this.ticketKeys, s.conn.version, this.opts.now);
    s.trace.offered0Rtt = result.offer?.earlyData === true;
    if (
      s.trace.role !== 'first' &&
      s.trace.offered0Rtt &&
      !s.slot.conns.some((c) => c.trace.role === 'attempt')
    ) {
      s.trace.role = 'attempt';
    } else if (s.trace.role === 'other' && s.slot.conns.some((c) => c.trace.role === 'attempt')) {
      s.trace.role = 'later';
    }
    if (result.ok) {
      s.opener = new EarlyPacketOpener(result.keys, s.conn.options.connectionIdLength);
      const ticket = this.rememberedOf(result.offer);
      if (ticket && s.trace.role === 'attempt') s.slot.remembered = ticket;
      for (const p of s.pendingEarly.splice(0)) this.openEarly(s, p);
    } else {
      s.earlyUnreadable = true;
      s.trace.deadUndecryptable += s.pendingEarly.length;
      s.pendingEarly = [];
    }
  }

  /** The limits remembered in the ticket the client presented (RFC 9000 §7.4.1). */
  private rememberedOf(offer: ClientOffer): Limits | undefined {
    const id = offer.psks?.identities[0];
    const plain = id ? this.ticketKeys.open(id.identity, this.opts.now) : undefined;
    const ticket = plain ? decodeSessionTicket(plain) : undefined;
    if (!ticket) return undefined;
    try {
      return limitsOf(decodeTransportParameters(ticket.appData, 'server'));
    } catch {
      return undefined;
    }
  }

  /** The core's drop trace: 0-RTT packets the connection discarded (0-RTT was rejected). */
  private onDrop(conn: Connection, e: PacketDropTraceEvent): void {
    if (e.packetType !== PacketType.ZeroRtt) return;
    const s = this.stateOf(conn);
    if (s.opener) this.openEarly(s, e.packet);
    else if (s.earlyUnreadable) s.trace.deadUndecryptable++;
    else s.pendingEarly.push(e.packet);
  }

  private openEarly(s: ConnState, packet: Uint8Array): void {
    const opened = s.opener!.open(packet);
    if (!opened) {
      s.trace.deadUndecryptable++;
      return;
    }
    if (s.trace.deadPns.includes(opened.packetNumber)) return;
    s.trace.deadPns.push(opened.packetNumber);
    for (const f of opened.frames) {
      const r = recordFrame(f);
      if (r) s.trace.dead.push({ dir: 'recv', packet: '0rtt', pn: opened.packetNumber, frame: r });
    }
  }

  /** Drains connection events: the application's streams, handshake, close; then closes audits. */
  private pump(now: Millis): void {
    for (let e = this.endpoint.pollEvent(); e; e = this.endpoint.pollEvent()) this.stateOf(e.connection);
    for (const s of this.states.values()) {
      if (s.terminated) continue;
      const c = s.conn;
      for (let e = c.pollEvent(); e; e = c.pollEvent()) {
        switch (e.type) {
          case 'epoch':
            // The ALPN is known from the ClientHello, before any stream data (the auditor accepts no 0-RTT).
            s.app =
              c.alpn === 'h3'
                ? new AuditH3App(c, e.epoch, () => this.now, this.opts.random, this.opts.files)
                : new AuditServerApp(e.epoch.streams, () => c.alpn, this.opts.files);
            break;
          case 'stream':
            if (s.app instanceof AuditH3App) s.app.onConnectionEvent(e);
            else s.app?.onStreamEvent(e.event);
            break;
          case 'handshake-complete':
            s.trace.handshakeComplete = true;
            s.trace.resumed = c.resumed;
            if (s.app instanceof AuditH3App) s.app.onConnectionEvent(e);
            break;
          case 'closed':
            s.trace.close = closeRecordOf(e.info, 'client');
            if (s.app instanceof AuditH3App) s.app.onConnectionEvent(e);
            break;
          case 'terminated':
            s.terminated = true;
            break;
          default:
            break;
        }
      }
      // The application may have written: let the endpoint look at the connection again.
      this.endpoint.markActive(c);
    }
    for (const slot of this.slots.values()) {
      if (slot.finished) continue;
      const ended = slot.conns.every((s) => s.terminated);
      const came = slot.conns.some((s) => s.trace.role !== 'first');
      if (!ended || !came) {
        slot.idleSince = undefined;
        continue;
      }
      slot.idleSince ??= now;
      if (now >= slot.idleSince + this.lingerMs) this.finish(slot);
    }
  }

  private finish(slot: Slot): void {
    slot.finished = true;
    const first = slot.conns[0];
    const trace: ClientTrace = {
      format: TRACE_FORMAT,
      client: slot.host,
      alpn: first?.conn.alpn ?? '',
      remembered: slot.remembered ?? limitsOf(first!.conn.localParams),
      connections: slot.conns.map((s) => {
        s.trace.appPns = [...s.appPns].sort((a, b) => a - b);
        s.trace.app = s.app?.records() ?? [];
        s.trace.deadPns.sort((a, b) => a - b);
        return s.trace;
      }),
    };
    this.finished.push(trace);
    this.opts.onClientDone?.(trace);
  }
}

function hostOf(address: string): string {
  const i = address.lastIndexOf(':');
  return (i < 0 ? address : address.slice(0, i)).replace(/^\[|\]$/g, '');
}

export function limitsOf(p: TransportParameters): Limits {
  return {
    maxData: p.initialMaxData,
    maxStreamDataBidiRemote: p.initialMaxStreamDataBidiRemote,
    maxStreamDataUni: p.initialMaxStreamDataUni,
    maxStreamsBidi: p.initialMaxStreamsBidi,
    maxStreamsUni: p.initialMaxStreamsUni,
    activeConnectionIdLimit: p.activeConnectionIdLimit,
    maxDatagramFrameSize: p.maxDatagramFrameSize ?? null,
  };
}
