/**
 * Issue 16, finding 12: without a Host check, DNS rebinding makes any web page a household
 * member visits "same origin" with the dashboard (its own name now pointing at the router), so
 * that its script could log in and read the API. Only the box's own names and addresses and a
 * configured list are accepted; anything else is 421, before any authentication, on HTTP and on
 * the WebSocket upgrade. A real server (no routes needed), a real Auth, real sockets.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Auth, authPath } from '../../daemon/server/auth.js';
import { ApiServer, hostName } from '../../daemon/server/http.js';
import { LiveHub } from '../../daemon/server/live.js';

const PASSWORD = 'correct-horse-battery-staple';

describe('Host check', () => {
  let dir: string;
  let server: ApiServer;
  let auth: Auth;
  let port: number;

  const request = (host: string | null, p: string, method = 'GET', body?: string, upgrade = false) =>
    new Promise<{ status: number; text: string; cookie: string | undefined }>((resolve, reject) => {
      const headers: Record<string, string> = {};
      if (host !== null) headers.Host = host;
      if (body) headers['Content-Type'] = 'application/json';
      if (upgrade) Object.assign(headers, { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' });
      const req = http.request({ host: '127.0.0.1', port, path: p, method, headers, agent: false, setHost: host === null ? false : undefined }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, text, cookie: res.headers['set-cookie']?.[0] }));
      });
      req.on('upgrade', (res, socket) => {
        socket.destroy();
        resolve({ status: res.statusCode!, text: '', cookie: undefined });
      });
      req.on('error', reject);
      req.end(body);
    });

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-host-'));
    auth = new Auth(authPath(dir), { VIGIE_ADMIN_PASSWORD: PASSWORD });
    server = new ApiServer({ host: '127.0.0.1', port: 0, uiDir: null, routes: [], auth, hub: new LiveHub(), hello: () => ({}), metrics: async () => '', allowedHosts: ['vigie.home.arpa'] });
    port = (await server.listen()).port;
  });

  afterAll(async () => {
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reads the name of a Host header', () => {
    expect(hostName('Router.LAN.:8090')).toBe('router.lan');
    expect(hostName('[2001:DB8::1]:8090')).toBe('2001:db8::1');
    expect(hostName('[fe80::1%25eth0]')).toBe('fe80::1');
    expect(hostName('192.0.2.1')).toBe('192.0.2.1');
  });

  it("accepts the listen address, localhost, the machine's names and addresses and the configured list", async () => {
    const me = os.hostname();
    const own = Object.values(os.networkInterfaces())
      .flat()
      .filter((a) => a && !a.internal)
      .map((a) => (a!.family === 'IPv6' ? `[${a!.address}]:${port}` : `${a!.address}:${port}`));
    for (const host of [`127.0.0.1:${port}`, '127.0.0.1', `localhost:${port}`, 'LOCALHOST.', me, `${me}.lan:${port}`, `${me}.local`, 'vigie.home.arpa', `Vigie.Home.Arpa:8443`, `[::1]:${port}`, ...own]) {
      const r = await request(host, '/api/session');
      expect(r.status, host).toBe(401);
    }
    // HTTP/1.1 without Host: Node's parser refuses it (400) before the check.
    expect((await request(null, '/api/session')).status).toBe(400);
  });

  it('answers 421 to any other name, before authentication: no login, no API, no page, no WebSocket', async () => {
    const before = auth.sessionCount;
    for (const host of ['evil.example', `evil.example:${port}`, '127.0.0.1.evil.example', 'vigie.home.arpa.evil.example', `${os.hostname()}.evil.example`, '198.51.100.7', '[2001:db8::66]']) {
      const login = await request(host, '/api/session', 'POST', JSON.stringify({ password: PASSWORD }));
      expect(login.status, host).toBe(421);
      expect(login.cookie).toBeUndefined();
      expect(JSON.parse(login.text).error).toMatch(/is not a name of this box.*--allowed-host/);
      expect((await request(host, '/api/devices')).status, host).toBe(421);
      expect((await request(host, '/')).status, host).toBe(421);
      expect((await request(host, '/api/live', 'GET', undefined, true)).status, host).toBe(421);
    }
    expect(auth.sessionCount).toBe(before);
    expect(server.misdirected).toBe(28);
    // The right name still logs in.
    expect((await request(`127.0.0.1:${port}`, '/api/session', 'POST', JSON.stringify({ password: PASSWORD }))).status).toBe(200);
  });
});
