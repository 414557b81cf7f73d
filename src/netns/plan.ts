/**
 * The network of a home's hosts, as a pure plan: a bridge in the root namespace and one network
 * namespace per host, joined to the bridge by a veth pair, each host with its own address. Every
 * name carries the home's network id, so clean-up can find what is ours and touch nothing else.
 */

/** 10.250.<slot>.0/24: one /24 per home, so several homes (parallel tests) never share a subnet. */
export const SUBNET_PREFIX = '10.250';
export const SLOTS = 254;
/** Linux limits interface names to 15 bytes (IFNAMSIZ - 1). */
const IFNAME_MAX = 15;

export interface HostNetwork {
  host: string;
  /** The namespace the host's agent and pods run in (`ip netns exec <netns>`). */
  netns: string;
  /** The host's address, on the bridge's subnet. */
  address: string;
  /** The root-namespace end of the host's veth pair: setting it down cuts the host off. */
  link: string;
}

export interface NetworkPlan {
  id: string;
  slot: number;
  bridge: string;
  /** The bridge's own address: the root namespace (CLI, load balancer) reaches the hosts through it. */
  gateway: string;
  prefixLength: 24;
  hosts: HostNetwork[];
}

export function validNetworkId(id: string): boolean {
  return /^[0-9a-f]{6}$/.test(id);
}

export function namespaceName(id: string, host: string): string {
  return `etcd-ops-${id}-${host}`;
}

/** Host addresses start at .10; .1 is the bridge. The host's index is kept across replaces. */
export function hostAddress(slot: number, index: number): string {
  if (index < 0 || index > 200) throw new Error(`host index ${index} is out of range (0-200)`);
  return `${SUBNET_PREFIX}.${slot}.${10 + index}`;
}

export function planNetwork(id: string, slot: number, hosts: { name: string; index: number }[]): NetworkPlan {
  if (!validNetworkId(id)) throw new Error(`network id ${JSON.stringify(id)} is not 6 hex digits`);
  if (!Number.isInteger(slot) || slot < 1 || slot > SLOTS) throw new Error(`network slot ${slot} is out of range (1-${SLOTS})`);
  const bridge = `eo${id}`;
  return {
    id,
    slot,
    bridge,
    gateway: `${SUBNET_PREFIX}.${slot}.1`,
    prefixLength: 24,
    hosts: hosts.map(({ name, index }) => {
      const link = `eo${id}-${index}`;
      if (link.length > IFNAME_MAX) throw new Error(`interface name ${link} is longer than ${IFNAME_MAX} bytes`);
      return { host: name, netns: namespaceName(id, name), address: hostAddress(slot, index), link };
    }),
  };
}

/** Names that belong to the network `id`: what a crashed `up` may have left behind. */
export function isOurs(id: string, name: string): boolean {
  return name === `eo${id}` || name.startsWith(`eo${id}-`) || name.startsWith(`etcd-ops-${id}-`);
}
