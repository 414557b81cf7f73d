import type { Command } from 'commander';
import { UserError } from '../util/errors.js';
import { registerAdmin } from './encryption-admin.js';

/**
 * `etcd-ops encryption ...`: encryption at rest as kube-apiserver does it.
 * Each subcommand registers in its own function below; add status|enable|disable|rotate the same
 * way and call them from register(). Crypto, YAML and zod load only inside actions.
 */
export function register(program: Command): void {
  const encryption = program
    .command('encryption')
    .description('Encryption at rest of Kubernetes resources, byte-compatible with kube-apiserver');
  registerDecrypt(encryption);
  registerEncrypt(encryption);
  registerAdmin(encryption);
}

interface TransformOptions {
  config: string;
  etcdKey: string;
  resource?: string;
}

// ---- decrypt ----------------------------------------------------------------------------------

function registerDecrypt(encryption: Command): void {
  encryption
    .command('decrypt')
    .description(
      'Decrypt one stored value: stored bytes on stdin, plaintext on stdout. A trailing newline added by ' +
        '`etcdctl get --print-value-only` is tolerated.',
    )
    .requiredOption('--config <file>', 'EncryptionConfiguration file (apiserver.config.k8s.io/v1)')
    .requiredOption('--etcd-key <key>', 'the etcd key the value is stored under (aesgcm authenticates it)')
    .option('--resource <group-resource>', 'e.g. secrets, routes.route.openshift.io (default: from the etcd key)')
    .action(async (opts: TransformOptions) => {
      const { transformer, resource } = await transformerFor(opts);
      const { StorageTransformError } = await import('../encryption/errors.js');
      const stored = await readStdin();
      let plain: Buffer;
      try {
        plain = transformer.fromStorage(stored, { key: opts.etcdKey }).data;
      } catch (err) {
        // etcdctl prints values with a newline after them; no valid ciphertext survives one extra byte.
        const retry = stored.length > 0 && stored[stored.length - 1] === 0x0a ? tryRead(transformer, stored.subarray(0, -1), opts.etcdKey) : undefined;
        if (!retry) {
          if (err instanceof StorageTransformError) throw new UserError(`${err.message} (resource ${resource})`);
          throw err;
        }
        plain = retry;
      }
      await writeStdout(plain);
    });
}

// ---- encrypt ----------------------------------------------------------------------------------

function registerEncrypt(encryption: Command): void {
  encryption
    .command('encrypt')
    .description('Encrypt one value as kube-apiserver would store it: plaintext on stdin, stored bytes on stdout')
    .requiredOption('--config <file>', 'EncryptionConfiguration file (apiserver.config.k8s.io/v1)')
    .requiredOption('--etcd-key <key>', 'the etcd key the value will be stored under (aesgcm authenticates it)')
    .option('--resource <group-resource>', 'e.g. secrets, routes.route.openshift.io (default: from the etcd key)')
    .action(async (opts: TransformOptions) => {
      const { transformer, resource, resolved } = await transformerFor(opts);
      const { StorageTransformError } = await import('../encryption/errors.js');
      if (resolved.matchedBy === null) {
        process.stderr.write(`etcd-ops: warning: ${opts.config} does not encrypt ${resource}: the value is written as plaintext\n`);
      }
      const plain = await readStdin();
      let stored: Buffer;
      try {
        stored = transformer.toStorage(plain, { key: opts.etcdKey });
      } catch (err) {
        if (err instanceof StorageTransformError) throw new UserError(`${err.message} (resource ${resource})`);
        throw err;
      }
      await writeStdout(stored);
    });
}

// ---- shared -----------------------------------------------------------------------------------

async function transformerFor(opts: TransformOptions) {
  const { loadEncryptionConfiguration, resourceForEtcdKey } = await import('../encryption/index.js');
  const resource = opts.resource ?? resourceForEtcdKey(opts.etcdKey);
  if (!resource) {
    throw new UserError(`cannot tell the resource of etcd key ${JSON.stringify(opts.etcdKey)}: pass --resource, e.g. --resource secrets`);
  }
  const setup = loadEncryptionConfiguration(opts.config);
  return { transformer: setup.transformerFor(resource), resource, resolved: setup.resolve(resource) };
}

function tryRead(transformer: import('../encryption/transformer.js').Transformer, stored: Buffer, key: string): Buffer | undefined {
  try {
    return transformer.fromStorage(stored, { key }).data;
  } catch {
    return undefined;
  }
}

async function readStdin(): Promise<Buffer> {
  if (process.stdin.isTTY) throw new UserError('pipe the value on stdin, e.g. etcdctl get KEY --print-value-only | etcd-ops encryption decrypt ...');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function writeStdout(data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(data, (err) => (err ? reject(err) : resolve())));
}
