/**
 * The daemon's store: created valid, written atomically (SIGKILL at random moments while it
 * writes never leaves an unreadable file), an unreadable or schema-breaking file moved aside
 * with a timestamp and never overwritten, a newer schema refused, retention applied, and
 * personal devices keeping no destinations.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { emptyStore, readStoreReadOnly, Store, StoreError, STORE_SCHEMA } from '../../daemon/store/store.js';
import { recordFlow } from '../../daemon/store/traffic.js';
import type { Alert } from '../../daemon/verdicts/alert.js';
import type { FlowRecord } from '../../daemon/report/types.js';

const dirs: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-store-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function alert(id: string, severity: Alert['severity'], lastSeen: string): Alert {
  return { id, rule: 'mqtt-cleartext-internet', severity, title: 't', reasons: [], device: { id: 'x', mac: '02:00:00:00:00:01', ip: null, vendor: null, hostname: null, label: null, category: 'unknown' }, destination: null, protocol: 'mqtt', encrypted: false, evidence: {}, remediation: [], firstSeen: lastSeen, lastSeen, count: 1, muted: false };
}

describe('store', () => {
  it('starts with a valid empty store, written at once', () => {
    const d = tmp();
    const s = Store.open(d);
    expect(s.opening).toMatchObject({ fresh: true, setAside: null });
    const doc = JSON.parse(fs.readFileSync(path.join(d, 'store.json'), 'utf8'));
    expect(doc.schema).toBe(STORE_SCHEMA);
    expect((fs.statSync(path.join(d, 'store.json')).mode & 0o777).toString(8)).toBe('600');
  });

  it('keeps what was committed, and only writes when something changed', async () => {
    const d = tmp();
    const s = Store.open(d, { commitInterval: 3600 });
    const writes = s.writes;
    await s.commit();
    expect(s.writes).toBe(writes);
    s.data.alerts.push(alert('0123456789abcdef', 'high', new Date().toISOString()));
    s.touch();
    expect(JSON.parse(fs.readFileSync(path.join(d, 'store.json'), 'utf8')).alerts).toEqual([]);
    await s.commit();
    expect(s.writes).toBe(writes + 1);
    const again = Store.open(d);
    expect(again.data.alerts.map((a) => a.id)).toEqual(['0123456789abcdef']);
    expect(again.opening.fresh).toBe(false);
  });

  it.each([
    ['truncated JSON', '{"schema":1,"created":"x","devices":{', /not JSON/],
    ['not an object', '[1,2,3]', /not a JSON object/],
    ['no version', '{"devices":{}}', /no schema version/],
    ['broken shape', JSON.stringify({ ...emptyStore(), alerts: 'many' }), /breaks the store schema: \/alerts must be array/],
  ])('moves a store with %s aside, keeps its bytes, starts afresh', (_what, content, reason) => {
    const d = tmp();
    fs.writeFileSync(path.join(d, 'store.json'), content);
    const s = Store.open(d, undefined, new Date('2026-11-23T10:00:00Z'));
    expect(s.opening.setAside?.reason).toMatch(reason);
    expect(path.basename(s.opening.setAside!.path)).toBe('store.json.corrupt-2026-11-23T10-00-00-000Z');
    expect(fs.readFileSync(s.opening.setAside!.path, 'utf8')).toBe(content);
    expect(s.data.alerts).toEqual([]);
    // A second corrupt file the same second does not overwrite the first one set aside.
    fs.writeFileSync(path.join(d, 'store.json'), content);
    const t = Store.open(d, undefined, new Date('2026-11-23T10:00:00Z'));
    expect(t.opening.setAside!.path).not.toBe(s.opening.setAside!.path);
    expect(fs.readdirSync(d).filter((f) => f.includes('corrupt')).length).toBe(2);
  });

  it('upgrades a schema-1 store (before segmentation) and keeps what it held', () => {
    const d = tmp();
    const v1 = { ...emptyStore(), schema: 1, alerts: [alert('0123456789abcdef', 'high', '2026-11-01T10:00:00.000Z')] } as Record<string, unknown>;
    delete v1.profiles;
    fs.writeFileSync(path.join(d, 'store.json'), JSON.stringify(v1));
    // Read-only first (vigie segment --state-dir while the daemon runs): nothing written.
    expect(readStoreReadOnly(d).profiles).toEqual({});
    expect(JSON.parse(fs.readFileSync(path.join(d, 'store.json'), 'utf8')).schema).toBe(1);
    const s = Store.open(d);
    expect(s.opening.migratedFrom).toBe(1);
    expect(s.data.schema).toBe(STORE_SCHEMA);
    expect(s.data.profiles).toEqual({});
    expect(s.data.alerts.map((a) => a.id)).toEqual(['0123456789abcdef']);
  });

  it('reads a state folder without a store as a clear error', () => {
    expect(() => readStoreReadOnly(tmp())).toThrow(/store\.json: no such file/);
  });

  it('refuses a store written by a newer Vigie and leaves it alone', () => {
    const d = tmp();
    const content = JSON.stringify({ ...emptyStore(), schema: STORE_SCHEMA + 1 });
    fs.writeFileSync(path.join(d, 'store.json'), content);
    expect(() => Store.open(d)).toThrow(StoreError);
    expect(() => Store.open(d)).toThrow(new RegExp(`newer Vigie \\(store schema ${STORE_SCHEMA + 1}`));
    expect(fs.readFileSync(path.join(d, 'store.json'), 'utf8')).toBe(content);
  });

  it('is always readable after SIGKILL at random moments while it writes', async () => {
    const d = tmp();
    const writer = path.resolve(__dirname, '../helpers/store-writer.mjs');
    let kills = 0;
    for (let i = 0; i < 15; i++) {
      const child = spawn(process.execPath, [writer, d], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 200));
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      kills++;
      const s = Store.open(d);
      expect(s.opening.setAside, `after kill ${kills}`).toBeNull();
      expect(Object.keys(s.data.devices).length).toBeGreaterThan(0);
      // Leftover temporary files of the killed writer are removed at open.
      expect(fs.readdirSync(d).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    }
    expect(kills).toBe(15);
  }, 60_000);

  it('applies retention: alert age and count (least severe first), hours, mutes that ended, forgotten devices', () => {
    const d = tmp();
    const s = Store.open(d);
    const now = Date.parse('2026-11-23T12:00:00Z');
    const day = 86400e3;
    s.data.settings.retention = { alertDays: 30, maxAlerts: 10 };
    s.data.alerts.push(alert('00000000000000aa', 'critical', new Date(now - 40 * day).toISOString()));
    for (let i = 0; i < 12; i++) s.data.alerts.push(alert(`1000000000000${String(i).padStart(3, '0')}`, i < 2 ? 'low' : 'high', new Date(now - i * 3600e3).toISOString()));
    s.data.acks['00000000000000aa'] = 'x';
    s.data.aggregates['02:00:00:00:00:01'] = [{ hour: new Date(now - 40 * day).toISOString(), up: 1, down: 1 }, { hour: new Date(now - day).toISOString(), up: 2, down: 2 }];
    s.data.mutes.push({ id: 'a', created: 'x', rule: 'r', until: new Date(now - 1000).toISOString() }, { id: 'b', created: 'x', rule: 'r', until: new Date(now + day).toISOString() }, { id: 'c', created: 'x', device: 'd' });
    s.data.devices['02:00:00:00:00:02'] = { mac: '02:00:00:00:00:02', firstSeen: 'a', lastSeen: new Date(now - 400 * day).toISOString() };
    s.data.devices['02:00:00:00:00:03'] = { mac: '02:00:00:00:00:03', label: 'Kept', firstSeen: 'a', lastSeen: new Date(now - 400 * day).toISOString() };
    const dropped = s.prune(now, (a) => ['info', 'low', 'medium', 'high', 'critical'].indexOf(a.severity));
    expect(dropped.sort()).toEqual(['00000000000000aa', '1000000000000000', '1000000000000001']);
    expect(s.data.alerts).toHaveLength(10);
    expect(s.data.acks).toEqual({});
    expect(s.data.aggregates['02:00:00:00:00:01'].map((h) => h.up)).toEqual([2]);
    expect(s.data.mutes.map((m) => m.id)).toEqual(['b', 'c']);
    expect(Object.keys(s.data.devices)).toEqual(['02:00:00:00:00:03']);
  });

  it('keeps destinations for things, only hourly totals for personal devices', () => {
    const data = emptyStore();
    const flow = { id: 1, proto: 'tcp', internet: true, deviceSide: 'orig', orig: { ip: '192.168.1.2', port: 5000 }, resp: { ip: '203.0.113.9', port: 1883 }, hostname: 'broker.example', app: 'mqtt', encrypted: false, counters: { orig: { bytes: 1000 }, resp: { bytes: 200 } }, firstSeen: '2026-11-23T10:05:00.000Z', lastSeen: '2026-11-23T10:06:00.000Z' } as unknown as FlowRecord;
    recordFlow(data, 'cam', flow, { country: 'CN', org: 'Example' }, true);
    recordFlow(data, 'cam', flow, { country: 'CN', org: 'Example' }, true);
    recordFlow(data, 'phone', flow, { country: 'CN', org: 'Example' }, false);
    expect(data.aggregates.cam).toEqual([{ hour: '2026-11-23T10:00:00Z', up: 2000, down: 400, by: { country: { CN: [2000, 400] }, org: { Example: [2000, 400] }, app: { mqtt: [2000, 400] } } }]);
    expect(data.destinations.cam).toMatchObject([{ key: 'broker.example:1883', country: 'CN', app: 'mqtt', encrypted: false, up: 2000, down: 400, flows: 2 }]);
    expect(data.aggregates.phone).toEqual([{ hour: '2026-11-23T10:00:00Z', up: 1000, down: 200 }]);
    expect(data.destinations.phone).toBeUndefined();
  });
});
