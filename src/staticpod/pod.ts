import { parse, stringify } from 'yaml';
import { z } from 'zod';

/**
 * The part of a Kubernetes Pod that a kubelet needs to run a static pod. Unknown fields pass
 * through: a real kubelet and our agent read the same file the same way.
 */
const EnvVar = z.looseObject({ name: z.string().min(1), value: z.string().optional() });

/**
 * kubelet's readiness probes: `httpGet` (HTTPS probes do not verify certificates, as with the
 * kubelet) or `exec` (a command in the container's context; ready when it exits 0).
 */
const Probe = z
  .looseObject({
    httpGet: z
      .looseObject({
        scheme: z.enum(['HTTP', 'HTTPS']).default('HTTP'),
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(1).max(65535),
        path: z.string().default('/'),
      })
      .optional(),
    exec: z.looseObject({ command: z.array(z.string()).min(1) }).optional(),
    periodSeconds: z.number().positive().default(2),
    timeoutSeconds: z.number().positive().default(1),
  })
  .refine((p) => (p.httpGet === undefined) !== (p.exec === undefined), { message: 'a probe needs exactly one of httpGet and exec' });

const Container = z.looseObject({
  name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS label'),
  image: z.string().optional(),
  command: z.array(z.string()).min(1, 'command must name what to run'),
  args: z.array(z.string()).optional(),
  env: z.array(EnvVar).optional(),
  workingDir: z.string().optional(),
  readinessProbe: Probe.optional(),
});

export const PodSchema = z.looseObject({
  apiVersion: z.literal('v1'),
  kind: z.literal('Pod'),
  metadata: z.looseObject({
    name: z.string().min(1),
    namespace: z.string().default('default'),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
  spec: z.looseObject({
    containers: z.array(Container).min(1),
    restartPolicy: z.enum(['Always', 'OnFailure', 'Never']).default('Always'),
    terminationGracePeriodSeconds: z.number().int().nonnegative().optional(),
    volumes: z.array(z.looseObject({ name: z.string(), hostPath: z.looseObject({ path: z.string() }).optional() })).optional(),
  }),
});

export type Pod = z.infer<typeof PodSchema>;
export type PodContainer = Pod['spec']['containers'][number];
export type ReadinessProbe = NonNullable<PodContainer['readinessProbe']>;

export function parsePod(text: string, source: string): Pod {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new Error(`${source}: not YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const r = PodSchema.safeParse(doc);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new Error(`${source}: ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  return r.data;
}

export function serializePod(pod: Pod): string {
  return stringify(pod, { lineWidth: 0 });
}

/** Kubernetes expands $(VAR) in command and args from the container's env; $$ escapes. */
export function expandVars(s: string, env: Record<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name?: string) => {
    if (m === '$$') return '$';
    return name !== undefined && name in env ? env[name] : m;
  });
}

/** The static-pod resources directory a manifest runs from: its `resource-dir` hostPath volume. */
export function resourceDirOf(pod: Pod): string | undefined {
  return pod.spec.volumes?.find((v) => v.name === 'resource-dir')?.hostPath?.path;
}

export function revisionOf(pod: Pod): number | undefined {
  const r = pod.metadata.labels?.revision;
  return r !== undefined && /^\d+$/.test(r) ? Number(r) : undefined;
}

export interface StaticPodSpec {
  name: string;
  namespace: string;
  revision: number;
  /** Labels besides `revision`, which every static pod of ours carries for the installer. */
  labels: Record<string, string>;
  container: PodContainer;
  /**
   * Containers beside the main one, in pod order. One named in `defaultContainer` is what `kubectl
   * exec` and `kubectl logs` pick without -c (the kubectl.kubernetes.io/default-container annotation).
   */
  sidecars?: { before?: PodContainer[]; after?: PodContainer[]; defaultContainer?: string };
  /** The installed revision's folder, mounted as `resource-dir` (what resourceDirOf reads back). */
  resourceDir: string;
  /** Further hostPath volumes, by name. */
  hostPaths?: Record<string, string>;
  priorityClassName?: string;
}

/** The scaffold every static pod shares: host network, restart always, a short grace period. */
export function staticPod(s: StaticPodSpec): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: s.name,
      namespace: s.namespace,
      labels: { ...s.labels, revision: String(s.revision) },
      annotations: {
        'kubernetes.io/config.source': 'file',
        ...(s.sidecars?.defaultContainer ? { 'kubectl.kubernetes.io/default-container': s.sidecars.defaultContainer } : {}),
      },
    },
    spec: {
      hostNetwork: true,
      ...(s.priorityClassName ? { priorityClassName: s.priorityClassName } : {}),
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 3,
      containers: [...(s.sidecars?.before ?? []), s.container, ...(s.sidecars?.after ?? [])],
      volumes: [
        { name: 'resource-dir', hostPath: { path: s.resourceDir } },
        ...Object.entries(s.hostPaths ?? {}).map(([name, path]) => ({ name, hostPath: { path } })),
      ],
    },
  };
}
