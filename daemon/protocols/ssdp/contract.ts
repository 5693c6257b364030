/** SSDP's contract (see ../contract.ts): what a UPnP device announces of itself. */
import { type ProtocolContract, sendersOf } from '../contract.js';
import type { SsdpFacts } from './state.js';
import { looksLikeSsdp, SsdpFlow, type SsdpValues } from './state.js';

export const ssdp = {
  key: 'ssdp',
  title: 'SSDP (UPnP Device Architecture 2.0 §1)',
  apps: { ssdp: 'SSDP' },
  datagram: { message: (ctx, _dir, buf, off, len) => (looksLikeSsdp(buf, off, len) ? new SsdpFlow(ctx) : null) },
  learn(s, v, out) {
    // What each sender of the flow said is its own: on a shared flow, only this device's messages.
    const mine: SsdpValues[] = s.senders.length > 0 ? sendersOf(s.senders, v) : v.isClient ? [s] : [];
    if (mine.length === 0) return;
    out.protocol('ssdp');
    for (const x of mine) {
      // NOTIFY and search answers describe their sender; an M-SEARCH only what it looks for.
      if (!x.methods.some((m) => m === 'NOTIFY' || m.startsWith('HTTP '))) continue;
      for (const server of x.servers) out.add('ssdpServers', server);
      for (const t of [...x.notificationTypes, ...x.usns]) {
        out.add('ssdpTypes', t);
        // An NT or USN naming a device type says what the description's deviceType would.
        const urn = /(urn:[^:]+:device:[^:]+:\d+)$/.exec(t);
        if (urn) out.upnpField('deviceType', urn[1]);
      }
    }
  },
} satisfies ProtocolContract<'ssdp', SsdpFacts>;
