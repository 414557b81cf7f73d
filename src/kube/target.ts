import { existsSync } from 'node:fs';
import { kubeconfigPath, resolveHome } from '../home/layout.js';
import { UserError } from '../util/errors.js';
import { KubeClient } from './client.js';
import { loadKubeconfig } from './kubeconfig.js';

/** The API of the local home (its kubeconfig), or any kubeconfig given with --kubeconfig or $KUBECONFIG. */
export function kubeClientFor(flags: { home?: string; kubeconfig?: string; context?: string }): KubeClient {
  const path = flags.kubeconfig ?? (flags.home || !process.env.KUBECONFIG ? kubeconfigPath(resolveHome(flags.home)) : process.env.KUBECONFIG);
  if (!existsSync(path)) {
    throw new UserError(`no kubeconfig at ${path}: run \`etcd-ops up\` first, or pass --kubeconfig`);
  }
  return new KubeClient(loadKubeconfig(path, flags.context));
}
