/**
 * Checks of HTTP/3 field sections (RFC 9114 §4.1.2, §4.2, §4.3, RFC 9110 §5.5): what makes a request
 * or response "malformed" (a stream error H3_MESSAGE_ERROR), and the message head it yields.
 * Pure functions over FieldLine lists; they throw H3ProtocolError(stream, H3_MESSAGE_ERROR).
 */
import { H3ErrorCode } from './error-codes.js';
import type { FieldLine } from './field-codec.js';
import { h3StreamError } from './h3-protocol-error.js';

export interface RequestHead {
  method: string;
  /** Absent only for CONNECT. */
  scheme: string | undefined;
  /** :authority, or the Host header when :authority is absent. */
  authority: string | undefined;
  /** Absent only for CONNECT. */
  path: string | undefined;
  /** Extended CONNECT (RFC 9220). */
  protocol: string | undefined;
  /** Regular fields, in order. */
  fields: FieldLine[];
}

export interface ResponseHead {
  status: number;
  fields: FieldLine[];
}

function malformed(reason: string) {
  return h3StreamError(H3ErrorCode.H3_MESSAGE_ERROR, reason);
}

/** RFC 9114 §4.2: connection-specific fields are prohibited. */
const CONNECTION_SPECIFIC = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]);

/** RFC 9110 §5.6.2 tchar, lowercase only (RFC 9114 §4.2). */
const NAME_CHAR = (() => {
  const ok = new Uint8Array(128);
  for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz") ok[c.charCodeAt(0)] = 1;
  return ok;
})();

export function isValidFieldName(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 128 || NAME_CHAR[c] === 0) return false;
  }
  return true;
}

/**
 * RFC 9110 §5.5 field-content: visible characters, obs-text, and SP/HTAB between them; never NUL,
 * CR, LF or other controls (RFC 9114 §10.3), no leading or trailing whitespace.
 */
export function isValidFieldValue(value: string): boolean {
  const n = value.length;
  if (n === 0) return true;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return false;
  }
  const first = value.charCodeAt(0);
  const last = value.charCodeAt(n - 1);
  return first !== 0x20 && first !== 0x09 && last !== 0x20 && last !== 0x09;
}

/** Regular fields (after the pseudo-headers): names, values, connection-specific fields. */
function checkRegularField(f: FieldLine, isRequest: boolean): void {
  if (!isValidFieldName(f.name)) throw malformed(`invalid field name ${JSON.stringify(f.name)}`);
  if (!isValidFieldValue(f.value)) throw malformed(`invalid value of field ${f.name}`);
  if (CONNECTION_SPECIFIC.has(f.name)) throw malformed(`connection-specific field ${f.name}`);
  // RFC 9114 §4.2: TE is allowed in requests only, and only with "trailers".
  if (f.name === 'te' && (!isRequest || f.value.toLowerCase() !== 'trailers'))
    throw malformed('te other than trailers');
}

/** Split pseudo-headers (which must all come first) from regular fields. */
function splitPseudo(fields: readonly FieldLine[]): { pseudo: Map<string, string>; regular: FieldLine[] } {
  const pseudo = new Map<string, string>();
  const regular: FieldLine[] = [];
  for (const f of fields) {
    if (f.name.startsWith(':')) {
      if (regular.length > 0) throw malformed(`pseudo-header ${f.name} after regular fields`);
      if (pseudo.has(f.name)) throw malformed(`pseudo-header ${f.name} twice`);
      if (!isValidFieldValue(f.value)) throw malformed(`invalid value of ${f.name}`);
      pseudo.set(f.name, f.value);
    } else {
      regular.push(f);
    }
  }
  return { pseudo, regular };
}

const METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * A request header section (RFC 9114 §4.3.1). `extendedConnect`: we announced
 * SETTINGS_ENABLE_CONNECT_PROTOCOL, so :protocol is allowed (RFC 9220 §3). One pass, no Map or
 * array per request beyond the regular fields (it runs for every request a server reads). The
 * content-length is checked by the message reader (contentLengthOf), which reads it anyway.
 */
export function parseRequestHead(fields: readonly FieldLine[], extendedConnect: boolean): RequestHead {
  let method: string | undefined;
  let scheme: string | undefined;
  let authorityPseudo: string | undefined;
  let path: string | undefined;
  let protocol: string | undefined;
  let host: string | undefined;
  // RFC 9114 §4.3: pseudo-headers come first, each at most once.
  let k = 0;
  for (; k < fields.length; k++) {
    const f = fields[k]!;
    const name = f.name;
    if (name.charCodeAt(0) !== 0x3a /* ':' */) break;
    if (!isValidFieldValue(f.value)) throw malformed(`invalid value of ${name}`);
    const value = f.value;
    let twice = false;
    switch (name) {
      case ':method':
        twice = method !== undefined;
        method = value;
        break;
      case ':scheme':
        twice = scheme !== undefined;
        scheme = value;
        break;
      case ':authority':
        twice = authorityPseudo !== undefined;
        authorityPseudo = value;
        break;
      case ':path':
        twice = path !== undefined;
        path = value;
        break;
      case ':protocol':
        twice = protocol !== undefined;
        protocol = value;
        break;
      default:
        throw malformed(`pseudo-header ${name} not allowed in a request`);
    }
    if (twice) throw malformed(`pseudo-header ${name} twice`);
  }
  const regular = fields.slice(k);
  for (const f of regular) {
    if (f.name.charCodeAt(0) === 0x3a) throw malformed(`pseudo-header ${f.name} after regular fields`);
    checkRegularField(f, true);
    if (f.name === 'host') {
      if (host !== undefined) throw malformed('more than one host field');
      host = f.value;
    }
  }
  if (method === undefined || !METHOD.test(method)) throw malformed('missing or invalid :method');
  if (protocol !== undefined && (!extendedConnect || method !== 'CONNECT')) {
    throw malformed(':protocol without Extended CONNECT');
  }
  if (method === 'CONNECT' && protocol === undefined) {
    // RFC 9114 §4.4: :scheme and :path omitted, :authority present.
    if (scheme !== undefined || path !== undefined) throw malformed('CONNECT with :scheme or :path');
    if (!authorityPseudo) throw malformed('CONNECT without :authority');
  } else {
    if (scheme === undefined || scheme.length === 0) throw malformed('missing :scheme');
    if (path === undefined || path.length === 0) throw malformed('missing or empty :path');
    if (isHttpScheme(scheme)) {
      // RFC 9114 §4.3.1: an authority is mandatory; :authority and Host non-empty and equal.
      if (authorityPseudo === undefined && host === undefined) throw malformed('no :authority or host');
      if (authorityPseudo !== undefined && authorityPseudo.length === 0) throw malformed('empty :authority');
      if (host !== undefined && host.length === 0) throw malformed('empty host');
      if (authorityPseudo !== undefined && host !== undefined && authorityPseudo !== host) {
        throw malformed(':authority and host differ');
      }
      if ((authorityPseudo ?? host ?? '').includes('@')) throw malformed('userinfo in :authority');
      if (path !== '*' && path.charCodeAt(0) !== 0x2f /* '/' */) throw malformed(':path is not absolute');
      if (path === '*' && method !== 'OPTIONS') throw malformed(':path * outside OPTIONS');
    }
  }
  return { method, scheme, authority: authorityPseudo ?? host, path, protocol, fields: regular };
}

/** 'http' or 'https' in any case (RFC 9110 §4.2.3: schemes are case-insensitive). */
function isHttpScheme(scheme: string): boolean {
  if (scheme === 'https' || scheme === 'http') return true;
  const lower = scheme.toLowerCase();
  return lower === 'https' || lower === 'http';
}

/** A response header section (RFC 9114 §4.3.2): exactly :status, three digits, not 101. */
export function parseResponseHead(fields: readonly FieldLine[]): ResponseHead {
  const { pseudo, regular } = splitPseudo(fields);
  for (const name of pseudo.keys())
    if (name !== ':status') throw malformed(`pseudo-header ${name} in a response`);
  for (const f of regular) checkRegularField(f, false);
  const s = pseudo.get(':status');
  if (s === undefined || !/^[1-5][0-9][0-9]$/.test(s)) throw malformed('missing or invalid :status');
  const status = Number(s);
  // RFC 9114 §4.5: 101 (Switching Protocols) does not apply to HTTP/3.
  if (status === 101) throw malformed('101 Switching Protocols');
  checkContentLength(regular);
  return { status, fields: regular };
}

/** A trailer section (RFC 9114 §4.1): no pseudo-headers. */
export function checkTrailers(fields: readonly FieldLine[]): FieldLine[] {
  for (const f of fields) {
    if (f.name.startsWith(':')) throw malformed(`pseudo-header ${f.name} in trailers`);
    checkRegularField(f, false);
  }
  return [...fields];
}

/**
 * The declared content length (RFC 9110 §8.6): undefined when absent; several fields or a
 * comma-separated list are allowed only when every value is the same.
 */
export function contentLengthOf(fields: readonly FieldLine[]): number | undefined {
  let length: number | undefined;
  for (const f of fields) {
    if (f.name !== 'content-length') continue;
    for (const part of f.value.split(',')) {
      const v = part.trim();
      if (!/^[0-9]{1,15}$/.test(v)) throw malformed(`invalid content-length ${JSON.stringify(f.value)}`);
      const n = Number(v);
      if (length !== undefined && length !== n) throw malformed('conflicting content-length values');
      length = n;
    }
  }
  return length;
}

function checkContentLength(fields: readonly FieldLine[]): void {
  contentLengthOf(fields);
}
