import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** cluster-backup.sh's names: snapshot_<%F_%H%M%S>[__POSSIBLY_DIRTY__].db and static_kuberesources_<same>.tar.gz. */
export const NAME_RE = /^(snapshot|static_kuberesources)_(\d{4}-\d\d-\d\d_\d{6})(__POSSIBLY_DIRTY__)?\.(db|tar\.gz)$/;

/** The two files one backup run leaves in `dir`, checked to share a stamp and a dirty mark. */
export function backupFiles(dir: string): { snapshot: string; bundle: string; stamp: string } {
  const names = readdirSync(dir).sort();
  assert.equal(names.length, 2, `two files expected in ${dir}: ${names.join(', ')}`);
  const bundle = names.find((n) => n.endsWith('.tar.gz'))!;
  const snapshot = names.find((n) => n.endsWith('.db'))!;
  const a = NAME_RE.exec(snapshot);
  const b = NAME_RE.exec(bundle);
  assert.ok(a && b, `names ${snapshot}, ${bundle}`);
  assert.equal(a[2], b[2], 'one stamp for both files');
  assert.equal(a[3], b[3], 'the same dirty mark on both files');
  return { snapshot: join(dir, snapshot), bundle: join(dir, bundle), stamp: a[2]! };
}
