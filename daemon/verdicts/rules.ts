/** Alert rules from rules/alerts/*.yaml: schema-checked, ids unique, loaded whole or not at all. */
import { BUILTIN_RULES, loadRuleSet } from '../rules/load.js';
import type { Condition } from './condition.js';

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

export interface AlertRule {
  id: string;
  title: string;
  description?: string;
  on?: 'flow' | 'device-joined' | 'upload-surge';
  when: Condition;
  severity: Severity;
  escalate?: { severity: Severity; when: Condition; because?: string }[];
  protocol?: string;
  remediation: string[];
  source: string;
}

export function loadAlertRules(dirs: string[] = [BUILTIN_RULES]): AlertRule[] {
  return loadRuleSet<AlertRule>(dirs, 'alerts', '../verdicts/alert-rules.schema.json', 'alerts', (a, field, file, line) =>
    (a.escalate ?? []).flatMap((e, j) =>
      severityRank(e.severity) > severityRank(a.severity) ? [] : [{ file, line, field: `${field}.escalate.${j}.severity`, reason: `must be higher than the rule's severity (${a.severity})` }],
    ),
  );
}
