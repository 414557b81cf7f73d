/**
 * JSON.parse keeps the last of duplicate keys silently; kube-apiserver's strict decoder reports them
 * (`duplicate field "metadata.name"`). This parser returns the same value as JSON.parse plus the
 * paths of duplicated fields. Depth is bounded so a hostile body cannot exhaust the stack.
 */
import { setOwn } from './schema.js';

export class JsonSyntaxError extends Error {}

const MAX_DEPTH = 1000;
/** What ends or interrupts a run of plain string characters: a quote, a backslash, a control character. */
const STRING_SPECIAL = /["\\\x00-\x1f]/g;

export function parseJsonWithDuplicates(text: string): { value: unknown; duplicates: string[] } {
  let i = 0;
  const duplicates: string[] = [];
  const fail = (what: string): never => {
    const ch = i < text.length ? `'${text[i]}'` : 'end of input';
    throw new JsonSyntaxError(`invalid character ${ch} ${what} (offset ${i})`);
  };
  const ws = () => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
  };
  const parseString = (): string => {
    // Jump between the characters that matter with a native regex scan; only strings with escapes
    // go through JSON.parse, which decodes them exactly as encoding/json does.
    const start = i;
    let escaped = false;
    STRING_SPECIAL.lastIndex = i + 1;
    for (;;) {
      const m = STRING_SPECIAL.exec(text);
      if (!m) {
        i = text.length;
        return fail('in string literal');
      }
      const c = text.charCodeAt(m.index);
      if (c === 0x22) {
        i = m.index + 1;
        break;
      }
      if (c === 0x5c) {
        escaped = true;
        STRING_SPECIAL.lastIndex = m.index + 2;
        continue;
      }
      i = m.index;
      return fail('in string literal');
    }
    if (!escaped) return text.slice(start + 1, i - 1);
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      i = start;
      return fail('in string escape code');
    }
  };
  const value = (path: string, depth: number): unknown => {
    if (depth > MAX_DEPTH) fail('exceeds the maximum nesting depth');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const o: Record<string, unknown> = {};
      const seen = new Set<string>();
      ws();
      if (text[i] === '}') {
        i++;
        return o;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('looking for beginning of object key string');
        const k = parseString();
        const p = path ? `${path}.${k}` : k;
        if (seen.has(k)) duplicates.push(p);
        seen.add(k);
        ws();
        if (text[i] !== ':') fail('after object key');
        i++;
        setOwn(o, k, value(p, depth + 1));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return o;
        }
        fail('after object key:value pair');
      }
    }
    if (c === '[') {
      i++;
      const a: unknown[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return a;
      }
      for (;;) {
        a.push(value(`${path}[${a.length}]`, depth + 1));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return a;
        }
        fail('after array element');
      }
    }
    if (c === '"') return parseString();
    const m = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 400));
    if (!m) return fail('looking for beginning of value');
    i += m[0].length;
    return JSON.parse(m[0]);
  };
  const v = value('', 0);
  ws();
  if (i < text.length) fail('after top-level value');
  return { value: v, duplicates };
}
