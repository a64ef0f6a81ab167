#!/usr/bin/env bash
# The whole test suite on a fresh machine: dependencies, NATS and PostgreSQL,
# typecheck, unit tests, build, integration tests against the real services.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/ensure-deps.sh
REQUIRE_TEST_TOOLS=1 bash scripts/ensure-infra.sh
npm run --silent typecheck
npm run --silent test:unit
npm run --silent build
npm run --silent test:integration
