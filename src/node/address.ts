/**
 * Peer addresses. The sans-IO core treats an address as an opaque string; the shell formats and
 * parses it ("192.0.2.1:443", "[2001:db8::1]:443").
 */
import { isIP } from 'node:net';
import { invalidArgType, invalidArgValue } from './validation-errors.js';

/**
 * A UDP address: `address`, `port` and `family` like Node's `socket.address()`, printable as
 * "192.0.2.1:443" or "[2001:db8::1]:443" (`String(addr)`, template strings).
 */
export class SocketAddress {
  constructor(
    readonly address: string,
    readonly port: number,
    readonly family: 'IPv4' | 'IPv6',
  ) {}

  toString(): string {
    return formatAddress(this.address, this.port);
  }

  toJSON(): { address: string; port: number; family: 'IPv4' | 'IPv6' } {
    return { address: this.address, port: this.port, family: this.family };
  }
}

export function formatAddress(address: string, port: number): string {
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

export function parseAddress(text: string): SocketAddress {
  const m = /^\[(.+)\]:(\d+)$/.exec(text);
  if (m) return new SocketAddress(m[1]!, Number(m[2]), 'IPv6');
  const i = text.lastIndexOf(':');
  return new SocketAddress(text.slice(0, i), Number(text.slice(i + 1)), 'IPv4');
}

/**
 * `host:port`, `[v6]:port`, or `{ host, port }` into parts. An IPv6 address with a port needs the
 * brackets ("[::1]:4433"): "::1:4433" is itself a valid IPv6 address, so it is refused rather than
 * guessed. Throws TypeError ERR_INVALID_ARG_TYPE / ERR_INVALID_ARG_VALUE.
 */
export function parseTarget(target: string | { host: string; port: number }): { host: string; port: number } {
  if (typeof target !== 'string') {
    if (typeof target !== 'object' || target === null || typeof target.host !== 'string') {
      throw invalidArgType('target', 'a "host:port" string or { host, port }', target);
    }
    if (!isPort(target.port))
      throw invalidArgValue('target.port', target.port, 'must be an integer from 1 to 65535');
    if (target.host.length === 0) throw invalidArgValue('target.host', target.host, 'must not be empty');
    return { host: target.host, port: target.port };
  }
  const v6 = /^\[(.+)\]:(\d+)$/.exec(target);
  if (v6) {
    const port = Number(v6[2]);
    if (!isPort(port)) throw invalidArgValue('target', target, 'has an invalid port (1 to 65535)');
    if (isIP(v6[1]!) !== 6)
      throw invalidArgValue('target', target, 'has an invalid IPv6 address in brackets');
    return { host: v6[1]!, port };
  }
  const i = target.lastIndexOf(':');
  const host = target.slice(0, i);
  if (host.includes(':')) {
    throw invalidArgValue(
      'target',
      target,
      'is ambiguous: write an IPv6 address with a port in brackets, as "[::1]:4433"',
    );
  }
  const port = Number(target.slice(i + 1));
  if (i <= 0 || !/^\d+$/.test(target.slice(i + 1)) || !isPort(port)) {
    throw invalidArgValue('target', target, 'must be "host:port", "[ipv6]:port" or { host, port }');
  }
  return { host, port };
}

function isPort(p: unknown): p is number {
  return typeof p === 'number' && Number.isInteger(p) && p > 0 && p < 65536;
}
