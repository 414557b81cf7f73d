/**
 * Watch streams against the versions every record agreed on: events ordered by rv (one revision
 * can carry several keys: group commit), no (key, rv) twice, every change in scope between the
 * start and the last event or bookmark delivered with the right type, a resumed stream starting
 * with the first change after its rv, and a 410 only where a compaction or restore explains it.
 */
import type { Epochs } from './epochs.js';
import { inScope, opRef, specialRef, watchRef, type CompactionEvent, type History, type WatchStream } from './history.js';
import type { Findings } from './report.js';
import { Versions, type Version } from './versions.js';

export interface WatchStats {
  streams: number;
  events: number;
  bookmarks: number;
  gone: number;
}

export function checkWatches(h: History, vs: Versions, epochs: Epochs, out: Findings): WatchStats {
  const stats: WatchStats = { streams: h.watches.length, events: 0, bookmarks: 0, gone: 0 };
  const compactions = h.specials.map((s, i) => ({ s, i })).filter((x): x is { s: CompactionEvent; i: number } => x.s.kind === 'compaction');
  for (const w of h.watches) {
    for (const e of w.events) e.type === 'BOOKMARK' ? stats.bookmarks++ : stats.events++;
    if (w.ending.kind === 'gone') stats.gone++;
    checkStream(w, vs, epochs, compactions, out);
  }
  return stats;
}

function checkStream(w: WatchStream, vs: Versions, epochs: Epochs, compactions: { s: CompactionEvent; i: number }[], out: Findings): void {
  const resumed = w.resumeOf !== undefined;
  const se = epochs.ofStream(w);
  const seen = new Set<string>();
  let maxEvent = w.startRv;
  let maxBookmark = -Infinity;
  let firstEvent: number | undefined;
  for (const [i, ev] of w.events.entries()) {
    const ref = watchRef(w, i);
    for (const [j, r] of epochs.restores.entries()) {
      if (w.start < r.start && ev.at > r.end) out.violation('watch-across-restore', [ref, r.ref], `${ref} arrived after restore#${j} (${r.ref}) on a stream opened before it: the stream should have ended with 410`);
    }
    if (ev.type === 'BOOKMARK') {
      if (ev.rv < maxEvent) out.violation('watch-order', [ref], `${ref}: bookmark at rv ${ev.rv} after an event at rv ${maxEvent}`);
      maxBookmark = Math.max(maxBookmark, ev.rv);
      continue;
    }
    const key = ev.key ?? '';
    if (!inScope(w.scope, key)) out.violation('watch-scope', [ref], `${ref}: ${key} is outside the stream's scope ${JSON.stringify(w.scope)}`);
    const id = `${key}@${ev.rv}`;
    if (seen.has(id)) out.violation('watch-duplicate', [ref], `${ref}: ${key} at rv ${ev.rv} was already delivered on this stream`);
    else if (ev.rv <= w.startRv) out.violation(resumed ? 'watch-resume' : 'watch-order', [ref], `${ref}: ${key} at rv ${ev.rv} is not after the stream's start rv ${w.startRv}${resumed ? ` (resumed from ${w.resumeOf})` : ''}`);
    else if (ev.rv < maxEvent) out.violation('watch-order', [ref], `${ref}: ${key} at rv ${ev.rv} after an event at rv ${maxEvent}`);
    else if (ev.rv <= maxBookmark) out.violation('watch-order', [ref], `${ref}: ${key} at rv ${ev.rv} after a bookmark at rv ${maxBookmark}`);
    seen.add(id);
    maxEvent = Math.max(maxEvent, ev.rv);
    firstEvent ??= ev.rv;
  }
  if (w.ending.kind === 'gone') checkGone(w, Math.max(maxEvent, maxBookmark), epochs, compactions, out);
  if (se === undefined) return;
  if (se > 0 && firstEvent !== undefined) {
    const r = epochs.restoreOf(se);
    if (w.startRv <= r.maxBefore) {
      out.violation('watch-across-restore', [watchRef(w), r.ref], `${watchRef(w)} was opened after ${r.ref} from rv ${w.startRv}, from before the restore, and delivered events instead of 410`);
      return;
    }
  }
  checkTypes(w, se, vs, epochs, out);
  const last = Math.max(maxEvent, maxBookmark);
  for (const c of vs.chains[se]!.values()) {
    if (!inScope(w.scope, c.key)) continue;
    for (let i = Versions.indexAtOrBelow(c, w.startRv) + 1; i < c.versions.length; i++) {
      const v = c.versions[i]!;
      if (v.rv > last) break;
      if (seen.has(`${c.key}@${v.rv}`)) continue;
      const who = v.writer ? ` (${opRef(v.writer)})` : '';
      if (resumed && firstEvent !== undefined && v.rv < firstEvent) {
        out.violation('watch-resume', [watchRef(w), ...(v.writer ? [opRef(v.writer)] : [])], `${watchRef(w)} resumed from rv ${w.startRv} and began at rv ${firstEvent}, missing ${c.key} at rv ${v.rv}${who}`);
      } else {
        out.violation('watch-gap', [watchRef(w), ...(v.writer ? [opRef(v.writer)] : [])], `${watchRef(w)} (rv ${w.startRv}..${last}) never delivered ${c.key} at rv ${v.rv}${who}`);
      }
    }
  }
}

/** ADDED after absence, MODIFIED after presence, DELETED for a deletion. */
function checkTypes(w: WatchStream, se: number, vs: Versions, epochs: Epochs, out: Findings): void {
  for (const [i, ev] of w.events.entries()) {
    if (ev.type === 'BOOKMARK' || ev.key === undefined || !epochs.eventUsable(ev, se)) continue;
    const c = vs.chains[se]!.get(ev.key);
    if (!c) continue;
    const idx = Versions.indexOf(c, ev.rv);
    if (idx <= 0) continue;
    const v = c.versions[idx]!;
    const want = expectedTypes(v, c.versions[idx - 1]!);
    if (!want.includes(ev.type)) {
      out.violation('watch-type', [watchRef(w, i), ...(v.writer ? [opRef(v.writer)] : [])], `${watchRef(w, i)}: ${ev.type} for ${ev.key} at rv ${ev.rv}, expected ${want.join(' or ')}`);
    }
  }
}

function expectedTypes(v: Version, pred: Version): string[] {
  if (!v.present) return ['DELETED'];
  if (v.kind === 'rewrite') return ['MODIFIED'];
  const out: string[] = [];
  // An unknown-outcome delete or create nobody saw may sit between them: the writer's kind says which.
  if (!pred.present || v.writer?.kind === 'create') out.push('ADDED');
  if (pred.present || v.writer?.kind === 'update') out.push('MODIFIED');
  return out;
}

/** 410 is legal once a compaction or restore passed the stream's position; otherwise only suspicious. */
function checkGone(w: WatchStream, position: number, epochs: Epochs, compactions: { s: CompactionEvent; i: number }[], out: Findings): void {
  const compacted = compactions.some(({ s }) => s.revision >= position && s.at <= w.end);
  const restored = epochs.restores.some((r) => r.start <= w.end && position <= r.maxBefore);
  if (compacted || restored) return;
  const known = compactions.map(({ s, i }) => `${specialRef(s, i)} at rv ${s.revision}`).join(', ');
  out.warning('unexplained-410', [watchRef(w)], `${watchRef(w)} got 410 at rv ${position} with no recorded compaction or restore at or above it${known ? ` (recorded: ${known})` : ''}; the API server's own compactor may explain it`);
}
