#!/usr/bin/env bash
# Quick start: installs what Vigie needs, builds it, and starts the monitor with its dashboard
# on an embedded store. By default it replays a generated home capture at its recorded pace
# (cameras sending MQTT with passwords to a "cloud abroad"), so there is something to see at
# once; VIGIE_INTERFACE=eth0 watches that interface live instead (needs root or CAP_NET_RAW).
# Stop with Ctrl-C: the store is written and kept in $VIGIE_STATE_DIR for the next start.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/system-deps.sh runtime
npm ci --no-audit --no-fund
state=${VIGIE_STATE_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/vigie-demo}
port=${VIGIE_PORT:-8090}
mkdir -p "$state"
if [ -n "${VIGIE_INTERFACE:-}" ]; then
  source=(--interface "$VIGIE_INTERFACE")
  what="watching $VIGIE_INTERFACE live"
else
  demo=${TMPDIR:-/tmp}/vigie-demo-home.pcap
  node -e "import('./test/bench/home-capture.mjs').then(m => m.generate(process.argv[1], { devices: 12, tlsFlows: 300, bulkPackets: 3000, duration: 120 }))" "$demo"
  source=(--read "$demo" --speed "${VIGIE_SPEED:-1}" --config docs/demo/vigie-demo.yaml)
  what="replaying a generated home capture ($demo) at its recorded pace"
fi
echo
echo "Vigie: $what. Dashboard and API: http://127.0.0.1:$port/ (store in $state)."
if [ ! -f "$state/auth.json" ]; then
  echo "The administrator password is generated and printed below, once: note it."
else
  echo "Log in with the password shown at the first start, or set one: node bin/vigie.js passwd --state-dir $state"
fi
echo "Try also: node bin/vigie.js analyze FILE.pcap   (offline report of any capture)"
echo
exec node bin/vigie.js run "${source[@]}" --state-dir "$state" --listen 127.0.0.1 --port "$port"
