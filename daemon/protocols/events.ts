/**
 * Protocol events: what the dissectors saw, one object per message, for `vigie analyze --events`
 * (JSON lines) and for the later stages. Every event names its packet (`frame`, 1-based, the
 * packet that completed the message), its time and its flow (Community ID and our flow id).
 * Documented in docs/events.md.
 */
export interface EventEndpoint {
  ip: string;
  port: number;
}

export interface EventBase {
  ts: string;
  frame: number;
  flow: number;
  communityId: string;
  src: EventEndpoint;
  dst: EventEndpoint;
}

/** `type` names the protocol (or `anomaly`); the fields sit under a key of the same name. */
export type ProtocolEvent = EventBase & { type: string; [field: string]: unknown };

export interface EventSink {
  (event: ProtocolEvent): void;
}
