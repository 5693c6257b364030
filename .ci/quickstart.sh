#!/usr/bin/env bash
# Quick start: installs what Vigie needs, builds it, and analyses a home-network capture so that
# there is something to look at right away. (The live daemon, `vigie run`, is not written yet.)
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/system-deps.sh runtime
npm ci --no-audit --no-fund
demo=${TMPDIR:-/tmp}/vigie-demo-home.pcap
node -e "import('./test/bench/home-capture.mjs').then(m => m.generate(process.argv[1], { devices: 12, tlsFlows: 300, bulkPackets: 3000, duration: 120 }))" "$demo"
echo
echo "Analysing a generated home capture ($demo); try it on your own: npx vigie analyze FILE.pcap"
echo
node bin/vigie.js analyze "$demo"
