/**
 * The privacy rule holds for a device recognised late (run/inventory-sync.ts): a phone whose
 * DHCP request (an Android host name and vendor class) comes after it has already talked to the
 * internet has its flows' destinations kept while it is unknown; once it is a phone they are
 * forgotten, as when the household marks a device personal, and no later flow adds any.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Daemon } from '../../daemon/run/daemon.js';
import { Store } from '../../daemon/store/store.js';
// @ts-expect-error plain JavaScript module without types
import { clientHello, dhcpMessage, ip4, mulberry32, PcapWriter, writeIp } from '../bench/home-capture.mjs';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-personal-later-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const MAC = [0x3c, 0x84, 0x6a, 0x00, 0x00, 0x99];
const MAC_TEXT = '3c:84:6a:00:00:99';
const ROUTER = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
const IP = ip4(192, 168, 1, 99);

/** A TLS connection from the device: handshake, ClientHello with `sni`, FIN both ways. */
function tls(w: any, t: number, server: number, sport: number, sni: string, rnd: () => number): void {
  let cs = 1000;
  let ss = 5000;
  const hello = clientHello(sni, rnd);
  const up = (dt: number, flags: number, payload: Buffer | null) => {
    writeIp(w, t + dt, MAC, ROUTER, IP, server, 6, sport, 443, payload, { seq: cs, ack: ss, flags });
    cs += (payload?.length ?? 0) + (flags & 0x03 ? 1 : 0);
  };
  const down = (dt: number, flags: number, fill: number) => {
    writeIp(w, t + dt, ROUTER, MAC, server, IP, 6, 443, sport, null, { seq: ss, ack: cs, flags, fill });
    ss += fill + (flags & 0x03 ? 1 : 0);
  };
  up(0, 0x02, null);
  down(0.01, 0x12, 0);
  up(0.02, 0x10, null);
  up(0.03, 0x18, hello);
  down(0.05, 0x18, 1200);
  up(0.06, 0x11, null);
  down(0.07, 0x11, 0);
  up(0.08, 0x10, null);
}

describe('a device recognised as personal after its first flows', () => {
  it('keeps no destinations once it is a phone', async () => {
    const file = path.join(dir, 'late-phone.pcap');
    const w = new PcapWriter(file);
    const rnd = mulberry32(7);
    const t0 = 1_790_000_000;
    // Unknown at first: two HTTPS connections to servers abroad.
    tls(w, t0, ip4(198, 51, 100, 7), 40001, 'api.example-cloud.com', rnd);
    tls(w, t0 + 1, ip4(203, 0, 113, 9), 40002, 'push.example.com', rnd);
    // Thirty seconds on, a packet of another host lets those two end (idle flows end on the
    // capture's clock) while the device is still unknown.
    writeIp(w, t0 + 30, [0x3c, 0x84, 0x6a, 0, 0, 0x98], ROUTER, ip4(192, 168, 1, 98), ip4(192, 168, 1, 1), 17, 40000, 53, Buffer.alloc(12));
    // A minute later its DHCP renewal names it: an Android phone (RFC 2132 options 12 and 60).
    const req = dhcpMessage(1, 3, 0x1234, MAC, 0, 'android-1a2b3c4d5e6f7a8b', 'android-dhcp-14');
    writeIp(w, t0 + 60, MAC, [255, 255, 255, 255, 255, 255], 0, 0xffffffff, 17, 68, 67, req);
    // Then more traffic, which must not be kept either.
    tls(w, t0 + 120, ip4(198, 51, 100, 8), 40003, 'photos.example.com', rnd);
    w.close();

    const logs: string[] = [];
    // What the store is given as each flow ends: the replay (30 packets, as fast as possible)
    // runs inside start(), before anything could be looked at from here.
    const kept: (string | null)[] = [];
    const recordFlow = Store.prototype.recordFlow;
    Store.prototype.recordFlow = function (this: Store, mac, r, place, detailed) {
      if (mac === MAC_TEXT && detailed) kept.push(r.hostname);
      recordFlow.call(this, mac, r, place, detailed);
    };
    const d = await Daemon.start({ read: file, speed: 0, filter: '', stateDir: path.join(dir, 'state'), listen: '127.0.0.1', port: 0, rules: [], homeCountry: 'FR', commitInterval: 3600, uiDir: null, env: { VIGIE_ADMIN_PASSWORD: 'correct-horse-battery-staple' }, log: (m) => logs.push(m) });
    try {
      await d.replayPromise;
      Store.prototype.recordFlow = recordFlow;
      // The flows of the unknown device were kept in detail when they ended, the later one not...
      expect(kept.sort()).toEqual(['api.example-cloud.com', 'push.example.com']);
      // ...and the once-a-second sync forgets them once the device is a phone.
      await new Promise((r) => setTimeout(r, 2500));
      expect(d.store.storedDevice(MAC_TEXT)?.record?.category).toBe('phone');
      expect(d.store.data.destinations[MAC_TEXT] ?? []).toEqual([]);
      expect((d.store.hourly(MAC_TEXT) ?? []).every((h) => h.by === undefined)).toBe(true);
    } finally {
      Store.prototype.recordFlow = recordFlow;
      await d.stop();
    }
  });
});
