/**
 * OpenWrt's UCI files (/etc/config/vigie), read directly so that the router's usual way of
 * configuring a service (`uci set`, LuCI, `uci commit` then reload) drives Vigie with the same
 * checks as the YAML file. The syntax is util/uci-syntax.ts; this is what each option means.
 */
import { UciError, type UciOption, type UciSection } from '../util/uci-syntax.js';

export { looksLikeUci, parseUci, UciError, type UciOption, type UciSection } from '../util/uci-syntax.js';

type Kind = 'string' | 'int' | 'number' | 'list';
/** UCI option → config file field, by section type. */
const MAP: Record<string, Record<string, [string, Kind]>> = {
  vigie: {
    home_country: ['homeCountry', 'string'],
    trusted_country: ['trustedCountries', 'list'],
    lan: ['lan', 'list'],
    rules: ['rules', 'list'],
    learning_period: ['learningPeriod', 'number'],
    community_id_seed: ['communityIdSeed', 'int'],
    interface: ['run.interface', 'string'],
    listen: ['run.listen', 'string'],
    allowed_host: ['run.allowedHosts', 'list'],
    port: ['run.port', 'int'],
    state_dir: ['run.stateDir', 'string'],
    commit_interval: ['run.commitInterval', 'number'],
    filter: ['run.filter', 'string'],
    event_log: ['run.eventLog', 'string'],
    syslog: ['run.syslog', 'string'],
    webhook: ['run.webhook', 'string'],
    tls_cert: ['run.tlsCert', 'string'],
    tls_key: ['run.tlsKey', 'string'],
    ha_mqtt: ['run.haMqtt', 'string'],
    ha_ca: ['run.haCa', 'string'],
    ha_prefix: ['run.haPrefix', 'string'],
    ha_password_file: ['run.haPasswordFile', 'string'],
    learning_days: ['segment.learningDays', 'number'],
    lan_interface: ['segment.lanInterfaces', 'list'],
    rollback_seconds: ['segment.rollbackSeconds', 'int'],
    protect: ['segment.protect', 'list'],
  },
  network: { cidr: ['cidr', 'string'], country: ['country', 'string'], asn: ['asn', 'int'], org: ['org', 'string'], label: ['label', 'string'] },
  device: { mac: ['mac', 'string'], label: ['label', 'string'], category: ['category', 'string'], zone: ['zone', 'string'] },
  mute: { rule: ['rule', 'string'], device: ['device', 'string'], destination: ['destination', 'string'], until: ['until', 'string'] },
};
/** Read by the init script only (procd), not by the daemon. */
const INIT_ONLY = new Set(['enabled', 'node_options', 'allow_apply']);

function value(o: UciOption, kind: Kind): unknown {
  if (kind === 'list') return o.values;
  const v = o.values[0];
  if (kind === 'int' && /^-?\d+$/.test(v)) return Number(v);
  if (kind === 'number' && /^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  return v; // left as text: the schema names the field and its line
}

/**
 * The UCI sections as the config file's object (config.schema.json), and the line of each
 * field for error messages. Empty options are absent (`option listen ''` = the default).
 */
export function uciToConfig(sections: UciSection[]): { data: Record<string, unknown>; lineAt: (pointer: string) => number } {
  const data: Record<string, unknown> = {};
  const lines = new Map<string, number>();
  let mains = 0;
  for (const s of sections) {
    const map = MAP[s.type];
    if (!map) throw new UciError(s.line, `unknown section type "${s.type}" (vigie, network, device, mute)`);
    const fields: Record<string, unknown> = {};
    const fieldLines: Record<string, number> = {};
    for (const o of s.options.values()) {
      if (s.type === 'vigie' && INIT_ONLY.has(o.name)) continue;
      const m = map[o.name];
      if (!m) throw new UciError(o.line, `unknown option "${o.name}" in a ${s.type} section (${Object.keys(map).join(', ')})`);
      if (!m[1].startsWith('list') && o.list) throw new UciError(o.line, `"${o.name}" takes one value: use option, not list`);
      if (!o.list && o.values[0] === '') continue;
      fields[m[0]] = value(o, o.list ? 'list' : m[1]);
      fieldLines[m[0]] = o.line;
    }
    if (s.type === 'vigie') {
      if (++mains > 1) throw new UciError(s.line, 'a second vigie section: keep one');
      for (const [k, v] of Object.entries(fields)) {
        const group = /^(run|segment)\./.exec(k)?.[1];
        if (group) {
          const sub = k.slice(group.length + 1);
          const obj = (data[group] ??= {}) as Record<string, unknown>;
          obj[sub] = v;
          lines.set(`/${group}/${sub}`, fieldLines[k]);
          lines.set(`/${group}`, s.line);
        } else {
          data[k] = v;
          lines.set(`/${k}`, fieldLines[k]);
        }
      }
    } else if (s.type === 'network' || s.type === 'mute') {
      const key = s.type === 'network' ? 'networks' : 'mutes';
      const list = (data[key] ??= []) as unknown[];
      const i = list.length;
      list.push(fields);
      lines.set(`/${key}/${i}`, s.line);
      for (const [k, l] of Object.entries(fieldLines)) lines.set(`/${key}/${i}/${k}`, l);
    } else {
      const mac = fields.mac;
      if (typeof mac !== 'string') throw new UciError(s.line, 'a device section needs option mac');
      const devices = (data.devices ??= {}) as Record<string, unknown>;
      const { mac: _m, ...rest } = fields;
      void _m;
      devices[mac] = rest;
      lines.set(`/devices/${mac}`, s.line);
      for (const [k, l] of Object.entries(fieldLines)) lines.set(`/devices/${mac}/${k}`, l);
    }
  }
  const lineAt = (pointer: string): number => {
    for (let p = pointer; p !== ''; p = p.slice(0, p.lastIndexOf('/'))) {
      const l = lines.get(p);
      if (l !== undefined) return l;
    }
    return 1;
  };
  return { data, lineAt };
}
