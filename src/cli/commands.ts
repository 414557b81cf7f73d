import type { Command } from 'commander';

/**
 * Every command group registers itself here, one file per group as etcdctl does.
 * Groups load their heavy modules (gRPC, crypto) lazily inside actions to keep startup fast.
 */
export type RegisterCommands = (program: Command) => void;

export const commandGroups: RegisterCommands[] = [];
