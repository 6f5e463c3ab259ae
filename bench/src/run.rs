//! The comparison: each server on core 1 (`taskset -c 1`), the load on this process's core,
//! every endpoint measured over interleaved rounds, and a table of medians.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sha1::{Digest, Sha1};

use crate::load::{self, Measured};

const ID: &str = "acme-logs";
const PASSWORD: &str = "bench-password-0123456789abcdefghij";
const SALT: &str = "bench-sso-salt-0123456789abcdefghijk";
const PLAN: &str = "test";

pub const ENDPOINTS: [&str; 5] =
    ["sso", "provision-replay", "plan-change-same", "session-page", "provision-new"];

/// How the run is configured (from `BENCH_*` variables).
pub struct Options {
    pub seconds: u64,
    pub warm_up: u64,
    pub rounds: usize,
    pub connections: usize,
    pub endpoints: Vec<String>,
    pub databases: Vec<String>,
    pub servers: Vec<String>,
    /// Print each server's RSS this often while it is measured (`BENCH_RSS_EVERY`, seconds).
    pub rss_every: Option<Duration>,
}

/// One server as started (one process, or two on one database for `-pair`): its processes,
/// their ports, and the resource the fixed requests name.
struct Running {
    children: Vec<Child>,
    ports: Vec<u16>,
    uuid: String,
    cookie: String,
}

impl Running {
    fn pids(&self) -> Vec<u32> {
        self.children.iter().map(Child::id).collect()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The figures of one (endpoint, server, round).
#[derive(Clone)]
struct Sample {
    measured: Measured,
    cpu_us_per_request: f64,
    /// The database server's CPU per request: PostgreSQL's processes on this machine, `None`
    /// on SQLite (it runs inside the server, in `cpu_us_per_request`) or with none here.
    db_us_per_request: Option<f64>,
}

pub async fn compare(options: &Options) {
    let bin = std::env::current_exe().expect("this binary").parent().expect("its folder").to_path_buf();
    let tick = clock_ticks();
    println!(
        "{} s per measurement after {} s of warm-up, {} rounds, {} connections; servers on core 1, load on core 0",
        options.seconds, options.warm_up, options.rounds, options.connections
    );
    for database in &options.databases {
        let scratch = std::env::temp_dir().join(format!("addon-bench-{}-{database}", std::process::id()));
        std::fs::create_dir_all(&scratch).expect("a scratch folder");
        let mut servers: Vec<(String, Running)> = Vec::new();
        for name in &options.servers {
            servers.push((name.clone(), start(&bin, name, database, &scratch).await));
        }
        let mut samples: BTreeMap<(String, String), Vec<Sample>> = BTreeMap::new();
        let mut rss: BTreeMap<String, Vec<(u64, u64)>> = BTreeMap::new();
        for round in 0..options.rounds {
            for endpoint in &options.endpoints {
                // Interleaved: each round starts with another server, so drift hits all alike.
                for k in 0..servers.len() {
                    let (name, server) = &servers[(k + round) % servers.len()];
                    let sample = measure(server, endpoint, database, options, tick).await;
                    eprintln!(
                        "{database} round {} {endpoint:>16} {name:>14}: {:>8.0} req/s p50 {:.2} ms p99 {:.2} ms {:.1} us/req{}",
                        round + 1,
                        sample.measured.per_second(),
                        sample.measured.p50_ms,
                        sample.measured.p99_ms,
                        sample.cpu_us_per_request,
                        sample.db_us_per_request.map(|db| format!(", database {db:.1} us/req")).unwrap_or_default()
                    );
                    samples.entry((endpoint.clone(), name.clone())).or_default().push(sample);
                }
            }
            for (name, server) in &servers {
                // A pair's figure is its larger instance's.
                let each = server.pids().into_iter().map(memory);
                rss.entry(name.clone()).or_default().push(each.max().unwrap_or_default());
            }
        }
        report(database, options, &samples, &rss);
        drop(servers);
        let _ = std::fs::remove_dir_all(&scratch);
    }
}

fn clock_ticks() -> f64 {
    let out = Command::new("getconf").arg("CLK_TCK").output().expect("getconf");
    String::from_utf8_lossy(&out.stdout).trim().parse().expect("CLK_TCK")
}

/// User and system CPU time of one of the servers' processes, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    process_ticks(pid).expect("the server's /proc/<pid>/stat")
}

/// User and system CPU time of a process, in clock ticks (`/proc/<pid>/stat` fields 14 and 15);
/// `None` if it is gone.
fn process_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = stat.get(stat.rfind(')')? + 2..)?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// User and system CPU time of every PostgreSQL process on this machine (its backends, WAL
/// writer, checkpointer), in clock ticks; `None` if there is none (a server elsewhere). A
/// backend that exits during a measurement takes its ticks along: the servers keep theirs open.
fn postgres_ticks() -> Option<u64> {
    let mut found = None;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim_end() == "postgres" {
            // One that exited since it was listed counts nothing.
            found = Some(found.unwrap_or(0) + process_ticks(pid).unwrap_or(0));
        }
    }
    found
}

/// Resident and peak resident memory in KiB (`VmRSS`, `VmHWM`).
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

fn database_url(database: &str, scratch: &Path, name: &str) -> String {
    match database {
        "sqlite" => format!("sqlite://{}?mode=rwc", scratch.join(format!("{name}.db")).display()),
        "postgres" => std::env::var("TEST_DATABASE_URL")
            .expect("TEST_DATABASE_URL: run through scripts/with-postgres.sh"),
        other => panic!("unknown database {other}: sqlite or postgres"),
    }
}

/// Starts a server pinned to core 1 (`acme-logs-pair`: two acme-logs processes on one
/// database), waits until it answers, provisions the resource the fixed requests name and signs
/// in once for the session page.
async fn start(bin: &Path, name: &str, database: &str, scratch: &Path) -> Running {
    let instances = if name.ends_with("-pair") { 2 } else { 1 };
    let mut children = Vec::new();
    let mut ports = Vec::new();
    for instance in 0..instances {
        let port = free_port();
        children.push(spawn(bin, name, instance, port, database, scratch));
        let started = Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(started.elapsed() < Duration::from_secs(60), "{name} did not start; see its log");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        ports.push(port);
    }
    let port = ports[0];
    let uuid = uuid(rand32(), 0);
    let answer = load::once(port, &provision_request(port, &uuid, 0)).await;
    assert_eq!(answer.status, 200, "{name}: the first provision:\n{}", answer.head);
    let answer = load::once(port, &sso_request(port, &uuid)).await;
    assert_eq!(answer.status, 303, "{name}: the first sign-in:\n{}", answer.head);
    let cookie = answer
        .head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
        .map(|(_, v)| v.trim().split(';').next().unwrap_or_default().to_owned())
        .find(|c| !c.starts_with("heroku-nav-data"))
        .expect("a session cookie");
    Running { children, ports, uuid, cookie }
}

/// One server process on core 1, its output to `<name>[-<instance>].log` in `scratch`; every
/// instance of a name shares its database.
fn spawn(bin: &Path, name: &str, instance: usize, port: u16, database: &str, scratch: &Path) -> Child {
    let (program, args): (PathBuf, Vec<&str>) = match name {
        "baseline" => (bin.join("addon-bench"), vec!["baseline"]),
        _ => (bin.join("acme-logs"), vec![]),
    };
    let log = std::fs::File::create(scratch.join(format!("{name}-{instance}.log"))).expect("a log file");
    let mut command = Command::new("taskset");
    command
        .arg("-c")
        .arg("1")
        .arg(&program)
        .args(args)
        .current_dir(scratch)
        .env("DATABASE_URL", database_url(database, scratch, name))
        .env("HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("ADDON_PASSWORD", PASSWORD)
        .env("ADDON_SSO_SALT", SALT)
        .env("BENCH_ID", ID)
        .env("BENCH_PASSWORD", PASSWORD)
        .env("BENCH_SALT", SALT)
        .env("BENCH_CONFIG_VAR", "ACME_LOGS_URL")
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("the log file"))
        .stderr(log);
    // `acme-logs` logs as users run it (one line per request); `acme-logs-warn` only warnings.
    command.env("RUST_LOG", if name == "acme-logs-warn" { "warn" } else { "info" });
    command.spawn().unwrap_or_else(|e| panic!("starting {}: {e}", program.display()))
}

async fn measure(server: &Running, endpoint: &str, database: &str, options: &Options, tick: f64) -> Sample {
    // The Host header names the first instance; no server routes on it.
    let port = server.ports[0];
    let (make, expect): (load::MakeRequest, u16) = match endpoint {
        "provision-new" => {
            let prefix = rand32();
            (Arc::new(move |n| provision_request(port, &uuid(prefix, n + 1), n + 1)), 200)
        }
        "provision-replay" => fixed(provision_request(port, &server.uuid, 0), 200),
        "plan-change-same" => fixed(plan_request(port, &server.uuid), 200),
        "sso" => fixed(sso_request(port, &server.uuid), 303),
        "session-page" => fixed(page_request(port, &server.cookie), 303),
        "not-found" => fixed(request("GET", port, "/nothing-here", &[], ""), 404),
        other => panic!("unknown endpoint {other}; one of {ENDPOINTS:?}"),
    };
    let c = options.connections;
    let warm = Duration::from_secs(options.warm_up);
    let ports = &server.ports;
    load::run(ports, c, Duration::ZERO, warm, expect, make.clone()).await;
    let pids = server.pids();
    let sampler = options.rss_every.map(|every| tokio::spawn(trace_rss(pids[0], every)));
    let cpu = || pids.iter().map(|&pid| cpu_ticks(pid)).sum::<u64>();
    let db = || if database == "postgres" { postgres_ticks() } else { None };
    let (before, db_before) = (cpu(), db());
    let measured =
        load::run(ports, c, Duration::ZERO, Duration::from_secs(options.seconds), expect, make).await;
    let (cpu_us, db_after) = ((cpu() - before) as f64 / tick * 1e6, db());
    if let Some(sampler) = sampler {
        sampler.abort();
    }
    let requests = measured.requests.max(1) as f64;
    let db_us_per_request = db_before
        .zip(db_after)
        .map(|(before, after)| after.saturating_sub(before) as f64 / tick * 1e6 / requests);
    Sample { cpu_us_per_request: cpu_us / requests, db_us_per_request, measured }
}

/// Prints the server's resident memory every `every` during a measurement (`BENCH_RSS_EVERY`),
/// so a long run shows whether it grows.
async fn trace_rss(pid: u32, every: Duration) {
    let started = Instant::now();
    loop {
        tokio::time::sleep(every).await;
        let (rss, peak) = memory(pid);
        eprintln!(
            "  rss at {:>4.0} s: {:.1} MiB (peak {:.1} MiB)",
            started.elapsed().as_secs_f64(),
            rss as f64 / 1024.0,
            peak as f64 / 1024.0
        );
    }
}

fn fixed(bytes: Vec<u8>, expect: u16) -> (load::MakeRequest, u16) {
    (Arc::new(move |_| bytes.clone()), expect)
}

fn rand32() -> u32 {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().subsec_nanos();
    nanos ^ std::process::id().rotate_left(16)
}

fn uuid(prefix: u32, n: u64) -> String {
    format!("{prefix:08x}-0000-4000-8000-{n:012x}")
}

fn basic() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{ID}:{PASSWORD}"))
}

fn request(method: &str, port: u16, path: &str, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut out = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    out.into_bytes()
}

fn provision_request(port: u16, uuid: &str, n: u64) -> Vec<u8> {
    let body = serde_json::json!({
        "uuid": uuid, "plan": PLAN, "region": "amazon-web-services::us-east-1",
        "callback_url": format!("https://api.heroku.com/addons/{uuid}"),
        "log_drain_token": format!("d.{uuid}.{n}"), "options": {}, "name": "bench"
    });
    let auth = format!("Basic {}", basic());
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
        ("Accept", "application/vnd.heroku-addons+json; version=3"),
    ];
    request("POST", port, "/heroku/resources", &headers, &body.to_string())
}

fn plan_request(port: u16, uuid: &str) -> Vec<u8> {
    let auth = format!("Basic {}", basic());
    let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/json")];
    request("PUT", port, &format!("/heroku/resources/{uuid}"), &headers, &format!(r#"{{"plan":"{PLAN}"}}"#))
}

/// The form Heroku's dashboard posts, with the v3 and the legacy fields, stamped now.
fn sso_request(port: u16, uuid: &str) -> Vec<u8> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let token: String =
        Sha1::digest(format!("{uuid}:{SALT}:{now}").as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    let body = format!(
        "resource_id={uuid}&resource_token={token}&id={uuid}&token={token}&timestamp={now}\
         &email=user%40example.com&app=bench-app"
    );
    let headers = [("Content-Type", "application/x-www-form-urlencoded")];
    request("POST", port, "/sso/login", &headers, &body)
}

fn page_request(port: u16, cookie: &str) -> Vec<u8> {
    request("GET", port, "/dashboard", &[("Cookie", cookie)], "")
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn report(
    database: &str,
    options: &Options,
    samples: &BTreeMap<(String, String), Vec<Sample>>,
    rss: &BTreeMap<String, Vec<(u64, u64)>>,
) {
    let reference = &options.servers[0];
    println!();
    println!("### {database}");
    println!();
    println!(
        "Medians over {} rounds; ratios are medians of each round's paired ratio to `{reference}`.",
        options.rounds
    );
    println!();
    let with_db = samples.values().flatten().any(|s| s.db_us_per_request.is_some());
    let (db_head, db_rule) = if with_db { (" database CPU µs/req |", " ---: |") } else { ("", "") };
    println!("| endpoint | server | req/s | ratio | p50 ms | p99 ms | CPU µs/req | CPU ratio |{db_head}");
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |{db_rule}");
    for endpoint in &options.endpoints {
        let base = &samples[&(endpoint.clone(), reference.clone())];
        for name in &options.servers {
            let ours = &samples[&(endpoint.clone(), name.clone())];
            let pick = |f: &dyn Fn(&Sample) -> f64| median(ours.iter().map(f).collect());
            let paired = |f: &dyn Fn(&Sample) -> f64| {
                median(ours.iter().zip(base).map(|(o, b)| f(o) / f(b)).collect())
            };
            let db = if with_db {
                format!(" {:.1} |", pick(&|s| s.db_us_per_request.unwrap_or(f64::NAN)))
            } else {
                String::new()
            };
            println!(
                "| {endpoint} | {name} | {:.0} | {:.2} | {:.2} | {:.2} | {:.1} | {:.2} |{db}",
                pick(&|s| s.measured.per_second()),
                paired(&|s| s.measured.per_second()),
                pick(&|s| s.measured.p50_ms),
                pick(&|s| s.measured.p99_ms),
                pick(&|s| s.cpu_us_per_request),
                paired(&|s| s.cpu_us_per_request),
            );
        }
    }
    println!();
    for (name, rounds) in rss {
        let after: Vec<String> =
            rounds.iter().map(|(rss, _)| format!("{:.1}", *rss as f64 / 1024.0)).collect();
        let peak = rounds.iter().map(|&(_, hwm)| hwm).max().unwrap_or(0);
        println!(
            "- `{name}`: peak RSS {:.1} MiB; RSS after each round (MiB): {}",
            peak as f64 / 1024.0,
            after.join(", ")
        );
    }
}
