/** Facts about devices that several stages share. */

/**
 * Categories that are people's own devices: Vigie keeps their counters and alerts but not where
 * they go, unless the household opts in (README, "Privacy").
 */
export const PERSONAL_CATEGORIES: ReadonlySet<string> = new Set(['phone', 'computer', 'tablet']);
