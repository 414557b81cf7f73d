import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { openSnapshot, snapshotStatus, type Snapshot, type SnapshotStatus } from '../snapshot/index.js';
import { UserError, errorMessage } from '../util/errors.js';
import { analyzeValues, encryptedPercent, type Analysis, type KeyValueLike } from './analyze.js';
import { readBundle, type BundleContents } from './archive.js';
import { BackupKeys } from './keys.js';
import { parseManifest, type BackupManifest } from './manifest.js';
import { latestSnapshotName, pairedName, parseBackupName } from './names.js';

export type FindingCode =
  | 'no-trailer'
  | 'possibly-dirty'
  | 'no-bundle'
  | 'bundle-unreadable'
  | 'other-backup'
  | 'bad-config'
  | 'key-missing'
  | 'decrypt-failed'
  | 'partly-encrypted'
  | 'not-encrypted'
  | 'undecodable';

/** `error`: a restore from this backup would lose or be unable to read data. */
export interface Finding {
  level: 'error' | 'warning';
  code: FindingCode;
  message: string;
}

export interface InspectReport {
  snapshot: {
    path: string;
    size: number;
    trailer: 'ok' | 'absent';
    /** SHA-256 of the database bytes (verified against the trailer when there is one). */
    sha256?: string;
    status: SnapshotStatus;
    possiblyDirty: boolean;
  };
  bundle?: {
    path: string;
    manifest?: BackupManifest;
    staticPods: string[];
    encryptionConfigs: Array<{ file: string; error?: string }>;
  };
  /** The revision a member restored from the snapshot starts at. */
  revision: bigint;
  analysis: Analysis;
  warnings: Finding[];
}

export interface InspectOptions {
  path: string;
  bundle?: string;
  /**
   * The live values at the head, in any order (default: the reader's `latest()`, in key order).
   * The drill passes a sequential scan: it already knows which revisions are live.
   */
  liveValues?: (snap: Snapshot) => Iterable<KeyValueLike>;
}

/**
 * Can this backup be restored and read? Verifies the snapshot (sha256 trailer and the whole
 * tree, as `snapshot status`), counts how every live value is stored, and proves the archive's
 * EncryptionConfiguration reads each encrypted one. Damage to the snapshot is an error; what a
 * restore would get wrong is reported as findings.
 */
export async function inspectBackup(o: InspectOptions): Promise<InspectReport> {
  const { snapshotPath, bundlePath } = locate(o);
  const { status, trailer } = await snapshotStatus(snapshotPath);
  const size = statSync(snapshotPath).size;
  const warnings: Finding[] = [];
  const name = parseBackupName(snapshotPath);

  let bundle: BundleContents | undefined;
  let manifest: BackupManifest | undefined;
  if (bundlePath) {
    try {
      bundle = await readBundle(bundlePath);
    } catch (err) {
      warnings.push({ level: 'error', code: 'bundle-unreadable', message: errorMessage(err) });
    }
    if (bundle?.manifest !== undefined) {
      try {
        manifest = parseManifest(bundle.manifest, `${bundlePath}: etcd-ops-backup.json`);
      } catch (err) {
        warnings.push({ level: 'warning', code: 'bundle-unreadable', message: `${errorMessage(err)}: cannot tell which snapshot the archive belongs to` });
      }
    }
  }
  const keys = bundle ? new BackupKeys(bundle.encryptionConfigs) : undefined;

  let sha256 = trailer.status === 'ok' ? trailer.sha256 : undefined;
  if (trailer.status !== 'ok') {
    warnings.push({
      level: 'warning',
      code: 'no-trailer',
      message: `${snapshotPath} has no sha256 trailer (a raw member/snap/db, or cut short): its integrity cannot be proven, and \`etcdctl snapshot restore\` needs --skip-hash-check`,
    });
    if (manifest) sha256 = await sha256File(snapshotPath);
  }

  const possiblyDirty = Boolean(name?.possiblyDirty || manifest?.possiblyDirty);
  if (possiblyDirty) {
    warnings.push({ level: 'warning', code: 'possibly-dirty', message: 'the backup was forced (__POSSIBLY_DIRTY__) while a rollout may have been in progress: static pod revisions and data may not match' });
  }

  if (bundlePath && manifest) {
    if (manifest.snapshot.sha256 !== sha256) {
      warnings.push({
        level: 'error',
        code: 'other-backup',
        message: `${basename(bundlePath)} belongs to ${manifest.snapshot.file} (database sha256 ${manifest.snapshot.sha256.slice(0, 12)}…), not to ${basename(snapshotPath)} (${sha256 ? `${sha256.slice(0, 12)}…` : 'no sha256'}): restore each snapshot with the archive made with it`,
      });
    }
  } else if (bundlePath && bundle) {
    const b = parseBackupName(bundlePath);
    if (name && b && (name.stamp !== b.stamp || name.possiblyDirty !== b.possiblyDirty)) {
      warnings.push({ level: 'error', code: 'other-backup', message: `${basename(bundlePath)} is from another backup than ${basename(snapshotPath)} (stamps ${b.stamp} and ${name.stamp}), and it has no etcd-ops manifest to prove otherwise` });
    }
  }

  for (const c of keys?.configs ?? []) {
    if (c.error) warnings.push({ level: 'warning', code: 'bad-config', message: `${c.source}: kube-apiserver would refuse it: ${c.error}` });
  }

  const snap = openSnapshot(snapshotPath);
  let analysis: Analysis;
  let revision: bigint;
  try {
    if (o.liveValues) {
      revision = snap.headRevision();
      analysis = analyzeValues(o.liveValues(snap), keys);
    } else {
      const live = snap.latest({ prefix: Buffer.alloc(0) });
      revision = live.headRevision;
      analysis = analyzeValues(live.values(), keys);
    }
  } finally {
    snap.close();
  }

  encryptionFindings(analysis, keys, bundlePath, bundle !== undefined, warnings);

  return {
    snapshot: { path: snapshotPath, size, trailer: trailer.status === 'ok' ? 'ok' : 'absent', ...(sha256 ? { sha256 } : {}), status, possiblyDirty },
    ...(bundlePath && bundle
      ? {
          bundle: {
            path: bundlePath,
            ...(manifest ? { manifest } : {}),
            staticPods: bundle.revisionDirs.map((d) => d.replace(/^static-pod-resources\//, '')),
            encryptionConfigs: (keys?.configs ?? []).map((c) => ({ file: c.source, ...(c.error ? { error: c.error } : {}) })),
          },
        }
      : {}),
    revision,
    analysis,
    warnings: [...warnings.filter((w) => w.level === 'error'), ...warnings.filter((w) => w.level === 'warning')],
  };
}

function encryptionFindings(a: Analysis, keys: BackupKeys | undefined, bundlePath: string | undefined, bundleRead: boolean, out: Finding[]): void {
  const encrypted = a.keysNeeded.reduce((n, k) => n + k.values, 0);
  if (!bundlePath) {
    out.push(
      encrypted
        ? { level: 'error', code: 'no-bundle', message: `${encrypted} values are encrypted (${a.keysNeeded.map((k) => k.id).join(', ')}) and no resources archive was found next to the snapshot to read them with: give it with --bundle` }
        : { level: 'warning', code: 'no-bundle', message: 'no resources archive (static_kuberesources_*.tar.gz) found next to the snapshot: static pod resources were not checked (give one with --bundle)' },
    );
  }
  if (bundleRead && keys) {
    for (const k of a.keysNeeded) {
      const what = `${k.values} value${k.values === 1 ? '' : 's'} of ${k.resources.join(', ')}`;
      if (!k.inBackup) {
        out.push({ level: 'error', code: 'key-missing', message: `${what} ${k.values === 1 ? 'is' : 'are'} encrypted with ${k.provider} key ${JSON.stringify(k.keyName ?? '')}, which no EncryptionConfiguration in the archive has: ${k.values === 1 ? 'it' : 'they'} cannot be read after a restore` });
      } else if (k.failed) {
        out.push({ level: 'error', code: 'decrypt-failed', message: `${k.failed} of ${what} encrypted with ${k.id} do not decrypt with the archive's key of that name (first: ${k.firstError})` });
      }
    }
  }
  for (const r of a.resources) {
    if (!r.kube) continue;
    const plain = r.json + r.protobuf;
    if (r.encrypted && plain) {
      out.push({ level: 'warning', code: 'partly-encrypted', message: `${r.resource}: ${r.encrypted} of ${r.keys} values are encrypted (${encryptedPercent(r)}%), ${plain} ${plain === 1 ? 'is' : 'are'} plaintext: encryption or decryption was still migrating` });
    }
    if (r.undecodable) {
      out.push({ level: 'warning', code: 'undecodable', message: `${r.resource}: ${r.undecodable} value${r.undecodable === 1 ? ' is' : 's are'} neither JSON, protobuf nor encrypted` });
    }
    if (!r.encrypted && plain && keys) {
      const writers = keys.usable.map((c) => c.setup!.resolve(r.resource).entries[0]).filter((e) => e && e.provider !== 'identity');
      if (writers.length) {
        out.push({ level: 'warning', code: 'not-encrypted', message: `${r.resource}: the archive's configuration writes ${writers[0]!.provider} key ${JSON.stringify(writers[0]!.keyName ?? '')}, but all ${plain} values are plaintext: the migration had not run` });
      }
    }
  }
}

/** Which snapshot and which archive: explicit, or the pair with the same stamp. */
export function locate(o: InspectOptions): { snapshotPath: string; bundlePath?: string } {
  if (!existsSync(o.path)) throw new UserError(`${o.path}: no such file or folder`);
  if (o.bundle !== undefined && !existsSync(o.bundle)) throw new UserError(`--bundle ${o.bundle}: no such file`);
  if (statSync(o.path).isDirectory()) {
    const latest = latestSnapshotName(readdirSync(o.path));
    if (!latest) throw new UserError(`${o.path} holds no snapshot_*.db: give the backup folder or a snapshot file`);
    const snapshotPath = join(o.path, latest);
    return { snapshotPath, bundlePath: o.bundle ?? sibling(snapshotPath) };
  }
  if (o.path.endsWith('.tar.gz')) {
    if (o.bundle !== undefined) throw new UserError(`${o.path} is a resources archive: give the snapshot file, with --bundle ${o.bundle}`);
    const snapshotPath = sibling(o.path);
    if (!snapshotPath) throw new UserError(`${o.path} is a resources archive and its snapshot (${pairedName(o.path) ?? 'snapshot_<stamp>.db'}) is not next to it: give the snapshot file, with --bundle ${o.path}`);
    return { snapshotPath, bundlePath: o.path };
  }
  return { snapshotPath: o.path, bundlePath: o.bundle ?? sibling(o.path) };
}

function sibling(path: string): string | undefined {
  const other = pairedName(path);
  if (!other) return undefined;
  const p = join(dirname(path), other);
  return existsSync(p) ? p : undefined;
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', (err) => reject(new UserError(`reading ${path}: ${err.message}`)));
  });
}
