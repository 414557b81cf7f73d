import { decodeEncryptionConfiguration } from '../../encryption/index.js';
import { CONFIG, CORE, type KubeObject } from '../../kube/client.js';
import { parseDuration } from '../../util/duration.js';
import type { OperatorContext } from '../context.js';
import { ENCRYPTION_CONFIG_KEY, KUBE_APISERVER } from '../rollout/operands.js';
import type { NodeStatus } from '../rollout/progress.js';
import { COMPONENTS } from './components.js';
import { KEY_NAMESPACE, LABEL_COMPONENT, MODES, parseKeySecrets, type EncryptionKey, type Mode } from './keys.js';
import { deployedState, type DeployedState } from './state.js';

export const DEFAULT_ROTATION_INTERVAL_MS = 7 * 24 * 3600 * 1000;

/** Everything the encryption controllers decide from, read fresh on every sync. */
export interface EncryptionObservation {
  mode: Mode;
  /** Set when spec.encryption.type holds something we do not know (admission should stop it). */
  unknownMode?: string;
  keys: Map<string, EncryptionKey[]>;
  externalReasons: Map<string, string>;
  operators: Map<string, KubeObject>;
  /** Per node, per component: what its running API server revision was configured with. */
  deployed: Map<string, DeployedState[]>;
  nodes: NodeStatus[];
  latestRevision: number;
  /** All nodes run the latest revision and none is installing. */
  rolledOut: boolean;
  /** The config the revision controller will roll out next (the source secret). */
  sourceConfig?: string;
  rotationIntervalMs: number;
  /** Objects per migration page; spec.unsupportedConfigOverrides.encryption.migrationPageSize can lower it (tests do). */
  migrationPageSize?: number;
  /** spec.unsupportedConfigOverrides.encryption.migrationObjectsPerSecond: a cap on the migration's pace. */
  migrationObjectsPerSecond?: number;
}

export function decodeConfigSecret(s: KubeObject | undefined): string | undefined {
  const b64 = s?.data?.[ENCRYPTION_CONFIG_KEY];
  return b64 ? Buffer.from(b64, 'base64').toString('utf8') : undefined;
}

export async function observeEncryption(ctx: OperatorContext): Promise<EncryptionObservation> {
  const apiserver = await ctx.kube.get(CONFIG('apiservers'), 'cluster');
  const type: string = apiserver.spec?.encryption?.type ?? '';
  const known = (MODES as readonly string[]).includes(type) || type === '';
  const mode: Mode = type === '' || !known ? 'identity' : (type as Mode);
  const { items: secrets } = await ctx.kube.list(CORE('secrets', KEY_NAMESPACE), { labelSelector: LABEL_COMPONENT });
  const keys = new Map<string, EncryptionKey[]>();
  const externalReasons = new Map<string, string>();
  const operators = new Map<string, KubeObject>();
  for (const c of COMPONENTS) {
    keys.set(c.name, parseKeySecrets(c.name, secrets));
    const op = await ctx.kube.get(c.operator, 'cluster');
    operators.set(c.name, op);
    externalReasons.set(c.name, op.spec?.unsupportedConfigOverrides?.encryption?.reason ?? '');
  }
  const kas = operators.get('openshift-kube-apiserver')!;
  const override = kas.spec?.unsupportedConfigOverrides?.encryption?.rotationInterval;
  let rotationIntervalMs = ctx.options.rotationIntervalMs;
  if (typeof override === 'string') {
    try {
      rotationIntervalMs = parseDuration(override, 'rotationInterval');
    } catch {
      ctx.log(`ignoring spec.unsupportedConfigOverrides.encryption.rotationInterval "${override}": not a duration`);
    }
  }
  const pageOverride = kas.spec?.unsupportedConfigOverrides?.encryption?.migrationPageSize;
  const migrationPageSize = Number.isInteger(pageOverride) && pageOverride > 0 ? Number(pageOverride) : undefined;
  const rateOverride = kas.spec?.unsupportedConfigOverrides?.encryption?.migrationObjectsPerSecond;
  const migrationObjectsPerSecond = typeof rateOverride === 'number' && rateOverride > 0 ? rateOverride : undefined;
  const nodes: NodeStatus[] = kas.status?.nodeStatuses ?? [];
  const latestRevision: number = kas.status?.latestAvailableRevision ?? 0;
  const revisions = [...new Set(nodes.map((n) => n.currentRevision).filter((r) => r > 0))];
  const configs = new Map<number, string | undefined>();
  for (const rev of revisions) {
    configs.set(rev, decodeConfigSecret(await ctx.kube.getOrUndefined(CORE('secrets', KUBE_APISERVER.namespace), `encryption-config-${rev}`)));
  }
  const deployed = new Map<string, DeployedState[]>();
  for (const c of COMPONENTS) {
    deployed.set(
      c.name,
      nodes.map((n) => {
        const text = configs.get(n.currentRevision);
        // A node without a known revision is treated as identity-only: the safest assumption.
        return text ? deployedState(decodeEncryptionConfiguration(text), c) : { write: { mode: 'identity' }, read: [] };
      }),
    );
  }
  const rolledOut = nodes.length > 0 && nodes.every((n) => n.currentRevision === latestRevision && !n.targetRevision);
  const source = await ctx.kube.getOrUndefined(CORE('secrets', KUBE_APISERVER.namespace), 'encryption-config');
  return {
    mode,
    unknownMode: known ? undefined : type,
    keys,
    externalReasons,
    operators,
    deployed,
    nodes,
    latestRevision,
    rolledOut,
    sourceConfig: decodeConfigSecret(source),
    rotationIntervalMs,
    migrationPageSize,
    migrationObjectsPerSecond,
  };
}
