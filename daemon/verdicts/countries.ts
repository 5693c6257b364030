/** Country sets for `trustedCountries`. */

/**
 * The EU member states and the other EEA states (Iceland, Liechtenstein, Norway), where the
 * GDPR applies (EEA Agreement, Annex XI as amended by Decision 154/2018). ISO 3166-1 alpha-2;
 * Greece is GR (the EU's own "EL" is not ISO).
 */
export const EU_EEA = [
  'AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE', 'IT', 'LV', 'LT', 'LU', 'MT', 'NL', 'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE',
  'IS', 'LI', 'NO',
] as const;

/** Expands presets (`eu`) and upper-cases codes; the home country is always trusted. */
export function trustedSet(home: string | null, trusted: string[] | undefined): Set<string> {
  const out = new Set<string>();
  if (home) out.add(home.toUpperCase());
  for (const t of trusted ?? []) {
    if (t.toLowerCase() === 'eu') for (const c of EU_EEA) out.add(c);
    else out.add(t.toUpperCase());
  }
  return out;
}
