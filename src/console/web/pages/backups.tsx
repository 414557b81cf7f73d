import { useState } from 'preact/hooks';
import type { State } from '../store.js';
import type { BackupRow } from '../../wire.js';
import { ActionLog, Stale, Status, age, bytes, time, useAction, useNow } from '../ui.js';

const KINDS = ['backup-now', 'backup-drill'];

function DrillCell({ r, now }: { r: BackupRow; now: number }) {
  if (!r.drill) return <span class="muted">never</span>;
  return (
    <span title={r.drill.reason}>
      <Status status={r.drill.result === 'Passed' ? 'True' : 'False'}>{r.drill.result}</Status> {age(r.drill.at, now)}
    </span>
  );
}

export function Backups({ s }: { s: State }) {
  const v = s.backups;
  const now = useNow();
  const [host, setHost] = useState('');
  const action = useAction();
  const running = s.actions.some((a) => KINDS.includes(a.kind) && a.state === 'running');
  if (!v) return <p class="muted">Loading…</p>;
  return (
    <>
      <Stale stale={v.stale} />
      <section aria-labelledby="b-now" class="card">
        <h2 id="b-now">Back up now</h2>
        <p>
          A snapshot of one member and its host's static-pod resources (with the encryption keys), as <code>cluster-backup.sh</code> makes it, into the host's <code>/var/lib/etcd-backups</code>.
        </p>
        <div class="toolbar" role="group" aria-label="Backup actions">
          <label>
            Host{' '}
            <select value={host} onChange={(e) => setHost((e.target as HTMLSelectElement).value)}>
              <option value="">a healthy follower</option>
              {(s.meta?.etcd?.members ?? []).map((h) => (
                <option key={h} value={h}>
                  {h}
                </option>
              ))}
            </select>
          </label>
          <button type="button" class="primary" id="backup-now" disabled={running || action.busy || !s.meta?.etcd} onClick={() => void action.run('backup-now', host ? { host } : {})}>
            Back up now
          </button>
        </div>
        {action.error && (
          <p class="bad-text" role="alert">
            {action.error}
          </p>
        )}
      </section>
      <ActionLog actions={s.actions} kinds={KINDS} />
      <section aria-labelledby="b-schedules" class="card">
        <h2 id="b-schedules">Schedules and retention</h2>
        {v.schedules.length === 0 ? (
          <p class="muted">
            No <code>Backup</code> object: nothing is backed up on a schedule. <code>kubectl apply</code> a <code>config.openshift.io/v1alpha1</code> Backup to start (see the README).
          </p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Backup</th>
                <th scope="col">Schedule</th>
                <th scope="col">Retention</th>
                <th scope="col">Volume</th>
                <th scope="col">Drill</th>
                <th scope="col">Last run</th>
                <th scope="col">Last success</th>
                <th scope="col">Last verified</th>
              </tr>
            </thead>
            <tbody>
              {v.schedules.map((b) => (
                <tr key={b.name}>
                  <th scope="row">{b.name}</th>
                  <td>
                    {b.schedule ? <code>{b.schedule}</code> : <span class="muted">none</span>} {b.timeZone ?? 'UTC'}
                  </td>
                  <td>{b.retention}</td>
                  <td>{b.pvcName ?? <span class="muted">each host's /var/lib/etcd-backups</span>}</td>
                  <td>{b.drill ? 'each backup' : 'off'}</td>
                  <td>{age(b.lastScheduleTime, now)}</td>
                  <td>
                    {b.lastSuccessfulBackup ? `${age(b.lastSuccessfulBackup.time, now)} on ${b.lastSuccessfulBackup.host ?? '?'} (${bytes(b.lastSuccessfulBackup.bytes)})` : <span class="muted">none</span>}
                  </td>
                  <td>{b.lastVerifiedBackup ? age(b.lastVerifiedBackup.time, now) : <span class="muted">none</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {v.remote ? (
          <p class="small">
            Copies go to <code>{v.remote}</code> (Secret openshift-etcd/etcd-backup-remote).
          </p>
        ) : (
          <p class="muted small">No off-host copies (no Secret openshift-etcd/etcd-backup-remote).</p>
        )}
      </section>
      {v.locations.map((l) => (
        <section key={l.id} aria-labelledby={`loc-${l.id}`} class="card location" data-location={l.id}>
          <h2 id={`loc-${l.id}`}>
            {l.kind === 'host' ? 'Host' : l.kind === 'volume' ? 'Volume' : 'Remote'} {l.name}
          </h2>
          <p class="muted small">
            <code>{l.where}</code>
          </p>
          {l.error && <p class="bad-text">{l.error}</p>}
          {l.rows.length === 0 ? (
            !l.error && <p class="muted">No backups here.</p>
          ) : (
            <div class="scroll">
              <table class="backups">
                <thead>
                  <tr>
                    <th scope="col">Taken</th>
                    <th scope="col">Age</th>
                    <th scope="col">Host</th>
                    <th scope="col" class="num">Revision</th>
                    <th scope="col" class="num">Size</th>
                    <th scope="col">Encrypted</th>
                    <th scope="col">Dirty</th>
                    <th scope="col">Complete</th>
                    <th scope="col">Drill</th>
                    <th scope="col">Actions</th>
                  </tr>
                </thead>
                <tbody>
                  {l.rows
                    .slice()
                    .reverse()
                    .map((r) => (
                      <tr key={`${r.stamp}-${r.possiblyDirty}`} data-stamp={r.stamp}>
                        <th scope="row">
                          <code>{r.stamp}</code>
                          {r.scheduled && <div class="muted small">schedule {r.scheduled}</div>}
                        </th>
                        <td>{age(r.time, now)}</td>
                        <td>{r.host ?? '–'}</td>
                        <td class="num">{r.revision ?? '–'}</td>
                        <td class="num">{bytes(r.bytes)}</td>
                        <td>{r.encrypted ? 'age' : 'no'}</td>
                        <td>{r.possiblyDirty ? <span class="badge bad">possibly dirty</span> : 'no'}</td>
                        <td>{r.complete ? 'yes' : <span class="bad-text">no: {r.problem}</span>}</td>
                        <td>
                          <DrillCell r={r} now={now} />
                        </td>
                        <td class="row-actions">
                          {l.kind !== 'remote' && r.complete && (
                            <>
                              <button type="button" disabled={running || action.busy} onClick={() => void action.run('backup-drill', { location: l.id, stamp: r.stamp })} aria-label={`Drill backup ${r.stamp}`}>
                                Drill
                              </button>{' '}
                              <a href={`#/restore?location=${encodeURIComponent(l.id)}&stamp=${encodeURIComponent(r.stamp)}`}>Restore…</a>
                            </>
                          )}
                        </td>
                      </tr>
                    ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      ))}
      {v.runs.length > 0 && (
        <section aria-labelledby="b-runs" class="card">
          <h2 id="b-runs">Recent runs (EtcdBackup)</h2>
          <table>
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">State</th>
                <th scope="col">Host</th>
                <th scope="col">Backup</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {v.runs.map((r) => (
                <tr key={r.name}>
                  <th scope="row">{r.name}</th>
                  <td title={r.message}>
                    <Status status={r.state === 'Completed' ? 'True' : r.state === 'Failed' || r.state === 'Skipped' ? 'False' : 'Unknown'}>{r.state}</Status> <span class="small">{r.message}</span>
                  </td>
                  <td>{r.host ?? '–'}</td>
                  <td>{r.stamp ?? '–'}</td>
                  <td>{time(r.created)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </>
  );
}
