/**
 * Authentication (bearer tokens from a kube-apiserver --token-auth-file, optional client
 * certificates). Authorization is RBAC: rbac/.
 */
import { hash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import type { IncomingMessage } from 'node:http';
import { parse as parseCsv, CsvError } from 'csv-parse/sync';
import { UserError } from '../util/errors.js';

export interface UserInfo {
  name: string;
  uid: string;
  groups: string[];
}

// The one-shot hash: no Hash object per request (this runs on every API call).
const digest = (s: string) => hash('sha256', s, 'buffer');

/** Parses one CSV line with optional double-quoted fields ("" escapes a quote), as encoding/csv does. */
export function parseCsvLine(line: string): string[] {
  const rows = parseCsv(line, { relax_column_count: true }) as string[][];
  if (rows.length === 0) return [''];
  if (rows.length !== 1) throw new Error(`expected one CSV record, found ${rows.length}`);
  return rows[0]!;
}

/** csv-parse's error codes, said without its messages: those quote the field, which may be a token. */
const CSV_PROBLEMS: Record<string, string> = {
  CSV_QUOTE_NOT_CLOSED: 'unterminated quoted field',
  CSV_INVALID_CLOSING_QUOTE: 'text after a quoted field',
  INVALID_OPENING_QUOTE: 'a quote inside an unquoted field (quote the whole field and double the inner quote)',
};

interface CsvRecord {
  record: string[];
  info: { lines: number };
}

/** The line a CSV error belongs to; an unclosed quote is reported where its record starts, not at the end of the file. */
function errorLine(text: string, err: { code?: string; lines?: number; bytes_records?: number }): number {
  if (err.code !== 'CSV_QUOTE_NOT_CLOSED' || err.bytes_records === undefined) return err.lines ?? 0;
  const consumed = Buffer.from(text, 'utf8').subarray(0, err.bytes_records).toString('utf8');
  const lines = text.split(/\r?\n/);
  let n = consumed.split('\n').length - 1;
  while (n < lines.length && (!lines[n]!.trim() || lines[n]!.startsWith('#'))) n++;
  return n + 1;
}

export class TokenAuthenticator {
  private constructor(private readonly entries: { hash: Buffer; user: UserInfo }[]) {}

  /** kube-apiserver's format: token,user,uid[,"group1,group2"]. Errors name the line, never the token. */
  static parse(text: string, source: string): TokenAuthenticator {
    let records: CsvRecord[];
    try {
      records = parseCsv(text, {
        // Mixed line endings are common in hand-edited files; encoding/csv accepts both too.
        record_delimiter: ['\r\n', '\n'],
        bom: true,
        relax_column_count: true,
        skip_empty_lines: true,
        skip_records_with_empty_values: true,
        // Only a # at the start of a line is a comment: tokens may contain #.
        comment: '#',
        comment_no_infix: true,
        info: true,
      }) as unknown as CsvRecord[]; // the typings do not model `info: true`, which wraps each record
    } catch (err) {
      if (!(err instanceof CsvError)) throw err;
      const e = err as CsvError & { lines?: number; bytes_records?: number };
      throw new UserError(`${source}:${errorLine(text, e)}: ${CSV_PROBLEMS[e.code] ?? `not valid CSV (${e.code})`}`);
    }
    const entries: { hash: Buffer; user: UserInfo }[] = [];
    for (const { record: rec, info } of records) {
      // An indented comment line: csv-parse only knows comments that start the line.
      if (rec[0]!.trimStart().startsWith('#')) continue;
      const where = `${source}:${info.lines}`;
      if (rec.length < 3) throw new UserError(`${where}: expected token,user,uid[,"groups"] (at least 3 columns, found ${rec.length})`);
      const [token, name, uid, groups] = rec as [string, string, string, string?];
      if (!token || !name) throw new UserError(`${where}: token and user must not be empty`);
      entries.push({ hash: digest(token), user: { name, uid, groups: groups ? groups.split(',').map((g) => g.trim()).filter(Boolean) : [] } });
    }
    if (entries.length === 0) throw new UserError(`${source}: no tokens defined`);
    return new TokenAuthenticator(entries);
  }

  static load(path: string): TokenAuthenticator {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new UserError(`cannot read the token file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    return TokenAuthenticator.parse(text, path);
  }

  /** Constant-time comparison over fixed-length digests: no early exit that leaks the token. */
  authenticateToken(token: string): UserInfo | undefined {
    const h = digest(token);
    let found: UserInfo | undefined;
    for (const e of this.entries) if (timingSafeEqual(e.hash, h)) found ??= e.user;
    return found;
  }
}

/** Every authenticated user is also in system:authenticated, as in kube. */
function withAuthenticated(u: UserInfo): UserInfo {
  return u.groups.includes('system:authenticated') ? u : { ...u, groups: [...u.groups, 'system:authenticated'] };
}

export function authenticate(req: IncomingMessage, tokens: TokenAuthenticator, certAuth: boolean): UserInfo | undefined {
  const h = req.headers.authorization;
  if (h) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
    if (!m) return undefined;
    const u = tokens.authenticateToken(m[1]!);
    return u && withAuthenticated(u);
  }
  if (certAuth) {
    const sock = req.socket as TLSSocket;
    if (sock.authorized) {
      const cert = sock.getPeerCertificate();
      const cn = cert?.subject?.CN;
      if (cn) {
        const o = cert.subject.O;
        const groups = Array.isArray(o) ? o : o ? [o] : [];
        return withAuthenticated({ name: Array.isArray(cn) ? cn[0]! : cn, uid: '', groups });
      }
    }
  }
  return undefined;
}
