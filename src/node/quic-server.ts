/**
 * A QUIC server on one UDP socket: `listen()` hands out connections once their handshake completes,
 * `listenEarly()` as soon as they may carry 0-RTT data (their streams can be accepted and read
 * before the handshake completes).
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Connection } from '../connection/connection.js';
import type { StreamEpoch } from '../connection/stream-epoch.js';
import type { ServerEndpointOptions } from '../endpoint/endpoint.js';
import { QuicUsageError } from '../errors/public-errors.js';
import { assertKeyMatchesCertificate, loadPrivateKey, parseCertificateChain } from '../tls/private-key.js';
import { SessionTicketKeys } from '../tls/session-ticket-keys.js';
import { parseAddress, type SocketAddress } from './address.js';
import { now } from './clock.js';
import { ConnectionHandle, type HandleCallbacks } from './connection-handle.js';
import { checkServerOptions, prepareFiles } from './option-checks.js';
import { keyLogWriter, mtuCeiling, type ServerOptions, transportOptions } from './options.js';
import { QuicConnection } from './quic-connection.js';
import { UdpEndpoint } from './udp-endpoint.js';
import { invalidArgType, outOfRange } from './validation-errors.js';

export class QuicServer extends EventEmitter {
  private readonly ready: QuicConnection[] = [];
  private readonly waiters: Array<{ resolve: (c: QuicConnection) => void; reject: (e: Error) => void }> = [];
  /** Open connections, and whether each was handed to the application. */
  private readonly handles = new Map<ConnectionHandle, { readonly delivered: boolean }>();
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly driver: UdpEndpoint,
    private readonly early: boolean,
    private readonly streamErrorCode: number,
  ) {
    super();
    driver.listen((core) => this.onConnection(core));
  }

  /** @internal */
  static async create(options: ServerOptions, early: boolean): Promise<QuicServer> {
    // Everything is checked, and the named files opened, before the socket is bound.
    checkServerOptions(options, early ? 'listenEarly' : 'listen');
    checkIdentity(options);
    await prepareFiles(options);
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
    return new QuicServer(driver, early, options.defaultStreamErrorCode ?? 0);
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

  /**
   * Stop accepting connections and close the socket; resolves once the socket is closed.
   *
   * By default every open connection is closed at once (CONNECTION_CLOSE, application code 0,
   * reason "server closing") and the socket closes as soon as those frames are sent: milliseconds,
   * without waiting out the closing periods (RFC 9000 §10.2).
   *
   * With `{ drain: true }`, connections the application has accepted may finish: the server waits
   * until each has been closed (by either side, or by its idle timeout), then closes the socket.
   * Connections not yet accepted are closed at once, new ones are not accepted. `timeout` (ms)
   * bounds the wait; the connections still open then are closed as above. Calling close() again
   * without `drain` during the wait closes everything at once.
   */
  close(opts: { drain?: boolean; timeout?: number } = {}): Promise<void> {
    if (typeof opts !== 'object' || opts === null) throw invalidArgType('options', 'an object', opts);
    if (opts.drain !== undefined && typeof opts.drain !== 'boolean') {
      throw invalidArgType('options.drain', 'of type boolean', opts.drain);
    }
    const timeout = opts.timeout;
    if (timeout !== undefined && (!Number.isInteger(timeout) || timeout < 0 || timeout > 2 ** 31 - 1)) {
      throw outOfRange('options.timeout', 'an integer >= 0 and <= 2147483647 (ms)', timeout);
    }
    if (!this.closing) {
      for (const w of this.waiters.splice(0)) w.reject(serverClosed());
      this.closing = this.driver.close({ prompt: true }).then(() => {
        if (this.drainTimer) clearTimeout(this.drainTimer);
        this.emit('close');
      });
      if (opts.drain) {
        // Connections the application never got are not worth waiting for.
        for (const [h, state] of this.handles) if (!state.delivered) closeHandle(h);
        if (timeout !== undefined) this.drainTimer = setTimeout(() => this.closeAll(), timeout);
        return this.closing;
      }
    }
    if (!opts.drain) this.closeAll();
    return this.closing;
  }

  private drainTimer: NodeJS.Timeout | undefined;

  private closeAll(): void {
    for (const h of this.handles.keys()) closeHandle(h);
  }

  private onConnection(core: Connection): void {
    const handle = new ConnectionHandle(core, this.driver, undefined, undefined, now, this.streamErrorCode);
    const state = new ServerHandleState(this, handle);
    handle.bind(state);
    this.handles.set(handle, state);
    this.driver.attach(core, handle);
  }

  /** @internal A connection's public object exists: hand it to accept() or a waiter. */
  _deliver(handle: ConnectionHandle, state: ServerHandleState, c: QuicConnection): void {
    if (this.closing) {
      // Closing (or draining): a connection the application never saw is closed at once.
      closeHandle(handle);
      return;
    }
    state.markDelivered();
    c._holdStreamEvents();
    const w = this.waiters.shift();
    if (w) w.resolve(c);
    else this.ready.push(c);
    this.emit('connection', c);
  }

  /** @internal Whether connections are handed out at their first epoch (listenEarly). */
  get _early(): boolean {
    return this.early;
  }

  /** @internal The connection is gone: forget it, and drop it from the backlog if never accepted. */
  _forget(handle: ConnectionHandle, pub: QuicConnection | undefined): void {
    this.handles.delete(handle);
    if (pub) {
      const i = this.ready.indexOf(pub);
      if (i >= 0) this.ready.splice(i, 1);
    }
  }
}

/**
 * What the server keeps per connection: its public connection, whether it was delivered, and the
 * handle's callbacks. A class, not an object literal with methods: no four closures per connection
 * (issue 13; under tsx each kept closure also costs a property dictionary).
 */
class ServerHandleState implements HandleCallbacks {
  private pub: QuicConnection | undefined = undefined;
  private _delivered = false;

  constructor(
    private readonly server: QuicServer,
    private readonly handle: ConnectionHandle,
  ) {}

  /** Whether the application was handed the connection. */
  get delivered(): boolean {
    return this._delivered;
  }

  /** The server handed the connection to the application. */
  markDelivered(): void {
    this._delivered = true;
  }

  onEpoch(epoch: StreamEpoch): QuicConnection {
    const pub = new QuicConnection(this.handle, epoch);
    this.pub = pub;
    if (this.server._early) this.server._deliver(this.handle, this, pub);
    return pub;
  }

  onHandshakeComplete(): void {
    if (!this.server._early && this.pub) this.server._deliver(this.handle, this, this.pub);
  }

  onTerminated(): void {
    this.server._forget(this.handle, this.pub);
  }
}

function closeHandle(h: ConnectionHandle): void {
  if (h.core.isClosed) return;
  h.core.close(0, 'server closing', now());
  h.kick();
}

function serverClosed(): Error {
  return new QuicUsageError('ERR_QUIC_SERVER_CLOSED', 'the server is closed');
}

/** Fail at listen() time, not at the first handshake, for a bad certificate or key (TlsConfigError). */
function checkIdentity(o: ServerOptions): void {
  const key = loadPrivateKey(o.key);
  const chain = parseCertificateChain(o.cert);
  assertKeyMatchesCertificate(key, chain[0]!);
}

/** Build the endpoint's server settings from checked ServerOptions (see option-checks.ts). */
function serverEndpointOptions(o: ServerOptions): ServerEndpointOptions {
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
    ...(o.retryThreshold !== undefined ? { retryThreshold: o.retryThreshold } : {}),
    ...(o.maxConnections !== undefined ? { maxConnections: o.maxConnections } : {}),
  };
}
