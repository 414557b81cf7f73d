/**
 * What the producer of a history promises (README.md): per-client order, unique values, sane
 * times, known resumed streams. A broken promise is a `history-format` violation: the other rules
 * would report nonsense about it.
 */
import { opRef, specialRef, watchRef, type History } from './history.js';
import type { Findings } from './report.js';

export function checkFormat(h: History, out: Findings): void {
  const bad = (refs: string[], message: string) => out.violation('history-format', refs, message);
  const byClient = new Map<string, typeof h.ops>();
  const values = new Map<string, string>();
  const seqs = new Set<string>();
  for (const op of h.ops) {
    const ref = opRef(op);
    if (seqs.has(ref)) bad([ref], `${ref} appears twice: seq must be unique per client`);
    seqs.add(ref);
    if (!(op.end >= op.start)) bad([ref], `${ref} ends (${op.end}) before it starts (${op.start})`);
    const l = byClient.get(op.client) ?? [];
    l.push(op);
    byClient.set(op.client, l);
    if (op.kind === 'create' || op.kind === 'update') {
      const prev = values.get(op.value);
      if (prev !== undefined) bad([ref, prev], `${ref} writes ${JSON.stringify(op.value)}, already written by ${prev}: values must be unique`);
      else values.set(op.value, ref);
    }
    if (op.kind !== 'list' && !op.key.includes('/')) bad([ref], `${ref}: key ${JSON.stringify(op.key)} is not namespace/name`);
  }
  for (const ops of byClient.values()) {
    ops.sort((a, b) => a.seq - b.seq);
    for (let i = 1; i < ops.length; i++) {
      if (ops[i]!.start < ops[i - 1]!.end) bad([opRef(ops[i]!), opRef(ops[i - 1]!)], `${opRef(ops[i]!)} starts before ${opRef(ops[i - 1]!)} ended: a client sends one request at a time, in seq order`);
    }
  }
  const ids = new Set(h.watches.map((w) => w.id));
  if (ids.size !== h.watches.length) bad([], 'watch stream ids are not unique');
  for (const w of h.watches) {
    const ref = watchRef(w);
    if (!(w.startRv > 0)) bad([ref], `${ref} has startRv ${w.startRv}: open watches from a list's or a previous stream's rv`);
    if (w.resumeOf !== undefined && !ids.has(w.resumeOf)) bad([ref], `${ref} resumes ${w.resumeOf}, which is not in the history`);
    w.events.forEach((e, i) => {
      if (e.type !== 'BOOKMARK' && (e.key === undefined || (e.type !== 'DELETED' && e.value === undefined))) bad([watchRef(w, i)], `${watchRef(w, i)}: ${e.type} without key or value`);
      if (e.at < w.start) bad([watchRef(w, i)], `${watchRef(w, i)} received (${e.at}) before its stream started (${w.start})`);
    });
  }
  const restores = h.specials.map((s, i) => ({ s, i })).filter((x) => x.s.kind === 'restore');
  restores.sort((a, b) => (a.s as { start: number }).start - (b.s as { start: number }).start);
  for (let i = 1; i < restores.length; i++) {
    const a = restores[i - 1]!;
    const b = restores[i]!;
    if ((b.s as { start: number }).start <= (a.s as { end: number }).end) bad([specialRef(a.s, a.i), specialRef(b.s, b.i)], 'restores overlap');
  }
}
