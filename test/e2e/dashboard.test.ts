/**
 * The dashboard end to end, in Debian's Chromium driven by playwright-core, against
 * `vigie run --read` of a generated home capture replayed at its recorded pace (12 devices, ten
 * Dahua cameras publishing MQTT with passwords to a broker the demo config places in China; the
 * last camera joins 25 s in). Checked:
 * - before logging in, every page shows the login form and nothing else, the API answers 401;
 * - the cleartext-MQTT alert of a camera is listed with its host name and country, opens to its
 *   evidence and remediation; the device page shows the vendor and the evidence of its category;
 * - the late camera's alert appears on the open alerts page without a reload, within a second
 *   of its packet; the new device appears in the device list the same way;
 * - a label, a category and a mute made in the browser persist across a daemon restart;
 * - no request leaves the box (every request goes to the daemon), the production JavaScript is
 *   under 250 KB gzipped, controls have accessible names, text contrast is at least 4.5:1 in
 *   both themes, the pages fit a 390 px phone screen;
 * - screenshots for the README (docs/screenshots/), desktop and phone, from this run.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { colourPairs, contrast, dashboardReady, DIST, FIRST_CAMERA, freePort, homeCapture, LATE_CAMERA, launchChromium, login as loginAt, SECOND_CAMERA, SHOTS, unnamedControls, VigieDaemon } from '../helpers/dashboard.js';

const LATE_AT = 25;
const ready = dashboardReady;

/** A TCP relay to the daemon that the test can cut (every connection dropped, new ones refused). */
async function relayTo(target: number): Promise<{ origin: string; cut(on: boolean): void; close(): void }> {
  let cutting = false;
  const open = new Set<net.Socket>();
  const server = net.createServer((c) => {
    if (cutting) return c.destroy();
    const up = net.connect(target, '127.0.0.1');
    open.add(c).add(up);
    const end = () => {
      c.destroy();
      up.destroy();
      open.delete(c);
      open.delete(up);
    };
    c.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
    c.pipe(up).pipe(c);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    origin: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    cut(on) {
      cutting = on;
      if (on) for (const s of open) s.destroy();
    },
    close() {
      for (const s of open) s.destroy();
      server.close();
    },
  };
}

describe.skipIf(!ready)('the dashboard in Chromium against vigie run --read', () => {
  let capture: string;
  let port: number;
  let origin: string;
  let daemon: VigieDaemon;
  let started = 0;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const requests: string[] = [];
  const consoleErrors: string[] = [];

  async function startDaemon(speed: string): Promise<void> {
    await daemon.start(speed);
    started = daemon.started;
  }

  async function stopDaemon(): Promise<void> {
    await daemon?.stop();
  }

  async function login(p: Page, at = origin): Promise<void> {
    await loginAt(p, at);
  }

  beforeAll(async () => {
    const home = await homeCapture('vigie-e2e-', LATE_AT);
    capture = home.capture;
    port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    daemon = new VigieDaemon({ capture, stateDir: home.stateDir, host: '127.0.0.1', port });
    await startDaemon('1');
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 860 }, colorScheme: 'light' });
    context.on('request', (r) => requests.push(r.url()));
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    fs.mkdirSync(SHOTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await stopDaemon();
    if (capture) fs.rmSync(path.dirname(capture), { recursive: true, force: true });
  });

  it('shows only the login page before a session, and refuses the API', async () => {
    for (const p of ['/', '/devices', '/alerts', '/settings', `/devices/3c:ef:8c:20:00:00`]) {
      await page.goto(origin + p);
      await page.getByLabel('Administrator password').waitFor();
      const text = await page.locator('body').innerText();
      expect(text).toContain('Log in');
      expect(text).not.toMatch(/IPC-|Dahua|mqtt\.example|Overview|Devices/);
      expect(await page.locator('nav').count()).toBe(0);
    }
    const api = await page.evaluate(async () => (await fetch('/api/devices')).status);
    expect(api).toBe(401);
    await page.getByLabel('Administrator password').fill('not the password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Wrong password.' }).waitFor();
  });

  it('lists the camera publishing cleartext MQTT abroad with its host name and country', async () => {
    await login(page);
    await page.getByTestId('connection').getByText('Live').waitFor();
    await page.getByRole('link', { name: /^Alerts/ }).click();
    const item = page.locator('[data-testid=alerts] li', { hasText: FIRST_CAMERA });
    await item.waitFor({ timeout: 15_000 });
    const summary = await item.innerText();
    expect(summary).toContain('MQTT');
    expect(summary).toMatch(/critical/i);
    expect(await item.getByTestId('alert-host').innerText()).toBe('mqtt.example-iot.com');
    expect(await item.getByTestId('alert-country-short').innerText()).toBe('China');
    // Opened: evidence, the country in full, what to do.
    await item.getByRole('button').first().click();
    const detail = page.getByTestId('alert-detail');
    await detail.waitFor();
    expect(await detail.getByTestId('alert-destination').innerText()).toMatch(/mqtt\.example-iot\.com \(198\.51\.100\.\d+\) port 1883/);
    expect(await detail.getByTestId('alert-country').innerText()).toBe('China');
    const evidence = await detail.getByTestId('alert-evidence').innerText();
    expect(evidence).toMatch(/password/i);
    expect(evidence).not.toContain('secret0'); // the camera's password is never shown
    expect(await detail.locator('.remediation li').count()).toBeGreaterThan(0);
    expect(page.url()).toMatch(/\/alerts\/[0-9a-f]{16}$/);
    await page.screenshot({ path: path.join(SHOTS, 'alerts-desktop.png'), fullPage: false });
  });

  it('shows the device page with its vendor and the evidence of its category', async () => {
    await page.getByRole('link', { name: /^Devices/ }).click();
    await page.getByTestId('device-search').fill(FIRST_CAMERA);
    await page.locator('[data-testid=devices] a', { hasText: FIRST_CAMERA }).click();
    await page.getByTestId('device-name').waitFor();
    expect(await page.getByTestId('device-vendor').innerText()).toContain('Dahua');
    expect(await page.getByTestId('device-vendor').innerText()).toContain(FIRST_CAMERA);
    expect(await page.getByTestId('device-category').innerText()).toMatch(/^Camera/);
    const evidence = await page.getByTestId('device-evidence').innerText();
    expect(evidence).toContain('oui-dahua');
    expect(evidence).toMatch(/Dahua/);
    expect(evidence).toMatch(/IPC-HFW1230S/);
    // Its MQTT session is still open (the replay is running): listed already, marked open now.
    const broker = page.locator('[data-testid=destinations] tr', { hasText: 'mqtt.example-iot.com' });
    await broker.waitFor();
    expect(await broker.innerText()).toMatch(/open now[\s\S]*China[\s\S]*mqtt[\s\S]*no/);
  });

  it('receives a new alert and a new device live, within a second, without a reload', async () => {
    // The late camera's packets start LATE_AT s after the replay began: the page must be open first.
    expect(Date.now() - started, 'the previous steps took longer than the late camera waits').toBeLessThan((LATE_AT - 3) * 1000);
    await page.getByRole('link', { name: /^Alerts/ }).click();
    await page.locator('[data-testid=alerts] li', { hasText: FIRST_CAMERA }).waitFor();
    expect(await page.locator('[data-testid=alerts] li', { hasText: LATE_CAMERA }).count()).toBe(0);
    // A second dashboard, through a TCP relay the test cuts from 19 s to 30 s after the replay
    // began: the late camera's alert (~27 s) happens while it is disconnected. It must show the
    // lost connection, reconnect by itself, and get the alert from the daemon's backlog
    // (`?since=`), without a reload and without fetching the lists again.
    const relay = await relayTo(port);
    const other = await browser.newContext({ viewport: { width: 1024, height: 768 } });
    const otherRequests: { at: number; url: string }[] = [];
    other.on('request', (r) => otherRequests.push({ at: Date.now(), url: r.url() }));
    const page2 = await other.newPage();
    await login(page2, relay.origin);
    await page2.goto(relay.origin + '/alerts');
    await page2.locator('[data-testid=alerts] li', { hasText: FIRST_CAMERA }).waitFor();
    await page2.getByTestId('connection').getByText('Live').waitFor();
    const cutAt = started + 19_000;
    const restoreAt = started + 30_000;
    const cut = setTimeout(() => relay.cut(true), cutAt - Date.now());
    const restore = setTimeout(() => relay.cut(false), restoreAt - Date.now());
    const navigations: string[] = [];
    page.on('framenavigated', (f) => navigations.push(f.url()));
    // Note the moment the item enters the DOM, by the page's own clock (same machine as the daemon).
    const appeared = page.evaluate(
      (name) =>
        new Promise<number>((resolve) => {
          const list = document.querySelector('[data-testid=alerts]')!;
          const seen = () => [...list.querySelectorAll('li')].some((li) => li.textContent?.includes(name));
          new MutationObserver(() => {
            if (seen()) resolve(Date.now());
          }).observe(list, { childList: true, subtree: true, characterData: true });
        }),
      LATE_CAMERA,
    );
    const at = await appeared;
    const item = page.locator('[data-testid=alerts] li', { hasText: LATE_CAMERA });
    await item.getByRole('button').first().click();
    const text = await page.getByTestId('alert-detail').innerText();
    const firstSeen = Date.parse(
      await page.evaluate(async (n) => {
        const list = (await (await fetch('/api/alerts')).json()) as { device: { hostname: string }; firstSeen: string }[];
        return list.find((a) => a.device.hostname === n)!.firstSeen;
      }, LATE_CAMERA),
    );
    expect(text).toContain('mqtt.example-iot.com');
    // From the packet's time (replayed at now) to the browser's DOM.
    expect(at - firstSeen).toBeLessThan(1000);
    expect(navigations.filter((u) => !/\/alerts(\/|$)/.test(new URL(u).pathname))).toEqual([]);

    // The relayed dashboard: reconnecting while cut, then the missed alert from the backlog.
    try {
      await page2.getByTestId('connection').getByText(/Reconnecting/).waitFor({ timeout: 15_000 });
      expect(await page2.locator('[data-testid=alerts] li', { hasText: LATE_CAMERA }).count()).toBe(0);
      await page2.locator('[data-testid=alerts] li', { hasText: LATE_CAMERA }).waitFor({ timeout: 40_000 });
      await page2.getByTestId('connection').getByText('Live').waitFor();
      expect(Date.now()).toBeGreaterThan(restoreAt);
      const refetched = otherRequests.filter((r) => r.at > cutAt && /\/api\/(alerts|devices)(\?|$)/.test(new URL(r.url).pathname + new URL(r.url).search));
      expect(refetched).toEqual([]);
    } finally {
      clearTimeout(cut);
      clearTimeout(restore);
      await other.close();
      relay.close();
    }

    await page.getByRole('link', { name: /^Devices/ }).click();
    await page.getByTestId('device-search').fill('');
    await page.locator('[data-testid=devices] a', { hasText: LATE_CAMERA }).waitFor({ timeout: 5000 });
    await page.getByRole('link', { name: /^Overview/ }).click();
    await page.getByTestId('ticker').getByText(LATE_CAMERA).first().waitFor({ timeout: 5000 });
  }, 120_000);

  it('draws the map, the traffic and the open alerts once the replay is done', async () => {
    await page.getByText(/Replaying the capture .* \(done\)/).waitFor({ timeout: 60_000 });
    await page.reload();
    await page.getByTestId('world-map').locator('path.country').first().waitFor();
    await page.locator('[data-testid=world-map] path.country.cleartext[data-country=CN]').waitFor({ timeout: 10_000 });
    const rows = await page.getByTestId('countries').innerText();
    expect(rows).toMatch(/China/);
    expect(rows).toMatch(/United States/);
    expect(Number(await page.getByTestId('open-critical').locator('strong').innerText())).toBe(10);
    await page.locator('.chart canvas').first().waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'overview-desktop.png'), fullPage: true });
  }, 90_000);

  it('keeps a label, a category and a mute made in the browser across a daemon restart', async () => {
    await page.goto(`${origin}/devices/3c:ef:8c:20:00:00`);
    await page.getByTestId('label-input').fill('Porch camera');
    await page.getByTestId('category-select').selectOption('doorbell');
    await page.getByTestId('save-device').click();
    await page.getByRole('status').filter({ hasText: 'saved' }).waitFor();
    await page.getByTestId('device-name').getByText('Porch camera').waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'device-desktop.png'), fullPage: true });

    await page.getByRole('link', { name: /^Alerts/ }).click();
    const item = page.locator('[data-testid=alerts] li', { hasText: SECOND_CAMERA });
    await item.getByRole('button').first().click();
    await page.getByTestId('mute').click();
    await page.getByRole('status').filter({ hasText: 'Muted' }).waitFor();
    await item.locator('.badge', { hasText: /muted/i }).waitFor();
    // The open filter hides it once closed; the muted filter shows it.
    await page.goto(`${origin}/alerts`);
    await page.locator('[data-testid=alerts] li', { hasText: 'Porch camera' }).waitFor();
    expect(await page.locator('[data-testid=alerts] li', { hasText: SECOND_CAMERA }).count()).toBe(0);
    await page.getByTestId('filter-state').selectOption('muted');
    await page.locator('[data-testid=alerts] li', { hasText: SECOND_CAMERA }).getByText(/muted/i).first().waitFor();

    await stopDaemon();
    await page.getByTestId('connection').getByText(/Reconnecting/).waitFor();
    await startDaemon('0');
    // The session does not survive the restart: the page goes back to the login.
    await page.getByLabel('Administrator password').waitFor({ timeout: 40_000 });
    await login(page);
    await page.goto(`${origin}/devices/3c:ef:8c:20:00:00`);
    await page.getByTestId('device-name').getByText('Porch camera').waitFor();
    expect(await page.getByTestId('device-category').innerText()).toMatch(/^Doorbell \(set by you\)/);
    await page.goto(`${origin}/alerts?state=muted`);
    await page.locator('[data-testid=alerts] li', { hasText: SECOND_CAMERA }).waitFor();
    await page.goto(`${origin}/settings`);
    expect(await page.getByTestId('mutes').innerText()).toContain('rule mqtt-cleartext-internet, device 3c:ef:8c:20:00:01, destination mqtt.example-iot.com');
  }, 120_000);

  it('fits a phone, keeps contrast in both themes, names every control', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, colorScheme: 'dark' });
    phone.on('request', (r) => requests.push(r.url()));
    const p = await phone.newPage();
    await login(p);
    await p.getByTestId('open-critical').waitFor();
    for (const where of ['/', '/alerts', '/devices', '/devices/3c:ef:8c:20:00:00', '/settings']) {
      await p.goto(origin + where);
      await p.locator('main h1').first().waitFor();
      await p.waitForTimeout(300);
      // Nothing wider than the screen: no sideways scrolling of the page itself.
      expect(await p.evaluate(() => document.documentElement.scrollWidth), where).toBeLessThanOrEqual(390);
      const unnamed = await p.evaluate(unnamedControls);
      expect(unnamed, where).toEqual([]);
    }
    await p.goto(origin + '/');
    await p.getByTestId('world-map').locator('path.country.cleartext').first().waitFor();
    await p.screenshot({ path: path.join(SHOTS, 'overview-phone.png'), fullPage: false });
    await p.goto(origin + '/alerts');
    await p.locator('[data-testid=alerts] li').first().waitFor();
    await p.screenshot({ path: path.join(SHOTS, 'alerts-phone.png'), fullPage: false });

    // Contrast of the text that matters, in the dark theme (this context) and the light one.
    for (const pg of [p, page]) {
      await pg.goto(origin + '/alerts');
      await pg.locator('[data-testid=alerts] li').first().waitFor();
      const pairs = { theme: await pg.evaluate(() => document.documentElement.dataset.theme), out: await pg.evaluate(colourPairs, ['body', '.muted', '.badge', 'header nav a', 'header nav a[aria-current=page]', '.alert-title', '.alert-meta', 'a']) };
      for (const x of pairs.out) expect(contrast(x.fg, x.bg), `${pairs.theme}: ${x.sel} ${x.fg} on ${x.bg}`).toBeGreaterThanOrEqual(4.5);
    }
    await phone.close();
  }, 90_000);

  it('works from the keyboard alone: skip link, navigation, opening and acknowledging an alert', async () => {
    await page.goto(origin + '/');
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    // Tab along until the Alerts link has the focus, then Enter.
    for (let i = 0; i < 10 && !/^Alerts/.test((await page.evaluate(() => document.activeElement?.textContent)) ?? ''); i++) await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Alerts', level: 1 }).waitFor();
    const first = page.locator('[data-testid=alerts] li .alert-summary').first();
    await first.focus();
    // The focus ring is visible (an outline), then Enter opens the alert.
    expect(await first.evaluate((e) => getComputedStyle(e).outlineStyle)).not.toBe('none');
    await page.keyboard.press('Enter');
    await page.getByTestId('alert-detail').waitFor();
    expect(await first.getAttribute('aria-expanded')).toBe('true');
    await page.getByTestId('ack').focus();
    await page.keyboard.press('Enter');
    await page.getByRole('status').filter({ hasText: 'Acknowledged' }).waitFor();
  });

  it('asks nothing of the internet and ships under 250 KB of gzipped JavaScript', () => {
    const foreign = requests.filter((u) => !u.startsWith(origin + '/') && !u.startsWith(`ws://127.0.0.1:${port}/`) && !u.startsWith('data:'));
    expect(foreign).toEqual([]);
    expect(requests.length).toBeGreaterThan(20);
    const js = fs.readdirSync(path.join(DIST, 'assets')).filter((f) => f.endsWith('.js'));
    const gz = js.reduce((s, f) => s + zlib.gzipSync(fs.readFileSync(path.join(DIST, 'assets', f)), { level: 9 }).length, 0);
    expect(gz).toBeLessThan(250 * 1024);
    expect(consoleErrors.filter((e) => !/401|Failed to load resource|WebSocket/.test(e))).toEqual([]);
  });
});
