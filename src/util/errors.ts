/**
 * A mistake the user can fix: bad input, a missing home, an unreachable endpoint.
 * The CLI prints only its message (one line, no stack) and exits non-zero.
 */
export class UserError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'UserError';
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
