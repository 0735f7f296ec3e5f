/**
 * The Node shell (src/node) and the sans-IO endpoint (src/endpoint) own their state the way the
 * connection core does (test/connection/structure.test.ts, docs/architecture.md): no class has a
 * field another module can assign, and no file writes a property that another file declares. A
 * stream's state changes through StreamCore's named transitions (markRejected(), onPeerReset(), ...)
 * whoever drives it; a connection handle's callbacks are bound once. These are checks of the source,
 * so that a shortcut (`core.rejected = true` from stream-direction-ends.ts) fails the suite.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  assignableMembersIn,
  dirsUnder,
  foreignWritesExcept,
  programOf,
  writesOfOtherFiles,
} from '../support/state-owners.js';

/** The shell, the endpoint, and the HTTP/0.9 interop application on the shell (src/hq). */
const DIRS = [...dirsUnder('src/node'), ...dirsUnder('src/endpoint'), ...dirsUnder('src/hq')];

test('no class of the Node shell or the endpoint has a field another module can assign', () => {
  const found = assignableMembersIn(DIRS);
  assert.deepEqual(found, [], 'assignable fields: make them private, with a getter and intent-named methods');
});

test('no file of the Node shell or the endpoint writes state another file declares', () => {
  const found = foreignWritesExcept(DIRS, []);
  assert.deepEqual(found, [], "writes of another file's state: give the owner a method named for the change");
});

test('the write detector sees what it must (and not a record just made, nor a built-in)', () => {
  const root = '/virtual';
  const program = programOf(root, {
    'src/core.ts': [
      'export class Core { flag = false; protected base = 0; }',
      'export interface Rec { n: number }',
      'export class Same extends Core { set(): void { this.base = 1; } }',
    ].join('\n'),
    'src/other.ts': [
      "import { Core, type Rec } from './core.js';",
      'export class Sub extends Core { own = 0; bump(): void { this.base++; this.own = 1; } }',
      'export function f(c: Core, r: Rec, arr: number[]): void {',
      '  c.flag = true;',
      '  (c).flag ||= false;',
      '  r.n += 1;',
      '  arr.length = 0;',
      '  const fresh: Rec = { n: 0 };',
      '  fresh.n = 2;',
      "  const e = new Error('x');",
      "  e.message = 'y';",
      '}',
    ].join('\n'),
  });
  const found = writesOfOtherFiles(program, root, `${root}/src`, ['src/core.ts', 'src/other.ts']);
  assert.deepEqual(
    found.map((w) => `${w.at} ${w.property}`),
    [
      'src/other.ts:2 Core.base',
      'src/other.ts:4 Core.flag',
      'src/other.ts:5 Core.flag',
      'src/other.ts:6 Rec.n',
    ],
  );
});
