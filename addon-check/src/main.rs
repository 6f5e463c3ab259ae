//! `addon-check`: the conformance checker's command line. `addon-check --help` and
//! `addon-check <verb> --help` describe it.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use addon_check::{Options, Outcome, Report, Status};
use clap::{Parser, Subcommand};

/// Plays Heroku against an add-on running on this machine, whatever language it is written in,
/// and says what would go wrong at Heroku.
const EXAMPLES: &str = "Examples:
  addon-check check --manifest addon-manifest.json [--url http://127.0.0.1:5000] [--plans hobby,pro]
  addon-check check --manifest addon-manifest.json --heroku-port 7500 --oauth-secret SECRET --json
  ADDON_DO_PASSWORD=.. ADDON_DO_SSO_SALT=.. addon-check check --manifest addon-manifest.json --marketplace digitalocean
  addon-check manifest addon-manifest.json
  addon-check sso RESOURCE_ID --manifest addon-manifest.json [--serve]
  addon-check osb --url http://127.0.0.1:5100 --username USER --password PASSWORD [--json]

`addon-check check` learns the add-on's plans by provisioning one that cannot exist
(`addon-check-no-such-plan`): an add-on built with addon-runtime refuses it with a 422 that lists
its plans. Other add-ons need --plans; without plans, the checks that provision are skipped and
listed. It checks only an add-on on this machine unless --allow-remote.
`addon-check <COMMAND> --help` gives every flag.";

#[derive(Debug, Parser)]
#[command(name = "addon-check", version, propagate_version = true, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    verb: Verb,
}

#[derive(Debug, Subcommand)]
enum Verb {
    /// Plays Heroku against the add-on at the manifest's test URLs (or --url): auth,
    /// provisioning, plan changes, deprovisioning, SSO, hostile input and answer times.
    ///
    /// Exits 0 when no check fails, 1 when one does, 2 on a usage error.
    Check(CheckArgs),
    /// Checks a manifest against every rule and explains each problem.
    Manifest {
        /// The manifest file (addon-manifest.json).
        file: PathBuf,
    },
    /// Prints (or serves on 127.0.0.1) a page that signs in to a resource as Heroku's
    /// dashboard does.
    Sso {
        /// The resource's uuid.
        resource_id: String,
        /// The manifest file (addon-manifest.json).
        #[arg(long, value_name = "FILE")]
        manifest: PathBuf,
        /// Where the add-on runs, instead of the origin of the manifest's test URLs.
        #[arg(long, value_name = "URL", value_parser = addon_check::guard::parse_target)]
        url: Option<url::Url>,
        /// Serve the page on a free loopback port instead of printing it, fresh on each request.
        #[arg(long)]
        serve: bool,
    },
    /// Plays an Open Service Broker platform (OSB API v2.17) against a broker: auth and version
    /// header, catalog, provision (sync and async), replays, bind, update, deprovision.
    ///
    /// Exits 0 when no check fails, 1 when one does, 2 on a usage error.
    Osb(OsbArgs),
}

#[derive(Debug, clap::Args)]
struct OsbArgs {
    /// The broker's origin; on this machine unless --allow-remote.
    #[arg(long, value_name = "URL", value_parser = addon_check::guard::parse_target)]
    url: url::Url,
    /// The Basic auth user name the platform sends (the runtime's ADDON_OSB_USERNAME).
    #[arg(long, value_name = "USER")]
    username: String,
    /// The Basic auth password the platform sends (the runtime's ADDON_OSB_PASSWORD).
    #[arg(long, value_name = "PASSWORD")]
    password: String,
    /// How long, in seconds, an asynchronous provision or deprovision may take.
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    patience: u64,
    /// Allow a broker that is not on this machine.
    #[arg(long)]
    allow_remote: bool,
    /// Print the report as JSON on standard output, without colour.
    #[arg(long)]
    json: bool,
    /// Colour the report: `auto` only when standard output is a terminal and NO_COLOR is unset.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = When::Auto)]
    color: When,
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// The manifest file (addon-manifest.json).
    #[arg(long, value_name = "FILE")]
    manifest: PathBuf,
    /// Where the add-on runs, instead of the origin of the manifest's test URLs; on this machine
    /// unless --allow-remote, and without a user name or password.
    #[arg(long, value_name = "URL", value_parser = addon_check::guard::parse_target)]
    url: Option<url::Url>,
    /// Plans to provision with, comma-separated; the second is used for the plan change.
    /// Default: the plans the add-on lists when it refuses the plan `addon-check-no-such-plan`
    /// (as add-ons built with addon-runtime do).
    #[arg(long, value_name = "A,B")]
    plans: Option<String>,
    /// Serve a fake Platform API and OAuth server on this loopback port (start the add-on with
    /// HEROKU_API_URL and HEROKU_OAUTH_URL pointing there).
    #[arg(long, value_name = "PORT")]
    heroku_port: Option<u16>,
    /// The OAuth client secret the fake Platform API accepts.
    #[arg(long, value_name = "SECRET", default_value = "addon-check-client-secret")]
    oauth_secret: String,
    /// Allow an add-on that is not on this machine (the checker sends hostile requests and the
    /// manifest's password).
    #[arg(long)]
    allow_remote: bool,
    /// Which marketplace to play: Heroku (the default), or DigitalOcean against the add-on's
    /// DigitalOcean routes, with the password and SSO salt from ADDON_DO_PASSWORD and
    /// ADDON_DO_SSO_SALT.
    #[arg(long, value_enum, value_name = "NAME", default_value_t = MarketplaceArg::Heroku)]
    marketplace: MarketplaceArg,
    /// The prefix of the add-on's DigitalOcean routes.
    #[arg(long, value_name = "PATH", default_value = "/digitalocean")]
    do_base_path: String,
    /// The add-on's slug on DigitalOcean (the Basic auth user); default: the manifest's id.
    #[arg(long, value_name = "SLUG")]
    do_slug: Option<String>,
    /// Print the report as JSON on standard output, without colour.
    #[arg(long)]
    json: bool,
    /// A line on standard error naming each check as it starts: `auto` only when standard error
    /// is a terminal (one line, rewritten in place).
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = When::Auto)]
    progress: When,
    /// Colour the report: `auto` only when standard output is a terminal and NO_COLOR is unset.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = When::Auto)]
    color: When,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum MarketplaceArg {
    Heroku,
    Digitalocean,
}

/// The DigitalOcean mode's options; its secrets from the environment, as the add-on reads them.
fn digitalocean_options(args: &CheckArgs) -> Result<Option<addon_check::DigitalOceanOptions>, String> {
    if args.marketplace != MarketplaceArg::Digitalocean {
        return Ok(None);
    }
    let secret = |name: &str| {
        std::env::var(name).ok().filter(|v| !v.is_empty()).ok_or_else(|| {
            format!("--marketplace digitalocean needs {name} in the environment: the add-on's value from DigitalOcean's vendor portal")
        })
    };
    Ok(Some(addon_check::DigitalOceanOptions {
        base_path: args.do_base_path.trim_end_matches('/').to_owned(),
        slug: args.do_slug.clone(),
        password: secret("ADDON_DO_PASSWORD")?,
        sso_salt: secret("ADDON_DO_SSO_SALT")?,
    }))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum When {
    Auto,
    Always,
    Never,
}

#[tokio::main]
async fn main() -> ExitCode {
    let result = match Cli::parse().verb {
        Verb::Check(args) => check(args).await,
        Verb::Manifest { file } => manifest(&file),
        Verb::Sso { resource_id, manifest, url, serve } => sso(&resource_id, &manifest, url, serve).await,
        Verb::Osb(args) => osb(args).await,
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Colour only for a person at a terminal who has not asked for none (<https://no-color.org>),
/// unless `--color` says otherwise; never in JSON.
fn colour_wanted(json: bool, when: When) -> bool {
    let auto =
        || std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    !json && (when == When::Always || (when == When::Auto && auto()))
}

/// How progress is shown: a line rewritten in place at a terminal, one line per check when asked
/// for elsewhere, or nothing.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Progress {
    InPlace,
    Lines,
    Off,
}

impl Progress {
    fn new(when: When) -> Self {
        match (when, std::io::stderr().is_terminal()) {
            (When::Never, _) | (When::Auto, false) => Progress::Off,
            (_, true) => Progress::InPlace,
            (When::Always, false) => Progress::Lines,
        }
    }

    fn starting(self, count: usize, check: &str) {
        match self {
            Progress::InPlace => eprint!("\r\x1b[2K[{count:>2}] {check}…"),
            Progress::Lines => eprintln!("[{count:>2}] checking {check}…"),
            Progress::Off => {}
        }
    }

    /// Clears the line in place before standard output writes, so the two do not mix.
    fn clear(self) {
        if self == Progress::InPlace {
            eprint!("\r\x1b[2K");
        }
    }
}

async fn check(args: CheckArgs) -> Result<ExitCode, String> {
    let digitalocean = digitalocean_options(&args)?;
    let options = Options {
        manifest: read(&args.manifest)?,
        url: args.url.map(String::from),
        plans: args
            .plans
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect(),
        heroku_port: args.heroku_port,
        oauth_secret: args.oauth_secret,
        allow_remote: args.allow_remote,
        digitalocean,
    };
    let (json, colour) = (args.json, colour_wanted(args.json, args.color));
    // Progress for a person watching: on standard error, so standard output stays the report.
    let progress = Progress::new(args.progress);
    let mut started = 0;
    let report = addon_check::run_with_progress(
        options,
        move |check| {
            started += 1;
            progress.starting(started, check);
        },
        |outcome| {
            progress.clear();
            if !json {
                println!("{}", outcome_line(outcome, colour));
            }
        },
    )
    .await;
    progress.clear();
    if json {
        println!("{}", serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?);
    } else {
        print_summary(&report, colour);
    }
    Ok(if report.count(Status::Fail) == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

async fn osb(args: OsbArgs) -> Result<ExitCode, String> {
    if !args.allow_remote {
        addon_check::guard::loopback_addresses(&args.url)
            .await
            .map_err(|e| format!("{e} (pass --allow-remote)"))?;
    }
    let options = addon_check::osb::OsbOptions {
        url: args.url.to_string(),
        username: args.username,
        password: args.password,
        patience: std::time::Duration::from_secs(args.patience),
    };
    let (json, colour) = (args.json, colour_wanted(args.json, args.color));
    let report = addon_check::osb::run(options, |outcome| {
        if !json {
            println!("{}", outcome_line(outcome, colour));
        }
    })
    .await;
    if json {
        println!("{}", serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?);
    } else {
        print_summary(&report, colour);
    }
    Ok(if report.count(Status::Fail) == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// The outcome's line, its label green, yellow or red when `colour`.
fn outcome_line(outcome: &Outcome, colour: bool) -> String {
    let line = outcome.line();
    if !colour {
        return line;
    }
    let code = match outcome.status {
        Status::Pass => "32",
        Status::Warn => "33",
        Status::Fail => "31",
        Status::Skip => "36",
    };
    format!("\x1b[1;{code}m{}\x1b[0m{}", &line[..4], &line[4..])
}

fn print_summary(report: &Report, colour: bool) {
    println!();
    if report.count(Status::Warn) > 0 {
        println!("{} warnings", report.count(Status::Warn));
    }
    let skipped = report.skipped();
    if !skipped.is_empty() {
        println!("{} checks skipped (see their SKIP lines for why): {}", skipped.len(), skipped.join(", "));
    }
    let summary = report.summary();
    match (colour, report.count(Status::Fail)) {
        (false, _) => println!("{summary}"),
        (true, 0) => println!("\x1b[1;32m{summary}\x1b[0m"),
        (true, _) => println!("\x1b[1;31m{summary}\x1b[0m"),
    }
}

fn manifest(path: &Path) -> Result<ExitCode, String> {
    let text = read(path)?;
    let manifest = addon_manifest::Manifest::from_json(&text)
        .map_err(|e| format!("{} is not a manifest: {e}", path.display()))?;
    let problems = manifest.problems();
    if problems.is_empty() {
        println!("{}: `{}` obeys every rule", path.display(), manifest.id);
        return Ok(ExitCode::SUCCESS);
    }
    for problem in &problems {
        println!("{}: {}", problem.field, problem.message);
    }
    println!("\n{} problems", problems.len());
    Ok(ExitCode::FAILURE)
}

async fn sso(
    resource: &str,
    manifest: &Path,
    url: Option<url::Url>,
    serve: bool,
) -> Result<ExitCode, String> {
    let manifest = addon_manifest::Manifest::from_json(&read(manifest)?).map_err(|e| e.to_string())?;
    let mut heroku = addon_testing::Simulator::from_manifest(&manifest)?;
    if let Some(url) = url {
        heroku = heroku.at(url);
    }
    let form = heroku.sso_form(addon_manifest::TokenKind::UserScoped, resource, addon_testing::now());
    let page = heroku.auto_submit_page(&form);
    if !serve {
        println!("{page}");
        return Ok(ExitCode::SUCCESS);
    }
    // A fresh page on every request: the token's timestamp is only good for five minutes.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    println!("open http://{address}/ to sign in to {resource} (Ctrl-C to stop)");
    loop {
        let (stream, _) = listener.accept().await.map_err(|e| e.to_string())?;
        let form = heroku.sso_form(addon_manifest::TokenKind::UserScoped, resource, addon_testing::now());
        let page = heroku.auto_submit_page(&form);
        tokio::spawn(serve_page(stream, page, address.port()));
    }
}

/// Answers one request with the page, if its `Host` names this machine; 421 otherwise, so a
/// page on another site that rebinds its name to 127.0.0.1 cannot read a signed form.
async fn serve_page(mut stream: tokio::net::TcpStream, page: String, port: u16) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut request = vec![0u8; 8192];
    let mut read = 0;
    while read < request.len() {
        match stream.read(&mut request[read..]).await {
            Ok(0) | Err(_) => break,
            Ok(n) => read += n,
        }
        if request[..read].windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    let head = String::from_utf8_lossy(&request[..read]);
    let host = head
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("host"))
        .map(|(_, value)| value.trim());
    let (status, content_type, body) =
        if host.is_some_and(|h| addon_check::guard::is_loopback_host_header(h, port)) {
            ("200 OK", "text/html; charset=utf-8", page)
        } else {
            (
                "421 Misdirected Request",
                "text/plain; charset=utf-8",
                format!(
                "this page is served to loopback names only: open http://127.0.0.1:{port}/ (Host was {})\n",
                host.unwrap_or("missing")
            ),
            )
        };
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
}
