/** What the traffic told us about one device: the observations the classifier reads. */

const LIMIT = 50;

export class DeviceFacts {
  /** Bumped on every change, so that a classification can be cached until the facts change. */
  version = 0;
  /** Host names the device gave, with where each came from (dhcp, dhcp-fqdn, mdns, ssdp). */
  readonly hostnames = new Map<string, string>();
  dhcpVendorClass: string | null = null;
  dhcpParams: number[] | null = null;
  readonly mdnsServices = new Set<string>();
  readonly mdnsModels = new Set<string>();
  readonly ssdpServers = new Set<string>();
  readonly ssdpTypes = new Set<string>();
  /** Names the device contacted (DNS, SNI, HTTP Host). */
  readonly domains = new Set<string>();
  /** Roles seen: rtsp-server, rtsp-publisher, mqtt, ... */
  readonly protocols = new Set<string>();
  readonly mqttTopics = new Set<string>();
  readonly ja4 = new Set<string>();

  add(set: Set<string>, value: string | null | undefined): void {
    if (value && set.size < LIMIT && !set.has(value)) {
      set.add(value);
      this.version++;
    }
  }

  hostname(name: string | null | undefined, source: string): void {
    if (!name) return;
    const clean = name.replace(/\.local\.?$/i, '').trim();
    if (clean && !this.hostnames.has(clean) && this.hostnames.size < LIMIT) {
      this.hostnames.set(clean, source);
      this.version++;
    }
  }
}

/** DHCP's description of the client (RFC 2132 options 60 and 55). */
export function setDhcpIdentity(f: DeviceFacts, vendorClass: string | null | undefined, params: number[] | null | undefined): void {
  if (vendorClass && vendorClass !== f.dhcpVendorClass) {
    f.dhcpVendorClass = vendorClass;
    f.version++;
  }
  if (params && params.join(',') !== f.dhcpParams?.join(',')) {
    f.dhcpParams = params;
    f.version++;
  }
}
