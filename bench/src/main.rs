//! `addon-bench`: acme-logs beside a hand-written axum server of the same durability, endpoint
//! by endpoint. Run everything with `bash scripts/bench.sh` (see BENCHMARKS.md).
//!
//! - `addon-bench` compares the servers: it starts each on core 1 and loads it from its own core;
//!   `BENCH_SECONDS` (10), `BENCH_WARM_UP` (2), `BENCH_ROUNDS` (5), `BENCH_CONNECTIONS` (32),
//!   `BENCH_ENDPOINTS` (the five of the comparison; also `not-found`, a path no route knows:
//!   what each server's stack costs with no work), `BENCH_DATABASES` (`sqlite postgres`) and
//!   `BENCH_SERVERS` (`baseline acme-logs acme-logs-warn acme-logs-pair`; the first is the
//!   reference; `-pair` is two acme-logs processes on one database sharing the connections)
//!   change it, and `BENCH_RSS_EVERY` (seconds) prints each server's RSS that often while it is
//!   measured (the no-growth check: `BENCH_SECONDS=60 BENCH_RSS_EVERY=10`);
//! - `addon-bench baseline` is the hand-written server (configured by the environment).

mod baseline;
mod load;
mod run;

fn list(name: &str, default: &[&str]) -> Vec<String> {
    match std::env::var(name) {
        Ok(value) => value.split([' ', ',']).filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        Err(_) => default.iter().map(|s| (*s).to_owned()).collect(),
    }
}

fn number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("baseline") {
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
        runtime.block_on(baseline::serve());
        return;
    }
    let options = run::Options {
        seconds: number("BENCH_SECONDS", 10),
        warm_up: number("BENCH_WARM_UP", 2),
        rounds: number("BENCH_ROUNDS", 5) as usize,
        connections: number("BENCH_CONNECTIONS", 32) as usize,
        endpoints: list("BENCH_ENDPOINTS", &run::ENDPOINTS),
        databases: list("BENCH_DATABASES", &["sqlite", "postgres"]),
        servers: list("BENCH_SERVERS", &["baseline", "acme-logs", "acme-logs-warn", "acme-logs-pair"]),
        rss_every: Some(number("BENCH_RSS_EVERY", 0)).filter(|&s| s > 0).map(std::time::Duration::from_secs),
    };
    // One thread: the load stays on the core it was given (`taskset -c 0`).
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    runtime.block_on(run::compare(&options));
}
