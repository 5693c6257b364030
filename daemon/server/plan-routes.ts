/**
 * The segmentation routes (docs/api.md, "Segmentation"): the plan in every format, one device's
 * advice and profile, the household's zone and learning choices, and — only when the daemon was
 * started with --allow-apply — apply and confirm with the automatic rollback.
 */
import { ZONES, type Zone } from '../model/plan.js';
import { renderDnsmasq, renderNft } from '../segment/nft.js';
import { renderUci } from '../segment/uci.js';
import { mudFileName, renderMud } from '../segment/mud.js';
import { ApiError, defineRoute as route, type Route, TextReply } from './http.js';
import type { VigieService } from './service.js';

export function isZone(v: unknown): v is Zone {
  return typeof v === 'string' && (ZONES as readonly string[]).includes(v);
}

export function planRoutes(seg: VigieService['plan'], knows: (mac: string) => boolean): Route[] {
  return [
    route('plan', (r) => {
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
    route('devicePlan', (r) => {
      const mac = r.params[0].toLowerCase();
      const plan = seg.plan(r.client);
      const device = plan.devices.find((x) => x.mac === mac);
      if (!device) throw new ApiError(404, `no device ${mac} in the plan (only devices with a MAC address are planned)`);
      return { device, profile: seg.profile(mac), caveats: plan.caveats };
    }),
    route('deviceMud', (r) => {
      const mac = r.params[0].toLowerCase();
      const plan = seg.plan(r.client);
      const device = plan.devices.find((x) => x.mac === mac);
      if (!device) throw new ApiError(404, `no device ${mac} in the plan`);
      const mud = renderMud(plan, device, {});
      if (!mud) throw new ApiError(404, `${device.name} is in the trusted zone: a MUD file describes a restricted device`);
      return r.query.has('download') ? new TextReply(JSON.stringify(mud, null, 2) + '\n', 'application/json', mudFileName(mac)) : mud;
    }),
    route('setZone', (r) => {
      const mac = r.params[0].toLowerCase();
      const zone: Zone | null = r.body.zone;
      // The schema holds the list too; kept here as well for a zone list that changes alone.
      if (zone !== null && !isZone(zone)) throw new ApiError(400, `zone: one of ${ZONES.join(', ')}, or null (the policy's advice)`);
      if (!knows(mac)) throw new ApiError(404, `no device ${mac}`);
      seg.setZone(mac, zone);
      const device = seg.plan(r.client).devices.find((x) => x.mac === mac) ?? null;
      seg.changed();
      return { device };
    }),
    route('setLearning', (r) => {
      const mac = r.params[0].toLowerCase();
      const p = seg.setLearning(mac, r.body.learning);
      if (!p) throw new ApiError(404, `no profile for ${mac}: nothing was learnt about it yet`);
      seg.changed();
      return p;
    }),
    route('planState', async () => seg.state()),
    route('applyPlan', async (r) => {
      if (!seg.allowApply) throw new ApiError(403, 'applying plans is off: start vigie run with --allow-apply (it needs CAP_NET_ADMIN)');
      return seg.apply(r.client, r.body?.digest);
    }),
    route('confirmPlan', async () => {
      if (!seg.allowApply) throw new ApiError(403, 'applying plans is off: start vigie run with --allow-apply (it needs CAP_NET_ADMIN)');
      return seg.confirm();
    }),
  ];
}
