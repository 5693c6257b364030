/**
 * The records of the `vigie analyze --json` document now live in the domain model (daemon/model/),
 * under every stage; these re-exports keep the old imports working.
 */
export type { AnalysisReport, CaptureSummary } from '../model/report.js';
export type { DeviceRecord } from '../model/device.js';
export type { Counters, Endpoint, FlowRecord } from '../model/flow.js';
