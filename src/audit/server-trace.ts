/**
 * What the client-mode auditor records about an audited server: plain JSON, written with `--trace`
 * and read by the client-mode checks. The auditor makes several 0-RTT attempts, each on its own
 * connection with its own session ticket, and replays one first flight.
 */

import type { SettingEntry } from '../http3/frames.js';
import type { CloseRecord } from './audit-trace.js';
import type { LoggedFrame } from './frame-record.js';

export const SERVER_TRACE_FORMAT = 'tsquic-audit-0rtt-server/1';

/**
 * The transport parameters a server may not lower when it accepts 0-RTT (RFC 9000 §7.4.1, RFC 9221
 * §3), by their RFC names; null: absent.
 */
export type RememberedParameters = Record<string, number | null>;

/** What one side of a connection got back for its request on one stream epoch. */
export interface Exchange {
  /** The stream the request went out on (undefined: none was sent). */
  stream?: number;
  /** Response bytes received, and whether the response ended with FIN. */
  bytes: number;
  fin: boolean;
  /** The server reset the response (its error code). */
  reset?: number | string;
}

export interface AttemptRecord {
  /**
   * attempt: 0-RTT with a ticket, as any client does; hrr: the same, offering a key share the server
   * should not pick, so that a HelloRetryRequest rejects 0-RTT (RFC 8446 §4.2.10); reorder: the first
   * flight's 0-RTT packets sent ahead of the Initial; expired: a ticket past its lifetime.
   */
  kind: 'attempt' | 'hrr' | 'reorder' | 'expired';
  /** The ticket allowed early data, so the ClientHello offered it. */
  offered0Rtt: boolean;
  /** The server's verdict on the early data ('none': it was not offered). */
  earlyData: 'accepted' | 'rejected' | 'none';
  resumed: boolean;
  handshakeComplete: boolean;
  /** 0-RTT packets in the first flight. */
  zeroRttPackets: number;
  /** The remembered limits (from the ticket's connection) and what the server announced now. */
  remembered: RememberedParameters | undefined;
  announced: RememberedParameters | undefined;
  /**
   * What the server sent in 1-RTT packets ('recv'), and the moment the auditor opened a stream on the
   * connection that replaced the rejected attempt ('sent' STREAM markers).
   */
  log: LoggedFrame[];
  /** The request and response on the early (0-RTT) epoch, and on the fresh one after a rejection. */
  early: Exchange;
  fresh: Exchange;
  close?: CloseRecord;
  /**
   * h3: the server's SETTINGS on the ticket's connection (what the attempt complied with, RFC 9114
   * §7.2.4.2) and on this one.
   */
  h3Remembered?: SettingEntry[];
  h3Announced?: SettingEntry[];
}

export interface ReplayRecord {
  /** Why there was no replay, if there was none. */
  skipped?: string;
  /** Datagrams of the first flight sent again, byte for byte, from a new source port. */
  datagrams: number;
  /** The auditor's twin connection produced exactly those bytes, so it could follow the server's answer. */
  twinIdentical: boolean;
  delayMs: number;
  /** The server answered at all. */
  answered: boolean;
  earlyData: 'accepted' | 'rejected' | 'none';
  resumed: boolean;
  handshakeComplete: boolean;
  /** Response bytes on the replayed early request's stream. */
  responseBytes: number;
  /** The replayed ticket's age when the replay went out, and its lifetime (seconds). */
  ticketAgeMs: number;
  ticketLifetime: number;
  close?: CloseRecord;
}

export interface ExpiredRecord {
  /** Why the check could not be run (tickets live too long to wait for). */
  skipped?: string;
  /** The ticket's lifetime (seconds) and how long after its receipt it was offered (ms). */
  lifetime: number;
  ageMs: number;
  attempt?: AttemptRecord;
}

export interface ServerTrace {
  format: typeof SERVER_TRACE_FORMAT;
  server: string;
  alpn: string;
  /** The first connection completed and left a ticket; did it allow early data? */
  ticket: { received: boolean; allowsEarlyData: boolean; lifetime: number | null };
  attempts: AttemptRecord[];
  replay?: ReplayRecord;
  expired?: ExpiredRecord;
  notes: string[];
}
