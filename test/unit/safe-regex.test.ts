/**
 * Issue 16, finding 6: a user rule pattern such as `(a+)+$` hung the daemon on one DHCP host name
 * of 31 bytes. Catastrophic patterns are refused at load (`rules check`, start, SIGHUP: see
 * safe-regex-daemon.test.ts), and user patterns see 255 characters at most.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { classify } from '../../daemon/devices/classify.js';
import { DeviceFacts } from '../../daemon/devices/facts.js';
import { BUILTIN_RULES, RuleLoadError } from '../../daemon/rules/load.js';
import { loadDeviceRules } from '../../daemon/devices/rules.js';
import { compileUserPattern, MAX_MATCHED, unsafePattern } from '../../daemon/util/safe-regex.js';
import { vigie } from '../helpers/cli.js';

/** The host name that hung the daemon: 30 letters the group can split in 2^29 ways, then a mismatch. */
const HANGING_NAME = 'a'.repeat(30) + '!';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-safe-regex-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function ruleFolder(name: string, patterns: Record<string, string>): string {
  const d = path.join(dir, name);
  fs.mkdirSync(path.join(d, 'devices'), { recursive: true });
  const rules = Object.entries(patterns)
    .map(([id, p]) => `  - id: ${id}\n    description: a household rule\n    source: "written by the household"\n    match: { hostname: ${JSON.stringify(p)} }\n    category: camera\n    weight: 0.9\n`)
    .join('');
  fs.writeFileSync(path.join(d, 'devices', 'mine.yaml'), `rules:\n${rules}`);
  return d;
}

describe('the static check of user patterns', () => {
  it('the 31-byte host name really hangs a backtracking engine on (a+)+$ (the fixture is the reported one)', () => {
    expect(Buffer.byteLength(HANGING_NAME)).toBe(31);
    const t = Date.now();
    const r = spawnSync(process.execPath, ['-e', `/(a+)+$/i.test(${JSON.stringify(HANGING_NAME)})`], { timeout: 3000 });
    expect(r.signal).toBe('SIGTERM'); // still running after 3 s: killed
    expect(Date.now() - t).toBeGreaterThanOrEqual(2900);
  });

  it.each([
    ['(a+)+$', 'can take exponential time (nested quantifier)'],
    ['(a*)*', 'can take exponential time (nested quantifier)'],
    ['(\\w+\\s?)+$', 'can take exponential time (nested quantifier)'],
    ['(aa?)+$', 'can take exponential time (nested quantifier)'],
    ['(x+x+)+y', 'can take exponential time (nested quantifier)'],
    ['(a?){30}a{30}', 'can take exponential time (nested quantifier)'],
    ['^(([a-z])+.)+[A-Z]([a-z])+$', 'can take exponential time (nested quantifier)'],
    ['(a|a)*$', 'can take exponential time (overlapping alternatives under a repetition)'],
    ['(\\d|[0-9a-f])+!', 'can take exponential time (overlapping alternatives under a repetition)'],
    ['(?=a+)+b', 'can take exponential time (lookaround inside a repetition)'],
    ['(a)\\1', 'uses a backreference, which user patterns may not'],
    ['(?<x>a)\\k<x>', 'uses a backreference, which user patterns may not'],
    ['^\\d*\\d*\\d*\\d*x$', 'can take polynomial time of degree 4 (repetitions in a row over the same characters)'],
    // Unanchored, every start position is tried: one degree more.
    ['\\d*\\d*\\d*x', 'can take polynomial time of degree 4 (repetitions in a row over the same characters)'],
    ['.*-.*-.*-.*!', 'can take polynomial time of degree 4 (repetitions in a row over the same characters)'],
    ['a'.repeat(1025), 'is longer than 1024 characters'],
  ])('refuses %s: %s', (p, why) => {
    expect(unsafePattern(p)).toBe(why);
    expect(() => compileUserPattern(p)).toThrow(`pattern ${JSON.stringify(p)} ${why}`);
  });

  it.each(['^cam-(x\\d+)$', '(\\d{1,3}\\.){3}\\d{1,3}', '^esp[_-]?[0-9a-f]{6}$', '(foo|bar)+', '[\\w.-]+\\.local$', '^(lite-?on|liteon)(?!.*clean energy)', 'a{2,}b', 'x|y|z', '[^]*', '\\u00e9t\\x41', '\\w+-\\w+-\\w+-\\w+', '^([a-z0-9]+-[a-z0-9]+-[a-z0-9]+)_miio\\d+$'])('accepts the safe %s', (p) => {
    expect(unsafePattern(p)).toBeNull();
    expect(compileUserPattern(p)).toBeInstanceOf(RegExp);
  });

  it('leaves syntax errors to RegExp, which words them', () => {
    expect(unsafePattern('(')).toBeNull();
    expect(() => compileUserPattern('(')).toThrow(SyntaxError);
  });

  it('every built-in pattern passes (the built-in rules load, and each pattern checks clean on its own)', () => {
    const k = loadDeviceRules([BUILTIN_RULES]);
    const patterns = [...k.rules.flatMap((r) => r.conditions.flatMap((c) => c.patterns)), ...k.modules.map((m) => m.pattern)];
    expect(patterns.length).toBeGreaterThan(500);
    for (const re of patterns) expect(unsafePattern(re.source), re.source).toBeNull();
  });
});

describe('user rule files with a catastrophic pattern', () => {
  it('loading refuses the folder with file:line, field and the reason', () => {
    const d = ruleFolder('bad', { 'safe-one': '^cam-', 'evil-one': '(a+)+$' });
    let err: unknown;
    try {
      loadDeviceRules([BUILTIN_RULES, d]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RuleLoadError);
    expect((err as RuleLoadError).message).toBe(`${path.join(d, 'devices', 'mine.yaml')}:11: rules.1.match.hostname: pattern "(a+)+$" can take exponential time (nested quantifier)`);
  });

  it('vigie rules check prints it and fails', () => {
    const d = ruleFolder('bad-cli', { 'evil-one': '(\\w+\\s?)+$' });
    const r = vigie(['rules', 'check', d]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`mine.yaml:5: rules.0.match.hostname: pattern "(\\\\w+\\\\s?)+$" can take exponential time (nested quantifier)`);
  });

  it('a module maker pattern is checked too', () => {
    const d = path.join(dir, 'bad-module');
    fs.mkdirSync(path.join(d, 'modules'), { recursive: true });
    fs.writeFileSync(path.join(d, 'modules', 'm.yaml'), 'modules:\n  - id: evil-maker\n    oui: "^(a|a)*$"\n    maker: Evil\n    kind: ODM\n    source: "written by the household"\n');
    expect(() => loadDeviceRules([BUILTIN_RULES, d])).toThrow(/m\.yaml:3: modules\.0\.oui: pattern "\^\(a\|a\)\*\$" can take exponential time \(overlapping alternatives under a repetition\)/);
  });
});

describe('safe user patterns still match, on 255 characters at most', () => {
  it('a household rule with a safe pattern classifies the device by its host name, at once on the hanging name', () => {
    const k = loadDeviceRules([BUILTIN_RULES, ruleFolder('good', { 'my-cams': '^cam-(x\\d+)$', 'my-as': '^a+$' })]);
    const facts = new DeviceFacts();
    facts.hostname('cam-x200', 'dhcp');
    const c = classify(k, { mac: '02:00:00:00:00:01', ouiVendor: null, randomized: true }, facts);
    expect(c.evidence.map((e) => e.rule)).toContain('my-cams');
    const f2 = new DeviceFacts();
    f2.hostname(HANGING_NAME, 'dhcp');
    const t = performance.now();
    const c2 = classify(k, { mac: '02:00:00:00:00:02', ouiVendor: null, randomized: true }, f2);
    expect(performance.now() - t).toBeLessThan(200);
    expect(c2.evidence.map((e) => e.rule)).not.toContain('my-as');
  });

  it('a rule loaded from a file sees 255 characters of a longer name', () => {
    const k = loadDeviceRules([BUILTIN_RULES, ruleFolder('tail', { 'my-tail': 'x$' })]);
    const rule = (name: string) => {
      const f = new DeviceFacts();
      f.hostname(name, 'dhcp');
      return classify(k, { mac: '02:00:00:00:00:03', ouiVendor: null, randomized: true }, f).evidence.map((e) => e.rule);
    };
    expect(rule('a'.repeat(MAX_MATCHED - 1) + 'x')).toContain('my-tail');
    expect(rule('a'.repeat(MAX_MATCHED) + 'x')).not.toContain('my-tail');
  });

  it(`applies a pattern to the first ${MAX_MATCHED} characters only (a host name's longest)`, () => {
    const re = compileUserPattern('x$');
    expect(re.test('a'.repeat(MAX_MATCHED - 1) + 'x')).toBe(true);
    expect(re.test('a'.repeat(MAX_MATCHED) + 'x')).toBe(false);
    // Every entry point goes through exec: match, and the groups a rule's model takes ($1).
    expect('a'.repeat(300).match(compileUserPattern('^a+$'))?.[0].length).toBe(MAX_MATCHED);
    expect(compileUserPattern('^(a+)$').exec('a'.repeat(300))?.[1].length).toBe(MAX_MATCHED);
    // The cap bounds the polynomial cases the check lets through: cubic on 255 characters is fast
    // (on the whole 100,000 it would take hours).
    const poly = compileUserPattern('^\\d*\\d*\\d*x$');
    const t = performance.now();
    expect(poly.test('1'.repeat(100_000))).toBe(false);
    expect(performance.now() - t).toBeLessThan(1000);
  });
});
