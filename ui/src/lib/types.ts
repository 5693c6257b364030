// The API's shapes come from the daemon itself (daemon/server/api-types.ts): one definition.
export type {
  AlertView,
  CountryTraffic,
  Destination,
  DestinationView,
  DeviceRecord,
  DeviceView,
  FlowRecord,
  HourBucket,
  LiveMessage,
  Overview,
  Retention,
  Settings,
  Severity,
  Status,
  StoredMute,
} from '../../../daemon/server/api-types.js';

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
