#!/usr/bin/env bash
# One command to run Metronome on this machine: dependencies, NATS and
# PostgreSQL (local ones if none answer), build, migrations, then all four
# services in one process with a demo tenant. Ctrl-C stops it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/ensure-deps.sh
bash scripts/ensure-infra.sh
echo "[start] building"
npm run --silent build
echo "[start] migrating"
node dist/scripts/migrate.js
export DEMO="${DEMO:-true}"
export TICK_INTERVAL_MS="${TICK_INTERVAL_MS:-10000}"
echo "[start] scheduler http://127.0.0.1:${SCHEDULER_PORT:-3000}  notifier :${NOTIFIER_PORT:-3001}  documents :${DOCUMENTS_PORT:-3002}  recurrence :${RECURRENCE_PORT:-3003}"
exec node dist/apps/main.js
