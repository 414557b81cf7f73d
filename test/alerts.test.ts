/**
 * The alert rules in deploy/prometheus/etcd-ops-rules.yaml, checked by the real promtool
 * (Debian's prometheus package): `promtool check rules`, and `promtool test rules` with the unit
 * tests in etcd-ops-rules.test.yaml, which must make every alert of the file fire at least once.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { projectRoot } from './helpers/cli.js';
import { tempDir } from './helpers/cleanup.js';

const RULES = join(projectRoot, 'deploy/prometheus/etcd-ops-rules.yaml');
const TESTS = join(projectRoot, 'deploy/prometheus/etcd-ops-rules.test.yaml');

describe('alert rules', { timeout: 60_000 }, () => {
  const dir = tempDir('etcd-ops-promtool-');
  // The file is a PrometheusRule; promtool reads the plain groups inside it.
  const rule = parse(readFileSync(RULES, 'utf8'));
  writeFileSync(join(dir, 'etcd-ops-rules.groups.yaml'), stringify({ groups: rule.spec.groups }));
  copyFileSync(TESTS, join(dir, 'etcd-ops-rules.test.yaml'));
  const promtool = (args: string[]) => spawnSync('promtool', args, { cwd: dir, encoding: 'utf8' });

  it('promtool check rules accepts every rule', () => {
    const r = promtool(['check', 'rules', 'etcd-ops-rules.groups.yaml']);
    assert.equal(r.error, undefined, 'promtool is installed (scripts/setup.sh installs Debian\'s prometheus)');
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /SUCCESS: 7 rules found/);
  });

  it('promtool test rules passes, and every alert in the file fires in some test', () => {
    const alerts: string[] = rule.spec.groups.flatMap((g: any) => g.rules.map((r: any) => r.alert)).filter(Boolean);
    const tests = parse(readFileSync(TESTS, 'utf8'));
    const firing = new Set<string>(tests.tests.flatMap((t: any) => t.alert_rule_test.filter((a: any) => a.exp_alerts.length > 0).map((a: any) => a.alertname)));
    assert.deepEqual(alerts.filter((a) => !firing.has(a)), [], 'alerts without a unit test that makes them fire');
    assert.ok(alerts.includes('EtcdBackupOverdue') && alerts.includes('EtcdBackupDrillFailed') && alerts.includes('EtcdBackupRetentionNearlyFull'));
    const r = promtool(['test', 'rules', 'etcd-ops-rules.test.yaml']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /SUCCESS/);
  });
});
