/** Label and field selectors, with kube's syntax and error texts. Pure. */
type Req = { key: string; op: 'in' | 'notin' | 'exists' | '!exists' | '=' | '!='; values: string[] };

export type Matcher = (labels: Record<string, string> | undefined) => boolean;

const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export class SelectorError extends Error {}

/** Splits at top-level commas (commas inside parentheses belong to a set). */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

export function parseLabelSelector(text: string): Matcher {
  const reqs: Req[] = [];
  if (text.trim() !== '') {
    for (const part0 of splitTop(text)) {
      const part = part0.trim();
      let m: RegExpExecArray | null;
      if ((m = /^(\S+?)\s+(in|notin)\s*\(([^)]*)\)$/.exec(part))) {
        reqs.push({ key: m[1]!, op: m[2] as 'in' | 'notin', values: m[3]!.split(',').map((v) => v.trim()) });
      } else if ((m = /^(\S+?)\s*(==|=|!=)\s*(\S*)$/.exec(part))) {
        reqs.push({ key: m[1]!, op: m[2] === '!=' ? '!=' : '=', values: [m[3]!] });
      } else if ((m = /^!\s*(\S+)$/.exec(part))) {
        reqs.push({ key: m[1]!, op: '!exists', values: [] });
      } else if ((m = /^(\S+)$/.exec(part))) {
        reqs.push({ key: m[1]!, op: 'exists', values: [] });
      } else {
        throw new SelectorError(`unable to parse requirement: found '${part}', expected: in, notin, =, ==, !=, gt, lt`);
      }
    }
    for (const r of reqs) {
      if (!LABEL_KEY.test(r.key) || r.key.length > 317) throw new SelectorError(`unable to parse requirement: invalid label key "${r.key}"`);
      for (const v of r.values) if (!LABEL_VALUE.test(v) || v.length > 63) throw new SelectorError(`unable to parse requirement: invalid label value: "${v}"`);
    }
  }
  // Own properties only: a selector "constructor" or "toString" must not find Object.prototype's.
  return (labels) => reqs.every((r) => matchReq(r, labels && Object.hasOwn(labels, r.key) ? labels[r.key] : undefined));
}

function matchReq(r: Req, v: string | undefined): boolean {
  switch (r.op) {
    case 'exists':
      return v !== undefined;
    case '!exists':
      return v === undefined;
    case '=':
    case 'in':
      return v !== undefined && r.values.includes(v);
    case '!=':
    case 'notin':
      return v === undefined || !r.values.includes(v);
  }
}

export type FieldMatcher = (fields: Record<string, string>) => boolean;

/** fieldSelector: `a=b`, `a==b`, `a!=b`, comma-separated; only the listed fields are supported. */
export function parseFieldSelector(text: string, supported: readonly string[]): FieldMatcher {
  const reqs: { key: string; neg: boolean; value: string }[] = [];
  if (text.trim() !== '') {
    for (const part of text.split(',')) {
      const m = /^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(part);
      if (!m) throw new SelectorError(`invalid selector: '${text}'; can't understand '${part}'`);
      if (!supported.includes(m[1]!)) throw new SelectorError(`field label not supported: ${m[1]}`);
      reqs.push({ key: m[1]!, neg: m[2] === '!=', value: m[3]! });
    }
  }
  return (f) => reqs.every((r) => ((Object.hasOwn(f, r.key) ? f[r.key]! : '') === r.value) !== r.neg);
}
