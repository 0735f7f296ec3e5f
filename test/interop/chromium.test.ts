/**
 * Headless Chromium (Debian package chromium, driven by puppeteer-core) loads a page with 24
 * subresources from `tsquic server --alpn h3` over HTTP/3: every resource's nextHopProtocol is 'h3'
 * and the server logged every request. A second navigation, after Chromium's (shortened) idle timeout
 * closed the connection, resumes with 0-RTT: the server logs early requests. Chromium offers
 * X25519MLKEM768 first (with an X25519 share): tsquic picks X25519. A UDP relay adds 40 ms each way so
 * that the document GET reliably goes in 0-RTT: Chromium sends it early only if it is ready before the
 * handshake completes, and on a loaded machine (load average 17) 10 ms each way was once not enough.
 * tshark decrypts the capture with the server's key log.
 */
import assert from 'node:assert/strict';
import { createHash, createPublicKey } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import puppeteer from 'puppeteer-core';
import { DelayRelay } from '../../src/cli/delay-relay.js';
import { cleanup as cleanupCli, makeFixture, startCliServer } from '../cli/helpers.js';
import { assertCleanHttp3, Capture } from './tshark-capture.js';

after(cleanupCli);

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const SUBRESOURCES = 24;

function spkiHash(certPem: string): string {
  const der = createPublicKey(certPem).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

test('Chromium loads a page with 24 subresources over HTTP/3, then resumes with 0-RTT', {
  timeout: 180_000,
}, async (t) => {
  assert.ok(CHROMIUM, 'Chromium not found: install the Debian package chromium (.ci/run does)');
  const f = makeFixture({});
  const imgs: string[] = [];
  for (let i = 0; i < SUBRESOURCES; i++) {
    const name = i % 3 === 0 ? `s${i}.css` : i % 3 === 1 ? `j${i}.js` : `i${i}.svg`;
    imgs.push(name);
    const body = name.endsWith('.css')
      ? `.c${i} { color: #${(i * 99999).toString(16).padStart(6, '0').slice(0, 6)} }`
      : name.endsWith('.js')
        ? `window.loaded${i} = ${i};`
        : `<svg xmlns="http://www.w3.org/2000/svg" width="${i + 1}" height="1"><rect width="1" height="1"/></svg>`;
    writeFileSync(join(f.root, name), body);
  }
  const tags = imgs
    .map((n) =>
      n.endsWith('.css')
        ? `<link rel="stylesheet" href="/${n}">`
        : n.endsWith('.js')
          ? `<script src="/${n}"></script>`
          : `<img src="/${n}">`,
    )
    .join('\n');
  writeFileSync(
    join(f.root, 'index.html'),
    `<!doctype html><html><head><title>tsquic h3</title>${tags}</head><body>ok</body></html>`,
  );
  const keylog = join(f.dir, 'keys.log');
  const server = await startCliServer([
    '--listen',
    '127.0.0.1:0',
    '--cert',
    f.cert,
    '--key',
    f.key,
    '--root',
    f.root,
    '--alpn',
    'h3',
    '--keylog',
    keylog,
  ]);
  t.after(() => server.stop());
  const relay = await DelayRelay.start({ host: '127.0.0.1', port: server.port }, 40);
  t.after(() => relay.close());
  const pcap = join(f.dir, 'chromium.pcapng');
  const capture = await Capture.start(t, [server.port], pcap);
  const profile = mkdtempSync(join(tmpdir(), 'tsquic-chromium-'));
  t.after(() => rmSync(profile, { recursive: true, force: true }));
  mkdirSync(join(profile, 'p'));
  const origin = `localhost:${relay.port}`;
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      `--user-data-dir=${join(profile, 'p')}`,
      `--origin-to-force-quic-on=${origin}`,
      `--ignore-certificate-errors-spki-list=${spkiHash(readPem(f.cert))}`,
      '--host-resolver-rules=MAP localhost 127.0.0.1, MAP * ~NOTFOUND',
      // A short idle timeout, so that the second navigation needs a new connection (and resumes with 0-RTT).
      '--force-fieldtrials=QUIC/Enabled',
      '--force-fieldtrial-params=QUIC.Enabled:idle_connection_timeout_seconds/1',
      '--disable-gpu',
    ],
  });
  t.after(() => browser.close());
  const page = await browser.newPage();
  await page.setCacheEnabled(false);
  const url = `https://${origin}/index.html`;
  const res = await page.goto(url, { waitUntil: 'load', timeout: 60_000 });
  assert.equal(res?.status(), 200);
  const protocols = await page.evaluate(() =>
    performance
      .getEntries()
      .flatMap((e) =>
        'nextHopProtocol' in e
          ? [[e.name, (e as unknown as { nextHopProtocol: string }).nextHopProtocol]]
          : [],
      ),
  );
  assert.equal(protocols.length, SUBRESOURCES + 1, JSON.stringify(protocols));
  for (const [name, proto] of protocols) assert.equal(proto, 'h3', `${name} over ${proto}`);
  assert.equal(await page.evaluate(() => (globalThis as unknown as { loaded1: number }).loaded1), 1);
  // Wait for the idle timeout to close the connection, then navigate again: 0-RTT.
  await new Promise((r) => setTimeout(r, 2500));
  const second = await page.goto(`https://${origin}/index.html?again`, {
    waitUntil: 'load',
    timeout: 60_000,
  });
  assert.equal(second?.status(), 200);
  await browser.close();
  await new Promise((r) => setTimeout(r, 200));
  await capture.stop();
  const log = server.stdout();
  assert.equal((log.match(/ GET \/index\.html -> 200/g) ?? []).length, 1, log);
  for (const n of imgs) assert.match(log, new RegExp(` GET /${n.replace('.', '\\.')} -> 200`));
  assert.match(
    log,
    /GET \/index\.html\?again -> 200, \d+ bytes \(0-RTT\)/,
    'the second navigation went in 0-RTT',
  );
  assert.match(log, /connected \(resumed, 0-RTT accepted, ALPN h3\)/);
  // The server picks ChaCha20-Poly1305, whose 0-RTT packets this tshark cannot open (see
  // assertCleanHttp3); the log above proves the server read them.
  const frames = await assertCleanHttp3(pcap, keylog, server.port, { opaqueZeroRtt: true });
  assert.ok(frames.has(1) && frames.has(4));
});

function readPem(file: string): string {
  return readFileSync(file, 'utf8');
}
