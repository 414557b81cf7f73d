/**
 * The console's page: a header with the live state, a navigation of five pages (hash routes, so
 * reloads and the back button work with no server routes), and the page. Keyboard first: a
 * skip link, real links and buttons, headings the focus moves to on each page change.
 */
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import './style.css';
import { connect, getState, subscribe, type State } from './store.js';
import { Overview } from './pages/overview.js';
import { Encryption } from './pages/encryption.js';
import { Backups } from './pages/backups.js';
import { Defrag } from './pages/defrag.js';
import { Restore } from './pages/restore.js';
import { age, useNow } from './ui.js';

const PAGES = [
  { id: 'overview', title: 'Overview', Page: Overview },
  { id: 'encryption', title: 'Encryption', Page: Encryption },
  { id: 'backups', title: 'Backups', Page: Backups },
  { id: 'defrag', title: 'Defrag', Page: Defrag },
  { id: 'restore', title: 'Restore', Page: Restore },
] as const;

const route = () => /^#\/([a-z]+)/.exec(location.hash)?.[1] ?? 'overview';

function useStore(): State {
  const [s, set] = useState(getState());
  useEffect(() => subscribe(set), []);
  return s;
}

function App() {
  const s = useStore();
  const [page, setPage] = useState(route());
  const heading = useRef<HTMLHeadingElement>(null);
  const now = useNow(1000);
  useEffect(() => {
    const f = () => {
      const next = route();
      setPage((prev) => {
        if (prev !== next) requestAnimationFrame(() => heading.current?.focus());
        return next;
      });
    };
    addEventListener('hashchange', f);
    return () => removeEventListener('hashchange', f);
  }, []);
  const current = PAGES.find((p) => p.id === page) ?? PAGES[0];
  useEffect(() => {
    document.title = `${current.title} · etcd-ops console`;
  }, [current]);
  const alarms = s.overview?.alarms.length ?? 0;
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); heading.current?.focus(); }}>
        Skip to content
      </a>
      <header>
        <div class="brand">
          etcd-ops <span>console</span>
        </div>
        <nav aria-label="Pages">
          <ul>
            {PAGES.map((p) => (
              <li key={p.id}>
                <a href={`#/${p.id}`} aria-current={p.id === current.id ? 'page' : undefined}>
                  {p.title}
                  {p.id === 'overview' && alarms > 0 && <span class="badge bad" aria-label={`${alarms} alarms`}>{alarms}</span>}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class={`live ${s.connected ? 'on' : 'off'}`} role="status" id="live-status">
          {s.connected ? 'live' : s.ended ? 'session ended: log in again with the link a new etcd-ops console prints' : s.lostAt ? `reconnecting… (lost ${age(s.lostAt, now)})` : 'connecting…'}
        </div>
      </header>
      <main id="main">
        <h1 ref={heading} tabIndex={-1}>
          {current.title}
        </h1>
        {s.meta && (
          <p class="muted small who">
            Acting as {s.meta.user}
            {s.meta.etcd ? ` on ${s.meta.etcd.home}` : ''}
          </p>
        )}
        <current.Page s={s} />
      </main>
    </>
  );
}

connect();
const root = document.getElementById('app')!;
root.textContent = ''; // the "Loading…" the server page shows until this runs
render(<App />, root);
