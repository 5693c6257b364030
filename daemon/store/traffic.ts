/**
 * Per-device traffic kept in the store: hourly bytes up and down (by country, organisation and
 * app, each capped), and the destinations a device talks to (capped, least recently seen go
 * first). Personal devices keep only the hourly totals unless the household opted in: Vigie
 * watches things, not people.
 */
import type { FlowRecord } from '../report/types.js';
import type { Destination, HourBucket, StoreData } from './store-data.js';
import { byText } from '../util/order.js';

/** Keys per dimension of an hour; the rest is summed under "other". */
export const MAX_KEYS = 12;
/** Destinations kept per device. */
export const MAX_DESTINATIONS = 200;
/** Hours kept per device (the retention in days trims further). */
export const MAX_HOURS = 24 * 90;

export interface FlowPlace {
  country: string | null;
  org: string | null;
}

function add(map: Record<string, [number, number]>, key: string, up: number, down: number): void {
  let k = key;
  if (!(k in map) && Object.keys(map).length >= MAX_KEYS) k = 'other';
  const v = map[k] ?? (map[k] = [0, 0]);
  v[0] += up;
  v[1] += down;
}

/** Bytes the device sent and received in a flow, and the far end (host name and port). */
export function flowSides(r: FlowRecord): { up: number; down: number; remote: FlowRecord['orig']; key: string } {
  const upSide = r.deviceSide === 'resp' ? r.counters.resp : r.counters.orig;
  const downSide = r.deviceSide === 'resp' ? r.counters.orig : r.counters.resp;
  const remote = r.deviceSide === 'resp' ? r.orig : r.resp;
  return { up: upSide.bytes, down: downSide.bytes, remote, key: `${r.hostname ?? remote.ip}:${remote.port}` };
}

/** Adds an ended flow of a LAN device to the store. `detailed`: keep where it went. */
export function recordFlow(data: StoreData, mac: string, r: FlowRecord, place: FlowPlace, detailed: boolean): void {
  const { up, down, key } = flowSides(r);
  const hour = `${r.lastSeen.slice(0, 13)}:00:00Z`;
  const hours = data.aggregates[mac] ?? (data.aggregates[mac] = []);
  let b: HourBucket | undefined = hours[hours.length - 1];
  if (!b || b.hour !== hour) {
    b = hours.find((h) => h.hour === hour);
    if (!b) {
      b = { hour, up: 0, down: 0 };
      hours.push(b);
      hours.sort((x, y) => byText(x.hour, y.hour));
      if (hours.length > MAX_HOURS) hours.splice(0, hours.length - MAX_HOURS);
    }
  }
  b.up += up;
  b.down += down;
  if (!detailed) return;
  if (r.internet) {
    const by = b.by ?? (b.by = { country: {}, org: {}, app: {} });
    add(by.country, place.country ?? 'unknown', up, down);
    add(by.org, place.org ?? 'unknown', up, down);
    add(by.app, r.app ?? r.proto, up, down);
  } else return;
  const list = data.destinations[mac] ?? (data.destinations[mac] = []);
  let d: Destination | undefined = list.find((x) => x.key === key);
  if (!d) {
    d = newDestination(r, place);
    list.push(d);
    if (list.length > MAX_DESTINATIONS) {
      list.sort((x, y) => byText(y.lastSeen, x.lastSeen));
      list.length = MAX_DESTINATIONS;
    }
  }
  addToDestination(d, r, up, down);
}

/** A destination not seen before, as a flow to it shows it (bytes are added by addToDestination). */
export function newDestination(r: FlowRecord, place: FlowPlace): Destination {
  const { remote, key } = flowSides(r);
  return { key, ip: remote.ip, port: remote.port, hostname: r.hostname, country: place.country, org: place.org, app: r.app, encrypted: r.encrypted, up: 0, down: 0, flows: 0, firstSeen: r.firstSeen, lastSeen: r.lastSeen };
}

/** One more flow to a destination: its bytes, what it was, when. */
export function addToDestination(d: Destination, r: FlowRecord, up: number, down: number): void {
  d.ip = flowSides(r).remote.ip;
  d.up += up;
  d.down += down;
  d.flows++;
  if (r.app) d.app = r.app;
  if (r.encrypted !== null) d.encrypted = r.encrypted;
  if (r.lastSeen > d.lastSeen) d.lastSeen = r.lastSeen;
  if (r.firstSeen < d.firstSeen) d.firstSeen = r.firstSeen;
}
