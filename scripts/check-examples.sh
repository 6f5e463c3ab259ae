#!/usr/bin/env bash
# Runs the conformance checker against the three examples as Heroku serves them, then Pingly as
# DigitalOcean and acme-datastore as an Open Service Broker, as a vendor would against their
# add-on (no --plans: the checker learns each one's plans from the 422 that refuses an unknown
# plan): each run is started on a free loopback port with a registry of its own, checked, stopped.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cargo build --quiet -p acme-logs -p acme-datastore -p pingly -p addon-check
bin=${CARGO_TARGET_DIR:-target}/debug
work=$(mktemp -d /tmp/addon-check-examples.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Starts an example in the background and waits (at most 20 s) until it listens. `AS=other start`
# gives a second run of one example its own registry and log.
start() {
  local name=$1 port=$2
  shift 2
  local as=${AS:-$name}
  env "$@" PORT="$port" DATABASE_URL="sqlite://$work/$as.db" "$bin/$name" >"$work/$as.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 200); do
    grep -q "listening on" "$work/$as.log" && return 0
    sleep 0.1
  done
  echo "$name did not start:" >&2
  cat "$work/$as.log" >&2
  return 1
}

status=0

echo "== addon-check against acme-logs"
logs_port=$(free_port)
start acme-logs "$logs_port"
"$bin/addon-check" check --manifest examples/logging/addon-manifest.json \
  --url "http://127.0.0.1:$logs_port" || status=1

echo
echo "== addon-check against acme-datastore (asynchronous, with the checker's fake Platform API)"
datastore_port=$(free_port)
heroku_port=$(free_port)
secret=check-examples-client-secret
start acme-datastore "$datastore_port" \
  HEROKU_API_URL="http://127.0.0.1:$heroku_port" HEROKU_OAUTH_URL="http://127.0.0.1:$heroku_port" \
  HEROKU_OAUTH_CLIENT_SECRET="$secret" ADDON_JOB_POLL_MS=100
"$bin/addon-check" check --manifest examples/datastore/addon-manifest.json \
  --url "http://127.0.0.1:$datastore_port" \
  --heroku-port "$heroku_port" --oauth-secret "$secret" || status=1

echo
echo "== addon-check against pingly (its own tables and API beside Heroku's routes)"
pingly_port=$(free_port)
start pingly "$pingly_port"
"$bin/addon-check" check --manifest examples/monitor/addon-manifest.json \
  --url "http://127.0.0.1:$pingly_port" || status=1

echo
echo "== addon-check --marketplace digitalocean against pingly (DigitalOcean's routes, the same impl)"
do_port=$(free_port)
do_secrets=(ADDON_DO_PASSWORD=check-examples-do-password-0123456789 ADDON_DO_SSO_SALT=check-examples-do-sso-salt-0123456789)
AS=pingly-do start pingly "$do_port" "${do_secrets[@]}"
env "${do_secrets[@]}" "$bin/addon-check" check --manifest examples/monitor/addon-manifest.json \
  --url "http://127.0.0.1:$do_port" --marketplace digitalocean || status=1
echo
echo "== addon-check osb against acme-datastore (the same impl as an Open Service Broker)"
broker_port=$(free_port)
AS=acme-datastore-osb start acme-datastore "$broker_port" ADDON_OSB_USERNAME=check-examples-platform \
  ADDON_OSB_PASSWORD=check-examples-osb-password ADDON_JOB_POLL_MS=100
"$bin/addon-check" osb --url "http://127.0.0.1:$broker_port" \
  --username check-examples-platform --password check-examples-osb-password || status=1

exit $status
