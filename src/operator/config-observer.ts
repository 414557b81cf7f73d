import { CORE, OPERATOR, type KubeObject } from '../kube/client.js';
import type { OperatorContext } from './context.js';
import { OPERANDS } from './rollout/operands.js';

/**
 * Copies what a revision depends on from the operator objects' specs into the operands'
 * `config` ConfigMaps; a new forceRedeploymentReason therefore makes a new revision.
 */
export async function syncConfigSources(ctx: OperatorContext): Promise<void> {
  for (const operand of OPERANDS) {
    const op = await ctx.kube.get(OPERATOR(operand.operator.resource), 'cluster');
    const data = { forceRedeploymentReason: String(op.spec?.forceRedeploymentReason ?? '') };
    const ref = CORE('configmaps', operand.namespace);
    const cur = await ctx.kube.getOrUndefined(ref, 'config');
    if (cur && JSON.stringify(cur.data ?? {}) === JSON.stringify(data)) continue;
    const body: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'config', namespace: operand.namespace }, data };
    if (cur) await ctx.kube.update(ref, { ...body, metadata: { ...body.metadata, resourceVersion: cur.metadata.resourceVersion } });
    else await ctx.kube.create(ref, body);
    if (cur) ctx.log(`${operand.name}: forceRedeploymentReason is now "${data.forceRedeploymentReason}"`);
  }
}
