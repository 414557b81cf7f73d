/**
 * Who may use the console: as `kubectl proxy`, it listens on 127.0.0.1 only; unlike it, it holds
 * an admin's credentials, so other local users get nothing without the one-time login token the
 * console printed. The token buys a session cookie (HttpOnly, SameSite=Strict); every mutating
 * request also needs the session's CSRF token and a same-origin request (Origin or
 * Sec-Fetch-Site), and every request a Host header naming this console (DNS rebinding).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'etcd_ops_console';
export const CSRF_HEADER = 'x-csrf-token';

export interface Session {
  id: string;
  csrf: string;
  since: number;
}

const token = () => randomBytes(32).toString('base64url');

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class ConsoleAuth {
  private loginToken: string | undefined = token();
  private readonly sessions = new Map<string, Session>();

  /** The token for the printed URL; undefined once used. */
  get pendingLoginToken(): string | undefined {
    return this.loginToken;
  }

  /** Trades the one-time token for a session; a wrong or used token gets nothing. */
  login(given: string | null): Session | undefined {
    if (!given || !this.loginToken || !same(given, this.loginToken)) return undefined;
    this.loginToken = undefined;
    const s: Session = { id: token(), csrf: token(), since: Date.now() };
    this.sessions.set(s.id, s);
    return s;
  }

  session(cookieHeader: string | undefined): Session | undefined {
    const id = cookieValue(cookieHeader, SESSION_COOKIE);
    if (!id) return undefined;
    for (const [k, s] of this.sessions) if (same(k, id)) return s;
    return undefined;
  }
}

export function sessionCookie(s: Session): string {
  return `${SESSION_COOKIE}=${s.id}; Path=/; HttpOnly; SameSite=Strict`;
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/** The Host values this console answers to: its own address and port, as typed or as localhost. */
export function hostAllowed(host: string | undefined, port: number): boolean {
  return host === `127.0.0.1:${port}` || host === `localhost:${port}`;
}

/**
 * Why a mutating request is refused, or undefined: it must come from a page of this console
 * (Origin, else Sec-Fetch-Site) and carry the session's CSRF token.
 */
export function mutationRefusal(headers: Record<string, string | string[] | undefined>, s: Session, port: number): string | undefined {
  const origin = headers.origin as string | undefined;
  if (origin !== undefined) {
    if (origin !== `http://127.0.0.1:${port}` && origin !== `http://localhost:${port}`) return `requests from ${origin} are refused`;
  } else {
    const site = headers['sec-fetch-site'] as string | undefined;
    if (site !== undefined && site !== 'same-origin') return `${site} requests are refused`;
    if (site === undefined) return 'a request without Origin is refused';
  }
  const csrf = headers[CSRF_HEADER] as string | undefined;
  if (!csrf || !same(csrf, s.csrf)) return 'missing or wrong CSRF token: reload the page';
  return undefined;
}
