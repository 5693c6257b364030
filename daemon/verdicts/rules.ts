/** Alert rules from rules/alerts/*.yaml: schema-checked, ids unique, loaded whole or not at all. */
import { BUILTIN_RULES, loadYamlFile, RuleLoadError, type RuleError, ruleFiles } from '../rules/load.js';
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
  /** The file it came from, for messages. */
  file?: string;
}

export function loadAlertRules(dirs: string[] = [BUILTIN_RULES]): AlertRule[] {
  const errors: RuleError[] = [];
  const out: AlertRule[] = [];
  const ids = new Map<string, string>();
  for (const dir of dirs) {
    for (const file of ruleFiles(dir, 'alerts')) {
      const r = loadYamlFile<{ alerts: AlertRule[] }>(file, '../verdicts/alert-rules.schema.json');
      if (!r.ok) {
        errors.push(...r.errors);
        continue;
      }
      r.value.data.alerts.forEach((a, i) => {
        const line = r.value.lineAt(`/alerts/${i}`);
        if (ids.has(a.id)) errors.push({ file, line, field: `alerts.${i}.id`, reason: `duplicate alert rule id "${a.id}" (also in ${ids.get(a.id)})` });
        for (const [j, e] of (a.escalate ?? []).entries()) {
          if (severityRank(e.severity) <= severityRank(a.severity)) errors.push({ file, line, field: `alerts.${i}.escalate.${j}.severity`, reason: `must be higher than the rule's severity (${a.severity})` });
        }
        ids.set(a.id, file);
        out.push({ ...a, file });
      });
    }
  }
  if (errors.length > 0) throw new RuleLoadError(errors);
  return out;
}
