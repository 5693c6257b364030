#!/usr/bin/env bash
# Installs what the tests need and runs the whole suite, ending with a plain
# "N passed, N failed" line.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/system-deps.sh test
npm ci --no-audit --no-fund
npm run build
npm run check:ui
results=$(mktemp)
status=0
npx vitest run --config test/vitest.config.ts --reporter=default --reporter=json --outputFile.json="$results" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' "$results" || true
rm -f "$results"
exit "$status"
