import { createReadStream, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';
import { Header, Pack, Parser, type ReadEntry } from 'tar';
import { UserError, errorMessage } from '../util/errors.js';
import type { RunFiles } from './files.js';
import { BatchWriter } from './files.js';
import { MANIFEST_NAME } from './manifest.js';
import { ENCRYPTION_CONFIG_FILE } from './static-pods.js';

/**
 * The static-pod resources archive, as cluster-backup.sh writes it (`tar -cpzf ... -C
 * /etc/kubernetes static-pod-resources/<pod>-<rev> ...`: paths relative to etc/kubernetes,
 * modes and owners kept), plus our manifest at its root.
 */
export async function writeResourcesArchive(o: {
  files: RunFiles;
  tmpPath: string;
  finalPath: string;
  root: string;
  relDirs: string[];
  manifest: string;
}): Promise<void> {
  const fd = o.files.create(o.tmpPath, 0o600);
  const out = new BatchWriter(fd);
  try {
    const gzip = createGzip();
    const done = new Promise<void>((resolve, reject) => {
      gzip.on('data', (chunk: Buffer) => {
        try {
          out.write(chunk);
        } catch (err) {
          gzip.destroy(err as Error);
        }
      });
      gzip.on('end', () => resolve());
      gzip.on('error', reject);
    });
    gzip.write(manifestEntry(o.manifest));
    // Whole trees in depth-first, sorted order (as GNU tar lists them), one entry at a time.
    const pack = new Pack({ cwd: o.root, portable: false, noDirRecurse: true, jobs: 1 });
    const packed = new Promise<void>((resolve, reject) => {
      pack.on('data', (chunk: Buffer) => gzip.write(chunk));
      pack.on('end', () => resolve());
      pack.on('error', reject);
      // tar reports unreadable files as warnings; a backup missing files is a failed backup.
      pack.on('warn', (_code: string, message: string) => reject(new Error(message)));
    });
    for (const d of o.relDirs) for (const p of walk(o.root, d)) pack.add(p);
    pack.end();
    await packed;
    gzip.end();
    await done;
    out.finish();
  } catch (err) {
    out.abort();
    throw new UserError(`writing ${o.tmpPath} failed: ${errorMessage(err)}`);
  }
  o.files.publish(o.tmpPath, o.finalPath);
}

/** The manifest as the archive's first entry: a ustar header, the bytes, padding to 512. */
function manifestEntry(text: string): Buffer {
  const body = Buffer.from(text);
  const header = new Header({
    path: MANIFEST_NAME,
    mode: 0o600,
    size: body.length,
    mtime: new Date(),
    type: 'File',
    uid: process.getuid?.() ?? 0,
    gid: process.getgid?.() ?? 0,
  });
  const block = Buffer.alloc(512);
  header.encode(block, 0);
  const pad = Buffer.alloc((512 - (body.length % 512)) % 512);
  return Buffer.concat([block, body, pad]);
}

/** `rel` and everything under it, depth first, names sorted; symlinks are entries, not followed. */
function walk(root: string, rel: string): string[] {
  const out = [rel];
  const st = lstatSync(join(root, rel));
  if (!st.isDirectory()) return out;
  for (const name of readdirSync(join(root, rel)).sort()) out.push(...walk(root, `${rel}/${name}`));
  return out;
}

export interface BundleFile {
  path: string;
  data: Buffer;
}

export interface BundleContents {
  /** Our manifest's text, when the archive has one (cluster-backup.sh archives do not). */
  manifest?: string;
  /** Every EncryptionConfiguration in the archive's revisions. */
  encryptionConfigs: BundleFile[];
  /** The top-level revision folders, e.g. static-pod-resources/etcd-pod-3. */
  revisionDirs: string[];
}

/** Small files only: an EncryptionConfiguration or a manifest is a few KiB. */
const MAX_FILE_BYTES = 4 * 1024 * 1024;

/** Reads what inspection and decryption need out of a resources archive. */
export async function readBundle(path: string): Promise<BundleContents> {
  const contents: BundleContents = { encryptionConfigs: [], revisionDirs: [] };
  const dirs = new Set<string>();
  const encSuffix = `/${ENCRYPTION_CONFIG_FILE}`;
  try {
    await new Promise<void>((resolve, reject) => {
      const parser = new Parser({
        strict: true,
        onReadEntry: (entry: ReadEntry) => {
          const p = entry.path.replace(/^\.\//, '');
          const m = /^(static-pod-resources\/[^/]+-\d+)(\/|$)/.exec(p);
          if (m) dirs.add(m[1]!);
          const wanted = entry.type === 'File' && (p === MANIFEST_NAME || (p.endsWith(encSuffix) && /^static-pod-resources\/[^/]+-\d+\//.test(p)));
          if (!wanted || entry.size > MAX_FILE_BYTES) {
            entry.resume();
            return;
          }
          const chunks: Buffer[] = [];
          entry.on('data', (c: Buffer) => chunks.push(c));
          entry.on('end', () => {
            const data = Buffer.concat(chunks);
            if (p === MANIFEST_NAME) contents.manifest = data.toString('utf8');
            else contents.encryptionConfigs.push({ path: p, data });
          });
        },
      });
      parser.on('error', reject);
      parser.on('warn', (_code: string, message: string) => reject(new Error(message)));
      parser.on('end', () => resolve());
      const input = createReadStream(path);
      input.on('error', reject);
      input.pipe(parser);
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${path}: no such file`);
    throw new UserError(`${path} is not a readable resources archive (tar.gz): ${errorMessage(err).replace(/\s+/g, ' ')}`);
  }
  contents.revisionDirs = [...dirs].sort();
  return contents;
}
