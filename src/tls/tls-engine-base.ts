/**
 * What the client and server engines share (RFC 9001 §4.1): per-level input framing, queues of output
 * bytes and events, key log lines, and the error discipline — once the engine fails, every later call
 * throws the same typed error, and anything unexpected becomes an internal_error alert.
 */
import type { CipherSuite } from '../crypto/cipher-suite.js';
import { QuicTransportError } from '../errors/transport-error.js';
import type { RandomBytes } from '../util/random.js';
import type { Millis } from '../util/time.js';
import { AlertDescription, TlsAlertError } from './alert.js';
import { HandshakeType } from './codepoints.js';
import { HandshakeFramer, type HandshakeMessage } from './handshake-message-framing.js';
import { type KeyLogLabel, keyLogLine } from './key-log.js';
import { EncryptionLevel, type TlsEngine, type TlsEvent, type TlsOutput } from './types.js';

export type TlsEngineError = TlsAlertError | QuicTransportError;

function normalizeError(err: unknown): TlsEngineError {
  if (err instanceof TlsAlertError || err instanceof QuicTransportError) return err;
  const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new TlsAlertError(AlertDescription.internal_error, detail);
}

export abstract class TlsEngineBase implements TlsEngine {
  abstract readonly role: 'client' | 'server';
  protected readonly random: RandomBytes;
  private readonly keyLog: ((line: string) => void) | undefined;
  private readonly outputs: TlsOutput[] = [];
  private readonly events: TlsEvent[] = [];
  private readonly framers: HandshakeFramer[] = [
    new HandshakeFramer(),
    new HandshakeFramer(),
    new HandshakeFramer(),
    new HandshakeFramer(),
  ];
  private failure: TlsEngineError | undefined;
  /** ClientHello.random, for key log lines (set by recordClientRandom()). */
  private clientRandom: Uint8Array = new Uint8Array(0);

  constructor(random: RandomBytes, keyLog: ((line: string) => void) | undefined) {
    this.random = random;
    this.keyLog = keyLog;
  }

  /** The engine reached its Connected state (from which it never moves). */
  abstract get handshakeComplete(): boolean;

  /** ClientHello.random of this handshake: the key log names its secrets by it (NSS key log format). */
  protected recordClientRandom(random: Uint8Array): void {
    this.clientRandom = random;
  }

  protected get clientHelloRandom(): Uint8Array {
    return this.clientRandom;
  }

  abstract start(now: Millis): void;

  /** The level handshake bytes are read at now; undefined when none are expected. */
  protected abstract readLevel(): EncryptionLevel | undefined;

  /** Throws when a message of this type may not come next (checked as soon as its header arrives). */
  protected abstract checkMessageType(type: number): void;

  protected abstract handleMessage(msg: HandshakeMessage, now: Millis): void;

  /** Runs `fn`, turning any failure into a sticky typed error. */
  protected guard(fn: () => void): void {
    if (this.failure) throw this.failure;
    try {
      fn();
    } catch (err) {
      const e = normalizeError(err);
      this.failure = e;
      throw e;
    }
  }

  receive(level: EncryptionLevel, data: Uint8Array, now: Millis): void {
    this.guard(() => {
      if (data.length === 0) return;
      const expected = this.readLevel();
      if (level !== expected) {
        // RFC 9001 §4.1.3 / §8.3: handshake data at a level where none is expected (including any
        // CRYPTO data in 0-RTT).
        throw new TlsAlertError(
          AlertDescription.unexpected_message,
          `handshake data at ${EncryptionLevel[level] ?? level} level while ${
            expected === undefined ? 'expecting none' : `reading ${EncryptionLevel[expected]}`
          }`,
        );
      }
      const framer = this.framers[level]!;
      framer.push(data);
      for (;;) {
        const header = framer.header();
        if (!header) break;
        this.checkCommonType(header.type);
        this.checkMessageType(header.type);
        const msg = framer.take();
        if (!msg) break;
        this.handleMessage(msg, now);
        if (this.readLevel() !== level) {
          // RFC 9001 §4.1.3: no handshake data may remain at a level TLS has moved past.
          if (framer.buffered > 0) {
            throw new TlsAlertError(
              AlertDescription.unexpected_message,
              `unexpected handshake data after the last ${EncryptionLevel[level]} message`,
            );
          }
          break;
        }
      }
    });
  }

  private checkCommonType(type: number): void {
    // RFC 9001 §6: KeyUpdate is forbidden in QUIC; §8.3: EndOfEarlyData is never sent.
    if (type === HandshakeType.key_update || type === HandshakeType.end_of_early_data) {
      throw new TlsAlertError(
        AlertDescription.unexpected_message,
        `${HandshakeType[type]} message is not allowed in QUIC`,
      );
    }
  }

  protected unexpected(type: number, state: string): TlsAlertError {
    return new TlsAlertError(
      AlertDescription.unexpected_message,
      `unexpected ${HandshakeType[type] ?? `handshake message type ${type}`} in state ${state}`,
    );
  }

  takeOutput(): TlsOutput | undefined {
    return this.outputs.shift();
  }

  pollEvent(): TlsEvent | undefined {
    return this.events.shift();
  }

  protected send(level: TlsOutput['level'], data: Uint8Array): void {
    const n = this.outputs.length;
    const last = this.outputs[n - 1];
    if (last && last.level === level) {
      // One output per level in a row: the connection puts it in one CRYPTO frame run.
      this.outputs[n - 1] = { level, data: Buffer.concat([last.data, data]) };
    } else {
      this.outputs.push({ level, data });
    }
  }

  protected emit(event: TlsEvent): void {
    this.events.push(event);
  }

  protected emitSecret(
    level: EncryptionLevel.EarlyData | EncryptionLevel.Handshake | EncryptionLevel.Application,
    direction: 'read' | 'write',
    suite: CipherSuite,
    secret: Uint8Array,
    keyLogLabel: KeyLogLabel,
  ): void {
    this.events.push({ type: 'secret', level, direction, suite, secret });
    this.keyLog?.(keyLogLine(keyLogLabel, this.clientRandom, secret));
  }
}
