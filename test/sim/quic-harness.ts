/**
 * Runs tsquic client and server endpoints over the simulated network.
 */

import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import type { ClientTlsOptions, Connection, ServerTlsOptions } from '../../src/connection/connection.js';
import type { TransportOptions } from '../../src/connection/connection-options.js';
import { Endpoint, type EndpointConfig, type ServerEndpointOptions } from '../../src/endpoint/endpoint.js';
import {
  type CertificateKeyType,
  createTestPki,
  type GeneratedCertificate,
  type KeyPair,
} from '../../src/tls/x509-builder.js';
import type { Millis } from '../../src/util/time.js';
import {
  DEFAULT_START_TIME,
  type LinkConditions,
  SimNetwork,
  type SimNode,
  seededRandomBytes,
} from './network.js';

export const SERVER_ADDRESS = '10.0.0.1:4433';
export const CLIENT_ADDRESS = '10.0.0.2:50000';
export const SERVER_NAME = 'quic.test';

const pkiCache = new Map<string, { ca: GeneratedCertificate; leaf: GeneratedCertificate }>();

/**
 * An Ed25519 key pair derived from `label`: the same bytes in every process. Ed25519 signatures are
 * deterministic too (RFC 8032 §5.1.6), so with these keys a simulated handshake is byte-for-byte
 * repeatable (ECDSA takes its nonce from OpenSSL, so its signature length varies from run to run).
 */
export function fixedEd25519KeyPair(label: string): KeyPair {
  const seed = createHash('sha256').update(`tsquic simulator key: ${label}`).digest();
  // RFC 8410 §7: PrivateKeyInfo for Ed25519 is this 16-byte prefix followed by the 32-byte seed.
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  const privateKey = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/**
 * A CA and a server certificate valid around the simulator's clock, cached per key type. The default,
 * Ed25519 with fixed keys, makes every simulation repeatable from its seed alone.
 */
export function simPki(keyType: CertificateKeyType = 'ed25519') {
  let pki = pkiCache.get(keyType);
  if (!pki) {
    pki =
      keyType === 'ed25519'
        ? createTestPki({
            names: [SERVER_NAME],
            now: DEFAULT_START_TIME,
            keyType,
            keyPairs: { ca: fixedEd25519KeyPair('ca'), leaf: fixedEd25519KeyPair('leaf') },
          })
        : createTestPki({ names: [SERVER_NAME], now: DEFAULT_START_TIME, keyType });
    pkiCache.set(keyType, pki);
  }
  return pki;
}

/** An endpoint as a simulator node; `after` runs after every event (the application's turn). */
export class EndpointNode implements SimNode {
  constructor(
    readonly endpoint: Endpoint,
    private readonly after: () => void,
  ) {}

  receive(datagram: Uint8Array, from: string, now: Millis): void {
    this.endpoint.receive(datagram, from, now);
    this.after();
  }

  transmit(now: Millis) {
    return this.endpoint.transmit(now);
  }

  nextTimeout(): Millis | undefined {
    return this.endpoint.nextTimeout();
  }

  handleTimeout(now: Millis): void {
    this.endpoint.handleTimeout(now);
    this.after();
  }
}

export interface QuicSimOptions {
  seed: number;
  /** Conditions in both directions, or per direction. */
  link?: LinkConditions;
  up?: LinkConditions;
  down?: LinkConditions;
  /** Server endpoint options; `tls` is merged over the default identity and ALPN list. */
  server?: Partial<Omit<ServerEndpointOptions, 'tls'>> & { tls?: Partial<ServerTlsOptions> };
  serverTransport?: Partial<TransportOptions>;
  clientTransport?: Partial<TransportOptions>;
  keyType?: CertificateKeyType;
  /** Extra settings for the server endpoint (keys, ...). */
  serverEndpoint?: Partial<EndpointConfig>;
  /** Extra settings for the client endpoint (sources of work done ahead, ...). */
  clientEndpoint?: Partial<EndpointConfig>;
  trace?: EndpointConfig['trace'];
  recoveryTrace?: EndpointConfig['recoveryTrace'];
  /** Datagrams the network's trace keeps (default 10,000). */
  traceLimit?: number;
  pathTrace?: EndpointConfig['pathTrace'];
}

export class QuicSim {
  readonly net: SimNetwork;
  server: Endpoint;
  readonly client: Endpoint;
  readonly serverConnections: Connection[] = [];
  /** Called after every event on either side, so applications can react. */
  readonly appHooks: Array<() => void> = [];
  private readonly opts: QuicSimOptions;

  constructor(opts: QuicSimOptions) {
    this.opts = opts;
    this.net = new SimNetwork({ seed: opts.seed, traceLimit: opts.traceLimit });
    this.random = seededRandomBytes(this.net.prng.fork('endpoints'));
    this.server = this.createServer();
    this.client = new Endpoint({
      random: this.random,
      ...opts.clientEndpoint,
      transport: opts.clientTransport,
      ...(opts.trace ? { trace: opts.trace } : {}),
      ...(opts.pathTrace ? { pathTrace: opts.pathTrace } : {}),
      ...(opts.recoveryTrace ? { recoveryTrace: opts.recoveryTrace } : {}),
    });
    const hook = () => {
      this.collectServerConnections();
      for (const h of this.appHooks) h();
      // The applications may have written: let both endpoints look at every connection again.
      for (const c of this.client.connections) this.client.markActive(c);
      for (const c of this.server.connections) this.server.markActive(c);
    };
    this.hook = hook;
    this.net.addNode(SERVER_ADDRESS, new EndpointNode(this.server, hook));
    this.clientNode = new EndpointNode(this.client, hook);
    this.net.addNode(CLIENT_ADDRESS, this.clientNode);
    // An Ethernet-like path: 1500-byte IP MTU, so 1472 bytes of UDP payload over IPv4.
    const up = { mtu: 1472, ...(opts.up ?? opts.link) };
    const down = { mtu: 1472, ...(opts.down ?? opts.link) };
    this.net.setLink(CLIENT_ADDRESS, SERVER_ADDRESS, up);
    this.net.setLink(SERVER_ADDRESS, CLIENT_ADDRESS, down);
  }

  private readonly random: ReturnType<typeof seededRandomBytes>;
  private readonly hook: () => void;
  private readonly clientNode: EndpointNode;
  /** Where the client's datagrams appear to come from (a NAT's public side, as the server sees it). */
  clientAddress = CLIENT_ADDRESS;

  /**
   * NAT rebinding: from now on the client's datagrams come from `address` and only datagrams sent
   * there reach it; whatever is still in flight to the old address is lost. The client itself does
   * not notice (RFC 9000 §9). Links to and from the new address get `conditions`.
   */
  rebindClient(address: string, conditions?: { up?: LinkConditions; down?: LinkConditions }): void {
    this.net.removeNode(this.clientAddress);
    this.clientAddress = address;
    this.net.addNode(address, this.clientNode);
    this.net.setLink(address, SERVER_ADDRESS, { mtu: 1472, ...conditions?.up });
    this.net.setLink(SERVER_ADDRESS, address, { mtu: 1472, ...conditions?.down });
  }

  private createServer(): Endpoint {
    const opts = this.opts;
    const pki = simPki(opts.keyType);
    return new Endpoint({
      random: this.random,
      ...opts.serverEndpoint,
      ...(opts.trace ? { trace: opts.trace } : {}),
      ...(opts.pathTrace ? { pathTrace: opts.pathTrace } : {}),
      ...(opts.recoveryTrace ? { recoveryTrace: opts.recoveryTrace } : {}),
      server: {
        ...opts.server,
        tls: {
          alpn: ['hq-interop', 'test'],
          identity: { certificateChain: pki.leaf.certPem, privateKey: pki.leaf.keyPem },
          ...opts.server?.tls,
        },
        transport: { ...opts.serverTransport, ...opts.server?.transport },
      },
    });
  }

  /** Replace the server by a fresh endpoint with the same configuration (all state lost). */
  restartServer(): void {
    this.net.removeNode(SERVER_ADDRESS);
    this.server = this.createServer();
    this.net.addNode(SERVER_ADDRESS, new EndpointNode(this.server, this.hook));
  }

  get now(): Millis {
    return this.net.now;
  }

  clientTls(extra?: Partial<ClientTlsOptions>): ClientTlsOptions {
    return {
      alpn: ['hq-interop'],
      serverName: SERVER_NAME,
      ca: [simPki(this.opts.keyType).ca.certPem],
      ...extra,
    };
  }

  /** Start a client connection (the handshake runs as the simulation runs). */
  dial(
    tls?: Partial<ClientTlsOptions>,
    transport?: Partial<TransportOptions>,
    extra?: {
      token?: Uint8Array;
      version?: number;
      testRewriteTransportParameters?: (encoded: Uint8Array) => Uint8Array;
    },
  ): Connection {
    return this.client.connect(
      {
        remoteAddress: SERVER_ADDRESS,
        tls: this.clientTls(tls),
        ...(transport ? { transport } : {}),
        ...extra,
      },
      this.net.now,
    );
  }

  /** Run until `conn` completes its handshake (and the server side too); returns the server connection. */
  handshake(conn: Connection, maxTime: Millis = 30_000): Connection {
    this.run(() => conn.handshakeConfirmed || conn.isClosed, maxTime);
    if (!conn.handshakeConfirmed) throw new Error(`handshake failed: ${conn.closeInfo?.reason ?? 'timeout'}`);
    return this.serverConnections[this.serverConnections.length - 1]!;
  }

  private collectServerConnections(): void {
    for (let e = this.server.pollEvent(); e; e = this.server.pollEvent()) {
      this.serverConnections.push(e.connection);
      this.onServerConnection?.(e.connection);
    }
  }

  onServerConnection: ((c: Connection) => void) | undefined;

  run(until: () => boolean, maxTime: Millis = 120_000): Millis {
    return this.net.run({ until, maxTime });
  }
}
