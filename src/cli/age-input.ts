/** `--identity` for commands that read backup files: `.age` inputs are opened through src/backup/open.ts. */
export const IDENTITY_HELP = 'age identity file (AGE-SECRET-KEY-1... lines, or a passphrase on the first line) for an encrypted (.age) snapshot or bundle';

/** The plaintext of `.age` inputs (decrypted into a private scratch folder until close()). */
export async function plain(files: string[], identity: string | undefined) {
  const { isAgeFile, readIdentityFile } = await import('../backup/age.js');
  if (identity === undefined && !files.some((f) => isAgeFile(f))) return { paths: files, decrypted: false, close() {} };
  const { openPlain } = await import('../backup/open.js');
  return openPlain(files, identity === undefined ? undefined : readIdentityFile(identity));
}

