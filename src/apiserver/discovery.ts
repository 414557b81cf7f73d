/**
 * Legacy discovery documents (/api, /api/v1, /apis, /apis/<g>, /apis/<g>/<v>). kubectl 1.32 first
 * asks for aggregated discovery (apidiscovery.k8s.io/v2); answering with a plain application/json
 * APIVersions/APIGroupList makes it fall back to these per-group documents, as with older servers.
 */
import { VERBS, groups, resourcesOf, type ResourceDef } from './resources.js';

export function apiVersions(serverAddress: string): unknown {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function groupDoc(group: string, versions: string[]): Record<string, unknown> {
  const vs = versions.map((version) => ({ groupVersion: `${group}/${version}`, version }));
  return { name: group, versions: vs, preferredVersion: vs[0] };
}

export function apiGroupList(): unknown {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups().filter((g) => g.group !== '').map((g) => groupDoc(g.group, g.versions)) };
}

export function apiGroup(group: string): unknown | undefined {
  const g = groups().find((x) => x.group === group && group !== '');
  return g ? { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(g.group, g.versions) } : undefined;
}

function resourceEntries(r: ResourceDef): Record<string, unknown>[] {
  const main: Record<string, unknown> = { name: r.resource, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs ?? VERBS };
  if (r.shortNames.length) main.shortNames = r.shortNames;
  if (r.categories.length) main.categories = r.categories;
  const out = [main];
  if (r.statusSubresource) out.push({ name: `${r.resource}/status`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['get', 'patch', 'update'] });
  return out;
}

export function apiResourceList(group: string, version: string): unknown | undefined {
  const rs = resourcesOf(group, version);
  if (rs.length === 0) return undefined;
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources: rs.flatMap(resourceEntries) };
}

