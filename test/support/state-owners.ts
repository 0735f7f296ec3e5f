/**
 * Source checks of "state owned by one place" (docs/architecture.md), shared by the structure tests
 * of the connection core (test/connection/structure.test.ts), the Node shell
 * (test/node/structure.test.ts) and HTTP/3 (test/http3/structure.test.ts).
 *
 * Two checks: which class fields (and setters) code outside the class can assign, found from the
 * syntax of one file; and which writes of a property happen in another file than the one declaring
 * it (`core.rejected = true` in stream-direction-ends.ts, of a field of StreamCore), found with
 * TypeScript's type checker so that the name of the variable does not matter.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** The .ts files directly under `dir` (relative to the repository), sorted. */
export function sourceFilesIn(dir: string): string[] {
  return readdirSync(join(REPO, dir))
    .filter((f) => f.endsWith('.ts'))
    .sort()
    .map((f) => join(dir, f));
}

/** Whether a field's type or initializer is a mutable array, Map or Set. */
function isMutableCollection(m: ts.PropertyDeclaration): boolean {
  const type = m.type;
  if (type) {
    if (ts.isArrayTypeNode(type)) return true;
    return ts.isTypeReferenceNode(type) && /^(Array|Map|Set)$/.test(type.typeName.getText());
  }
  const init = m.initializer;
  if (init && ts.isArrayLiteralExpression(init)) return true;
  return !!init && ts.isNewExpression(init) && /^(Array|Map|Set)$/.test(init.expression.getText());
}

/** Fields and setters of the class `name` that code outside it can assign. */
export function publicMutableMembers(source: string, name: string): string[] {
  const file = ts.createSourceFile('x.ts', source, ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isClassDeclaration(node) && node.name?.text === name) {
      for (const m of node.members) {
        const mods = ts.canHaveModifiers(m) ? (ts.getModifiers(m) ?? []) : [];
        const hidden = mods.some(
          (x) =>
            x.kind === ts.SyntaxKind.PrivateKeyword ||
            x.kind === ts.SyntaxKind.ProtectedKeyword ||
            x.kind === ts.SyntaxKind.StaticKeyword,
        );
        if (hidden || (m.name && ts.isPrivateIdentifier(m.name))) continue;
        const readonly = mods.some((x) => x.kind === ts.SyntaxKind.ReadonlyKeyword);
        if (ts.isPropertyDeclaration(m) && !readonly) out.push(m.name.getText(file));
        // A readonly field holding a mutable array, Map or Set can still be written through.
        if (ts.isPropertyDeclaration(m) && readonly && isMutableCollection(m)) {
          out.push(`${m.name.getText(file)} (mutable collection)`);
        }
        if (ts.isSetAccessorDeclaration(m)) out.push(`set ${m.name.getText(file)}`);
        // Parameter properties: `constructor(public x: T)` declares an assignable field too.
        if (ts.isConstructorDeclaration(m)) {
          for (const p of m.parameters) {
            const pm = ts.getModifiers(p) ?? [];
            if (
              pm.some((x) => x.kind === ts.SyntaxKind.PublicKeyword) &&
              !pm.some((x) => x.kind === ts.SyntaxKind.ReadonlyKeyword)
            ) {
              out.push(p.name.getText(file));
            }
          }
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return out;
}

/** `Class.member` for every field or setter of every class in `source` that other code can assign. */
export function assignableClassMembers(source: string): string[] {
  const file = ts.createSourceFile('x.ts', source, ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isClassDeclaration(node) && node.name) {
      const name = node.name.text;
      for (const m of publicMutableMembers(source, name)) out.push(`${name}.${m}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return out;
}

/** `dir/file.ts: Class.member` for every assignable class member of the files directly under `dirs`. */
export function assignableMembersIn(dirs: readonly string[]): string[] {
  const found: string[] = [];
  for (const dir of dirs) {
    for (const f of sourceFilesIn(dir)) {
      for (const m of assignableClassMembers(readFileSync(join(REPO, f), 'utf8'))) found.push(`${f}: ${m}`);
    }
  }
  return found;
}

/** The members of the interface `name` declared in `source`. */
export function interfaceMembers(source: string, name: string): string[] {
  const file = ts.createSourceFile('x.ts', source, ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isInterfaceDeclaration(node) && node.name.text === name) {
      for (const m of node.members) out.push(m.name?.getText(file) ?? '?');
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return out;
}

const ASSIGNMENTS = new Set([
  ts.SyntaxKind.EqualsToken,
  ts.SyntaxKind.PlusEqualsToken,
  ts.SyntaxKind.MinusEqualsToken,
  ts.SyntaxKind.AsteriskEqualsToken,
  ts.SyntaxKind.SlashEqualsToken,
  ts.SyntaxKind.PercentEqualsToken,
  ts.SyntaxKind.AmpersandEqualsToken,
  ts.SyntaxKind.BarEqualsToken,
  ts.SyntaxKind.CaretEqualsToken,
  ts.SyntaxKind.LessThanLessThanEqualsToken,
  ts.SyntaxKind.GreaterThanGreaterThanEqualsToken,
  ts.SyntaxKind.GreaterThanGreaterThanGreaterThanEqualsToken,
  ts.SyntaxKind.AsteriskAsteriskEqualsToken,
  ts.SyntaxKind.QuestionQuestionEqualsToken,
  ts.SyntaxKind.BarBarEqualsToken,
  ts.SyntaxKind.AmpersandAmpersandEqualsToken,
]);

/** The property written by `node` (an assignment, `++` or `--`), if it writes one. */
function writtenProperty(node: ts.Node): ts.PropertyAccessExpression | undefined {
  let target: ts.Expression | undefined;
  if (ts.isBinaryExpression(node) && ASSIGNMENTS.has(node.operatorToken.kind)) target = node.left;
  else if (
    (ts.isPrefixUnaryExpression(node) || ts.isPostfixUnaryExpression(node)) &&
    (node.operator === ts.SyntaxKind.PlusPlusToken || node.operator === ts.SyntaxKind.MinusMinusToken)
  ) {
    target = node.operand;
  }
  while (target && ts.isParenthesizedExpression(target)) target = target.expression;
  return target && ts.isPropertyAccessExpression(target) ? target : undefined;
}

export interface ForeignWrite {
  /** Where the write is: `src/node/x.ts:12`. */
  at: string;
  /** The file that declares the property written. */
  declaredIn: string;
  /** `Owner.property`: the class, interface or type alias declaring it. */
  property: string;
  text: string;
}

/** The name of the class, interface or type alias around a declaration. */
function ownerName(decl: ts.Declaration): string {
  for (let n: ts.Node | undefined = decl.parent; n; n = n.parent) {
    if ((ts.isClassLike(n) || ts.isInterfaceDeclaration(n) || ts.isTypeAliasDeclaration(n)) && n.name) {
      return n.name.text;
    }
  }
  return '?';
}

/**
 * Whether `e` names a local variable of this file that starts as an object literal: filling in a
 * record just made (an options object being built) changes nobody else's state.
 */
function isFreshRecord(checker: ts.TypeChecker, e: ts.Expression, sf: ts.SourceFile): boolean {
  if (!ts.isIdentifier(e)) return false;
  const decl = checker.getSymbolAtLocation(e)?.valueDeclaration;
  return (
    decl !== undefined &&
    decl.getSourceFile() === sf &&
    ts.isVariableDeclaration(decl) &&
    decl.initializer !== undefined &&
    ts.isObjectLiteralExpression(decl.initializer)
  );
}

let program: ts.Program | undefined;

/** One program over the whole source tree (built once per test process: it takes seconds). */
function sourceProgram(): ts.Program {
  if (program) return program;
  const config = ts.getParsedCommandLineOfConfigFile(
    join(REPO, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  if (!config) throw new Error('tsconfig.json did not parse');
  const roots = config.fileNames.filter((f) => relative(REPO, f).startsWith('src/'));
  program = ts.createProgram(roots, config.options);
  return program;
}

/**
 * Writes in the files directly under `dirs` of a property that another file of src/ declares:
 * one object changing the state of another, or a subclass its base class's. Writes of properties
 * declared by the standard library or Node (an array's length, an Error's fields) are not counted.
 */
export function foreignWrites(dirs: readonly string[]): ForeignWrite[] {
  const files = dirs.flatMap((d) => sourceFilesIn(d));
  return writesOfOtherFiles(sourceProgram(), REPO, join(REPO, 'src'), files);
}

/**
 * foreignWrites(dirs) as messages, leaving out those `allowed` names as `file -> Owner.property`
 * (an exception the test states, e.g. node:http's own API).
 */
export function foreignWritesExcept(dirs: readonly string[], allowed: readonly string[]): string[] {
  return foreignWrites(dirs)
    .filter((w) => !allowed.includes(`${w.at.replace(/:\d+$/, '')} -> ${w.property}`))
    .map((w) => `${w.at}: ${w.text} (${w.property}, declared in ${w.declaredIn})`);
}

/**
 * The writes in `files` (relative to `root`) of properties declared in another file under `owned`
 * (an absolute directory): what foreignWrites() reports, for any program.
 */
export function writesOfOtherFiles(
  p: ts.Program,
  root: string,
  owned: string,
  files: readonly string[],
): ForeignWrite[] {
  const checker = p.getTypeChecker();
  const out: ForeignWrite[] = [];
  for (const f of files) {
    const sf = p.getSourceFile(join(root, f));
    if (!sf) throw new Error(`${f} is not in the program`);
    const visit = (node: ts.Node): void => {
      const target = writtenProperty(node);
      // `this.x = ...` counts too when `x` is declared in another file: a subclass writing its
      // base class's state.
      if (target && !isFreshRecord(checker, target.expression, sf)) {
        const symbol = checker.getSymbolAtLocation(target.name);
        for (const decl of symbol?.declarations ?? []) {
          const file = decl.getSourceFile().fileName;
          if (file === sf.fileName || !file.startsWith(owned)) continue;
          const line = sf.getLineAndCharacterOfPosition(target.getStart(sf)).line + 1;
          out.push({
            at: `${f}:${line}`,
            declaredIn: relative(root, file),
            property: `${ownerName(decl)}.${target.name.text}`,
            text: target.getText(sf),
          });
          break;
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return out;
}

/** A program over in-memory files (for the checks' own tests): `files` maps a name to its source. */
export function programOf(root: string, files: Record<string, string>): ts.Program {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const inMemory = new Map(Object.entries(files).map(([name, text]) => [join(root, name), text]));
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version, onError, create) => {
    const text = inMemory.get(name);
    return text !== undefined
      ? ts.createSourceFile(name, text, version, true)
      : getSourceFile(name, version, onError, create);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => inMemory.has(name) || fileExists(name);
  const directoryExists = host.directoryExists?.bind(host);
  host.directoryExists = (dir) =>
    [...inMemory.keys()].some((f) => f.startsWith(`${dir}/`)) || (directoryExists?.(dir) ?? false);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => inMemory.get(name) ?? readFile(name);
  return ts.createProgram([...inMemory.keys()], options, host);
}

/** The directories under `dir` (itself included), relative to the repository. */
export function dirsUnder(dir: string): string[] {
  const out = [dir];
  for (const e of readdirSync(join(REPO, dir), { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...dirsUnder(join(dir, e.name)));
  }
  return out.sort();
}
