/** WebSocket's contract (see ../contract.ts): a connection recognised from its frames, its Upgrade unseen. */
import type { ProtocolContract } from '../contract.js';
import { type WebSocketFacts, webSocketMidstream } from './state.js';

export const websocket = {
  key: 'websocket',
  title: 'WebSocket frames without their HTTP Upgrade (RFC 6455 §5), MQTT inside',
  apps: { websocket: 'WebSocket', 'mqtt-ws': 'MQTT over WebSocket' },
  // Frame headers alone: the weakest evidence of all, tried last.
  stream: { midstream: webSocketMidstream },
  evidence: (w) => ({ upgradeSeen: w.upgradeSeen, client: w.client, mqtt: w.mqtt }),
} satisfies ProtocolContract<'websocket', WebSocketFacts>;
