/** A Kubernetes group-resource. The core group is "". Wildcards use "*" in either part. */
export interface GroupResource {
  readonly group: string;
  readonly resource: string;
}

/** As schema.ParseGroupResource: "routes.route.openshift.io" splits at the first dot; "secrets" is core. */
export function parseGroupResource(text: string): GroupResource {
  const dot = text.indexOf('.');
  return dot < 0 ? { group: '', resource: text } : { group: text.slice(dot + 1), resource: text.slice(0, dot) };
}

/** As GroupResource.String(): "secrets", "routes.route.openshift.io". */
export function formatGroupResource(gr: GroupResource): string {
  return gr.group === '' ? gr.resource : `${gr.resource}.${gr.group}`;
}

/** As kube-apiserver writes rules in messages: the core wildcard is "*.", not "*". */
export function ruleString(gr: GroupResource): string {
  return gr.group === '' && gr.resource === '*' ? '*.' : formatGroupResource(gr);
}

/** A stable map key for a group-resource. */
export function grKey(gr: GroupResource): string {
  return `${gr.resource}/${gr.group}`;
}
