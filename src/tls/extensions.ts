/**
 * TLS extensions (RFC 8446 §4.2): the generic extension block and the codecs of every extension the
 * engine speaks. Decoders reject trailing bytes and wrong lengths with decode_error, and duplicate
 * extensions with illegal_parameter (RFC 8446 §4.2: "There MUST NOT be more than one extension of the
 * same type in a given extension block").
 */
import { AlertDescription, TlsAlertError } from './alert.js';
import { ExtensionType } from './codepoints.js';
import { TlsReader } from './tls-reader.js';
import type { TlsWriter } from './tls-writer.js';

export interface Extension {
  type: number;
  data: Uint8Array;
}

/** A decoded extension block: lookup by type plus the order of appearance. */
export class ExtensionBlock {
  private readonly types: number[] = [];
  private readonly byType = new Map<number, Uint8Array>();

  add(type: number, data: Uint8Array): void {
    if (this.byType.has(type)) {
      throw new TlsAlertError(AlertDescription.illegal_parameter, `duplicate extension ${type}`);
    }
    this.byType.set(type, data);
    this.types.push(type);
  }

  get(type: number): Uint8Array | undefined {
    return this.byType.get(type);
  }

  has(type: number): boolean {
    return this.byType.has(type);
  }

  /** Extension types in the order they appeared. */
  get order(): readonly number[] {
    return this.types;
  }

  get size(): number {
    return this.types.length;
  }
}

/** Reads `Extension extensions<min..2^16-1>` (RFC 8446 §4.2). */
export function readExtensions(r: TlsReader, what: string, min = 0): ExtensionBlock {
  const block = new ExtensionBlock();
  const er = r.sub16(`${what} extensions`, min);
  while (!er.atEnd) {
    const type = er.u16('extension type');
    const data = er.vector16(`extension ${type}`);
    block.add(type, data);
  }
  return block;
}

export function writeExtensions(w: TlsWriter, exts: readonly Extension[]): void {
  w.vector(2, () => {
    for (const e of exts) {
      w.u16(e.type);
      w.vector16(e.data);
    }
  });
}

/**
 * RFC 8446 §4.2: an extension this implementation recognizes but that is not allowed in the message
 * -> illegal_parameter. `allowed` lists the recognized extensions that may appear.
 */
export function checkAllowedExtensions(
  block: ExtensionBlock,
  allowed: readonly number[],
  what: string,
): void {
  for (const type of block.order) {
    if (KNOWN_EXTENSIONS.has(type) && !allowed.includes(type)) {
      throw new TlsAlertError(AlertDescription.illegal_parameter, `extension ${type} not allowed in ${what}`);
    }
  }
}

/**
 * RFC 8446 §4.2: an endpoint receiving an extension response it did not request aborts with
 * unsupported_extension. `sent` holds the extension types of our request; a HelloRetryRequest may
 * carry an unrequested cookie (RFC 8446 §4.2.2).
 */
export function checkSolicitedExtensions(
  block: ExtensionBlock,
  sent: ReadonlySet<number>,
  what: string,
  allowCookie = false,
): void {
  for (const type of block.order) {
    if (sent.has(type) || (allowCookie && type === ExtensionType.cookie)) continue;
    throw new TlsAlertError(
      AlertDescription.unsupported_extension,
      `unsolicited extension ${type} in ${what}`,
    );
  }
}

const KNOWN_EXTENSIONS: ReadonlySet<number> = new Set(
  Object.values(ExtensionType).filter((v): v is number => typeof v === 'number'),
);

// ---- individual extension codecs ----------------------------------------------------------------

function reader(data: Uint8Array): TlsReader {
  return new TlsReader(data);
}

function decodeU16List(data: Uint8Array, lengthBytes: 1 | 2, what: string, minBytes: number): number[] {
  const r = reader(data);
  const lr = lengthBytes === 1 ? r.sub8(what, minBytes) : r.sub16(what, minBytes);
  r.expectEnd(what);
  if (lr.remaining % 2 !== 0) throw new TlsAlertError(AlertDescription.decode_error, `odd length ${what}`);
  const out: number[] = [];
  while (!lr.atEnd) out.push(lr.u16(what));
  return out;
}

function encodeU16List(values: readonly number[], lengthBytes: 1 | 2, w: TlsWriter): void {
  w.vector(lengthBytes, () => {
    for (const v of values) w.u16(v);
  });
}

/** RFC 6066 §3: ServerNameList with one host_name. The name is ASCII without a trailing dot. */
export function encodeServerName(w: TlsWriter, host: string): void {
  w.vector(2, () => {
    w.u8(0); // host_name
    w.vector16(Buffer.from(host, 'ascii'));
  });
}

/** Returns the host_name (lower case), or undefined when the list carries no host_name. */
export function decodeServerName(data: Uint8Array): string | undefined {
  const r = reader(data);
  const list = r.sub16('server_name list', 1);
  r.expectEnd('server_name');
  let host: string | undefined;
  while (!list.atEnd) {
    const nameType = list.u8('server name type');
    const name = list.vector16('server name', 1);
    if (nameType !== 0) continue;
    // RFC 6066 §3: at most one name of each type
    if (host !== undefined)
      throw new TlsAlertError(AlertDescription.illegal_parameter, 'two host_names in SNI');
    host = validateHostName(name);
  }
  return host;
}

function validateHostName(name: Uint8Array): string {
  for (const c of name) {
    // RFC 6066 §3: ASCII, no trailing dot; reject control characters and non-ASCII bytes.
    if (c <= 0x20 || c >= 0x7f) {
      throw new TlsAlertError(
        AlertDescription.illegal_parameter,
        'server_name is not a printable ASCII name',
      );
    }
  }
  const s = Buffer.from(name).toString('ascii');
  if (s.endsWith('.'))
    throw new TlsAlertError(AlertDescription.illegal_parameter, 'server_name ends with a dot');
  return s.toLowerCase();
}

/** RFC 7301 §3.1: ProtocolNameList protocol_name_list<2..2^16-1>, ProtocolName<1..2^8-1>. */
export function encodeAlpn(w: TlsWriter, protocols: readonly Uint8Array[]): void {
  w.vector(2, () => {
    for (const p of protocols) w.vector8(p);
  });
}

export function decodeAlpn(data: Uint8Array): Uint8Array[] {
  const r = reader(data);
  const list = r.sub16('ALPN list', 2);
  r.expectEnd('ALPN');
  const out: Uint8Array[] = [];
  while (!list.atEnd) out.push(list.vector8('ALPN protocol', 1));
  return out;
}

/** RFC 8446 §4.2.1 (ClientHello form). */
export function encodeSupportedVersionsClient(w: TlsWriter, versions: readonly number[]): void {
  encodeU16List(versions, 1, w);
}

export function decodeSupportedVersionsClient(data: Uint8Array): number[] {
  return decodeU16List(data, 1, 'supported_versions', 2);
}

/** RFC 8446 §4.2.1 (ServerHello / HelloRetryRequest form). */
export function decodeSupportedVersionsServer(data: Uint8Array): number {
  const r = reader(data);
  const v = r.u16('selected_version');
  r.expectEnd('supported_versions');
  return v;
}

/** RFC 8446 §4.2.7 */
export function encodeSupportedGroups(w: TlsWriter, groups: readonly number[]): void {
  encodeU16List(groups, 2, w);
}

export function decodeSupportedGroups(data: Uint8Array): number[] {
  return decodeU16List(data, 2, 'supported_groups', 2);
}

/** RFC 8446 §4.2.3 */
export function encodeSignatureAlgorithms(w: TlsWriter, schemes: readonly number[]): void {
  encodeU16List(schemes, 2, w);
}

export function decodeSignatureAlgorithms(data: Uint8Array): number[] {
  return decodeU16List(data, 2, 'signature_algorithms', 2);
}

export interface KeyShareEntry {
  group: number;
  keyExchange: Uint8Array;
}

/** RFC 8446 §4.2.8 KeyShareClientHello */
export function encodeKeyShareClient(w: TlsWriter, shares: readonly KeyShareEntry[]): void {
  w.vector(2, () => {
    for (const s of shares) {
      w.u16(s.group);
      w.vector16(s.keyExchange);
    }
  });
}

export function decodeKeyShareClient(data: Uint8Array): KeyShareEntry[] {
  const r = reader(data);
  const list = r.sub16('client_shares');
  r.expectEnd('key_share');
  const out: KeyShareEntry[] = [];
  const seen = new Set<number>();
  while (!list.atEnd) {
    const group = list.u16('key share group');
    const keyExchange = list.vector16('key_exchange', 1);
    // RFC 8446 §4.2.8: clients MUST NOT offer multiple KeyShareEntry values for the same group.
    if (seen.has(group))
      throw new TlsAlertError(AlertDescription.illegal_parameter, 'duplicate key share group');
    seen.add(group);
    out.push({ group, keyExchange });
  }
  return out;
}

/** RFC 8446 §4.2.8 KeyShareServerHello */
export function encodeKeyShareServer(w: TlsWriter, share: KeyShareEntry): void {
  w.u16(share.group);
  w.vector16(share.keyExchange);
}

export function decodeKeyShareServer(data: Uint8Array): KeyShareEntry {
  const r = reader(data);
  const group = r.u16('key share group');
  const keyExchange = r.vector16('key_exchange', 1);
  r.expectEnd('key_share');
  return { group, keyExchange };
}

/** RFC 8446 §4.2.8 KeyShareHelloRetryRequest */
export function decodeKeyShareHrr(data: Uint8Array): number {
  const r = reader(data);
  const group = r.u16('selected_group');
  r.expectEnd('key_share');
  return group;
}

/** RFC 8446 §4.2.9 */
export function encodePskModes(w: TlsWriter, modes: readonly number[]): void {
  w.vector(1, () => {
    for (const m of modes) w.u8(m);
  });
}

export function decodePskModes(data: Uint8Array): number[] {
  const r = reader(data);
  const modes = r.vector8('ke_modes', 1);
  r.expectEnd('psk_key_exchange_modes');
  return Array.from(modes);
}

/** RFC 8446 §4.2.2 */
export function decodeCookie(data: Uint8Array): Uint8Array {
  const r = reader(data);
  const cookie = r.vector16('cookie', 1);
  r.expectEnd('cookie');
  return cookie;
}

export function encodeCookie(w: TlsWriter, cookie: Uint8Array): void {
  w.vector16(cookie);
}

/** RFC 8446 §4.2.10: empty in ClientHello and EncryptedExtensions. */
export function expectEmptyExtension(data: Uint8Array, what: string): void {
  if (data.length !== 0) throw new TlsAlertError(AlertDescription.decode_error, `${what} must be empty`);
}

/** RFC 8446 §4.2.10: max_early_data_size in NewSessionTicket. */
export function decodeEarlyDataTicket(data: Uint8Array): number {
  const r = reader(data);
  const v = r.u32('max_early_data_size');
  r.expectEnd('early_data');
  return v;
}

export interface PskIdentity {
  identity: Uint8Array;
  obfuscatedTicketAge: number;
}

export interface OfferedPsks {
  identities: PskIdentity[];
  binders: Uint8Array[];
  /** Length of the binders list including its 2-byte length: Truncate() removes this many bytes. */
  bindersLength: number;
}

/** RFC 8446 §4.2.11 OfferedPsks */
export function decodeOfferedPsks(data: Uint8Array): OfferedPsks {
  const r = reader(data);
  const ids = r.sub16('PSK identities', 7);
  const identities: PskIdentity[] = [];
  while (!ids.atEnd) {
    const identity = ids.vector16('PSK identity', 1);
    const obfuscatedTicketAge = ids.u32('obfuscated_ticket_age');
    identities.push({ identity, obfuscatedTicketAge });
  }
  const bindersStart = r.offset;
  const bl = r.sub16('PSK binders', 33);
  const binders: Uint8Array[] = [];
  while (!bl.atEnd) binders.push(bl.vector8('PSK binder', 32));
  const bindersLength = r.offset - bindersStart;
  r.expectEnd('pre_shared_key');
  // RFC 8446 §4.2.11: one binder per identity.
  if (binders.length !== identities.length) {
    throw new TlsAlertError(AlertDescription.illegal_parameter, 'PSK identity and binder counts differ');
  }
  return { identities, binders, bindersLength };
}

/** Writes OfferedPsks with the given binders (zero-filled placeholders when computing binders). */
export function encodeOfferedPsks(
  w: TlsWriter,
  identities: readonly PskIdentity[],
  binders: readonly Uint8Array[],
): void {
  w.vector(2, () => {
    for (const id of identities) {
      w.vector16(id.identity);
      w.u32(id.obfuscatedTicketAge);
    }
  });
  w.vector(2, () => {
    for (const b of binders) w.vector8(b);
  });
}

/** RFC 8446 §4.2.11 (ServerHello form) */
export function decodeSelectedIdentity(data: Uint8Array): number {
  const r = reader(data);
  const v = r.u16('selected_identity');
  r.expectEnd('pre_shared_key');
  return v;
}
