import type { Command } from 'commander';
import { UserError } from '../util/errors.js';
import { registerRestore } from './snapshot-restore.js';
import { IDENTITY_HELP, plain } from './age-input.js';

/**
 * `etcd-ops snapshot status|get`: read etcd snapshot files (or a raw member/snap/db) offline,
 * with no etcd running. status prints what `etcdctl snapshot status` prints.
 */
export function register(program: Command): void {
  const snapshot = program.command('snapshot').description('Inspect etcd snapshot files offline (no etcd needed), and restore them');

  snapshot
    .command('status')
    .description('Print a snapshot\'s hash, revision, key count and size, as `etcdctl snapshot status` does; verifies the sha256 trailer')
    .argument('<file>', 'snapshot file (etcdctl snapshot save) or a raw member/snap/db')
    .option('-w, --write-out <format>', 'output format: simple, json or table', 'simple')
    .option('--skip-hash-check', 'do not verify the sha256 trailer (etcdctl snapshot status does not)')
    .option('--identity <file>', IDENTITY_HELP)
    .action(async (file: string, opts: { writeOut: string; skipHashCheck?: boolean; identity?: string }) => {
      const format = statusFormat(opts.writeOut);
      const opened = await plain([file], opts.identity);
      try {
        const path = opened.paths[0]!;
        // The sha256 runs on a worker; start it before loading the rest of the reader.
        const { startTrailerCheck } = await import('../snapshot/trailer.js');
        const hashing = opts.skipHashCheck ? undefined : startTrailerCheck(path);
        const { snapshotStatus } = await import('../snapshot/index.js');
        const { formatStatus } = await import('./printers/snapshot.js');
        const { status } = await snapshotStatus(path, { verifyHash: !opts.skipHashCheck, hashing });
        process.stdout.write(formatStatus(status, format));
      } finally {
        opened.close();
      }
    });

  snapshot
    .command('get')
    .description('Print the values a member restored from the snapshot would return (key line, value line, like etcdctl get)')
    .argument('<file>', 'snapshot file or raw member/snap/db')
    .argument('[key]', 'the key to print (all keys when omitted)')
    .option('--prefix [prefix]', 'print keys starting with this prefix (or, without a value, with [key])')
    .option('--rev <revision>', 'read the store as of this revision (default: the newest)')
    .option('-w, --write-out <format>', 'output format: simple or json', 'simple')
    .option('--decrypt-with <bundle>', 'decrypt values with the keys of a backup\'s static_kuberesources_*.tar.gz[.age] (or an EncryptionConfiguration file)')
    .option('--identity <file>', IDENTITY_HELP)
    .action(async (file: string, key: string | undefined, opts: { prefix?: string | true; rev?: string; writeOut: string; decryptWith?: string; identity?: string }) => {
      const format = opts.writeOut;
      if (format !== 'simple' && format !== 'json') throw new UserError(`unsupported output format "${format}" for snapshot get: use simple or json`);
      const q = getQuery(key, opts);
      const opened = await plain([file, ...(opts.decryptWith === undefined ? [] : [opts.decryptWith])], opts.identity);
      try {
        const { openSnapshot } = await import('../snapshot/index.js');
        const { writeValues } = await import('./printers/snapshot.js');
        const bundle = opened.paths[1];
        const transform = bundle === undefined ? undefined : await (await import('../backup/decrypt.js')).decryptingTransform(bundle);
        const snap = openSnapshot(opened.paths[0]!);
        try {
          await writeValues(snap, q, format, writeStdout, transform);
        } finally {
          snap.close();
        }
      } finally {
        opened.close();
      }
    });

  registerRestore(snapshot);
}

/** Writes to stdout, waiting when its buffer is full (large outputs, slow pipes). */
function writeStdout(chunk: string | Buffer): void | Promise<void> {
  if (process.stdout.write(chunk)) return;
  return new Promise((resolve) => process.stdout.once('drain', () => resolve()));
}

function statusFormat(w: string): 'simple' | 'json' | 'table' {
  if (w === 'simple' || w === 'json' || w === 'table') return w;
  throw new UserError(`unsupported output format "${w}" for snapshot status: use simple, json or table`);
}

function getQuery(key: string | undefined, opts: { prefix?: string | true; rev?: string }): { key?: Buffer; prefix?: Buffer; rev?: bigint } {
  const q: { key?: Buffer; prefix?: Buffer; rev?: bigint } = {};
  if (opts.prefix === true) {
    // etcdctl style: `get KEY --prefix`.
    q.prefix = Buffer.from(key ?? '');
  } else if (opts.prefix !== undefined) {
    if (key !== undefined) throw new UserError(`give either a key (${key}) or --prefix ${opts.prefix}, not both`);
    q.prefix = Buffer.from(opts.prefix);
  } else if (key !== undefined) {
    q.key = Buffer.from(key);
  } else {
    q.prefix = Buffer.alloc(0);
  }
  if (opts.rev !== undefined) {
    if (!/^\d+$/.test(opts.rev)) throw new UserError(`--rev ${opts.rev}: want a revision number (0 for the newest)`);
    q.rev = BigInt(opts.rev);
  }
  return q;
}
