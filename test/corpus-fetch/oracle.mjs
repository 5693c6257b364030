/**
 * Makes a corpus case's tshark.txt, the second, independent oracle the corpus tests read
 * (test/helpers/corpus.ts readTsharkTxt, test/helpers/events.ts oracleRows), with the tshark
 * installed here, in the layout of the shared corpus's files (its INDEX.md, "Second oracle"):
 * capinfos, the protocol hierarchy, then one table per protocol of per-PDU rows read from
 * `tshark -T json --no-duplicate-keys` ("i/n" = i-th PDU of n in a frame; PDUs that needed TCP
 * reassembly are listed on the frame that completes them), `-z rtp,streams` with heuristic RTP,
 * and the VLAN ids per frame. Expert infos of a frame follow its first row after " ! " (sorted,
 * once each; chat items that only repeat a start line left out).
 *
 * Which tables a case has, and the decode-as options it needs, come from the corpus index
 * (test/corpus/index.json, `oracle`). Run from the corpus root: paths are "<case>/<file>".
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] });

/** Values longer than this are shown as their first 120 characters and "...(len N)". */
const LONG = 160;
const KEEP = 120;
/** Lists longer than this show their first 6 items and "...(+N more, T total)". */
const MANY = 12;
const SHOWN = 6;

/** Every value of `key` in a JSON subtree, in document order (like `-E occurrence=a`). */
function all(node, key, out = []) {
  if (Array.isArray(node)) {
    for (const x of node) all(x, key, out);
  } else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === key) {
        if (Array.isArray(v)) for (const x of v) {
          if (typeof x === 'object') all(x, key, out);
          else out.push(x);
        }
        else if (typeof v !== 'object' || v === null) out.push(v);
        else all(v, key, out);
      } else if (v && typeof v === 'object') all(v, key, out);
    }
  }
  return out;
}

const first = (node, key) => all(node, key)[0];

function long(v) {
  const s = String(v);
  return s.length > LONG ? `${s.slice(0, KEEP)}...(len ${s.length})` : s;
}

function list(values, sep) {
  const v = values.map(String);
  if (v.length > MANY) return `${v.slice(0, SHOWN).join(sep)}${sep}...(+${v.length - SHOWN} more, ${v.length} total)`;
  return v.join(sep);
}

/** key=value tokens; a missing or empty value leaves its key out. */
function fields(pairs) {
  const out = [];
  for (const [k, v] of pairs) {
    if (v === undefined || v === null || v === '') continue;
    out.push(`${k}=${v}`);
  }
  return out;
}

/** Python's repr() of a str, as the oracle files show other_headers. */
export function pyRepr(s) {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = q;
  for (const ch of s) {
    const c = ch.codePointAt(0);
    if (ch === '\\') out += '\\\\';
    else if (ch === q) out += `\\${q}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c >= 0x80 && c < 0xa0) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + q;
}

/** Expert messages under a subtree, with MALFORMED where a malformed-packet marker is. */
function experts(node, out = []) {
  if (Array.isArray(node)) {
    for (const x of node) experts(x, out);
  } else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '_ws.malformed' && typeof v === 'object') out.push('MALFORMED');
      if (k === '_ws.expert.message') {
        for (const m of Array.isArray(v) ? v : [v]) {
          // Chat items that only repeat an HTTP/RTSP start line are not findings.
          if (typeof m === 'string' && !m.endsWith('\\n')) out.push(m);
        }
      } else if (v && typeof v === 'object') experts(v, out);
    }
  }
  return out;
}

function endpoints(layers) {
  const ip = layers.ip ?? layers.ipv6;
  const v6 = !layers.ip && layers.ipv6;
  const src = ip ? first(ip, v6 ? 'ipv6.src' : 'ip.src') : '';
  const dst = ip ? first(ip, v6 ? 'ipv6.dst' : 'ip.dst') : '';
  const l4 = layers.tcp ?? layers.udp;
  const sp = l4 ? first(l4, layers.tcp ? 'tcp.srcport' : 'udp.srcport') : '';
  const dp = l4 ? first(l4, layers.tcp ? 'tcp.dstport' : 'udp.dstport') : '';
  return `${src}:${sp} -> ${dst}:${dp}`;
}

/** The PDUs of one protocol layer in a frame (an array when the frame holds several). */
const pdus = (layer) => (layer === undefined ? [] : Array.isArray(layer) ? layer : [layer]);

/** The frame's expert infos outside the given protocol's PDUs (TCP analysis, malformed...). */
function frameExperts(layers, proto) {
  const out = [];
  for (const [k, v] of Object.entries(layers)) if (k !== proto) experts({ [k]: v }, out);
  return out;
}

function row(parts, tokens, flags, expertList) {
  let text = `${parts.join(' | ')} | ${[...tokens, ...flags].join(' ')}`;
  const ex = [...new Set(expertList)].sort();
  if (ex.length > 0) text += `${tokens.length + flags.length > 0 ? ' ' : ''}! ${ex.join(' | ')}`;
  return text;
}

const MQTT_TYPES = ['RESERVED0', 'CONNECT', 'CONNACK', 'PUBLISH', 'PUBACK', 'PUBREC', 'PUBREL', 'PUBCOMP', 'SUBSCRIBE', 'SUBACK', 'UNSUBSCRIBE', 'UNSUBACK', 'PINGREQ', 'PINGRESP', 'DISCONNECT', 'AUTH'];

function hexText(hex) {
  if (typeof hex !== 'string' || hex === '') return '';
  return Buffer.from(hex.replace(/:/g, ''), 'hex');
}

/** MQTT (3.1, 3.1.1, 5.0) PDU fields. */
function mqttFields(m) {
  const type = Number(first(m, 'mqtt.msgtype'));
  const g = (k) => first(m, k);
  const join = (k) => {
    const v = all(m, k);
    return v.length ? list(v, ',') : undefined;
  };
  const t = [];
  switch (type) {
    case 1:
      t.push(['proto', g('mqtt.protoname')], ['ver', g('mqtt.ver')], ['client_id', g('mqtt.clientid')], ['client_id_len', g('mqtt.clientid_len')]);
      t.push(['flag.username', g('mqtt.conflag.uname')], ['flag.password', g('mqtt.conflag.passwd')], ['flag.will', g('mqtt.conflag.willflag')], ['flag.will_qos', g('mqtt.conflag.qos')], ['flag.will_retain', g('mqtt.conflag.retain')], ['flag.clean', g('mqtt.conflag.cleansess')]);
      t.push(['keepalive', g('mqtt.kalive')], ['username', g('mqtt.username')], ['password_len', g('mqtt.passwd_len')], ['will_topic', g('mqtt.willtopic')], ['will_msg_len', g('mqtt.willmsg_len')]);
      break;
    case 2:
      t.push(['session_present', g('mqtt.conack.flags.sp')], ['return_code(v3)', g('mqtt.conack.val')], ['reason_code(v5)', g('mqtt.connack.reason_code')]);
      break;
    case 3: {
      const payload = hexText(g('mqtt.msg'));
      const len = payload === '' ? 0 : payload.length;
      const text = len > 0 && len <= 64 && [...payload].every((b) => b >= 0x20 && b < 0x7f) ? `"${payload.toString('latin1')}"` : undefined;
      t.push(['qos', g('mqtt.qos')], ['dup', g('mqtt.dupflag')], ['retain', g('mqtt.retain')], ['topic', g('mqtt.topic')], ['msgid', g('mqtt.msgid')], ['payload_len', len], ['payload', text]);
      break;
    }
    case 4:
    case 5:
    case 6:
    case 7:
      t.push(['msgid', g('mqtt.msgid')], ['reason', g('mqtt.puback.reason_code') ?? g('mqtt.pubrec.reason_code') ?? g('mqtt.pubrel.reason_code') ?? g('mqtt.pubcomp.reason_code')]);
      break;
    case 8:
      t.push(['msgid', g('mqtt.msgid')], ['topics', join('mqtt.topic')], ['req_qos(v3)', join('mqtt.sub.qos')], ['req_qos(v5)', join('mqtt.subscription_options_qos')]);
      break;
    case 9:
      t.push(['msgid', g('mqtt.msgid')], ['granted_qos(v3)', join('mqtt.suback.qos')], ['reason(v5)', join('mqtt.suback.reason_code')]);
      break;
    case 10:
      t.push(['msgid', g('mqtt.msgid')], ['topics', join('mqtt.topic')]);
      break;
    case 11:
      t.push(['msgid', g('mqtt.msgid')], ['reason(v5)', join('mqtt.unsuback.reason_code')]);
      break;
    case 14:
      t.push(['reason', g('mqtt.disconnect.reason_code')]);
      break;
    case 15:
      t.push(['reason', g('mqtt.auth.reason_code')]);
      break;
  }
  t.push(['remaining_len', g('mqtt.len')], ['prop_ids', join('mqtt.property_id')], ['prop_strings', join('mqtt.prop_string')], ['user_prop_keys', join('mqtt.prop_key')]);
  return { type: MQTT_TYPES[type] ?? `TYPE${type}`, tokens: fields(t), flags: all(m, 'mqtt.unknown_version').length > 0 ? ['UNKNOWN_VERSION'] : [] };
}

function mqttSection(packets) {
  const lines = ['## MQTT PDUs', 'frame | src -> dst | #pdu in frame | type | fields'];
  for (const p of packets) {
    const L = p._source.layers;
    const list = pdus(L.mqtt);
    list.forEach((m, i) => {
      const f = mqttFields(m);
      const ex = i === 0 ? [...frameExperts(L, 'mqtt'), ...experts(m)] : experts(m);
      lines.push(row([L.frame['frame.number'], endpoints(L), `${i + 1}/${list.length}`, f.type], f.tokens, f.flags, ex));
    });
  }
  return lines;
}

/** TLS ClientHello and ServerHello of the frame's TLS records (QUIC's are inside QUIC). */
function tlsSection(packets) {
  const lines = ['## TLS ClientHello / ServerHello', 'frame | src -> dst | handshake | fields'];
  for (const p of packets) {
    const L = p._source.layers;
    let n = 0;
    for (const layer of pdus(L.tls)) {
      for (const rec of pdus(layer['tls.record'])) {
        for (const hs of pdus(rec['tls.handshake'])) {
          const type = hs['tls.handshake.type'];
          if (type !== '1' && type !== '2') continue;
          const t = [];
          if (type === '1') {
            const alpn = all(hs, 'tls.handshake.extensions_alpn_str');
            const sv = all(hs, 'tls.handshake.extensions.supported_version');
            t.push(['sni', first(hs, 'tls.handshake.extensions_server_name')], ['alpn', alpn.length ? list(alpn, ';') : undefined], ['record_ver', rec['tls.record.version']], ['hello_ver', first(hs, 'tls.handshake.version')], ['supported_versions', sv.length ? list(sv, ';') : undefined], ['ja3', first(hs, 'tls.handshake.ja3')], ['ja3_full', long(first(hs, 'tls.handshake.ja3_full') ?? '')]);
          } else {
            t.push(['cipher', first(hs, 'tls.handshake.ciphersuite')], ['ja3s', first(hs, 'tls.handshake.ja3s')], ['ja3s_full', long(first(hs, 'tls.handshake.ja3s_full') ?? '')]);
          }
          const ex = n++ === 0 ? [...frameExperts(L, 'tls'), ...experts(layer)] : [];
          lines.push(row([L.frame['frame.number'], endpoints(L), type === '1' ? 'ClientHello' : 'ServerHello'], fields(t), [], ex));
        }
      }
    }
  }
  return lines;
}

const DHCP_OPTIONS = [
  ['opt12.hostname', 'dhcp.option.hostname'],
  ['opt55.params', 'dhcp.option.request_list_item'],
  ['opt60.vendor_class', 'dhcp.option.vendor_class_id'],
  ['opt15.domain', 'dhcp.option.domain_name'],
  ['opt3.router', 'dhcp.option.router'],
  ['opt6.dns', 'dhcp.option.domain_name_server'],
  ['opt50.requested_ip', 'dhcp.option.requested_ip_address'],
  ['opt51.lease', 'dhcp.option.ip_address_lease_time'],
  ['opt52.overload', 'dhcp.option.option_overload'],
  ['opt56.message', 'dhcp.option.message'],
];

function dhcpSection(packets) {
  const lines = ['## DHCP messages', 'frame | src -> dst | fields'];
  for (const p of packets) {
    const L = p._source.layers;
    for (const d of pdus(L.dhcp)) {
      const t = [['msgtype', first(d, 'dhcp.option.dhcp')], ['xid', first(d, 'dhcp.id')], ['chaddr', first(d, 'dhcp.hw.mac_addr')], ['ciaddr', first(d, 'dhcp.ip.client')], ['yiaddr', first(d, 'dhcp.ip.your')]];
      for (const [k, f] of DHCP_OPTIONS) {
        const v = all(d, f);
        t.push([k, v.length ? list(v, ',') : undefined]);
      }
      lines.push(row([L.frame['frame.number'], endpoints(L)], fields(t), [], [...frameExperts(L, 'dhcp'), ...experts(d)]));
    }
  }
  return lines;
}

const DNS_DATA = [
  ['A', 'dns.a'],
  ['AAAA', 'dns.aaaa'],
  ['CNAME', 'dns.cname'],
  ['PTR', 'dns.ptr.domain_name'],
  ['NS', 'dns.ns'],
  ['MX', 'dns.mx.mail_exchange'],
  ['TXT', 'dns.txt'],
  ['SRV.target', 'dns.srv.target'],
  ['SRV.port', 'dns.srv.port'],
  ['SRV.prio', 'dns.srv.priority'],
  ['SRV.weight', 'dns.srv.weight'],
];

function dnsSection(packets, layer, title) {
  const lines = [`## ${title}`, 'frame | src -> dst | fields'];
  for (const p of packets) {
    const L = p._source.layers;
    for (const d of pdus(L[layer])) {
      const j = (k) => {
        const v = all(d, k);
        return v.length ? list(v, ';') : undefined;
      };
      const t = [['id', first(d, 'dns.id')], ['qr', first(d, 'dns.flags.response')], ['opcode', first(d, 'dns.flags.opcode')], ['rcode', first(d, 'dns.flags.rcode')]];
      t.push(['qd', first(d, 'dns.count.queries')], ['an', first(d, 'dns.count.answers')], ['ns', first(d, 'dns.count.auth_rr')], ['ar', first(d, 'dns.count.add_rr')]);
      t.push(['qname', j('dns.qry.name')], ['qtype', j('dns.qry.type')], ['rr.name', j('dns.resp.name')], ['rr.type', j('dns.resp.type')], ['rr.ttl', j('dns.resp.ttl')]);
      for (const [k, f] of DNS_DATA) t.push([k, j(f)]);
      lines.push(row([L.frame['frame.number'], endpoints(L)], fields(t), [], [...frameExperts(L, layer), ...experts(d)]));
    }
  }
  return lines;
}

/** HTTP/1.x and SSDP messages: start line, Host, User-Agent, Server, and the headers tshark does not name. */
function httpSection(packets, layer, title) {
  const lines = [`## ${title}`, 'frame | src -> dst | fields'];
  for (const p of packets) {
    const L = p._source.layers;
    pdus(L[layer]).forEach((h, i) => {
      const unknown = all(h, 'http.unknown_header');
      const t = [['method', first(h, 'http.request.method')], ['uri', long(first(h, 'http.request.uri') ?? '')], ['version', first(h, 'http.request.version')], ['status', first(h, 'http.response.code')]];
      t.push(['host', first(h, 'http.host')], ['user_agent', first(h, 'http.user_agent')], ['server', first(h, 'http.server')], ['location', first(h, 'http.location')], ['upgrade', first(h, 'http.upgrade')]);
      t.push(['other_headers', unknown.length ? pyRepr(unknown.join(' ; ')) : undefined]);
      const ex = i === 0 ? [...frameExperts(L, layer), ...experts(h)] : experts(h);
      lines.push(row([L.frame['frame.number'], endpoints(L)], fields(t), [], ex));
    });
  }
  return lines;
}

/** RTSP (RFC 2326): request line, status, Session and Transport, and the CSeq, User-Agent and Server lines. */
function rtspSection(packets) {
  const lines = ['## RTSP messages', 'frame | src -> dst | fields'];
  for (const p of packets) {
    const L = p._source.layers;
    pdus(L.rtsp).forEach((r, i) => {
      const t = fields([
        ['method', first(r, 'rtsp.method')],
        ['url', first(r, 'rtsp.url')],
        ['status', first(r, 'rtsp.status')],
        ['session', first(r, 'rtsp.session')],
        ['transport', first(r, 'rtsp.transport')],
        ['content_type', first(r, 'rtsp.content-type')],
      ]);
      for (const k of Object.keys(r)) if (/^(CSeq|User-Agent|Server):/i.test(k)) t.push(k.replace(/\\r\\n$/, ''));
      const ex = i === 0 ? [...frameExperts(L, 'rtsp'), ...experts(r)] : experts(r);
      lines.push(row([L.frame['frame.number'], endpoints(L)], t, [], ex));
    });
  }
  return lines;
}

/** The lines `sort | uniq -c` gives, each shown as Python's repr() (tabs visible). */
function uniqCount(text) {
  const counts = new Map();
  const rows = text.split('\n');
  if (rows[rows.length - 1] === '') rows.pop();
  for (const r of rows) counts.set(r, (counts.get(r) ?? 0) + 1);
  // `sort` in the C locale: byte order.
  const keys = [...counts.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return keys.map((k) => `${String(counts.get(k)).padStart(6)}  ${pyRepr(k)}`);
}

export function tsharkVersion() {
  return run('tshark', ['--version']).split('\n')[0];
}

/**
 * The tshark.txt text of one case. `root` is the corpus root, `c` the index row (case, file,
 * oracle: { args, sections }).
 */
export function oracleText(root, c) {
  const rel = `${c.case}/${c.file}`;
  const args = c.oracle?.args ?? [];
  const sections = c.oracle?.sections ?? [];
  let out = `# tshark oracle for ${rel}\n# generated with: ${tsharkVersion()}\n# extra tshark args: ${args.length ? args.join(' ') : '(none)'}\n`;
  out += '# JSON (-T json --no-duplicate-keys) parsed per protocol PDU; "i/n" = i-th PDU of n in the same frame (TCP-reassembled PDUs are reported on the frame that completes them).\n\n';
  out += `## capinfos\n${run('capinfos', ['-M', '-E', '-l', '-c', rel], root)}\n`;
  out += `## protocol hierarchy\n${run('tshark', ['-r', rel, ...args, '-q', '-z', 'io,phs'], root)}\n`;
  const needJson = sections.some((s) => ['mqtt', 'tls', 'dhcp', 'dns', 'mdns', 'http', 'ssdp', 'rtsp'].includes(s));
  const packets = needJson ? JSON.parse(run('tshark', ['-r', rel, ...args, '-T', 'json', '--no-duplicate-keys'], root)) : [];
  for (const s of sections) {
    let lines;
    switch (s) {
      case 'mqtt':
        lines = mqttSection(packets);
        break;
      case 'tls':
        lines = tlsSection(packets);
        break;
      case 'dhcp':
        lines = dhcpSection(packets);
        break;
      case 'dns':
        lines = dnsSection(packets, 'dns', 'DNS messages');
        break;
      case 'mdns':
        lines = dnsSection(packets, 'mdns', 'mDNS messages');
        break;
      case 'http':
        lines = httpSection(packets, 'http', 'HTTP messages');
        break;
      case 'ssdp':
        lines = httpSection(packets, 'ssdp', 'SSDP messages');
        break;
      case 'rtsp':
        lines = rtspSection(packets);
        break;
      case 'rtp': {
        const a = ['-r', rel, '-o', 'rtp.heuristic_rtp:TRUE', '-q', '-z', 'rtp,streams'];
        out += `### RTP streams\n$ tshark ${a.join(' ')}\n${run('tshark', a, root)}\n`;
        continue;
      }
      case 'websocket': {
        const a = ['-r', rel, '-Y', 'websocket', '-T', 'fields', '-e', 'frame.number', '-e', 'websocket.fin', '-e', 'websocket.opcode', '-e', 'websocket.mask', '-e', 'websocket.masking_key', '-e', 'websocket.payload_length'];
        out += `### WebSocket frames\n$ tshark ${a.join(' ')}\n${run('tshark', a, root)}\n`;
        continue;
      }
      case 'vlan': {
        const text = run('tshark', ['-r', c.file, '-T', 'fields', '-e', 'vlan.id', '-e', 'vlan.etype'], path.join(root, c.case));
        out += `## VLAN ids per frame (vlan.id list, inner etype) -> frame count\n$ tshark -r ${c.file} -T fields -e vlan.id -e vlan.etype | sort | uniq -c\n${uniqCount(text).join('\n')}\n\n`;
        continue;
      }
      default: {
        const m = /^udp-payloads:(\d+):(\d+)$/.exec(s);
        if (!m) throw new Error(`unknown oracle section ${s}`);
        const a = ['-r', rel, '-Y', `udp.port==${m[1]}`, '-c', '2000', '-T', 'fields', '-e', 'frame.number', '-e', 'ip.src', '-e', 'udp.srcport', '-e', 'ip.dst', '-e', 'udp.dstport', '-e', 'udp.length'];
        const rows = run('tshark', a, root).split('\n').filter(Boolean).slice(0, Number(m[2]));
        out += `### UDP payloads on port ${m[1]} (first ${m[2]})\n$ tshark ${a.join(' ')}\n${rows.join('\n')}\n\n`;
        continue;
      }
    }
    out += `${lines.join('\n')}\n\n`;
  }
  return out;
}
