/**
 * HTTP/0.9 client side ("hq-interop"): one request per bidirectional stream.
 */
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { QuicConnection } from '../node/quic-connection.js';

/** Request `path` and write the response into `sink`; resolves with the number of bytes received. */
export async function fetchHq(
  conn: QuicConnection,
  path: string,
  sink: Writable,
  onProgress?: (bytes: number) => void,
): Promise<number> {
  const stream = await conn.openStream();
  stream.end(Buffer.from(`GET ${encodeURI(path)}\r\n`, 'latin1'));
  let bytes = 0;
  stream.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    onProgress?.(bytes);
  });
  await pipeline(stream, sink);
  return bytes;
}
