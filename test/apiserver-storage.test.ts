/**
 * Storage resources served by the API server: PersistentVolumes, PersistentVolumeClaims (in
 * openshift-etcd, where backups and the restore look for them) and VolumeAttachments, with kube's
 * defaults, validation, printed columns and etcd keys, through the real kubectl.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd, etcdctl, type StartedEtcd } from './helpers/etcd.js';
import { startAPIServer, type StartedAPIServer } from './helpers/apiserver.js';

const PV = `apiVersion: v1
kind: PersistentVolume
metadata: {name: backups-0}
spec:
  capacity: {storage: 2Gi}
  accessModes: [ReadWriteOnce]
  hostPath: {path: /var/lib/etcd-backups-pv}
  claimRef: {namespace: openshift-etcd, name: etcd-backups}
`;
const PVC = `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: etcd-backups, namespace: openshift-etcd}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
  volumeName: backups-0
`;
const VA = `apiVersion: storage.k8s.io/v1
kind: VolumeAttachment
metadata: {name: va-0}
spec: {attacher: hostpath.etcd-ops.io, nodeName: master-0, source: {persistentVolumeName: backups-0}}
`;

describe('storage resources', { timeout: 90_000 }, () => {
  let etcd: StartedEtcd;
  let srv: StartedAPIServer;
  const kubectl = (args: string[], input?: string) => srv.kubectl(args, { input });
  const ok = (args: string[], input?: string) => {
    const r = kubectl(args, input);
    assert.equal(r.status, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    etcd = await startEtcd();
    srv = await startAPIServer({ etcd });
  });
  after(async () => {
    await srv?.stop();
    await etcd?.stop();
  });

  it('serves PVs, PVCs and VolumeAttachments with defaults, columns and kube etcd keys', () => {
    const res = ok(['api-resources']);
    assert.match(res, /^persistentvolumes\s+pv\s+v1\s+false\s+PersistentVolume$/m);
    assert.match(res, /^persistentvolumeclaims\s+pvc\s+v1\s+true\s+PersistentVolumeClaim$/m);
    assert.match(res, /^volumeattachments\s+storage\.k8s\.io\/v1\s+false\s+VolumeAttachment$/m);
    ok(['create', '-f', '-'], PV);
    ok(['create', '-f', '-'], PVC);
    ok(['create', '-f', '-'], VA);
    const pv = JSON.parse(ok(['get', 'pv', 'backups-0', '-o', 'json']));
    assert.equal(pv.spec.persistentVolumeReclaimPolicy, 'Retain');
    assert.equal(pv.spec.volumeMode, 'Filesystem');
    assert.equal(pv.status.phase, 'Pending');
    assert.match(ok(['get', 'pv']), /^backups-0\s+2Gi\s+RWO\s+Retain\s+Pending\s+openshift-etcd\/etcd-backups\s+<unset>\s+\d+s$/m);
    assert.match(ok(['get', 'pvc', '-n', 'openshift-etcd']), /^etcd-backups\s+Pending\s+backups-0\s+<unset>\s+\d+s$/m);
    assert.match(ok(['get', 'volumeattachments']), /^va-0\s+hostpath\.etcd-ops\.io\s+backups-0\s+master-0\s+false\s+\d+s$/m);
    const keys = etcdctl(etcd, ['get', '--prefix', '--keys-only', '/kubernetes.io/']);
    for (const k of ['/kubernetes.io/persistentvolumes/backups-0', '/kubernetes.io/persistentvolumeclaims/openshift-etcd/etcd-backups', '/kubernetes.io/volumeattachments/va-0']) {
      assert.ok(keys.includes(k), `missing key ${k}`);
    }
    // A binder reports through the status subresource; the table then shows what is bound.
    ok(['patch', 'pvc', 'etcd-backups', '-n', 'openshift-etcd', '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Bound","capacity":{"storage":"2Gi"},"accessModes":["ReadWriteOnce"]}}']);
    assert.match(ok(['get', 'pvc', '-n', 'openshift-etcd']), /^etcd-backups\s+Bound\s+backups-0\s+2Gi\s+RWO\s+<unset>\s+\d+s$/m);
  });

  it('refuses invalid objects and changes of fixed fields with kube texts', () => {
    let r = kubectl(['create', '-f', '-'], 'apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: bad}\nspec: {capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce], hostPath: {path: /a}, local: {path: /b}}\n');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /spec\.local: Forbidden: may not specify more than 1 volume type/);
    assert.match(r.stderr, /spec\.nodeAffinity: Required value: Local volume requires node affinity/);
    r = kubectl(['create', '-f', '-'], 'apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: bad, namespace: openshift-etcd}\nspec: {resources: {requests: {storage: 1Gi}}}\n');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /spec\.accessModes: Required value: at least 1 access mode is required/);
    r = kubectl(['patch', 'pvc', 'etcd-backups', '-n', 'openshift-etcd', '--type=merge', '-p', '{"spec":{"volumeName":"other"}}']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /spec is immutable after creation except resources\.requests/);
    ok(['patch', 'pvc', 'etcd-backups', '-n', 'openshift-etcd', '--type=merge', '-p', '{"spec":{"resources":{"requests":{"storage":"2Gi"}}}}']);
    r = kubectl(['patch', 'volumeattachment', 'va-0', '--type=merge', '-p', '{"spec":{"nodeName":"master-1"}}']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /spec: Invalid value: .*field is immutable/);
  });

  it('serves Backup and EtcdBackup (v1alpha1): schedule and zone checked at admission, retention defaulted, pvcName immutable', () => {
    const backup = (etcd: string) => `apiVersion: config.openshift.io/v1alpha1\nkind: Backup\nmetadata: {name: b}\nspec:\n  etcd: ${etcd}\n`;
    let r = kubectl(['create', '-f', '-'], backup('{schedule: "* * * *", timeZone: Mars/Olympus, retentionPolicy: {retentionType: RetentionNumber, retentionNumber: {maxNumberOfBackups: 0}}}'));
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /spec\.etcd\.schedule: Invalid value: "\* \* \* \*": a schedule has 5 fields/);
    assert.match(r.stderr, /spec\.etcd\.timeZone: Invalid value: "Mars\/Olympus": not an IANA time zone/);
    assert.match(r.stderr, /maxNumberOfBackups: Invalid value: 0: should be greater than or equal to 1/);
    ok(['create', '-f', '-'], backup('{schedule: "*/30 * * * *", timeZone: Europe/Paris}'));
    const b = JSON.parse(ok(['get', 'backups.config.openshift.io', 'b', '-o', 'json']));
    assert.deepEqual(b.spec.etcd.retentionPolicy, { retentionType: 'RetentionNumber', retentionNumber: { maxNumberOfBackups: 15 } });
    assert.equal(b.spec.etcd.drill, 'Enabled');
    ok(['patch', 'backups.config.openshift.io', 'b', '--type=merge', '-p', '{"spec":{"etcd":{"retentionPolicy":{"retentionType":"RetentionSize","retentionNumber":null}}}}']);
    assert.deepEqual(JSON.parse(ok(['get', 'backups.config.openshift.io', 'b', '-o', 'json'])).spec.etcd.retentionPolicy, { retentionType: 'RetentionSize', retentionSize: { maxSizeOfBackupsGb: 10 } });
    ok(['create', '-f', '-'], 'apiVersion: operator.openshift.io/v1alpha1\nkind: EtcdBackup\nmetadata: {name: one}\nspec: {pvcName: etcd-backups}\n');
    r = kubectl(['patch', 'etcdbackups', 'one', '--type=merge', '-p', '{"spec":{"pvcName":"other"}}']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /spec\.pvcName: Invalid value: "other": pvcName is immutable once set/);
    assert.match(ok(['api-resources', '--api-group=operator.openshift.io']), /^etcdbackups\s+operator\.openshift\.io\/v1alpha1\s+false\s+EtcdBackup$/m);
  });
});
