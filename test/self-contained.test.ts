import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';
import { projectRoot } from './helpers/cli.js';

/**
 * A user's clone has nothing beside it: no `../shared`, no developer's folders. Whatever the
 * code, tests, benchmarks or scripts read must live in the repository.
 */
const root = resolve(projectRoot);
const folders = ['src', 'test', 'bench', 'scripts'];
const sourceFile = /\.(ts|mts|js|mjs|cjs|sh|json)$/;

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === '.data') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path));
    else if (sourceFile.test(name)) out.push(path);
  }
  return out;
}

/** Relative paths in string literals, resolved against the file that names them. */
const relativeLiteral = /['"`](\.\.\/[^'"`\s$]*)['"`]/g;
/** Absolute paths that only a developer's machine has. `/home/core` is a path inside a host's root. */
const machinePath = /['"`](\/(?:work|root|Users)\/[^'"`\s]*|\/home\/(?!core\b)[^'"`\s]*)['"`]/g;

export function findEscapes(file: string, text: string, repoRoot: string): string[] {
  const found: string[] = [];
  for (const [lineNo, line] of text.split('\n').entries()) {
    const where = `${relative(repoRoot, file)}:${lineNo + 1}`;
    if (/\.\.\/shared\b|['"]\.\.['"]\s*,\s*['"]shared['"]/.test(line)) found.push(`${where}: names ../shared`);
    for (const m of line.matchAll(relativeLiteral)) {
      const target = resolve(dirname(file), m[1]!);
      if (target !== repoRoot && !target.startsWith(repoRoot + sep)) found.push(`${where}: ${m[1]} leaves the repository`);
    }
    const absolute = [...line.matchAll(machinePath)].map((m) => m[1]!);
    if (line.includes(dirname(repoRoot) + sep) && !line.includes(repoRoot)) absolute.push(dirname(repoRoot));
    if (absolute.length) found.push(`${where}: absolute path ${absolute[0]} outside the repository`);
  }
  return found;
}

describe('the repository is self-contained', () => {
  it('no file in src/, test/, bench/ or scripts/ reads outside the repository', () => {
    const self = resolve(new URL(import.meta.url).pathname);
    const escapes = folders
      .flatMap((f) => filesUnder(join(root, f)))
      .filter((file) => file !== self)
      .flatMap((file) => findEscapes(file, readFileSync(file, 'utf8'), root));
    assert.deepEqual(escapes, []);
  });

  it('the check catches what it is for', () => {
    const file = join(root, 'test', 'x.test.ts');
    assert.equal(findEscapes(file, `readFileSync(new URL('../../shared/vectors/v.json', import.meta.url))`, root).length, 2);
    assert.equal(findEscapes(file, `join(root, '..', 'shared', 'v.json')`, root).length, 1);
    assert.equal(findEscapes(file, `const p = '${dirname(root)}/other/file'`, root).length, 1);
    assert.equal(findEscapes(file, `const p = '/work/elsewhere/file'`, root).length, 1);
    assert.equal(findEscapes(file, `import x from '../src/x.js'; const h = '/home/core/assets'; const t = '/tmp/x'`, root).length, 0);
    assert.equal(findEscapes(join(root, 'src', 'cli', 'x.ts'), `new URL('../../package.json', import.meta.url)`, root).length, 0);
  });

  it('the encryption vectors are in the repository', () => {
    const file = JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'k8s-encryption-vectors.json'), 'utf8')) as { count: number; vectors: unknown[] };
    assert.ok(file.count > 0);
    assert.equal(file.vectors.length, file.count);
  });
});
