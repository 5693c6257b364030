/**
 * Which name each LAN device resolved for each address: filled from DNS answers, read when a
 * flow to the internet starts, so the flow carries the host name the device asked for (the same
 * idea as Zeek's DNS-to-conn correlation). Bounded, least recently answered forgotten first; the
 * entries forgotten are counted (`evicted`: vigie_dns_names_evicted_total in /metrics), so a DNS
 * answer flood shows as evictions rather than as memory.
 */
export class NameMap {
  private readonly map = new Map<string, string>();
  /** Entries forgotten to stay within `limit`. */
  evicted = 0;

  constructor(readonly limit = 50_000) {}

  set(client: string, address: string, name: string): void {
    const k = `${client}|${address}`;
    this.map.delete(k);
    this.map.set(k, name);
    if (this.map.size > this.limit) {
      this.map.delete(this.map.keys().next().value as string);
      this.evicted++;
    }
  }

  get(client: string, address: string): string | null {
    return this.map.get(`${client}|${address}`) ?? null;
  }

  get size(): number {
    return this.map.size;
  }
}
