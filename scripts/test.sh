#!/usr/bin/env bash
# Runs every test: `bash scripts/test.sh` (extra arguments go to `cargo test`).
# The PostgreSQL tests get a server from `with-postgres.sh`: TEST_DATABASE_URL if set, else a
# throwaway cluster on a free loopback port. Then the conformance checker runs against both
# examples.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/with-postgres.sh cargo test --workspace "$@"
echo
bash scripts/check-examples.sh
