/**
 * What cluster-etcd-operator's `discover-etcd-initial-cluster` does before a member that joins a
 * running cluster starts: a member with an empty data dir must not start until the operator has
 * added it (as a learner), and then it starts with the cluster's real membership as its
 * --initial-cluster (etcd checks that list against the cluster's). Data left from another
 * cluster is archived first (`member-removed-archive-<stamp>`), never deleted.
 */
import { existsSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { fileStamp, fsyncDir } from '../util/fsx.js';
import { sleep } from '../util/time.js';
import type { Connection } from './endpoints.js';
import { memberList, type Member } from './members.js';

export interface Self {
  name: string;
  peerURL: string;
}

/**
 * The --initial-cluster for `self` joining the cluster whose members are `members`, or undefined
 * while the cluster does not list `self` yet. Every member is in it (etcd compares the counts and
 * peer URLs); members that never started have no name yet and get a placeholder.
 */
export function initialClusterFor(members: Member[], self: Self): string | undefined {
  if (!members.some((m) => m.peerURLs.includes(self.peerURL))) return undefined;
  const parts: string[] = [];
  for (const m of members) {
    const name = m.peerURLs.includes(self.peerURL) ? self.name : m.name || `unstarted-${m.id.toString(16)}`;
    for (const u of m.peerURLs) parts.push(`${name}=${u}`);
  }
  return parts.join(',');
}

/** What the cluster says about `self`: a started member keeps its data; an unstarted one joins empty. */
export type Standing = 'unknown' | 'absent' | 'unstarted' | 'started';

export function standingOf(members: Member[] | undefined, self: Self): Standing {
  if (!members) return 'unknown';
  const me = members.find((m) => m.peerURLs.includes(self.peerURL));
  if (!me) return 'absent';
  return me.name && me.clientURLs.length > 0 ? 'started' : 'unstarted';
}

/** The flags of etcd's command line that discovery needs, in either `--f=v` or `--f v` form; env as etcd reads it. */
export function etcdFlag(argv: string[], env: NodeJS.ProcessEnv, flag: string): string | undefined {
  let found: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith(`--${flag}=`)) found = a.slice(flag.length + 3);
    else if (a === `--${flag}` && i + 1 < argv.length) found = argv[++i];
  }
  return found ?? env[`ETCD_${flag.toUpperCase().replace(/-/g, '_')}`];
}

export interface DiscoverOptions {
  dataDir: string;
  self: Self;
  /** Where to ask for the member list (the other members' client URLs). */
  conn: Connection;
  timeoutMs: number;
  log: (line: string) => void;
  /** True once nobody waits for the answer (the container was stopped): give up at once. */
  abandoned?: () => boolean;
}

/** True when the data dir holds a member (a WAL): etcd then ignores --initial-cluster. */
export function hasMemberData(dataDir: string): boolean {
  const wal = join(dataDir, 'member', 'wal');
  return existsSync(wal) && readdirSync(wal).some((f) => f.endsWith('.wal'));
}

/** Moves a member dir from another cluster aside, as cluster-etcd-operator does. */
export function archiveMember(dataDir: string): string {
  const target = join(dataDir, `member-removed-archive-${fileStamp()}`);
  let t = target;
  for (let i = 1; existsSync(t); i++) t = `${target}.${i}`;
  mkdirSync(dataDir, { recursive: true });
  renameSync(join(dataDir, 'member'), t);
  fsyncDir(dataDir);
  return t;
}

async function ask(conn: Connection): Promise<Member[] | undefined> {
  try {
    return (await memberList(conn)).members;
  } catch {
    return undefined;
  }
}

/**
 * Decides how this member starts. Returns the --initial-cluster to start with when it joins with
 * an empty data dir, or undefined when its own data says everything (a member restarting).
 * Waits, bounded, while the cluster does not list it; throws when the time is up (the kubelet
 * then restarts the container, which asks again).
 */
export async function discoverInitialCluster(o: DiscoverOptions): Promise<string | undefined> {
  if (hasMemberData(o.dataDir)) {
    const standing = standingOf(await ask(o.conn), o.self);
    // No cluster to ask (every member restarting), or the cluster knows this member: its data is its own.
    if (standing === 'unknown' || standing === 'started') return undefined;
    const to = archiveMember(o.dataDir);
    o.log(`the cluster lists ${o.self.name} as ${standing === 'absent' ? 'no member' : 'a member that never started'}: its data is from another cluster; archived it to ${to}`);
  }
  const deadline = Date.now() + o.timeoutMs;
  let said = '';
  for (;;) {
    const members = await ask(o.conn);
    const initial = members && initialClusterFor(members, o.self);
    if (initial) {
      o.log(`${o.self.name} is a member of the cluster: starting with --initial-cluster=${initial}`);
      return initial;
    }
    const why = members ? `the cluster does not list ${o.self.peerURL} yet (the operator adds it as a learner)` : `no member answers at ${o.conn.endpoints.join(', ')}`;
    if (why !== said) o.log(`waiting to join: ${why}`);
    said = why;
    if (o.abandoned?.()) throw new Error('the etcd container stopped while waiting to join');
    if (Date.now() >= deadline) throw new Error(`${o.self.name} was not added to the cluster within ${Math.round(o.timeoutMs / 1000)}s: ${why}`);
    await sleep(1000);
  }
}
