/** Whether an alert is muted. The records (Alert, Mute) are the domain model's (daemon/model/alert.ts). */
import type { Alert, Mute } from '../model/alert.js';

export type { Alert, AlertDestination, Mute } from '../model/alert.js';

export function isMuted(a: Pick<Alert, 'rule' | 'device' | 'destination'>, mutes: Mute[], now: number): boolean {
  return mutes.some((m) => {
    if (m.until !== undefined && Date.parse(m.until) <= now * 1000) return false;
    if (m.rule !== undefined && m.rule !== a.rule) return false;
    if (m.device !== undefined && m.device.toLowerCase() !== (a.device.mac ?? a.device.id).toLowerCase()) return false;
    if (m.destination !== undefined) {
      const d = a.destination;
      if (!d || (m.destination.toLowerCase() !== d.hostname?.toLowerCase() && m.destination !== d.ip)) return false;
    }
    return true;
  });
}
