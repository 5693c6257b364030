/** The report as a person reads it at a terminal. */
import { deviceName } from '../model/device.js';
import { escapeControls } from '../util/text.js';
import { formatBytes } from '../util/units.js';
import type { AnalysisReport, FlowRecord } from './types.js';

export { formatBytes };

export function formatDuration(s: number): string {
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 0)} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  return h > 0 ? `${h} h ${m} min` : `${m} min ${sec} s`;
}

function table(cells: string[][]): string {
  // Cells hold names seen on the network: escaped, so they can neither drive the terminal nor add lines.
  const rows = cells.map((r) => r.map(escapeControls));
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => '  ' + r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd()).join('\n');
}

function endpoint(ip: string, port: number, proto: string): string {
  const host = ip.includes(':') ? `[${ip}]` : ip;
  return proto === 'tcp' || proto === 'udp' ? `${host}:${port}` : host;
}

function flowBytes(f: FlowRecord): number {
  return f.counters.orig.bytes + f.counters.resp.bytes;
}

export function renderSummary(r: AnalysisReport, top = 10): string {
  const c = r.capture;
  const out: string[] = [];
  const n = (x: number) => x.toLocaleString('en-US');
  out.push(`Capture  ${escapeControls(c.source)}  (${c.format}, ${c.linkTypes.join(', ') || 'no interface'})`);
  out.push(
    `         ${n(c.packets)} packets, ${formatBytes(c.bytes)}` +
      (c.start ? `, ${c.start} to ${c.end} (${formatDuration(c.duration)})` : ''),
  );
  const notes = [
    `${n(c.malformed)} malformed`,
    `${n(c.flows.total)} flows`,
    c.fragments ? `${n(c.fragments)} IP fragments` : '',
    c.vlanTagged ? `${n(c.vlanTagged)} VLAN-tagged` : '',
    c.snapCut ? `${n(c.snapCut)} cut by snap length` : '',
    c.flows.evicted ? `${n(c.flows.evicted)} flows evicted (table full)` : '',
  ].filter(Boolean);
  out.push(`         ${notes.join(' · ')}`);
  if (c.cut) out.push(`         input cut at byte ${n(c.cut.offset)} after packet ${n(c.cut.afterPacket)}: ${escapeControls(c.cut.reason)}`);
  out.push('');
  out.push(`Devices (${r.devices.length})`);
  if (r.devices.length === 0) out.push('  none seen');
  else {
    const rows = [['DEVICE', 'ADDRESSES', 'CATEGORY', 'FLOWS', 'SENT', 'RECEIVED']];
    for (const d of r.devices) {
      const ips = d.ips.map((a) => a.ip);
      const shown = ips.slice(0, 2).join(', ') + (ips.length > 2 ? ` +${ips.length - 2}` : '');
      rows.push([d.id, shown || '-', d.category, n(d.stats.flows), formatBytes(d.stats.bytesUp), formatBytes(d.stats.bytesDown)]);
    }
    out.push(table(rows));
  }
  out.push('');
  const flows = [...r.flows].sort((a, b) => flowBytes(b) - flowBytes(a)).slice(0, top);
  out.push(`Top flows by volume (${flows.length} of ${n(r.flows.length)})`);
  if (flows.length === 0) out.push('  none');
  else {
    const rows = [['PROTO', 'FROM', 'TO', 'SENT', 'RECEIVED', 'PACKETS', 'STATE']];
    for (const f of flows) {
      rows.push([
        f.proto + (f.app ? `/${f.app}` : ''),
        endpoint(f.orig.ip, f.orig.port, f.proto),
        endpoint(f.resp.ip, f.resp.port, f.proto) + (f.internet ? '' : ' (lan)'),
        formatBytes(f.counters.orig.bytes),
        formatBytes(f.counters.resp.bytes),
        n(f.counters.orig.packets + f.counters.resp.packets),
        f.tcp?.state ?? '',
      ]);
    }
    out.push(table(rows));
  }
  out.push('');
  out.push(r.alerts.length === 0 ? 'Alerts: none' : `Alerts (${r.alerts.length}, most severe first)`);
  if (r.alerts.length > 0) {
    const rows = [['SEVERITY', 'ALERT', 'DEVICE', 'DESTINATION', 'COUNTRY', 'COUNT']];
    for (const a of r.alerts.slice(0, top)) {
      const d = a.destination;
      rows.push([
        a.severity + (a.muted ? ' (muted)' : ''),
        a.title,
        deviceName(a.device),
        d ? `${d.hostname ?? d.ip}:${d.port}` : '-',
        d?.country ?? '-',
        n(a.count),
      ]);
    }
    out.push(table(rows));
    if (r.alerts.length > top) out.push(`  ... ${r.alerts.length - top} more (--top, or --json for all with their evidence)`);
  }
  return out.join('\n') + '\n';
}
