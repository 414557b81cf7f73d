import { CORE, isNotFound } from '../kube/client.js';
import type { OperatorContext } from './context.js';

/**
 * The control-plane hosts that exist, as their Node objects say; undefined while there are none
 * to go by (the API serves no Nodes, or no agent has registered yet): then nothing is pruned.
 */
export async function existingNodeNames(ctx: OperatorContext): Promise<string[] | undefined> {
  try {
    const { items } = await ctx.kube.list(CORE('nodes'));
    const names = items.map((n) => n.metadata.name as string);
    return names.length ? names : undefined;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
