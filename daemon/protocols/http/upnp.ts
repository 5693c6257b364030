/**
 * UPnP device descriptions (UPnP Device Architecture 2.0 §2.3): the XML document a device serves
 * at the LOCATION its SSDP messages give, `<root xmlns="urn:schemas-upnp-org:device-1-0">` with
 * one `<device>` and, in its `<deviceList>`, embedded devices. Pure parsing of a (possibly
 * truncated) body: the root device's deviceType, friendlyName, manufacturer, manufacturerURL,
 * modelName, modelNumber, modelDescription, and the deviceTypes of embedded devices. The
 * serialNumber, UDN and presentationURL are identifiers or addresses and are not read.
 */
import { Tok, XmlScanner } from '../wsd/xml.js';

/** Bytes of a response body kept for this parser. */
export const MAX_DESCRIPTION = 16 * 1024;
const LIST_MAX = 20;
const FIELD_MAX = 256;
const DEVICE_NS = 'urn:schemas-upnp-org:device-1-0';

export interface UpnpDescription {
  deviceType: string | null;
  friendlyName: string | null;
  manufacturer: string | null;
  manufacturerURL: string | null;
  modelName: string | null;
  modelNumber: string | null;
  modelDescription: string | null;
  /** deviceType of each embedded device (any depth), in document order. */
  embeddedDeviceTypes: string[];
}

type Field = Exclude<keyof UpnpDescription, 'embeddedDeviceTypes'>;
const FIELDS: [Buffer, Field][] = (['deviceType', 'friendlyName', 'manufacturer', 'manufacturerURL', 'modelName', 'modelNumber', 'modelDescription'] as const).map((n) => [Buffer.from(n), n]);
const E_ROOT = Buffer.from('root');
const E_DEVICE = Buffer.from('device');
const E_DEVICE_TYPE = FIELDS[0][0];

/** Whether a body prefix looks like XML (for a response whose Content-Type does not say). */
export function looksLikeXml(buf: Buffer, off: number, end: number): boolean {
  let p = off;
  if (end - p >= 3 && buf[p] === 0xef && buf[p + 1] === 0xbb && buf[p + 2] === 0xbf) p += 3;
  while (p < end && (buf[p] === 0x20 || buf[p] === 0x09 || buf[p] === 0x0a || buf[p] === 0x0d)) p++;
  return p < end && buf[p] === 0x3c;
}

/**
 * Reads a device description from buf[off, end). Null when the document is not one (another XML
 * document, or not XML); a truncated description yields what came before the cut.
 */
export function parseUpnpDescription(buf: Buffer, off: number, end: number): UpnpDescription | null {
  const sc = new XmlScanner(buf, off, Math.min(end, off + MAX_DESCRIPTION));
  const ns = new Map<string, string>();
  const d: UpnpDescription = { deviceType: null, friendlyName: null, manufacturer: null, manufacturerURL: null, modelName: null, modelNumber: null, modelDescription: null, embeddedDeviceTypes: [] };
  let root = false;
  /** Depth of each open <device>, innermost last. */
  const devices: number[] = [];
  for (let n = 0; n < 8192; n++) {
    const t = sc.next();
    if (t === Tok.End || t === Tok.Error) break;
    if (t === Tok.Close) {
      if (devices.length > 0 && sc.depth < devices[devices.length - 1]) devices.pop();
      continue;
    }
    if (!root) {
      // §2.3: the root element is <root> in the device-1-0 namespace (UDA 1.0 to 2.0 alike).
      sc.declarations(ns);
      const uri = ns.get(sc.prefix());
      if (!sc.localIs(E_ROOT) || uri !== DEVICE_NS) return null;
      root = true;
      continue;
    }
    if (sc.localIs(E_DEVICE)) {
      if (!sc.selfClosing && devices.length < 16) devices.push(sc.depth);
      continue;
    }
    // Fields are children of a <device>: one level below it.
    const depth = sc.selfClosing ? sc.depth + 1 : sc.depth;
    if (devices.length === 0 || depth !== devices[devices.length - 1] + 1) continue;
    if (devices.length === 1) {
      for (const [name, field] of FIELDS) {
        if (d[field] === null && sc.localIs(name)) {
          const v = sc.text();
          if (v) d[field] = v.slice(0, FIELD_MAX);
          break;
        }
      }
    } else if (sc.localIs(E_DEVICE_TYPE) && d.embeddedDeviceTypes.length < LIST_MAX) {
      const v = sc.text();
      if (v) d.embeddedDeviceTypes.push(v.slice(0, FIELD_MAX));
    }
  }
  return root ? d : null;
}
