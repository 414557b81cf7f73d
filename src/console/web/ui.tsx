import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ActionRecord } from '../wire.js';
import { act } from './store.js';

export function bytes(n: number | undefined | null): string {
  if (n === undefined || n === null) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

export function pct(x: number | undefined | null, digits = 1): string {
  return x === undefined || x === null ? '–' : `${(x * 100).toFixed(digits)} %`;
}

export function age(ms: number | string | undefined, now = Date.now()): string {
  if (ms === undefined) return '–';
  const t = typeof ms === 'string' ? Date.parse(ms) : ms;
  if (!Number.isFinite(t)) return '–';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${(s / 3600).toFixed(1)} h ago`;
  return `${(s / 86400).toFixed(1)} d ago`;
}

export function time(ms: number | string | undefined): string {
  if (ms === undefined) return '–';
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? '–' : d.toLocaleString();
}

/** Re-renders every few seconds, so ages stay true between updates. */
export function useNow(everyMs = 5000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

export function Status(p: { status: string; good?: 'True' | 'False'; children?: ComponentChildren }) {
  const good = p.good ?? 'True';
  const cls = p.status === 'Unknown' ? 'unknown' : p.status === good ? 'ok' : 'bad';
  return <span class={`badge ${cls}`}>{p.children ?? p.status}</span>;
}

export function Bar(p: { value: number | undefined; max: number | undefined; label: string; warnAt?: number }) {
  const max = p.max && p.max > 0 ? p.max : undefined;
  const share = max !== undefined && p.value !== undefined ? Math.min(1, p.value / max) : undefined;
  return (
    <span class="bar-cell">
      <progress max={max ?? 1} value={share === undefined ? undefined : (p.value ?? 0)} aria-label={p.label} class={p.warnAt !== undefined && share !== undefined && share >= p.warnAt ? 'warn' : ''} />
      <span class="bar-text">{share === undefined ? '' : pct(share, 0)}</span>
    </span>
  );
}

/** A modal confirmation that says what will happen; Cancel has the focus, Escape cancels. */
export function Confirm(p: { open: boolean; title: string; confirm: string; danger?: boolean; onConfirm: () => void; onClose: () => void; children: ComponentChildren }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (p.open && !d.open) d.showModal();
    if (!p.open && d.open) d.close();
  }, [p.open]);
  return (
    <dialog ref={ref} aria-labelledby="confirm-title" onClose={p.onClose} onCancel={p.onClose}>
      <h2 id="confirm-title">{p.title}</h2>
      <div class="confirm-body">{p.children}</div>
      <div class="buttons">
        <button type="button" autoFocus onClick={p.onClose}>
          Cancel
        </button>
        <button
          type="button"
          class={p.danger ? 'danger' : 'primary'}
          onClick={() => {
            p.onConfirm();
            p.onClose();
          }}
        >
          {p.confirm}
        </button>
      </div>
    </dialog>
  );
}

/** Starts an action, remembering a refusal to show. */
export function useAction(): { run: (kind: string, body?: Record<string, unknown>) => Promise<ActionRecord | undefined>; error?: string; busy: boolean } {
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  return {
    error,
    busy,
    run: async (kind, body = {}) => {
      setBusy(true);
      setError(undefined);
      try {
        return await act(kind, body);
      } catch (err) {
        setError((err as Error).message);
        return undefined;
      } finally {
        setBusy(false);
      }
    },
  };
}

/** The actions of this page, newest first, each with its log and the CLI command that does the same. */
export function ActionLog(p: { actions: ActionRecord[]; kinds: string[]; title?: string }) {
  const mine = p.actions.filter((a) => p.kinds.includes(a.kind)).slice().reverse();
  if (!mine.length) return null;
  return (
    <section aria-labelledby="actions-title" class="card">
      <h2 id="actions-title">{p.title ?? 'Actions'}</h2>
      {mine.map((a) => (
        <details key={a.id} open={a === mine[0]} class={`action ${a.state}`} data-action={a.kind} data-state={a.state}>
          <summary>
            <span class={`badge ${a.state === 'succeeded' ? 'ok' : a.state === 'failed' ? 'bad' : 'busy'}`}>{a.state}</span> {a.title} <span class="muted">· {time(a.started)}</span>
          </summary>
          <p class="cli">
            Same as: <code>{a.cli}</code>
          </p>
          <pre aria-live="polite">{[...a.lines, ...(a.error ? [`error: ${a.error}`] : [])].join('\n')}</pre>
        </details>
      ))}
    </section>
  );
}

export function Stale(p: { stale?: string }) {
  return p.stale ? (
    <p class="notice" role="status">
      Showing the last known state: {p.stale}
    </p>
  ) : null;
}
