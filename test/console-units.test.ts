/**
 * The console's pure parts, directly: who may act (auth.ts), what the charts mark between two
 * samples, the members' rows and the charts' columns (views.ts), and an operator's one line.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConsoleAuth, cookieValue, hostAllowed, mutationRefusal, sessionCookie } from '../src/console/auth.js';
import { markersBetween, type MemberSample, type Tick } from '../src/console/sampler.js';
import { historyView, memberRows, operatorLine } from '../src/console/views.js';

const member = (name: string, o: Partial<MemberSample> = {}): MemberSample => ({ name, endpoint: `https://${name}:2379`, healthy: true, isLeader: false, ...o });
const tick = (t: number, members: MemberSample[], alarms: Tick['alarms'] = []): Tick => ({ t, members, alarms });

describe('console auth', () => {
  it('trades the one-time token for one session, once', () => {
    const a = new ConsoleAuth();
    const token = a.pendingLoginToken!;
    assert.equal(a.login('wrong'), undefined);
    assert.equal(a.login(null), undefined);
    const s = a.login(token);
    assert.ok(s);
    assert.equal(a.pendingLoginToken, undefined);
    assert.equal(a.login(token), undefined, 'the token is spent');
    const cookie = sessionCookie(s);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.equal(a.session(`other=1; ${cookie.split(';')[0]}`), s);
    assert.equal(a.session('etcd_ops_console=forged'), undefined);
    assert.equal(a.session(undefined), undefined);
  });

  it('refuses a mutation from elsewhere or without the CSRF token', () => {
    const a = new ConsoleAuth();
    const s = a.login(a.pendingLoginToken!)!;
    const ok = { origin: 'http://127.0.0.1:9900', 'x-csrf-token': s.csrf };
    assert.equal(mutationRefusal(ok, s, 9900), undefined);
    assert.equal(mutationRefusal({ ...ok, origin: 'http://localhost:9900' }, s, 9900), undefined);
    assert.match(mutationRefusal({ ...ok, origin: 'http://127.0.0.1:9901' }, s, 9900)!, /refused/);
    assert.match(mutationRefusal({ ...ok, origin: 'null' }, s, 9900)!, /refused/);
    assert.match(mutationRefusal({ 'x-csrf-token': s.csrf }, s, 9900)!, /without Origin/);
    assert.equal(mutationRefusal({ 'x-csrf-token': s.csrf, 'sec-fetch-site': 'same-origin' }, s, 9900), undefined);
    assert.match(mutationRefusal({ 'x-csrf-token': s.csrf, 'sec-fetch-site': 'same-site' }, s, 9900)!, /same-site requests are refused/);
    assert.match(mutationRefusal({ origin: ok.origin }, s, 9900)!, /CSRF/);
    assert.match(mutationRefusal({ ...ok, 'x-csrf-token': `${s.csrf}x` }, s, 9900)!, /CSRF/);
  });

  it('answers only to its own Host (no DNS rebinding)', () => {
    assert.ok(hostAllowed('127.0.0.1:9900', 9900));
    assert.ok(hostAllowed('localhost:9900', 9900));
    assert.ok(!hostAllowed('evil.example:9900', 9900));
    assert.ok(!hostAllowed('127.0.0.1:9901', 9900));
    assert.ok(!hostAllowed(undefined, 9900));
    assert.equal(cookieValue('a=1; b = 2 ;c=3', 'b'), '2');
    assert.equal(cookieValue('ab=1', 'a'), undefined);
  });
});

describe('console views', () => {
  it('marks defrags, compactions (once, by the leader) and a new leader between two samples', () => {
    const a = tick(1000, [member('m0', { isLeader: true, defrags: 0, compactions: 3, compactRevision: 10 }), member('m1', { defrags: 1, compactions: 3 })]);
    const b = tick(6000, [member('m0', { defrags: 0, compactions: 4, compactRevision: 50 }), member('m1', { isLeader: true, defrags: 2, compactions: 4 })]);
    assert.deepEqual(markersBetween(undefined, a), []);
    assert.deepEqual(
      markersBetween(a, b).map((m) => `${m.kind} ${m.member} ${m.text}`),
      ['defrag m1 defrag of m1', 'compaction m1 compaction to revision ?', 'leader m1 m1 became leader'],
    );
    assert.deepEqual(markersBetween(b, b), []);
  });

  it('member rows: fragmentation, reclaimable space, quota usage and each member\'s alarms', () => {
    const rows = memberRows(tick(1, [member('m0', { id: 'a1', dbSize: 1000, dbSizeInUse: 250, quota: 4000 }), member('m1', { healthy: false, error: 'down' })], [{ member: 'm0', alarm: 'NOSPACE' }]));
    assert.equal(rows[0]!.fragmentation, 0.75);
    assert.equal(rows[0]!.reclaimable, 750);
    assert.equal(rows[0]!.quotaUsage, 0.25);
    assert.deepEqual(rows[0]!.alarms, ['NOSPACE']);
    assert.equal(rows[1]!.fragmentation, undefined);
    assert.deepEqual(rows[1]!.alarms, []);
    assert.deepEqual(memberRows(undefined), []);
  });

  it('history: one row per sample, null where a member did not answer, writes per second from the revision', () => {
    const h = historyView(
      [tick(0, [member('m0', { dbSize: 10, dbSizeInUse: 5, revision: 100 }), member('m1', { dbSize: 11, revision: 100 })]), tick(5000, [member('m0', { dbSize: 12, dbSizeInUse: 6, revision: 150 }), member('m1', {})]), tick(10_000, [member('m0', { revision: 160 })])],
      [],
    );
    assert.deepEqual(h.t, [0, 5, 10]);
    assert.deepEqual(h.dbSize, { m0: [10, 12, null], m1: [11, null, null] });
    assert.deepEqual(h.inUse.m1, [null, null, null]);
    assert.deepEqual(h.writes, [null, 10, 2]);
  });

  it("an operator's line: its own condition, else a summary of its controllers' conditions", () => {
    const line = operatorLine({
      apiVersion: 'operator.openshift.io/v1',
      kind: 'Etcd',
      metadata: { name: 'cluster' },
      status: {
        conditions: [
          { type: 'Available', status: 'True' },
          { type: 'DefragControllerDegraded', status: 'True', reason: 'Failed', message: 'no quorum' },
          { type: 'MembersDegraded', status: 'False' },
        ],
      },
    });
    assert.deepEqual(
      line.conditions.map((c) => [c.type, c.status]),
      [
        ['Available', 'True'],
        ['Progressing', 'Unknown'],
        ['Degraded', 'True'],
      ],
    );
    assert.match(line.conditions[2]!.message!, /DefragControllerDegraded: no quorum/);
  });
});
