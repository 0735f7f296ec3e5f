/**
 * A soak client that the driver kills mid-transfer (SIGKILL): it dials the soak server, starts an
 * upload and a download of 64 MiB each, says "started" on stdout once data flows, and goes on until it
 * is killed. The server never gets a CONNECTION_CLOSE from it: it must forget the connection by its
 * idle timeout. Usage: SOAK_PORT=... SOAK_CA=<pem> node --import tsx test/soak/abrupt-client.ts
 */
import { dial } from '../../src/index.js';
import { encodeHeader, pattern } from './protocol.js';

const port = Number(process.env.SOAK_PORT);
const ca = process.env.SOAK_CA ?? '';
const conn = await dial({ host: '127.0.0.1', port }, { alpn: ['soak'], ca });
const up = await conn.openStream();
up.on('error', () => {});
up.write(encodeHeader('U', 64 * 1024 * 1024, 7));
const down = await conn.openStream();
down.on('error', () => {});
down.end(encodeHeader('D', 64 * 1024 * 1024, 8));
let said = false;
down.on('data', () => {
  if (!said) {
    said = true;
    process.stdout.write('started\n');
  }
});
const CHUNK = 256 * 1024;
let offset = 0;
const pump = () => {
  while (offset < 64 * 1024 * 1024) {
    const more = up.write(pattern(7, CHUNK, offset));
    offset += CHUNK;
    if (!more) return;
  }
};
up.on('drain', pump);
pump();
