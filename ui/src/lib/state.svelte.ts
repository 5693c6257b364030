// What the dashboard knows, kept current by the daemon's live feed (`/api/live`, docs/api.md):
// lists are fetched once, then every `alert` and `device` message updates them in place. After
// a reconnect the daemon replays what was missed (`?since=SEQ`) or says `resync`, and a daemon
// that restarted (another `started`) is fetched again whole.
import { call } from './api';
import type { AlertView, DeviceView, LiveMessage, Status } from './types';
import { deviceName, severityRank } from './format';

export type Connection = 'connecting' | 'live' | 'reconnecting' | 'offline';

export interface TickerItem {
  key: string;
  at: string;
  kind: 'alert' | 'device';
  text: string;
  href: string;
  severity: string | null;
}

export const app = $state({
  auth: 'unknown' as 'unknown' | 'in' | 'out',
  devices: [] as DeviceView[],
  alerts: [] as AlertView[],
  status: null as Status | null,
  connection: 'offline' as Connection,
  /** Seconds until the next attempt, while reconnecting. */
  retryIn: 0,
  ticker: [] as TickerItem[],
  /** Bumped whenever lists were refetched or changed: pages that hold their own data reload. */
  version: 0,
  /** Bumped by a `plan` message (a zone chosen, learning re-opened or frozen, elsewhere too). */
  planVersion: 0,
  loaded: false,
});

const TICKER = 12;
let seq: number | null = null;
let started: string | null = null;
let ws: WebSocket | null = null;
let backoff = 500;
let timer: ReturnType<typeof setTimeout> | null = null;
let countdown: ReturnType<typeof setInterval> | null = null;
let stopped = true;

export function sortAlerts(list: AlertView[]): AlertView[] {
  return list.sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || b.lastSeen.localeCompare(a.lastSeen));
}

export async function refresh(): Promise<void> {
  const [devices, alerts, status] = await Promise.all([call('devices'), call('alerts', { query: { limit: 2000 } }), call('status')]);
  app.devices = devices;
  app.alerts = sortAlerts(alerts);
  app.status = status;
  // A fresh page starts its ticker with the latest alerts and devices, then goes on live.
  if (app.ticker.length === 0) {
    const items: TickerItem[] = [
      ...alerts.filter((a) => !a.muted).map((a) => ({ key: `a${a.id}`, at: a.firstSeen, kind: 'alert' as const, text: `${a.title} — ${deviceName(a.device)}`, href: `/alerts/${a.id}`, severity: a.severity })),
      ...devices.map((d) => ({ key: `d${d.mac ?? d.id}`, at: d.firstSeen, kind: 'device' as const, text: newDeviceText(d), href: `/devices/${encodeURIComponent(d.mac ?? d.id)}`, severity: null })),
    ];
    app.ticker = items.sort((a, b) => b.at.localeCompare(a.at)).slice(0, TICKER);
  }
  app.loaded = true;
  app.version++;
}

function newDeviceText(d: DeviceView): string {
  return `New device: ${deviceName(d)}${d.record?.vendor ? ` (${d.record.vendor})` : ''}`;
}

function tick(item: TickerItem): void {
  app.ticker = [item, ...app.ticker.filter((t) => t.key !== item.key)].slice(0, TICKER);
}

function onAlert(a: AlertView, isNew: boolean): void {
  const i = app.alerts.findIndex((x) => x.id === a.id);
  if (i >= 0) app.alerts[i] = a;
  else app.alerts.push(a);
  sortAlerts(app.alerts);
  if (isNew && !a.muted) tick({ key: `a${a.id}`, at: a.lastSeen, kind: 'alert', text: `${a.title} — ${deviceName(a.device)}`, href: `/alerts/${a.id}`, severity: a.severity });
  app.version++;
}

function onDevice(d: DeviceView, isNew: boolean): void {
  const key = d.mac ?? d.id;
  const i = app.devices.findIndex((x) => (x.mac ?? x.id) === key);
  if (i >= 0) app.devices[i] = d;
  else app.devices.unshift(d);
  if (isNew) tick({ key: `d${key}`, at: d.lastSeen, kind: 'device', text: newDeviceText(d), href: `/devices/${encodeURIComponent(key)}`, severity: null });
  app.version++;
}

function handle(m: LiveMessage): void {
  if ((m.type === 'alert' || m.type === 'device' || m.type === 'plan') && m.seq !== undefined) seq = m.seq;
  switch (m.type) {
    case 'hello': {
      const restarted = started !== null && m.started !== started;
      started = m.started;
      if (seq === null || restarted) {
        seq = m.seq;
        void refresh();
      }
      break;
    }
    case 'alert':
      onAlert(m.alert, m.new);
      break;
    case 'device':
      onDevice(m.device, m.new);
      break;
    case 'stats': {
      const { type: _type, ...status } = m;
      void _type;
      app.status = status;
      break;
    }
    case 'replay':
      if (app.status?.replay) app.status.replay.done = m.done;
      break;
    case 'plan':
      app.planVersion++;
      break;
    case 'resync':
      if (m.seq !== undefined) seq = m.seq;
      void refresh();
      break;
  }
}

function connect(): void {
  if (stopped) return;
  app.connection = seq === null ? 'connecting' : 'reconnecting';
  const proto = location.protocol === 'https:' ? 'wss' : 'ws';
  const socket = new WebSocket(`${proto}://${location.host}/api/live${seq !== null ? `?since=${seq}` : ''}`);
  ws = socket;
  socket.onopen = () => {
    backoff = 500;
    app.connection = 'live';
  };
  socket.onmessage = (e) => {
    try {
      handle(JSON.parse(e.data as string) as LiveMessage);
    } catch {
      /* a message this version does not know: ignored */
    }
  };
  socket.onclose = () => {
    if (ws !== socket) return;
    ws = null;
    if (stopped) return;
    app.connection = 'reconnecting';
    // The upgrade is refused without a session: find out whether we were logged out.
    call('session').catch(() => {});
    // Exponential backoff with jitter, 0.5 s to 30 s.
    const wait = Math.min(30_000, backoff) * (0.75 + Math.random() * 0.5);
    backoff = Math.min(30_000, backoff * 2);
    app.retryIn = Math.ceil(wait / 1000);
    if (countdown) clearInterval(countdown);
    countdown = setInterval(() => (app.retryIn = Math.max(0, app.retryIn - 1)), 1000);
    timer = setTimeout(() => {
      if (countdown) clearInterval(countdown);
      connect();
    }, wait);
  };
}

export function startLive(): void {
  if (!stopped) return;
  stopped = false;
  connect();
}

/** Reconnect now (the "retry" button, or the page coming back to the foreground). */
export function reconnectNow(): void {
  if (stopped || ws) return;
  if (timer) clearTimeout(timer);
  if (countdown) clearInterval(countdown);
  backoff = 500;
  connect();
}

export function stopLive(): void {
  stopped = true;
  if (timer) clearTimeout(timer);
  if (countdown) clearInterval(countdown);
  ws?.close();
  ws = null;
  seq = null;
  started = null;
  app.connection = 'offline';
  app.devices = [];
  app.alerts = [];
  app.status = null;
  app.ticker = [];
  app.loaded = false;
}
