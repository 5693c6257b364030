/**
 * The layer check (`npm run check:layers`): an import may only run down the pipeline.
 *
 * A packet goes capture → decode → flows → protocols → devices → verdicts / profiles, the
 * analysis orchestrates those for `analyze` and `run`, and what it produces is reported, stored,
 * turned into plans, exported and served. A folder of daemon/ is one layer; a layer may import
 * the layers below it and never one above it, nor an orchestrator (analysis/, run/) of which it
 * is a part. No cycles at all, type-only imports included: a type cycle is still two modules
 * that cannot be understood one without the other.
 *
 * The tree has no known violation: any import against the pipeline fails the check (CI runs it
 * before the tests).
 */

/** Bottom to top. `path` is a regular expression on the file's path from the repository root. */
const LAYERS = [
  // The domain's records and constants (flows, devices, alerts, plans, profiles, severities,
  // categories, the device-name rule): under every stage and bundled by the dashboard, so it
  // imports no stage and no package. report/types.ts is only re-exports of the model kept for
  // old import paths, so it counts as the model.
  { name: 'model', path: '^daemon/(model/|report/types\\.ts$)' },
  // Text and ordering helpers that know nothing of the domain.
  { name: 'util', path: '^daemon/util/' },
  // The loader of rules/ (YAML + JSON Schema, file:line errors), shared by every stage that reads rule files.
  { name: 'rules', path: '^daemon/rules/' },
  // Packets in: pcap/pcapng readers, live interfaces, capture supervision and replay.
  { name: 'capture', path: '^daemon/capture/' },
  // Link, IP and transport headers of one packet.
  { name: 'decode', path: '^daemon/decode/' },
  // Packets into connections: the flow table, TCP reassembly, what is LAN and what is internet.
  { name: 'flows', path: '^daemon/flows/' },
  // Country and network of a remote address (parses addresses and prefixes as decode and flows do).
  { name: 'geo', path: '^daemon/geo/' },
  // Application protocols dissected from a flow's bytes; their facts are the typed contract of the registry.
  { name: 'protocols', path: '^daemon/protocols/' },
  // The inventory: who each LAN device is, from what the protocols saw it say.
  { name: 'devices', path: '^daemon/devices/' },
  // Alert rules applied to flows and devices (needs identities, geo and protocol facts).
  { name: 'verdicts', path: '^daemon/verdicts/' },
  // What each device legitimately does, learnt from its flows.
  { name: 'profiles', path: '^daemon/profiles/' },
  // Orchestrator: runs the stages above for `analyze` and the daemon; its EngineConfig is their settings.
  { name: 'analysis', path: '^daemon/analysis/', orchestrator: true },
  // The `analyze` output: the JSON document and the terminal summary.
  { name: 'report', path: '^daemon/report/(?!types\\.ts$)' },
  // The daemon's state on disk: devices, alerts, profiles, traffic, settings.
  { name: 'store', path: '^daemon/store/' },
  // Segmentation plans, from a capture's report or the daemon's store, and their router renderings.
  { name: 'segment', path: '^daemon/segment/' },
  // The configuration file (YAML or UCI) into the engine's and the segmentation's settings.
  { name: 'config', path: '^daemon/config/' },
  // Alerts out of the box: syslog, webhooks, Home Assistant.
  { name: 'exports', path: '^daemon/exports/' },
  // The HTTP API, the live feed and the metrics; it talks to the daemon through a service interface of its own.
  { name: 'server', path: '^daemon/server/' },
  // Orchestrator: the daemon (`vigie run`) wiring capture, engine, store, exports and server.
  { name: 'run', path: '^daemon/run/', orchestrator: true },
  // The commands.
  { name: 'cli', path: '^daemon/cli/' },
  // Build scripts at the top of daemon/ (build-assets.ts).
  { name: 'build', path: '^daemon/[^/]+$' },
];

const layerRules = [];
LAYERS.forEach((layer, i) => {
  const later = LAYERS.slice(i + 1);
  const stages = later.filter((l) => !l.orchestrator);
  const orchestrators = later.filter((l) => l.orchestrator);
  if (layer.name === 'model') return; // its own, stricter rule below
  if (stages.length > 0) {
    layerRules.push({
      name: `${layer.name}-imports-a-later-stage`,
      comment: `${layer.name}/ is below ${stages.map((l) => l.name).join(', ')}: data flows the other way`,
      severity: 'error',
      from: { path: layer.path },
      to: { path: stages.map((l) => `(${l.path})`).join('|') },
    });
  }
  if (orchestrators.length > 0) {
    layerRules.push({
      name: `${layer.name}-imports-its-orchestrator`,
      comment: `${orchestrators.map((l) => `${l.name}/`).join(' and ')} orchestrate ${layer.name}/: a stage takes what it needs as arguments or from model/, not from whoever runs it`,
      severity: 'error',
      from: { path: layer.path },
      to: { path: orchestrators.map((l) => `(${l.path})`).join('|') },
    });
  }
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'Two modules that import each other, directly or around a loop (type-only imports count).',
      severity: 'error',
      from: { pathNot: '^daemon/protocols/' },
      to: { circular: true },
    },
    {
      name: 'no-circular-in-protocols',
      comment:
        'Inside protocols/ one loop is by design: the registry imports every contract, and the parsers\' shared types ' +
        '(parser-types.ts) name the registry\'s FlowFacts, type-only, erased at build. Any loop of code is an error.',
      severity: 'error',
      from: { path: '^daemon/protocols/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'model-imports-outside-model',
      comment:
        'model/ sits under every stage and in the dashboard bundle: it imports only model/. One exception, ' +
        'type-only, in the next rule: the facts of a flow are the protocols\' typed contract (one interface per ' +
        'protocol, checked against the registry at build time); copying them down would make two sources of truth.',
      severity: 'error',
      from: { path: LAYERS[0].path },
      to: { pathNot: [LAYERS[0].path, '^daemon/protocols/registry\\.ts$'] },
    },
    {
      name: 'model-takes-protocol-facts-as-types-only',
      comment: 'model/ may name the protocols registry\'s FlowFacts, never import its code (it would pull every parser into the dashboard).',
      severity: 'error',
      from: { path: LAYERS[0].path },
      to: { path: '^daemon/protocols/registry\\.ts$', dependencyTypesNot: ['type-only'] },
    },
    ...layerRules,
    {
      name: 'dashboard-imports-the-daemon',
      comment: 'The dashboard takes from the daemon only the model (values and types), the API\'s types and its route map (server/wire.ts: model values and types only), never its code.',
      severity: 'error',
      from: { path: '^ui/src/' },
      to: { path: '^daemon/', pathNot: [LAYERS[0].path, '^daemon/server/api-types\\.ts$', '^daemon/server/wire\\.ts$'] },
    },
    {
      name: 'wire-takes-model-values-only',
      comment: 'The dashboard bundles server/wire.ts: it may take values from the model alone, anything else as types.',
      severity: 'error',
      from: { path: '^daemon/server/wire\\.ts$' },
      to: { pathNot: LAYERS[0].path, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'dashboard-api-types-as-types-only',
      comment: 'server/api-types.ts is the shape of the wire: the dashboard names it, it never bundles server code.',
      severity: 'error',
      from: { path: '^ui/src/' },
      to: { path: '^daemon/server/api-types\\.ts$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that resolves to nothing (a typo, a moved file).',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)dist/' },
    // Type-only imports are edges too: a type cycle or a type taken from a later stage is still a layering fault.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.svelte', '.json'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
