/**
 * An HTTP/3 server that serves each QUIC connection itself (`listenEarly` + `serveConnection`), so a
 * test can reach the server's `QuicConnection` and choose when it is served, and a `Client` for it.
 * The common setup of the tests that look at the server's connection (answer-turn, burst-answers,
 * direct-transport).
 */
import { Client, createServer } from '../../src/http3/index.js';
import type { Http3ServerRequest } from '../../src/http3/node/server-request.js';
import type { Http3ServerResponse } from '../../src/http3/node/server-response.js';
import { listenEarly } from '../../src/node/api.js';
import type { QuicConnection } from '../../src/node/quic-connection.js';
import { testPki } from './helpers.js';

export interface DirectH3Options {
  /** The request handler (default: answers `ok <url>`). */
  handler?: (req: Http3ServerRequest, res: Http3ServerResponse) => void;
  /** Called per connection with a function that starts serving it (default: served at once). */
  onConnection?: (conn: QuicConnection, serve: () => void) => void;
  /** The server's qlog directory. */
  qlogDir?: string;
}

export interface DirectH3Server {
  /** The QUIC server's UDP port. */
  port: number;
  /** `https://localhost:<port>`. */
  base: string;
  client: Client;
  /** Closes the client, the HTTP/3 server and the QUIC server, in that order. */
  close(): Promise<void>;
}

export async function directH3Server(o: DirectH3Options = {}): Promise<DirectH3Server> {
  const pki = testPki();
  const handler = o.handler ?? ((req, res) => res.end(`ok ${req.url}`));
  const h3 = createServer({ cert: pki.leaf.certPem, key: pki.leaf.keyPem }, handler);
  const quic = await listenEarly({
    host: '127.0.0.1',
    port: 0,
    cert: pki.leaf.certPem,
    key: pki.leaf.keyPem,
    alpn: ['h3'],
    ...(o.qlogDir !== undefined ? { qlogDir: o.qlogDir } : {}),
  });
  quic.on('connection', (conn: QuicConnection) => {
    const serve = () => h3.serveConnection(conn, quic.address());
    if (o.onConnection) o.onConnection(conn, serve);
    else serve();
  });
  const client = new Client({ ca: pki.ca.certPem });
  const port = quic.address().port;
  return {
    port,
    base: `https://localhost:${port}`,
    client,
    async close() {
      await client.close();
      await h3.close();
      await quic.close();
    },
  };
}
