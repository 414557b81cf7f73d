import type { Transformer, TransformerForResource, TransformContext, ReadResult } from './transformer.js';
import type { EncryptionConfiguration, ProviderConfig, ProviderType } from './configuration.js';
import { decodeBase64Strict } from './configuration.js';
import { StorageTransformError, TransformError } from './errors.js';
import { PrefixTransformers, type PrefixEntry } from './prefix.js';
import { identity } from './identity.js';
import { AesCbcTransformer } from './aes-cbc.js';
import { AesGcmTransformer } from './aes-gcm.js';
import { SecretboxTransformer } from './secretbox.js';
import { UnsupportedKmsTransformer } from './kms.js';
import { parseGroupResource, ruleString, grKey, type GroupResource } from './group-resource.js';
import { errorMessage } from '../util/errors.js';

/** One place a value can be read from, in read order; the first of a resource writes. No secrets. */
export interface ProviderKeyRef {
  readonly provider: ProviderType;
  /** The key name (aescbc, aesgcm, secretbox) or the KMS plugin name; absent for identity. */
  readonly keyName?: string;
  /** The bytes a value written by this entry starts with; "" for identity. */
  readonly prefix: string;
}

export interface ResolvedResource {
  /** The configured rule that applies ("secrets", "*.apps", "*.*"), or null: not configured, identity. */
  readonly matchedBy: string | null;
  readonly entries: readonly ProviderKeyRef[];
}

export interface EncryptionSetup {
  /** The configuration it was built from (keys included: never print it whole). */
  readonly config: EncryptionConfiguration;
  /** The transformer kube-apiserver would use for a group-resource ("secrets", "routes.route.openshift.io"). */
  readonly transformerFor: TransformerForResource;
  /** Which rule and which ordered entries apply to a group-resource, wildcards resolved. */
  resolve(groupResource: string): ResolvedResource;
  /** Per configured resource (as written, wildcards included), its entries in read order. */
  readonly rules: ReadonlyArray<{ readonly resource: string; readonly entries: readonly ProviderKeyRef[] }>;
}

const PROVIDER_PREFIX: Record<'aescbc' | 'aesgcm' | 'secretbox', string> = {
  aescbc: 'k8s:enc:aescbc:v1:',
  aesgcm: 'k8s:enc:aesgcm:v1:',
  secretbox: 'k8s:enc:secretbox:v1:',
};

const IDENTITY_REF: ProviderKeyRef = { provider: 'identity', prefix: '' };

/**
 * Builds kube-apiserver's transformers from a validated configuration. Ciphers are keyed once
 * here; the transformers are then shared by every read and write of the resources they serve.
 * Resources listed in several entries get the entries' providers one after the other.
 */
export function buildEncryption(config: EncryptionConfiguration): EncryptionSetup {
  const byResource = new Map<string, { gr: GroupResource; entries: PrefixEntry[]; refs: ProviderKeyRef[] }>();
  for (const rule of config.resources) {
    const built = rule.providers.map(buildProvider);
    for (const resource of rule.resources) {
      const gr = parseGroupResource(resource);
      const k = grKey(gr);
      let slot = byResource.get(k);
      if (!slot) byResource.set(k, (slot = { gr, entries: [], refs: [] }));
      for (const b of built) {
        slot.entries.push(b.entry);
        slot.refs.push(...b.refs);
      }
    }
  }

  const transformers = new Map<string, Transformer>();
  for (const [k, slot] of byResource) transformers.set(k, new KeyedErrors(new PrefixTransformers(slot.entries, 'no matching prefix found')));
  const fallback = new KeyedErrors(identity);

  const lookup = (gr: GroupResource): string | undefined => {
    for (const candidate of [gr, { group: gr.group, resource: '*' }, { group: '*', resource: '*' }]) {
      const k = grKey(candidate);
      if (byResource.has(k)) return k;
    }
    return undefined;
  };

  const cache = new Map<string, Transformer>();
  const transformerFor: TransformerForResource = (groupResource) => {
    let t = cache.get(groupResource);
    if (!t) {
      const k = lookup(parseGroupResource(groupResource));
      t = k === undefined ? fallback : transformers.get(k)!;
      cache.set(groupResource, t);
    }
    return t;
  };

  return {
    config,
    transformerFor,
    resolve(groupResource) {
      const k = lookup(parseGroupResource(groupResource));
      if (k === undefined) return { matchedBy: null, entries: [IDENTITY_REF] };
      const slot = byResource.get(k)!;
      return { matchedBy: ruleString(slot.gr), entries: slot.refs };
    },
    rules: [...byResource.values()].map((s) => ({ resource: ruleString(s.gr), entries: s.refs })),
  };
}

function buildProvider(p: ProviderConfig): { entry: PrefixEntry; refs: ProviderKeyRef[] } {
  switch (p.type) {
    case 'identity':
      return { entry: { prefix: Buffer.alloc(0), transformer: identity }, refs: [IDENTITY_REF] };
    case 'kms': {
      const prefix = `k8s:enc:kms:${p.apiVersion}:${p.name}:`;
      return {
        entry: { prefix: Buffer.from(prefix), transformer: new UnsupportedKmsTransformer(p.name) },
        refs: [{ provider: 'kms', keyName: p.name, prefix }],
      };
    }
    default: {
      const providerPrefix = PROVIDER_PREFIX[p.type];
      const keyEntries: PrefixEntry[] = p.keys.map((k) => {
        const secret = decodeBase64Strict(k.secret);
        if (!secret) throw new TransformError(`key ${k.name} of the ${p.type} provider is not valid base64`);
        const cipher =
          p.type === 'aescbc' ? new AesCbcTransformer(secret) : p.type === 'aesgcm' ? new AesGcmTransformer(secret) : new SecretboxTransformer(secret);
        return { prefix: Buffer.from(`${k.name}:`), transformer: cipher };
      });
      const noKey = `no matching key was found for the provided ${p.type === 'secretbox' ? 'Secretbox' : 'AES'} transformer`;
      return {
        entry: { prefix: Buffer.from(providerPrefix), transformer: new PrefixTransformers(keyEntries, noKey) },
        refs: p.keys.map((k) => ({ provider: p.type, keyName: k.name, prefix: `${providerPrefix}${k.name}:` })),
      };
    }
  }
}

/** The resource-level transformer: failures name the etcd key, as the storage layer reports them. */
class KeyedErrors implements Transformer {
  constructor(private readonly inner: Transformer) {}

  fromStorage(stored: Buffer, ctx: TransformContext): ReadResult {
    try {
      return this.inner.fromStorage(stored, ctx);
    } catch (err) {
      throw new StorageTransformError(ctx.key, errorMessage(err), 'read');
    }
  }

  toStorage(plain: Buffer, ctx: TransformContext): Buffer {
    try {
      return this.inner.toStorage(plain, ctx);
    } catch (err) {
      throw new StorageTransformError(ctx.key, errorMessage(err), 'write');
    }
  }
}
