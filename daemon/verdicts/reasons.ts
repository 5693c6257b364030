/**
 * An alert's reasons: for each escalation that held, what was found, in words. A `because` given
 * in the rule (on the escalation, or on the condition object of a branch) is used as written
 * (a template); every other leaf that held is said by the phrase of its field below, naming the
 * value that held ("the device is a camera", not the list of categories the rule accepts).
 */
import { list, type PhraseContext } from '../protocols/contract.js';
import { appName, PROTOCOL_FIELDS } from '../protocols/registry.js';
import { formatBytes } from '../util/units.js';
import { explain, type Finding, type Held, type Scalar, type Situation } from './condition.js';
import { countryName } from './country-names.js';
import { type AlertRule, type Severity, severityRank } from './rules.js';
import { render, type Values } from './template.js';
import { categoryWords } from './texts.js';

interface Context {
  v: Values;
  s: Situation;
}
type Phrase = (values: Scalar[], c: Context) => string;

const apps = (xs: Scalar[]) => list(xs.map((x) => appName(String(x))));
const dest = (c: Context) => c.v.destination ?? 'the destination';
const countries = (xs: Scalar[]) => list(xs.map((x) => countryName(String(x))));

/** A boolean field: what it says when true, and when false. */
function flag(yes: string | ((c: Context) => string), no: string | ((c: Context) => string)): Phrase {
  return (xs, c) => {
    const p = xs[0] === true ? yes : no;
    return typeof p === 'string' ? p : p(c);
  };
}

/** The phrases of the fields that are no protocol's: the flow, its device, its destination, and device rules. */
const GENERAL_PHRASES: Record<string, Phrase> = {
  app: (xs) => `it uses ${apps(xs)}`,
  internet: flag((c) => `${dest(c)} is on the internet`, (c) => `${dest(c)} is on the local network`),
  encrypted: flag('the connection is encrypted', 'the connection is not encrypted'),
  transport: (xs) => `it uses ${list(xs.map((x) => String(x).toUpperCase()))}`,
  port: (xs, c) => `${dest(c)} is reached on port ${xs[0]}`,
  country: (xs, c) => `${dest(c)} is in ${countries(xs)}`,
  countryKnown: flag((c) => `${dest(c)} is known to be in ${c.v.country ?? 'a known country'}`, (c) => `the country of ${dest(c)} is unknown`),
  abroad: flag((c) => `${dest(c)} is in ${c.v.country ?? 'another country'}, outside the trusted countries`, (c) => `${dest(c)} is in ${c.v.country ?? 'a trusted country'}, a trusted country`),
  'device.category': (xs) => {
    const w = categoryWords(String(xs[0]));
    return w ? `the device is a ${w}` : 'the kind of device is unknown';
  },
  'device.vendor': (xs) => `the device is made by ${xs[0]}`,
  'device.randomizedMac': flag('the device uses a randomised MAC address', 'the device uses its factory MAC address'),
  'cloud.platform': (xs, c) => `${dest(c)} belongs to ${c.v.platform ?? String(xs[0])}`,
  'cloud.country': (xs, c) => `the operator of ${c.v.platform ?? 'its cloud platform'} is based in ${countries(xs)}`,
  'device.new': flag('the device is new on the network', 'the device was already known'),
  'upload.ratio': (xs) => `it uploaded ${Number(xs[0]).toFixed(1)} times its usual hourly amount`,
  'upload.bytes': (xs) => `it uploaded ${formatBytes(Number(xs[0]))} this hour`,
};

/** A protocol field's phrase, given what it may read of the alert (../protocols/contract.ts). */
function protocolPhrase(says: (values: Scalar[], c: PhraseContext) => string): Phrase {
  return (xs, c) => says(xs, { destination: c.v.destination ?? null, field: (name) => c.s.get(name), appName });
}

/** One phrase per field of the schema (test/unit/alert-texts.test.ts checks that none is missing). */
export const FIELD_PHRASES: Readonly<Record<string, Phrase>> = {
  ...GENERAL_PHRASES,
  ...Object.fromEntries(PROTOCOL_FIELDS.map((f) => [f.name, protocolPhrase(f.says)])),
};

function phrase(f: Finding, c: Context): string {
  if ('because' in f) return render(f.because, c.v);
  const h: Held = f;
  return (FIELD_PHRASES[h.field] ?? ((xs: Scalar[]) => `${h.field} is ${xs.join(', ')}`))(h.values, c);
}

/** The severity the escalations give, and why: the phrases of what held, each said once. */
export function judge(rule: AlertRule, s: Situation, v: Values): { severity: Severity; reasons: string[] } {
  let severity = rule.severity;
  const reasons: string[] = [];
  for (const e of rule.escalate ?? []) {
    const found = explain(e.when, s);
    if (!found) continue;
    if (severityRank(e.severity) > severityRank(severity)) severity = e.severity;
    const texts = e.because !== undefined ? [render(e.because, v)] : found.map((f) => phrase(f, { v, s }));
    for (const t of texts) if (t && !reasons.includes(t)) reasons.push(t);
  }
  return { severity, reasons };
}
