/** Which interface to watch and where to listen, when the command line does not say. */
import fs from 'node:fs';
import os from 'node:os';

/** OpenWrt's LAN bridge, else the interface of the default route (/proc/net/route). */
export function defaultInterface(): string | null {
  if (fs.existsSync('/sys/class/net/br-lan')) return 'br-lan';
  try {
    const lines = fs.readFileSync('/proc/net/route', 'utf8').trim().split('\n').slice(1);
    for (const l of lines) {
      const [iface, dest, , flags] = l.trim().split(/\s+/);
      // Destination 0.0.0.0 with RTF_UP (0x1): the default route.
      if (dest === '00000000' && (parseInt(flags, 16) & 1) === 1) return iface;
    }
  } catch {
    // No /proc/net/route: not Linux, or a container without it.
  }
  return null;
}

/**
 * The address to serve the dashboard on: the watched interface's own IPv4 address (the LAN side
 * of the router), never every address: the WAN must not see it. Loopback when there is none.
 */
export function defaultListenAddress(iface: string | null): string {
  if (iface) {
    const addrs = os.networkInterfaces()[iface] ?? [];
    const v4 = addrs.find((a) => a.family === 'IPv4' && !a.internal);
    if (v4) return v4.address;
  }
  return '127.0.0.1';
}
