/**
 * What yanglint cannot see in a MUD file: that the policies pair up. yanglint checks structure
 * and types against the YANG modules; this checks the meaning RFC 8520 gives the two policies
 * (§3: from-device-policy for traffic the Thing sends, to-device-policy for traffic it receives):
 * for each IP family there is a from-device and a to-device ACL, and every ACE on one side has
 * its mirror on the other (the same exchange seen from the other end: destination and source
 * swapped in names, networks and ports; protocol, MUD classes and direction-initiated kept).
 * Without the mirror a MUD manager lets the request out and drops the answer, or the reverse.
 */

type Json = Record<string, unknown>;

function isObj(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

const SWAP: Record<string, string> = {
  'ietf-acldns:dst-dnsname': 'ietf-acldns:src-dnsname',
  'ietf-acldns:src-dnsname': 'ietf-acldns:dst-dnsname',
  'destination-ipv4-network': 'source-ipv4-network',
  'source-ipv4-network': 'destination-ipv4-network',
  'destination-ipv6-network': 'source-ipv6-network',
  'source-ipv6-network': 'destination-ipv6-network',
  'destination-port': 'source-port',
  'source-port': 'destination-port',
  'destination-mac-address': 'source-mac-address',
  'source-mac-address': 'destination-mac-address',
  'destination-mac-address-mask': 'source-mac-address-mask',
  'source-mac-address-mask': 'destination-mac-address-mask',
};

/** The matches of the same exchange seen from the other end. */
export function mirrorMatches(m: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(m)) {
    if (k === 'ietf-mud:mud') out[k] = v;
    else if (isObj(v)) out[k] = Object.fromEntries(Object.entries(v).map(([kk, vv]) => [SWAP[kk] ?? kk, vv]));
    else out[k] = v;
  }
  return out;
}

/** Key order does not matter in JSON objects. */
function canon(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(canon).join(',')}]`;
  if (isObj(x)) return `{${Object.keys(x).sort().map((k) => `${JSON.stringify(k)}:${canon(x[k])}`).join(',')}}`;
  return JSON.stringify(x);
}

interface Acl {
  name: string;
  type: string;
  aces: { name: string; matches: Json; actions: unknown }[];
}

function readAcls(doc: Json, problems: string[]): Map<string, Acl> {
  const out = new Map<string, Acl>();
  const acls = doc['ietf-access-control-list:acls'];
  const list = isObj(acls) && Array.isArray(acls.acl) ? acls.acl : null;
  if (!list) {
    problems.push('no ietf-access-control-list:acls/acl list');
    return out;
  }
  for (const a of list) {
    if (!isObj(a) || typeof a.name !== 'string') {
      problems.push('an ACL without a name');
      continue;
    }
    const aces = isObj(a.aces) && Array.isArray(a.aces.ace) ? a.aces.ace : [];
    out.set(a.name, {
      name: a.name,
      type: String(a.type ?? ''),
      aces: aces.filter(isObj).map((e) => ({ name: String(e.name ?? '?'), matches: isObj(e.matches) ? e.matches : {}, actions: e.actions })),
    });
  }
  return out;
}

function policyAcls(mud: Json, key: string, acls: Map<string, Acl>, problems: string[]): Acl[] {
  const p = mud[key];
  const list = isObj(p) && isObj(p['access-lists']) && Array.isArray(p['access-lists']['access-list']) ? p['access-lists']['access-list'] : null;
  if (!list) {
    problems.push(`${key} names no access list`);
    return [];
  }
  const out: Acl[] = [];
  for (const e of list) {
    const name = isObj(e) ? e.name : undefined;
    const acl = typeof name === 'string' ? acls.get(name) : undefined;
    if (!acl) problems.push(`${key} names ACL "${String(name)}", which is not defined`);
    else out.push(acl);
  }
  return out;
}

function l3Family(m: Json): 'ipv4' | 'ipv6' | null {
  return 'ipv4' in m ? 'ipv4' : 'ipv6' in m ? 'ipv6' : null;
}

/** Every pairing problem, one line each (empty: every ACE has its mirror). */
export function checkMudPairs(doc: unknown): string[] {
  const problems: string[] = [];
  if (!isObj(doc) || !isObj(doc['ietf-mud:mud'])) return ['no ietf-mud:mud container'];
  const mud = doc['ietf-mud:mud'];
  const acls = readAcls(doc, problems);
  const from = policyAcls(mud, 'from-device-policy', acls, problems);
  const to = policyAcls(mud, 'to-device-policy', acls, problems);
  const types = new Set([...from, ...to].map((a) => a.type));
  for (const type of types) {
    const fr = from.filter((a) => a.type === type);
    const tt = to.filter((a) => a.type === type);
    if (fr.length === 0) problems.push(`${type}: a to-device ACL but no from-device ACL`);
    if (tt.length === 0) problems.push(`${type}: a from-device ACL but no to-device ACL`);
    const fam = type === 'ipv4-acl-type' ? 'ipv4' : type === 'ipv6-acl-type' ? 'ipv6' : null;
    const frAces = fr.flatMap((a) => a.aces.map((e) => ({ acl: a.name, ...e })));
    const toAces = tt.flatMap((a) => a.aces.map((e) => ({ acl: a.name, ...e })));
    for (const e of [...frAces, ...toAces]) {
      const f = l3Family(e.matches);
      if (fam && f && f !== fam) problems.push(`${e.acl}/${e.name}: ${f} matches in an ${type} ACL`);
    }
    const toKeys = new Map(toAces.map((e) => [canon({ m: e.matches, a: e.actions }), e]));
    const frKeys = new Map(frAces.map((e) => [canon({ m: e.matches, a: e.actions }), e]));
    for (const e of frAces) {
      if (!toKeys.has(canon({ m: mirrorMatches(e.matches), a: e.actions }))) problems.push(`${e.acl}/${e.name}: no to-device ACE answers it (expected ${canon(mirrorMatches(e.matches))})`);
    }
    for (const e of toAces) {
      if (!frKeys.has(canon({ m: mirrorMatches(e.matches), a: e.actions }))) problems.push(`${e.acl}/${e.name}: no from-device ACE goes with it (expected ${canon(mirrorMatches(e.matches))})`);
    }
  }
  return problems;
}
