/**
 * Argument helpers of the CLI: HOST:PORT, URL lists, file names, parseArgs errors.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseArgs } from 'node:util';
import { fileNameFor, parseHostPort, parseOrUsage, parseUrls, UsageError } from '../../src/cli/args.js';

describe('parseHostPort', () => {
  test('IPv4, names, bracketed IPv6, port 0', () => {
    assert.deepEqual(parseHostPort('127.0.0.1:4433', '--listen'), { host: '127.0.0.1', port: 4433 });
    assert.deepEqual(parseHostPort('localhost:0', '--listen'), { host: 'localhost', port: 0 });
    assert.deepEqual(parseHostPort('[::]:443', '--listen'), { host: '::', port: 443 });
    assert.deepEqual(parseHostPort('[2001:db8::1]:65535', '--listen'), { host: '2001:db8::1', port: 65535 });
  });

  test('malformed values are usage errors naming the flag', () => {
    for (const bad of [
      '127.0.0.1',
      ':443',
      '::1:443',
      '[::1]',
      '[nothost]:1',
      'h:65536',
      'h:-1',
      'h:4a',
      '',
    ]) {
      assert.throws(
        () => parseHostPort(bad, '--listen'),
        (e: unknown) => e instanceof UsageError && e.message.startsWith('--listen'),
        JSON.stringify(bad),
      );
    }
  });
});

describe('parseUrls', () => {
  test('one server, decoded paths, file names from the last segment, default port 443', () => {
    const plan = parseUrls([
      'https://example.org/a/b.txt',
      'https://EXAMPLE.org:443/c%20d.bin',
      'https://example.org/',
    ]);
    assert.equal(plan.host, 'example.org');
    assert.equal(plan.port, 443);
    assert.equal(plan.serverName, 'example.org');
    assert.deepEqual(plan.targets, [
      { path: '/a/b.txt', name: 'b.txt' },
      { path: '/c d.bin', name: 'c d.bin' },
      { path: '/', name: 'index.html' },
    ]);
  });

  test('IPv6 literal hosts lose their brackets', () => {
    const plan = parseUrls(['https://[::1]:4433/x']);
    assert.deepEqual({ host: plan.host, port: plan.port }, { host: '::1', port: 4433 });
  });

  test('an encoded traversal is sent as such but saved under its last segment', () => {
    const plan = parseUrls(['https://h:1/..%2f..%2fetc%2fpasswd']);
    assert.deepEqual(plan.targets, [{ path: '/../../etc/passwd', name: 'passwd' }]);
  });

  test('usage errors', () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /at least one URL/],
      [['nonsense'], /not a URL/],
      [['http://h:1/x'], /only https/],
      [['https://u:p@h:1/x'], /credentials/],
      [['https://h:1/x', 'https://h:2/y'], /same server/],
      [['https://h:1/a/x', 'https://h:1/b/x'], /same file x/],
    ];
    for (const [urls, message] of cases) {
      assert.throws(
        () => parseUrls(urls),
        (e: unknown) => e instanceof UsageError && message.test(e.message),
      );
    }
  });
});

describe('fileNameFor', () => {
  test('plain names; never a directory or traversal', () => {
    assert.equal(fileNameFor('/a/b/c.txt'), 'c.txt');
    assert.equal(fileNameFor('/..'), 'index.html');
    assert.equal(fileNameFor('/x/.'), 'index.html');
    assert.equal(fileNameFor('/a\\..\\..\\win.ini'), 'win.ini');
    assert.equal(fileNameFor('/nul\0x'), 'index.html');
  });
});

describe('parseOrUsage', () => {
  const parse = (args: string[]) =>
    parseOrUsage(() => parseArgs({ args, strict: true, options: { a: { type: 'string' } } }));

  test('parseArgs errors become one-sentence usage errors; other errors pass through', () => {
    assert.equal(parse(['--a', 'x']).values.a, 'x');
    assert.throws(
      () => parse(['--b']),
      (e: unknown) => e instanceof UsageError && e.message === "Unknown option '--b'",
    );
    assert.throws(
      () => parse(['--a']),
      (e: unknown) => e instanceof UsageError && /argument missing/.test(e.message),
    );
    assert.throws(
      () => parse(['pos']),
      (e: unknown) => e instanceof UsageError && /Unexpected argument 'pos'/.test(e.message),
    );
    const boom = new RangeError('boom');
    assert.throws(
      () =>
        parseOrUsage(() => {
          throw boom;
        }),
      (e: unknown) => e === boom,
    );
  });
});
