/**
 * What node:http code reads from `req.socket` / `res.socket`: the peer's address, `encrypted`, and
 * 'close' when the connection ends (middleware such as on-finished listens for it). One per HTTP/3
 * connection; it is not a net.Socket and carries no bytes.
 */
import { EventEmitter } from 'node:events';
import type { QuicConnection } from '../../node/quic-connection.js';

export class PeerSocket extends EventEmitter {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly remoteFamily: 'IPv4' | 'IPv6';
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  readonly encrypted = true;
  readonly alpnProtocol = 'h3';
  /** The connection ended (set by _closed() only). */
  private _destroyed = false;
  /** Like a net.Socket's: true until the connection ends. */
  get readable(): boolean {
    return !this._destroyed;
  }
  get writable(): boolean {
    return !this._destroyed;
  }
  get destroyed(): boolean {
    return this._destroyed;
  }

  constructor(
    private readonly conn: QuicConnection,
    local: { address: string; port: number } | undefined,
  ) {
    super();
    // Every request of the connection may listen for 'close' (on-finished does).
    this.setMaxListeners(0);
    const r = conn.remoteAddress;
    this.remoteAddress = r.address;
    this.remotePort = r.port;
    this.remoteFamily = r.family === 'IPv6' ? 'IPv6' : 'IPv4';
    this.localAddress = local?.address;
    this.localPort = local?.port;
  }

  /** @internal The connection ended. */
  _closed(): void {
    if (this._destroyed) return;
    this._destroyed = true;
    this.emit('close', false);
  }

  /** Close the whole HTTP/3 connection (what destroying a socket means in node:http). */
  destroy(): this {
    void this.conn.close(0x0100, 'socket destroyed');
    return this;
  }

  setTimeout(): this {
    return this;
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  address(): { address: string; port: number; family: string } | Record<string, never> {
    return this.localAddress !== undefined && this.localPort !== undefined
      ? {
          address: this.localAddress,
          port: this.localPort,
          family: this.localAddress.includes(':') ? 'IPv6' : 'IPv4',
        }
      : {};
  }
}
