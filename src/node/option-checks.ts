/**
 * Validation of every public option, before anything is bound or opened (issue 11): a bad option
 * throws a TypeError or RangeError with Node's `code` (validation-errors.ts), or a TlsConfigError for
 * unusable certificates and keys, and leaves no socket or file behind. The files the options name
 * (keylog, qlogDir) are opened or created here too, so that a bad path fails the call that named it.
 */
import { constants } from 'node:fs';
import { access, mkdir, open } from 'node:fs/promises';
import { resolveTransportOptions } from '../connection/connection-options.js';
import { CipherSuite } from '../crypto/cipher-suite.js';
import { FileAccessError } from '../errors/public-errors.js';
import { cachedTrustStore } from '../tls/certificate-verifier.js';
import type { NamedGroupName } from '../tls/types.js';
import { parseTarget } from './address.js';
import type { ClientOptions, CommonOptions, ServerOptions } from './options.js';
import { transportOptions } from './options.js';
import { invalidArgType, invalidArgValue, outOfRange } from './validation-errors.js';

/** Node's timers hold at most 2^31 - 1 ms; a longer timeout would fire at once, again and again. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const MAX_VARINT = Number.MAX_SAFE_INTEGER;
const GROUPS: readonly NamedGroupName[] = ['x25519', 'secp256r1', 'secp384r1'];
const CIPHER_SUITES = new Set<number>([
  CipherSuite.AES_128_GCM_SHA256,
  CipherSuite.AES_256_GCM_SHA384,
  CipherSuite.CHACHA20_POLY1305_SHA256,
]);

type Bag = Record<string, unknown>;

function optionsObject(options: unknown, fn: string): Bag {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalidArgType('options', `an object (the options of ${fn}())`, options);
  }
  return options as Bag;
}

// The checks take the option's value, read by the caller as a named property (o.idleTimeout): a
// load whose inline cache learns the options' shape, where o[name] with a variable name is a
// megamorphic lookup per call, ~14 us of every dial's CPU in all (issue 13).
function integer(name: string, v: unknown, min: number, max: number): void {
  if (v === undefined) return;
  if (typeof v !== 'number') throw invalidArgType(`options.${name}`, 'of type number', v);
  if (!Number.isInteger(v) || v < min || v > max) {
    throw outOfRange(`options.${name}`, `an integer >= ${min} and <= ${max}`, v);
  }
}

function boolean(name: string, v: unknown): void {
  if (v !== undefined && typeof v !== 'boolean')
    throw invalidArgType(`options.${name}`, 'of type boolean', v);
}

function nonEmptyString(name: string, v: unknown): void {
  if (v === undefined) return;
  if (typeof v !== 'string') throw invalidArgType(`options.${name}`, 'of type string', v);
  if (v.length === 0) throw invalidArgValue(`options.${name}`, v, 'must not be empty');
}

function bytes(name: string, v: unknown, check: (length: number) => boolean, what: string): void {
  if (v === undefined) return;
  if (!(v instanceof Uint8Array)) throw invalidArgType(`options.${name}`, 'a Buffer or Uint8Array', v);
  if (!check(v.length)) throw invalidArgValue(`options.${name}`, v, `must be ${what}`);
}

function pemInput(name: string, v: unknown): void {
  if (typeof v !== 'string' && !(v instanceof Uint8Array)) {
    throw invalidArgType(`options.${name}`, 'a PEM string or a Buffer', v);
  }
}

/** QUIC requires ALPN (RFC 9001 §8.1): a non-empty list of 1..255-byte protocol names. */
function alpnList(o: Bag): void {
  const v = o.alpn;
  if (!Array.isArray(v))
    throw invalidArgType('options.alpn', 'an array of protocol names (QUIC requires ALPN)', v);
  if (v.length === 0)
    throw invalidArgValue('options.alpn', v, 'must name at least one protocol (QUIC requires ALPN)');
  for (const p of v) {
    if (typeof p !== 'string') throw invalidArgType('options.alpn[]', 'of type string', p);
    const n = Buffer.byteLength(p);
    if (n === 0 || n > 255) throw invalidArgValue('options.alpn[]', p, 'must be 1 to 255 bytes long');
  }
}

function checkCommon(o: Bag): void {
  integer('idleTimeout', o.idleTimeout, 0, MAX_TIMER_MS);
  integer('handshakeTimeout', o.handshakeTimeout, 1, MAX_TIMER_MS);
  integer('keepAlive', o.keepAlive, 0, MAX_TIMER_MS);
  integer('initialMaxData', o.initialMaxData, 0, MAX_VARINT);
  integer('initialMaxStreamData', o.initialMaxStreamData, 0, MAX_VARINT);
  integer('maxConnectionWindow', o.maxConnectionWindow, 0, MAX_VARINT);
  integer('maxStreamWindow', o.maxStreamWindow, 0, MAX_VARINT);
  integer('maxStreamsBidi', o.maxStreamsBidi, 0, 2 ** 50);
  integer('maxStreamsUni', o.maxStreamsUni, 0, 2 ** 50);
  integer('sendBufferSize', o.sendBufferSize, 1, MAX_VARINT);
  integer('connectionSendBufferSize', o.connectionSendBufferSize, 1, MAX_VARINT);
  integer('maxDatagramSize', o.maxDatagramSize, 1200, 16383);
  const pmtu = o.pmtuDiscoveryMax;
  if (pmtu !== undefined && pmtu !== 0) {
    if (typeof pmtu !== 'number') throw invalidArgType('options.pmtuDiscoveryMax', 'of type number', pmtu);
    if (!Number.isInteger(pmtu) || pmtu < 1200 || pmtu > 16383) {
      throw outOfRange('options.pmtuDiscoveryMax', '0 or an integer >= 1200 and <= 16383', pmtu);
    }
  }
  integer('keyUpdateInterval', o.keyUpdateInterval, 1, MAX_VARINT);
  integer('initialCongestionWindow', o.initialCongestionWindow, 2, 1000);
  integer('socketBufferSize', o.socketBufferSize, 1, 2 ** 31 - 1);
  integer('maxDatagramFrameSize', o.maxDatagramFrameSize, 0, MAX_VARINT);
  // An application error code is a varint (RFC 9000 §20.2); a JavaScript number is exact to 2^53 - 1.
  integer('defaultStreamErrorCode', o.defaultStreamErrorCode, 0, MAX_VARINT);
  const cc = o.congestionControl;
  if (cc !== undefined && cc !== 'cubic' && cc !== 'newreno') {
    throw invalidArgValue('options.congestionControl', cc, "must be 'cubic' or 'newreno'");
  }
  const suites = o.cipherSuites;
  if (suites !== undefined) {
    if (!Array.isArray(suites) || suites.length === 0) {
      throw invalidArgValue(
        'options.cipherSuites',
        suites,
        'must be a non-empty array of CipherSuite values',
      );
    }
    for (const s of suites) {
      if (typeof s !== 'number' || !CIPHER_SUITES.has(s)) {
        throw invalidArgValue(
          'options.cipherSuites[]',
          s,
          'must be a CipherSuite (TLS_AES_128_GCM_SHA256, ...)',
        );
      }
    }
  }
  const groups = o.groups;
  if (groups !== undefined) {
    if (!Array.isArray(groups) || groups.length === 0) {
      throw invalidArgValue('options.groups', groups, `must be a non-empty array of ${GROUPS.join(', ')}`);
    }
    for (const g of groups) {
      if (!GROUPS.includes(g as NamedGroupName)) {
        throw invalidArgValue('options.groups[]', g, `must be one of ${GROUPS.join(', ')}`);
      }
    }
  }
  const keylog = o.keylog;
  if (keylog !== undefined) {
    if (typeof keylog === 'string') {
      if (keylog.length === 0) throw invalidArgValue('options.keylog', keylog, 'must not be empty');
    } else if (typeof (keylog as { write?: unknown } | null)?.write !== 'function') {
      throw invalidArgType('options.keylog', 'a file path or a writable stream', keylog);
    }
  }
  nonEmptyString('qlogDir', o.qlogDir);
  // Rules between options (window ceilings above initial windows, ...): the core's own check.
  try {
    resolveTransportOptions(transportOptions(o as CommonOptions, false));
  } catch (err) {
    if (err instanceof RangeError)
      throw outOfRange('options', err.message.replace(/^invalid transport option: /, ''), o);
    throw err;
  }
}

/** Every option of listen()/listenEarly(), synchronously (no file is touched). */
export function checkServerOptions(options: unknown, fn = 'listen'): asserts options is ServerOptions {
  const o = optionsObject(options, fn);
  checkCommon(o);
  alpnList(o);
  nonEmptyString('host', o.host);
  integer('port', o.port, 0, 65535);
  if (o.cert === undefined || o.key === undefined) {
    throw invalidArgType(
      o.cert === undefined ? 'options.cert' : 'options.key',
      'a PEM string or a Buffer',
      undefined,
    );
  }
  pemInput('cert', o.cert);
  pemInput('key', o.key);
  const allow = o.allow0RTT;
  if (allow !== undefined && typeof allow !== 'boolean' && typeof allow !== 'function') {
    throw invalidArgType('options.allow0RTT', 'a boolean or a function', allow);
  }
  boolean('retry', o.retry);
  bytes('ticketKey', o.ticketKey, (n) => n >= 32, 'at least 32 bytes long (32 are used)');
  integer('ticketLifetime', o.ticketLifetime, 1, 604800);
  bytes('tokenKey', o.tokenKey, (n) => n === 32, '32 bytes long');
  bytes('statelessResetKey', o.statelessResetKey, (n) => n >= 16, 'at least 16 bytes long');
  const store = o.replayStore;
  if (store !== undefined && typeof (store as { claim?: unknown } | null)?.claim !== 'function') {
    throw invalidArgType('options.replayStore', 'an EarlyDataReplayStore (an object with claim())', store);
  }
  integer('maxHalfOpen', o.maxHalfOpen, 1, 2 ** 31 - 1);
  integer('retryThreshold', o.retryThreshold, 0, 2 ** 31 - 1);
  integer('maxConnections', o.maxConnections, 1, 2 ** 31 - 1);
}

/** The target and every option of dial()/dialEarly(), synchronously. */
export function checkClientOptions(
  target: unknown,
  options: unknown,
  fn = 'dial',
): asserts options is ClientOptions {
  parseTarget(target as Parameters<typeof parseTarget>[0]);
  const o = optionsObject(options, fn);
  checkCommon(o);
  alpnList(o);
  nonEmptyString('serverName', o.serverName);
  const ca = o.ca;
  if (ca !== undefined) {
    const list = Array.isArray(ca) ? ca : [ca];
    for (const c of list) {
      if (typeof c !== 'string' && !(c instanceof Uint8Array)) {
        throw invalidArgType('options.ca', 'PEM strings or Buffers', c);
      }
    }
    // Parsed now (and cached for the handshake): a bad CA fails here, not at the first connection.
    cachedTrustStore(list as Array<string | Uint8Array>);
  }
  boolean('insecureSkipVerify', o.insecureSkipVerify);
  const cache = o.sessionCache as { saveSession?: unknown; takeSession?: unknown } | null | undefined;
  if (
    cache !== undefined &&
    (typeof cache?.saveSession !== 'function' || typeof cache.takeSession !== 'function')
  ) {
    throw invalidArgType('options.sessionCache', 'a SessionStore (saveSession() and takeSession())', cache);
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw invalidArgType('options.signal', 'an AbortSignal', o.signal);
  }
  nonEmptyString('localHost', o.localHost);
  integer('localPort', o.localPort, 0, 65535);
}

/** The options of QuicEndpoint.bind(). */
export function checkBindOptions(options: unknown): void {
  const o = optionsObject(options, 'QuicEndpoint.bind');
  nonEmptyString('host', o.host);
  integer('port', o.port, 0, 65535);
  integer('socketBufferSize', o.socketBufferSize, 1, 2 ** 31 - 1);
}

/**
 * The files the options name, before anything is bound: the key log is opened for appending (mode
 * 0600) and the qlog directory created. Throws FileAccessError when either is impossible.
 */
export async function prepareFiles(o: CommonOptions): Promise<void> {
  if (typeof o.keylog === 'string') {
    const path = o.keylog;
    try {
      const handle = await open(path, 'a', 0o600);
      await handle.close();
    } catch (err) {
      throw new FileAccessError('keylog', path, err);
    }
  }
  if (o.qlogDir !== undefined) {
    const dir = o.qlogDir;
    try {
      await mkdir(dir, { recursive: true });
      await access(dir, constants.W_OK);
    } catch (err) {
      throw new FileAccessError('qlogDir', dir, err);
    }
  }
}
