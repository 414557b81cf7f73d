import type { Command } from 'commander';
import { durationOption, homeOption, writeOutOption } from './connection.js';
import { UserError } from '../util/errors.js';
import type { EncryptionReport } from '../operator/encryption/report.js';

interface AdminFlags {
  home?: string;
  kubeconfig?: string;
  wait?: boolean;
  timeout: number;
}

function adminOptions(cmd: Command): Command {
  return homeOption(cmd)
    .option('--kubeconfig <file>', 'talk to this API server instead of the home (default: the home, else $KUBECONFIG)')
    .addOption(durationOption('--timeout <duration>', 'with --wait: give up after this long', 15 * 60_000));
}

/** `encryption status|enable|disable|rotate`: conveniences over the APIServer and operator objects. */
export function registerAdmin(encryption: Command): void {
  writeOutOption(adminOptions(encryption.command('status').description('mode, keys, migration and conditions per component')), ['table', 'json'], 'table').action(
    async (flags: AdminFlags & { writeOut: string }) => {
      const report = await withKube(flags, async (kube) => (await import('../operator/encryption/report.js')).encryptionReport(kube));
      const { printEncryptionReport } = await import('./printers/encryption.js');
      process.stdout.write(printEncryptionReport(report, flags.writeOut));
    },
  );

  adminOptions(
    encryption
      .command('enable <mode>')
      .description('sets spec.encryption.type on apiservers.config.openshift.io/cluster: aescbc, aesgcm or secretbox')
      .option('--wait', 'show progress until every resource is encrypted'),
  ).action(async (mode: string, flags: AdminFlags) => {
    if (!['aescbc', 'aesgcm', 'secretbox'].includes(mode)) {
      throw new UserError(`unknown encryption mode "${mode}": use aescbc, aesgcm or secretbox (or \`etcd-ops encryption disable\`)`);
    }
    await setMode(flags, mode);
  });

  adminOptions(
    encryption
      .command('disable')
      .description('sets spec.encryption.type to identity: the data is decrypted again')
      .option('--wait', 'show progress until everything is decrypted'),
  ).action(async (flags: AdminFlags) => setMode(flags, 'identity'));

  adminOptions(
    encryption
      .command('rotate')
      .description('asks for new keys now (a new spec.unsupportedConfigOverrides.encryption.reason) instead of waiting for the weekly rotation')
      .option('--wait', 'show progress until the data is re-encrypted with the new keys'),
  ).action(async (flags: AdminFlags) => {
    await withKube(flags, async (kube) => {
      const { encryptionReport } = await import('../operator/encryption/report.js');
      const before = await encryptionReport(kube);
      if (before.mode === 'identity') throw new UserError('encryption is not enabled: there is no key to rotate; run `etcd-ops encryption enable aescbc` first');
      const { COMPONENTS } = await import('../operator/encryption/components.js');
      const reason = `rotate-${new Date().toISOString()}`;
      for (const c of COMPONENTS) {
        await kube.mergePatch(c.operator, 'cluster', { spec: { unsupportedConfigOverrides: { encryption: { reason } } } });
      }
      process.stdout.write(`asked for new encryption keys (reason ${reason})\n`);
      const oldIds = new Map(before.components.map((c) => [c.component, latestKeyId(c)]));
      if (flags.wait) await waitUntil(kube, flags.timeout, (r) => r.components.every((c) => latestKeyId(c) > (oldIds.get(c.component) ?? 0) && settled(c, r.mode)));
    });
  });
}

async function setMode(flags: AdminFlags, mode: string): Promise<void> {
  await withKube(flags, async (kube) => {
    const { CONFIG } = await import('../kube/client.js');
    await kube.mergePatch(CONFIG('apiservers'), 'cluster', { spec: { encryption: { type: mode } } });
    process.stdout.write(`apiserver.config.openshift.io/cluster: spec.encryption.type is now ${mode}\n`);
    if (flags.wait) await waitUntil(kube, flags.timeout, (r) => r.components.every((c) => settled(c, mode)));
  });
}

function latestKeyId(c: EncryptionReport['components'][number]): number {
  return Math.max(0, ...c.keys.map((k) => Number(/-(\d+)$/.exec(k.name)?.[1] ?? 0)));
}

/**
 * The latest key has the wanted mode, it writes, every resource was migrated to it, and the
 * operator has said so in the Encrypted condition.
 */
function settled(c: EncryptionReport['components'][number], mode: string): boolean {
  const reason = c.conditions.find((x) => x.type === 'Encrypted')?.reason;
  const latest = c.keys.find((k) => Number(/-(\d+)$/.exec(k.name)?.[1]) === latestKeyId(c));
  if (!latest) return mode === 'identity' && reason === 'EncryptionDisabled';
  const writes = latest.mode === 'identity' ? c.writeKey === 'identity' : c.writeKey === `${latest.mode}:${latestKeyId(c)}`;
  const said = reason === (mode === 'identity' ? 'DecryptionCompleted' : 'EncryptionCompleted');
  return latest.mode === mode && writes && said && c.resources.every((r) => latest.migratedResources.includes(r));
}

/** A rough share of the work done: key made, rolled out, then resources migrated. */
function progressOf(r: EncryptionReport, mode: string): { pct: number; stage: string } {
  let sum = 0;
  let stage = '';
  for (const c of r.components) {
    if (settled(c, mode)) {
      sum += 100;
      continue;
    }
    const latest = latestKeyId(c);
    const writes = c.writeKey.endsWith(`:${latest}`) || (mode === 'identity' && c.writeKey === 'identity');
    if (!latest) sum += 0;
    else if (!writes) sum += 25;
    else sum += 50 + (50 * (c.migration?.done.length ?? 0)) / c.resources.length;
    if (!stage) {
      const installing = r.nodes.some((n) => n.currentRevision !== r.latestRevision || n.targetRevision);
      stage = installing
        ? `rolling out revision ${r.latestRevision}: ${r.nodes.map((n) => `${n.nodeName}@${n.currentRevision}`).join(' ')}`
        : c.migration && !c.migration.completed
          ? `migrating ${c.migration.current ?? c.resources.join(', ')} (${c.migration.objects} objects rewritten)`
          : `${c.component}: ${c.conditions.find((x) => x.type === 'Encrypted')?.message ?? 'waiting for the operator'}`;
    }
  }
  return { pct: Math.round(sum / r.components.length), stage: stage || 'done' };
}

async function waitUntil(kube: import('../kube/client.js').KubeClient, timeoutMs: number, done: (r: EncryptionReport) => boolean): Promise<void> {
  const { encryptionReport } = await import('../operator/encryption/report.js');
  const { SingleBar } = await import('cli-progress');
  const bar = new SingleBar({ format: '{bar} {percentage}% | {stage}', stream: process.stderr, hideCursor: false, noTTYOutput: true, notTTYSchedule: 5000 });
  const deadline = Date.now() + timeoutMs;
  let r: EncryptionReport | undefined;
  let lastError: unknown;
  bar.start(100, 0, { stage: 'waiting for the operator' });
  try {
    for (;;) {
      try {
        r = await encryptionReport(kube);
      } catch (err) {
        // An API server restarting for the new revision (the only one, on a one-host home): the
        // next poll goes to another, or to the same one once it serves again.
        lastError = err;
      }
      if (r) {
        const p = progressOf(r, r.mode);
        bar.update(p.pct, { stage: p.stage });
        if (done(r)) break;
      }
      if (Date.now() > deadline) {
        const why = r ? '' : ` (the API server did not answer: ${(lastError as Error | undefined)?.message ?? 'no answer'})`;
        throw new UserError(`not finished after ${Math.round(timeoutMs / 1000)}s${why}: see \`etcd-ops encryption status\` and the operator's events`);
      }
      await new Promise((res) => setTimeout(res, 1000));
    }
    bar.update(100, { stage: 'done' });
  } finally {
    bar.stop();
  }
  for (const c of r.components) {
    const cond = c.conditions.find((x) => x.type === 'Encrypted');
    process.stdout.write(`${c.component}: ${cond?.reason ?? ''}: ${cond?.message ?? ''}\n`);
  }
}

async function withKube<T>(flags: AdminFlags, fn: (kube: import('../kube/client.js').KubeClient) => Promise<T>): Promise<T> {
  const { kubeClientFor } = await import('../kube/target.js');
  const { ApiError } = await import('../kube/client.js');
  const kube = kubeClientFor(flags);
  try {
    return await fn(kube);
  } catch (err) {
    if (err instanceof ApiError) throw new UserError(`the API server said ${err.code} ${err.reason}: ${err.message}`);
    throw err;
  } finally {
    kube.close();
  }
}
