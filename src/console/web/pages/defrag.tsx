import { useState } from 'preact/hooks';
import type { State } from '../store.js';
import { ActionLog, Bar, Confirm, Stale, age, bytes, pct, useAction, useNow } from '../ui.js';

const KINDS = ['defrag-plan', 'defrag-run', 'defrag-recover'];

interface PlanResult {
  dryRun: boolean;
  rule: string;
  steps: Array<{ member: string; leader: boolean; dbSize: number; dbSizeInUse: number }>;
  skipped: Array<{ member: string; reason: string }>;
}

export function Defrag({ s }: { s: State }) {
  const v = s.defrag;
  const now = useNow();
  const [choice, setChoice] = useState<'default' | 'all' | 'custom'>('default');
  const [custom, setCustom] = useState('');
  const [ask, setAsk] = useState<'run' | 'recover' | undefined>();
  const action = useAction();
  const running = s.actions.some((a) => ['defrag-run', 'defrag-recover', 'backup-now', 'backup-drill'].includes(a.kind) && a.state === 'running');
  const rule = choice === 'custom' ? custom : choice;
  const lastPlan = [...s.actions].reverse().find((a) => a.kind === 'defrag-plan' && a.state === 'succeeded');
  const plan = lastPlan?.result as PlanResult | undefined;
  // A plan made before the last defragment describes space that is gone: plan again.
  const lastRun = [...s.actions].reverse().find((a) => a.kind === 'defrag-run' || a.kind === 'defrag-recover');
  const planFits = plan && !(lastRun && lastPlan && lastRun.started > lastPlan.started) && (choice === 'custom' ? plan.rule === custom : choice === 'all' ? plan.rule === 'dbSize > 0' : plan.rule === v?.ruleExpr);
  const nospace = (v?.alarms ?? []).filter((a) => a.alarm === 'NOSPACE');
  if (!v) return <p class="muted">Loading…</p>;
  return (
    <>
      <Stale stale={v.stale} />
      {nospace.length > 0 && (
        <section class="card alarm" role="alert" aria-labelledby="nospace-title">
          <h2 id="nospace-title">NOSPACE: etcd refuses writes</h2>
          <p>
            {nospace.map((a) => a.member).join(', ')} reached the backend quota. Recovery compacts the history to the current revision, defragments every member (followers first, the leader
            last), and disarms the alarm once every member is below 90 % of its quota.
          </p>
          <button type="button" class="danger" disabled={running || action.busy} onClick={() => setAsk('recover')}>
            Recover from NOSPACE…
          </button>
        </section>
      )}
      <section aria-labelledby="d-members" class="card">
        <h2 id="d-members">Reclaimable space</h2>
        <table id="defrag-members">
          <thead>
            <tr>
              <th scope="col">Member</th>
              <th scope="col" class="num">DB size</th>
              <th scope="col" class="num">In use</th>
              <th scope="col" class="num">Reclaimable</th>
              <th scope="col">Fragmentation</th>
              <th scope="col">Quota usage</th>
              <th scope="col">Default rule</th>
            </tr>
          </thead>
          <tbody>
            {v.members.map((m) => (
              <tr key={m.name} data-member={m.name} data-fragmentation={m.fragmentation ?? ''}>
                <th scope="row">
                  {m.name} {m.leader && <span class="badge leader">★ leader</span>}
                </th>
                <td class="num">{bytes(m.dbSize)}</td>
                <td class="num">{bytes(m.dbSizeInUse)}</td>
                <td class="num">{bytes(m.reclaimable)}</td>
                <td>
                  <Bar value={m.reclaimable} max={m.dbSize} label={`${m.name} fragmentation`} warnAt={0.45} />
                </td>
                <td>{pct(m.quotaUsage)}</td>
                <td>{m.matchesDefault ? <span class="badge warn">would defragment</span> : <span class="muted">no</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p class="muted small">Default rule (the operator's defrag controller's): {v.rule}.</p>
        {v.controller.length > 0 && <p class="small">Controller: {v.controller.map((c) => `${c.type} ${c.status}${c.message ? ` (${c.message})` : ''}`).join(' · ')}</p>}
      </section>
      <section aria-labelledby="d-plan" class="card">
        <h2 id="d-plan">Defragment</h2>
        <fieldset>
          <legend>Which members</legend>
          <label>
            <input type="radio" name="rule" checked={choice === 'default'} onChange={() => setChoice('default')} /> those the default rule picks
          </label>
          <label>
            <input type="radio" name="rule" checked={choice === 'all'} onChange={() => setChoice('all')} /> every member
          </label>
          <label>
            <input type="radio" name="rule" checked={choice === 'custom'} onChange={() => setChoice('custom')} /> a rule:
          </label>{' '}
          <input type="text" value={custom} placeholder="dbSizeFree / dbSize >= 0.3" aria-label="Custom defrag rule" disabled={choice !== 'custom'} onInput={(e) => setCustom((e.target as HTMLInputElement).value)} />
        </fieldset>
        <div class="toolbar">
          <button type="button" id="defrag-plan" disabled={action.busy} onClick={() => void action.run('defrag-plan', { rule })}>
            Plan (dry run)
          </button>
          <button type="button" class="primary" id="defrag-run" disabled={running || action.busy || !planFits || !plan?.steps.length} onClick={() => setAsk('run')}>
            Defragment…
          </button>
          {!planFits && <span class="muted small">Plan first: the plan shows what will happen.</span>}
        </div>
        {action.error && (
          <p class="bad-text" role="alert">
            {action.error}
          </p>
        )}
        {plan && planFits && (
          <div id="defrag-plan-result">
            <h3>Plan</h3>
            {plan.steps.length ? (
              <ol>
                {plan.steps.map((st) => (
                  <li key={st.member}>
                    {st.member}
                    {st.leader ? ' (the leader, last)' : ''}: {bytes(st.dbSize)}, {bytes(st.dbSize - st.dbSizeInUse)} to reclaim
                  </li>
                ))}
              </ol>
            ) : (
              <p>Nothing to do.</p>
            )}
            {plan.skipped.length > 0 && <p class="muted small">Skipped: {plan.skipped.map((x) => `${x.member} (${x.reason})`).join(', ')}</p>}
          </div>
        )}
      </section>
      <Confirm open={ask === 'run'} title="Defragment these members?" confirm="Defragment" onClose={() => setAsk(undefined)} onConfirm={() => void action.run('defrag-run', { rule })}>
        <p>
          One member at a time: {plan?.steps.map((x) => x.member).join(', then ')}. A member being defragmented blocks its reads and writes for a moment (about 10 s per GB); the next waits until it is
          healthy and caught up. The leader goes last, which may cost one election.
        </p>
      </Confirm>
      <Confirm open={ask === 'recover'} title="Recover from NOSPACE?" confirm="Compact, defragment and disarm" danger onClose={() => setAsk(undefined)} onConfirm={() => void action.run('defrag-recover')}>
        <p>Compacts the history to the current revision (older revisions are gone for good), defragments every member one at a time, and disarms NOSPACE once each is below 90 % of its quota.</p>
        <p>
          Same as <code>etcd-ops defrag --recover</code>.
        </p>
      </Confirm>
      <ActionLog actions={s.actions} kinds={KINDS} />
      <section aria-labelledby="d-history" class="card">
        <h2 id="d-history">History</h2>
        {v.history.length === 0 ? (
          <p class="muted">No defragmentation recorded yet (the operator's and the console's events).</p>
        ) : (
          <table id="defrag-history">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">What</th>
                <th scope="col">By</th>
                <th scope="col">Message</th>
              </tr>
            </thead>
            <tbody>
              {v.history.map((e, i) => (
                <tr key={i} class={e.type === 'Warning' ? 'warning-row' : ''}>
                  <td>{age(e.time, now)}</td>
                  <td>{e.reason}</td>
                  <td>{e.source}</td>
                  <td>{e.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}
