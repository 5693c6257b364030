/**
 * The daemon's API on a replayed corpus capture (peafowl/mqtt-1: an anonymous MQTT client
 * accepted by a broker abroad), in-process: authentication (no default password, scrypt hash,
 * cookie attributes, rate limit, bearer tokens, `vigie passwd` ending sessions), same-origin
 * checks, every route's answers and errors, metrics, the WebSocket's resync, static files.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Daemon } from '../../daemon/run/daemon.js';
import { casePath, describeCorpus } from '../helpers/corpus.js';
import { vigie } from '../helpers/cli.js';

const PASSWORD = 'correct-horse-battery-staple';

describeCorpus('daemon API', () => {
  let d: Daemon;
  let dir: string;
  let base: string;
  let cookie = '';
  const logs: string[] = [];

  const api = async (p: string, init: RequestInit & { auth?: string | null } = {}): Promise<{ status: number; body: any; headers: Headers }> => {
    const headers: Record<string, string> = { ...(init.headers as Record<string, string>) };
    const auth = init.auth === undefined ? cookie : init.auth;
    if (auth?.startsWith('vigie_') && !auth.startsWith('vigie_session=')) headers.Authorization = `Bearer ${auth}`;
    else if (auth) headers.Cookie = auth;
    if (init.body && !headers['Content-Type']) headers['Content-Type'] = 'application/json';
    const res = await fetch(new URL(p, base), { ...init, headers });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* text */
    }
    return { status: res.status, body, headers: res.headers };
  };

  const login = async (password: string, from?: string): Promise<{ status: number; cookie: string; headers: Headers }> => {
    const res = await fetch(new URL('/api/session', base), { method: 'POST', headers: { 'Content-Type': 'application/json', ...(from ? { 'X-Test': from } : {}) }, body: JSON.stringify({ password }) });
    await res.text();
    return { status: res.status, cookie: (res.headers.get('set-cookie') ?? '').split(';')[0], headers: res.headers };
  };

  /** The live feed from `since` on, until a message of type `until` arrives. */
  const liveUntil = async (since: number, until: string): Promise<{ type: string; seq?: number }[]> => {
    const messages: { type: string; seq?: number }[] = [];
    const ws = new WebSocket(base.replace('http', 'ws') + `api/live?since=${since}`, { headers: { Cookie: cookie }, origin: base.replace(/\/$/, '') });
    try {
      await new Promise<void>((resolve, reject) => {
        ws.on('message', (b) => {
          messages.push(JSON.parse(b.toString()));
          if (messages.some((m) => m.type === until)) resolve();
        });
        ws.on('error', reject);
        setTimeout(() => reject(new Error(`no ${until}: ${JSON.stringify(messages)}`)), 5000);
      });
    } finally {
      ws.close();
    }
    return messages;
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-api-'));
    d = await Daemon.start({ read: casePath('peafowl/mqtt-1'), speed: 0, filter: '', stateDir: dir, listen: '127.0.0.1', port: 0, rules: [], homeCountry: 'FR', commitInterval: 3600, uiDir: null, env: { VIGIE_ADMIN_PASSWORD: PASSWORD }, log: (m) => logs.push(m) });
    base = d.url;
    await d.replayPromise;
    const r = await login(PASSWORD);
    expect(r.status).toBe(200);
    cookie = r.cookie;
  });

  afterAll(async () => {
    await d?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('stores the password as a scrypt hash, never in clear', () => {
    const auth = fs.readFileSync(path.join(dir, 'auth.json'), 'utf8');
    expect(auth).toMatch(/"passwordHash": "scrypt\$32768\$8\$1\$/);
    expect(auth).not.toContain(PASSWORD);
    expect((fs.statSync(path.join(dir, 'auth.json')).mode & 0o777).toString(8)).toBe('600');
  });

  it('generates a password on a first start without one, and says it once', async () => {
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-api2-'));
    const said: string[] = [];
    const d2 = await Daemon.start({ read: casePath('peafowl/mqtt-1'), speed: 0, filter: '', stateDir: other, listen: '127.0.0.1', port: 0, rules: [], commitInterval: 3600, uiDir: null, env: {}, log: (m) => said.push(m) });
    await d2.replayPromise;
    const line = said.find((l) => l.includes('shown only this once'))!;
    const pw = /once: (\S+)$/.exec(line)![1];
    expect(pw).toMatch(/^[a-zA-Z2-9]{5}(-[a-zA-Z2-9]{5}){3}$/);
    const r = await fetch(new URL('/api/session', d2.url), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ password: pw }) });
    expect(r.status).toBe(200);
    await d2.stop();
    // The second start does not show it again.
    const again: string[] = [];
    const d3 = await Daemon.start({ read: casePath('peafowl/mqtt-1'), speed: 0, filter: '', stateDir: other, listen: '127.0.0.1', port: 0, rules: [], commitInterval: 3600, uiDir: null, env: {}, log: (m) => again.push(m) });
    await d3.stop();
    expect(again.join('\n')).not.toContain(pw);
    fs.rmSync(other, { recursive: true, force: true });
  });

  it('sets an HttpOnly, SameSite=Strict cookie and the security headers', async () => {
    const r = await login(PASSWORD);
    const set = r.headers.get('set-cookie')!;
    expect(set).toMatch(/^vigie_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/$/);
    expect(r.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('refuses every route without a session', async () => {
    for (const p of ['/api/devices', '/api/alerts', '/api/status', '/api/settings', '/api/mutes', '/api/tokens', '/metrics']) {
      expect((await api(p, { auth: null })).status, p).toBe(401);
    }
    expect((await api('/api/session', { auth: null })).status).toBe(401);
    expect((await api('/api/session')).body).toEqual({ authenticated: true, via: 'session' });
  });

  it('lists devices and alerts, filters alerts, acknowledges them', async () => {
    const devices = (await api('/api/devices')).body as { mac: string; risk: string }[];
    const dev = devices.find((x) => x.mac === '28:cf:e9:21:14:8f')!;
    expect(dev.risk).toBe('critical');
    const alerts = (await api('/api/alerts?severity=high')).body as { id: string; rule: string; severity: string; destination: { port: number } }[];
    expect(alerts.map((a) => [a.rule, a.severity, a.destination.port])).toEqual([['mqtt-cleartext-internet', 'critical', 1883]]);
    expect((await api('/api/alerts?severity=urgent')).status).toBe(400);
    const id = alerts[0].id;
    const acked = await api(`/api/alerts/${id}/ack`, { method: 'POST' });
    expect(acked.status).toBe(201);
    expect(acked.body.acknowledged).toMatch(/^20/);
    expect((await api('/api/alerts?state=open')).body).toEqual([]);
    expect((await api('/api/alerts?state=acknowledged')).body).toHaveLength(1);
    expect((await api(`/api/alerts/${id}/ack`, { method: 'DELETE' })).body.acknowledged).toBeNull();
    expect((await api('/api/alerts/0000000000000000')).status).toBe(404);
    expect((await api(`/api/devices/28:cf:e9:21:14:8f/alerts`)).body).toHaveLength(1);
    const dest = (await api(`/api/devices/28:cf:e9:21:14:8f/destinations`)).body;
    expect(dest.kept).toBe(true);
    expect(dest.destinations[0]).toMatchObject({ ip: '198.41.30.241', port: 1883, app: 'mqtt', encrypted: false });
  });

  it('sums where data goes by country, cleartext apart, for the overview', async () => {
    const o = (await api('/api/overview')).body;
    expect(o.devices.total).toBeGreaterThan(0);
    expect(o.devices.byCategory).toBeTypeOf('object');
    expect(o.homeCountry).toBe('FR');
    // peafowl/mqtt-1: a cleartext MQTT session to 198.41.30.241 (CA in the bundled geo data).
    const dest = (await api('/api/devices/28:cf:e9:21:14:8f/destinations')).body.destinations as { country: string; up: number; down: number; encrypted: boolean }[];
    const country = dest[0].country;
    expect(dest.every((x) => (x as unknown as { live: boolean }).live === false)).toBe(true); // the replay ended every flow
    const c = (o.countries as { country: string; up: number; down: number; cleartextUp: number; cleartextDown: number; devices: number }[]).find((x) => x.country === country)!;
    const expected = dest.filter((x) => x.country === country);
    expect(c.up).toBe(expected.reduce((s, x) => s + x.up, 0));
    expect(c.cleartextUp + c.cleartextDown).toBe(expected.filter((x) => x.encrypted === false).reduce((s, x) => s + x.up + x.down, 0));
    expect(c.cleartextUp).toBeGreaterThan(0);
    expect(c.devices).toBe(1);
    // The replay is shifted to now: its hours are within the last 7 days, and sum the device's.
    const traffic = (await api('/api/devices/28:cf:e9:21:14:8f/traffic')).body.hours as { up: number }[];
    expect(o.traffic.reduce((s: number, h: { up: number }) => s + h.up, 0)).toBeGreaterThanOrEqual(traffic.reduce((s, h) => s + h.up, 0));
    expect((await api('/api/overview?hours=0')).status).toBe(400);
  });

  it('mutes an alert and unmutes it; a mute needs something to match', async () => {
    const [a] = (await api('/api/alerts')).body as { id: string; device: { mac: string } }[];
    expect((await api('/api/mutes', { method: 'POST', body: '{}' })).status).toBe(400);
    expect((await api('/api/mutes', { method: 'POST', body: JSON.stringify({ device: a.device.mac, until: 'soon' }) })).status).toBe(400);
    const m = await api('/api/mutes', { method: 'POST', body: JSON.stringify({ device: a.device.mac, rule: 'mqtt-cleartext-internet' }) });
    expect(m.status).toBe(201);
    expect((await api(`/api/alerts/${a.id}`)).body.muted).toBe(true);
    expect((await api('/api/alerts?state=muted')).body).toHaveLength(1);
    expect((await api(`/api/mutes/${m.body.id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await api(`/api/alerts/${a.id}`)).body.muted).toBe(false);
  });

  it('plans segmentation from the learnt profile, takes the household\'s zone, refuses to apply without --allow-apply', async () => {
    const mac = '28:cf:e9:21:14:8f';
    const plan = (await api('/api/plan')).body;
    const dev = plan.devices.find((x: { mac: string }) => x.mac === mac);
    // An unidentified device speaking cleartext MQTT to the internet: the policy limits it to what it used.
    expect(dev).toMatchObject({ zone: 'iot', source: 'policy', rule: 'unknown-behaves-like-iot' });
    expect(dev.reasons[0]).toContain('it speaks MQTT to the internet');
    expect(dev.allow.ipv4).toContain('198.41.30.241');
    expect(dev.evidence.alerts[0]).toMatchObject({ rule: 'mqtt-cleartext-internet', severity: 'critical' });
    const nft = await api('/api/plan?format=nft&download');
    expect(nft.status).toBe(200);
    expect(nft.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(nft.headers.get('content-disposition')).toBe('attachment; filename="vigie.nft"');
    expect(nft.body).toContain('table inet vigie');
    expect((await api('/api/plan?format=pdf')).status).toBe(400);
    const one = (await api(`/api/devices/${mac}/plan`)).body;
    expect(one.device.zone).toBe('iot');
    expect(one.profile).toMatchObject({ mac, state: 'learning' });
    expect(one.profile.destinations.some((x: { port: number; app: string }) => x.port === 1883 && x.app === 'mqtt')).toBe(true);
    expect((await api(`/api/devices/${mac}/mud`)).body['ietf-mud:mud']).toBeTruthy();
    // The household's choice wins, is kept, and goes back to the advice with null.
    expect((await api(`/api/devices/${mac}/zone`, { method: 'PUT', body: JSON.stringify({ zone: 'dmz' }) })).status).toBe(400);
    expect((await api(`/api/devices/${mac}/zone`, { method: 'PUT', body: JSON.stringify({ zone: 'quarantine', why: 1 }) })).status).toBe(400);
    const since = (await liveUntil(0, 'hello')).find((m) => m.type === 'hello')!.seq!;
    const q = await api(`/api/devices/${mac}/zone`, { method: 'PUT', body: JSON.stringify({ zone: 'quarantine' }) });
    expect(q.body.device).toMatchObject({ zone: 'quarantine', advised: 'iot', source: 'user' });
    expect(d.store.data.devices[mac].zone).toBe('quarantine');
    expect((await liveUntil(since, 'plan')).some((m) => m.type === 'plan')).toBe(true);
    expect((await api('/api/plan')).body.zones.quarantine.devices).toContain(mac);
    await api(`/api/devices/${mac}/zone`, { method: 'PUT', body: JSON.stringify({ zone: null }) });
    expect((await api(`/api/devices/${mac}/plan`)).body.device.zone).toBe('iot');
    // Freezing and re-opening the profile.
    expect((await api(`/api/devices/${mac}/profile`, { method: 'POST', body: JSON.stringify({ learning: false }) })).body.state).toBe('frozen');
    expect((await api(`/api/devices/${mac}/profile`, { method: 'POST', body: JSON.stringify({ learning: true }) })).body.state).toBe('learning');
    expect((await api('/api/devices/02:00:00:00:00:99/profile', { method: 'POST', body: JSON.stringify({ learning: true }) })).status).toBe(404);
    // Applying needs --allow-apply.
    const st = (await api('/api/plan/state')).body;
    expect(st).toMatchObject({ allowApply: false, applied: null, pending: null, rollbackSeconds: 60 });
    expect(st.digest).toMatch(/^[0-9a-f]{16}$/);
    const refused = await api('/api/plan/apply', { method: 'POST', body: JSON.stringify({ digest: st.digest }) });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toContain('--allow-apply');
    expect((await api('/api/plan/confirm', { method: 'POST', body: '{}' })).status).toBe(403);
  });

  it('labels a device, marks it personal (and forgets its destinations), checks input', async () => {
    const mac = '28:cf:e9:21:14:8f';
    expect((await api(`/api/devices/${mac}`, { method: 'PATCH', body: JSON.stringify({ category: 'fridge' }) })).status).toBe(400);
    expect((await api(`/api/devices/${mac}`, { method: 'PATCH', body: JSON.stringify({ colour: 'red' }) })).status).toBe(400);
    const r = await api(`/api/devices/${mac}`, { method: 'PATCH', body: JSON.stringify({ label: 'Living room hub', category: 'hub' }) });
    expect(r.body).toMatchObject({ label: 'Living room hub', category: 'hub', personal: false });
    const alert = ((await api('/api/alerts')).body as { device: { label: string } }[])[0];
    expect(alert.device.label).toBe('Living room hub');
    const p = await api(`/api/devices/${mac}`, { method: 'PATCH', body: JSON.stringify({ personal: true }) });
    expect(p.body.personal).toBe(true);
    expect((await api(`/api/devices/${mac}/destinations`)).body).toMatchObject({ kept: false, destinations: [] });
    expect(d.store.data.destinations[mac]).toBeUndefined();
    expect((await api(`/api/devices/${mac}/flows`)).body.kept).toBe(false);
    await api(`/api/devices/${mac}`, { method: 'PATCH', body: JSON.stringify({ personal: null }) });
  });

  it('refuses a change from another site even with a valid cookie', async () => {
    const r = await api('/api/settings', { method: 'PUT', body: JSON.stringify({ homeCountry: 'CN' }), headers: { Origin: 'http://evil.example' } });
    expect(r.status).toBe(403);
    const s = await api('/api/settings', { method: 'PUT', body: JSON.stringify({ homeCountry: 'CN' }), headers: { 'Sec-Fetch-Site': 'cross-site' } });
    expect(s.status).toBe(403);
    expect((await api('/api/settings')).body.homeCountry).toBe('FR');
  });

  it('changes settings, refuses bad ones', async () => {
    expect((await api('/api/settings', { method: 'PUT', body: JSON.stringify({ homeCountry: 'France' }) })).status).toBe(400);
    expect((await api('/api/settings', { method: 'PUT', body: JSON.stringify({ retention: { alertDays: 0 } }) })).status).toBe(400);
    expect((await api('/api/settings', { method: 'PUT', body: 'homeCountry=DE', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } })).status).toBe(415);
    const r = await api('/api/settings', { method: 'PUT', body: JSON.stringify({ homeCountry: 'de', trustedCountries: ['eu'] }) });
    expect(r.body.homeCountry).toBe('DE');
    expect(r.body.trusted).toContain('FR');
    expect(r.body.trusted).toHaveLength(30);
    await api('/api/settings', { method: 'PUT', body: JSON.stringify({ homeCountry: 'FR', trustedCountries: null }) });
  });

  it('answers 404 and 405 for unknown routes and methods', async () => {
    expect((await api('/api/nothing')).status).toBe(404);
    expect((await api('/api/devices', { method: 'DELETE' })).status).toBe(405);
  });

  it('gives metrics to a bearer token, until the token is deleted', async () => {
    const t = await api('/api/tokens', { method: 'POST', body: JSON.stringify({ name: 'prometheus' }) });
    expect(t.body.token).toMatch(/^vigie_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/);
    // The secret is base64url and may itself hold '_': cut at the prefix, not at every '_'.
    const secret = t.body.token.slice(`vigie_${t.body.id}_`.length);
    expect(secret).toHaveLength(43);
    expect(fs.readFileSync(path.join(dir, 'auth.json'), 'utf8')).not.toContain(secret);
    const m = await api('/metrics', { auth: t.body.token });
    expect(m.status).toBe(200);
    expect(m.body).toMatch(/^vigie_packets_total 19$/m);
    expect(m.body).toMatch(/^vigie_alerts_open\{severity="critical"\} 1$/m);
    // Counted at first sight, with the severity it had then (high: CONNECT abroad; the CONNACK made it critical).
    expect(m.body).toMatch(/^vigie_alerts_raised_total\{severity="high",rule="mqtt-cleartext-internet"\} 1$/m);
    expect(m.body).toMatch(/^vigie_process_resident_memory_bytes \d+/m);
    expect((await api(`/api/tokens/${t.body.id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await api('/metrics', { auth: t.body.token })).status).toBe(401);
  });

  it('takes a MAC in a path percent-encoded as well (encodeURIComponent)', async () => {
    const r = await api('/api/devices/28%3Acf%3Ae9%3A21%3A14%3A8f');
    expect(r.status).toBe(200);
    expect(r.body.mac).toBe('28:cf:e9:21:14:8f');
    expect((await api('/api/devices/28%3Acf%3Ae9%3A21%3A14%3A8f/destinations')).body.kept).toBe(true);
  });

  it('tells a client whose sequence number is ahead (the daemon restarted) to fetch again', async () => {
    const messages = await liveUntil(999999, 'resync');
    expect(messages.map((m) => m.type)).toEqual(['hello', 'resync']);
  });

  it('replays what a reconnecting WebSocket missed', async () => {
    const messages = await liveUntil(0, 'alert');
    expect(messages[0].type).toBe('hello');
    const seqs = messages.filter((m) => m.seq !== undefined && m.type !== 'hello').map((m) => m.seq!);
    expect(seqs[0]).toBe(1);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  it('refuses a live client past the per-address cap at the upgrade: HTTP 503 with the reason, before any socket opens', async () => {
    const url = base.replace('http', 'ws') + 'api/live';
    const opts = { headers: { Cookie: cookie }, origin: base.replace(/\/$/, '') };
    const open: WebSocket[] = [];
    try {
      for (let i = 0; i < 16; i++) {
        const ws = new WebSocket(url, opts);
        await new Promise<void>((resolve, reject) => {
          ws.once('open', () => resolve());
          ws.once('error', reject);
        });
        open.push(ws);
      }
      const extra = new WebSocket(url, opts);
      const refused = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        extra.once('open', () => reject(new Error('the 17th client from one address was let in')));
        extra.once('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
      });
      expect(refused.status).toBe(503);
      expect(refused.body).toMatch(/too many live clients from 127\.0\.0\.1: 16 connected/);
      // One leaves: the next is let in again.
      open.pop()!.close();
      await new Promise((r) => setTimeout(r, 200));
      const again = new WebSocket(url, opts);
      await new Promise<void>((resolve, reject) => {
        again.once('open', () => resolve());
        again.once('unexpected-response', () => reject(new Error('refused after a client left')));
      });
      open.push(again);
    } finally {
      for (const ws of open) ws.close();
    }
  });

  it('does not serve files outside the dashboard, and says when it is not built', async () => {
    const r = await fetch(new URL('/', base));
    expect(r.status).toBe(503);
    expect(await r.text()).toMatch(/not built/);
    const ui = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-ui-'));
    fs.writeFileSync(path.join(ui, 'index.html'), '<!doctype html><title>Vigie</title>');
    const d2 = await Daemon.start({ read: casePath('peafowl/mqtt-1'), speed: 0, filter: '', stateDir: dir + '-ui', listen: '127.0.0.1', port: 0, rules: [], commitInterval: 3600, uiDir: ui, env: { VIGIE_ADMIN_PASSWORD: PASSWORD }, log: () => {} });
    expect(await (await fetch(new URL('/devices/abc', d2.url))).text()).toContain('<title>Vigie</title>');
    for (const p of ['/../../../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2fetc%2fpasswd']) {
      const res = await fetch(new URL(p, d2.url));
      expect(await res.text(), p).not.toMatch(/root:/);
    }
    expect((await fetch(new URL('/missing.js', d2.url))).status).toBe(404);
    await d2.stop();
    fs.rmSync(ui, { recursive: true, force: true });
    fs.rmSync(dir + '-ui', { recursive: true, force: true });
  });

  it('limits failed logins per address (429 with Retry-After), then `vigie passwd` ends every session', async () => {
    for (let i = 0; i < 5; i++) expect((await login('wrong-password-' + i)).status).toBe(401);
    const limited = await login(PASSWORD);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(800);
    // The session already open still works.
    expect((await api('/api/devices')).status).toBe(200);
    const r = vigie(['passwd', '--state-dir', dir], 'a-brand-new-password\n');
    expect(r.status, r.stderr).toBe(0);
    expect((await api('/api/devices')).status).toBe(401);
    expect(vigie(['passwd', '--state-dir', dir], 'short\n').stderr).toMatch(/too short/);
  });
});

describeCorpus('daemon reload (SIGHUP, uci commit)', () => {
  it('refuses a broken rule file and keeps the rules in force; takes a fixed one', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-reload-'));
    const rules = path.join(dir, 'rules');
    fs.mkdirSync(path.join(rules, 'alerts'), { recursive: true });
    const good = [
      'alerts:',
      '  - id: lab-any-mqtt',
      '    title: Any MQTT at all (lab rule)',
      '    when: { app: mqtt }',
      '    severity: low',
      '    remediation: ["Nothing to do, a lab rule."]',
      '    source: this test',
      '',
    ].join('\n');
    fs.writeFileSync(path.join(rules, 'alerts', 'lab.yaml'), good);
    const logs: string[] = [];
    const d = await Daemon.start({ read: casePath('peafowl/mqtt-1'), speed: 0, filter: '', stateDir: path.join(dir, 'state'), listen: '127.0.0.1', port: 0, rules: [rules], commitInterval: 3600, uiDir: null, env: { VIGIE_ADMIN_PASSWORD: PASSWORD }, log: (m) => logs.push(m) });
    try {
      await d.replayPromise;
      expect(d.alerts().map((a) => a.rule)).toContain('lab-any-mqtt');
      const before = d.config.verdicts!.rules.map((r) => r.id);
      // A typo: severity "urgent" is not a severity.
      fs.writeFileSync(path.join(rules, 'alerts', 'lab.yaml'), good.replace('severity: low', 'severity: urgent'));
      expect(d.reload()).toBe(false);
      expect(d.rulesError).toMatch(/lab\.yaml:5: alerts\.0\.severity: must be equal to one of the allowed values/);
      expect(logs.join('\n')).toMatch(/reload refused, the rules and settings in force stay/);
      expect(d.config.verdicts!.rules.map((r) => r.id)).toEqual(before);
      expect(d.stats().rulesError).toBe(d.rulesError);
      // Fixed: taken, error cleared; a rule removed no longer judges (its alerts stay as history).
      fs.writeFileSync(path.join(rules, 'alerts', 'lab.yaml'), 'alerts: []\n');
      expect(d.reload()).toBe(true);
      expect(d.rulesError).toBeNull();
      expect(d.config.verdicts!.rules.map((r) => r.id)).not.toContain('lab-any-mqtt');
      expect(d.alerts().map((a) => a.rule)).toContain('lab-any-mqtt');
    } finally {
      await d.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeCorpus('daemon over HTTPS (--tls-cert, --tls-key)', () => {
  it('serves the API over TLS with Secure cookies and HSTS', async () => {
    const { execFileSync } = await import('node:child_process');
    const https = await import('node:https');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=router.test', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
    const ca = fs.readFileSync(path.join(dir, 'cert.pem'));
    const d = await Daemon.start({ read: casePath('peafowl/mqtt-1'), speed: 0, filter: '', stateDir: path.join(dir, 'state'), listen: '127.0.0.1', port: 0, rules: [], commitInterval: 3600, uiDir: null, tls: { cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem') }, env: { VIGIE_ADMIN_PASSWORD: PASSWORD }, log: () => {} });
    const request = (p: string, method = 'GET', body?: string, cookie?: string) =>
      new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
        const req = https.request(new URL(p, d.url), { method, ca, headers: { ...(body ? { 'Content-Type': 'application/json' } : {}), ...(cookie ? { Cookie: cookie } : {}) } }, (res) => {
          let b = '';
          res.on('data', (c) => (b += c));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: b }));
        });
        req.on('error', reject);
        req.end(body);
      });
    try {
      expect(d.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
      expect((await request('/api/alerts')).status).toBe(401);
      const login = await request('/api/session', 'POST', JSON.stringify({ password: PASSWORD }));
      expect(login.status).toBe(200);
      const cookie = (login.headers['set-cookie'] as string[])[0];
      expect(cookie).toMatch(/; HttpOnly; SameSite=Strict; Path=\/; Secure$/);
      expect(login.headers['strict-transport-security']).toBe('max-age=31536000');
      expect((await request('/api/alerts', 'GET', undefined, cookie.split(';')[0])).status).toBe(200);
    } finally {
      await d.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
