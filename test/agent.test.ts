/**
 * The host agent's own parts, on real processes: a container that keeps crashing is restarted
 * with a doubling, capped backoff; restart policies end where the kubelet ends them; a stop
 * escalates to SIGKILL; and a new agent kills the containers its SIGKILLed predecessor left,
 * but never a process that merely reuses a recorded pid.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ContainerRunner, type ContainerSpec, type RestartPolicy } from '../src/agent/container.js';
import { killOrphans } from '../src/agent/orphans.js';
import type { AgentStatus } from '../src/agent/status.js';
import { writeFileAtomic } from '../src/util/fsx.js';
import { isAlive, startTicks } from '../src/util/proc.js';
import { waitFor } from '../src/util/time.js';
import { tempDir, trackPid } from './helpers/cleanup.js';

const dir = tempDir('etcd-ops-agent-');
const runners: ContainerRunner[] = [];
/** What each runner told the agent's log, by container name. */
const agentLog = new Map<string, string[]>();

function runner(name: string, script: string, policy: RestartPolicy, onChange: () => void = () => {}, backoff = { initialMs: 100, maxMs: 400 }): ContainerRunner {
  const spec: ContainerSpec = { name, file: '/bin/sh', args: ['-c', script], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, cwd: dir, logDir: join(dir, name) };
  agentLog.set(name, []);
  const r = new ContainerRunner(spec, policy, onChange, (l) => agentLog.get(name)!.push(l), backoff);
  runners.push(r);
  return r;
}

after(async () => {
  await Promise.all(runners.map((r) => r.stop(100)));
});

describe('agent: containers', { timeout: 60_000 }, () => {
  it('restarts a crashing container with a backoff that doubles up to its cap, and says CrashLoopBackOff', async () => {
    const starts: number[] = [];
    let lastRestarts = -1;
    const r = runner('crasher', 'exit 3', 'Always', () => {
      const s = r.status('h');
      if (s.state === 'Running' && s.restarts !== lastRestarts) {
        lastRestarts = s.restarts;
        starts.push(performance.now());
      }
    });
    r.start();
    await waitFor('five starts', 30_000, () => (starts.length >= 5 ? true : undefined), 20);
    const s = r.status('h');
    assert.ok(s.restarts >= 4, `restarts counted: ${s.restarts}`);
    // Between two starts the runner waits at least the backoff: 100, 200, 400, then 400 again (the cap).
    const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
    [100, 200, 400, 400].forEach((min, i) => assert.ok(gaps[i]! >= min - 5, `gap ${i + 1} is ${gaps[i]!.toFixed(0)} ms, at least ${min} ms`));
    const waiting = await waitFor('a backoff wait', 10_000, () => {
      const x = r.status('h');
      return x.state === 'Exited' ? x : undefined;
    }, 5);
    assert.equal(waiting.reason, 'CrashLoopBackOff');
    assert.equal(waiting.exitCode, 3);
    assert.match(agentLog.get('crasher')!.join('\n'), /container crasher exited with 3/);
    // One CRI log file per start, numbered on from the last.
    assert.ok(readdirSync(join(dir, 'crasher')).length >= 5);
  });

  it('ends as the restart policy says: OnFailure stops after a success, Never after a failure', async () => {
    const ok = runner('once', 'exit 0', 'OnFailure');
    const bad = runner('never', 'exit 2', 'Never');
    ok.start();
    bad.start();
    const done = (r: ContainerRunner) => waitFor('the container to end', 10_000, () => (r.status('h').state === 'Exited' ? r.status('h') : undefined), 20);
    const [a, b] = await Promise.all([done(ok), done(bad)]);
    assert.deepEqual([a.reason, a.exitCode, a.restarts], ['Completed', 0, 0]);
    assert.deepEqual([b.reason, b.exitCode, b.restarts], ['Error', 2, 0]);
  });

  it('stops a container that ignores SIGTERM with SIGKILL after the grace period', async () => {
    const r = runner('stubborn', 'trap "" TERM; echo up; while :; do sleep 0.1; done', 'Always');
    r.start();
    const pid = await waitFor('the container to run', 10_000, () => r.status('h').pid, 20);
    trackPid(pid);
    await waitFor('the trap to be set', 10_000, () => (readFileSync(r.status('h').log, 'utf8').includes(' stdout F up') ? true : undefined), 20);
    await r.stop(300);
    assert.equal(isAlive(pid), false);
    const s = r.status('h');
    assert.deepEqual([s.state, s.reason, s.restarts], ['Exited', 'Completed', 0]);
    assert.equal(s.exitCode, 128 + 9);
  });
});

describe('agent: orphans of a predecessor', { timeout: 30_000 }, () => {
  it('kills the containers a SIGKILLed agent left, and leaves a process that reuses a recorded pid alone', async () => {
    const orphan = spawn('sleep', ['60'], { stdio: 'ignore' });
    trackPid(orphan.pid!);
    const exited = new Promise((r) => orphan.once('exit', r));
    const ticks = await waitFor('the orphan to start', 5000, () => startTicks(orphan.pid!), 10);
    const container = (name: string, pid: number, startTicks: number) => ({ id: name, name, state: 'Running' as const, ready: true, restarts: 0, pid, startTicks, log: '/dev/null' });
    const status: AgentStatus = {
      host: 'master-0',
      agentPid: 1,
      startedAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
      manifestErrors: [],
      pods: [
        {
          name: 'etcd-master-0',
          namespace: 'openshift-etcd',
          manifest: 'etcd-pod.yaml',
          hash: 'h',
          containers: [
            container('etcd', orphan.pid!, ticks),
            // This test's own pid with another start time: a reused pid, not the old container.
            container('reused', process.pid, startTicks(process.pid)! + 1),
          ],
        },
      ],
    };
    const file = join(dir, 'pods.json');
    writeFileAtomic(file, JSON.stringify(status));
    const lines: string[] = [];
    assert.deepEqual(killOrphans(file, (l) => lines.push(l)), [orphan.pid]);
    await exited;
    assert.equal(isAlive(orphan.pid!), false);
    assert.deepEqual(lines, [`stopping orphaned container etcd-master-0/etcd pid ${orphan.pid}`]);
    assert.deepEqual(killOrphans(join(dir, 'absent.json'), () => {}), [], 'no status file: nothing to do');
  });
});
