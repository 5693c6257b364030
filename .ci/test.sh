#!/usr/bin/env bash
# Installs what the tests need and runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/system-deps.sh test
npm ci --no-audit --no-fund
npm run build
npx vitest run --config test/vitest.config.ts
