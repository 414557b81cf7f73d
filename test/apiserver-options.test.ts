/**
 * Query parameters as kube-apiserver decodes them (src/apiserver/options.ts), table by table:
 * every form of every boolean and integer parameter, the list/watch validation the security
 * review asked for, dryRun, fieldValidation, fieldManager, propagationPolicy, pretty. Pure.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createOptions, deleteOptions, isPretty, kubeBool, listOptions, parseBool, parseInt64, patchOptions } from '../src/apiserver/options.js';
import { watchTimeoutMs } from '../src/apiserver/watch.js';
import { ApiError } from '../src/apiserver/status.js';

const q = (s: string) => new URLSearchParams(s);

/** The ApiError a call throws, or undefined. */
function failure(f: () => unknown): ApiError | undefined {
  try {
    f();
    return undefined;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
}

// runtime.Convert_Slice_string_To_bool: only "0" and "false" in any case are false; it never fails.
const KUBE_BOOL: Array<[string, boolean]> = [
  ['1', true],
  ['t', true],
  ['T', true],
  ['true', true],
  ['True', true],
  ['TRUE', true],
  ['yes', true],
  ['', true],
  ['f', true],
  ['F', true],
  ['0', false],
  ['false', false],
  ['False', false],
  ['FALSE', false],
  ['fAlSe', false],
];

// strconv.ParseBool, which only `pretty` uses.
const PARSE_BOOL: Array<[string, boolean | undefined]> = [
  ['1', true],
  ['t', true],
  ['T', true],
  ['TRUE', true],
  ['true', true],
  ['True', true],
  ['0', false],
  ['f', false],
  ['F', false],
  ['FALSE', false],
  ['false', false],
  ['False', false],
  ['yes', undefined],
  ['tRUE', undefined],
  ['', undefined],
];

// strconv.ParseInt(s, 10, 64).
const INTS: Array<[string, number | 'invalid syntax' | 'value out of range']> = [
  ['0', 0],
  ['10', 10],
  ['+10', 10],
  ['-1', -1],
  ['007', 7],
  ['9223372036854775807', 9223372036854775807],
  ['-9223372036854775808', -9223372036854775808],
  ['9223372036854775808', 'value out of range'],
  ['99999999999999999999', 'value out of range'],
  ['abc', 'invalid syntax'],
  ['', 'invalid syntax'],
  ['1.5', 'invalid syntax'],
  ['1e3', 'invalid syntax'],
  [' 1', 'invalid syntax'],
  ['0x10', 'invalid syntax'],
  ['1_000', 'invalid syntax'],
];

describe('query options as kube-apiserver decodes them (pure)', () => {
  it('booleans in options: every form, for every boolean parameter of ListOptions and DeleteOptions', () => {
    for (const [v, want] of KUBE_BOOL) {
      assert.equal(kubeBool(v), want, JSON.stringify(v));
      const enc = encodeURIComponent(v);
      assert.equal(listOptions(q(`watch=${enc}`)).watch, want, `watch=${v}`);
      assert.equal(listOptions(q(`watch=1&allowWatchBookmarks=${enc}`)).allowWatchBookmarks, want, `allowWatchBookmarks=${v}`);
      assert.equal(listOptions(q(`watch=1&resourceVersionMatch=NotOlderThan&sendInitialEvents=${enc}`)).sendInitialEvents, want, `sendInitialEvents=${v}`);
      assert.equal(deleteOptions(q(`orphanDependents=${enc}`)).orphanDependents, want, `orphanDependents=${v}`);
    }
    assert.equal(listOptions(q('')).watch, false, 'absent is false');
    assert.equal(listOptions(q('watch=0&watch=1')).watch, false, 'the first value counts');
  });

  it('pretty reads strconv.ParseBool; without it curl, Wget and browsers get indented JSON', () => {
    for (const [v, want] of PARSE_BOOL) {
      assert.equal(parseBool(v), want, JSON.stringify(v));
      if (v !== '') assert.equal(isPretty(q(`pretty=${encodeURIComponent(v)}`), 'kubectl/v1.32'), want ?? false, `pretty=${v}`);
    }
    assert.equal(isPretty(q(''), 'curl/8.5.0'), true);
    assert.equal(isPretty(q('pretty='), 'Wget/1.21'), true, 'an empty value falls back to the user agent');
    assert.equal(isPretty(q('pretty=false'), 'curl/8.5.0'), false);
    assert.equal(isPretty(q(''), 'kubectl/v1.32.0'), false);
    assert.equal(isPretty(q(''), undefined), false);
  });

  it('integers: strconv.ParseInt forms; an invalid one is a 400 naming the parameter (limit, timeoutSeconds, gracePeriodSeconds)', () => {
    for (const [v, want] of INTS) {
      if (typeof want === 'number') {
        assert.equal(parseInt64('limit', v), want, v);
        continue;
      }
      for (const [param, parse] of [
        ['limit', (s: string) => listOptions(q(`limit=${s}`))],
        ['timeoutSeconds', (s: string) => listOptions(q(`watch=1&timeoutSeconds=${s}`))],
        ['gracePeriodSeconds', (s: string) => deleteOptions(q(`gracePeriodSeconds=${s}`))],
      ] as const) {
        const e = failure(() => parse(encodeURIComponent(v)));
        assert.equal(e?.code, 400, `${param}=${v}`);
        assert.equal(e?.reason, 'BadRequest');
        assert.equal(e?.message, `invalid value for query parameter "${param}": strconv.ParseInt: parsing ${JSON.stringify(v)}: ${want}`);
      }
    }
    // kube pages only when limit > 0: a negative limit lists everything, as it does there.
    assert.equal(listOptions(q('limit=-1')).limit, -1);
  });

  it('watch and list validation: resourceVersion, resourceVersionMatch, sendInitialEvents, continue (422 ListOptions / 400)', () => {
    const cases: Array<[string, number | 'ok', RegExp?]> = [
      ['resourceVersion=abc', 400, /invalid resource version: "abc"/],
      ['watch=1&resourceVersion=abc', 400, /invalid resource version/],
      ['resourceVersion=-1', 400, /invalid resource version/],
      ['resourceVersion=99999999999', 'ok'],
      ['resourceVersion=0', 'ok'],
      ['resourceVersionMatch=Exact', 422, /resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided/],
      ['resourceVersion=5&resourceVersionMatch=Sometime', 422, /resourceVersionMatch: Unsupported value: "Sometime": supported values: "Exact", "NotOlderThan", ""/],
      ['resourceVersion=0&resourceVersionMatch=Exact', 422, /resourceVersionMatch "exact" is forbidden for resourceVersion "0"/],
      ['resourceVersion=5&resourceVersionMatch=Exact', 'ok'],
      ['sendInitialEvents=true', 422, /sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list/],
      ['watch=1&sendInitialEvents=true', 422, /sendInitialEvents requires setting resourceVersionMatch to NotOlderThan/],
      ['watch=1&resourceVersionMatch=NotOlderThan', 422, /resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided/],
      ['watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan', 'ok'],
      ['continue=abc&resourceVersion=5', 400, /specifying resource version is not allowed when using continue/],
      ['continue=abc&resourceVersion=0', 'ok'],
      ['labelSelector=a%3Db&fieldSelector=metadata.name%3Dx&unknownParam=1&includeObject=Object', 'ok'],
    ];
    for (const [query, want, msg] of cases) {
      const e = failure(() => listOptions(q(query)));
      if (want === 'ok') assert.equal(e, undefined, `${query}: ${e?.message}`);
      else {
        assert.equal(e?.code, want, query);
        if (msg) assert.match(e!.message, msg, query);
        if (want === 422) assert.match(e!.message, /^ListOptions "" is invalid: /, query);
      }
    }
  });

  it('watch timeouts: absent or 0 is the default, negative ends at once, huge ones stay within what a timer holds', () => {
    assert.equal(watchTimeoutMs(undefined, 1234), 1234);
    assert.equal(watchTimeoutMs(0, 1234), 1234);
    assert.equal(watchTimeoutMs(2, 1234), 2000);
    assert.equal(watchTimeoutMs(-5, 1234), 0);
    assert.equal(watchTimeoutMs(9223372036854775807, 1234), 2 ** 31 - 1);
  });

  it('write options: dryRun, fieldValidation, fieldManager, force; delete: propagationPolicy, dryRun from body or query', () => {
    assert.equal(createOptions(q('')).dryRun, false);
    assert.equal(createOptions(q('dryRun=All')).dryRun, true);
    assert.equal(createOptions(q('')).fieldValidation, 'Warn', "kube's default");
    for (const fv of ['Ignore', 'Warn', 'Strict'] as const) assert.equal(createOptions(q(`fieldValidation=${fv}`)).fieldValidation, fv);
    const bad: Array<[string, () => unknown, RegExp]> = [
      ['dryRun=Yes', () => createOptions(q('dryRun=Yes')), /^CreateOptions "" is invalid: dryRun: Unsupported value: \["Yes"\]: supported values: "All"$/],
      ['fieldValidation=strict', () => createOptions(q('fieldValidation=strict')), /fieldValidation: Unsupported value: "strict"/],
      ['fieldManager too long', () => createOptions(q(`fieldManager=${'m'.repeat(129)}`)), /fieldManager: Too long: may not be more than 128 bytes/],
      ['fieldManager control char', () => createOptions(q('fieldManager=a%07b')), /fieldManager: Invalid value: "a\\u0007b": must only contain printable characters/],
      ['force on a patch', () => patchOptions(q('force=true')), /^PatchOptions "" is invalid: force: Forbidden: may not be specified for non-apply patch$/],
      ['propagationPolicy', () => deleteOptions(q('propagationPolicy=Now')), /propagationPolicy: Unsupported value: "Now"/],
      ['both orphan and policy', () => deleteOptions(q('propagationPolicy=Orphan&orphanDependents=true')), /orphanDependents and deletionPropagation cannot be both set/],
      ['delete dryRun', () => deleteOptions(q('dryRun=all')), /^DeleteOptions "" is invalid: dryRun: Unsupported value/],
    ];
    for (const [what, f, msg] of bad) {
      const e = failure(f);
      assert.equal(e?.code, 422, what);
      assert.equal(e?.reason, 'Invalid', what);
      assert.match(e!.message, msg, what);
    }
    assert.equal(deleteOptions(q('dryRun=All')).dryRun, true);
    assert.equal(deleteOptions(q(''), { dryRun: ['All'] }).dryRun, true, 'from the body');
    assert.equal(deleteOptions(q('gracePeriodSeconds=5'), { gracePeriodSeconds: 0 }).gracePeriodSeconds, 0, 'the body wins');
  });
});
