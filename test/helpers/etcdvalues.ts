import { clientFor, type Members } from './fill.js';

/** Every stored value under a prefix, as raw bytes: what etcdctl get --prefix shows. */
export async function storedValues(endpoints: Members, prefix: string): Promise<Map<string, Buffer>> {
  const c = clientFor(endpoints);
  try {
    const kvs = await c.getAll().prefix(prefix).exec();
    return new Map(kvs.kvs.map((kv) => [kv.key.toString(), kv.value]));
  } finally {
    c.close();
  }
}

/** The five resources the encryption operator manages, by etcd prefix. */
export const ENCRYPTED_PREFIXES = [
  '/kubernetes.io/secrets/',
  '/kubernetes.io/configmaps/',
  '/openshift.io/routes/',
  '/openshift.io/oauth/accesstokens/',
  '/openshift.io/oauth/authorizetokens/',
];
