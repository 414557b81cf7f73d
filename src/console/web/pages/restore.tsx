import type { State } from '../store.js';
import { age, bytes, useNow } from '../ui.js';

function params(): URLSearchParams {
  const q = location.hash.indexOf('?');
  return new URLSearchParams(q >= 0 ? location.hash.slice(q + 1) : '');
}

const shellQuote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export function Restore({ s }: { s: State }) {
  const now = useNow();
  const v = s.backups;
  const p = params();
  const rows = (v?.locations ?? []).filter((l) => l.kind !== 'remote').flatMap((l) => l.rows.filter((r) => r.complete).map((r) => ({ l, r })));
  const chosen = rows.find((x) => x.l.id === p.get('location') && x.r.stamp === p.get('stamp')) ?? rows[rows.length - 1];
  const home = s.meta?.etcd?.home;
  const homeFlag = home ? ` --home ${shellQuote(home)}` : '';
  const dir = chosen ? shellQuote(chosen.l.where) : '<backup-dir>';
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
      </section>
      <section aria-labelledby="r-preview" class="card">
        <h2 id="r-preview">What a restore would undo</h2>
        <p>
          A restore takes etcd back to the backup's revision: objects changed since then are reverted, objects created since are lost, objects deleted since come back; volumes, credentials and
          local devices they point at may no longer match (the risks of OpenShift's section 4.10.7). The preview compares the backup with the live cluster and changes nothing:
        </p>
        <pre class="command" id="restore-preview-command">
          etcd-ops restore --preview{homeFlag} {dir}
        </pre>
        <p class="notice">
          The preview report is not in this build's console yet: <code>etcd-ops restore --preview</code> is being added to etcd-ops; run it in a terminal once it is there.
        </p>
      </section>
      <section aria-labelledby="r-run" class="card">
        <h2 id="r-run">The restore itself</h2>
        <p>
          The restore stops the control plane, restores one host as a single member and brings the others back. It stays a CLI command, run where you can watch it, never a button:
        </p>
        <pre class="command" id="restore-command">
          etcd-ops restore{homeFlag} {dir}
        </pre>
        <p class="muted small">The folder's newest backup is used{chosen ? `; this folder's newest is ${chosen.l.rows[chosen.l.rows.length - 1]?.stamp}` : ''}.</p>
      </section>
    </>
  );
}
