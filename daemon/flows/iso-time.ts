/**
 * model/time.ts's isoTime with the date part formatted once per second: flow records and alert
 * updates format two times each, and thousands of them fall in the same second. Same text as
 * Date#toISOString (milliseconds truncated as Date does), which stays the fallback outside the
 * years 1970–9999.
 */
import { isoTime } from '../model/time.js';

let cachedSecond = NaN;
let cachedPrefix = '';
const MS = Array.from({ length: 1000 }, (_, i) => `.${String(i).padStart(3, '0')}Z`);
// 9999-12-31T23:59:59Z: beyond it toISOString writes six-digit years.
const LAST = 253402300799;

export function isoTimeFast(ts: number): string {
  // The same float multiplication and truncation Date#setTime does (TimeClip).
  const total = Math.trunc(ts * 1000);
  if (!(total >= 0 && total <= LAST * 1000 + 999)) return isoTime(ts);
  const sec = Math.floor(total / 1000);
  if (sec !== cachedSecond) {
    cachedSecond = sec;
    cachedPrefix = isoTime(sec).slice(0, 19);
  }
  return cachedPrefix + MS[total - sec * 1000];
}
