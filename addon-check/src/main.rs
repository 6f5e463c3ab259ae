//! `addon-check`: the conformance checker's command line.
//!
//! ```text
//! addon-check check --manifest addon-manifest.json [--url http://127.0.0.1:5000] [--plans test,basic]
//!                   [--heroku-port 7500 --oauth-secret S] [--allow-remote] [--json]
//! addon-check manifest addon-manifest.json
//! addon-check sso <resource-id> --manifest addon-manifest.json [--serve]
//! ```

use std::process::ExitCode;

use addon_check::{Options, Report, Status};

const USAGE: &str = "usage:
  addon-check check --manifest FILE [--url URL] [--plans A,B] [--heroku-port PORT --oauth-secret SECRET] [--allow-remote] [--json]
      plays Heroku against the add-on running at the manifest's test URLs (or --url)
  addon-check manifest FILE
      checks a manifest against every rule and explains each problem
  addon-check sso RESOURCE_ID --manifest FILE [--url URL] [--serve]
      prints (or serves on 127.0.0.1) a page that signs in to the resource as Heroku's dashboard does";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("check") => check(&args[1..]).await,
        Some("manifest") => manifest(&args[1..]),
        Some("sso") => sso(&args[1..]).await,
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::from(2)
        }
    }
}

/// `--name value` pairs and flags.
struct Args<'a> {
    args: &'a [String],
}

impl<'a> Args<'a> {
    fn value(&self, name: &str) -> Result<Option<&'a str>, String> {
        match self.args.iter().position(|a| a == name) {
            Some(i) => self
                .args
                .get(i + 1)
                .map(|v| Some(v.as_str()))
                .ok_or_else(|| format!("{name} needs a value\n\n{USAGE}")),
            None => Ok(None),
        }
    }

    fn flag(&self, name: &str) -> bool {
        self.args.iter().any(|a| a == name)
    }

    fn read_manifest(&self) -> Result<String, String> {
        let path =
            self.value("--manifest")?.ok_or_else(|| format!("--manifest FILE is required\n\n{USAGE}"))?;
        std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))
    }
}

async fn check(args: &[String]) -> Result<ExitCode, String> {
    let args = Args { args };
    let mut options = Options {
        manifest: args.read_manifest()?,
        allow_remote: args.flag("--allow-remote"),
        ..Options::default()
    };
    options.url = args.value("--url")?.map(str::to_owned);
    if let Some(plans) = args.value("--plans")? {
        options.plans =
            plans.split(',').map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned).collect();
    }
    if let Some(port) = args.value("--heroku-port")? {
        options.heroku_port =
            Some(port.parse().map_err(|_| format!("--heroku-port takes a port number, not `{port}`"))?);
    }
    if let Some(secret) = args.value("--oauth-secret")? {
        options.oauth_secret = secret.to_owned();
    }
    let json = args.flag("--json");
    let report = addon_check::run(options, |outcome| {
        if !json {
            println!("{}", outcome.line());
        }
    })
    .await;
    if json {
        println!("{}", serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?);
    } else {
        print_summary(&report);
    }
    Ok(if report.count(Status::Fail) == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn print_summary(report: &Report) {
    println!();
    if report.count(Status::Warn) > 0 {
        println!("{} warnings", report.count(Status::Warn));
    }
    println!("{}", report.summary());
}

fn manifest(args: &[String]) -> Result<ExitCode, String> {
    let path = args.first().ok_or_else(|| format!("which manifest?\n\n{USAGE}"))?;
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let manifest =
        addon_manifest::Manifest::from_json(&text).map_err(|e| format!("{path} is not a manifest: {e}"))?;
    let problems = manifest.problems();
    if problems.is_empty() {
        println!("{path}: `{}` obeys every rule", manifest.id);
        return Ok(ExitCode::SUCCESS);
    }
    for problem in &problems {
        println!("{}: {}", problem.field, problem.message);
    }
    println!("\n{} problems", problems.len());
    Ok(ExitCode::FAILURE)
}

async fn sso(args: &[String]) -> Result<ExitCode, String> {
    let resource =
        args.first().filter(|a| !a.starts_with("--")).ok_or_else(|| format!("which resource?\n\n{USAGE}"))?;
    let args = Args { args: &args[1..] };
    let manifest = addon_manifest::Manifest::from_json(&args.read_manifest()?).map_err(|e| e.to_string())?;
    let mut heroku = addon_testing::Simulator::from_manifest(&manifest)?;
    if let Some(url) = args.value("--url")? {
        heroku = heroku.at(url);
    }
    let form = heroku.sso_form(addon_manifest::TokenKind::UserScoped, resource, addon_testing::now());
    let page = heroku.auto_submit_page(&form);
    if !args.flag("--serve") {
        println!("{page}");
        return Ok(ExitCode::SUCCESS);
    }
    // A fresh page on every request: the token's timestamp is only good for five minutes.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    println!(
        "open http://{}/ to sign in to {resource} (Ctrl-C to stop)",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    let resource = resource.clone();
    loop {
        let (mut stream, _) = listener.accept().await.map_err(|e| e.to_string())?;
        let form = heroku.sso_form(addon_manifest::TokenKind::UserScoped, &resource, addon_testing::now());
        let page = heroku.auto_submit_page(&form);
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}",
            page.len()
        );
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request).await;
            let _ = stream.write_all(response.as_bytes()).await;
        });
    }
}
