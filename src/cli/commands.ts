import type { Command } from 'commander';
import { register as up } from './up.js';
import { register as host } from './host.js';
import { register as endpoint } from './endpoint.js';
import { register as member } from './member.js';
import { register as alarm } from './alarm.js';
import { register as metrics } from './metrics.js';
import { register as defrag } from './defrag.js';
import { register as daemons } from './daemons.js';
import { register as encryption } from './encryption.js';
import { register as apiserver } from './apiserver.js';
import { register as snapshot } from './snapshot.js';
import { register as operator } from './operator.js';
import { register as backup } from './backup.js';
import { register as restore } from './restore.js';

/**
 * Every command group registers itself here, one file per group as etcdctl does.
 * Groups load their heavy modules (gRPC, crypto) lazily inside actions to keep startup fast.
 */
export type RegisterCommands = (program: Command) => void;

export const commandGroups: RegisterCommands[] = [up, host, endpoint, member, alarm, metrics, defrag, daemons, encryption, apiserver, snapshot, operator, backup, restore];
