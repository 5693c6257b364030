/**
 * How serious an alert is. One list for the rules (rules/alerts/*.yaml), the API's `?severity=`
 * filter, the metrics' labels and the dashboard: the order is the ranking, least serious first.
 */
export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** The rank of a severity (0 for info); -1 for none or a word that is not one. */
export function severityRank(s: Severity | string | null | undefined): number {
  return s ? SEVERITIES.indexOf(s as Severity) : -1;
}

export function isSeverity(s: unknown): s is Severity {
  return typeof s === 'string' && (SEVERITIES as readonly string[]).includes(s);
}
