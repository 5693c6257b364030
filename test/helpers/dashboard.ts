/**
 * What the dashboard's end-to-end tests share: the generated home capture (12 devices, ten Dahua
 * cameras publishing MQTT with passwords to a broker docs/demo/vigie-demo.yaml places in China),
 * `vigie run --read` of it (here, or inside a network namespace), Debian's Chromium driven by
 * playwright-core, the login, and the WCAG contrast measure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';

export const ROOT = path.resolve(__dirname, '../..');
export const CHROMIUM = '/usr/bin/chromium';
export const DIST = path.join(ROOT, 'ui/dist');
export const SHOTS = process.env.VIGIE_SCREENSHOTS ?? path.join(ROOT, 'docs/screenshots');
export const DEMO_CONFIG = path.join(ROOT, 'docs/demo/vigie-demo.yaml');
export const PASSWORD = 'e2e-dashboard-password';
export const FIRST_CAMERA = 'IPC-HFW1230S';
export const SECOND_CAMERA = 'IPC-HDW1431T';
export const LATE_CAMERA = 'IPC-HDW3441T';
/** No background requests of Chromium's own (updates, sync): every request seen is the page's. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const dashboardReady = fs.existsSync(CHROMIUM) && fs.existsSync(path.join(DIST, 'index.html'));

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** The generated home in a fresh temporary folder; `lateAt`: the last camera joins then (s). */
export async function homeCapture(prefix: string, lateAt: number): Promise<{ dir: string; capture: string; stateDir: string }> {
  const { generate } = await import('../bench/home-capture.mjs');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const capture = path.join(dir, 'home.pcap');
  generate(capture, { devices: 12, tlsFlows: 160, bulkPackets: 600, duration: 32, late: { count: 1, at: lateAt } });
  return { dir, capture, stateDir: path.join(dir, 'state') };
}

export interface DaemonOptions {
  capture: string;
  stateDir: string;
  host: string;
  port: number;
  config?: string;
  /** More flags for `vigie run` (--allow-apply). */
  args?: string[];
  /** A command the daemon runs under: `['ip', 'netns', 'exec', NS]` puts it in a namespace. */
  prefix?: string[];
}

/** `vigie run --read` of a capture, with the dashboard's password; started and stopped by the test. */
export class VigieDaemon {
  log = '';
  /** When it said it listens (ms): the replay's packet times count from about then. */
  started = 0;
  private child: ChildProcess | null = null;

  constructor(readonly o: DaemonOptions) {}

  get origin(): string {
    return `http://${this.o.host}:${this.o.port}`;
  }

  async start(speed: string): Promise<void> {
    this.log = '';
    const o = this.o;
    const argv = [...(o.prefix ?? []), process.execPath, path.join(ROOT, 'bin/vigie.js'), 'run', '--read', o.capture, '--speed', speed, '--config', o.config ?? DEMO_CONFIG, '--state-dir', o.stateDir, '--listen', o.host, '--port', String(o.port), '--commit-interval', '3600', ...(o.args ?? [])];
    const d = spawn(argv[0], argv.slice(1), { env: { ...process.env, VIGIE_ADMIN_PASSWORD: PASSWORD }, stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = d;
    d.stderr!.on('data', (b: Buffer) => (this.log += b.toString()));
    for (let i = 0; !this.log.includes('dashboard at'); i++) {
      if (i > 300 || d.exitCode !== null) throw new Error(`daemon did not start: ${this.log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    this.started = Date.now();
  }

  async stop(): Promise<void> {
    const d = this.child;
    this.child = null;
    if (!d || d.exitCode !== null) return;
    const exited = new Promise((r) => d.once('exit', r));
    d.kill('SIGTERM');
    await exited;
  }
}

export async function launchChromium(executablePath = CHROMIUM): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS });
}

export async function login(p: Page, at: string): Promise<void> {
  await p.goto(at + '/');
  await p.getByLabel('Administrator password').fill(PASSWORD);
  await p.getByRole('button', { name: 'Log in' }).click();
  await p.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
}

/** WCAG 2.x relative luminance contrast of two CSS colours (rgb()/rgba() as computed). */
export function contrast(fg: string, bg: string): number {
  const parse = (c: string) => (c.match(/[\d.]+/g) ?? []).map(Number);
  const lum = (c: number[]) => {
    const [r, g, b] = c.slice(0, 3).map((v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [a, b] = [lum(parse(fg)), lum(parse(bg))].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}

/** In the page: the text colour and the first opaque background behind each selector's first match. */
export function colourPairs(selectors: string[]): { sel: string; fg: string; bg: string }[] {
  const bgOf = (el: Element | null): string => {
    for (let e = el; e; e = e.parentElement) {
      const c = getComputedStyle(e).backgroundColor;
      if (c && !c.startsWith('rgba(0, 0, 0, 0)') && c !== 'transparent') return c;
    }
    return getComputedStyle(document.body).backgroundColor;
  };
  const out: { sel: string; fg: string; bg: string }[] = [];
  for (const sel of selectors) {
    const el = document.querySelector(sel);
    if (el) out.push({ sel, fg: getComputedStyle(el).color, bg: bgOf(el) });
  }
  return out;
}

/** In the page: visible controls without an accessible name (outerHTML heads). */
export function unnamedControls(): string[] {
  return [...document.querySelectorAll('input:not([hidden]), select, button, a[href]')]
    .filter((el) => {
      const e = el as HTMLElement;
      if (e.offsetParent === null && getComputedStyle(e).position !== 'fixed') return false;
      const id = e.getAttribute('id');
      const named = e.getAttribute('aria-label') || e.getAttribute('aria-labelledby') || (id && document.querySelector(`label[for="${id}"]`)) || e.closest('label') || (e.textContent ?? '').trim() || e.getAttribute('title') || (e as HTMLInputElement).placeholder;
      return !named;
    })
    .map((e) => e.outerHTML.slice(0, 80));
}
