/**
 * Failed logins (issue 16, finding 5). A single counter for everyone let any LAN device lock the
 * administrator out; so failures are counted per client: per IPv4 address, per IPv6 /64 (a device
 * picks as many addresses as it likes inside its prefix), and per session cookie for a browser
 * that holds one of ours (valid or recently expired), which the noise of other addresses never
 * reaches. Each key gets a few free attempts, then waits 15 minutes, doubling at each further
 * failure up to a day. There is no global lockout: a fresh address with the right password always
 * gets in. The table is bounded; when full, the entry that has waited longest is forgotten first.
 */

/** Free failures per key, then the first wait, doubled by each further failure, up to the cap. */
export const BACKOFF = { free: 5, firstMs: 15 * 60e3, maxMs: 24 * 3600e3, forgetMs: 48 * 3600e3 } as const;
export const MAX_KEYS = 10_000;

interface Entry {
  failures: number;
  last: number;
  /** Attempts being verified now: counted as failures until they succeed, so that parallel requests cannot overtake the count. */
  pending: number;
}

/** The limiter's key for a client address: IPv4 (also when IPv4-mapped), or the /64 of an IPv6 address. */
export function clientKey(addr: string): string {
  const a = addr.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  if (mapped) return mapped[1];
  if (!a.includes(':')) return a;
  const groups = expandIPv6(a);
  return groups ? `${groups.slice(0, 4).join(':')}::/64` : a;
}

/** Eight groups of an IPv6 address (an embedded IPv4 tail taken as two), or null. */
function expandIPv6(a: string): string[] | null {
  let s = a.toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (v4) {
    const b = v4.slice(1).map(Number);
    s = s.slice(0, v4.index) + `${((b[0] << 8) | b[1]).toString(16)}:${((b[2] << 8) | b[3]).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  if (fill < 0) return null;
  const all = [...head, ...Array<string>(fill).fill('0'), ...tail];
  if (all.length !== 8 || !all.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  return all.map((g) => g.replace(/^0+(?=.)/, ''));
}

export class LoginLimiter {
  private readonly entries = new Map<string, Entry>();

  get size(): number {
    return this.entries.size;
  }

  /** Seconds to wait before this key may try again (0: it may). */
  wait(key: string, now: number): number {
    const e = this.entries.get(key);
    if (!e) return 0;
    // A failure "in the future" (the clock stepped back) counts as now: one wait at most.
    if (e.last > now) e.last = now;
    if (e.pending === 0 && now - e.last > BACKOFF.forgetMs) {
      this.entries.delete(key);
      return 0;
    }
    const n = e.failures + e.pending;
    if (n < BACKOFF.free) return 0;
    // Attempts still being verified count as failed ones, from now: parallel guesses wait too.
    const ms = Math.min(BACKOFF.maxMs, BACKOFF.firstMs * 2 ** (n - BACKOFF.free));
    const from = e.pending > 0 ? now : e.last;
    return Math.max(0, Math.ceil((from + ms - now) / 1000));
  }

  /** No failure on record for this key. */
  clean(key: string): boolean {
    return (this.entries.get(key)?.failures ?? 0) === 0;
  }

  /** A verification starts: reserved before the (slow) hash, so that parallel guesses count. */
  begin(key: string, now: number): void {
    const e = this.entry(key, now);
    e.pending++;
  }

  /** The verification said no. */
  fail(key: string, now: number): void {
    const e = this.entry(key, now);
    e.pending = Math.max(0, e.pending - 1);
    e.failures++;
    e.last = now;
  }

  /** The verification said yes: the key's slate is clean. */
  succeed(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    e.pending = Math.max(0, e.pending - 1);
    if (e.pending === 0) this.entries.delete(key);
    else e.failures = 0;
  }

  private entry(key: string, now: number): Entry {
    let e = this.entries.get(key);
    if (!e) {
      if (this.entries.size >= MAX_KEYS) this.evict(now);
      e = { failures: 0, last: now, pending: 0 };
      this.entries.set(key, e);
    }
    return e;
  }

  /** Forgets one entry: one whose wait is over if any (oldest first), else the oldest. */
  private evict(now: number): void {
    let oldest: string | null = null;
    for (const [k, e] of this.entries) {
      oldest ??= k;
      if (e.pending === 0 && this.wait(k, now) === 0) {
        this.entries.delete(k);
        return;
      }
    }
    if (oldest !== null) this.entries.delete(oldest);
  }
}
