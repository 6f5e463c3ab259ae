//! The load: keep-alive HTTP/1.1 connections over raw sockets, each sending one request after
//! another and timing each answer, as `wrk` does; the requests are prepared bytes, so the client
//! costs little of its core.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Makes the `n`th request's bytes.
pub type MakeRequest = Arc<dyn Fn(u64) -> Vec<u8> + Send + Sync>;

/// What one measurement gave.
#[derive(Debug, Clone)]
pub struct Measured {
    pub requests: u64,
    pub seconds: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

impl Measured {
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

/// One request and its answer: the status and the raw header block.
pub struct Answer {
    pub status: u16,
    pub head: String,
}

/// Sends one request on a fresh connection (set-up steps: a provision, an SSO login).
pub async fn once(port: u16, request: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.expect("the server");
    let mut buffer = Vec::new();
    exchange(&mut stream, request, &mut buffer).await.expect("an answer")
}

/// `connections` clients for `warm_up` (not counted), then for `duration`; every answer must have
/// status `expect`, or the benchmark stops: a rate of errors is no rate. Client `i` talks to
/// `ports[i % ports.len()]` (several instances of one server share the load evenly).
pub async fn run(
    ports: &[u16],
    connections: usize,
    warm_up: Duration,
    duration: Duration,
    expect: u16,
    make: MakeRequest,
) -> Measured {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let counting = started + warm_up;
    let end = counting + duration;
    let workers: Vec<_> = (0..connections)
        .map(|i| {
            let (next, make) = (next.clone(), make.clone());
            let port = ports[i % ports.len()];
            tokio::spawn(async move {
                let mut stream = TcpStream::connect(("127.0.0.1", port)).await.expect("the server");
                stream.set_nodelay(true).expect("nodelay");
                let mut buffer = Vec::with_capacity(4096);
                let mut latencies = Vec::with_capacity(1 << 16);
                loop {
                    let sent = Instant::now();
                    if sent >= end {
                        break;
                    }
                    let request = make(next.fetch_add(1, Ordering::Relaxed));
                    let answer = match exchange(&mut stream, &request, &mut buffer).await {
                        Ok(answer) => answer,
                        Err(e) => panic!("request failed: {e}"),
                    };
                    assert_eq!(answer.status, expect, "unexpected answer:\n{}", answer.head);
                    if sent >= counting {
                        latencies.push(sent.elapsed().as_micros() as u32);
                    }
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await.expect("a load worker"));
    }
    let seconds = started.elapsed().saturating_sub(warm_up).as_secs_f64().max(f64::MIN_POSITIVE);
    latencies.sort_unstable();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |&us| f64::from(us) / 1000.0)
    };
    Measured { requests: latencies.len() as u64, seconds, p50_ms: at(0.50), p99_ms: at(0.99) }
}

/// Writes a request and reads one answer (header block, then `Content-Length` bytes).
async fn exchange(stream: &mut TcpStream, request: &[u8], buffer: &mut Vec<u8>) -> std::io::Result<Answer> {
    stream.write_all(request).await?;
    buffer.clear();
    let broken = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if stream.read_buf(buffer).await? == 0 {
            return Err(broken("the server closed the connection"));
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let status = head.get(9..12).and_then(|s| s.parse().ok()).ok_or_else(|| broken("no status"))?;
    let length = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse::<usize>().ok())
        .ok_or_else(|| broken("no content-length"))?;
    while buffer.len() < head_end + length {
        if stream.read_buf(buffer).await? == 0 {
            return Err(broken("the body was cut short"));
        }
    }
    Ok(Answer { status, head })
}
