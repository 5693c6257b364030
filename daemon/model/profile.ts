/**
 * What a device legitimately does, learnt from its flows: the internet destinations it uses and
 * the LAN devices it talks to. The segmentation plan is built from these; the store keeps them
 * for the daemon and `analyze --json` prints them (analysis.schema.json#/$defs/profile).
 */

export type ProfileState = 'learning' | 'frozen';

/** One internet destination: a host name (or a bare address) on one transport port. */
export interface ProfileDestination {
  /** The name the device resolved or sent in TLS SNI / HTTP Host; null for a bare address. */
  host: string | null;
  /** The registrable domain of `host` (public suffix + 1), null for a bare address. */
  domain: string | null;
  /** Addresses seen for this destination (what the name resolved to, for a name), bounded. */
  addresses: string[];
  proto: 'tcp' | 'udp' | 'icmp' | 'other';
  port: number;
  /** Who opened the flows: the device (the usual case) or the remote end (a port forward, P2P). */
  initiator: 'device' | 'remote';
  app: string | null;
  country: string | null;
  org: string | null;
  encrypted: boolean | null;
  up: number;
  down: number;
  flows: number;
  firstSeen: string;
  lastSeen: string;
  /** False when first seen after the profile was frozen: a change the household should see. */
  learned: boolean;
}

/** One LAN peer on one port: `out` when the device opened the flows, `in` when the peer did. */
export interface ProfilePeer {
  mac: string | null;
  ip: string;
  direction: 'out' | 'in';
  proto: 'tcp' | 'udp' | 'icmp' | 'other';
  /** The responder's port. */
  port: number;
  app: string | null;
  up: number;
  down: number;
  flows: number;
  firstSeen: string;
  lastSeen: string;
  learned: boolean;
}

export interface DeviceProfile {
  mac: string;
  state: ProfileState;
  /** When learning began (the device's first flow, or the household re-opened it). */
  learningSince: string;
  /** When learning ends by itself; null: at the end of the capture (offline). */
  learningUntil: string | null;
  frozenAt: string | null;
  destinations: ProfileDestination[];
  peers: ProfilePeer[];
  /** Entries first seen after freezing (learned: false). */
  changes: number;
  /** Entries not kept because the bounds were reached. */
  dropped: { destinations: number; peers: number; addresses: number };
  volumes: { up: number; down: number; flows: number };
  firstSeen: string;
  lastSeen: string;
}

/**
 * Bounds of one profile: a device that talks to more than a hundred hosts is not one an allow-list
 * can describe (the plan keeps 64 names per device), and offline a busy capture's profiles would
 * otherwise cost more memory than its flows.
 */
export const PROFILE_LIMITS = { destinations: 128, peers: 64, addressesPerDestination: 16 } as const;
