import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';

/** What the agent reports about its pods; `etcd-ops ps` reads it, nobody else writes it. */
export const ContainerStatusSchema = z.object({
  id: z.string(),
  name: z.string(),
  image: z.string().optional(),
  state: z.enum(['Running', 'Exited', 'Terminating']),
  ready: z.boolean().default(false),
  /** Why a container that is not running is not: CrashLoopBackOff, Completed, Error. */
  reason: z.string().optional(),
  restarts: z.number().int(),
  pid: z.number().int().optional(),
  startTicks: z.number().optional(),
  startedAt: z.string().optional(),
  exitCode: z.number().int().optional(),
  log: z.string(),
});

export const PodStatusSchema = z.object({
  name: z.string(),
  namespace: z.string(),
  manifest: z.string(),
  revision: z.number().int().optional(),
  hash: z.string(),
  containers: z.array(ContainerStatusSchema),
});

export const AgentStatusSchema = z.object({
  host: z.string(),
  agentPid: z.number().int(),
  startedAt: z.string(),
  updatedAt: z.string(),
  pods: z.array(PodStatusSchema),
  manifestErrors: z.array(z.object({ file: z.string(), error: z.string() })),
});

export type ContainerStatus = z.infer<typeof ContainerStatusSchema>;
export type PodStatus = z.infer<typeof PodStatusSchema>;
export type AgentStatus = z.infer<typeof AgentStatusSchema>;

export function readAgentStatus(path: string): AgentStatus | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return AgentStatusSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
  } catch {
    return undefined;
  }
}
