/**
 * Client mode of `tsquic audit-0rtt`: a QUIC client, built from tsquic's sans-IO core, that audits
 * how a server handles 0-RTT (docs/audit-0rtt.md). In order, each on a connection of its own:
 *
 * 1. a full connection earns a session ticket (and its request is answered);
 * 2. a 0-RTT attempt with that ticket: accepted -> the server must not lower a remembered limit;
 *    rejected -> it must not answer the early request. The attempt's randomness and first flight are
 *    kept for the replay;
 * 3. the first flight of 2 sent again byte for byte from a new source port, once the original
 *    connection is gone. A twin of the original client, created with the same randomness and clock,
 *    produces those same bytes and follows the server's answer;
 * 4. if 2 was accepted: another attempt whose key share the server should not pick, so that its
 *    HelloRetryRequest rejects 0-RTT, for the same check as a rejection;
 * 5. a 0-RTT attempt whose 0-RTT packets go out ahead of its Initial;
 * 6. a ticket kept past its lifetime (when that is short enough to wait for) offered with 0-RTT.
 *
 * Requests: hq-interop `GET /path`; h3 a GET over HTTP/3 (a HEADERS frame coded with QPACK's static
 * table, after a control stream with SETTINGS, RFC 9114 §6.2.1), whose server SETTINGS are
 * recorded for check 1 (RFC 9114 §7.2.4.2); any other ALPN a short message to echo. Like the core, no I/O:
 * datagrams and time in, datagrams (with the socket to send them from: 0, or 1 for the replay) and a
 * deadline out. `run()` drives the steps; its waits end on the datagrams and timeouts fed in.
 */
import type { Connection, FrameTraceEvent } from '../connection/connection.js';
import type { TransportOptions } from '../connection/connection-options.js';
import type { StreamEpoch } from '../connection/stream-epoch.js';
import { Endpoint } from '../endpoint/endpoint.js';
import { decodeSettingsPayload, encodeFrame, H3FrameType, type SettingEntry } from '../http3/frames.js';
import { QpackEncoder } from '../http3/qpack/index.js';
import type { NamedGroupName, ResumptionSession } from '../tls/types.js';
import type { RandomBytes } from '../util/random.js';
import type { Millis } from '../util/time.js';
import { splitDatagram } from '../wire/coalesced.js';
import { PacketType, parseInvariantHeader } from '../wire/packet-header.js';
import { decodeTransportParameters, type TransportParameters } from '../wire/transport-parameters.js';
import { readVarint } from '../wire/varint.js';
import { type CloseRecord, closeRecordOf } from './audit-trace.js';
import { recordFrame } from './frame-record.js';
import {
  type AttemptRecord,
  type Exchange,
  type RememberedParameters,
  type ReplayRecord,
  SERVER_TRACE_FORMAT,
  type ServerTrace,
} from './server-trace.js';

export interface AuditClientOptions {
  /** The server's address, "ip:port" or "[ip6]:port". */
  server: string;
  /** Server name for SNI and the certificate check. */
  serverName: string;
  /** ALPN to offer: hq-interop fetches `path`, anything else sends a message to echo. */
  alpn: string;
  path: string;
  ca?: Array<string | Uint8Array>;
  insecureSkipVerify?: boolean;
  random: RandomBytes;
  now: Millis;
  /** How long after the original connection is gone the replay goes out (default 6 s). */
  replayDelayMs?: Millis;
  /** The longest ticket lifetime the auditor waits out for check 5 (default 10 s). */
  maxTicketWaitMs?: Millis;
  /** After a rejection, how long the auditor waits before it sends its request again (default 300 ms). */
  observeMs?: Millis;
  /** Bound on each connection's work (default 10 s). */
  stepTimeoutMs?: Millis;
}

/** RFC 9000 §7.4.1 and RFC 9221 §3: what a server accepting 0-RTT may not lower. */
export function rememberedParameters(p: TransportParameters): RememberedParameters {
  return {
    initial_max_data: p.initialMaxData,
    initial_max_stream_data_bidi_local: p.initialMaxStreamDataBidiLocal,
    initial_max_stream_data_bidi_remote: p.initialMaxStreamDataBidiRemote,
    initial_max_stream_data_uni: p.initialMaxStreamDataUni,
    initial_max_streams_bidi: p.initialMaxStreamsBidi,
    initial_max_streams_uni: p.initialMaxStreamsUni,
    active_connection_id_limit: p.activeConnectionIdLimit,
    max_datagram_frame_size: p.maxDatagramFrameSize ?? null,
  };
}

/** Records a RandomBytes source's output, so that a twin can be given the same randomness. */
class RandomTape {
  readonly outputs: Uint8Array[] = [];
  recording = true;
  constructor(private readonly source: RandomBytes) {}
  readonly random: RandomBytes = (n) => {
    const b = this.source(n);
    if (this.recording) this.outputs.push(Uint8Array.from(b));
    return b;
  };
  /** The same outputs again, in order; then the source's (and `diverged` if a length differs). */
  replay(): { random: RandomBytes; diverged: () => boolean } {
    let i = 0;
    let diverged = false;
    return {
      random: (n) => {
        const next = this.outputs[i];
        if (next && next.length === n) {
          i++;
          return Uint8Array.from(next);
        }
        diverged = true;
        return this.source(n);
      },
      diverged: () => diverged || i < this.outputs.length,
    };
  }
}

type Kind = 'ticket' | AttemptRecord['kind'] | 'replay';

/** One connection of the audit and what its application did on it. */
class Session {
  readonly early: Exchange = { bytes: 0, fin: false };
  readonly fresh: Exchange = { bytes: 0, fin: false };
  readonly log: AttemptRecord['log'] = [];
  verdict: AttemptRecord['earlyData'] = 'none';
  handshakeComplete = false;
  close: CloseRecord | undefined;
  terminated = false;
  zeroRttPackets = 0;
  /** When the auditor closed it. */
  closedAt: Millis | undefined;
  /** h3: the SETTINGS of the server's control stream on the current epoch (RFC 9114 §7.2.4). */
  h3Settings: SettingEntry[] | undefined;
  /** h3: bytes of the server's unidirectional streams until their type and first frame are known. */
  private readonly peerUni = new Map<number, Buffer>();
  /** When the fresh epoch may send its request (after a rejection: once the observation is over). */
  private freshNotBefore: Millis | undefined;
  private readonly started = new Set<StreamEpoch>();

  constructor(
    readonly kind: Kind,
    readonly conn: Connection,
    readonly endpoint: Endpoint,
    readonly via: number,
    private readonly request: Uint8Array,
    private readonly observeMs: Millis,
    private readonly onTicket: (s: ResumptionSession) => void,
    private readonly h3: boolean,
  ) {}

  /** The request was answered (FIN or reset) on the epoch that is current. */
  get done(): boolean {
    const epoch = this.conn.epoch;
    if (!epoch || epoch.rejected) return false;
    const x = epoch.early ? this.early : this.fresh;
    return x.fin || x.reset !== undefined;
  }

  onFrame(e: FrameTraceEvent): void {
    if (e.direction !== 'received' || e.packetType !== PacketType.OneRtt) return;
    const r = recordFrame(e.frame);
    if (!r) return;
    // The checks need the streams, not the responses: a short preview keeps the trace small.
    if (r.type === 'STREAM') r.data = r.data.slice(0, 64);
    this.log.push({ dir: 'recv', packet: '1rtt', pn: e.packetNumber, frame: r });
  }

  pump(now: Millis): void {
    const c = this.conn;
    for (let e = c.pollEvent(); e; e = c.pollEvent()) {
      switch (e.type) {
        case 'session-ticket':
          this.onTicket(e.session);
          break;
        case 'early-data':
          this.verdict = e.accepted ? 'accepted' : 'rejected';
          break;
        case 'handshake-complete':
          this.handshakeComplete = true;
          // After a rejection, watch what the server sends before asking again (check 2).
          if (this.verdict === 'rejected') this.freshNotBefore = now + this.observeMs;
          break;
        case 'stream':
          this.onStreamEvent(e.epoch, e.event);
          break;
        case 'closed':
          this.close = closeRecordOf(e.info, 'server');
          break;
        case 'terminated':
          this.terminated = true;
          break;
        default:
          break;
      }
    }
    const epoch = c.epoch;
    if (!epoch || epoch.rejected || c.isClosed || this.started.has(epoch)) return;
    if (!epoch.early && this.freshNotBefore !== undefined && now < this.freshNotBefore) return;
    const id = epoch.streams.openStream(true);
    if (id === undefined) return;
    this.started.add(epoch);
    const x = epoch.early ? this.early : this.fresh;
    x.stream = id;
    if (!epoch.early) {
      this.log.push({
        dir: 'sent',
        packet: '1rtt',
        pn: -1,
        frame: { type: 'STREAM', stream: id, offset: 0, length: 0, fin: false, data: '' },
      });
    }
    epoch.streams.write(id, this.request);
    epoch.streams.end(id);
    // HTTP/3: our control stream, SETTINGS first (all defaults: no dynamic table). It stays open.
    const control = this.h3 ? epoch.streams.openStream(false) : undefined;
    if (control !== undefined) epoch.streams.write(control, H3_CONTROL_STREAM);
  }

  /** The deadline of the observation window, if one is running. */
  get nextTimeout(): Millis | undefined {
    const epoch = this.conn.epoch;
    if (this.freshNotBefore === undefined || !epoch || epoch.early || this.started.has(epoch))
      return undefined;
    return this.freshNotBefore;
  }

  private onStreamEvent(epoch: StreamEpoch, ev: { type: string; id?: number; errorCode?: number }): void {
    if (this.h3 && ev.type === 'readable' && ev.id !== undefined && ev.id % 4 === 3) {
      this.readPeerUni(epoch, ev.id);
      return;
    }
    const x = epoch.early ? this.early : this.fresh;
    if (ev.id === undefined || ev.id !== x.stream) return;
    if (ev.type === 'readable') {
      for (let r = epoch.streams.read(ev.id); r; r = epoch.streams.read(ev.id)) {
        x.bytes += r.data.length;
        if (r.fin) x.fin = true;
      }
    } else if (ev.type === 'reset' && ev.errorCode !== undefined) {
      x.reset = ev.errorCode;
    }
  }

  /** h3: the server's control stream: its type, then SETTINGS (RFC 9114 §6.2.1). Other streams are drained. */
  private readPeerUni(epoch: StreamEpoch, id: number): void {
    let buf = this.peerUni.get(id) ?? Buffer.alloc(0);
    for (let r = epoch.streams.read(id); r; r = epoch.streams.read(id)) {
      if (buf.length < 64 * 1024) buf = Buffer.concat([buf, r.data]);
    }
    this.peerUni.set(id, buf);
    const settings = firstSettings(buf);
    if (settings !== undefined && !epoch.rejected) this.h3Settings = settings;
  }

  record(remembered: RememberedParameters | undefined, h3Remembered?: SettingEntry[]): AttemptRecord {
    const peer = this.conn.peerParams;
    return {
      kind: this.kind === 'ticket' || this.kind === 'replay' ? 'attempt' : this.kind,
      offered0Rtt: this.conn.earlyDataState !== 'none' || this.verdict !== 'none',
      earlyData: this.verdict,
      resumed: this.conn.resumed,
      handshakeComplete: this.handshakeComplete,
      zeroRttPackets: this.zeroRttPackets,
      remembered,
      announced: peer ? rememberedParameters(peer) : undefined,
      log: this.log,
      early: this.early,
      fresh: this.fresh,
      ...(this.close ? { close: this.close } : {}),
      ...(h3Remembered ? { h3Remembered } : {}),
      ...(this.h3Settings ? { h3Announced: this.h3Settings } : {}),
    };
  }
}

interface Waiter {
  pred: () => boolean;
  deadline: Millis;
  resolve: (ok: boolean) => void;
}

/** Fixed keys for the client endpoints: they must not draw on the (recorded) randomness. */
const ENDPOINT_KEYS = { statelessResetKey: new Uint8Array(32).fill(1), tokenKey: new Uint8Array(32).fill(2) };

export class AuditClient {
  private nowValue: Millis;
  private readonly sessions: Session[] = [];
  private readonly outbox: Array<{ datagram: Uint8Array; to: string; via: number }> = [];
  private waiters: Waiter[] = [];
  private readonly tickets: ResumptionSession[] = [];
  /** h3: the connection each ticket came from, whose SETTINGS the ticket remembers (RFC 9114 §7.2.4.2). */
  private readonly ticketSource = new Map<ResumptionSession, Session>();
  private readonly request: Uint8Array;
  private readonly o: Required<Omit<AuditClientOptions, 'ca' | 'insecureSkipVerify'>> &
    Pick<AuditClientOptions, 'ca' | 'insecureSkipVerify'>;
  /** The driver's hook: the auditor has something to send (called from `run()`'s steps). */
  onWork: (() => void) | undefined;

  constructor(options: AuditClientOptions) {
    this.o = {
      replayDelayMs: 6000,
      maxTicketWaitMs: 10_000,
      observeMs: 300,
      stepTimeoutMs: 10_000,
      ...options,
    };
    this.nowValue = options.now;
    this.request =
      options.alpn === 'h3'
        ? h3Request(options.serverName, options.server, options.path)
        : Buffer.from(
            options.alpn === 'hq-interop' ? `GET ${options.path}\r\n` : 'tsquic audit-0rtt: echo this\n',
            'latin1',
          );
  }

  // ------------------------------------------------------------------ the sans-IO interface

  receive(datagram: Uint8Array, from: string, now: Millis, via = 0): void {
    this.nowValue = now;
    let dcid: Uint8Array;
    try {
      dcid = parseInvariantHeader(datagram, 0, 8).dcid;
    } catch {
      return;
    }
    const s = this.sessions.find((x) => x.via === via && ownsCid(x.conn, dcid));
    if (s) s.endpoint.receive(datagram, from, now);
    this.turn(now);
  }

  transmit(now: Millis): { datagram: Uint8Array; to: string; via: number } | undefined {
    this.nowValue = now;
    const queued = this.outbox.shift();
    if (queued) return queued;
    for (const s of this.sessions) {
      if (s.terminated) continue;
      const d = s.endpoint.transmit(now);
      if (d) return { ...d, via: s.via };
    }
    return undefined;
  }

  nextTimeout(): Millis | undefined {
    let t: Millis | undefined;
    const consider = (v: Millis | undefined) => {
      if (v !== undefined && (t === undefined || v < t)) t = v;
    };
    for (const s of this.sessions) {
      if (s.terminated) continue;
      consider(s.endpoint.nextTimeout());
      consider(s.nextTimeout);
    }
    for (const w of this.waiters) consider(w.deadline);
    return t;
  }

  handleTimeout(now: Millis): void {
    this.nowValue = now;
    for (const s of this.sessions) if (!s.terminated) s.endpoint.handleTimeout(now);
    this.turn(now);
  }

  // ------------------------------------------------------------------ the audit

  async run(): Promise<ServerTrace> {
    const o = this.o;
    const trace: ServerTrace = {
      format: SERVER_TRACE_FORMAT,
      server: o.server,
      alpn: o.alpn,
      ticket: { received: false, allowsEarlyData: false, lifetime: null },
      attempts: [],
      notes: [],
    };
    // 1. A full connection and a ticket.
    const first = this.start('ticket', undefined).session;
    await this.until(() => first.done || first.close !== undefined, o.stepTimeoutMs);
    await this.until(() => this.tickets.length > 0 || first.close !== undefined, 3000);
    this.finish(first);
    if (!first.handshakeComplete) {
      trace.notes.push(
        `the first connection failed: ${first.close ? describeClose(first.close) : 'no handshake'}`,
      );
      return trace;
    }
    const ticket = this.tickets[0];
    trace.ticket = {
      received: ticket !== undefined,
      allowsEarlyData: ticket !== undefined && ticket.maxEarlyDataSize > 0,
      lifetime: ticket?.lifetime ?? null,
    };
    if (!ticket || ticket.maxEarlyDataSize === 0) return trace;

    // 2. The 0-RTT attempt, recorded for the replay.
    const tape = new RandomTape(o.random);
    const attemptTicket = this.takeTicket()!;
    const attempt = this.start('attempt', attemptTicket, { tape });
    const flight = attempt.firstFlight;
    tape.recording = false;
    await this.until(() => attempt.session.done || attempt.session.close !== undefined, o.stepTimeoutMs);
    await this.until(() => this.tickets.length > 0 || attempt.session.close !== undefined, 1000);
    this.finish(attempt.session);
    trace.attempts.push(attempt.session.record(rememberedOf(attemptTicket), this.settingsOf(attemptTicket)));

    // 3. The replay, as soon as the server has forgotten the original connection: a server may also
    // refuse early data whose ticket age is off by more than its window (RFC 8446 §8.3), which a late
    // replay would test instead of the anti-replay mechanism.
    trace.replay = await this.replay(attempt.session, attemptTicket, tape, flight);

    // 4. A rejection forced by a HelloRetryRequest, when the server accepted the first attempt.
    if (attempt.session.verdict === 'accepted') {
      const t3 = this.takeTicket();
      if (t3) {
        // A key share for the group servers rank second: RFC 8446 §4.2.8, the server asks for the other.
        const s = this.start('hrr', t3, { groups: ['secp256r1', 'x25519'] }).session;
        await this.until(() => s.done || s.close !== undefined, o.stepTimeoutMs);
        await this.until(() => this.tickets.length > 0 || s.close !== undefined, 1000);
        this.finish(s);
        trace.attempts.push(s.record(rememberedOf(t3), this.settingsOf(t3)));
      } else {
        trace.notes.push('no second ticket: no attempt with a HelloRetryRequest');
      }
    }

    // 5. 0-RTT packets ahead of their Initial.
    const t5 = this.takeTicket();
    if (t5) {
      const s = this.start('reorder', t5, { reorder: true }).session;
      await this.until(() => s.done || s.close !== undefined, o.stepTimeoutMs);
      await this.until(() => this.tickets.length > 0 || s.close !== undefined, 1000);
      this.finish(s);
      trace.attempts.push(s.record(rememberedOf(t5), this.settingsOf(t5)));
    }

    // 6. An expired ticket.
    const t6 = this.tickets.pop();
    if (!t6) {
      trace.expired = { skipped: 'no ticket left to let expire', lifetime: 0, ageMs: 0 };
    } else if (t6.lifetime * 1000 > o.maxTicketWaitMs) {
      trace.expired = {
        skipped: `the server's tickets live ${t6.lifetime} s, longer than --max-ticket-wait (${o.maxTicketWaitMs / 1000} s)`,
        lifetime: t6.lifetime,
        ageMs: 0,
      };
    } else {
      const expiresAt = t6.receivedAt + t6.lifetime * 1000 + 1000;
      await this.sleep(Math.max(0, expiresAt - this.nowValue));
      const ageMs = this.nowValue - t6.receivedAt;
      const s = this.start('expired', t6).session;
      await this.until(() => s.done || s.close !== undefined, o.stepTimeoutMs);
      this.finish(s);
      trace.expired = {
        lifetime: t6.lifetime,
        ageMs,
        attempt: s.record(rememberedOf(t6), this.settingsOf(t6)),
      };
    }
    return trace;
  }

  /** Starts a connection (with `ticket`: a 0-RTT attempt) and queues its first flight. */
  private start(
    kind: Kind,
    ticket: ResumptionSession | undefined,
    opts: {
      tape?: RandomTape;
      random?: RandomBytes;
      groups?: NamedGroupName[];
      reorder?: boolean;
      via?: number;
      now?: Millis;
    } = {},
  ): { session: Session; firstFlight: FirstFlight } {
    const now = opts.now ?? this.nowValue;
    const endpoint = new Endpoint({
      random: opts.random ?? opts.tape?.random ?? this.o.random,
      ...ENDPOINT_KEYS,
      trace: (conn, e) => this.sessions.find((s) => s.conn === conn)?.onFrame(e),
    });
    const conn = endpoint.connect(
      {
        remoteAddress: this.o.server,
        tls: {
          alpn: [this.o.alpn],
          serverName: this.o.serverName,
          ...(this.o.ca ? { ca: this.o.ca } : {}),
          ...(this.o.insecureSkipVerify ? { insecureSkipVerify: true } : {}),
          ...(ticket ? { session: ticket, offerEarlyData: true } : {}),
          ...(opts.groups ? { groups: opts.groups } : {}),
        },
        transport: CLIENT_TRANSPORT,
      },
      now,
    );
    const session = new Session(
      kind,
      conn,
      endpoint,
      opts.via ?? 0,
      this.request,
      this.o.observeMs,
      (t) => {
        this.tickets.push(t);
        this.ticketSource.set(t, session);
      },
      this.o.alpn === 'h3',
    );
    this.sessions.push(session);
    // The early request is written before anything is sent: it travels in the first flight's 0-RTT packets.
    session.pump(now);
    const datagrams: Uint8Array[] = [];
    for (let d = endpoint.transmit(now); d; d = endpoint.transmit(now)) datagrams.push(d.datagram);
    const zeroRtt = datagrams.flatMap((d) =>
      splitDatagram(d, 8)
        .filter((p) => p.type === PacketType.ZeroRtt)
        .map((p) => d.subarray(p.packetStart, p.packetEnd)),
    );
    session.zeroRttPackets = zeroRtt.length;
    const via = session.via;
    // Check 4: the 0-RTT packets alone first, then the flight as it was.
    if (opts.reorder) for (const p of zeroRtt) this.outbox.push({ datagram: p, to: this.o.server, via });
    if (kind !== 'replay')
      for (const d of datagrams) this.outbox.push({ datagram: d, to: this.o.server, via });
    this.kick();
    return { session, firstFlight: { now, datagrams, ticket } };
  }

  /** Check 3: the attempt's first flight again, from socket 1, followed by its twin. */
  private async replay(
    original: Session,
    ticket: ResumptionSession,
    tape: RandomTape,
    flight: FirstFlight,
  ): Promise<ReplayRecord> {
    const base = { datagrams: flight.datagrams.length, twinIdentical: false, delayMs: 0 };
    const none = {
      answered: false,
      earlyData: 'none' as const,
      resumed: false,
      handshakeComplete: false,
      responseBytes: 0,
      ticketAgeMs: 0,
      ticketLifetime: ticket.lifetime,
    };
    if (original.zeroRttPackets === 0)
      return { skipped: 'the attempt sent no 0-RTT packet', ...base, ...none };
    // Once the server has forgotten the original connection (its draining period, and beyond).
    await this.sleep(
      Math.max(0, (original.closedAt ?? this.nowValue) + this.o.replayDelayMs - this.nowValue),
    );
    const replay = tape.replay();
    const twin = this.start('replay', ticket, { random: replay.random, via: 1, now: flight.now });
    const identical =
      !replay.diverged() &&
      twin.firstFlight.datagrams.length === flight.datagrams.length &&
      twin.firstFlight.datagrams.every((d, i) => Buffer.from(d).equals(Buffer.from(flight.datagrams[i]!)));
    const delayMs = this.nowValue - flight.now;
    for (const d of flight.datagrams) this.outbox.push({ datagram: d, to: this.o.server, via: 1 });
    this.kick();
    const s = twin.session;
    await this.until(() => s.done || s.close !== undefined, Math.min(this.o.stepTimeoutMs, 5000));
    this.finish(s);
    return {
      datagrams: flight.datagrams.length,
      twinIdentical: identical,
      delayMs,
      answered: s.handshakeComplete || s.log.length > 0 || s.close?.by === 'server' || s.verdict !== 'none',
      earlyData: s.verdict,
      resumed: s.conn.resumed,
      handshakeComplete: s.handshakeComplete,
      responseBytes: s.early.bytes,
      ticketAgeMs: this.nowValue - ticket.receivedAt,
      ticketLifetime: ticket.lifetime,
      ...(s.close ? { close: s.close } : {}),
    };
  }

  /**
   * Closes a session's connection (code 0). It drains in the background; the next step need not wait
   * (and the replay counts its delay from here).
   */
  private finish(s: Session): void {
    s.closedAt ??= this.nowValue;
    if (s.conn.isClosed) return;
    s.conn.close(0, 'audit done', this.nowValue);
    s.endpoint.markActive(s.conn);
    this.kick();
  }

  /** h3: the SETTINGS the ticket's connection received, which a 0-RTT attempt complies with. */
  private settingsOf(ticket: ResumptionSession): SettingEntry[] | undefined {
    return this.ticketSource.get(ticket)?.h3Settings;
  }

  /** The newest ticket still within its lifetime (RFC 8446 §4.6.1), taken out of the pool. */
  private takeTicket(): ResumptionSession | undefined {
    for (let i = this.tickets.length - 1; i >= 0; i--) {
      const t = this.tickets[i]!;
      if (this.nowValue - t.receivedAt < t.lifetime * 1000) {
        this.tickets.splice(i, 1);
        return t;
      }
    }
    return undefined;
  }

  private turn(now: Millis): void {
    for (const s of this.sessions) {
      if (s.terminated) continue;
      s.pump(now);
      s.endpoint.markActive(s.conn);
    }
    const ready = this.waiters.filter((w) => w.pred() || now >= w.deadline);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve(w.pred());
  }

  private kick(): void {
    this.onWork?.();
  }

  /** Resolves true once `pred` holds, false after `ms` (checked whenever something happens). */
  private until(pred: () => boolean, ms: Millis): Promise<boolean> {
    if (pred()) return Promise.resolve(true);
    return new Promise((resolve) => {
      this.waiters.push({ pred, deadline: this.nowValue + ms, resolve });
      this.kick();
    });
  }

  private sleep(ms: Millis): Promise<boolean> {
    return this.until(() => false, ms);
  }
}

interface FirstFlight {
  now: Millis;
  datagrams: Uint8Array[];
  ticket: ResumptionSession | undefined;
}

/** The auditor's client announces ordinary limits; DATAGRAM support so servers may send them. */
const CLIENT_TRANSPORT: Partial<TransportOptions> = { maxDatagramFrameSize: 65535, mtuDiscoveryMax: 0 };

function ownsCid(conn: Connection, dcid: Uint8Array): boolean {
  const d = Buffer.from(dcid);
  return conn.localCids.all().some((c) => d.equals(Buffer.from(c.cid)));
}

function rememberedOf(ticket: ResumptionSession): RememberedParameters | undefined {
  try {
    return rememberedParameters(decodeTransportParameters(ticket.transportParameters, 'server'));
  } catch {
    return undefined;
  }
}

/** Our control stream's opening bytes: its type, then an empty SETTINGS frame (all defaults). */
const H3_CONTROL_STREAM = Buffer.concat([
  Buffer.from([0x00]),
  encodeFrame({ type: H3FrameType.Settings, entries: [] }),
]);

/**
 * The h3 request: one HEADERS frame, coded with QPACK's static table and literals only (no dynamic
 * table: the same bytes on every connection, which the replay's twin needs). RFC 9114 §4.3.1.
 */
function h3Request(serverName: string, server: string, path: string): Uint8Array {
  const port = server.slice(server.lastIndexOf(':') + 1);
  const section = new QpackEncoder().encode(0, [
    { name: ':method', value: 'GET' },
    { name: ':scheme', value: 'https' },
    { name: ':authority', value: `${serverName}:${port}` },
    { name: ':path', value: path },
    { name: 'user-agent', value: 'tsquic audit-0rtt' },
  ]);
  return encodeFrame({ type: H3FrameType.Headers, fieldSection: section });
}

/** The SETTINGS of a control stream's first bytes (type 0x00, then SETTINGS), once complete. */
function firstSettings(b: Buffer): SettingEntry[] | undefined {
  if (b.length < 3 || b[0] !== 0x00) return undefined;
  try {
    const type = readVarint(b, 1);
    if (type.value !== H3FrameType.Settings) return undefined;
    const at = 1 + type.length;
    const len = readVarint(b, at);
    const start = at + len.length;
    if (start + len.value > b.length) return undefined;
    return decodeSettingsPayload(b.subarray(start, start + len.value));
  } catch {
    return undefined;
  }
}

function describeClose(c: CloseRecord): string {
  return `closed by ${c.by} with ${c.application ? 'application' : 'transport'} code ${c.code}${c.reason ? ` "${c.reason}"` : ''}`;
}
