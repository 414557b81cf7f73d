/**
 * The shape ARCHITECTURE.md describes, kept by a small import-graph check over src/ (no
 * dependency needed): the domain never imports the CLI, the top-level folders of src/ import
 * each other in one direction only (no cycle), dynamic import() is for the CLI's start-up time
 * alone, one file makes etcd clients, and each shared concept is defined once.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { projectRoot } from './helpers/cli.js';

const SRC = resolve(projectRoot, 'src');

export interface Import {
  /** Importing file, relative to src/ ("defrag/procedure.ts"). */
  from: string;
  /** Imported file, relative to src/ ("cli/printers/defrag.ts"). */
  to: string;
  dynamic: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : name.endsWith('.ts') ? [path] : [];
  });
}

/** The code without comments, so a doc comment that shows an import is not one. */
function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

const STATIC = /(?:^|[\n;])\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s*)?['"]([^'"]+)['"]/g;
const DYNAMIC = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The project-internal imports of one file (relative specifiers only: packages and node: builtins are not ours). */
export function importsOf(file: string, text: string, root: string): Import[] {
  const code = stripComments(text);
  const out: Import[] = [];
  for (const [re, dynamic] of [[STATIC, false], [DYNAMIC, true]] as const) {
    for (const m of code.matchAll(re)) {
      const spec = m[1]!;
      if (!spec.startsWith('.')) continue;
      // Type positions like `import('node:net').Server` are not modules of ours either.
      const to = relative(root, resolve(dirname(file), spec)).replace(/\.js$/, '.ts');
      out.push({ from: relative(root, file), to, dynamic });
    }
  }
  return out;
}

/** A file's top-level unit: its folder under src/, or the file itself for src/version.ts. */
export const unitOf = (path: string) => path.split('/')[0]!.replace(/\.ts$/, '');

/** Cycles between units, each as the units in order plus one import per step that makes it. */
export function unitCycles(imports: Import[]): string[] {
  const edges = new Map<string, Map<string, Import>>();
  for (const i of imports) {
    const a = unitOf(i.from);
    const b = unitOf(i.to);
    if (a === b) continue;
    if (!edges.has(a)) edges.set(a, new Map());
    if (!edges.get(a)!.has(b)) edges.get(a)!.set(b, i);
  }
  // Tarjan's strongly connected components; any component of two or more units is a cycle.
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const sccs: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of edges.get(v)?.keys() ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const c: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        c.push(w);
      } while (w !== v);
      if (c.length > 1) sccs.push(c);
    }
  };
  for (const v of edges.keys()) if (!idx.has(v)) visit(v);
  return sccs.map((c) => {
    const inCycle = new Set(c);
    const steps = c.flatMap((a) => [...(edges.get(a) ?? [])].filter(([b]) => inCycle.has(b)).map(([b, i]) => `${a} → ${b} (${i.from} imports ${i.to})`));
    return `${[...c].sort().join(', ')}: ${steps.sort().join('; ')}`;
  });
}

const files = sourceFiles(SRC);
const texts = new Map(files.map((f) => [relative(SRC, f), readFileSync(f, 'utf8')]));
const imports = files.flatMap((f) => importsOf(f, texts.get(relative(SRC, f))!, SRC));

/** Files of src/ whose code (comments aside) matches. */
const definedIn = (re: RegExp) => [...texts].filter(([, text]) => re.test(stripComments(text))).map(([f]) => f).sort();

describe('the architecture', () => {
  it('sees the imports (the check has something to check)', () => {
    assert.ok(imports.length > 300, `${imports.length} imports found`);
    assert.ok(imports.some((i) => i.from === 'cli/commands.ts' && i.to === 'cli/defrag.ts'));
    assert.ok(imports.some((i) => i.dynamic && i.from === 'cli/defrag.ts' && i.to === 'defrag/procedure.ts'));
  });

  it('no file outside src/cli imports src/cli', () => {
    assert.deepEqual(imports.filter((i) => unitOf(i.to) === 'cli' && unitOf(i.from) !== 'cli').map((i) => `${i.from} imports ${i.to}`), []);
  });

  it('no import cycle between the top-level folders of src/', () => {
    assert.deepEqual(unitCycles(imports), []);
  });

  it('dynamic import() only in the CLI, where it buys start-up time', () => {
    assert.deepEqual(imports.filter((i) => i.dynamic && unitOf(i.from) !== 'cli').map((i) => `${i.from} imports ${i.to} dynamically`), []);
  });

  it('one place constructs etcd clients', () => {
    assert.deepEqual(definedIn(/new Etcd3\s*\(/), ['etcd/client.ts']);
  });

  it('one definition each of ApiError, Condition, the protobuf wire reader and humanDuration', () => {
    assert.deepEqual(definedIn(/\bclass ApiError\b/), ['kube/status.ts']);
    assert.deepEqual(definedIn(/\binterface Condition\b|\btype Condition\s*=/), ['kube/conditions.ts']);
    assert.deepEqual(definedIn(/\bvarint\s*\([^)]*\)\s*(?::\s*\w+\s*)?\{|\bfunction varint\b/), ['util/protowire.ts']);
    assert.deepEqual(definedIn(/\bfunction humanDuration\b/), ['util/time.ts']);
  });

  it('the checks catch what they are for', () => {
    const root = '/r/src';
    const found = importsOf(
      `${root}/defrag/x.ts`,
      [
        "import { a } from '../cli/printers/defrag.js';",
        "import type { B } from '../etcd/status.js';",
        "export { c } from './plan.js';",
        "import {\n  d,\n  e,\n} from '../util/table.js';",
        "const m = await import('../home/layout.js');",
        "// import { z } from '../nowhere.js';",
        "/** import { y } from '../nowhere.js' */",
        "let s: import('node:net').Server; import { readFileSync } from 'node:fs';",
      ].join('\n'),
      root,
    );
    assert.deepEqual(
      found.map((i) => `${i.to}${i.dynamic ? ' (dynamic)' : ''}`),
      ['cli/printers/defrag.ts', 'etcd/status.ts', 'defrag/plan.ts', 'util/table.ts', 'home/layout.ts (dynamic)'],
    );
    const edge = (from: string, to: string): Import => ({ from, to, dynamic: false });
    assert.deepEqual(unitCycles([edge('a/x.ts', 'b/y.ts'), edge('b/y.ts', 'c/z.ts'), edge('c/z.ts', 'util/u.ts')]), []);
    const cycles = unitCycles([edge('home/lifecycle.ts', 'lb/main.ts'), edge('lb/main.ts', 'home/layout.ts'), edge('home/layout.ts', 'util/x.ts')]);
    assert.equal(cycles.length, 1);
    assert.match(cycles[0]!, /^home, lb: home → lb \(home\/lifecycle\.ts imports lb\/main\.ts\); lb → home \(lb\/main\.ts imports home\/layout\.ts\)$/);
    assert.equal(unitOf('version.ts'), 'version');
  });
});
