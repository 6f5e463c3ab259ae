#!/usr/bin/env bash
# Runs every test: `bash scripts/test.sh` (extra arguments go to `cargo test`).
#
# The PostgreSQL tests need a server. With TEST_DATABASE_URL set, that one is used. Otherwise
# this script starts a private, throwaway PostgreSQL cluster on a free loopback port (Debian's
# `postgresql` package provides the binaries) and stops it when the tests end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

start_postgres() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "PostgreSQL's server binaries are missing: install Debian's 'postgresql' package, or set TEST_DATABASE_URL." >&2
    exit 1
  fi
  PG_DIR=$(mktemp -d /tmp/addon-test-pg.XXXXXX)
  PG_RUN=()
  # PostgreSQL refuses to run as root; CI runs as root, so the cluster belongs to `postgres`.
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$PG_DIR"
    PG_RUN=(runuser -u postgres --)
  fi
  PG_BIN=$bin
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "${PG_RUN[@]}" "$bin/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 >/dev/null
  "${PG_RUN[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
    -o "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
  trap stop_postgres EXIT
  export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
  echo "PostgreSQL for the tests: $TEST_DATABASE_URL"
}

stop_postgres() {
  "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}

if [ -z "${TEST_DATABASE_URL:-}" ]; then
  start_postgres
fi
cargo test --workspace "$@"
