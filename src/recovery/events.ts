/**
 * What a restore does, as it does it: the CLI prints cluster-restore.sh's transcript and the
 * recovery's progress from these (cli/printers/restore.ts). No key material ever goes in one.
 */
export type RestoreEvent =
  | { kind: 'plan'; steps: string[]; lost: string[] }
  | { kind: 'resume'; startedAt: string; done: number; total: number; journal: string }
  | { kind: 'step'; index: number; total: number; title: string }
  | { kind: 'step-skipped'; index: number; total: number; title: string }
  | { kind: 'step-done'; index: number; ms: number }
  | { kind: 'stopping'; host: string; manifest: string }
  | { kind: 'waiting-container'; host: string; name: string }
  | { kind: 'tick' }
  | { kind: 'complete'; ok: boolean }
  | { kind: 'moving-data-dir'; host: string; from: string; to: string }
  | { kind: 'kept-previous'; path: string; keptAs: string }
  | { kind: 'restore-pod' }
  | { kind: 'snapshot-revision'; revision: bigint }
  | { kind: 'bump'; amount: bigint; from?: { path: string; revision: bigint } }
  | { kind: 'single-node' }
  | { kind: 'starting-manifest'; file: string; from: string }
  | { kind: 'restored'; host: string; revision: bigint; bumped: bigint; token: string }
  | { kind: 'progress'; what: string; state: string; elapsedMs: number }
  | { kind: 'note'; text: string }
  | { kind: 'report'; text: string; path: string }
  | { kind: 'done'; lines: string[] };
