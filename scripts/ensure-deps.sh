#!/usr/bin/env bash
# Installs npm dependencies when node_modules is missing or older than the lockfile.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[deps] installing the locked dependencies"
  bash scripts/npm-install-locked.sh
fi
