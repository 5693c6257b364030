/**
 * The texts of alert rules (title, title variants, `because`, remediation) are templates:
 * `{name}` is filled in from the alert, and `[...]` is an optional part, kept only when every
 * placeholder inside it has a value. So "to {destination}[ ({country})]" reads "to 203.0.113.5"
 * for an address of unknown country, never "to 203.0.113.5 ()" or "(null)".
 */

export const PLACEHOLDERS = ['device', 'destination', 'country', 'port', 'platform', 'category'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];
/** A placeholder's text, or null when the alert has no such thing (no country, no platform). */
export type Values = Record<Placeholder, string | null>;

type Part = { text: string } | { name: Placeholder } | { optional: Part[] };

const parsed = new Map<string, Part[]>();

function isPlaceholder(name: string): name is Placeholder {
  return (PLACEHOLDERS as readonly string[]).includes(name);
}

/** The parts of a template, or what is wrong with it. */
export function parseTemplate(t: string): Part[] | { error: string } {
  const top: Part[] = [];
  let into = top;
  let opened = false;
  for (const tok of t.split(/(\{[^{}]*\}|\[|\])/)) {
    if (tok === '') continue;
    if (tok === '[') {
      if (opened) return { error: 'optional parts [...] do not nest' };
      opened = true;
      into = [];
      top.push({ optional: into });
    } else if (tok === ']') {
      if (!opened) return { error: 'a "]" without its "["' };
      if (!into.some((p) => 'name' in p)) return { error: 'an optional part [...] needs a placeholder: it is kept only when its placeholders have a value' };
      opened = false;
      into = top;
    } else if (tok.startsWith('{') && tok.endsWith('}')) {
      const name = tok.slice(1, -1);
      if (!isPlaceholder(name)) return { error: `unknown placeholder ${tok} (known: ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')})` };
      into.push({ name });
    } else if (/[{}]/.test(tok)) return { error: 'a "{" or "}" that is not part of a placeholder such as {device}' };
    else into.push({ text: tok });
  }
  if (opened) return { error: 'a "[" without its "]"' };
  return top;
}

/**
 * What is wrong with a template for a rule whose alerts always have `always` and sometimes
 * have `sometimes` (anything else they never have), or null. A placeholder that may be empty
 * must sit in an optional part, so that every text reads well whatever is known.
 */
export function checkTemplate(t: string, always: readonly Placeholder[], sometimes: readonly Placeholder[], what: string): string | null {
  const parts = parseTemplate(t);
  if ('error' in parts) return parts.error;
  for (const p of parts) {
    for (const q of 'optional' in p ? p.optional : [p]) {
      if (!('name' in q) || always.includes(q.name)) continue;
      if (!sometimes.includes(q.name)) return `{${q.name}}: ${what} has none`;
      if (!('optional' in p)) return `{${q.name}} can be unknown: put it in an optional part, as in "[ ({${q.name}})]"`;
    }
  }
  return null;
}

function partsOf(t: string): Part[] {
  let p = parsed.get(t);
  if (!p) {
    const r = parseTemplate(t);
    // Rules are checked when loaded: a template that does not parse here is shown as written.
    p = 'error' in r ? [{ text: t }] : r;
    parsed.set(t, p);
  }
  return p;
}

/**
 * Words for a value missing outside an optional part: loading refuses a template where it can be
 * missing, but a guarantee can lapse (a category corrected after the title was chosen).
 */
const FALLBACK: Record<Placeholder, string> = { device: 'the device', destination: 'its destination', country: 'an unknown country', port: 'its port', platform: 'its cloud platform', category: 'device' };

/** An optional part's text, or null when one of its placeholders has no value. */
function renderOptional(parts: Part[], v: Values): string | null {
  let out = '';
  for (const p of parts) {
    const x = 'text' in p ? p.text : 'name' in p ? v[p.name] : null;
    if (x === null) return null;
    out += x;
  }
  return out;
}

/** The template with its placeholders filled in; optional parts whose values are missing dropped. */
export function render(t: string, v: Values): string {
  let out = '';
  for (const p of partsOf(t)) {
    if ('text' in p) out += p.text;
    else if ('name' in p) out += v[p.name] ?? FALLBACK[p.name];
    else out += renderOptional(p.optional, v) ?? '';
  }
  return out;
}
