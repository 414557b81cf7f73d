import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { projectRoot } from './helpers/cli.js';

describe('the code base', { timeout: 180_000 }, () => {
  it('type-checks under strict TypeScript', () => {
    const r = spawnSync(process.execPath, [`${projectRoot}node_modules/typescript/bin/tsc`, '--noEmit', '-p', projectRoot], { encoding: 'utf8' });
    assert.equal(r.status, 0, `tsc found errors:\n${r.stdout}${r.stderr}`);
  });

  it("type-checks the web console's page (DOM and JSX, its own tsconfig)", () => {
    const r = spawnSync(process.execPath, [`${projectRoot}node_modules/typescript/bin/tsc`, '--noEmit', '-p', `${projectRoot}src/console/web`], { encoding: 'utf8' });
    assert.equal(r.status, 0, `tsc found errors:\n${r.stdout}${r.stderr}`);
  });
});
