import { useState } from 'preact/hooks';
import type { State } from '../store.js';
import { ActionLog, Bar, Confirm, Stale, Status, time, useAction } from '../ui.js';

const MODES = ['aescbc', 'aesgcm', 'secretbox'] as const;
const KINDS = ['encryption-mode', 'encryption-rotate'];

export function Encryption({ s }: { s: State }) {
  const v = s.encryption;
  const r = v?.report;
  const [mode, setMode] = useState<string>('aescbc');
  const [ask, setAsk] = useState<'enable' | 'disable' | 'rotate' | undefined>();
  const action = useAction();
  const running = s.actions.some((a) => KINDS.includes(a.kind) && a.state === 'running');
  if (!r) return <p class="muted">{v?.stale ? `The encryption report is not available: ${v.stale}` : 'Loading…'}</p>;
  const enabled = r.mode !== 'identity';
  return (
    <>
      <Stale stale={v?.stale} />
      <section aria-labelledby="enc-mode" class="card">
        <h2 id="enc-mode">Mode</h2>
        <p class="big">
          <span id="encryption-mode">{r.mode}</span> <span class="muted">(spec.encryption.type on apiservers.config.openshift.io/cluster)</span>
        </p>
        {v?.progress && (
          <div class="progress-line" id="encryption-progress" data-pct={v.progress.pct} data-settled={String(v.settled)}>
            <progress max={100} value={v.progress.pct} aria-label="Encryption progress" /> <strong>{v.progress.pct} %</strong> <span>{v.settled ? 'settled' : v.progress.stage}</span>
          </div>
        )}
        <div class="toolbar" role="group" aria-label="Encryption actions">
          <label>
            Mode{' '}
            <select value={mode} onChange={(e) => setMode((e.target as HTMLSelectElement).value)} aria-label="Encryption mode">
              {MODES.map((m) => (
                <option key={m} value={m}>
                  {m}
                </option>
              ))}
            </select>
          </label>
          <button type="button" class="primary" disabled={running || action.busy || r.mode === mode} onClick={() => setAsk('enable')}>
            {enabled ? 'Change mode' : 'Enable'}
          </button>
          <button type="button" disabled={running || action.busy || !enabled} onClick={() => setAsk('rotate')} id="rotate">
            Rotate keys
          </button>
          <button type="button" class="danger" disabled={running || action.busy || !enabled} onClick={() => setAsk('disable')}>
            Disable
          </button>
        </div>
        {action.error && (
          <p class="bad-text" role="alert">
            {action.error}
          </p>
        )}
      </section>
      <Confirm open={ask === 'enable'} title={enabled ? `Change the encryption mode to ${mode}?` : `Enable ${mode} encryption?`} confirm={enabled ? `Change to ${mode}` : `Enable ${mode}`} onClose={() => setAsk(undefined)} onConfirm={() => void action.run('encryption-mode', { mode })}>
        <p>
          Sets <code>spec.encryption.type: {mode}</code> on <code>apiservers.config.openshift.io/cluster</code>. The operator then makes a new {mode} key for each API server, rolls it out to every node as a
          new static-pod revision (each API server restarts once, one node at a time), and rewrites every secret, config map, route and OAuth token with it. The API stays available throughout.
        </p>
        <p>Same as <code>etcd-ops encryption enable {mode} --wait</code>.</p>
      </Confirm>
      <Confirm open={ask === 'rotate'} title="Rotate the encryption keys now?" confirm="Rotate keys" onClose={() => setAsk(undefined)} onConfirm={() => void action.run('encryption-rotate')}>
        <p>
          Asks each API server's operator for a new {r.mode} key now instead of at the weekly rotation. Each new key is first rolled out as a read key, then made the write key, then every encrypted
          object is rewritten with it; the old keys stay readable until that is done. Each API server restarts twice, one node at a time.
        </p>
        <p>
          Same as <code>etcd-ops encryption rotate --wait</code>.
        </p>
      </Confirm>
      <Confirm open={ask === 'disable'} title="Disable encryption?" confirm="Disable encryption" danger onClose={() => setAsk(undefined)} onConfirm={() => void action.run('encryption-mode', { mode: 'identity' })}>
        <p>
          Sets <code>spec.encryption.type: identity</code>. Every encrypted object is rewritten as plain text in etcd: anyone who can read etcd's files or a backup made afterwards can read the secrets. The
          keys are kept so older backups stay readable.
        </p>
        <p>
          Same as <code>etcd-ops encryption disable --wait</code>.
        </p>
      </Confirm>
      <ActionLog actions={s.actions} kinds={KINDS} />
      <section aria-labelledby="enc-rollout" class="card">
        <h2 id="enc-rollout">Rollout per node</h2>
        {r.nodeInstaller && (
          <p id="node-installer">
            <code>NodeInstallerProgressing</code> <Status status={r.nodeInstaller.status} good="False" /> {r.nodeInstaller.reason}: {r.nodeInstaller.message}
          </p>
        )}
        <table>
          <thead>
            <tr>
              <th scope="col">Node</th>
              <th scope="col" class="num">Current revision</th>
              <th scope="col" class="num">Target revision</th>
              <th scope="col">Rollout</th>
            </tr>
          </thead>
          <tbody>
            {r.nodes.map((n) => (
              <tr key={n.nodeName}>
                <th scope="row">{n.nodeName}</th>
                <td class="num">{n.currentRevision}</td>
                <td class="num">{n.targetRevision || '–'}</td>
                <td data-node-state={n.currentRevision === r.latestRevision ? 'latest' : n.targetRevision ? 'installing' : 'waiting'}>
                  {n.currentRevision === r.latestRevision ? (
                    <Status status="True">at the latest revision</Status>
                  ) : n.targetRevision ? (
                    <Status status="Unknown">installing revision {n.targetRevision}</Status>
                  ) : (
                    <span class="muted">waits its turn</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <p class="small">
          <Bar value={r.nodes.filter((n) => n.currentRevision === r.latestRevision).length} max={r.nodes.length} label={`nodes at the latest revision ${r.latestRevision}`} />{' '}
          {r.nodes.filter((n) => n.currentRevision === r.latestRevision).length} of {r.nodes.length} nodes at the latest revision, {r.latestRevision}
        </p>
      </section>
      {r.components.map((c) => {
        const enc = c.conditions.find((x) => x.type === 'Encrypted');
        // The migration record is the last one's until the operator starts migrating to the
        // newest key: an older key's "done" says nothing about this one.
        const latest = Math.max(0, ...c.keys.map((k) => Number(/-(\d+)$/.exec(k.name)?.[1] ?? 0)));
        const m = c.migration && c.migration.writeKey === latest ? c.migration : undefined;
        const previous = c.migration && c.migration.writeKey !== latest ? c.migration : undefined;
        return (
          <section key={c.component} aria-labelledby={`comp-${c.component}`} class="card component" data-component={c.component}>
            <h2 id={`comp-${c.component}`}>{c.component}</h2>
            <p class="encrypted-condition" data-reason={enc?.reason ?? ''}>
              <code>Encrypted</code> {enc ? <Status status={enc.status}>{enc.reason}</Status> : <span class="muted">not reported yet</span>} {enc?.message}
            </p>
            <p class="small">
              Write key <code>{c.writeKey}</code> · read keys {c.readKeys.length ? c.readKeys.map((k) => <code key={k}>{k} </code>) : '–'}
            </p>
            <h3>Migration</h3>
            <table class="migration">
              <thead>
                <tr>
                  <th scope="col">Resource</th>
                  <th scope="col">State</th>
                  <th scope="col">Progress</th>
                  <th scope="col" class="num">Objects rewritten</th>
                </tr>
              </thead>
              <tbody>
                {c.resources.map((res) => {
                  const done = Boolean(m?.done.includes(res));
                  const objects = m?.resources?.[res]?.objects ?? 0;
                  const total = v?.totals[res];
                  const state = !m ? (previous ? `waits for key ${latest}` : 'no migration yet') : done ? 'done' : m.current === res ? 'migrating' : m.completed ? 'done' : 'waiting';
                  const full = done || Boolean(m?.completed);
                  return (
                    <tr key={res} data-resource={res} data-state={state}>
                      <th scope="row">{res}</th>
                      <td>{state}</td>
                      <td>
                        <Bar value={full ? 1 : objects} max={full ? 1 : total} label={`${res} migration progress`} />
                      </td>
                      <td class="num">
                        {objects}
                        {total !== undefined ? ` of ${total}` : ''}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
            {m && <p class="muted small">Migration to key {m.writeKey}: {m.completed ? 'completed' : `${m.objects} objects rewritten so far`}.</p>}
            {previous && <p class="muted small">The last migration, to key {previous.writeKey}, {previous.completed ? 'completed' : 'stopped'}; the migration to key {latest} starts once every node writes with it.</p>}
            <h3>Keys</h3>
            <table class="keys">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Mode</th>
                  <th scope="col">Created</th>
                  <th scope="col">Migrated</th>
                </tr>
              </thead>
              <tbody>
                {c.keys.length === 0 && (
                  <tr>
                    <td colSpan={4} class="muted">
                      no keys
                    </td>
                  </tr>
                )}
                {c.keys.map((k) => (
                  <tr key={k.name}>
                    <th scope="row">
                      <code>{k.name}</code>
                    </th>
                    <td>{k.mode}</td>
                    <td>{time(k.created)}</td>
                    <td>
                      {k.migratedTimestamp ? time(k.migratedTimestamp) : <span class="muted">not yet</span>}
                      {k.migratedResources.length > 0 && <div class="muted small">{k.migratedResources.join(', ')}</div>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        );
      })}
    </>
  );
}
