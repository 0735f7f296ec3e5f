/**
 * dial() builds the core's configuration from the public options field by field (no spread literals,
 * issue 13): each option that reaches the handshake or the first Initial must still get there. Over
 * real UDP on 127.0.0.1, each check observable from outside the client: the server's verdict, the key
 * log's secrets, the token in the client's first Initial as a plain UDP socket receives it.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { CipherSuite, dial, type ResumptionSession, type SessionStore } from '../../src/index.js';
import { createTestPki } from '../../src/tls/x509-builder.js';
import { PacketType, parsePacket } from '../../src/wire/packet-header.js';
import { clientOptions, startServer, testPki, within } from './helpers.js';

/** Dial, then close at once; resolves when the handshake completed. */
async function dialAndClose(port: number, extra: Record<string, unknown>): Promise<void> {
  const conn = await within(dial(`127.0.0.1:${port}`, clientOptions(extra)), 10_000, 'dial');
  await conn.close();
}

describe('dial() hands every option to the connection', () => {
  test('ca: another CA fails the handshake; insecureSkipVerify then lets it through', async () => {
    const server = await startServer();
    const port = server.address().port;
    try {
      const other = createTestPki({ names: ['localhost', '127.0.0.1'], now: Date.now() }).ca.certPem;
      await assert.rejects(dialAndClose(port, { ca: other, handshakeTimeout: 5000 }));
      await assert.rejects(dialAndClose(port, { ca: [other], handshakeTimeout: 5000 }));
      await dialAndClose(port, { ca: other, insecureSkipVerify: true });
      await dialAndClose(port, { ca: [testPki().ca.certPem] });
    } finally {
      await server.close();
    }
  });

  test('cipherSuites and keylog: the key log gets the secrets of the chosen suite', async () => {
    const server = await startServer();
    try {
      for (const [suite, hexLength] of [
        [CipherSuite.AES_256_GCM_SHA384, 96],
        [CipherSuite.AES_128_GCM_SHA256, 64],
      ] as const) {
        const lines: string[] = [];
        const keylog = new Writable({
          write(chunk: Buffer, _enc, done) {
            lines.push(...chunk.toString('latin1').trim().split('\n'));
            done();
          },
        });
        await dialAndClose(server.address().port, { cipherSuites: [suite], keylog });
        const secrets = lines.filter((l) => l.startsWith('CLIENT_HANDSHAKE_TRAFFIC_SECRET '));
        assert.equal(secrets.length, 1, lines.join('\n'));
        // NSS key log: label, client random, secret (hex); a SHA-384 suite's secret is 48 bytes.
        assert.equal(secrets[0]!.split(' ')[2]!.length, hexLength);
      }
    } finally {
      await server.close();
    }
  });

  test('groups: a client offering only a group the server lacks cannot connect', async () => {
    const server = await startServer({ groups: ['x25519'] });
    const port = server.address().port;
    try {
      await assert.rejects(dialAndClose(port, { groups: ['secp384r1'], handshakeTimeout: 5000 }));
      await dialAndClose(port, { groups: ['x25519'] });
    } finally {
      await server.close();
    }
  });

  test("the session store's NEW_TOKEN token goes in the first Initial (RFC 9000 §8.1.3)", async () => {
    // A plain UDP socket in place of a server: it only reads the client's first datagram.
    for (const token of [new Uint8Array([7, 8, 9]), undefined]) {
      const sock = createSocket('udp4');
      await new Promise<void>((done) => sock.bind(0, '127.0.0.1', done));
      const first = new Promise<Buffer>((resolve) => sock.once('message', (m) => resolve(m)));
      const taken: string[] = [];
      const store: SessionStore = {
        saveSession(_s: ResumptionSession) {},
        takeSession: () => undefined,
        takeToken(server: string) {
          taken.push(server);
          return token;
        },
      };
      const ac = new AbortController();
      const dialing = dial(
        `127.0.0.1:${sock.address().port}`,
        clientOptions({ sessionCache: store, signal: ac.signal }),
      );
      try {
        const datagram = await within(first, 5000, 'the first Initial');
        const p = parsePacket(new Uint8Array(datagram), 0, 8);
        assert.equal(p.type, PacketType.Initial);
        assert.ok('token' in p);
        assert.deepEqual([...p.token], token ? [...token] : []);
        assert.deepEqual(taken, [`127.0.0.1:${sock.address().port}`]);
      } finally {
        ac.abort();
        await assert.rejects(dialing);
        await new Promise<void>((done) => sock.close(() => done()));
      }
    }
  });
});
