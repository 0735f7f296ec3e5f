/**
 * qlog output (draft-ietf-quic-qlog-main-schema, quic-events, JSON-SEQ): one file per connection with
 * a `transport:packet_sent` / `transport:packet_received` event per packet and its frames, and the
 * recovery events (`recovery:metrics_updated`, `packet_lost`, `loss_timer_updated`,
 * `congestion_state_updated`), readable by qvis and other qlog tools.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Connection, FrameTraceEvent, PacketDropTraceEvent } from '../connection/connection.js';
import type { CloseInfo } from '../connection/connection-events.js';
import type { PathEvent } from '../connection/connection-paths.js';
import type { RecoveryTraceEvent } from '../connection/recovery-trace.js';
import { PacketNumberSpace } from '../recovery/types.js';
import { type Frame, FrameType } from '../wire/frames.js';
import { PacketType } from '../wire/packet-header.js';
import { parseAddress } from './address.js';
import { now } from './clock.js';
import { reportFileError } from './file-errors.js';

const RS = '\x1e';

const PACKET_TYPES: Record<PacketType, string> = {
  [PacketType.Initial]: 'initial',
  [PacketType.ZeroRtt]: '0RTT',
  [PacketType.Handshake]: 'handshake',
  [PacketType.Retry]: 'retry',
  [PacketType.OneRtt]: '1RTT',
  [PacketType.VersionNegotiation]: 'version_negotiation',
};

/** Writes the qlog of the connections of one endpoint into `dir`. */
export class QlogWriter {
  private readonly files = new Map<Connection, ConnectionQlog>();

  constructor(private readonly dir: string) {}

  /** The endpoint's trace hook. */
  trace(conn: Connection, e: FrameTraceEvent): void {
    let q = this.files.get(conn);
    if (!q) {
      q = new ConnectionQlog(this.dir, conn);
      this.files.set(conn, q);
    }
    q.add(e);
  }

  /** The endpoint's path hook: migrations and path validations. */
  path(conn: Connection, e: PathEvent): void {
    let q = this.files.get(conn);
    if (!q) {
      q = new ConnectionQlog(this.dir, conn);
      this.files.set(conn, q);
    }
    q.addPath(e);
  }

  /**
   * Write out what is held back (the last packet's record). For a connection that now only waits out
   * its closing period, in a process that may exit before it ends.
   */
  flush(conn: Connection): void {
    this.files.get(conn)?.flushPending();
  }

  /** The endpoint's recovery hook: congestion control and loss detection changes. */
  recovery(conn: Connection, e: RecoveryTraceEvent): void {
    let q = this.files.get(conn);
    if (!q) {
      q = new ConnectionQlog(this.dir, conn);
      this.files.set(conn, q);
    }
    q.addRecovery(e);
  }

  /** The endpoint's drop hook: packets discarded unprocessed (e.g. rejected 0-RTT). */
  dropped(conn: Connection, e: PacketDropTraceEvent): void {
    let q = this.files.get(conn);
    if (!q) {
      q = new ConnectionQlog(this.dir, conn);
      this.files.set(conn, q);
    }
    q.addDrop(e);
  }

  /** The connection is gone: finish its file. */
  close(conn: Connection): void {
    const q = this.files.get(conn);
    if (!q) return;
    if (conn.closeInfo) q.addClosed(conn.closeInfo);
    this.files.delete(conn);
    const done = q.end();
    this.ending.add(done);
    void done.then(() => this.ending.delete(done));
  }

  private readonly ending = new Set<Promise<void>>();

  /** Resolves once every file closed so far has been written and closed. */
  async finished(): Promise<void> {
    await Promise.all([...this.ending]);
  }
}

class ConnectionQlog {
  private readonly out: WriteStream;
  private readonly start = now();
  private pending: { e: FrameTraceEvent; frames: unknown[]; time: number } | undefined;

  constructor(dir: string, conn: Connection) {
    const odcid = Buffer.from(conn.originalDcid).toString('hex');
    const path = join(dir, `${odcid}_${conn.role}.sqlog`);
    this.out = createWriteStream(path, { mode: 0o600 });
    // The directory vanished or the disk is full: reported, never an unhandled 'error'.
    this.out.on('error', (err) => reportFileError('qlogDir', path, err));
    this.write({
      qlog_version: '0.3',
      qlog_format: 'JSON-SEQ',
      title: `tsquic ${conn.role}`,
      trace: {
        vantage_point: { type: conn.role },
        common_fields: { ODCID: odcid, time_format: 'relative', reference_time: this.start },
      },
    });
  }

  /** Frames of one packet arrive one by one; they are grouped into one packet event. */
  add(e: FrameTraceEvent): void {
    const p = this.pending;
    if (
      p &&
      (p.e.direction !== e.direction ||
        p.e.packetNumber !== e.packetNumber ||
        p.e.packetType !== e.packetType)
    ) {
      this.flush();
    }
    if (!this.pending) this.pending = { e, frames: [], time: now() - this.start };
    this.pending.frames.push(qlogFrame(e.frame));
  }

  /** quic-events `migration_state_updated`, with the remote address of the path concerned. */
  addPath(e: PathEvent): void {
    this.flush();
    const [state, address] = migrationState(e);
    const remote = parseAddress(address);
    this.write({
      time: Math.round((now() - this.start) * 1000) / 1000,
      name: 'connectivity:migration_state_updated',
      data: {
        new: state,
        path_remote:
          remote.family === 'IPv6'
            ? { ip_v6: remote.address, port_v6: remote.port }
            : { ip_v4: remote.address, port_v4: remote.port },
        ...('reason' in e ? { reason: e.reason } : {}),
      },
    });
  }

  /** quic-events `packet_dropped`: the packet's type, size and why. */
  addDrop(e: PacketDropTraceEvent): void {
    this.flush();
    this.write({
      time: Math.round((now() - this.start) * 1000) / 1000,
      name: 'transport:packet_dropped',
      data: {
        header: { packet_type: PACKET_TYPES[e.packetType] },
        raw: { length: e.packet.length },
        trigger: e.reason,
      },
    });
  }

  /**
   * quic-events `connection_closed`: who closed, the code and reason, and for a bug in tsquic the
   * internal error itself (which the peer never sees).
   */
  addClosed(info: CloseInfo): void {
    this.flush();
    const internal = info.internalError;
    this.write({
      time: Math.round((now() - this.start) * 1000) / 1000,
      name: 'connectivity:connection_closed',
      data: {
        owner: info.source === 'remote' ? 'remote' : 'local',
        ...(info.application ? { application_code: info.errorCode } : { connection_code: info.errorCode }),
        reason: info.reason,
        trigger: closeTrigger(info),
        ...(internal !== undefined
          ? {
              internal_error:
                internal instanceof Error ? (internal.stack ?? internal.message) : String(internal),
            }
          : {}),
      },
    });
  }

  /** quic-events recovery category: metrics_updated, packet_lost, loss_timer_updated, congestion_state_updated. */
  addRecovery(e: RecoveryTraceEvent): void {
    this.flush();
    this.write({
      time: Math.round((now() - this.start) * 1000) / 1000,
      name: `recovery:${e.type}`,
      data: qlogRecoveryData(e),
    });
  }

  flushPending(): void {
    this.flush();
  }

  /** Finish the file; resolves once it is written and closed (or failed: reported separately). */
  end(): Promise<void> {
    this.flush();
    if (this.out.destroyed) return Promise.resolve();
    const closed = new Promise<void>((resolve) => {
      this.out.once('close', resolve);
      this.out.once('error', () => resolve());
    });
    this.out.end();
    return closed;
  }

  private flush(): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    this.write({
      time: Math.round(p.time * 1000) / 1000,
      name: p.e.direction === 'sent' ? 'transport:packet_sent' : 'transport:packet_received',
      data: {
        header: { packet_type: PACKET_TYPES[p.e.packetType], packet_number: p.e.packetNumber },
        frames: p.frames,
      },
    });
  }

  private write(record: unknown): void {
    if (!this.out.destroyed) this.out.write(`${RS}${JSON.stringify(record)}\n`);
  }
}

const SPACE_PACKET_TYPES: Record<PacketNumberSpace, string> = {
  [PacketNumberSpace.Initial]: 'initial',
  [PacketNumberSpace.Handshake]: 'handshake',
  [PacketNumberSpace.ApplicationData]: '1RTT',
};

const METRIC_NAMES: Record<string, string> = {
  congestionWindow: 'congestion_window',
  bytesInFlight: 'bytes_in_flight',
  smoothedRtt: 'smoothed_rtt',
  latestRtt: 'latest_rtt',
  minRtt: 'min_rtt',
  rttVariance: 'rtt_variance',
  ptoCount: 'pto_count',
};

/** A recovery event's data in qlog's vocabulary (quic-events, recovery category). */
function qlogRecoveryData(e: RecoveryTraceEvent): Record<string, unknown> {
  switch (e.type) {
    case 'metrics_updated': {
      const data: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(e)) {
        const name = METRIC_NAMES[k];
        if (name !== undefined) data[name] = typeof v === 'number' ? Math.round(v * 1000) / 1000 : v;
      }
      return data;
    }
    case 'packet_lost':
      return {
        header: { packet_type: SPACE_PACKET_TYPES[e.space], packet_number: e.packetNumber },
        raw: { length: e.size },
      };
    case 'loss_timer_updated':
      return e.event === 'cancelled'
        ? { event_type: 'cancelled' }
        : { event_type: 'set', timer_type: e.timerType, delta: Math.round((e.delta ?? 0) * 1000) / 1000 };
    case 'congestion_state_updated':
      return { ...(e.old !== undefined ? { old: e.old } : {}), new: e.new };
  }
}

/** quic-events `connection_closed` trigger. */
function closeTrigger(info: CloseInfo): string {
  switch (info.source) {
    case 'idle-timeout':
      return 'idle_timeout';
    case 'handshake-timeout':
      return 'handshake_timeout';
    case 'stateless-reset':
      return 'stateless_reset';
    case 'version-negotiation':
      return 'version_mismatch';
    case 'unreachable':
      return 'unreachable';
    case 'local':
    case 'remote':
      if (info.internalError !== undefined) return 'internal_error';
      return info.errorCode === 0 ? 'clean' : info.application ? 'application' : 'error';
  }
}

function migrationState(e: PathEvent): [string, string] {
  switch (e.type) {
    case 'migrated':
      return ['migration_started', e.to];
    case 'validation-started':
      return ['probing_started', e.address];
    case 'validated':
      return [e.reason === 'migration' ? 'migration_complete' : 'probing_successful', e.address];
    case 'validation-failed':
      return ['probing_abandoned', e.address];
    case 'validation-abandoned':
      return ['migration_abandoned', e.address];
    case 'reverted':
      return ['migration_abandoned', e.from];
  }
}

/** A frame in qlog's vocabulary (quic-events "QuicFrame"). */
function qlogFrame(f: Frame): Record<string, unknown> {
  switch (f.type) {
    case FrameType.Padding:
      return { frame_type: 'padding', payload_length: f.length };
    case FrameType.Ping:
      return { frame_type: 'ping' };
    case FrameType.Ack:
      return {
        frame_type: 'ack',
        ack_delay: f.ackDelay,
        acked_ranges: f.ranges.map((r) =>
          r.smallest === r.largest ? [r.smallest] : [r.smallest, r.largest],
        ),
      };
    case FrameType.ResetStream:
      return {
        frame_type: 'reset_stream',
        stream_id: f.streamId,
        error_code: f.errorCode,
        final_size: f.finalSize,
      };
    case FrameType.StopSending:
      return { frame_type: 'stop_sending', stream_id: f.streamId, error_code: f.errorCode };
    case FrameType.Crypto:
      return { frame_type: 'crypto', offset: f.offset, length: f.data.length };
    case FrameType.NewToken:
      return { frame_type: 'new_token', token: { length: f.token.length } };
    case FrameType.Stream:
      return {
        frame_type: 'stream',
        stream_id: f.streamId,
        offset: f.offset,
        length: f.data.length,
        fin: f.fin,
      };
    case FrameType.MaxData:
      return { frame_type: 'max_data', maximum: f.maximumData };
    case FrameType.MaxStreamData:
      return { frame_type: 'max_stream_data', stream_id: f.streamId, maximum: f.maximumStreamData };
    case FrameType.MaxStreamsBidi:
    case FrameType.MaxStreamsUni:
      return {
        frame_type: 'max_streams',
        stream_type: f.type === FrameType.MaxStreamsBidi ? 'bidirectional' : 'unidirectional',
        maximum: f.maximumStreams,
      };
    case FrameType.DataBlocked:
      return { frame_type: 'data_blocked', limit: f.maximumData };
    case FrameType.StreamDataBlocked:
      return { frame_type: 'stream_data_blocked', stream_id: f.streamId, limit: f.maximumStreamData };
    case FrameType.StreamsBlockedBidi:
    case FrameType.StreamsBlockedUni:
      return {
        frame_type: 'streams_blocked',
        stream_type: f.type === FrameType.StreamsBlockedBidi ? 'bidirectional' : 'unidirectional',
        limit: f.maximumStreams,
      };
    case FrameType.NewConnectionId:
      return {
        frame_type: 'new_connection_id',
        sequence_number: f.sequenceNumber,
        retire_prior_to: f.retirePriorTo,
        connection_id: Buffer.from(f.connectionId).toString('hex'),
      };
    case FrameType.RetireConnectionId:
      return { frame_type: 'retire_connection_id', sequence_number: f.sequenceNumber };
    case FrameType.PathChallenge:
      return { frame_type: 'path_challenge', data: Buffer.from(f.data).toString('hex') };
    case FrameType.PathResponse:
      return { frame_type: 'path_response', data: Buffer.from(f.data).toString('hex') };
    case FrameType.ConnectionCloseTransport:
      return {
        frame_type: 'connection_close',
        error_space: 'transport',
        error_code: f.errorCode,
        trigger_frame_type: f.frameType,
        reason: f.reason,
      };
    case FrameType.ConnectionCloseApplication:
      return {
        frame_type: 'connection_close',
        error_space: 'application',
        error_code: f.errorCode,
        reason: f.reason,
      };
    case FrameType.HandshakeDone:
      return { frame_type: 'handshake_done' };
    case FrameType.Datagram:
      return { frame_type: 'datagram', length: f.data.length };
    default:
      return { frame_type: 'unknown' };
  }
}
