//! Sending a body the add-on may refuse before reading it all.
//!
//! An add-on that answers a 2 MiB body with 413 after reading part of it, and closes the
//! connection, has answered correctly; but an HTTP client still writing the body then fails with
//! a broken pipe and drops the answer that had already arrived. So for an `http://` add-on this
//! check writes the request itself, on its own task, and reads whatever comes back, whatever the
//! add-on did with the rest of the body. (An `https://` add-on goes through the usual client.)

use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::Answer;
use crate::Context;

/// Connecting, writing and reading together take at most this.
const PATIENCE: Duration = Duration::from_secs(30);

/// Sends `request` (built with the simulator, so with Heroku's credentials and headers) and
/// reads the answer; `None` if there was none.
pub(crate) async fn send(context: &Context, what: &str, request: reqwest::RequestBuilder) -> Option<Answer> {
    let request = request.build().ok()?;
    if request.url().scheme() != "http" {
        let request = reqwest::RequestBuilder::from_parts(context.heroku.client.clone(), request);
        return Answer::read(context.timed(what, request).await).await;
    }
    let started = Instant::now();
    let answer = tokio::time::timeout(PATIENCE, exchange(&request)).await.ok().flatten();
    context.record_time(what, started.elapsed());
    answer
}

async fn exchange(request: &reqwest::Request) -> Option<Answer> {
    let url = request.url();
    let host = url.host_str()?;
    let port = url.port_or_known_default()?;
    let body = request.body().and_then(reqwest::Body::as_bytes).unwrap_or_default().to_vec();
    let target = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    };
    let mut head = format!("{} {target} HTTP/1.1\r\nHost: {host}:{port}\r\n", request.method());
    for (name, value) in request.headers() {
        head.push_str(&format!("{name}: {}\r\n", value.to_str().ok()?));
    }
    head.push_str(&format!("Content-Length: {}\r\nConnection: close\r\n\r\n", body.len()));

    let (mut reader, mut writer) = TcpStream::connect((host, port)).await.ok()?.into_split();
    // The write may fail half-way when the add-on refuses early: that is its right. The write
    // side stays open until the answer is in (servers may drop a connection half-closed early).
    let write = async {
        let _ = writer.write_all(head.as_bytes()).await;
        let _ = writer.write_all(&body).await;
    };
    let read = async {
        let mut received = Vec::new();
        let mut buffer = [0u8; 16 * 1024];
        // A reset after the answer arrived still leaves the answer in `received`.
        while let Ok(n) = reader.read(&mut buffer).await {
            if n == 0 {
                break;
            }
            received.extend_from_slice(&buffer[..n]);
            // An add-on that keeps the connection open anyway is not waited for.
            if parse(&received).is_some_and(|answer| answer.complete) {
                break;
            }
        }
        received
    };
    let ((), received) = tokio::join!(write, read);
    parse(&received).map(|parsed| parsed.answer)
}

/// An HTTP/1.1 answer: status line, headers, then a body sized by `Content-Length`, chunked, or
/// running to the end of the connection.
fn parse(received: &[u8]) -> Option<Parsed> {
    let split = find(received, b"\r\n\r\n")?;
    let head = std::str::from_utf8(&received[..split]).ok()?;
    let rest = &received[split + 4..];
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let mut headers = HeaderMap::new();
    for line in lines {
        let (name, value) = line.split_once(':')?;
        headers.append(
            HeaderName::from_bytes(name.trim().as_bytes()).ok()?,
            HeaderValue::from_str(value.trim()).ok()?,
        );
    }
    let chunked = headers
        .get(reqwest::header::TRANSFER_ENCODING)
        .is_some_and(|v| v.to_str().is_ok_and(|v| v.eq_ignore_ascii_case("chunked")));
    let length = headers.get(reqwest::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse().ok());
    let (body, complete) = match (chunked, length) {
        (true, _) => (dechunk(rest)?, true),
        (false, Some(length)) => (rest.get(..length)?.to_vec(), true),
        (false, None) => (rest.to_vec(), false),
    };
    let answer = Answer { status, headers, body: String::from_utf8_lossy(&body).into_owned() };
    Some(Parsed { answer, complete })
}

/// An answer as far as it has arrived.
struct Parsed {
    answer: Answer,
    /// Its end is known to have arrived (a body running to the end of the connection is not).
    complete: bool,
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = find(data, b"\r\n")?;
        let size = std::str::from_utf8(&data[..line_end]).ok()?.split(';').next()?.trim();
        let size = usize::from_str_radix(size, 16).ok()?;
        if size == 0 {
            return Some(body);
        }
        data = &data[line_end + 2..];
        body.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::*;
    use crate::Options;

    /// An add-on that answers 413 as soon as it has the headers and closes without reading the
    /// 4 MiB body: the answer is read all the same, every time.
    #[tokio::test]
    async fn an_answer_sent_before_the_body_was_read_is_read() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let rounds = 5;
        let server = std::thread::spawn(move || {
            for _ in 0..rounds {
                let (mut stream, _) = listener.accept().unwrap();
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap() == 1 {
                    head.push(byte[0]);
                }
                let body = r#"{"message":"too large"}"#;
                let answer = format!(
                    "HTTP/1.1 413 Payload Too Large\r\ncontent-type: application/json\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                stream.write_all(answer.as_bytes()).unwrap();
                // Dropped with the body unread: the kernel resets the connection.
            }
        });
        let manifest = serde_json::json!({
            "id": "early", "name": "Early",
            "api": {
                "config_vars": ["EARLY_URL"], "password": "early-password-0123456789abcdef", "sso_salt": "early-salt-0123456789abcdef",
                "regions": ["us"], "requires": [], "version": "3",
                "production": {"base_url": "https://early.example/heroku/resources", "sso_url": "https://early.example/sso/login"},
                "test": {"base_url": format!("http://127.0.0.1:{port}/heroku/resources"), "sso_url": format!("http://127.0.0.1:{port}/sso/login")}
            }
        });
        let options = Options { manifest: manifest.to_string(), ..Options::default() };
        let context = Context::new(options, Box::new(|_| {})).await.unwrap();
        for round in 0..rounds {
            let request = context
                .heroku
                .heroku(reqwest::Method::POST, "")
                .header("Content-Type", "application/json")
                .body(vec![b'x'; 4 * 1024 * 1024]);
            let answer = send(&context, "huge", request).await.unwrap_or_else(|| panic!("round {round}"));
            assert_eq!(answer.status, 413);
            assert!(answer.is_json_refusal(), "{}", answer.body);
        }
        server.join().unwrap();
    }

    #[test]
    fn answers_with_a_length_chunked_or_to_the_end_are_read() {
        let sized = parse(b"HTTP/1.1 413 Payload Too Large\r\ncontent-length: 2\r\n\r\n{}trailing").unwrap();
        assert_eq!((sized.answer.status, sized.answer.body.as_str(), sized.complete), (413, "{}", true));
        let chunked = parse(b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{\"m\r\n2;x=y\r\n\"}\r\n0\r\n\r\n")
            .unwrap();
        assert_eq!((chunked.answer.status, chunked.answer.body.as_str()), (400, "{\"m\"}"));
        let open = parse(b"HTTP/1.0 200 OK\r\n\r\nall of it").unwrap();
        assert_eq!((open.answer.body.as_str(), open.complete), ("all of it", false));
        assert!(parse(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort").is_none());
        assert!(parse(b"not http").is_none());
    }
}
