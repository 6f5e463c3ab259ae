//! The server's limits over real sockets: idle and slow clients, connection and request caps,
//! header and body deadlines. Each test serves the test add-on in-process on 127.0.0.1.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use addon_runtime::{App, ServerLimits, Settings};
use addon_tests::*;
use axum::routing::get;
use axum::Router;
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn limits(change: impl FnOnce(&mut ServerLimits)) -> Settings {
    let mut limits = ServerLimits::default();
    change(&mut limits);
    Settings::development(PASSWORD, SALT).with_server_limits(limits)
}

fn address(server: &TestServer) -> String {
    server.url.trim_start_matches("http://").to_owned()
}

/// Whether the server closed `stream`: a read that ends (or fails) rather than waits.
fn is_closed(stream: &TcpStream) -> bool {
    let mut byte = [0u8; 1];
    match stream.try_read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
    }
}

/// Waits until the server closes `stream`; how long that took, or `None` within `limit`.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buffer = [0u8; 4096];
    loop {
        match tokio::time::timeout_at((started + limit).into(), stream.read(&mut buffer)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => {}
        }
    }
}

/// Sends `request` as raw bytes and reads the answer until the server closes or `limit` passes.
async fn raw(address: &str, request: &[u8], limit: Duration) -> String {
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(limit, stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn a_thousand_idle_and_slow_connections_do_not_stop_a_request() {
    let server = TestServer::start().await;
    let address = address(&server);
    let mut held = Vec::new();
    for i in 0..1000 {
        let mut stream = TcpStream::connect(&address).await.expect("the server accepts");
        if i % 2 == 0 {
            // Half are slow: the start of a request whose headers never end.
            stream.write_all(b"POST /heroku/resources HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        }
        held.push(stream);
    }
    let started = Instant::now();
    let uuid = new_uuid();
    let response = tokio::time::timeout(Duration::from_secs(1), server.provision(&v3_body(&uuid, "basic")))
        .await
        .expect("a provision is answered within 1 s while 1,000 connections are held");
    assert_eq!(response.status(), StatusCode::OK);
    let open = held.iter().filter(|s| !is_closed(s)).count();
    println!("held {open} connections; a provision took {:?}", started.elapsed());
    assert_eq!(open, 1000, "the idle and slow connections are held, not dropped, within their timeouts");
}

#[tokio::test]
async fn past_the_connection_cap_the_server_waits_for_a_free_connection() {
    let server = TestServer::start_with(limits(|l| l.max_connections = 20)).await;
    let address = address(&server);
    let mut held = Vec::new();
    for _ in 0..20 {
        held.push(TcpStream::connect(&address).await.unwrap());
    }
    // Let the server accept all twenty before the next one arrives.
    assert!(eventually(Duration::from_secs(5), async || !held.iter().any(is_closed)).await);
    let url = format!("{}/nothing-here", server.url);
    let request = tokio::spawn(async move { client().get(url).send().await.map(|r| r.status()) });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!request.is_finished(), "the 21st connection is not served while 20 are open");
    held.pop();
    let status = tokio::time::timeout(Duration::from_secs(2), request)
        .await
        .expect("served once a connection closed")
        .unwrap()
        .unwrap();
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_idle_connection_is_closed_after_the_idle_timeout() {
    let server = TestServer::start_with(limits(|l| l.idle_timeout = Duration::from_secs(1))).await;
    let mut idle = TcpStream::connect(address(&server)).await.unwrap();
    let took = closed_within(&mut idle, Duration::from_secs(5)).await.expect("closed");
    assert!(took >= Duration::from_millis(900), "not before the idle timeout: {took:?}");
}

#[tokio::test]
async fn a_keep_alive_connection_outlives_the_header_timeout_between_requests() {
    let server = TestServer::start_with(limits(|l| l.header_timeout = Duration::from_millis(500))).await;
    let mut stream = TcpStream::connect(address(&server)).await.unwrap();
    let request = b"GET /nothing-here HTTP/1.1\r\nHost: x\r\n\r\n";
    for _ in 0..2 {
        stream.write_all(request).await.unwrap();
        let mut buffer = [0u8; 4096];
        let n = stream.read(&mut buffer).await.unwrap();
        assert!(String::from_utf8_lossy(&buffer[..n]).starts_with("HTTP/1.1 404"));
        // Idle for longer than the header timeout, shorter than the idle timeout.
        tokio::time::sleep(Duration::from_millis(900)).await;
        assert!(!is_closed(&stream), "an idle keep-alive connection is kept");
    }
}

#[tokio::test]
async fn a_client_trickling_header_lines_is_cut_off_at_the_header_timeout() {
    let server = TestServer::start_with(limits(|l| l.header_timeout = Duration::from_secs(1))).await;
    let mut stream = TcpStream::connect(address(&server)).await.unwrap();
    stream.write_all(b"GET /nothing-here HTTP/1.1\r\n").await.unwrap();
    let started = Instant::now();
    let trickle = async {
        for i in 0.. {
            tokio::time::sleep(Duration::from_millis(250)).await;
            if stream.write_all(format!("X-Slow-{i}: 1\r\n").as_bytes()).await.is_err() {
                break;
            }
            if is_closed(&stream) {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(5), trickle).await;
    let took = started.elapsed();
    println!("a slow-header client was disconnected after {took:?}");
    assert!(took < Duration::from_millis(2000), "disconnected within the header timeout: {took:?}");
    assert!(took >= Duration::from_millis(900), "not before it: {took:?}");
}

#[tokio::test]
async fn a_body_declared_far_over_the_limit_is_refused_at_once() {
    let server = TestServer::start_with(limits(|l| l.body_timeout = Duration::from_secs(2))).await;
    let request = format!(
        "POST /heroku/resources HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000000000000000\r\n\r\n{{\"a",
        basic(ID, PASSWORD)
    );
    let started = Instant::now();
    let answer = raw(&address(&server), request.as_bytes(), Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("application/json") && answer.contains("\"message\""), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(2), "answered before the body deadline");
}

#[tokio::test]
async fn a_body_that_stops_arriving_is_answered_within_the_body_deadline() {
    let server = TestServer::start_with(limits(|l| l.body_timeout = Duration::from_secs(1))).await;
    let request = format!(
        "POST /heroku/resources HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"a",
        basic(ID, PASSWORD)
    );
    let started = Instant::now();
    let answer = raw(&address(&server), request.as_bytes(), Duration::from_secs(5)).await;
    let took = started.elapsed();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"message\""), "{answer}");
    assert!(took < Duration::from_secs(2) && took >= Duration::from_millis(900), "{took:?}");
}

#[tokio::test]
async fn past_the_in_flight_cap_requests_get_a_json_503_with_retry_after() {
    let entered = Arc::new(AtomicUsize::new(0));
    let release = Arc::new(tokio::sync::Semaphore::new(0));
    let slow = {
        let (entered, release) = (entered.clone(), release.clone());
        Router::new().route(
            "/slow",
            get(move || async move {
                entered.fetch_add(1, Ordering::SeqCst);
                release.acquire().await.unwrap().forget();
                "done"
            }),
        )
    };
    let settings = limits(|l| l.max_in_flight = 2);
    let server = TestApp::build(async |store| {
        Ok::<_, addon_runtime::Error>(
            App::new(Arc::new(TestAddon::default()), settings, store)?.with_routes(slow),
        )
    })
    .await;
    let url = server.url.clone();
    let waiting: Vec<_> = (0..2)
        .map(|_| {
            let url = format!("{url}/slow");
            tokio::spawn(async move { client().get(url).send().await.unwrap().status() })
        })
        .collect();
    assert!(eventually(Duration::from_secs(5), async || entered.load(Ordering::SeqCst) == 2).await);

    let mut refused = 0;
    for _ in 0..5 {
        let response = client().get(format!("{url}/nothing-here")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()["retry-after"], "1");
        assert!(!json_message(response).await.is_empty());
        refused += 1;
    }
    println!("{refused} requests refused past the in-flight cap of 2");
    release.add_permits(2);
    for request in waiting {
        assert_eq!(request.await.unwrap(), StatusCode::OK);
    }
    let after = client().get(format!("{url}/nothing-here")).send().await.unwrap();
    assert_eq!(after.status(), StatusCode::NOT_FOUND, "served again once the slow requests ended");
}

fn basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

#[test]
fn the_limits_are_read_from_the_environment_with_clear_errors() {
    let read = |pairs: &[(&str, &str)]| {
        let pairs: Vec<(String, String)> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::from_vars::<TestAddon>(move |name| {
            pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).or_else(|| match name {
                "ADDON_PASSWORD" => Some(PASSWORD.to_owned()),
                "ADDON_SSO_SALT" => Some(SALT.to_owned()),
                _ => None,
            })
        })
    };
    let defaults = read(&[]).expect("the defaults");
    assert_eq!(defaults.server_limits(), &ServerLimits::default());
    let set = read(&[
        ("ADDON_HEADER_TIMEOUT", "3"),
        ("ADDON_BODY_TIMEOUT", "4"),
        ("ADDON_IDLE_TIMEOUT", "5"),
        ("ADDON_MAX_CONNECTIONS", "6"),
        ("ADDON_MAX_IN_FLIGHT", "7"),
    ])
    .unwrap();
    let limits = set.server_limits();
    assert_eq!(
        (limits.header_timeout, limits.body_timeout, limits.idle_timeout),
        (Duration::from_secs(3), Duration::from_secs(4), Duration::from_secs(5))
    );
    assert_eq!((limits.max_connections, limits.max_in_flight), (6, 7));
    let zero = read(&[("ADDON_MAX_IN_FLIGHT", "0")]).unwrap_err().to_string();
    assert!(zero.contains("ADDON_MAX_IN_FLIGHT is 0"), "{zero}");
    let word = read(&[("ADDON_HEADER_TIMEOUT", "soon")]).unwrap_err().to_string();
    assert!(word.contains("ADDON_HEADER_TIMEOUT is `soon`"), "{word}");
    let frames = read(&[("ADDON_FRAME_ANCESTORS", "'self'; script-src *")]).unwrap_err().to_string();
    assert!(frames.contains("ADDON_FRAME_ANCESTORS"), "{frames}");
}
