/** Alert rules from rules/alerts/*.yaml: schema-checked, ids unique, loaded whole or not at all. */
import { BUILTIN_RULES, loadRuleSet, loadYamlFile, type RuleError } from '../rules/load.js';
import type { Condition } from './condition.js';
import { checkTemplate, type Placeholder } from './template.js';

import { type Severity, severityRank } from '../model/severity.js';

// Severities are the domain model's (daemon/model/severity.ts), shared with the dashboard.
export { SEVERITIES, type Severity, severityRank } from '../model/severity.js';

/** A title used when its condition holds (the first that holds wins; else the rule's `title`). */
export interface TitleVariant {
  when: Condition;
  title: string;
}

export interface AlertRule {
  id: string;
  title: string;
  titles?: TitleVariant[];
  description?: string;
  on?: 'flow' | 'device-joined' | 'upload-surge';
  when: Condition;
  severity: Severity;
  escalate?: { severity: Severity; when: Condition; because?: string }[];
  protocol?: string;
  remediation: string[];
  source: string;
}

const SCHEMA = '../verdicts/alert-rules.schema.json';

/** What the alerts of a rule always have, and what they may lack (an address without country). */
function placeholdersOf(a: AlertRule): { always: Placeholder[]; sometimes: Placeholder[]; what: string } {
  if ((a.on ?? 'flow') === 'flow') return { always: ['device', 'destination', 'port'], sometimes: ['country', 'platform', 'category'], what: 'a flow rule' };
  // Device rules judge a device, not a connection: no destination, port, country or platform.
  return { always: ['device'], sometimes: ['category'], what: `a rule on ${a.on} has no destination, so it` };
}

/**
 * The placeholders a condition guarantees a value for, from its own keys and its `all` members
 * (not `any` branches, not `not`): `abroad: true` means the country is known, a category other
 * than unknown that the category is, `cloud.platform` that there is a platform.
 */
function known(c: Condition): Placeholder[] {
  const out: Placeholder[] = [];
  const cat = c['device.category'];
  const cats: unknown[] | null = typeof cat === 'string' ? [cat] : Array.isArray(cat) ? cat : null;
  if (cats && !cats.includes('unknown')) out.push('category');
  if (c.abroad === true || c.countryKnown === true || (c.country !== undefined && typeof c.country !== 'object') || Array.isArray(c.country)) out.push('country');
  if (c['cloud.platform'] !== undefined || c['cloud.country'] !== undefined) out.push('platform');
  for (const x of c.all ?? []) out.push(...known(x));
  return out;
}

interface Problem {
  pointer: string;
  reason: string;
}

/** Checks a template where the conditions `held` are known to hold. */
type Check = (t: string, held: Condition[]) => string | null;

const NOT_SHOWN = 'only escalations show a reason: remove it, or move the condition into an escalation';
const OWN_BECAUSE = "never shown: the escalation's own `because` is used";
const NEGATED = 'never shown: what is inside a `not` did not hold; put the `because` beside the `not`';

/**
 * The `because` texts inside a condition: templates where they are shown (an escalation without
 * a `because` of its own); `hidden` says why they never are elsewhere.
 */
function conditionProblems(c: Condition, pointer: string, hidden: string | null, check: Check, held: Condition[]): Problem[] {
  const out: Problem[] = [];
  // Every key of an object holds with it: its branches' texts may use what the object guarantees.
  const within = [...held, c];
  if (c.because !== undefined) {
    const fields = Object.keys(c).filter((k) => k !== 'because');
    const why = hidden ?? (fields.length === 0 ? 'says why a condition holds: give the condition beside it' : check(c.because, within));
    if (why) out.push({ pointer: `${pointer}/because`, reason: why });
  }
  (c.any ?? []).forEach((x, i) => out.push(...conditionProblems(x, `${pointer}/any/${i}`, hidden, check, within)));
  (c.all ?? []).forEach((x, i) => out.push(...conditionProblems(x, `${pointer}/all/${i}`, hidden, check, within)));
  if (c.not) out.push(...conditionProblems(c.not, `${pointer}/not`, hidden ?? NEGATED, check, within));
  return out;
}

/** Every template of a rule checked against what its alerts have; conditions' `because` placed. */
function textProblems(a: AlertRule, i: number): Problem[] {
  const { always, sometimes, what } = placeholdersOf(a);
  const check: Check = (t, held) => {
    const sure = held.flatMap(known).filter((p) => sometimes.includes(p));
    return checkTemplate(t, [...always, ...sure], sometimes, what);
  };
  const base = `/alerts/${i}`;
  // The rule's `when` holds for every alert of it.
  const texts: [string, string, Condition[]][] = [
    [`${base}/title`, a.title, [a.when]],
    ...(a.titles ?? []).map((v, j): [string, string, Condition[]] => [`${base}/titles/${j}/title`, v.title, [a.when, v.when]]),
    ...(a.escalate ?? []).flatMap((e, j): [string, string, Condition[]][] => (e.because !== undefined ? [[`${base}/escalate/${j}/because`, e.because, [a.when, e.when]]] : [])),
    ...a.remediation.map((t, j): [string, string, Condition[]] => [`${base}/remediation/${j}`, t, [a.when]]),
  ];
  const out: Problem[] = texts.flatMap(([pointer, t, held]) => {
    const reason = check(t, held);
    return reason ? [{ pointer, reason }] : [];
  });
  out.push(...conditionProblems(a.when, `${base}/when`, NOT_SHOWN, check, []));
  (a.titles ?? []).forEach((v, j) => out.push(...conditionProblems(v.when, `${base}/titles/${j}/when`, NOT_SHOWN, check, [a.when])));
  // The escalation's own `because` replaces what its condition says.
  (a.escalate ?? []).forEach((e, j) => out.push(...conditionProblems(e.when, `${base}/escalate/${j}/when`, e.because !== undefined ? OWN_BECAUSE : null, check, [a.when])));
  return out;
}

/** `file:line` of each problem: the file is read again for the lines (only when something is wrong). */
function located(problems: Problem[], file: string, fallback: number): RuleError[] {
  if (problems.length === 0) return [];
  const loaded = loadYamlFile(file, SCHEMA);
  const lineAt = loaded.ok ? loaded.value.lineAt : () => fallback;
  return problems.map((p) => ({ file, line: lineAt(p.pointer), field: p.pointer.slice(1).replace(/\//g, '.'), reason: p.reason }));
}

export function loadAlertRules(dirs: string[] = [BUILTIN_RULES]): AlertRule[] {
  return loadRuleSet<AlertRule>(dirs, 'alerts', SCHEMA, 'alerts', (a, field, file, line) => {
    const errors: RuleError[] = (a.escalate ?? []).flatMap((e, j) =>
      severityRank(e.severity) > severityRank(a.severity) ? [] : [{ file, line, field: `${field}.escalate.${j}.severity`, reason: `must be higher than the rule's severity (${a.severity})` }],
    );
    const index = Number(field.split('.').pop());
    return [...errors, ...located(textProblems(a, index), file, line)];
  });
}
