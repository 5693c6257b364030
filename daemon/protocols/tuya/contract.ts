/** Tuya's contract (see ../contract.ts): the local discovery broadcast of Tuya devices. */
import type { ProtocolContract } from '../contract.js';
import type { TuyaFacts } from './state.js';
import { looksLikeTuya, TuyaFlow } from './state.js';

export const tuya = {
  key: 'tuya',
  title: 'Tuya local discovery (UDP 6666/6667)',
  apps: { tuya: 'Tuya' },
  datagram: { frame: (ctx, _dir, buf, off, len) => (looksLikeTuya(buf, off, len) ? new TuyaFlow(ctx) : null) },
  learn(_f, _v, out) {
    out.protocol('tuya');
  },
} satisfies ProtocolContract<'tuya', TuyaFacts>;
