import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunFiles } from '../backup/files.js';
import { downloadSnapshot } from '../backup/run.js';
import type { Connection } from '../etcd/endpoints.js';
import { endpointStatus } from '../etcd/status.js';
import type { ClusterFile } from '../home/cluster-file.js';
import { UserError } from '../util/errors.js';
import { pickBackup } from './backup-dir.js';
import { checkBackup } from './checks.js';
import { staleStateReport } from './run.js';
import type { StaleStateReport } from './stale-state.js';

/**
 * `restore --preview`: what a restore from this backup would revert, lose and bring back, and
 * the 4.10.7 risks, against the live cluster, changing nothing. The live side is a snapshot of a
 * healthy member, read with the same reader as the backup, in a private temp dir removed after.
 */
export async function previewRestore(o: { home: string; cluster: ClusterFile; conn: Connection; backupDir: string | undefined; ignoreVersionSkew: boolean }): Promise<StaleStateReport> {
  const pair = pickBackup(o.backupDir);
  await checkBackup(pair, { etcdVersion: o.cluster.etcd.version, ignoreVersionSkew: o.ignoreVersionSkew });
  let source: { endpoint: string; revision: bigint; dbSize: bigint } | undefined;
  for (const h of o.cluster.hosts) {
    const st = await endpointStatus({ ...o.conn, commandTimeoutMs: Math.min(o.conn.commandTimeoutMs, 3000) }, h.clientURL);
    if (st.status) {
      source = { endpoint: h.clientURL, revision: st.status.header.revision, dbSize: st.status.dbSize };
      break;
    }
  }
  if (!source) throw new UserError('no etcd member of the home answers: there is no live cluster to compare the backup with (a restore would have nothing to revert)');
  const dir = mkdtempSync(join(tmpdir(), 'etcd-ops-preview-'));
  try {
    const live = join(dir, 'live.db');
    await downloadSnapshot({ endpoint: source.endpoint, conn: o.conn, files: new RunFiles(), path: live, expectedBytes: Number(source.dbSize) + 32 });
    return await staleStateReport(o.home, o.cluster, pair, live, `the live cluster (${source.endpoint})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
