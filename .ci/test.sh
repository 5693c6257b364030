#!/usr/bin/env bash
# Installs what the tests need and runs the whole suite, ending with a plain
# "N passed, N failed" line.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/system-deps.sh test
npm ci --no-audit --no-fund
# Lint and the layer check first: about 15 s and 7 s on two cores, and they need no build.
npm run --silent lint
npm run --silent check:layers
npm run build
npm run check:ui
# CI needs the capture corpus: fetched when absent, and its tests fail (never skip) without it.
if [ "${CI:-}" = true ]; then export VIGIE_REQUIRE_CORPUS=1; npm run corpus -- --if-missing || echo "corpus: not available; its tests will fail" >&2; fi
results=$(mktemp)
status=0
npx vitest run --config test/vitest.config.ts --reporter=default --reporter=json --outputFile.json="$results" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const noCorpus = r.testResults.flatMap((f) => f.assertionResults).filter((a) => a.status !== "passed" && a.status !== "failed" && a.title.includes("needs the capture corpus")).length;
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped${noCorpus ? ` (${noCorpus} of them: no capture corpus, run \`npm run corpus\`)` : ""}`);
' "$results" || true
rm -f "$results"
exit "$status"
