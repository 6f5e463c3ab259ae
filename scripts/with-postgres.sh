#!/usr/bin/env bash
# Runs a command with TEST_DATABASE_URL pointing at PostgreSQL: the one already set, or a private,
# throwaway cluster started here on a free loopback port (from Debian's `postgresql` package)
# and stopped when the command ends.
#   bash scripts/with-postgres.sh cargo test --workspace
set -euo pipefail

if [ -n "${TEST_DATABASE_URL:-}" ]; then
  exec "$@"
fi

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "PostgreSQL's server binaries are missing: install Debian's 'postgresql' package, or set TEST_DATABASE_URL." >&2
  exit 1
fi
dir=$(mktemp -d /tmp/addon-pg.XXXXXX)
run=()
# PostgreSQL refuses to run as root; CI runs as root, so the cluster belongs to `postgres`.
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$dir"
  run=(runuser -u postgres --)
fi
stop() {
  "${run[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${run[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >/dev/null
"${run[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
echo "PostgreSQL: $TEST_DATABASE_URL ($("$bin/postgres" --version))"
"$@"
