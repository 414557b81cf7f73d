import { existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import { ip, ipTry, IP_BIN, listAddresses, listLinks, listNamespaces } from './ip.js';
import { isOurs, SLOTS, SUBNET_PREFIX, type HostNetwork, type NetworkPlan } from './plan.js';

/**
 * Makes, checks and removes a home's host network. Every step is idempotent: `up` after a crash
 * finishes what is missing, `down` removes whatever of ours is there.
 */

/** Slot claims live on tmpfs, like the namespaces themselves: a reboot clears both. */
const CLAIMS_DIR = process.env.ETCD_OPS_RUN_DIR ?? '/run/etcd-ops';

let availability: { ok: boolean; why: string } | undefined;

/**
 * Network namespaces need root and a kernel that allows them here; ETCD_OPS_NETWORK=shared forces
 * the single-network layout. Probed once per process by making and removing a namespace.
 */
export function hostNetworkAvailable(): { ok: boolean; why: string } {
  if (availability) return availability;
  if (process.env.ETCD_OPS_NETWORK === 'shared') return (availability = { ok: false, why: 'ETCD_OPS_NETWORK=shared' });
  if (process.getuid?.() !== 0) return (availability = { ok: false, why: 'not running as root' });
  const probe = `etcd-ops-probe-${process.pid}`;
  const made = ipTry(['netns', 'add', probe]);
  if (!made.ok) return (availability = { ok: false, why: `network namespaces cannot be made (${made.stderr || `${IP_BIN} is missing`})` });
  ipTry(['netns', 'del', probe]);
  return (availability = { ok: true, why: '' });
}

export interface Claim {
  id: string;
  home: string;
}

function readClaim(path: string): Claim | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Claim;
  } catch {
    return undefined;
  }
}

/** The claim that names this network id, if any. */
export function readClaimOf(id: string): Claim | undefined {
  for (const slot of range(SLOTS)) {
    const c = readClaim(join(CLAIMS_DIR, `slot-${slot}.json`));
    if (c?.id === id) return c;
  }
  return undefined;
}

/**
 * No claim, or the claiming home is gone: its folder deleted, or its cluster file made since for
 * another network. A folder without a cluster file is a home being created: not gone.
 */
export function claimHomeGone(c: Claim | undefined): boolean {
  if (!c) return true;
  if (!existsSync(c.home)) return true;
  const file = join(c.home, 'cluster.json');
  if (!existsSync(file)) return false;
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { network?: { id?: string } }).network?.id !== c.id;
  } catch {
    return false;
  }
}

/** A claim whose home is gone can be taken, once nothing of ours is left in the kernel. */
function claimIsStale(c: Claim | undefined): boolean {
  if (!c) return true;
  if (!claimHomeGone(c)) return false;
  return !listLinks().some((l) => isOurs(c.id, l)) && !listNamespaces().some((n) => isOurs(c.id, n));
}

/**
 * A /24 for the home, claimed by an exclusive create so two `up`s at once never pick the same one.
 * A home keeps its slot across down/up: its claim names it.
 */
export function claimSlot(id: string, home: string, preferred?: number): number {
  mkdirSync(CLAIMS_DIR, { recursive: true, mode: 0o700 });
  const used = new Set(listAddresses().filter((a) => a.startsWith(`${SUBNET_PREFIX}.`)).map((a) => Number(a.split('.')[2])));
  const order = preferred ? [preferred, ...range(SLOTS).filter((s) => s !== preferred)] : range(SLOTS);
  for (const slot of order) {
    const path = join(CLAIMS_DIR, `slot-${slot}.json`);
    const mine = JSON.stringify({ id, home } satisfies Claim);
    const current = readClaim(path);
    if (current?.id === id) return slot;
    if (existsSync(path)) {
      if (!claimIsStale(current)) continue;
      try {
        unlinkSync(path);
      } catch {}
    }
    if (used.has(slot)) continue; // someone else's 10.250.<slot> without a claim: leave it alone
    try {
      writeFileSync(path, mine, { flag: 'wx', mode: 0o600 });
      return slot;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  throw new UserError(`no free ${SUBNET_PREFIX}.x.0/24 subnet for the hosts' network (all ${SLOTS} are claimed in ${CLAIMS_DIR}); run \`etcd-ops down\` on homes you no longer use`);
}

/**
 * Claims this home's slot again when it resumes (`down` released it): its addresses are in its
 * certificates and URLs, so it must be this slot. Refuses when another live home holds it.
 */
export function reclaimSlot(id: string, home: string, slot: number): void {
  mkdirSync(CLAIMS_DIR, { recursive: true, mode: 0o700 });
  const path = join(CLAIMS_DIR, `slot-${slot}.json`);
  const current = readClaim(path);
  if (current?.id === id) return;
  if (existsSync(path)) {
    if (!claimIsStale(current)) throw new UserError(`the hosts' subnet ${SUBNET_PREFIX}.${slot}.0/24 is held by another home (${current?.home}): stop that one with \`etcd-ops down\` first`);
    try {
      unlinkSync(path);
    } catch {}
  }
  try {
    writeFileSync(path, JSON.stringify({ id, home } satisfies Claim), { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return reclaimSlot(id, home, slot);
    throw err;
  }
}

export function releaseSlot(id: string): void {
  for (const slot of range(SLOTS)) {
    const path = join(CLAIMS_DIR, `slot-${slot}.json`);
    if (readClaim(path)?.id === id) {
      try {
        unlinkSync(path);
      } catch {}
    }
  }
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}

function linkExists(name: string): boolean {
  return ipTry(['link', 'show', 'dev', name]).ok;
}

function addressOn(dev: string, netns?: string): string[] {
  const r = ipTry([...(netns ? ['-n', netns] : []), '-o', '-4', 'addr', 'show', 'dev', dev]);
  return r.ok ? [...r.stdout.matchAll(/\binet (\d+\.\d+\.\d+\.\d+\/\d+)/g)].map((m) => m[1]!) : [];
}

/** Creates whatever of the plan is missing: the bridge, then each host's namespace and link. */
export function ensureNetwork(plan: NetworkPlan): void {
  if (!linkExists(plan.bridge)) ip(['link', 'add', plan.bridge, 'type', 'bridge']);
  const gw = `${plan.gateway}/${plan.prefixLength}`;
  if (!addressOn(plan.bridge).includes(gw)) ip(['addr', 'add', gw, 'dev', plan.bridge]);
  ip(['link', 'set', plan.bridge, 'up']);
  for (const h of plan.hosts) ensureHost(plan, h);
}

export function ensureHost(plan: NetworkPlan, h: HostNetwork): void {
  if (!listNamespaces().includes(h.netns)) ip(['netns', 'add', h.netns]);
  const inNs = ['-n', h.netns];
  if (!linkExists(h.link)) {
    // A half-made pair (crash between the two steps) leaves eth0 in the namespace: start over.
    ipTry([...inNs, 'link', 'del', 'eth0']);
    ip(['link', 'add', h.link, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.netns]);
  }
  ip(['link', 'set', h.link, 'master', plan.bridge]);
  ip(['link', 'set', h.link, 'up']);
  const addr = `${h.address}/${plan.prefixLength}`;
  if (!addressOn('eth0', h.netns).includes(addr)) ip([...inNs, 'addr', 'add', addr, 'dev', 'eth0']);
  ip([...inNs, 'link', 'set', 'lo', 'up']);
  ip([...inNs, 'link', 'set', 'eth0', 'up']);
  ip([...inNs, 'route', 'replace', 'default', 'via', plan.gateway]);
}

/** Processes still inside a namespace: a host's, so ours to end when its network goes. */
export function namespacePids(ns: string): number[] {
  return ipTry(['netns', 'pids', ns]).stdout.split('\n').map(Number).filter((p) => p > 0);
}

/**
 * Removes every namespace and link that carries the network's id, and its slot claim. Whatever
 * still runs in those namespaces (a host killed without its agent's clean-up) is killed first.
 */
export function removeNetwork(id: string): string[] {
  const removed: string[] = [];
  for (const ns of listNamespaces().filter((n) => isOurs(id, n))) {
    for (const pid of namespacePids(ns)) {
      try {
        process.kill(pid, 'SIGKILL');
        removed.push(`process ${pid}`);
      } catch {}
    }
    if (ipTry(['netns', 'del', ns]).ok) removed.push(`netns ${ns}`);
  }
  // Deleting a namespace deletes the veth ends inside it, and with them their peers; the bridge stays.
  for (const link of listLinks().filter((l) => isOurs(id, l))) {
    if (ipTry(['link', 'del', link]).ok) removed.push(`link ${link}`);
  }
  releaseSlot(id);
  return removed;
}

/** Cuts a host off the network (both directions), as a pulled cable would. */
export function isolateHost(h: HostNetwork): void {
  ip(['link', 'set', h.link, 'down']);
}

export function healHost(h: HostNetwork): void {
  ip(['link', 'set', h.link, 'up']);
}

export function hostIsolated(h: HostNetwork): boolean {
  const r = ipTry(['-o', 'link', 'show', 'dev', h.link]);
  return r.ok && !/[<,]UP[,>]/.test(r.stdout);
}

/** The command that runs `command` inside the host's namespace. */
export function inNamespace(netns: string, command: string[]): string[] {
  return [IP_BIN, 'netns', 'exec', netns, ...command];
}
