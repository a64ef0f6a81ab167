#!/usr/bin/env bash
# Makes sure NATS (with JetStream) and PostgreSQL answer on 127.0.0.1. Where one
# does not, starts a local one from the binaries on this machine with its data
# under .data/, or says in one line what to install. As root with apt-get
# (CI, a fresh container), missing Debian packages are installed.
# REQUIRE_TEST_TOOLS=1 also makes sure of what the tests run: nats-server,
# promtool, kubectl and chromium.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="$ROOT/.data"
NATS_PORT="${NATS_PORT:-4222}"
PG_PORT="${PG_PORT:-5432}"
mkdir -p "$DATA"

say() { printf '[infra] %s\n' "$*"; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

apt_install() {
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    say "installing $* with apt-get"
    if [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v lock || true)" ]; then apt-get update -qq; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; }
    return 0
  fi
  return 1
}

find_nats() { command -v nats-server 2>/dev/null || { [ -x /usr/sbin/nats-server ] && echo /usr/sbin/nats-server; } || true; }
find_pg_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do [ -x "$d/pg_ctl" ] && { echo "$d"; return; }; done
  command -v pg_ctl >/dev/null && dirname "$(command -v pg_ctl)"
}

ensure_nats() {
  if port_open "$NATS_PORT"; then say "NATS answers on 127.0.0.1:$NATS_PORT"; return; fi
  local bin; bin="$(find_nats)"
  if [ -z "$bin" ]; then apt_install nats-server || true; bin="$(find_nats)"; fi
  if [ -z "$bin" ]; then echo "NATS is not reachable on 127.0.0.1:$NATS_PORT and nats-server is not installed: sudo apt-get install -y nats-server" >&2; exit 1; fi
  say "starting $bin with JetStream on 127.0.0.1:$NATS_PORT (data in .data/nats)"
  mkdir -p "$DATA/nats"
  nohup "$bin" -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$DATA/nats" -l "$DATA/nats.log" >/dev/null 2>&1 &
  for _ in $(seq 1 100); do port_open "$NATS_PORT" && return; sleep 0.1; done
  echo "nats-server did not start: see $DATA/nats.log" >&2; exit 1
}

ensure_postgres() {
  if port_open "$PG_PORT"; then say "PostgreSQL answers on 127.0.0.1:$PG_PORT"; return; fi
  if [ -d /etc/postgresql ] && command -v pg_ctlcluster >/dev/null && [ "$(id -u)" = "0" ]; then
    local v; v="$(ls /etc/postgresql | sort -V | tail -1)"
    say "starting the machine's PostgreSQL $v cluster"
    pg_ctlcluster --skip-systemctl-redirect "$v" main start || true
    for _ in $(seq 1 50); do port_open "$PG_PORT" && return; sleep 0.2; done
  fi
  local bin; bin="$(find_pg_bin)"
  if [ -z "$bin" ]; then apt_install postgresql || true; bin="$(find_pg_bin)"; fi
  if [ -z "$bin" ]; then echo "PostgreSQL is not reachable on 127.0.0.1:$PG_PORT and is not installed: sudo apt-get install -y postgresql" >&2; exit 1; fi
  local pgdata="$DATA/postgres" run=()
  # PostgreSQL refuses to run as root: use the postgres system user when we are root.
  if [ "$(id -u)" = "0" ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    run=(runuser -u postgres --)
    mkdir -p "$pgdata"; chown postgres "$DATA" "$pgdata"; chmod 700 "$pgdata"; chmod o+x "$ROOT"
  fi
  if [ ! -f "$pgdata/PG_VERSION" ]; then
    say "initialising a local PostgreSQL in .data/postgres"
    "${run[@]}" "$bin/initdb" -D "$pgdata" -U postgres --auth=trust >/dev/null
  fi
  say "starting PostgreSQL from $bin on 127.0.0.1:$PG_PORT (data in .data/postgres)"
  "${run[@]}" "$bin/pg_ctl" -D "$pgdata" -l "$pgdata/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $pgdata" start >/dev/null
}

ensure_nats
ensure_postgres
have_tool() { if [ "$1" = nats-server ]; then [ -n "$(find_nats)" ]; else command -v "$1" >/dev/null 2>&1; fi; }
ensure_tool() { # command, Debian package
  have_tool "$1" && return
  apt_install "$2" || true
  have_tool "$1" && return
  echo "the tests need $1: sudo apt-get install -y $2" >&2
  exit 1
}
if [ "${REQUIRE_TEST_TOOLS:-}" = "1" ]; then
  # Integration tests start private nats-servers (and stop them on purpose), check alert rules, build manifests, drive a browser.
  ensure_tool nats-server nats-server
  ensure_tool promtool prometheus
  ensure_tool kubectl kubernetes-client
  ensure_tool chromium chromium
fi
