/**
 * The scenarios: one fault or operation each, repeated while the traffic runs, two combinations
 * (the short test's), a restore, and a mixed one. A scenario's `run` returns once its time is up;
 * the runner then heals what is left broken and checks the history.
 */
import {
  backup,
  backupIntoFullDisk,
  compact,
  defrag,
  hostLoss,
  killApiServer,
  killMember,
  killOperator,
  note,
  partition,
  restore,
  rotate,
  sleep,
  slowDisk,
  snapshotRevision,
  type Lab,
} from './faults.js';

export interface Scenario {
  name: string;
  description: string;
  /** Encryption (aescbc) is enabled and settled before the traffic starts. */
  encryption?: boolean;
  run(lab: Lab): Promise<void>;
  /** The guarantee that cannot hold here by design, and why (printed with the figures). */
  byDesign?: string;
}

/** Runs `step` again and again until the scenario's time is up, with a seeded pause between. */
async function repeat(lab: Lab, gapMs: [number, number], step: () => Promise<void>, firstAfterMs = 3000): Promise<void> {
  await sleep(firstAfterMs);
  for (let i = 0; i < 1000 && Date.now() < lab.until; i++) {
    await step();
    const gap = gapMs[0] + lab.rand() * (gapMs[1] - gapMs[0]);
    // The traffic runs the whole duration: the quiet time after the last fault counts too.
    await sleep(Math.max(0, Math.min(gap, lab.until - Date.now())));
  }
}

const MINORITY =
  'a client pinned to the cut-off API server cannot write or read during the partition: its requests time out or fail (unknown/503/504), they are not lost; the checker then only asks that they are applied at most once';

export const SCENARIOS: Scenario[] = [
  {
    name: 'kill-member',
    description: 'SIGKILL of one etcd follower at a time; the agent restarts it',
    run: (lab) => repeat(lab, [15_000, 30_000], () => killMember(lab, 'follower')),
  },
  {
    name: 'kill-leader',
    description: 'SIGKILL of the etcd leader; a new one is elected, the agent restarts the old one',
    run: (lab) => repeat(lab, [15_000, 30_000], () => killMember(lab, 'leader')),
    byDesign: 'writes in flight on the killed leader end unknown (timeout or 5xx); some of them are applied, some not',
  },
  {
    name: 'kill-apiserver',
    description: 'SIGKILL of one API server; the load balancer skips it until it is ready again',
    run: (lab) => repeat(lab, [10_000, 25_000], () => killApiServer(lab)),
    byDesign: 'requests in flight on the killed server end with a reset: unknown; clients pinned to it get nothing until it is back',
  },
  {
    name: 'kill-operator',
    description: 'SIGKILL of the active operator; another replica takes the election lease',
    run: (lab) => repeat(lab, [15_000, 30_000], () => killOperator(lab)),
  },
  {
    name: 'host-loss',
    description: '`etcd-ops host kill` of a host (the leader\'s half the time), `host start` 15-30 s later',
    run: (lab) => repeat(lab, [10_000, 20_000], () => hostLoss(lab)),
    byDesign: 'clients pinned to the lost host get connection errors until it is back',
  },
  {
    name: 'partition-leader',
    description: '`etcd-ops host isolate` of the etcd leader\'s host for 20-40 s, then `host heal`',
    run: (lab) => repeat(lab, [10_000, 20_000], () => partition(lab, 'leader')),
    byDesign: MINORITY,
  },
  {
    name: 'partition-follower',
    description: '`etcd-ops host isolate` of a follower\'s host for 20-40 s, then `host heal`',
    run: (lab) => repeat(lab, [10_000, 20_000], () => partition(lab, 'follower')),
    byDesign: MINORITY,
  },
  {
    name: 'partition-operator',
    description: '`etcd-ops host isolate` of the active operator\'s host; measures the operator fail-over',
    run: (lab) => repeat(lab, [10_000, 20_000], () => partition(lab, 'operator')),
    byDesign: MINORITY,
  },
  {
    name: 'slow-disk',
    description: 'one member (the leader half the time) throttled: cgroup blkio 20 write IOPS and 1 MiB/s, 10 % CPU, 40-60 s',
    run: (lab) => repeat(lab, [10_000, 20_000], () => slowDisk(lab)),
  },
  {
    name: 'backup-full',
    description: '`etcd-ops backup` into a tmpfs half the size of the database, then into a roomy folder',
    run: (lab) => repeat(lab, [10_000, 20_000], () => backupIntoFullDisk(lab)),
  },
  {
    name: 'defrag',
    description: '`etcd-ops defrag --cluster` of every member (followers first, leader last), again and again',
    run: (lab) => repeat(lab, [5000, 15_000], () => defrag(lab)),
  },
  {
    name: 'compact',
    description: '`etcd-ops compact` to the current revision, then every watch stream cut: those behind it get 410 and relist',
    run: (lab) => repeat(lab, [10_000, 25_000], () => compact(lab)),
  },
  {
    name: 'rotate',
    description: '`etcd-ops encryption rotate`, its rollout and the migration of every object, again and again',
    encryption: true,
    run: (lab) => repeat(lab, [5000, 10_000], () => rotate(lab)),
  },
  {
    name: 'backup',
    description: '`etcd-ops backup` of a host, again and again',
    run: (lab) => repeat(lab, [10_000, 20_000], async () => void (await backup(lab))),
  },
  {
    name: 'restore',
    description: 'a backup a fifth of the way in, `etcd-ops restore BACKUP --yes` halfway: the backup\'s state, then the writes after it',
    run: (lab) => restoreScenario(lab),
    byDesign: 'acknowledged writes after the backup\'s revision are lost by the restore (counted as expectedLost); requests during the restore fail or time out',
  },
  {
    name: 'kill-leader-defrag',
    description: 'SIGKILL of the etcd leader while `etcd-ops defrag --cluster` runs (the short test\'s first)',
    run: async (lab) => {
      await Promise.all([repeat(lab, [3000, 8000], () => defrag(lab), 1000), repeat(lab, [10_000, 20_000], () => killMember(lab, 'leader'), 4000)]);
    },
    byDesign: 'defrag refuses to start while a member is down (no --force): that is its procedure, not a failure',
  },
  {
    name: 'kill-operator-rotate',
    description: '`etcd-ops encryption rotate`, and SIGKILL of the active operator once the new key exists (the short test\'s second)',
    encryption: true,
    run: (lab) => repeat(lab, [3000, 8000], () => rotate(lab, async () => {
      await sleep(lab.rand() * 3000);
      await killOperator(lab);
    }), 1000),
  },
  {
    name: 'mixed',
    description: 'one fault or operation after another, at random: kills, host loss, partitions, slow disk, defrag, compact, backup, rotate',
    encryption: true,
    run: (lab) =>
      repeat(lab, [3000, 10_000], async () => {
        const steps: Array<[string, () => Promise<unknown>]> = [
          ['kill-member', () => killMember(lab, 'follower')],
          ['kill-leader', () => killMember(lab, 'leader')],
          ['kill-apiserver', () => killApiServer(lab)],
          ['kill-operator', () => killOperator(lab)],
          ['host-loss', () => hostLoss(lab)],
          ['partition-leader', () => partition(lab, 'leader')],
          ['partition-follower', () => partition(lab, 'follower')],
          ['slow-disk', () => slowDisk(lab)],
          ['defrag', () => defrag(lab)],
          ['compact', () => compact(lab)],
          ['backup', () => backup(lab)],
          ['rotate', () => rotate(lab)],
        ];
        const [name, step] = steps[Math.floor(lab.rand() * steps.length)]!;
        note(lab, 'mixed', name);
        await step();
      }),
    byDesign: MINORITY,
  },
];

/** Backup at 1/5 of the time, restore at 1/2, traffic on both sides. */
async function restoreScenario(lab: Lab): Promise<void> {
  const total = lab.until - Date.now();
  await sleep(total / 5);
  const dir = await backup(lab);
  if (!dir) return;
  const rev = await snapshotRevision(lab, dir);
  if (!rev) {
    note(lab, 'restore', 'no snapshot revision: restore skipped');
    return;
  }
  await sleep(Math.max(0, lab.until - Date.now() - total / 2));
  await restore(lab, dir, rev);
}

export function scenario(name: string): Scenario {
  const s = SCENARIOS.find((x) => x.name === name);
  if (!s) throw new Error(`no scenario "${name}": --list shows them (${SCENARIOS.map((x) => x.name).join(', ')})`);
  return s;
}
