import type { State } from '../store.js';
import type { RestorePreview } from '../../wire.js';
import { ActionLog, age, bytes, time, useAction, useNow } from '../ui.js';

function params(): URLSearchParams {
  const q = location.hash.indexOf('?');
  return new URLSearchParams(q >= 0 ? location.hash.slice(q + 1) : '');
}

const shellQuote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

const RISK_TITLES: Record<RestorePreview['risks'][number]['kind'], string> = {
  storage: 'Volumes (PersistentVolumes, PersistentVolumeClaims, VolumeAttachments)',
  credentials: 'Credential Secrets changed since the backup',
  'local-volume': 'Local volumes whose device paths the backup predates',
};

function Names(p: { label: string; n: number; names: string[] }) {
  if (!p.n) return <td class="num">0</td>;
  return (
    <td class="num">
      <details>
        <summary aria-label={`${p.n} ${p.label}`}>{p.n}</summary>
        <span class="small">
          {p.names.join(', ')}
          {p.n > p.names.length ? `, and ${p.n - p.names.length} more` : ''}
        </span>
      </details>
    </td>
  );
}

function Report({ r }: { r: RestorePreview }) {
  return (
    <div id="restore-preview-report">
      <p>
        The backup is at revision <strong id="restore-backup-revision">{r.backup.revision}</strong>; {r.current.source} is at revision <strong id="restore-current-revision">{r.current.revision}</strong>.
      </p>
      {r.resources.length === 0 ? (
        <p>Nothing differs: every object is as in the backup.</p>
      ) : (
        <table id="restore-changes">
          <caption class="sr-only">Objects a restore would revert, lose and bring back, per resource</caption>
          <thead>
            <tr>
              <th scope="col">Resource</th>
              <th scope="col" class="num" title="changed since the backup: goes back to its old state">
                Reverted
              </th>
              <th scope="col" class="num" title="created since the backup: gone after the restore">
                Lost
              </th>
              <th scope="col" class="num" title="deleted since the backup: back after the restore">
                Resurrected
              </th>
            </tr>
          </thead>
          <tbody>
            {r.resources.map((x) => (
              <tr key={x.resource} data-resource={x.resource}>
                <th scope="row">{x.resource}</th>
                <Names label="reverted" n={x.revert} names={x.names.revert} />
                <Names label="lost" n={x.lose} names={x.names.lose} />
                <Names label="resurrected" n={x.resurrect} names={x.names.resurrect} />
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Risks outside etcd (4.10.7)</h3>
      {r.risks.length === 0 ? (
        <p id="restore-risks">None found: no volume, credential or local-volume object changed since the backup.</p>
      ) : (
        <div id="restore-risks">
          <p>{r.risks.length} to check by hand after the restore:</p>
          {(['storage', 'credentials', 'local-volume'] as const).map((kind) => {
            const rs = r.risks.filter((x) => x.kind === kind);
            return rs.length ? (
              <div key={kind}>
                <h4>{RISK_TITLES[kind]}</h4>
                <ul>
                  {rs.map((x, i) => (
                    <li key={i}>
                      <code>
                        {x.resource} {x.object}
                      </code>{' '}
                      ({x.change}): {x.detail}
                    </li>
                  ))}
                </ul>
              </div>
            ) : null;
          })}
        </div>
      )}
      {r.unreadable > 0 && <p class="notice">{r.unreadable} encrypted value(s) could not be read with the backup's keys: their risks could not be judged.</p>}
    </div>
  );
}

export function Restore({ s }: { s: State }) {
  const now = useNow();
  const action = useAction();
  const v = s.backups;
  const p = params();
  const rows = (v?.locations ?? []).filter((l) => l.kind !== 'remote').flatMap((l) => l.rows.filter((r) => r.complete).map((r) => ({ l, r })));
  const chosen = rows.find((x) => x.l.id === p.get('location') && x.r.stamp === p.get('stamp')) ?? rows[rows.length - 1];
  const home = s.meta?.etcd?.home;
  const homeFlag = home ? ` --home ${shellQuote(home)}` : '';
  // `etcd-ops restore <folder>` takes the folder's newest backup: another one goes in a folder of its own first.
  const own = chosen && !chosen.r.newest ? `/var/tmp/etcd-restore-${chosen.r.stamp}` : undefined;
  const dir = chosen ? shellQuote(own ?? chosen.l.where) : '<backup-dir>';
  const previews = s.actions.filter((a) => a.kind === 'restore-preview');
  const mine = chosen ? [...previews].reverse().find((a) => a.title.endsWith(chosen.r.stamp)) : undefined;
  const report = mine?.state === 'succeeded' ? (mine.result as RestorePreview | undefined) : undefined;
  const fits = report && chosen && report.location === chosen.l.id && report.stamp === chosen.r.stamp;
  return (
    <>
      <section aria-labelledby="r-choose" class="card">
        <h2 id="r-choose">Backup to restore</h2>
        {rows.length === 0 ? (
          <p class="muted">No complete backup on the hosts or volumes. Make one on the Backups page.</p>
        ) : (
          <label>
            Backup{' '}
            <select
              aria-label="Backup to restore"
              id="restore-backup"
              value={chosen ? `${chosen.l.id}|${chosen.r.stamp}` : ''}
              onChange={(e) => {
                const [location, stamp] = (e.target as HTMLSelectElement).value.split('|');
                window.location.hash = `#/restore?location=${encodeURIComponent(location!)}&stamp=${encodeURIComponent(stamp!)}`;
              }}
            >
              {rows
                .slice()
                .reverse()
                .map(({ l, r }) => (
                  <option key={`${l.id}|${r.stamp}`} value={`${l.id}|${r.stamp}`}>
                    {r.stamp} · {l.name} · revision {r.revision ?? '?'} · {bytes(r.bytes)} · {age(r.time, now)}
                  </option>
                ))}
            </select>
          </label>
        )}
        {chosen && (
          <p class="small muted">
            Taken {time(chosen.r.time)} on {chosen.r.host ?? '?'}; {chosen.r.drill ? `drill ${chosen.r.drill.result} ${age(chosen.r.drill.at, now)}` : 'never drilled'}
            {chosen.r.encrypted ? '; encrypted with age' : ''}.
          </p>
        )}
      </section>
      <section aria-labelledby="r-preview" class="card">
        <h2 id="r-preview">What a restore would undo</h2>
        <p>
          A restore takes etcd back to the backup's revision: objects changed since then are reverted, objects created since are lost, objects deleted since come back; volumes, credentials and
          local devices they point at may no longer match (the risks of OpenShift's section 4.10.7). The preview compares the backup with a snapshot of the live cluster and changes nothing.
        </p>
        <div class="toolbar">
          <button type="button" class="primary" id="restore-preview" disabled={!chosen || action.busy || mine?.state === 'running'} onClick={() => chosen && void action.run('restore-preview', { location: chosen.l.id, stamp: chosen.r.stamp })}>
            {fits ? 'Preview again' : 'Preview'}
          </button>
          <span class="muted small">
            Same as <code>etcd-ops restore --preview{homeFlag} {chosen ? shellQuote(chosen.l.where) : '<backup-dir>'}</code>
            {chosen && !chosen.r.newest ? ' with this backup alone in the folder' : ''}
          </span>
        </div>
        {action.error && (
          <p class="bad-text" role="alert">
            {action.error}
          </p>
        )}
        {fits && <Report r={report!} />}
        {mine?.state === 'failed' && <p class="bad-text">The preview failed: {mine.error}</p>}
      </section>
      <ActionLog actions={mine ? [mine] : []} kinds={['restore-preview']} title="Preview log" />
      <section aria-labelledby="r-run" class="card">
        <h2 id="r-run">The restore itself</h2>
        <p>
          The restore stops etcd and the API server on the other hosts, restores one host as a single member and brings the others back. It stays a CLI command, run where you can watch it and
          answer it, never a button:
        </p>
        {own && chosen && (
          <>
            <p class="small">
              This is not the newest backup in <code>{chosen.l.where}</code>, and a restore takes a folder's newest: put this one in a folder of its own first.
            </p>
            <pre class="command" id="restore-copy-command">
              mkdir -p {own} && cp {chosen.r.files.map((f) => shellQuote(`${chosen.l.where}/${f}`)).join(' ')} {own}/
            </pre>
          </>
        )}
        <pre class="command" id="restore-command">
          etcd-ops restore{homeFlag} {dir}
        </pre>
        <p class="muted small">It prints its plan and asks before it starts; after any failure the same command goes on from its journal.</p>
      </section>
    </>
  );
}
