/**
 * How the records write a time: ISO 8601 in UTC with milliseconds (analysis.schema.json's
 * `date-time`), from the seconds since the epoch that captures and the engine count in.
 */

// One Date reused: this runs for every flow record and alert update, on a router.
const scratch = new Date(0);

export function isoTime(ts: number): string {
  scratch.setTime(ts * 1000);
  return scratch.toISOString();
}
