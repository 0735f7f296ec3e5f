/**
 * What the server-mode auditor records about one audited client: plain JSON, written with `--trace`
 * and read back by the checks and their tests (test/unit/audit/fixtures/). One client is its first
 * connection (which earned the ticket), the connection whose 0-RTT the auditor rejected, and any
 * later ones.
 */
import type { CloseInfo } from '../connection/connection-events.js';
import type { LoggedFrame } from './frame-record.js';

export const TRACE_FORMAT = 'tsquic-audit-0rtt/1';

/**
 * The transport parameters a connection announced that 0-RTT relies on (RFC 9000 §7.4.1, RFC 9221 §3),
 * from the server's side: `maxStreamDataBidiRemote` is the window of each stream the client opens.
 */
export interface Limits {
  maxData: number;
  maxStreamDataBidiRemote: number;
  maxStreamDataUni: number;
  maxStreamsBidi: number;
  maxStreamsUni: number;
  activeConnectionIdLimit: number;
  /** null: DATAGRAM frames are not allowed on the connection. */
  maxDatagramFrameSize: number | null;
}

/** One stream as the auditor's application saw it. */
export interface AppStreamRecord {
  stream: number;
  /** The request, as text when it is (the hq-interop request line), else the byte count. */
  request: string;
  requestBytes: number;
  /** The request ended with FIN. */
  requestComplete: boolean;
  responseBytes: number;
  /** The whole response went out, FIN included, and the client did not reset or stop the stream. */
  answered: boolean;
  /** ... and the client acknowledged all of it. */
  acknowledged: boolean;
  /** The auditor refused the request (hq-interop: a path it does not serve). */
  refused?: string;
  /** What the client did to the stream instead (RESET_STREAM or STOP_SENDING). */
  error?: string;
}

/** How the connection ended. */
export interface CloseRecord {
  /**
   * Who closed: the audited peer (CONNECTION_CLOSE from the client or server), the auditor (its core
   * found an error, or it closed), a timeout.
   */
  by: 'client' | 'server' | 'auditor' | 'idle-timeout' | 'handshake-timeout' | 'other';
  application: boolean;
  code: number | string;
  reason: string;
  /** The frame type a transport error names (RFC 9000 §19.19). */
  frameType?: number;
}

export interface ConnectionTrace {
  /**
   * first: earned the ticket; attempt: its 0-RTT was rejected on purpose; later: any after that;
   * other: a connection after the first that did not attempt 0-RTT, before any attempt.
   */
  role: 'first' | 'attempt' | 'later' | 'other';
  remote: string;
  resumed: boolean;
  /** The ClientHello offered early data. */
  offered0Rtt: boolean;
  handshakeComplete: boolean;
  announced: Limits;
  /**
   * The frames of the rejected 0-RTT packets, which the connection discarded unread and the auditor
   * decrypted with the ticket it issued: what the dead attempt held.
   */
  dead: LoggedFrame[];
  /** Packet numbers of those 0-RTT packets, and how many could not be decrypted. */
  deadPns: number[];
  deadUndecryptable: number;
  /** Numbers of the application-space (1-RTT) packets the connection processed. */
  appPns: number[];
  /**
   * Everything after the rejection, in order: the frames the client sent in 1-RTT packets ('recv'),
   * and the auditor's own flow-control frames and stream openings ('sent').
   */
  log: LoggedFrame[];
  app: AppStreamRecord[];
  close?: CloseRecord;
}

export interface ClientTrace {
  format: typeof TRACE_FORMAT;
  /** The client's address (host) and the ALPN it used. */
  client: string;
  alpn: string;
  /** What the first connection announced: the limits the ticket remembers. */
  remembered: Limits;
  connections: ConnectionTrace[];
}

/** The connection whose 0-RTT was rejected, if the client attempted 0-RTT. */
export function attemptOf(t: ClientTrace): ConnectionTrace | undefined {
  return t.connections.find((c) => c.role === 'attempt');
}

/** The attempt and every connection after it: where the dead attempt must leave no trace. */
export function afterRejection(t: ClientTrace): ConnectionTrace[] {
  const i = t.connections.findIndex((c) => c.role === 'attempt');
  return i < 0 ? [] : t.connections.slice(i);
}

/** The record of a core CloseInfo; `peer` names the audited side (who sent CONNECTION_CLOSE). */
export function closeRecordOf(info: CloseInfo, peer: 'client' | 'server'): CloseRecord {
  const by: CloseRecord['by'] =
    info.source === 'local'
      ? 'auditor'
      : info.source === 'remote'
        ? peer
        : info.source === 'idle-timeout' || info.source === 'handshake-timeout'
          ? info.source
          : 'other';
  const code = info.errorCode as number | bigint;
  return {
    by,
    application: info.application,
    code: typeof code === 'bigint' ? code.toString() : code,
    reason: info.reason,
    ...(info.frameType !== undefined ? { frameType: Number(info.frameType) } : {}),
  };
}

/**
 * The code closes without an error: transport NO_ERROR or application 0, and for HTTP/3
 * H3_NO_ERROR (0x100, RFC 9114 §8.1).
 */
export function isNoError(close: CloseRecord, alpn: string): boolean {
  const code = String(close.code);
  return code === '0' || (alpn === 'h3' && close.application && code === '256');
}
