#!/usr/bin/env bash
# acme-logs beside a hand-written axum server of the same durability, every endpoint, on SQLite
# and PostgreSQL: release builds, each server pinned to core 1, the load to core 0.
#   bash scripts/bench.sh                    # BENCH_SECONDS, BENCH_ROUNDS, ... in bench/src/main.rs
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p acme-logs -p addon-bench
target="${CARGO_TARGET_DIR:-target}"
exec bash scripts/with-postgres.sh taskset -c 0 "$target/release/addon-bench"
