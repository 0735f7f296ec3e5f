/**
 * A QUIC server on one UDP socket: `listen()` hands out connections once their handshake completes,
 * `listenEarly()` as soon as they may carry 0-RTT data (their streams can be accepted and read
 * before the handshake completes).
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Connection } from '../connection/connection.js';
import type { ServerEndpointOptions } from '../endpoint/endpoint.js';
import { QuicUsageError } from '../errors/public-errors.js';
import { assertKeyMatchesCertificate, loadPrivateKey, parseCertificateChain } from '../tls/private-key.js';
import { SessionTicketKeys } from '../tls/session-ticket-keys.js';
import { parseAddress, type SocketAddress } from './address.js';
import { now } from './clock.js';
import { ConnectionHandle } from './connection-handle.js';
import { keyLogWriter, mtuCeiling, type ServerOptions, transportOptions } from './options.js';
import { QuicConnection } from './quic-connection.js';
import { UdpEndpoint } from './udp-endpoint.js';

export class QuicServer extends EventEmitter {
  private readonly ready: QuicConnection[] = [];
  private readonly waiters: Array<{ resolve: (c: QuicConnection) => void; reject: (e: Error) => void }> = [];
  private readonly handles = new Set<ConnectionHandle>();
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly driver: UdpEndpoint,
    private readonly early: boolean,
  ) {
    super();
    driver.listening = true;
    driver.onConnection = (core) => this.onConnection(core);
  }

  /** @internal */
  static async create(options: ServerOptions, early: boolean): Promise<QuicServer> {
    const serverOptions = serverEndpointOptions(options);
    const host = options.host ?? '::';
    let driver: UdpEndpoint;
    const bind = (h: string) =>
      UdpEndpoint.bind({
        host: h,
        port: options.port ?? 0,
        ...(options.socketBufferSize !== undefined ? { socketBufferSize: options.socketBufferSize } : {}),
        ...(options.qlogDir !== undefined ? { qlogDir: options.qlogDir } : {}),
        endpoint: {
          server: { ...serverOptions, transport: transportOptions(options, h.includes(':')) },
          transportFor: (remote) => ({ mtuDiscoveryMax: mtuCeiling(parseAddress(remote).address, options) }),
          ...(options.statelessResetKey ? { statelessResetKey: options.statelessResetKey } : {}),
          ...(options.tokenKey ? { tokenKey: options.tokenKey } : {}),
        },
      });
    try {
      driver = await bind(host);
    } catch (err) {
      // No IPv6 on this machine: the default '::' falls back to IPv4.
      if (options.host !== undefined) throw err;
      driver = await bind('0.0.0.0');
    }
    return new QuicServer(driver, early);
  }

  address(): SocketAddress {
    return this.driver.address();
  }

  /** The next connection (rejects once the server is closed). */
  accept(): Promise<QuicConnection> {
    const c = this.ready.shift();
    if (c) return Promise.resolve(c);
    if (this.closing) return Promise.reject(serverClosed());
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<QuicConnection> {
    for (;;) {
      try {
        yield await this.accept();
      } catch {
        return;
      }
    }
  }

  /** Connections currently open on this server. */
  get connectionCount(): number {
    return this.handles.size;
  }

  /** Stop accepting, close every connection (code 0) and the socket. */
  close(): Promise<void> {
    if (!this.closing) {
      for (const w of this.waiters.splice(0)) w.reject(serverClosed());
      for (const h of this.handles) {
        h.core.close(0, 'server closing', now());
        h.kick();
      }
      this.closing = this.driver.close().then(() => {
        this.emit('close');
      });
    }
    return this.closing;
  }

  private onConnection(core: Connection): void {
    const handle = new ConnectionHandle(core, this.driver, undefined, undefined);
    let pub: QuicConnection | undefined;
    const deliver = (c: QuicConnection) => {
      if (this.closing) return;
      const w = this.waiters.shift();
      if (w) w.resolve(c);
      else this.ready.push(c);
      this.emit('connection', c);
    };
    handle.callbacks = {
      onEpoch: (epoch) => {
        pub = new QuicConnection(handle, epoch);
        if (this.early) deliver(pub);
        return pub;
      },
      onHandshakeComplete: () => {
        if (!this.early && pub) deliver(pub);
      },
      onTerminated: () => {
        this.handles.delete(handle);
        // A connection that was never accepted is dropped from the backlog.
        if (pub) {
          const i = this.ready.indexOf(pub);
          if (i >= 0) this.ready.splice(i, 1);
        }
      },
    };
    this.handles.add(handle);
    this.driver.attach(core, handle);
  }
}

function serverClosed(): Error {
  return new QuicUsageError('ERR_QUIC_SERVER_CLOSED', 'the server is closed');
}

/** Validate ServerOptions and build the endpoint's server settings. */
function serverEndpointOptions(o: ServerOptions): ServerEndpointOptions {
  if (!o || typeof o !== 'object') throw new TypeError('listen() needs options');
  if (
    !Array.isArray(o.alpn) ||
    o.alpn.length === 0 ||
    o.alpn.some((p) => typeof p !== 'string' || p.length === 0)
  ) {
    throw new TypeError('options.alpn must be a non-empty array of protocol names (QUIC requires ALPN)');
  }
  if (o.cert === undefined || o.key === undefined)
    throw new TypeError('options.cert and options.key are required');
  // Fail at listen() time, not at the first handshake, for a bad certificate or key.
  const key = loadPrivateKey(o.key);
  const chain = parseCertificateChain(o.cert);
  assertKeyMatchesCertificate(key, chain[0]!);
  if (o.ticketKey !== undefined && o.ticketKey.length < 32)
    throw new TypeError('options.ticketKey must be 32 bytes');
  const allow = o.allow0RTT;
  const keyLog = keyLogWriter(o.keylog);
  return {
    tls: {
      alpn: o.alpn,
      identity: { certificateChain: o.cert, privateKey: o.key },
      ticketKeys: new SessionTicketKeys({
        random: randomBytes,
        now: now(),
        ...(o.ticketKey ? { keys: [o.ticketKey.subarray(0, 32)] } : {}),
      }),
      issueEarlyDataTickets: allow !== undefined && allow !== false,
      ...(o.ticketLifetime !== undefined ? { ticketLifetime: o.ticketLifetime } : {}),
      ...(o.cipherSuites ? { cipherSuites: o.cipherSuites } : {}),
      ...(o.groups ? { groups: o.groups } : {}),
      ...(keyLog ? { keyLog } : {}),
    },
    ...(o.retry ? { retry: true } : {}),
    ...(allow
      ? {
          allowEarlyData: ({ address, context }) => {
            if (allow === true) return true;
            const a = parseAddress(address);
            return allow({
              address: a.address,
              port: a.port,
              ticketAge: context.clientTicketAge,
              alpn: context.alpn,
            });
          },
        }
      : {}),
    ...(o.replayStore ? { replayStore: o.replayStore } : {}),
    ...(o.maxHalfOpen !== undefined ? { maxHalfOpen: o.maxHalfOpen } : {}),
  };
}
