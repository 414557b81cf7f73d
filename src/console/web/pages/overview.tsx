import { useEffect } from 'preact/hooks';
import type { State } from '../store.js';
import { SizeChart, WritesChart } from '../chart.js';
import { Bar, Status, bytes, time } from '../ui.js';

export const FILLED_MARK = 'etcd-ops:overview-filled';

export function Overview({ s }: { s: State }) {
  const o = s.overview;
  const h = s.history;
  const filled = Boolean(o?.members.length);
  useEffect(() => {
    // bench/console.ts reads this: from navigation start to a members table with data.
    if (filled && !performance.getEntriesByName(FILLED_MARK).length) performance.mark(FILLED_MARK);
  }, [filled]);
  if (!s.meta?.etcd && o) {
    return <p class="notice">This console has no etcd credentials (started with --kubeconfig only): start it with --home to see the members.</p>;
  }
  return (
    <>
      {o && o.alarms.length > 0 && (
        <div class="alarm" role="alert">
          <strong>Alarm{o.alarms.length > 1 ? 's' : ''} raised:</strong> {o.alarms.map((a) => `${a.alarm} on ${a.member}`).join(', ')}. See <a href="#/defrag">Defrag</a> for NOSPACE recovery.
        </div>
      )}
      <section aria-labelledby="members-title" class="card">
        <h2 id="members-title">Members</h2>
        <div class="scroll">
          <table id="members">
            <caption class="sr-only">etcd members, updated every {Math.round((s.meta?.sampleIntervalMs ?? 5000) / 1000)} seconds</caption>
            <thead>
              <tr>
                <th scope="col">Host</th>
                <th scope="col">Role</th>
                <th scope="col">Health</th>
                <th scope="col" class="num">DB size</th>
                <th scope="col" class="num">In use</th>
                <th scope="col">Fragmentation</th>
                <th scope="col">Quota usage</th>
                <th scope="col" class="num">Raft term</th>
                <th scope="col" class="num">Raft index</th>
                <th scope="col">Alarms</th>
              </tr>
            </thead>
            <tbody>
              {(o?.members ?? []).map((m) => (
                <tr key={m.name} data-member={m.name} class={m.alarms.length ? 'alarmed' : ''}>
                  <th scope="row">
                    {m.name}
                    <div class="muted small">{m.id ?? m.endpoint}</div>
                  </th>
                  <td>{m.leader ? <span class="badge leader" data-leader="true">★ leader</span> : m.healthy ? 'follower' : '–'}</td>
                  <td>
                    <Status status={m.healthy ? 'True' : 'False'}>{m.healthy ? 'healthy' : 'unhealthy'}</Status>
                    {m.error && <div class="small bad-text">{m.error}</div>}
                  </td>
                  <td class="num">{bytes(m.dbSize)}</td>
                  <td class="num">{bytes(m.dbSizeInUse)}</td>
                  <td data-fragmentation={m.fragmentation ?? ''}>
                    <Bar value={m.reclaimable} max={m.dbSize} label={`${m.name} fragmentation`} warnAt={0.45} />
                  </td>
                  <td>
                    <Bar value={m.dbSize} max={m.quota} label={`${m.name} quota usage, quota ${bytes(m.quota)}`} warnAt={0.8} />
                  </td>
                  <td class="num">{m.raftTerm ?? '–'}</td>
                  <td class="num">{m.raftIndex ?? '–'}</td>
                  <td>{m.alarms.length ? <span class="badge bad">{m.alarms.join(', ')}</span> : <span class="muted">none</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {o && <p class="muted small">Sampled {time(o.t)}; fragmentation is the share of the file that is free pages (what a defrag gives back).</p>}
      </section>
      <section aria-labelledby="charts-title" class="card">
        <h2 id="charts-title">Last hour</h2>
        {h && h.t.length > 0 ? (
          <>
            <h3>DB size (solid) and size in use (dashed)</h3>
            <p class="muted small">Marks: D a defrag, C a compaction.</p>
            <SizeChart history={h} label="DB size and size in use per member over the last hour" />
            <h3>Writes per second</h3>
            <p class="muted small">Marks: L a new leader ({h.markers.filter((m) => m.kind === 'leader').length} leader changes since the console started).</p>
            <WritesChart history={h} label="Writes per second over the last hour, with leader changes" />
          </>
        ) : (
          <p class="muted">Waiting for the first samples…</p>
        )}
      </section>
      <section aria-labelledby="conditions-title" class="card">
        <h2 id="conditions-title">Operators</h2>
        <ul class="conditions" id="operator-conditions">
          {(o?.operators ?? []).map((op) => (
            <li key={op.kind}>
              <strong>
                {op.kind}/{op.name}
              </strong>
              {op.conditions.map((c) => (
                <span key={c.type} title={c.message ? `${c.reason ?? ''}: ${c.message}` : c.reason}>
                  {' '}
                  {c.type}{' '}
                  {c.type === 'Progressing' && c.status === 'True' ? (
                    <span class="badge busy">True</span>
                  ) : (
                    <Status status={c.status} good={c.type === 'Available' ? 'True' : 'False'}>
                      {c.status === 'Unknown' ? 'not reported' : c.status}
                    </Status>
                  )}
                </span>
              ))}
            </li>
          ))}
        </ul>
      </section>
    </>
  );
}
