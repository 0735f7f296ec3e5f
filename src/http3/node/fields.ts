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

/** Appends the field lines of a name and a setHeader-style value to `out`. */
function pushFieldLines(out: FieldLine[], name: string, value: HeaderValue): void {
  const n = name.toLowerCase();
  if (Array.isArray(value))
    for (const v of value as readonly string[]) out.push({ name: n, value: String(v) });
  else out.push({ name: n, value: String(value) });
}

/** Field lines from a headers object or a [name, value] list (writeHead, addTrailers, fetch init). */
export function fieldsFrom(
  headers:
    | Record<string, HeaderValue | undefined>
    | ReadonlyArray<readonly [string, HeaderValue]>
    | undefined,
): FieldLine[] {
  const out: FieldLine[] = [];
  if (!headers) return out;
  // No entries array, no array per header: a response head is built once per request.
  if (Array.isArray(headers)) {
    for (const [name, value] of headers as ReadonlyArray<readonly [string, HeaderValue]>) {
      if (value !== undefined) pushFieldLines(out, name, value);
    }
    return out;
  }
  const record = headers as Record<string, HeaderValue | undefined>;
  for (const name of Object.keys(record)) {
    const value = record[name];
    if (value !== undefined) pushFieldLines(out, name, value);
  }
  return out;
}
