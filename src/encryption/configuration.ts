import { LineCounter, parseDocument, stringify } from 'yaml';
import { z } from 'zod';
import { UserError } from '../util/errors.js';
import { parseGroupResource, ruleString, grKey } from './group-resource.js';

/**
 * EncryptionConfiguration (apiserver.config.k8s.io/v1), read and validated as kube-apiserver does:
 * strict decoding (unknown fields are errors), then its validation rules with its texts, then the
 * masking check it makes while building transformers. Secrets never appear in any message.
 */

export type KeyedProviderType = 'aescbc' | 'aesgcm' | 'secretbox';
export type ProviderType = KeyedProviderType | 'identity' | 'kms';

export interface KeyConfig {
  readonly name: string;
  /** Base64, exactly as in the file. */
  readonly secret: string;
}

export type ProviderConfig =
  | { readonly type: KeyedProviderType; readonly keys: readonly KeyConfig[] }
  | { readonly type: 'identity' }
  | {
      readonly type: 'kms';
      readonly name: string;
      readonly apiVersion: 'v1' | 'v2';
      readonly endpoint: string;
      readonly cachesize?: number;
      readonly timeout?: string;
    };

export interface ResourceConfig {
  /** As written: "secrets", "routes.route.openshift.io", "*.apps", "*.", "*.*". */
  readonly resources: readonly string[];
  /** In order: the first writes, all read. */
  readonly providers: readonly ProviderConfig[];
}

export interface EncryptionConfiguration {
  readonly resources: readonly ResourceConfig[];
}

export const API_VERSION = 'apiserver.config.k8s.io/v1';
export const KIND = 'EncryptionConfiguration';
/** kube-apiserver also accepts this pair, after an old docs bug. */
const LEGACY = { apiVersion: 'v1', kind: 'EncryptionConfig' };

export const AES_KEY_SIZES = [16, 24, 32] as const;
export const SECRETBOX_KEY_SIZES = [32] as const;

/** A configuration kube-apiserver would refuse. `problems` are the single field errors. */
export class ConfigError extends UserError {
  constructor(
    readonly problems: readonly string[],
    readonly source?: string,
  ) {
    super(`invalid encryption configuration${source ? ` ${source}` : ''}: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

// ---- strict structure (what Go's strict decoder accepts); null counts as absent, as in Go ----

const keySchema = z.strictObject({ name: z.string().nullish(), secret: z.string().nullish() });
const keyedSchema = z.strictObject({ keys: z.array(keySchema).nullish() });
const kmsSchema = z.strictObject({
  apiVersion: z.string().nullish(),
  name: z.string().nullish(),
  cachesize: z.number().int().nullish(),
  endpoint: z.string().nullish(),
  timeout: z.string().nullish(),
});
const providerSchema = z.strictObject({
  aesgcm: keyedSchema.nullish(),
  aescbc: keyedSchema.nullish(),
  secretbox: keyedSchema.nullish(),
  identity: z.strictObject({}).nullish(),
  kms: kmsSchema.nullish(),
});
const resourceSchema = z.strictObject({
  resources: z.array(z.string()).nullish(),
  providers: z.array(providerSchema).nullish(),
});
const rootSchema = z.strictObject({
  kind: z.string().nullish(),
  apiVersion: z.string().nullish(),
  resources: z.array(resourceSchema).nullish(),
});

type RawRoot = z.infer<typeof rootSchema>;
type RawProvider = z.infer<typeof providerSchema>;
type RawKey = z.infer<typeof keySchema>;
type RawKms = z.infer<typeof kmsSchema>;

/**
 * Decodes and validates a configuration (YAML or JSON) into plain data, keys still in base64.
 * Throws ConfigError naming the fields. Pure.
 */
export function decodeEncryptionConfiguration(text: string, source?: string): EncryptionConfiguration {
  const fail = (problems: string[]): never => {
    throw new ConfigError(problems, source);
  };
  if (text.trim() === '') fail(['the file is empty']);

  const lineCounter = new LineCounter();
  // prettyErrors off: the pretty form quotes the offending source line, which may hold a secret.
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter });
  if (doc.errors.length > 0) {
    fail(doc.errors.slice(0, 3).map((e) => {
      const { line, col } = lineCounter.linePos(e.pos[0]);
      return `line ${line}, column ${col}: ${e.message.split('\n')[0]}`;
    }));
  }

  const parsed = rootSchema.safeParse(doc.toJS({ maxAliasCount: 100 }));
  if (!parsed.success) fail(parsed.error.issues.map(formatIssue));
  const raw = parsed.data as RawRoot;

  const kind = raw.kind ?? '';
  const apiVersion = raw.apiVersion ?? '';
  const known = (kind === KIND && apiVersion === API_VERSION) || (kind === LEGACY.kind && apiVersion === LEGACY.apiVersion);
  if (!known) {
    fail([
      kind === '' || apiVersion === ''
        ? `kind and apiVersion are required: use kind: ${KIND} and apiVersion: ${API_VERSION}`
        : `got unexpected config type ${JSON.stringify(`${apiVersion}, Kind=${kind}`)}: use kind: ${KIND} and apiVersion: ${API_VERSION}`,
    ]);
  }

  const problems = validate(raw);
  if (problems.length > 0) fail(problems);
  const config = convert(raw);
  const masked = maskingProblems(config);
  if (masked.length > 0) fail(masked);
  return config;
}

/** The configuration back as kube-apiserver reads it (YAML, apiserver.config.k8s.io/v1). */
export function formatEncryptionConfiguration(config: EncryptionConfiguration): string {
  const providers = (ps: readonly ProviderConfig[]) =>
    ps.map((p) => {
      switch (p.type) {
        case 'identity':
          return { identity: {} };
        case 'kms': {
          const { type: _t, ...kms } = p;
          return { kms };
        }
        default:
          return { [p.type]: { keys: p.keys.map((k) => ({ name: k.name, secret: k.secret })) } };
      }
    });
  return stringify({
    apiVersion: API_VERSION,
    kind: KIND,
    resources: config.resources.map((r) => ({ resources: [...r.resources], providers: providers(r.providers) })),
  });
}

// ---- kube-apiserver's validation (validation_encryption.go), same order and texts ----

const MORE_THAN_ONE = 'more than one provider specified in a single element, should split into different list elements';
const NO_PROVIDER = 'provider does not contain any of the expected providers: KMS, AESGCM, AESCBC, Secretbox, Identity';
const DUPLICATE_RESOURCE = 'the same resource cannot be specified multiple times';
const OVERLAP = "using overlapping resources such as 'secrets' and '*.' in the same resource list is not allowed as they will be masked";

const required = (path: string, detail: string) => `${path}: Required value: ${detail}`;
const invalid = (path: string, value: unknown, detail: string) =>
  value === undefined ? `${path}: Invalid value: ${detail}` : `${path}: Invalid value: ${JSON.stringify(value)}: ${detail}`;

function validate(raw: RawRoot): string[] {
  const errs: string[] = [];
  const rules = raw.resources ?? [];
  if (rules.length === 0) return [required('resources', 'at least one resources is required')];

  const kmsNames = new Set<string>();
  rules.forEach((rule, i) => {
    const r = `resources[${i}].resources`;
    const p = `resources[${i}].providers`;
    const resources = rule.resources ?? [];
    if (resources.length === 0) errs.push(required(r, `at least one ${r} is required`));
    errs.push(...resourceOverlap(resources, r), ...resourceNames(resources, r));

    const providers = rule.providers ?? [];
    if (providers.length === 0) errs.push(required(p, `at least one ${p} is required`));
    providers.forEach((provider, j) => {
      const path = `${p}[${j}]`;
      errs.push(...singleProvider(provider, path));
      if (provider.kms != null) {
        errs.push(...kmsProblems(provider.kms, `${path}.kms`, kmsNames));
        kmsNames.add(provider.kms.name ?? '');
      } else if (provider.aesgcm != null) errs.push(...keyProblems(provider.aesgcm.keys ?? [], `${path}.aesgcm.keys`, AES_KEY_SIZES));
      else if (provider.aescbc != null) errs.push(...keyProblems(provider.aescbc.keys ?? [], `${path}.aescbc.keys`, AES_KEY_SIZES));
      else if (provider.secretbox != null) errs.push(...keyProblems(provider.secretbox.keys ?? [], `${path}.secretbox.keys`, SECRETBOX_KEY_SIZES));
    });
  });
  return errs;
}

function resourceOverlap(resources: readonly string[], path: string): string[] {
  if (resources.length < 2) return [];
  const grs = resources.map(parseGroupResource);
  let overlap = false;
  let duplicate = false;
  for (let i = 0; i < grs.length; i++) {
    for (let j = 0; j < grs.length; j++) {
      if (i === j) continue;
      const a = grs[i]!;
      const b = grs[j]!;
      if (a.group === b.group && a.resource === b.resource && !duplicate) {
        duplicate = true;
        continue;
      }
      if (overlap) continue;
      if (a.group === '*' && a.resource === '*') overlap = true;
      else if (a.group === b.group && (a.resource === '*' || b.resource === '*')) overlap = true;
    }
  }
  const errs: string[] = [];
  if (duplicate) errs.push(invalid(path, resources, DUPLICATE_RESOURCE));
  if (overlap) errs.push(invalid(path, resources, OVERLAP));
  return errs;
}

function resourceNames(resources: readonly string[], path: string): string[] {
  const errs: string[] = [];
  resources.forEach((res, j) => {
    const at = `${path}[${j}]`;
    const gr = parseGroupResource(res);
    if (res.toLowerCase() !== res) errs.push(invalid(at, res, 'resource name should not contain capital letters'));
    else if (res === '*') errs.push(invalid(at, res, "use '*.' to encrypt all the resources from core API group or *.* to encrypt all resources"));
    else if (res === 'apiserveripinfo' || res === 'serviceipallocations' || res === 'servicenodeportallocations') {
      errs.push(invalid(at, res, 'resources which do not have REST API/s cannot be encrypted'));
    } else if (gr.group === 'events.k8s.io') {
      errs.push(invalid(at, res, "'*.events.k8s.io' objects are stored using the 'events' API group in etcd. Use 'events' instead in the config file"));
    } else if (gr.group === 'extensions') errs.push(invalid(at, res, "'extensions' group has been removed and cannot be used for encryption"));
    else if (gr.group === '*' && gr.resource !== '*') errs.push(invalid(at, res, 'encrypting the same resource across groups is not supported'));
  });
  return errs;
}

function singleProvider(p: RawProvider, path: string): string[] {
  const found = [p.kms, p.aesgcm, p.aescbc, p.secretbox, p.identity].filter((x) => x != null).length;
  if (found === 0) return [invalid(path, undefined, NO_PROVIDER)];
  if (found > 1) return [invalid(path, undefined, MORE_THAN_ONE)];
  return [];
}

function keyProblems(keys: readonly RawKey[], path: string, sizes: readonly number[]): string[] {
  if (keys.length === 0) return [required(path, 'at least one keys is required')];
  const errs: string[] = [];
  const names = new Set<string>();
  keys.forEach((key, i) => {
    const at = `${path}[${i}]`;
    const name = key.name ?? '';
    if (name === '') errs.push(required(`${at}.name`, 'name is a mandatory field for a key'));
    else if (names.has(name)) {
      // kube-apiserver lets this through, but the second key could never be chosen by name.
      errs.push(`${at}.name: Duplicate value: ${JSON.stringify(name)}: key names must be unique within a provider`);
    }
    names.add(name);
    const secret = key.secret ?? '';
    if (secret === '') {
      errs.push(required(`${at}.secret`, 'secret is a mandatory field for a key'));
      return;
    }
    const bytes = decodeBase64Strict(secret);
    if (!bytes) {
      errs.push(invalid(`${at}.secret`, 'REDACTED', 'secrets must be base64 encoded'));
      return;
    }
    if (!sizes.includes(bytes.length)) {
      errs.push(invalid(`${at}.secret`, 'REDACTED', `secret is not of the expected length, got ${bytes.length}, expected one of [${sizes.join(' ')}]`));
    }
  });
  return errs;
}

function kmsProblems(kms: RawKms, path: string, seen: Set<string>): string[] {
  const errs: string[] = [];
  const apiVersion = kms.apiVersion || 'v1';
  const name = kms.name ?? '';
  if (name === '') errs.push(required(`${path}.name`, 'name is a mandatory field for a provider'));
  if (apiVersion !== 'v1' && name.includes(':')) errs.push(invalid(`${path}.name`, name, `invalid KMS provider name ${name}, must not contain ':'`));
  if (apiVersion !== 'v1' && seen.has(name)) errs.push(invalid(`${path}.name`, name, `duplicate KMS provider name ${name}, names must be unique`));
  if (kms.timeout != null) {
    const ms = goDurationMs(kms.timeout);
    if (ms === undefined) errs.push(invalid(`${path}.timeout`, kms.timeout, 'timeout is not a duration, use e.g. 3s'));
    else if (ms <= 0) errs.push(invalid(`${path}.timeout`, kms.timeout, 'timeout should be a positive value'));
  }
  const endpoint = kms.endpoint ?? '';
  if (endpoint === '') errs.push(invalid(`${path}.endpoint`, '', 'endpoint is a mandatory field for a kms'));
  else {
    const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(endpoint)?.[1] ?? '';
    if (scheme !== 'unix') errs.push(invalid(`${path}.endpoint`, endpoint, `unsupported scheme ${JSON.stringify(scheme)} for KMS provider, only unix is supported`));
  }
  if (apiVersion !== 'v1' && kms.cachesize != null) errs.push(invalid(`${path}.cachesize`, kms.cachesize, 'cachesize is not supported in v2'));
  if (apiVersion === 'v1' && kms.cachesize === 0) errs.push(invalid(`${path}.cachesize`, 0, 'cachesize should be a positive value, or negative to disable'));
  if (apiVersion !== 'v1' && apiVersion !== 'v2') {
    errs.push(invalid(`${path}.apiVersion`, apiVersion, 'unsupported apiVersion apiVersion for KMS provider, only v1 and v2 are supported'));
  }
  return errs;
}

/** Go's base64.StdEncoding: padded standard alphabet; CR and LF are skipped. Undefined if invalid. */
export function decodeBase64Strict(text: string): Buffer | undefined {
  const s = text.replace(/[\r\n]/g, '');
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)) return undefined;
  return Buffer.from(s, 'base64');
}

/** Go's time.ParseDuration, for KMS timeouts. Milliseconds, or undefined if not a duration. */
function goDurationMs(text: string): number | undefined {
  if (text === '0') return 0;
  const m = /^([-+]?)((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|ms|s|m|h))+)$/.exec(text);
  if (!m) return undefined;
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let ms = 0;
  for (const part of m[2]!.matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|ms|s|m|h)/g)) ms += Number(part[1]) * unit[part[2]!]!;
  return m[1] === '-' ? -ms : ms;
}

// ---- masking across rules (checked by kube-apiserver while building its transformers) ----

function maskingProblems(config: EncryptionConfiguration): string[] {
  const seen = new Set<string>();
  const errs: string[] = [];
  config.resources.forEach((rule, i) => {
    rule.resources.forEach((res, j) => {
      const gr = parseGroupResource(res);
      const groupWildcard = { group: gr.group, resource: '*' };
      const anyWildcard = { group: '*', resource: '*' };
      const mask = seen.has(grKey(groupWildcard)) ? groupWildcard : seen.has(grKey(anyWildcard)) ? anyWildcard : undefined;
      if (mask) errs.push(`resources[${i}].resources[${j}]: resource ${JSON.stringify(ruleString(gr))} is masked by earlier rule ${JSON.stringify(ruleString(mask))}`);
    });
    // Only rules from earlier entries mask; overlaps inside one entry are the validation's job.
    for (const res of rule.resources) seen.add(grKey(parseGroupResource(res)));
  });
  return errs;
}

// ---- raw → typed ----

function convert(raw: RawRoot): EncryptionConfiguration {
  return {
    resources: (raw.resources ?? []).map((rule) => ({
      resources: [...(rule.resources ?? [])],
      providers: (rule.providers ?? []).map(convertProvider),
    })),
  };
}

function convertProvider(p: RawProvider): ProviderConfig {
  const keys = (k: { keys?: RawKey[] | null }) => (k.keys ?? []).map((key) => ({ name: key.name ?? '', secret: key.secret ?? '' }));
  if (p.aesgcm != null) return { type: 'aesgcm', keys: keys(p.aesgcm) };
  if (p.aescbc != null) return { type: 'aescbc', keys: keys(p.aescbc) };
  if (p.secretbox != null) return { type: 'secretbox', keys: keys(p.secretbox) };
  if (p.kms != null) {
    const apiVersion = p.kms.apiVersion === 'v2' ? 'v2' : 'v1';
    return {
      type: 'kms',
      name: p.kms.name ?? '',
      apiVersion,
      endpoint: p.kms.endpoint ?? '',
      ...(p.kms.cachesize != null ? { cachesize: p.kms.cachesize } : apiVersion === 'v1' ? { cachesize: 1000 } : {}),
      timeout: p.kms.timeout ?? '3s',
    };
  }
  return { type: 'identity' };
}

function formatIssue(issue: z.core.$ZodIssue): string {
  const path = formatPath(issue.path);
  const at = path === '' ? '' : `${path}: `;
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => `${path === '' ? '' : `${path}.`}${k}: unknown field ${JSON.stringify(k)}`).join('; ');
  }
  // zod's own texts name the expected type, never the input, so no secret can leak through them.
  return `${at}${issue.message}`;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out === '' ? '' : '.'}${String(p)}`;
  return out;
}
