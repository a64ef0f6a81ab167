#!/usr/bin/env bash
# npm ci, with one known exception handled: this machine's registry does not
# serve some packages' prebuilt binaries for other platforms (for example
# @msgpackr-extract/* under bullmq, used only by the benchmark). npm then cannot
# record them in the lockfile, and npm ci refuses the lockfile as "out of sync"
# although every package this platform needs is pinned in it. In that case
# install from the same lockfile with npm install, which tolerates the missing
# optional binaries, without rewriting the committed lockfile.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
log="$(mktemp)"
if npm ci --no-audit --no-fund 2>"$log"; then rm -f "$log"; exit 0; fi
if grep -q "Missing: @msgpackr-extract/" "$log" && ! grep "Missing: " "$log" | grep -vq "Missing: @msgpackr-extract/"; then
  echo "[deps] npm ci refused the lockfile only for other platforms' optional binaries; installing from it with npm install"
  rm -f "$log"
  cp package-lock.json .package-lock.committed
  trap 'mv -f .package-lock.committed package-lock.json' EXIT
  npm install --no-audit --no-fund
  exit 0
fi
cat "$log" >&2
rm -f "$log"
exit 1
