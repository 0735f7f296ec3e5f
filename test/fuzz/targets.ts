/**
 * Fuzz targets: every decoder that untrusted bytes reach (issue 10), each with the only outcomes
 * allowed: a value, or the typed error with the code its RFC prescribes.
 */
import type { Connection } from '../../src/connection/connection.js';
import { deriveInitialKeys } from '../../src/crypto/packet-keys.js';
import { Endpoint } from '../../src/endpoint/endpoint.js';
import { QuicTransportError, TransportErrorCode } from '../../src/errors/transport-error.js';
import { H3ClientSession } from '../../src/http3/client-session.js';
import { H3ErrorCode } from '../../src/http3/error-codes.js';
import { FrameReader } from '../../src/http3/frame-reader.js';
import { H3ProtocolError } from '../../src/http3/h3-protocol-error.js';
import { PeerControlStream } from '../../src/http3/peer-control-stream.js';
import {
  QPACK_DECOMPRESSION_FAILED,
  QPACK_ENCODER_STREAM_ERROR,
  QpackDecoder,
  QpackError,
} from '../../src/http3/qpack/index.js';
import { qpackCodec } from '../../src/http3/qpack-codec.js';
import { H3ServerSession } from '../../src/http3/server-session.js';
import { settingsFromEntries } from '../../src/http3/settings.js';
import { TlsAlertError } from '../../src/tls/alert.js';
import { DerDecodeError, parseDer, readCertificateInfo } from '../../src/tls/der.js';
import {
  decodeAlpn,
  decodeServerName,
  decodeSupportedGroups,
  decodeSupportedVersionsClient,
  decodeSupportedVersionsServer,
} from '../../src/tls/extensions.js';
import { decodeCertificate } from '../../src/tls/messages/certificate.js';
import { decodeCertificateRequest } from '../../src/tls/messages/certificate-request.js';
import { decodeCertificateVerify } from '../../src/tls/messages/certificate-verify.js';
import { decodeClientHello } from '../../src/tls/messages/client-hello.js';
import { decodeEncryptedExtensions } from '../../src/tls/messages/encrypted-extensions.js';
import { decodeFinished } from '../../src/tls/messages/finished.js';
import { decodeNewSessionTicket } from '../../src/tls/messages/new-session-ticket.js';
import { decodeServerHello } from '../../src/tls/messages/server-hello.js';
import { TlsClient } from '../../src/tls/tls-client.js';
import { TlsServer } from '../../src/tls/tls-server.js';
import { EncryptionLevel } from '../../src/tls/types.js';
import { BufferWriter } from '../../src/wire/buffer-writer.js';
import { splitDatagram } from '../../src/wire/coalesced.js';
import { decodeFrames, encodeFrame } from '../../src/wire/frame-codec.js';
import {
  PacketParseError,
  PacketType,
  parseInvariantHeader,
  parsePacket,
} from '../../src/wire/packet-header.js';
import { decodeTransportParameters } from '../../src/wire/transport-parameters.js';
import { QUIC_V1 } from '../../src/wire/version.js';
import { forge1Rtt, sealLong } from '../hostile/forge.js';
import { DEFAULT_START_TIME, Prng, seededRandomBytes } from '../sim/network.js';
import { CLIENT_ADDRESS, QuicSim, simPki } from '../sim/quic-harness.js';
import { FakeTransport } from '../unit/http3/fake-transport.js';
import { clientConfig, NOW, seededRandom, serverConfig, testPki } from '../unit/tls/helpers.js';
import type { FuzzTarget } from './engine.js';

/** A violation: the input produced something other than a value or the prescribed typed error. */
export class FuzzFinding extends Error {
  override readonly name = 'FuzzFinding';
}

function allow(fn: () => void, ok: (err: unknown) => boolean): void {
  try {
    fn();
  } catch (err) {
    if (ok(err)) return;
    throw err;
  }
}

const transportCode =
  (...codes: number[]) =>
  (err: unknown) =>
    err instanceof QuicTransportError && codes.includes(err.errorCode);

const packetHeader: FuzzTarget = {
  name: 'packet-header',
  description: 'a UDP datagram into the header parsers (RFC 9000 §17, RFC 8999): values or PacketParseError',
  run(input) {
    allow(
      () => parseInvariantHeader(input, 0, 8),
      (e) => e instanceof PacketParseError,
    );
    allow(
      () => parsePacket(input, 0, 8),
      (e) => e instanceof PacketParseError,
    );
    for (const p of splitDatagram(input, 8)) {
      if (p.packetEnd > input.length || p.packetStart < 0)
        throw new FuzzFinding('packet outside the datagram');
    }
  },
};

const frames: FuzzTarget = {
  name: 'frames',
  description:
    'a decrypted packet payload into decodeFrames (RFC 9000 §12.4, §19): frames that encode again, or FRAME_ENCODING_ERROR / PROTOCOL_VIOLATION',
  run(input) {
    allow(
      () => {
        const decoded = decodeFrames(input);
        const w = BufferWriter.alloc(input.length * 2 + 64);
        // Every decoded value must be encodable again (a RESET_STREAM echoes a STOP_SENDING code...).
        for (const f of decoded) {
          try {
            encodeFrame(w, f);
          } catch (err) {
            throw new FuzzFinding(`decoded frame does not encode again: ${String(err)}`);
          }
        }
      },
      transportCode(TransportErrorCode.FRAME_ENCODING_ERROR, TransportErrorCode.PROTOCOL_VIOLATION),
    );
  },
};

const transportParameters: FuzzTarget = {
  name: 'transport-parameters',
  description:
    'quic_transport_parameters from either side (RFC 9000 §18): values or TRANSPORT_PARAMETER_ERROR',
  run(input) {
    for (const sender of ['client', 'server'] as const) {
      allow(
        () => decodeTransportParameters(input, sender),
        transportCode(TransportErrorCode.TRANSPORT_PARAMETER_ERROR),
      );
    }
  },
};

const TLS_DECODERS: Array<(b: Uint8Array) => unknown> = [
  decodeClientHello,
  decodeServerHello,
  decodeEncryptedExtensions,
  decodeCertificate,
  decodeCertificateRequest,
  decodeCertificateVerify,
  (b) => decodeFinished(b, 32),
  decodeNewSessionTicket,
  decodeServerName,
  decodeAlpn,
  decodeSupportedVersionsClient,
  decodeSupportedVersionsServer,
  decodeSupportedGroups,
];

const tlsMessages: FuzzTarget = {
  name: 'tls-messages',
  description:
    'a TLS 1.3 handshake message body or extension (RFC 8446 §4), first byte picks the decoder: values or TlsAlertError',
  run(input) {
    if (input.length === 0) return;
    const decode = TLS_DECODERS[input[0]! % TLS_DECODERS.length]!;
    allow(
      () => decode(input.subarray(1)),
      (e) => e instanceof TlsAlertError,
    );
  },
};

const tlsPki = testPki();
let serverFlight: { serverHello: Uint8Array } | undefined;

const tlsEngine: FuzzTarget = {
  name: 'tls-engine',
  description:
    'handshake bytes into the TLS engines: a server at Initial (ClientHello), a client at Initial (ServerHello) and, after a real ServerHello, at Handshake: TlsAlertError (or QuicTransportError from the transport parameters) or waiting',
  maxLength: 3000,
  run(input) {
    if (input.length === 0) return;
    const mode = input[0]! % 3;
    const body = input.subarray(1);
    const ok = (e: unknown) =>
      e instanceof TlsAlertError ||
      (e instanceof QuicTransportError && e.errorCode === TransportErrorCode.TRANSPORT_PARAMETER_ERROR);
    if (mode === 0) {
      const server = new TlsServer(serverConfig(tlsPki, { random: seededRandom('fuzz-server') }));
      allow(() => server.receive(EncryptionLevel.Initial, body, NOW), ok);
      return;
    }
    const client = new TlsClient(clientConfig(tlsPki, { random: seededRandom('fuzz-client') }));
    client.start(NOW);
    if (mode === 1) {
      allow(() => client.receive(EncryptionLevel.Initial, body, NOW), ok);
      return;
    }
    if (!serverFlight) {
      const c = new TlsClient(clientConfig(tlsPki, { random: seededRandom('fuzz-client') }));
      c.start(NOW);
      const s = new TlsServer(serverConfig(tlsPki, { random: seededRandom('fuzz-server') }));
      s.receive(EncryptionLevel.Initial, c.takeOutput()!.data, NOW);
      serverFlight = { serverHello: Uint8Array.from(s.takeOutput()!.data) };
    }
    client.receive(EncryptionLevel.Initial, serverFlight.serverHello, NOW);
    allow(() => client.receive(EncryptionLevel.Handshake, body, NOW), ok);
    if (client.handshakeComplete) throw new FuzzFinding('a forged server flight completed the handshake');
  },
};

const der: FuzzTarget = {
  name: 'der-x509',
  description: 'DER and X.509 certificates (RFC 5280, X.690): values or DerDecodeError',
  maxLength: 4000,
  run(input) {
    const ok = (e: unknown) => e instanceof DerDecodeError;
    allow(() => parseDer(input), ok);
    allow(() => readCertificateInfo(input), ok);
  },
};

const qpack: FuzzTarget = {
  name: 'qpack',
  description:
    "QPACK (RFC 9204): first byte picks field section or encoder stream, with a dynamic table: values or QpackError with the input's code",
  run(input) {
    if (input.length === 0) return;
    const d = new QpackDecoder({ maxTableCapacity: 4096, maxBlockedStreams: 4, maxFieldSectionSize: 16_384 });
    const body = input.subarray(1);
    const codeOk = (code: number) => (e: unknown) => e instanceof QpackError && e.h3Code === code;
    if (input[0]! & 1) {
      allow(() => d.onEncoderStreamData(body), codeOk(QPACK_ENCODER_STREAM_ERROR));
    } else {
      // A table with entries to refer to, then the field section.
      d.onEncoderStreamData(Uint8Array.from(Buffer.from('3fe11fc00f7777772e6578616d706c652e636f6d', 'hex')));
      allow(() => d.decode(0, body), codeOk(QPACK_DECOMPRESSION_FAILED));
    }
  },
};

const http3: FuzzTarget = {
  name: 'http3-frames',
  description:
    'an HTTP/3 control stream (RFC 9114 §7), read in two pieces by the frame reader and the control-stream rules: values or H3ProtocolError',
  run(input) {
    if (input.length === 0) return;
    const role = input[0]! & 1 ? 'client' : 'server';
    const cut = input.length > 1 ? 1 + (input[1]! % input.length) : 1;
    const control = new PeerControlStream(role, {
      onSettings: () => {},
      onGoaway: () => {},
    });
    allow(
      () => {
        control.push(input.subarray(1, cut));
        control.push(input.subarray(cut));
      },
      (e) => e instanceof H3ProtocolError,
    );
    // The same bytes as a request stream's frames, SETTINGS payloads interpreted on the way.
    const reader = new FrameReader(() => {});
    allow(
      () => {
        reader.push(input.subarray(1));
        for (let it = reader.next(); it; it = reader.next()) {
          if (it.kind === 'frame' && it.frame.type === 4) settingsFromEntries(it.frame.entries);
        }
      },
      (e) => e instanceof H3ProtocolError,
    );
  },
};

/** Every HTTP/3 and QPACK code that names a peer's fault; H3_INTERNAL_ERROR would be an exception of ours. */
const H3_PEER_FAULT_CODES = new Set(
  Object.values(H3ErrorCode).filter(
    (v): v is number => typeof v === 'number' && v !== H3ErrorCode.H3_INTERNAL_ERROR,
  ),
);

/**
 * Input: role byte, then records [stream selector, flags, length, bytes...]: bytes on a peer stream
 * (flags bit 0: FIN), a RESET_STREAM (bit 1) or a STOP_SENDING (bit 2) with the length as code.
 */
const http3Session: FuzzTarget = {
  name: 'http3-session',
  description:
    "a whole HTTP/3 session (client or server, real QPACK) fed stream bytes, resets and STOP_SENDINGs: no exception; a close carries an HTTP/3 or QPACK code of the peer's fault",
  run(input) {
    if (input.length === 0) return;
    const role = input[0]! & 1 ? 'client' : 'server';
    const t = new FakeTransport(role);
    const session =
      role === 'server'
        ? new H3ServerSession(t, {
            codec: qpackCodec,
            random: (n) => new Uint8Array(n).fill(9),
            onRequest: (ex) => {
              ex.deliverTo({
                onData() {},
                onTrailers() {},
                onEnd: () => ex.respond(200, [], true),
                onAborted() {},
                onWritable() {},
              });
            },
          })
        : new H3ClientSession(t, { codec: qpackCodec, random: (n) => new Uint8Array(n).fill(9) });
    t.deliverTo(session.conn);
    const finished = new Set<number>();
    for (let o = 1; o + 3 <= input.length; ) {
      const sel = input[o]! % 12;
      const flags = input[o + 1]!;
      const len = input[o + 2]!;
      const data = input.subarray(o + 3, o + 3 + len);
      o += 3 + len;
      // Peer streams: a server's peer opens 0,4,8 (bidi) and 2,6,10 (uni); a client's peer 3,7,11 (uni).
      const id = role === 'server' ? sel : sel | 1;
      if (flags & 2) t.events.onStreamReset(id, len);
      else if (flags & 4) t.events.onStopSending(id, len);
      else if (!finished.has(id)) {
        if (flags & 1) finished.add(id);
        t.peerSend(id, data, (flags & 1) === 1);
      }
    }
    if (t.closed && !H3_PEER_FAULT_CODES.has(t.closed.code)) {
      throw new FuzzFinding(`closed with 0x${t.closed.code.toString(16)}: ${t.closed.reason}`);
    }
  },
};

// ---------------------------------------------------------------------------------------------
// The whole server: datagrams into an Endpoint (sans-IO), three ways in.

interface ServerRig {
  sim: QuicSim;
  attacker: ReturnType<QuicSim['dial']>;
  victim: ReturnType<QuicSim['dial']>;
  uses: number;
}

let rig: ServerRig | undefined;

function freshRig(): ServerRig {
  const sim = new QuicSim({ seed: 77 });
  const attacker = sim.dial();
  const victim = sim.handshake(attacker);
  sim.net.removeNode(CLIENT_ADDRESS);
  return { sim, attacker, victim, uses: 0 };
}

const serverPki = simPki();
const serverRandom = seededRandomBytes(new Prng(5));
const INITIAL_DCID = Uint8Array.of(0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08);
const INITIAL_KEYS = deriveInitialKeys(QUIC_V1, INITIAL_DCID);

function freshServerEndpoint(): Endpoint {
  return new Endpoint({
    random: serverRandom,
    server: {
      tls: {
        alpn: ['hq-interop', 'test'],
        identity: { certificateChain: serverPki.leaf.certPem, privateKey: serverPki.leaf.keyPem },
      },
    },
  });
}

/** Everything an endpoint does with a datagram: receive, answer, run its timers. */
function exercise(ep: Endpoint, datagram: Uint8Array, now: number): void {
  // Connections may end (and leave the endpoint) during the timers: check every one seen.
  const seen = new Set<Connection>();
  const look = () => {
    for (const c of ep.connections) seen.add(c);
  };
  ep.receive(datagram, CLIENT_ADDRESS, now);
  look();
  for (let i = 0; i < 1000 && ep.transmit(now); i++);
  look();
  const t = ep.nextTimeout();
  if (t !== undefined) {
    ep.handleTimeout(Math.max(now, t));
    look();
    for (let i = 0; i < 1000 && ep.transmit(Math.max(now, t)); i++);
  }
  for (const c of seen) {
    if (c.internalErrors.length > 0) throw new FuzzFinding(`internal error: ${String(c.internalErrors[0])}`);
    if (c.closeInfo?.errorCode === TransportErrorCode.INTERNAL_ERROR && c.closeInfo.source === 'local') {
      throw new FuzzFinding(`closed with INTERNAL_ERROR: ${c.closeInfo.reason}`);
    }
  }
}

const server: FuzzTarget = {
  name: 'server',
  description:
    'the whole server endpoint, sans-IO: first byte picks (0) a raw datagram, (1) an Initial payload sealed with valid Initial keys, (2) a 1-RTT payload on an established connection; no exception, no internal error, no INTERNAL_ERROR close',
  maxLength: 1400,
  run(input) {
    if (input.length === 0) return;
    const mode = input[0]! % 3;
    const body = input.subarray(1);
    const now = DEFAULT_START_TIME;
    if (mode === 0) {
      exercise(freshServerEndpoint(), body, now);
      return;
    }
    if (mode === 1) {
      const datagram = sealLong({
        type: PacketType.Initial,
        dcid: INITIAL_DCID,
        scid: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8),
        keys: INITIAL_KEYS.client,
        packetNumber: 0,
        payload: body,
        datagramSize: 1200,
      });
      exercise(freshServerEndpoint(), datagram, now);
      return;
    }
    // 1-RTT: reuse one handshaken connection until it closes (a handshake per input is too slow).
    if (!rig || rig.victim.isClosed || rig.uses > 200) rig = freshRig();
    rig.uses++;
    if (body.length === 0) return;
    const datagram = forge1Rtt(rig.attacker, body);
    const ep = rig.sim.server;
    exercise(ep, datagram, rig.sim.now);
  },
};

export const TARGETS: FuzzTarget[] = [
  packetHeader,
  frames,
  transportParameters,
  tlsMessages,
  tlsEngine,
  der,
  qpack,
  http3,
  http3Session,
  server,
];
