/**
 * Options of the public API and their translation into core configuration.
 */
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { TransportOptions } from '../connection/connection-options.js';
import type { CipherSuite } from '../crypto/cipher-suite.js';
import type { EarlyDataReplayStore } from '../endpoint/anti-replay.js';
import type { NamedGroupName } from '../tls/types.js';
import { reportFileError } from './file-errors.js';
import type { SessionStore } from './session-cache.js';

/** Settings shared by clients and servers. All are optional. */
export interface CommonOptions {
  /** Our max_idle_timeout in ms (default 30000). */
  idleTimeout?: number;
  /** Handshake deadline in ms (default 10000). */
  handshakeTimeout?: number;
  /** Send PINGs after this many ms of silence to keep the connection open (default off). */
  keepAlive?: number;
  /** Initial connection-level receive window in bytes (initial_max_data). */
  initialMaxData?: number;
  /** Initial per-stream receive window in bytes. */
  initialMaxStreamData?: number;
  /** Auto-tuning ceilings of the receive windows. */
  maxConnectionWindow?: number;
  maxStreamWindow?: number;
  /** Streams the peer may open at once. */
  maxStreamsBidi?: number;
  maxStreamsUni?: number;
  /** Per-stream send buffer before writes apply backpressure. */
  sendBufferSize?: number;
  /**
   * Send buffer of all streams of a connection together (default 8 MiB): writes apply backpressure
   * once the connection holds this many unacknowledged bytes, however many streams write. With
   * `sendBufferSize` it bounds the memory a peer that never reads can make us hold. It is a ceiling:
   * below it the connection holds about twice what the path carries without a queue, and at least
   * `sendBufferSize`. See docs/security.md.
   */
  connectionSendBufferSize?: number;
  /**
   * Largest UDP payload we send, on every path (loopback included), 1200 to 16383. When set, it is
   * also the size used from the start and path MTU discovery never goes above it, so every datagram
   * is at most this large. Default: start at 1252 bytes for IPv4, 1232 for IPv6, and let PMTU
   * discovery (`pmtuDiscoveryMax`) raise it.
   */
  maxDatagramSize?: number;
  /**
   * Largest datagram DPLPMTU discovery (RFC 9000 §14.3) may probe and then use, 1200 to 16383; 0 turns
   * discovery off, so no datagram is larger than the initial size. Default: 16383 to a loopback peer,
   * 1452 to any other (Node cannot set the DF bit, so larger probes could be fragmented rather than lost).
   * `maxDatagramSize`, when set, caps it.
   */
  pmtuDiscoveryMax?: number;
  congestionControl?: 'cubic' | 'newreno';
  /**
   * Initial congestion window in datagrams (of the current maximum datagram size), 2 to 1000.
   * Default: RFC 9002 §7.2's, 10 datagrams up to 14,720 bytes. quic-go 0.29 starts with 32: on a
   * long round trip every doubling of the window in slow start costs one, so a first response of
   * 64 KiB at a 750 ms RTT takes one round trip less; the price is a larger first burst into a
   * congested path (docs/recovery.md).
   */
  initialCongestionWindow?: number;
  /** 1-RTT key update after this many packets in one key phase. */
  keyUpdateInterval?: number;
  /**
   * TLS cipher suites in preference order. Default: ChaCha20-Poly1305, AES-128-GCM, AES-256-GCM
   * (ChaCha20-Poly1305 first because tsquic protects its small packets in JS, without a node:crypto
   * cipher object per packet; Wireshark 4.0 cannot decrypt its 0-RTT packets).
   */
  cipherSuites?: CipherSuite[];
  /** Key exchange groups in preference order. */
  groups?: NamedGroupName[];
  /** NSS key log (SSLKEYLOGFILE format) to a file path or a writable stream, for Wireshark. */
  keylog?: string | Writable;
  /** Write a qlog file (JSON-SEQ) per connection into this directory. */
  qlogDir?: string;
  /** UDP socket buffer sizes in bytes (default 4 MiB, capped by the OS). */
  socketBufferSize?: number;
  /**
   * Accept DATAGRAM frames (RFC 9221) up to this size in bytes, frame header included (the
   * max_datagram_frame_size transport parameter; 65535 means "any that fits a packet"). Absent or 0:
   * datagrams are off. Sending needs only the peer's support. See docs/datagrams.md.
   */
  maxDatagramFrameSize?: number;
  /**
   * The application error code of stream aborts the application gave no code for (default 0): the
   * RESET_STREAM and STOP_SENDING of `stream.destroy()`, and the STOP_SENDING of a `for await` loop
   * left early. See docs/streams.md.
   */
  defaultStreamErrorCode?: number;
}

export interface ServerOptions extends CommonOptions {
  /** Address to bind (default '::' which also accepts IPv4 where the OS allows, else '0.0.0.0'). */
  host?: string;
  /** Port to bind; 0 picks a free one (default 0). */
  port?: number;
  /** PEM certificate chain (leaf first). */
  cert: string | Buffer;
  /** PEM private key (EC P-256/P-384, RSA, Ed25519). */
  key: string | Buffer;
  /** Supported ALPN protocols in preference order (required by QUIC). */
  alpn: string[];
  /**
   * Accept 0-RTT: true, false (default), or a function of the client's address and the ticket.
   * Replay protection (each ticket accepted at most once) is always applied on top.
   */
  allow0RTT?:
    | boolean
    | ((info: { address: string; port: number; ticketAge: number; alpn: string }) => boolean);
  /** Always validate client addresses with a Retry round trip (RFC 9000 §8.1.2). */
  retry?: boolean;
  /** 32-byte key sealing session tickets; share it between servers that should resume each other's sessions. */
  ticketKey?: Buffer;
  /** Ticket lifetime in seconds (default 86400). */
  ticketLifetime?: number;
  /** 32-byte key sealing Retry/NEW_TOKEN tokens (share it across a server group). */
  tokenKey?: Buffer;
  /** Key for stateless reset tokens (>= 16 bytes); keep it across restarts to reset stale connections. */
  statelessResetKey?: Buffer;
  /** Where used 0-RTT tickets are recorded (default: in memory); shared stores give deployment-wide single use. */
  replayStore?: EarlyDataReplayStore;
  /** Connections still in their handshake beyond which new ones are refused (default 1000). */
  maxHalfOpen?: number;
  /**
   * Handshakes pending from unvalidated client addresses beyond which new clients must first prove
   * their address with a Retry round trip (RFC 9000 §8.1.2), as if `retry` were set (default 100;
   * 0 = always). Keeps legitimate clients connecting during an Initial flood. See docs/security.md.
   */
  retryThreshold?: number;
  /**
   * Open connections (handshaking or established) beyond which new clients are refused with
   * CONNECTION_CLOSE(CONNECTION_REFUSED) (default 10000). See docs/security.md.
   */
  maxConnections?: number;
}

export interface ClientOptions extends CommonOptions {
  /** ALPN protocols to offer (required by QUIC). */
  alpn: string[];
  /** Name for SNI and certificate verification (default: the host dialled). */
  serverName?: string;
  /** Trusted CA certificates (PEM); default: Node's root store. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Skip certificate verification. Only for tests: anyone can impersonate the server. */
  insecureSkipVerify?: boolean;
  /** Where session tickets and tokens are kept for resumption and 0-RTT. */
  sessionCache?: SessionStore;
  /** Abort the connection attempt (and the connection). */
  signal?: AbortSignal;
  /** Local address to bind (default: all addresses of the target's family). */
  localHost?: string;
  localPort?: number;
}

/** Loopback addresses: the path MTU is the loopback interface's (65536 on Linux). */
export function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.');
}

/**
 * The PMTU discovery ceiling for a peer (RFC 9000 §14.3); 0 = no discovery. Node cannot set the DF
 * bit, so probes larger than the first hop's MTU could be fragmented rather than lost: by default
 * discovery stays within 1452 bytes (Ethernet with IPv6 and UDP headers), except to a loopback peer,
 * where it may grow to 16383. `maxDatagramSize` is a ceiling on every path, loopback included.
 */
export function mtuCeiling(peerAddress: string, o: CommonOptions): number {
  if (o.pmtuDiscoveryMax === 0) return 0;
  const ceiling = o.pmtuDiscoveryMax ?? (isLoopback(peerAddress) ? 16383 : 1452);
  return o.maxDatagramSize === undefined ? ceiling : Math.min(ceiling, o.maxDatagramSize);
}

export function transportOptions(o: CommonOptions, ipv6: boolean): Partial<TransportOptions> {
  const t: Partial<TransportOptions> = {};
  if (o.idleTimeout !== undefined) t.maxIdleTimeout = o.idleTimeout;
  if (o.handshakeTimeout !== undefined) t.handshakeTimeout = o.handshakeTimeout;
  if (o.keepAlive !== undefined) t.keepAlivePeriod = o.keepAlive;
  if (o.initialMaxData !== undefined) t.initialMaxData = o.initialMaxData;
  if (o.initialMaxStreamData !== undefined) t.initialMaxStreamData = o.initialMaxStreamData;
  if (o.maxConnectionWindow !== undefined) t.maxConnectionReceiveWindow = o.maxConnectionWindow;
  if (o.maxStreamWindow !== undefined) t.maxStreamReceiveWindow = o.maxStreamWindow;
  if (o.maxStreamsBidi !== undefined) t.maxStreamsBidi = o.maxStreamsBidi;
  if (o.maxStreamsUni !== undefined) t.maxStreamsUni = o.maxStreamsUni;
  if (o.sendBufferSize !== undefined) t.sendBufferSize = o.sendBufferSize;
  if (o.connectionSendBufferSize !== undefined) t.connectionSendBufferSize = o.connectionSendBufferSize;
  if (o.congestionControl !== undefined) t.congestionControl = o.congestionControl;
  if (o.initialCongestionWindow !== undefined) t.initialCongestionWindow = o.initialCongestionWindow;
  if (o.keyUpdateInterval !== undefined) t.keyUpdateInterval = o.keyUpdateInterval;
  if (o.maxDatagramFrameSize) t.maxDatagramFrameSize = o.maxDatagramFrameSize;
  // RFC 9000 §14: 1200 bytes always fit; 1252/1232 leave room for IPv4/IPv6 + UDP headers in 1280-1300 MTUs.
  t.maxDatagramSize = o.maxDatagramSize ?? (ipv6 ? 1232 : 1252);
  if (t.initialMaxData !== undefined && t.maxConnectionReceiveWindow === undefined) {
    t.maxConnectionReceiveWindow = Math.max(t.initialMaxData, 24 * 1024 * 1024);
  }
  if (t.initialMaxStreamData !== undefined && t.maxStreamReceiveWindow === undefined) {
    t.maxStreamReceiveWindow = Math.max(t.initialMaxStreamData, 16 * 1024 * 1024);
  }
  return t;
}

/** One append stream per key log path, shared by every connection that logs there. */
const keyLogFiles = new Map<string, Writable>();

/** A key log sink from the `keylog` option: lines are written with a newline. */
export function keyLogWriter(target: string | Writable | undefined): ((line: string) => void) | undefined {
  if (target === undefined) return undefined;
  let out: Writable;
  if (typeof target === 'string') {
    let file = keyLogFiles.get(target);
    if (!file) {
      const path = target;
      file = createWriteStream(path, { flags: 'a', mode: 0o600 });
      // A write that fails later (disk full, file removed) is reported, never an unhandled 'error'.
      file.on('error', (err) => {
        keyLogFiles.delete(path);
        reportFileError('keylog', path, err);
      });
      keyLogFiles.set(path, file);
    }
    out = file;
  } else {
    out = target;
  }
  return (line: string) => {
    if (!out.destroyed) out.write(`${line}\n`);
  };
}
