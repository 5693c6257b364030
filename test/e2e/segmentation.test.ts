/**
 * The Segmentation page end to end, in Debian's Chromium against `vigie run --read` of the same
 * generated home as dashboard.test.ts (its setup is test/helpers/dashboard.ts). Checked:
 * - the ten Dahua cameras are restricted (quarantine, or local-only when a LAN device watches
 *   them), each with a reason naming the camera and its alert; nothing is applied, so the page
 *   says what would change; applying is off and the page says how to turn it on;
 * - the nftables output holds `table inet vigie`; Copy puts exactly that text on the clipboard;
 *   every output (nft, dnsmasq, UCI firewall and dhcp, a camera's MUD file) downloads as an
 *   attachment;
 * - an alert's remediation link opens the plan at its device: highlighted, scrolled to, focused,
 *   its evidence open with a link back to that alert;
 * - the zone chosen on the device page reaches an open Segmentation page live (no reload) as
 *   "chosen by the household", and goes back to the policy's advice; learning frozen and re-opened;
 * - 390 px without sideways scrolling, named controls, contrast in both themes;
 * - with --allow-apply, only inside network namespaces made here (the daemon in one, Chromium in
 *   another, joined by a veth: the machine's own ruleset is never touched): Apply shows a
 *   countdown that runs down and, unconfirmed, the rules go away by themselves; Apply then
 *   Confirm keeps them past the deadline. Deleting the namespaces removes their nftables state.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { CHROMIUM, colourPairs, contrast, dashboardReady, DEMO_CONFIG, FIRST_CAMERA, freePort, homeCapture, launchChromium, login, SHOTS, unnamedControls, VigieDaemon } from '../helpers/dashboard.js';
import { canMakeNamespaces, TestNet } from '../helpers/netns.js';

const RESTRICTED = ['quarantine', 'local-only'];
const ROLLBACK_SECONDS = 12;

describe.skipIf(!dashboardReady)('the Segmentation page in Chromium against vigie run --read', () => {
  let home: Awaited<ReturnType<typeof homeCapture>>;
  let daemon: VigieDaemon;
  let origin: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  /** The first camera's MAC address, read from the page. */
  let mac = '';
  const requests: string[] = [];
  const consoleErrors: string[] = [];

  /** A device's card, by the name in its heading (other cards may name it as a LAN peer). */
  const cardOf = (p: Page, name: string | RegExp): Locator => p.locator('[data-testid=plan-device]').filter({ has: p.locator('.plan-device-head', { hasText: name }) });

  beforeAll(async () => {
    home = await homeCapture('vigie-e2e-seg-', 25);
    const port = await freePort();
    daemon = new VigieDaemon({ capture: home.capture, stateDir: home.stateDir, host: '127.0.0.1', port });
    origin = daemon.origin;
    await daemon.start('max');
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 860 }, colorScheme: 'light' });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
    context.on('request', (r) => requests.push(r.url()));
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    await login(page, origin);
    // Every camera and its alert are known once the replay (as fast as possible) is over.
    await page.getByText(/Replaying the capture .* \(done\)/).waitFor({ timeout: 60_000 });
    fs.mkdirSync(SHOTS, { recursive: true });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await daemon?.stop();
    if (home) fs.rmSync(home.dir, { recursive: true, force: true });
  });

  it('puts the cameras in quarantine with a reason naming the camera and its alert', async () => {
    await page.getByRole('link', { name: /^Segmentation/ }).click();
    await page.getByRole('heading', { name: 'Segmentation', level: 1 }).waitFor();
    const card = cardOf(page, FIRST_CAMERA);
    await card.waitFor();
    mac = (await card.getAttribute('data-mac'))!;
    expect(mac).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    const zone = (await card.locator('.plan-device-head [data-zone]').getAttribute('data-zone'))!;
    expect(RESTRICTED).toContain(zone);
    expect(await page.getByTestId(`zone-${zone}`).locator(`[data-mac="${mac}"]`).count()).toBe(1);
    // All ten cameras, each in a restricted zone's section.
    const cameras = cardOf(page, /IPC-/);
    expect(await cameras.count()).toBe(10);
    for (const z of await cameras.locator('.plan-device-head [data-zone]').evaluateAll((els) => els.map((e) => e.getAttribute('data-zone')))) expect(RESTRICTED).toContain(z);

    // The reason names the camera and the alert that put it there (its title, as the alert page shows it).
    const alert = await page.evaluate(async (name) => {
      const list = (await (await fetch('/api/alerts')).json()) as { id: string; rule: string; title: string; device: { hostname: string } }[];
      return list.find((a) => a.device.hostname === name && a.rule === 'mqtt-cleartext-internet')!;
    }, FIRST_CAMERA);
    const reasons = await card.getByTestId('plan-reasons').innerText();
    expect(reasons).toContain(FIRST_CAMERA);
    expect(reasons).toContain(alert.title);
    expect(await card.getByTestId('plan-source').innerText()).toMatch(/^Advised by the policy \(rule camera-alert/);
    // Nothing applied: every restricted device would change, and the page says how many.
    expect(await page.getByTestId('in-force').innerText()).toMatch(/Nothing is applied on this router/);
    expect(await card.getByTestId('plan-change').innerText()).toMatch(/Trusted on the router now, (Quarantine|Local only) once applied/);
    const restricted = await page.locator('[data-testid=plan-device]').evaluateAll((els) => els.filter((e) => e.querySelector('.plan-device-head [data-zone]')?.getAttribute('data-zone') !== 'trusted').length);
    expect(Number(await page.getByTestId('change-count').innerText())).toBe(restricted);
    // Applying is off here: how to turn it on, and the command-line way.
    expect(await page.getByTestId('apply').count()).toBe(0);
    const off = await page.getByTestId('apply-off').innerText();
    expect(off).toContain('vigie run --allow-apply');
    expect(off).toContain('CAP_NET_ADMIN');
    const cli = await page.getByTestId('apply-panel').locator('pre.output').innerText();
    expect(cli).toMatch(/vigie segment --state-dir \S+ --format nft/);
    expect(cli).toMatch(/vigie segment --state-dir \S+ --apply/);
    expect(cli).toContain('vigie segment --confirm');
    expect(await page.getByTestId('caveats').innerText()).toMatch(/client isolation/);
    // Evidence: the alert links to the alert page; where it goes, with country and cleartext.
    await card.locator('details > summary').click();
    expect(await card.getByTestId('plan-alerts').locator(`a[href="/alerts/${alert.id}"]`).count()).toBe(1);
    const planned = await page.evaluate(async (m) => ((await (await fetch('/api/plan')).json()) as { devices: { mac: string; evidence: { destinations: { host: string }[] } }[] }).devices.find((d) => d.mac === m)!.evidence.destinations, mac);
    const rows = card.getByTestId('plan-destinations').locator('tbody tr');
    expect(planned.length).toBeGreaterThan(0);
    expect(await rows.count()).toBe(planned.length);
    const firstRow = await rows.first().innerText();
    expect(firstRow).toContain(planned[0].host);
    expect(firstRow).toMatch(/United States|France|China/);
    expect(firstRow).toMatch(/\b(encrypted|cleartext)\b/);
    expect(firstRow).toMatch(/learned|new after freezing/);
  });

  it('shows the nftables rules, copies them and downloads every output as an attachment', async () => {
    const nft = page.getByTestId('out-nft');
    const pre = nft.locator('pre.output');
    await pre.waitFor();
    const text = (await pre.textContent())!;
    expect(text).toContain('table inet vigie');
    expect(text.toLowerCase()).toContain(mac);
    // From the keyboard: the Copy button takes the focus and Enter copies.
    const copy = nft.getByTestId('copy');
    await nft.locator('summary').focus();
    await page.keyboard.press('Tab');
    expect(await copy.evaluate((e) => document.activeElement === e)).toBe(true);
    expect(await copy.evaluate((e) => getComputedStyle(e).outlineStyle)).not.toBe('none');
    await page.keyboard.press('Enter');
    await nft.locator('[data-testid=copy][data-state=copied]').waitFor();
    expect(await copy.innerText()).toMatch(/Copied/);
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(text);

    // A real download from the link, then each output's answer.
    const [download] = await Promise.all([page.waitForEvent('download'), nft.getByTestId('download').click()]);
    expect(download.suggestedFilename()).toBe('vigie.nft');
    expect(fs.readFileSync((await download.path())!, 'utf8')).toBe(text);
    for (const [id, name] of [
      ['out-dnsmasq', 'vigie-dnsmasq.conf'],
      ['out-uci-firewall', 'firewall.vigie'],
      ['out-uci-dhcp', 'dhcp.vigie'],
    ] as const) {
      const out = page.getByTestId(id);
      await out.locator('summary').click();
      await out.locator('pre.output').waitFor();
      const href = (await out.getByTestId('download').getAttribute('href'))!;
      expect(href).toMatch(/[?&]download$/);
      const r = await context.request.get(origin + href);
      expect(r.status(), href).toBe(200);
      expect(r.headers()['content-disposition']).toBe(`attachment; filename="${name}"`);
      expect(await r.text()).toBe(await out.locator('pre.output').textContent());
    }
    // The first camera's MUD file: JSON, for that device, downloadable.
    await page.getByLabel('MUD file (RFC 8520) of').selectOption(mac);
    const mud = page.getByTestId('out-mud');
    await mud.locator('summary').click();
    const mudText = (await mud.locator('pre.output').textContent())!;
    expect(Object.keys(JSON.parse(mudText))).toContain('ietf-mud:mud');
    const r = await context.request.get(origin + (await mud.getByTestId('download').getAttribute('href'))!);
    expect(r.status()).toBe(200);
    expect(r.headers()['content-disposition']).toMatch(/^attachment; filename="[^"]+\.json"$/);
    expect(JSON.parse(await r.text())).toEqual(JSON.parse(mudText));
  });

  it('follows an alert\'s remediation link to the plan of its device, highlighted', async () => {
    await page.getByRole('link', { name: /^Alerts/ }).click();
    const item = page.locator('[data-testid=alerts] li', { hasText: FIRST_CAMERA });
    await item.getByRole('button').first().click();
    await page.getByTestId('alert-detail').waitFor();
    const alertId = /\/alerts\/([0-9a-f]{16})$/.exec(page.url())![1];
    await page.getByTestId('alert-plan-link').getByText('See the segmentation plan for this device').click();
    await page.getByRole('heading', { name: 'Segmentation', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/segmentation');
    expect(new URL(page.url()).searchParams.get('device')).toBe(mac);
    const card = page.locator(`[data-testid=plan-device][data-mac="${mac}"]`);
    await card.waitFor();
    expect(await card.getAttribute('aria-current')).toBe('true');
    expect(await page.locator('.plan-device.highlight').count()).toBe(1);
    expect(await card.evaluate((e) => e.classList.contains('highlight'))).toBe(true);
    // Scrolled to (it is far down the page) and focused.
    await expect.poll(() => card.evaluate((e) => document.activeElement === e)).toBe(true);
    const box = (await card.boundingBox())!;
    expect(await page.evaluate(() => scrollY)).toBeGreaterThan(0);
    expect(box.y).toBeGreaterThanOrEqual(0);
    expect(box.y).toBeLessThan(860);
    // Its evidence is open, with the alert it came from.
    expect(await card.locator('details').first().getAttribute('open')).not.toBeNull();
    await page.screenshot({ path: path.join(SHOTS, 'segmentation-desktop.png'), fullPage: false });
    await card.getByTestId('plan-alerts').locator(`a[href="/alerts/${alertId}"]`).click();
    await page.getByTestId('alert-detail').waitFor();
    expect(page.url()).toBe(`${origin}/alerts/${alertId}`);
  });

  it('takes the zone chosen on the device page, live on an open Segmentation page', async () => {
    const other = await context.newPage();
    await other.goto(origin + '/segmentation');
    const otherCard = other.locator(`[data-testid=plan-device][data-mac="${mac}"]`);
    await otherCard.waitFor();
    const advised = (await otherCard.locator('.plan-device-head [data-zone]').getAttribute('data-zone'))!;
    expect(RESTRICTED).toContain(advised);
    const navigations: string[] = [];
    other.on('framenavigated', (f) => navigations.push(f.url()));

    await page.goto(`${origin}/devices/${mac}`);
    const section = page.getByTestId('device-plan');
    await section.getByTestId('device-plan-reasons').waitFor();
    expect(await section.getByTestId('device-plan-reasons').innerText()).toContain(FIRST_CAMERA);
    expect(await section.getByTestId('device-zone-source').innerText()).toMatch(/^Advised by the policy/);
    await page.getByLabel('Zone for this device').selectOption('iot');
    const saved = section.getByTestId('device-plan-message');
    await saved.filter({ hasText: 'Saved' }).waitFor();
    expect(await saved.innerText()).toMatch(/is in IoT in the plan \(chosen by the household; the policy advises (quarantine|local only)\)/);
    expect(await section.getByTestId('device-zone-source').innerText()).toMatch(/^Chosen by the household; the policy advises (Quarantine|Local only)/);

    // The other page moved the camera to IoT by itself, on the daemon's `plan` message.
    await other.getByTestId('zone-iot').locator(`[data-mac="${mac}"]`).waitFor({ timeout: 10_000 });
    expect(await other.getByTestId(`zone-${advised}`).locator(`[data-mac="${mac}"]`).count()).toBe(0);
    expect(await other.locator(`[data-mac="${mac}"] [data-testid=plan-source]`).innerText()).toMatch(/^Chosen by the household; the policy advises (Quarantine|Local only)/);
    expect(navigations).toEqual([]);
    await other.close();

    // The device page's link opens the plan at the device.
    await section.getByTestId('device-plan-link').click();
    const card = page.locator(`[data-testid=plan-device][data-mac="${mac}"]`);
    await card.waitFor();
    expect(await card.getAttribute('aria-current')).toBe('true');
    expect(await page.getByTestId('zone-iot').locator(`[data-mac="${mac}"]`).count()).toBe(1);
    expect(await card.getByTestId('plan-source').innerText()).toMatch(/chosen by the household/i);

    // Back to the policy's advice.
    await page.goto(`${origin}/devices/${mac}`);
    await section.getByTestId('device-plan-reasons').waitFor();
    expect(await page.getByLabel('Zone for this device').inputValue()).toBe('iot');
    await page.getByLabel('Zone for this device').selectOption('');
    await saved.filter({ hasText: 'Saved' }).waitFor();
    expect(await section.getByTestId('device-zone-source').innerText()).toMatch(/^Advised by the policy/);
    expect(await section.locator('.device-zone [data-zone]').getAttribute('data-zone')).toBe(advised);
  });

  it('freezes a profile and re-opens its learning from the device page', async () => {
    const section = page.getByTestId('device-plan');
    const state = section.getByTestId('profile-state');
    expect(await state.innerText()).toMatch(/^Learning since/);
    await section.getByTestId('freeze').click();
    await section.getByTestId('device-plan-message').filter({ hasText: 'Frozen' }).waitFor();
    await state.filter({ hasText: /^Frozen since .*, with \d+ changes? since/ }).waitFor();
    const api = async () => page.evaluate(async (m) => ((await (await fetch(`/api/devices/${m}/plan`)).json()) as { profile: { state: string } }).profile.state, mac);
    expect(await api()).toBe('frozen');
    await section.getByTestId('reopen').click();
    await section.getByTestId('device-plan-message').filter({ hasText: 'Learning again' }).waitFor();
    await state.filter({ hasText: /^Learning since/ }).waitFor();
    expect(await api()).toBe('learning');
  });

  it('fits a phone, names every control, keeps contrast in both themes', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, colorScheme: 'dark' });
    phone.on('request', (r) => requests.push(r.url()));
    const p = await phone.newPage();
    await login(p, origin);
    for (const where of ['/segmentation', `/segmentation?device=${mac}`, `/devices/${mac}`]) {
      await p.goto(origin + where);
      await p.locator('main h1').first().waitFor();
      if (where.startsWith('/segmentation')) {
        const pre = p.getByTestId('out-nft').locator('pre.output');
        await pre.waitFor();
        // The nft text is wider than the phone: it scrolls inside its own box.
        expect(await pre.evaluate((e) => e.scrollWidth > e.clientWidth && getComputedStyle(e).overflowX === 'auto')).toBe(true);
      } else await p.getByTestId('device-plan-reasons').waitFor();
      await p.waitForTimeout(300);
      expect(await p.evaluate(() => document.documentElement.scrollWidth), where).toBeLessThanOrEqual(390);
      expect(await p.evaluate(unnamedControls), where).toEqual([]);
    }

    for (const pg of [p, page]) {
      await pg.goto(`${origin}/segmentation?device=${mac}`);
      await pg.getByTestId('out-nft').locator('pre.output').waitFor();
      const theme = await pg.evaluate(() => document.documentElement.dataset.theme);
      const pairs = await pg.evaluate(colourPairs, ['body', '.lead', '.zone', '.plan-device .muted', '.plan-device.highlight [data-testid=plan-source]', '.plan-device a', '.plan-change', '.reasons li', 'summary', 'pre.output', '.copy-text a', '.note', 'header nav a[aria-current=page]']);
      expect(pairs.length, theme).toBeGreaterThanOrEqual(12);
      for (const x of pairs) expect(contrast(x.fg, x.bg), `${theme}: ${x.sel} ${x.fg} on ${x.bg}`).toBeGreaterThanOrEqual(4.5);
    }
    await phone.close();
  }, 60_000);

  it('asks nothing of the internet', () => {
    const port = new URL(origin).port;
    const foreign = requests.filter((u) => !u.startsWith(origin + '/') && !u.startsWith(`ws://127.0.0.1:${port}/`) && !u.startsWith('data:') && !u.startsWith('blob:'));
    expect(foreign).toEqual([]);
    expect(requests.some((u) => u.includes('/api/plan?format=nft'))).toBe(true);
    expect(consoleErrors.filter((e) => !/401|Failed to load resource|WebSocket/.test(e))).toEqual([]);
  });
});

const netnsReady = dashboardReady && canMakeNamespaces() && fs.existsSync('/usr/sbin/nft');

describe.skipIf(!netnsReady)('Apply and Confirm with --allow-apply, inside network namespaces', () => {
  it('counts down after Apply, rolls back unconfirmed, and keeps the rules once confirmed', async () => {
    const tn = new TestNet('vgseg-');
    const home = await homeCapture('vigie-e2e-apply-', 25);
    try {
      // The daemon's namespace loads the rules; Chromium's reaches it over a veth. Both go with tn.
      const client = tn.ns('client');
      const router = tn.ns('router');
      tn.link(client, 'vgseg-c', '10.77.0.1/30', router, 'vgseg-r', '10.77.0.2/30');
      const config = path.join(home.dir, 'vigie.yaml');
      fs.writeFileSync(config, `${fs.readFileSync(DEMO_CONFIG, 'utf8')}\nsegment:\n  rollbackSeconds: ${ROLLBACK_SECONDS}\n`);
      const daemon = new VigieDaemon({ capture: home.capture, stateDir: home.stateDir, host: '10.77.0.2', port: 8090, config, args: ['--allow-apply'], prefix: ['ip', 'netns', 'exec', router] });
      const chromium = path.join(home.dir, 'chromium-in-netns');
      fs.writeFileSync(chromium, `#!/bin/sh\nexec ip netns exec ${client} ${CHROMIUM} "$@"\n`, { mode: 0o755 });
      const loaded = (): boolean => {
        try {
          tn.exec(router, ['nft', 'list', 'table', 'inet', 'vigie']);
          return true;
        } catch {
          return false;
        }
      };
      const hostHasTable = (): boolean => {
        try {
          execFileSync('nft', ['list', 'table', 'inet', 'vigie'], { stdio: 'ignore' });
          return true;
        } catch {
          return false;
        }
      };
      const hostBefore = hostHasTable();

      await daemon.start('max');
      const browser = await launchChromium(chromium);
      try {
        const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
        const requests: string[] = [];
        context.on('request', (r) => requests.push(r.url()));
        const p = await context.newPage();
        await login(p, daemon.origin);
        await p.getByText(/Replaying the capture .* \(done\)/).waitFor({ timeout: 60_000 });
        await p.goto(daemon.origin + '/segmentation');
        await cardIn(p, RESTRICTED).first().waitFor();
        expect(await p.getByTestId('apply-off').count()).toBe(0);
        expect(loaded()).toBe(false);

        // http://10.77.0.2 is not a secure context: no clipboard API, so Copy selects the text.
        const nft = p.getByTestId('out-nft');
        await nft.locator('pre.output').waitFor();
        await nft.getByTestId('copy').click();
        await nft.locator('[data-testid=copy][data-state=selected]').waitFor();
        // (The selection's text leaves out the final newline.)
        expect(await p.evaluate(() => String(getSelection()))).toBe((await nft.locator('pre.output').textContent())!.trimEnd());

        // Apply, then let the countdown run out: the rules go away by themselves.
        await p.getByTestId('apply').click();
        const left = p.getByTestId('seconds-left');
        await left.waitFor();
        const first = Number(await left.innerText());
        expect(first).toBeGreaterThan(0);
        expect(first).toBeLessThanOrEqual(ROLLBACK_SECONDS);
        expect(loaded()).toBe(true);
        expect(await p.getByTestId('countdown').innerText()).toMatch(/Without confirmation the previous rules come back by themselves/);
        await expect.poll(async () => Number(await left.innerText()), { timeout: 5000 }).toBeLessThan(first);
        await p.getByTestId('apply-message').filter({ hasText: 'Not confirmed in time' }).waitFor({ timeout: (ROLLBACK_SECONDS + 15) * 1000 });
        expect(await p.getByTestId('countdown').count()).toBe(0);
        expect(loaded()).toBe(false);
        expect(await p.getByTestId('in-force').innerText()).toMatch(/was not confirmed: the rules from before it came back by themselves/);

        // Apply and confirm: the countdown ends, the rules stay past the deadline.
        await p.getByTestId('apply').click();
        await left.waitFor();
        expect(loaded()).toBe(true);
        await p.getByTestId('confirm').click();
        await p.getByTestId('apply-message').filter({ hasText: 'Confirmed: the rules stay.' }).waitFor();
        expect(await p.getByTestId('countdown').count()).toBe(0);
        expect(await p.getByTestId('in-force').innerText()).toMatch(/This plan is in force: applied .*, confirmed /);
        expect(await p.getByTestId('plan-change').count()).toBe(0);
        await p.waitForTimeout((ROLLBACK_SECONDS + 2) * 1000);
        expect(loaded()).toBe(true);
        const state = await p.evaluate(async () => (await (await fetch('/api/plan/state')).json()) as { pending: unknown; applied: { confirmed: string | null; digest: string }; digest: string });
        expect(state.pending).toBeNull();
        expect(state.applied.confirmed).not.toBeNull();
        expect(state.applied.digest).toBe(state.digest);

        const foreign = requests.filter((u) => !u.startsWith(daemon.origin + '/') && !u.startsWith('ws://10.77.0.2:8090/') && !u.startsWith('data:') && !u.startsWith('blob:'));
        expect(foreign).toEqual([]);
      } finally {
        await browser.close();
        await daemon.stop();
      }
      // The machine's own ruleset was never the one changed.
      expect(hostHasTable()).toBe(hostBefore);
    } finally {
      tn.destroy();
      fs.rmSync(home.dir, { recursive: true, force: true });
    }
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toContain('vgseg-');
  }, 240_000);
});

function cardIn(p: Page, zones: string[]): Locator {
  return p.locator(zones.map((z) => `[data-testid=zone-${z}] [data-testid=plan-device]`).join(', '));
}
