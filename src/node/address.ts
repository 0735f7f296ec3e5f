/**
 * Peer addresses. The sans-IO core treats an address as an opaque string; the shell formats and
 * parses it ("192.0.2.1:443", "[2001:db8::1]:443").
 */
import { isIP } from 'node:net';

export interface SocketAddress {
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
}

export function formatAddress(address: string, port: number): string {
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

export function parseAddress(text: string): SocketAddress {
  const m = /^\[(.+)\]:(\d+)$/.exec(text);
  if (m) return { address: m[1]!, port: Number(m[2]), family: 'IPv6' };
  const i = text.lastIndexOf(':');
  return { address: text.slice(0, i), port: Number(text.slice(i + 1)), family: 'IPv4' };
}

/** `host:port`, `[v6]:port`, or `{ host, port }` into parts; throws a TypeError for anything else. */
export function parseTarget(target: string | { host: string; port: number }): { host: string; port: number } {
  if (typeof target !== 'string') {
    if (!target || typeof target.host !== 'string' || !isPort(target.port)) {
      throw new TypeError('target must be "host:port" or { host, port }');
    }
    return { host: target.host, port: target.port };
  }
  const v6 = /^\[(.+)\]:(\d+)$/.exec(target);
  if (v6) {
    const port = Number(v6[2]);
    if (!isPort(port)) throw new TypeError(`invalid port in ${target}`);
    return { host: v6[1]!, port };
  }
  const i = target.lastIndexOf(':');
  const port = Number(target.slice(i + 1));
  if (i <= 0 || !isPort(port))
    throw new TypeError(`target must be "host:port", got ${JSON.stringify(target)}`);
  return { host: target.slice(0, i), port };
}

function isPort(p: unknown): p is number {
  return typeof p === 'number' && Number.isInteger(p) && p > 0 && p < 65536;
}
