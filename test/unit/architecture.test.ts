/**
 * The layout of style.md, checked from the source itself: every import of every file under src/
 * (static `import … from`, `import type`, `export … from`, dynamic `import('…')` and
 * `import('…')` types), parsed with the TypeScript compiler, resolved `./x.js` → `x.ts`/`x.tsx`.
 *
 * (a) no import cycle, type-only imports included;
 * (b) nothing outside src/commands/ and src/cli.ts imports from src/commands/ (data flows one way:
 *     command → job/bulk logic → selfie + smile protocol → HTTP);
 * (c) no `as never` in src/ (it silences the type checker instead of stating a type).
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * Exceptions, listed exactly: each entry must still be true (a stale entry fails too), and anything
 * not listed fails. Issue 10 emptied these lists; keep them empty.
 */
const KNOWN: { cycles: string[]; commandImports: string[]; asNever: string[] } = {
  /** Import cycles, each from its alphabetically first file, paths relative to src/. */
  cycles: [],
  /** Imports of src/commands/ from outside it (other than cli.ts): `importer → imported`. */
  commandImports: [],
  /** Files with `as never`. */
  asNever: [],
};

const SRC = resolve(import.meta.dirname, '../../src');
const rel = (path: string) => relative(SRC, path).split(sep).join('/');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|tsx|mts|cts)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

interface ImportFact {
  specifier: string;
  line: number;
  typeOnly: boolean;
}

interface FileFacts {
  imports: ImportFact[];
  /** Lines (1-based) with `x as never` or `<never>x`. */
  asNever: number[];
}

/** Every module specifier a file names, and its `as never` casts, from the syntax tree (not from text). */
function scanSource(fileName: string, text: string): FileFacts {
  const source = ts.createSourceFile(
    fileName,
    text,
    ts.ScriptTarget.Latest,
    true,
    fileName.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS,
  );
  const facts: FileFacts = { imports: [], asNever: [] };
  const line = (node: ts.Node) => source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
  const add = (literal: ts.Node | undefined, typeOnly: boolean) => {
    if (literal && (ts.isStringLiteral(literal) || ts.isNoSubstitutionTemplateLiteral(literal)))
      facts.imports.push({ specifier: literal.text, line: line(literal), typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) add(node.moduleSpecifier, node.importClause?.isTypeOnly ?? false);
    else if (ts.isExportDeclaration(node)) add(node.moduleSpecifier, node.isTypeOnly);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference))
      add(node.moduleReference.expression, node.isTypeOnly);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword)
      add(node.arguments[0], false);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal, true);
    else if (
      (ts.isAsExpression(node) || ts.isTypeAssertionExpression(node)) &&
      node.type.kind === ts.SyntaxKind.NeverKeyword
    )
      facts.asNever.push(line(node));
    ts.forEachChild(node, visit);
  };
  visit(source);
  return facts;
}

/** The file a relative specifier names (`./x.js` → x.ts or x.tsx); undefined for packages and node: modules. */
function resolveSpecifier(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = resolve(dirname(from), specifier);
  const stem = base.replace(/\.(m|c)?jsx?$/, '');
  const candidates = [
    base,
    `${stem}.ts`,
    `${stem}.tsx`,
    `${stem}.mts`,
    `${stem}.cts`,
    join(base, 'index.ts'),
    join(base, 'index.tsx'),
  ];
  const found = candidates.find((path) => /\.(m|c)?tsx?$/.test(path) && existsSync(path) && statSync(path).isFile());
  if (found === undefined) throw new Error(`${rel(from)} imports ${specifier}, which resolves to no file under src/`);
  return found;
}

/**
 * Every elementary cycle of a directed graph, each listed once, from its alphabetically first
 * node: `a → b → a`. Stops at `limit` cycles (a tangle that large is reported as such).
 */
function findCycles(graph: ReadonlyMap<string, ReadonlySet<string>>, limit = 200): string[][] {
  const nodes = [...graph.keys()].sort();
  const cycles: string[][] = [];
  for (const start of nodes) {
    // Only nodes after `start` in order: a cycle is found once, from its first node.
    const path = [start];
    const onPath = new Set(path);
    const walk = (node: string): void => {
      for (const next of [...(graph.get(node) ?? [])].sort()) {
        if (cycles.length >= limit) return;
        if (next === start) cycles.push([...path, start]);
        else if (next > start && !onPath.has(next)) {
          path.push(next);
          onPath.add(next);
          walk(next);
          onPath.delete(next);
          path.pop();
        }
      }
    };
    walk(start);
  }
  return cycles;
}

/** What `actual` has beyond `known` (new problems) and what `known` lists that is gone (stale entries). */
function compare(actual: readonly string[], known: readonly string[]): { added: string[]; stale: string[] } {
  return {
    added: actual.filter((entry) => !known.includes(entry)),
    stale: known.filter((entry) => !actual.includes(entry)),
  };
}

function describeDrift(what: string, drift: { added: string[]; stale: string[] }): string {
  const lines: string[] = [];
  if (drift.added.length > 0)
    lines.push(
      `new ${what} (fix them; KNOWN in test/unit/architecture.test.ts is only for today's):`,
      ...drift.added.map((entry) => `  ${entry}`),
    );
  if (drift.stale.length > 0)
    lines.push(
      `${what} listed in KNOWN that are gone (remove them from the list):`,
      ...drift.stale.map((entry) => `  ${entry}`),
    );
  return lines.join('\n');
}

const files = sourceFiles(SRC).sort();
const facts = new Map(files.map((file) => [file, scanSource(file, readFileSync(file, 'utf8'))]));
/** Import graph over src/, file → files it imports (type-only imports included). */
const graph = new Map(
  files.map((file) => [
    file,
    new Set(facts.get(file)!.imports.flatMap(({ specifier }) => resolveSpecifier(file, specifier) ?? [])),
  ]),
);

describe('architecture (style.md: one folder per idea, data flows one way)', () => {
  it('reads the whole of src/', () => {
    expect(files.length).toBeGreaterThan(40);
    expect(files.map(rel)).toContain('cli.ts');
    // A graph with fewer edges than files would mean the imports were not seen.
    expect([...graph.values()].reduce((edges, targets) => edges + targets.size, 0)).toBeGreaterThan(files.length);
  });

  it('has no import cycle, type-only imports included', () => {
    const cycles = findCycles(
      new Map([...graph].map(([file, targets]) => [rel(file), new Set([...targets].map(rel))])),
    ).map((cycle) => cycle.join(' → '));
    const drift = compare(cycles, KNOWN.cycles);
    expect(drift, describeDrift('import cycles', drift)).toEqual({ added: [], stale: [] });
  });

  it('imports src/commands/ only from src/commands/ and src/cli.ts', () => {
    const backward = [...graph].flatMap(([file, targets]) => {
      const from = rel(file);
      if (from === 'cli.ts' || from.startsWith('commands/')) return [];
      return [...targets]
        .map(rel)
        .filter((to) => to.startsWith('commands/'))
        .map((to) => `${from} → ${to}`);
    });
    const drift = compare(backward.sort(), KNOWN.commandImports);
    expect(drift, describeDrift('imports of src/commands/ from outside it', drift)).toEqual({ added: [], stale: [] });
  });

  it('has no `as never` in src/', () => {
    const casts = [...facts]
      .filter(([, fileFacts]) => fileFacts.asNever.length > 0)
      .map(([file, fileFacts]) => ({ file: rel(file), lines: fileFacts.asNever }));
    const drift = compare(
      casts.map((cast) => cast.file),
      KNOWN.asNever,
    );
    const where = casts.map((cast) => `${cast.file}:${cast.lines.join(',')}`).join(' ');
    expect(drift, `${describeDrift('files with `as never`', drift)}\n(now: ${where || 'none'})`).toEqual({
      added: [],
      stale: [],
    });
  });
});

describe('the checker itself', () => {
  it('finds every kind of import and `as never`, and nothing in comments or strings', () => {
    const found = scanSource(
      'x.ts',
      [
        "import a from './a.js';",
        "import type { B } from './b.js';",
        "import { type C } from './c.js';",
        "export { d } from './d.js';",
        "export type { E } from './e.js';",
        "export * from './f.js';",
        "const g = await import('./g.js');",
        "type H = typeof import('./h.js');",
        '// import nope from "./comment.js"; x as never',
        'const s = "import(\'./string.js\') as never";',
        'const n = value as never;',
        'const m = <never>value;',
      ].join('\n'),
    );
    expect(found.imports.map((entry) => `${entry.specifier}${entry.typeOnly ? ' (type)' : ''}`)).toEqual([
      './a.js',
      './b.js (type)',
      './c.js',
      './d.js',
      './e.js (type)',
      './f.js',
      './g.js',
      './h.js (type)',
    ]);
    expect(found.asNever).toEqual([11, 12]);
  });

  it('reports each cycle once, with its path, from its first file', () => {
    const graph = new Map<string, Set<string>>([
      ['a', new Set(['b'])],
      ['b', new Set(['c', 'a'])],
      ['c', new Set(['a'])],
      ['d', new Set(['d', 'a'])],
    ]);
    expect(findCycles(graph).map((cycle) => cycle.join(' → '))).toEqual(['a → b → a', 'a → b → c → a', 'd → d']);
    expect(
      findCycles(
        new Map([
          ['a', new Set(['b'])],
          ['b', new Set<string>()],
        ]),
      ),
    ).toEqual([]);
  });
});
