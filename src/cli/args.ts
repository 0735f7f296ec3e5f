/**
 * Command-line argument helpers shared by the tsquic commands: usage errors (exit status 2), node:util
 * parseArgs errors turned into usage errors, HOST:PORT and https:// URL parsing.
 */
import { isIP } from 'node:net';
import { basename } from 'node:path';

/** Exit status of a command-line usage error (unknown flag, missing or malformed value). */
export const EXIT_USAGE = 2;
/** Exit status of a runtime failure (network, file, protocol). */
export const EXIT_FAILURE = 1;

/** A mistake in how the command was invoked: reported with a hint to --help, exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * Run a node:util parseArgs call, turning its errors (unknown option, missing value, unexpected
 * positional) into a UsageError with the first sentence of Node's message.
 */
export function parseOrUsage<R>(parse: () => R): R {
  try {
    return parse();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (err instanceof Error && typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      throw new UsageError(firstSentence(err.message));
    }
    throw err;
  }
}

function firstSentence(message: string): string {
  const i = message.indexOf('. ');
  return i > 0 ? message.slice(0, i) : message.replace(/\.$/, '');
}

/** Throw a UsageError naming `flag` when a required option is missing. */
export function required<T>(value: T | undefined, flag: string): T {
  if (value === undefined || value === '') throw new UsageError(`missing required option ${flag}`);
  return value;
}

/** `--alpn PROTO`: a protocol name of 1 to 255 bytes (RFC 7301 §3.1), else a usage error. */
export function parseAlpn(value: string | undefined, fallback: string): string {
  if (value === undefined) return fallback;
  const n = Buffer.byteLength(value);
  if (n === 0 || n > 255)
    throw new UsageError(`--alpn must be a protocol name of 1 to 255 bytes, got ${JSON.stringify(value)}`);
  return value;
}

export interface HostPort {
  host: string;
  port: number;
}

/** `HOST:PORT` or `[V6]:PORT` (port 0 allowed: a free port), as given to `server --listen`. */
export function parseHostPort(text: string, flag: string): HostPort {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text);
  if (!m) throw new UsageError(`${flag} must be HOST:PORT or [IPV6]:PORT, got ${JSON.stringify(text)}`);
  const host = m[1]!;
  const port = Number(m[2]);
  if (!Number.isInteger(port) || port > 65535) throw new UsageError(`${flag}: invalid port ${m[2]}`);
  if (text.startsWith('[') && isIP(host) !== 6) throw new UsageError(`${flag}: invalid IPv6 address ${host}`);
  return { host, port };
}

/** One file to fetch: the request path and the local file name it is saved under. */
export interface FetchTarget {
  /** Decoded path, as fetchHq sends it (it percent-encodes it again). */
  path: string;
  /** Last path segment, sanitised to a plain file name. */
  name: string;
}

export interface FetchPlan extends HostPort {
  /** Host name from the URLs: SNI, certificate check and session-cache key. */
  serverName: string;
  targets: FetchTarget[];
}

/**
 * `https://HOST:PORT/PATH` URLs into one server and the files to fetch. Every URL must name the same
 * server (one connection), and no two may be saved under the same file name.
 */
export function parseUrls(urls: string[]): FetchPlan {
  if (urls.length === 0) throw new UsageError('at least one URL is required');
  let server: { key: string; host: string; port: number } | undefined;
  const targets: FetchTarget[] = [];
  const names = new Set<string>();
  for (const text of urls) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new UsageError(`not a URL: ${JSON.stringify(text)}`);
    }
    if (url.protocol !== 'https:') throw new UsageError(`only https:// URLs are supported, got ${text}`);
    if (url.username || url.password) throw new UsageError(`credentials in URLs are not supported: ${text}`);
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = url.port === '' ? 443 : Number(url.port);
    const key = `${host.toLowerCase()}:${port}`;
    if (server === undefined) server = { key, host, port };
    else if (server.key !== key) {
      throw new UsageError(`all URLs must name the same server (${server.host}:${server.port}); got ${text}`);
    }
    const path = decodePath(url.pathname);
    const name = fileNameFor(path);
    if (names.has(name)) throw new UsageError(`two URLs would be saved as the same file ${name}`);
    names.add(name);
    targets.push({ path, name });
  }
  const s = server!;
  return { host: s.host, port: s.port, serverName: s.host, targets };
}

function decodePath(pathname: string): string {
  try {
    return decodeURIComponent(pathname);
  } catch {
    return pathname;
  }
}

/**
 * The local file name for a request path: its last segment, never a directory traversal (a path
 * like `/..%2f..%2fetc%2fpasswd` decodes to `/../../etc/passwd` and is saved as `passwd`).
 */
export function fileNameFor(path: string): string {
  const name = basename(path.replace(/\\/g, '/'));
  if (name === '' || name === '.' || name === '..' || name.includes('\0')) return 'index.html';
  return name;
}
