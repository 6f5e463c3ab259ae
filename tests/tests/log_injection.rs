//! A value from a request cannot forge a log line: the server runs as its own process, its
//! standard output is the log, and a resource id carrying CR/LF and a made-up log line is
//! written escaped, on the one line that mentions it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use addon_tests::*;

/// The server process, killed when the test ends however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const FORGED: &str = "2026-01-01T00:00:00.000000Z  INFO addon_runtime: FORGED admin signed in";

#[tokio::test]
async fn a_resource_id_with_cr_lf_stays_on_one_escaped_log_line() {
    let database = std::env::temp_dir().join(format!("log-injection-{}.db", new_uuid()));
    let child = Command::new(env!("CARGO_BIN_EXE_test-addon-server"))
        .env("DATABASE_URL", format!("sqlite://{}", database.display()))
        .env("TEST_ADDON_LOG", "1")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .spawn()
        .expect("the test server starts");
    let mut server = Server(child);
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let stdout = server.0.stdout.take().unwrap();
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    let listening = async || lines.lock().unwrap().iter().any(|l| l.starts_with("listening on "));
    assert!(eventually(Duration::from_secs(20), listening).await, "the server starts");
    let url = lines
        .lock()
        .unwrap()
        .iter()
        .find_map(|l| l.strip_prefix("listening on ").map(str::to_owned))
        .unwrap();

    let id = format!("x%0d%0a{}", FORGED.replace(' ', "%20"));
    let response = client()
        .delete(format!("{url}/heroku/resources/{id}"))
        .basic_auth(ID, Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_client_error(), "{}", response.status());
    let message = json_message(response).await;
    assert!(message.contains("FORGED"), "the refusal quotes the id: {message}");

    let mentions = async || lines.lock().unwrap().iter().any(|l| l.contains("FORGED"));
    assert!(eventually(Duration::from_secs(5), mentions).await, "the refusal is logged");
    // The request's last line, so everything it logged has been written.
    let answered =
        async || lines.lock().unwrap().iter().any(|l| l.contains("answered") && l.contains("status=4"));
    assert!(eventually(Duration::from_secs(5), answered).await);
    let lines = lines.lock().unwrap().clone();
    // The decoded id (with its spaces; the request's path in every line keeps `%20`).
    let mentioning: Vec<_> = lines.iter().filter(|l| l.contains("FORGED admin")).collect();
    assert_eq!(mentioning.len(), 1, "one line for the request's id: {lines:#?}");
    assert!(mentioning[0].contains("\\r\\n"), "CR/LF written escaped: {}", mentioning[0]);
    assert!(!lines.iter().any(|l| l.starts_with("2026-01-01T00:00:00")), "no forged line: {lines:#?}");
    drop(server);
    let _ = std::fs::remove_file(database);
}
