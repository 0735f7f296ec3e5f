/**
 * Field sections we send (RFC 9114 §4.2, §4.3): names lowercased, connection-specific fields
 * dropped (they must never be generated), invalid names or values refused with a typed error
 * before anything reaches the wire.
 */
import { Http3UsageError } from './errors.js';
import type { FieldLine } from './field-codec.js';
import { isValidFieldName, isValidFieldValue } from './message-validation.js';

const CONNECTION_SPECIFIC = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]);

/** Regular fields ready to send. Throws Http3UsageError(ERR_HTTP3_INVALID_HEADER). */
export function outgoingFields(fields: Iterable<FieldLine>, isRequest: boolean): FieldLine[] {
  const out: FieldLine[] = [];
  for (const f of fields) {
    const name = f.name.toLowerCase();
    if (CONNECTION_SPECIFIC.has(name) || name === 'host') continue;
    if (name === 'te' && (!isRequest || f.value.toLowerCase() !== 'trailers')) continue;
    if (!isValidFieldName(name)) {
      throw new Http3UsageError('ERR_HTTP3_INVALID_HEADER', `invalid header name ${JSON.stringify(f.name)}`);
    }
    const value = f.value.trim();
    // Fields are octets, one per UTF-16 code unit (latin1), as in node:http.
    if (!isValidFieldValue(value) || !isLatin1(value)) {
      throw new Http3UsageError(
        'ERR_HTTP3_INVALID_HEADER',
        `invalid value for header ${JSON.stringify(f.name)}`,
      );
    }
    out.push(f.neverIndex ? { name, value, neverIndex: true } : { name, value });
  }
  return out;
}

function isLatin1(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return false;
  return true;
}
