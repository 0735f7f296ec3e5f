/**
 * The entry points: listen, listenEarly, dial, dialEarly, and QuicEndpoint for dialling many
 * connections from one socket.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { AbortError, QuicUsageError } from '../errors/public-errors.js';
import { formatAddress, parseTarget, type SocketAddress } from './address.js';
import { bindClientConnection } from './client-connection.js';
import { now } from './clock.js';
import { ConnectionHandle } from './connection-handle.js';
import { checkBindOptions, checkClientOptions, prepareFiles } from './option-checks.js';
import {
  type ClientOptions,
  keyLogWriter,
  mtuCeiling,
  type ServerOptions,
  transportOptions,
} from './options.js';
import type { EarlyConnection, QuicConnection } from './quic-connection.js';
import { QuicServer } from './quic-server.js';
import { UdpEndpoint } from './udp-endpoint.js';

/** A server that hands out connections once their handshake completes. */
export function listen(options: ServerOptions): Promise<QuicServer> {
  return QuicServer.create(options, false);
}

/** A server that hands out connections as soon as they may carry 0-RTT data. */
export function listenEarly(options: ServerOptions): Promise<QuicServer> {
  return QuicServer.create(options, true);
}

export type DialTarget = string | { host: string; port: number };

/** Connect and complete the handshake. */
export async function dial(target: DialTarget, options: ClientOptions): Promise<QuicConnection> {
  const files = prepareClient(target, options, 'dial');
  if (files) await files;
  const endpoint = await QuicEndpoint.ephemeral(target, options);
  try {
    return await endpoint._dial(target, options, true);
  } catch (err) {
    // The socket closes once the failed connection (if any) has finished closing.
    void endpoint.close();
    throw err;
  }
}

/**
 * Connect and return at once: with a usable session ticket in `options.sessionCache`, streams opened
 * on the returned connection go out as 0-RTT. Without one, this behaves like dial().
 */
export async function dialEarly(target: DialTarget, options: ClientOptions): Promise<EarlyConnection> {
  const files = prepareClient(target, options, 'dialEarly');
  if (files) await files;
  const endpoint = await QuicEndpoint.ephemeral(target, options);
  try {
    return await endpoint._dialEarly(target, options, true);
  } catch (err) {
    void endpoint.close();
    throw err;
  }
}

/**
 * Every option checked and the files they name opened, before any socket is bound: a bad option
 * throws and leaves nothing behind. The checks are synchronous; only options that name files
 * return a promise to wait for (a dial without them makes no promise here, issue 13).
 */
function prepareClient(target: DialTarget, options: ClientOptions, fn: string): Promise<void> | undefined {
  checkClientOptions(target, options, fn);
  if (options.signal?.aborted) throw abortError(options.signal);
  return typeof options.keylog === 'string' || options.qlogDir !== undefined
    ? prepareFiles(options)
    : undefined;
}

/** A client UDP socket from which many connections can be dialled. */
export class QuicEndpoint {
  private constructor(
    private readonly driver: UdpEndpoint,
    /** The socket of one dial(): connected to its peer, closed with its connection. */
    private readonly oneOff = false,
  ) {}

  /** Bind a socket (default: all addresses, a free port). */
  static async bind(
    opts: { host?: string; port?: number; socketBufferSize?: number } = {},
  ): Promise<QuicEndpoint> {
    checkBindOptions(opts);
    const driver = await UdpEndpoint.bind({
      host: opts.host ?? '0.0.0.0',
      port: opts.port ?? 0,
      ...(opts.socketBufferSize !== undefined ? { socketBufferSize: opts.socketBufferSize } : {}),
      endpoint: {},
    });
    return new QuicEndpoint(driver);
  }

  /** @internal One socket for one connection, closed when the connection ends. */
  static async ephemeral(target: DialTarget, options: ClientOptions): Promise<QuicEndpoint> {
    const { host } = parseTarget(target);
    const v6 = isIP(host) === 6;
    // Named fields, not conditional spreads (Node 20 builds those on V8's slow path; per dial,
    // issue 13). UdpEndpoint.bind treats an undefined option as absent.
    const driver = await UdpEndpoint.bind({
      host: options.localHost ?? (v6 ? '::' : '0.0.0.0'),
      port: options.localPort ?? 0,
      socketBufferSize: options.socketBufferSize,
      qlogDir: options.qlogDir,
      endpoint: {},
      autoClose: true,
    });
    return new QuicEndpoint(driver, true);
  }

  address(): SocketAddress {
    return this.driver.address();
  }

  /** Close the socket once every connection dialled from it has ended. */
  close(): Promise<void> {
    return this.driver.close();
  }

  dial(target: DialTarget, options: ClientOptions): Promise<QuicConnection> {
    return this._dial(target, options, false);
  }

  dialEarly(target: DialTarget, options: ClientOptions): Promise<EarlyConnection> {
    return this._dialEarly(target, options, false);
  }

  /** @internal `prepared`: dial() has checked the options and opened their files already. */
  async _dial(target: DialTarget, options: ClientOptions, prepared: boolean): Promise<QuicConnection> {
    const { handle, first } = await this.start(target, options, false, prepared);
    try {
      await abortable(handle.handshakeComplete, options.signal, () => abortConnection(handle));
    } catch (err) {
      throw err instanceof Error ? err : new Error(String(err));
    }
    const pub = first();
    if (!pub)
      throw (
        handle.closeError ?? new QuicUsageError('ERR_QUIC_INTERNAL', 'no stream epoch after the handshake')
      );
    return pub;
  }

  /** @internal */
  async _dialEarly(target: DialTarget, options: ClientOptions, prepared: boolean): Promise<EarlyConnection> {
    const { handle, early, next } = await this.start(target, options, true, prepared);
    if (early) return early;
    // No usable ticket: like dial(), and nextConnection() is this same connection.
    await abortable(handle.handshakeComplete, options.signal, () => abortConnection(handle));
    const pub = await next;
    return pub as EarlyConnection;
  }

  private async start(target: DialTarget, options: ClientOptions, wantEarly: boolean, prepared: boolean) {
    // dial() and dialEarly() have done this before binding their socket: once per dial is enough.
    if (!prepared) {
      const files = prepareClient(target, options, wantEarly ? 'dialEarly' : 'dial');
      if (files) await files;
    }
    const { host, port } = parseTarget(target);
    const address = isIP(host) ? host : (await lookup(host, { family: this.driver.isIPv6 ? 0 : 4 })).address;
    if (options.signal?.aborted) throw abortError(options.signal);
    // A connected socket hears of ICMP port unreachable (ECONNREFUSED): a dial to a port where
    // nothing listens fails at once (ConnectionRefusedError) instead of after the handshake timeout.
    if (this.oneOff) await this.driver.connect(address, port);
    const remote = formatAddress(address, port);
    const serverName = options.serverName ?? host;
    const store = options.sessionCache;
    const session = store?.takeSession(serverName, now());
    const token = store?.takeToken?.(remote);
    const ca = options.ca;
    // The core's options with every field named (undefined = not set), not conditional spreads:
    // Node 20 builds spread literals on V8's slow path, 0.5-10 us each (issue 13).
    const transport = Object.assign(transportOptions(options, isIP(address) === 6), {
      mtuDiscoveryMax: mtuCeiling(address, options),
    });
    const core = this.driver.endpoint.connect(
      {
        remoteAddress: remote,
        tls: {
          alpn: options.alpn,
          serverName,
          ca: ca === undefined || Array.isArray(ca) ? ca : [ca],
          insecureSkipVerify: options.insecureSkipVerify === true ? true : undefined,
          session,
          offerEarlyData: session ? wantEarly : undefined,
          cipherSuites: options.cipherSuites || undefined,
          groups: options.groups || undefined,
          keyLog: keyLogWriter(options.keylog),
        },
        transport,
        token: token || undefined,
      },
      now(),
    );
    const handle = new ConnectionHandle(
      core,
      this.driver,
      store,
      remote,
      now,
      options.defaultStreamErrorCode ?? 0,
    );
    const client = bindClientConnection(handle, wantEarly);
    // The early epoch (if 0-RTT is offered) exists as soon as the ClientHello is built.
    handle.drainEvents();
    // Without early data nothing can share the ClientHello's datagram: it is sent now. With a
    // ticket for dialEarly() it waits for the turn's flush, so that 0-RTT data written as soon as
    // dialEarly() resolves is coalesced with it (RFC 9000 §12.2).
    this.driver.attach(core, handle, !(session && wantEarly));
    if (options.signal) {
      const signal = options.signal;
      const onAbort = () => abortConnection(handle);
      signal.addEventListener('abort', onAbort, { once: true });
      handle.closed.then(() => signal.removeEventListener('abort', onAbort));
    }
    return { handle, early: client.early(), next: client.next, first: client.first };
  }
}

function abortError(signal: AbortSignal): AbortError {
  return new AbortError(signal.reason);
}

function abortConnection(handle: ConnectionHandle): void {
  if (handle.core.isClosed) return;
  handle.core.close(0, 'aborted', handle.now());
  handle.kick();
}

/** Wait for `p`, but reject with an AbortError (and run `onAbort`) if `signal` fires first. */
function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined, onAbort: () => void): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) {
    onAbort();
    return Promise.reject(abortError(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const listener = () => {
      onAbort();
      reject(abortError(signal));
    };
    signal.addEventListener('abort', listener, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', listener);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', listener);
        reject(e);
      },
    );
  });
}
