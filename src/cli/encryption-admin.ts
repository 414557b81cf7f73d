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
    const { checkEncryptionMode } = await import('../operator/encryption/admin.js');
    checkEncryptionMode(mode, { identity: false });
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
      const { requestKeyRotation, rotationDone } = await import('../operator/encryption/admin.js');
      const req = await requestKeyRotation(kube, await encryptionReport(kube));
      process.stdout.write(`asked for new encryption keys (reason ${req.reason})\n`);
      if (flags.wait) await waitUntil(kube, flags.timeout, (r) => rotationDone(req, r));
    });
  });
}

async function setMode(flags: AdminFlags, mode: string): Promise<void> {
  await withKube(flags, async (kube) => {
    const { setEncryptionMode, modeSettled } = await import('../operator/encryption/admin.js');
    process.stdout.write(`${await setEncryptionMode(kube, mode)}\n`);
    if (flags.wait) await waitUntil(kube, flags.timeout, (r) => modeSettled(r, mode));
  });
}

async function waitUntil(kube: import('../kube/client.js').KubeClient, timeoutMs: number, done: (r: EncryptionReport) => boolean): Promise<void> {
  const { encryptionReport } = await import('../operator/encryption/report.js');
  const { encryptionProgress } = await import('../operator/encryption/admin.js');
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
        const p = encryptionProgress(r, r.mode);
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
