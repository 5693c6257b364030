/** What the traffic told us about one device: the observations the classifier reads. */

const LIMIT = 50;
/** Offered mDNS services kept per device, and TXT strings per service. */
const SERVICES = 24;
const TXT = 24;

/** One mDNS service type the device answers for (RFC 6763): its instances and TXT strings. */
export interface MdnsOffer {
  instances: Set<string>;
  txt: Set<string>;
}

export class DeviceFacts {
  /** Bumped on every change, so that a classification can be cached until the facts change. */
  version = 0;
  /** Host names the device gave, with where each came from (dhcp, dhcp-fqdn, mdns, netbios, llmnr, kasa, ...). */
  readonly hostnames = new Map<string, string>();
  dhcpVendorClass: string | null = null;
  dhcpParams: number[] | null = null;
  /** Service types the device offers (answered for as an mDNS responder). */
  readonly mdnsServices = new Set<string>();
  /** Offered services with their instances and TXT strings. */
  readonly mdnsOffers = new Map<string, MdnsOffer>();
  /** Service types the device only asked for (browsing is not offering). */
  readonly mdnsBrowses = new Set<string>();
  /** TXT strings that carry a model (model=, md=, mdl=, ty=, usb_MDL=, product=), any service. */
  readonly mdnsModels = new Set<string>();
  readonly homekitModels = new Set<string>();
  readonly ssdpServers = new Set<string>();
  readonly ssdpTypes = new Set<string>();
  /** Fields of the UPnP device description the device served (manufacturer, modelName...). */
  readonly upnp = new Map<string, Set<string>>();
  /** WS-Discovery types and scopes the device announced of itself (Hello, ProbeMatches). */
  readonly wsdTypes = new Set<string>();
  readonly wsdScopes = new Set<string>();
  readonly kasaModels = new Set<string>();
  readonly kasaTypes = new Set<string>();
  readonly coapPaths = new Set<string>();
  readonly userAgents = new Set<string>();
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

  /** An offered mDNS service, with an instance name and TXT strings when known. */
  offer(service: string, instance: string | null, txt: readonly string[]): void {
    const type = service.toLowerCase().replace(/\.$/, '');
    let o = this.mdnsOffers.get(type);
    if (!o) {
      if (this.mdnsOffers.size >= SERVICES) return;
      o = { instances: new Set(), txt: new Set() };
      this.mdnsOffers.set(type, o);
      this.add(this.mdnsServices, type);
      this.version++;
    }
    if (instance && o.instances.size < 8 && !o.instances.has(instance)) {
      o.instances.add(instance);
      this.version++;
    }
    for (const t of txt) {
      if (o.txt.size >= TXT || o.txt.has(t)) continue;
      o.txt.add(t);
      this.version++;
    }
  }

  upnpField(field: string, value: string | null | undefined): void {
    if (!value) return;
    let s = this.upnp.get(field);
    if (!s) this.upnp.set(field, (s = new Set()));
    this.add(s, value);
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
