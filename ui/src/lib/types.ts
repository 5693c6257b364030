// The API's shapes come from the daemon itself (daemon/server/api-types.ts): one definition.
export type {
  AlertView,
  CountryTraffic,
  Destination,
  DestinationView,
  DevicePlanView,
  DeviceProfile,
  DeviceRecord,
  DeviceView,
  FlowRecord,
  HourBucket,
  LiveMessage,
  Overview,
  PlanDevice,
  PlanHost,
  PlanPeer,
  PlanState,
  Retention,
  SegmentationPlan,
  Settings,
  Severity,
  Status,
  StoredMute,
  Zone,
} from '../../../daemon/server/api-types.js';

// Severities as values, from the model (one copy).
export { SEVERITIES } from '../../../daemon/model/severity';

// Zone names and what each means, as values: one copy, the daemon's (daemon/model/plan.ts imports
// nothing, so the bundle takes it whole).
export { ZONES, ZONE_DESCRIPTIONS } from '../../../daemon/model/plan';
