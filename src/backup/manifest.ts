import { z } from 'zod';
import type { EncryptionSetup } from '../encryption/index.js';

/**
 * `etcd-ops-backup.json`, at the root of the resources archive: what the snapshot next to it is
 * and what it needs to be read. Key names and modes only: key material stays in the
 * EncryptionConfiguration files the archive already holds.
 */
export const MANIFEST_NAME = 'etcd-ops-backup.json';
export const MANIFEST_KIND = 'EtcdBackup';
export const MANIFEST_API_VERSION = 'etcd-ops.io/v1';

const KeyRef = z.object({ provider: z.string(), name: z.string().optional() });

const ResourceEncryption = z.looseObject({
  resource: z.string(),
  /** The provider that writes: identity means new values are stored in plaintext. */
  mode: z.string(),
  writeKey: z.string().optional(),
  /** Every provider and key that can read, in read order. */
  keys: z.array(KeyRef),
});

const ComponentEncryption = z.looseObject({
  pod: z.string(),
  revision: z.number(),
  /** The EncryptionConfiguration's path inside the archive. */
  file: z.string(),
  resources: z.array(ResourceEncryption),
  /** Set when the file is there but kube-apiserver would refuse it. */
  error: z.string().optional(),
});

export const ManifestSchema = z.looseObject({
  apiVersion: z.literal(MANIFEST_API_VERSION),
  kind: z.literal(MANIFEST_KIND),
  createdAt: z.string(),
  stamp: z.string(),
  possiblyDirty: z.boolean(),
  host: z.string().optional(),
  endpoint: z.string(),
  etcdOps: z.looseObject({ version: z.string() }),
  etcd: z.looseObject({
    version: z.string(),
    clusterID: z.string(),
    memberID: z.string(),
    revision: z.number(),
    dbSize: z.number(),
  }),
  snapshot: z.looseObject({
    file: z.string(),
    size: z.number(),
    /** SHA-256 of the database bytes: the file's last 32 bytes, as etcd sent them. */
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    status: z.looseObject({ hash: z.number(), revision: z.number(), totalKey: z.number(), totalSize: z.number() }),
  }),
  staticPods: z.array(z.looseObject({ pod: z.string(), revision: z.number(), dir: z.string() })),
  encryption: z.array(ComponentEncryption),
});

export type BackupManifest = z.infer<typeof ManifestSchema>;
export type ComponentEncryptionState = z.infer<typeof ComponentEncryption>;
export type ResourceEncryptionState = z.infer<typeof ResourceEncryption>;

/** Modes and key names per configured resource, in the configuration's read order. */
export function encryptionState(setup: EncryptionSetup): ResourceEncryptionState[] {
  return setup.rules.map((rule) => {
    const write = rule.entries[0];
    return {
      resource: rule.resource,
      mode: write?.provider ?? 'identity',
      ...(write?.keyName !== undefined ? { writeKey: write.keyName } : {}),
      keys: rule.entries.map((e) => (e.keyName !== undefined ? { provider: e.provider, name: e.keyName } : { provider: e.provider })),
    };
  });
}

export function parseManifest(text: string, source: string): BackupManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${source}: not JSON (${(err as Error).message})`);
  }
  const r = ManifestSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new Error(`${source}: ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  return r.data;
}

export function serializeManifest(m: BackupManifest): string {
  return `${JSON.stringify(m, null, 2)}\n`;
}
