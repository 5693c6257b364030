/**
 * The domain model (daemon/model/): one device-name rule, one list of severities and of
 * categories, the same for the daemon's outputs, its old import paths and the dashboard.
 */
import { describe, expect, it } from 'vitest';
import { CATEGORIES, deviceName, isCategory } from '../../daemon/model/device.js';
import { isSeverity, SEVERITIES, severityRank } from '../../daemon/model/severity.js';
import { isoTime } from '../../daemon/model/time.js';
import { CATEGORIES as DEVICE_RULES_CATEGORIES } from '../../daemon/devices/rules.js';
import { SEVERITIES as VERDICT_SEVERITIES, severityRank as verdictRank } from '../../daemon/verdicts/rules.js';
import { isoTime as flowIsoTime } from '../../daemon/analysis/flow-record.js';
import { renderSummary } from '../../daemon/report/summary.js';
import { displayName } from '../../daemon/segment/plan.js';
import type { Alert } from '../../daemon/model/alert.js';
import type { AnalysisReport } from '../../daemon/model/report.js';
import * as format from '../../ui/src/lib/format.js';

const MAC = '02:00:00:00:00:01';

function alert(device: Partial<Alert['device']>): Alert {
  return {
    id: 'a1', rule: 'test-rule', severity: 'high', title: 'talks', reasons: [],
    device: { id: 'dev1', mac: MAC, ip: '192.168.1.10', vendor: 'Espressif', hostname: null, label: null, category: 'plug_or_light', ...device },
    destination: null, protocol: null, encrypted: null, evidence: {}, remediation: [],
    firstSeen: '2026-01-01T00:00:00.000Z', lastSeen: '2026-01-01T00:00:00.000Z', count: 1, muted: false,
  };
}

describe('device names', () => {
  it('the household\'s label, else the host name, else the MAC, else the id', () => {
    expect(deviceName({ label: 'Kitchen plug', hostname: 'esp-1', mac: MAC, id: 'dev1' })).toBe('Kitchen plug');
    expect(deviceName({ label: null, hostname: 'esp-1', mac: MAC, id: 'dev1' })).toBe('esp-1');
    expect(deviceName({ label: null, hostname: null, mac: MAC, id: 'dev1' })).toBe(MAC);
    expect(deviceName({ label: null, mac: null, id: 'dev1' })).toBe('dev1');
    // An empty label is the household's choice, not a missing one.
    expect(deviceName({ label: '', hostname: 'esp-1', mac: MAC, id: 'dev1' })).toBe('');
  });

  it('a plan says a bare MAC with its vendor, and only a bare MAC', () => {
    expect(deviceName({ label: null, hostname: null, mac: MAC, id: 'dev1', vendor: 'Espressif' }, { vendor: true })).toBe(`Espressif ${MAC}`);
    expect(deviceName({ label: null, hostname: 'esp-1', mac: MAC, id: 'dev1', vendor: 'Espressif' }, { vendor: true })).toBe('esp-1');
    expect(deviceName({ label: null, hostname: null, mac: null, id: 'dev1', vendor: 'Espressif' }, { vendor: true })).toBe('dev1');
    expect(displayName({ label: null, hostname: null, mac: MAC, id: 'dev1', vendor: 'Espressif' })).toBe(`Espressif ${MAC}`);
  });

  it('the analyze summary names an alert\'s device by the same rule as the dashboard (its MAC, not its address)', () => {
    const report = { capture: { source: 'x.pcap', format: 'pcap', linkTypes: [], packets: 0, bytes: 0, start: null, end: null, duration: 0, malformed: 0, flows: { total: 0, evicted: 0 }, fragments: 0, vlanTagged: 0, snapCut: 0, cut: null }, devices: [], flows: [], alerts: [alert({})], profiles: [] } as unknown as AnalysisReport;
    const line = renderSummary(report).split('\n').find((l) => l.includes('talks'));
    expect(line).toContain(MAC);
    expect(line).not.toContain('192.168.1.10');
  });

  it('the dashboard names a device view and an alert\'s device by the model\'s rule', () => {
    expect(format.deviceName({ label: null, mac: MAC, id: 'dev1', record: { hostname: 'esp-1' } })).toBe('esp-1');
    expect(format.deviceName({ label: null, mac: null, id: 'dev1', record: null })).toBe('dev1');
    expect(format.deviceName(alert({ hostname: 'esp-1' }).device)).toBe('esp-1');
    expect(format.deviceName(alert({ mac: null }).device)).toBe('dev1');
  });
});

describe('severities and categories, one copy', () => {
  it('severities rank least serious first; a word that is not one ranks below all', () => {
    expect(SEVERITIES.map(severityRank)).toEqual([0, 1, 2, 3, 4]);
    expect(severityRank('critical')).toBeGreaterThan(severityRank('high'));
    expect(severityRank(null)).toBe(-1);
    expect(severityRank('urgent')).toBe(-1);
    expect(isSeverity('low')).toBe(true);
    expect(isSeverity('LOW')).toBe(false);
  });

  it('the old import paths give the model\'s own values', () => {
    expect(VERDICT_SEVERITIES).toBe(SEVERITIES);
    expect(verdictRank).toBe(severityRank);
    expect(DEVICE_RULES_CATEGORIES).toBe(CATEGORIES);
    expect(isCategory('camera')).toBe(true);
    expect(isCategory('toString')).toBe(false);
  });

  it('the dashboard ranks and lists with the daemon\'s values, a label for every category', () => {
    expect(format.severityRank).toBe(severityRank);
    expect(format.CATEGORIES).toBe(CATEGORIES);
    expect(Object.keys(format.CATEGORY_LABEL).sort()).toEqual([...CATEGORIES].sort());
  });
});

describe('record times', () => {
  it('ISO 8601 UTC with milliseconds, the same as the flow records write', () => {
    expect(isoTime(1_700_000_000.5)).toBe('2023-11-14T22:13:20.500Z');
    expect(isoTime(1_700_000_000.5)).toBe(flowIsoTime(1_700_000_000.5));
  });
});
