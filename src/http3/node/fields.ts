/**
 * Between HTTP/3 field lines and node:http's header shapes: `headers` objects (lowercase names,
 * repeated fields joined as node:http joins them), `rawHeaders` arrays, and the values users may
 * pass to setHeader (string, number, or an array of strings).
 */
import type { FieldLine } from '../field-codec.js';

export type HeaderValue = string | number | readonly string[];
export type IncomingHeaders = Record<string, string | string[] | undefined>;

/** node:http keeps these as arrays. */
const ARRAY_HEADERS = new Set(['set-cookie']);
/** node:http keeps the first value of these and drops the rest. */
const SINGLE_HEADERS = new Set([
  'age',
  'authorization',
  'content-length',
  'content-type',
  'etag',
  'expires',
  'from',
  'host',
  'if-modified-since',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'referer',
  'retry-after',
  'server',
  'user-agent',
]);

/** A node:http-style headers object (RFC 9114 §4.2.1: several cookie lines join with '; '). */
export function headersObject(fields: readonly FieldLine[]): IncomingHeaders {
  const h: IncomingHeaders = Object.create(null) as IncomingHeaders;
  for (const { name, value } of fields) {
    const prev = h[name];
    if (prev === undefined) {
      h[name] = ARRAY_HEADERS.has(name) ? [value] : value;
    } else if (Array.isArray(prev)) {
      prev.push(value);
    } else if (SINGLE_HEADERS.has(name)) {
      // keep the first
    } else {
      h[name] = `${prev}${name === 'cookie' ? '; ' : ', '}${value}`;
    }
  }
  return h;
}

export function rawHeaders(fields: readonly FieldLine[]): string[] {
  const out: string[] = [];
  for (const f of fields) out.push(f.name, f.value);
  return out;
}

/** Field lines from a name and a setHeader-style value. */
export function toFieldLines(name: string, value: HeaderValue): FieldLine[] {
  const n = name.toLowerCase();
  if (Array.isArray(value)) return (value as readonly string[]).map((v) => ({ name: n, value: String(v) }));
  return [{ name: n, value: String(value) }];
}

/** Field lines from a headers object or a [name, value] list (writeHead, addTrailers, fetch init). */
export function fieldsFrom(
  headers:
    | Record<string, HeaderValue | undefined>
    | ReadonlyArray<readonly [string, HeaderValue]>
    | undefined,
): FieldLine[] {
  if (!headers) return [];
  const out: FieldLine[] = [];
  const entries = Array.isArray(headers)
    ? (headers as ReadonlyArray<readonly [string, HeaderValue]>)
    : Object.entries(headers as Record<string, HeaderValue | undefined>);
  for (const [name, value] of entries) {
    if (value === undefined) continue;
    out.push(...toFieldLines(name, value));
  }
  return out;
}
