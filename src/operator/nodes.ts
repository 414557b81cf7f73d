import { CORE, isNotFound } from '../kube/client.js';
import type { OperatorContext } from './context.js';
import type { NodeView } from './rollout/progress.js';

/**
 * The control-plane hosts that exist, as their Node objects say, and whether each is Ready;
 * undefined while there are none to go by (no agent has registered yet): then nothing is pruned.
 */
export async function existingNodes(ctx: OperatorContext): Promise<NodeView[] | undefined> {
  try {
    const { items } = await ctx.kube.list(CORE('nodes'));
    if (items.length === 0) return undefined;
    return items.map((n) => ({
      name: n.metadata.name as string,
      ready: (n.status?.conditions ?? []).some((c: { type?: string; status?: string }) => c.type === 'Ready' && c.status === 'True'),
    }));
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
