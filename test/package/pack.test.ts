/**
 * The release as a user gets it: `npm pack` (which builds through `prepack`), the tarball installed
 * into an empty project, then a program, the CLI and a strict TypeScript program run from it. Also:
 * the source maps in the package resolve, `@internal` members are not in the public types, and
 * `npm install` on this checkout leaves package-lock.json as committed.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

let work: string;
let app: string;
let pkgDir: string;

function run(cmd: string, args: string[], cwd: string, timeout = 240_000) {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    timeout,
    env: { ...process.env, npm_config_yes: 'true' },
  });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

before(() => {
  work = mkdtempSync(join(tmpdir(), 'tsquic-pack-'));
  // Pack from a copy of the checkout as a clean clone has it (no dist/): `npm pack` must build it
  // through `prepack`. node_modules is linked, not installed, to keep this offline and quick.
  const clone = join(work, 'clone');
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((f) => f !== '' && existsSync(join(ROOT, f)));
  for (const f of files) cpSync(join(ROOT, f), join(clone, f));
  symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'), 'dir');
  assert.ok(!existsSync(join(clone, 'dist')));
  const packed = run(NPM, ['pack', '--silent', '--pack-destination', work], clone, 600_000);
  assert.equal(packed.code, 0, `npm pack failed:\n${packed.stderr}`);
  const tarballs = readdirSync(work).filter((f) => f.endsWith('.tgz'));
  assert.equal(tarballs.length, 1, `one tarball expected, found ${tarballs.join(', ')}`);
  app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  // tsquic has no runtime dependencies, so the install needs nothing from the registry.
  const inst = run(
    NPM,
    ['install', '--offline', '--no-audit', '--no-fund', join(work, tarballs[0] ?? '')],
    app,
  );
  assert.equal(inst.code, 0, `installing the tarball failed:\n${inst.stderr}`);
  pkgDir = join(app, 'node_modules', 'tsquic');
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the tarball holds the built code, its types, the sources the maps point to, and a LICENSE', () => {
  for (const f of [
    'dist/index.js',
    'dist/index.d.ts',
    'dist/cli/main.js',
    'src/index.ts',
    'LICENSE',
    'README.md',
  ]) {
    assert.ok(existsSync(join(pkgDir, f)), `${f} is missing from the package`);
  }
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { repository?: unknown };
  assert.ok(pkg.repository, 'package.json has a repository');
});

test('every source map in the package resolves to a shipped source file', () => {
  const maps: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.map')) maps.push(p);
    }
  };
  walk(join(pkgDir, 'dist'));
  assert.ok(maps.length > 50, `source maps shipped (${maps.length})`);
  for (const m of maps) {
    const map = JSON.parse(readFileSync(m, 'utf8')) as { sources: string[]; sourceRoot?: string };
    assert.ok(map.sources.length > 0);
    for (const s of map.sources) {
      const target = resolve(dirname(m), map.sourceRoot ?? '', s);
      assert.ok(existsSync(target), `${m} points at ${s}, which is not in the package`);
    }
  }
});

test('an ESM program using the installed package connects, echoes and closes', () => {
  writeFileSync(
    join(app, 'echo.mjs'),
    `import { createTestPki, dial, listen } from 'tsquic';
const { ca, leaf } = createTestPki({ names: ['localhost', '127.0.0.1'] });
const server = await listen({ host: '127.0.0.1', port: 0, cert: leaf.certPem, key: leaf.keyPem, alpn: ['echo'] });
(async () => {
  for await (const conn of server) {
    (async () => { for await (const s of conn) s.pipe(s); })();
  }
})();
const conn = await dial({ host: '127.0.0.1', port: server.address().port }, { alpn: ['echo'], ca: ca.certPem });
const s = await conn.openStream();
s.end('hello from the package');
const chunks = [];
for await (const c of s) chunks.push(c);
console.log(Buffer.concat(chunks).toString());
await conn.close();
await server.close();
`,
  );
  const r = run(process.execPath, ['echo.mjs'], app, 60_000);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'hello from the package');
});

test('the CLI runs from the installed package (npx tsquic)', () => {
  const r = run(NPM, ['exec', '--offline', '--', 'tsquic', '--help'], app, 60_000);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Usage: tsquic <command>/);
});

test('a strict TypeScript program type-checks against the shipped types; @internal members are not public', () => {
  writeFileSync(
    join(app, 'main.ts'),
    `import { dial, listen, QuicStream, ZeroRTTRejectedError, type ClientOptions } from 'tsquic';
export async function use(stream: QuicStream, opts: ClientOptions): Promise<number> {
  const conn = await dial('127.0.0.1:4433', opts);
  const s = await conn.openStream();
  s.end('x');
  // @ts-expect-error: the stream's internal core is not part of the public types
  void stream.core;
  void listen;
  return s.id + (new ZeroRTTRejectedError() instanceof Error ? 1 : 0);
}
`,
  );
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        types: ['node'],
        typeRoots: [join(ROOT, 'node_modules', '@types')],
      },
      files: ['main.ts'],
    }),
  );
  let out = '';
  try {
    out = execFileSync(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: app, encoding: 'utf8' });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    assert.fail(`tsc failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
  assert.equal(out.trim(), '');
});

test('npm install on this checkout does not rewrite package-lock.json', () => {
  const lock = readFileSync(join(ROOT, 'package-lock.json'), 'utf8');
  const copy = mkdtempSync(join(tmpdir(), 'tsquic-lock-'));
  try {
    writeFileSync(join(copy, 'package.json'), readFileSync(join(ROOT, 'package.json')));
    writeFileSync(join(copy, 'package-lock.json'), lock);
    // Only the lock file is computed (no download, no scripts).
    const r = run(
      NPM,
      ['install', '--package-lock-only', '--ignore-scripts', '--offline', '--no-audit', '--no-fund'],
      copy,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(copy, 'package-lock.json'), 'utf8'), lock);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
});
