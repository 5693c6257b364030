/**
 * What an alert shows as proof: the flow, and what each of its protocols says a person can check
 * in a capture (each protocol's contract writes its own part). Secrets are never here: a password
 * is reported as present or not, payloads by kind only.
 */
import { protocolEvidence } from '../protocols/registry.js';
import type { FlowRecord } from '../report/types.js';
import { protocolView } from './situation.js';

export function flowEvidence(r: FlowRecord): Record<string, unknown> {
  return {
    flow: r.id,
    transport: r.proto,
    hostnameSource: r.hostnameSource,
    ...protocolEvidence(r.protocol, protocolView(r)),
    bytesUp: r.deviceSide === 'resp' ? r.counters.resp.bytes : r.counters.orig.bytes,
    bytesDown: r.deviceSide === 'resp' ? r.counters.orig.bytes : r.counters.resp.bytes,
  };
}
