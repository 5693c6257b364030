/**
 * The segmentation routes (docs/api.md, "Segmentation"): the plan in every format, one device's
 * advice and profile, the household's zone and learning choices, and — only when the daemon was
 * started with --allow-apply — apply and confirm with the automatic rollback.
 */
import { ZONES, type Zone } from '../model/plan.js';
import type { Daemon } from '../run/daemon.js';
import { renderDnsmasq, renderNft } from '../segment/nft.js';
import { renderUci } from '../segment/uci.js';
import { mudFileName, renderMud } from '../segment/mud.js';
import { ApiError, type RequestInfo, type Route, TextReply } from './http.js';

const MAC = '([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})';

function obj(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError(400, 'send a JSON object');
  return body as Record<string, unknown>;
}

export function isZone(v: unknown): v is Zone {
  return typeof v === 'string' && (ZONES as readonly string[]).includes(v);
}

export function planRoutes(d: Daemon): Route[] {
  const route = (method: string, p: string, handler: (r: RequestInfo) => unknown): Route => ({ method, pattern: new RegExp(`^${p}$`), handler });
  const seg = d.segmentation;
  return [
    route('GET', '/api/plan', (r) => {
      const plan = seg.plan(r.client);
      const format = r.query.get('format') ?? 'json';
      switch (format) {
        case 'json':
          return plan;
        case 'nft':
          return new TextReply(renderNft(plan), 'text/plain', r.query.has('download') ? 'vigie.nft' : null);
        case 'dnsmasq':
          return new TextReply(renderDnsmasq(plan), 'text/plain', r.query.has('download') ? 'vigie-dnsmasq.conf' : null);
        case 'uci': {
          const u = renderUci(plan, { iotNetworkRecipe: r.query.get('recipe') === '1' });
          const part = r.query.get('part') ?? 'firewall';
          if (part !== 'firewall' && part !== 'dhcp' && part !== 'recipe') throw new ApiError(400, 'part: firewall, dhcp or recipe');
          const text = part === 'firewall' ? u.firewall : part === 'dhcp' ? u.dhcp : (u.recipe ?? '');
          return new TextReply(text, 'text/plain', r.query.has('download') ? `${part}.vigie` : null);
        }
        default:
          throw new ApiError(400, 'format: json, nft, dnsmasq or uci (MUD files: /api/devices/{mac}/mud)');
      }
    }),
    route('GET', `/api/devices/${MAC}/plan`, (r) => {
      const mac = r.params[0].toLowerCase();
      const plan = seg.plan(r.client);
      const device = plan.devices.find((x) => x.mac === mac);
      if (!device) throw new ApiError(404, `no device ${mac} in the plan (only devices with a MAC address are planned)`);
      return { device, profile: seg.profile(mac), caveats: plan.caveats };
    }),
    route('GET', `/api/devices/${MAC}/mud`, (r) => {
      const mac = r.params[0].toLowerCase();
      const plan = seg.plan(r.client);
      const device = plan.devices.find((x) => x.mac === mac);
      if (!device) throw new ApiError(404, `no device ${mac} in the plan`);
      const mud = renderMud(plan, device, {});
      if (!mud) throw new ApiError(404, `${device.name} is in the trusted zone: a MUD file describes a restricted device`);
      return r.query.has('download') ? new TextReply(JSON.stringify(mud, null, 2) + '\n', 'application/json', mudFileName(mac)) : mud;
    }),
    route('PUT', `/api/devices/${MAC}/zone`, (r) => {
      const mac = r.params[0].toLowerCase();
      const b = obj(r.body);
      for (const k of Object.keys(b)) if (k !== 'zone') throw new ApiError(400, `unknown field "${k}" (expected zone)`);
      if (b.zone !== null && !isZone(b.zone)) throw new ApiError(400, `zone: one of ${ZONES.join(', ')}, or null (the policy's advice)`);
      if (!d.device(mac)) throw new ApiError(404, `no device ${mac}`);
      seg.setZone(mac, b.zone as Zone | null);
      const device = seg.plan(r.client).devices.find((x) => x.mac === mac) ?? null;
      d.planChanged();
      return { device };
    }),
    route('POST', `/api/devices/${MAC}/profile`, (r) => {
      const mac = r.params[0].toLowerCase();
      const b = obj(r.body);
      for (const k of Object.keys(b)) if (k !== 'learning') throw new ApiError(400, `unknown field "${k}" (expected learning)`);
      if (typeof b.learning !== 'boolean') throw new ApiError(400, 'learning: true (learn again from now) or false (freeze now)');
      const p = seg.setLearning(mac, b.learning);
      if (!p) throw new ApiError(404, `no profile for ${mac}: nothing was learnt about it yet`);
      d.planChanged();
      return p;
    }),
    route('GET', '/api/plan/state', async () => d.planState()),
    route('POST', '/api/plan/apply', async (r) => {
      if (!d.opts.allowApply) throw new ApiError(403, 'applying plans is off: start vigie run with --allow-apply (it needs CAP_NET_ADMIN)');
      const b = r.body === undefined || r.body === null ? {} : obj(r.body);
      for (const k of Object.keys(b)) if (k !== 'digest') throw new ApiError(400, `unknown field "${k}" (expected digest)`);
      if (b.digest !== undefined && typeof b.digest !== 'string') throw new ApiError(400, 'digest: the plan digest shown with the plan');
      return d.applyPlan(r.client, b.digest as string | undefined);
    }),
    route('POST', '/api/plan/confirm', async () => {
      if (!d.opts.allowApply) throw new ApiError(403, 'applying plans is off: start vigie run with --allow-apply (it needs CAP_NET_ADMIN)');
      return d.confirmPlan();
    }),
  ];
}
