//! The example as an attacker meets it: the built binary, on its own port, sent well over 150
//! malformed or hostile requests over raw sockets (so paths, headers and lengths can be anything
//! a client can write), each followed by a normal request.
//!
//! For every case: no 5xx; a refusal is JSON with a non-empty `message` (the dashboard's own
//! pages may answer a browser with an HTML notice, and redirects and 204s are answers as
//! designed); the server still answers a provision replay. At the end the log holds no panic.
//! Every failing case is listed at once, with what it got.

mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use addon_runtime::testing::serde_json::{self, json, Value};
use addon_runtime::testing::{new_uuid, now, sha1_hex, sha256_hex, urlencode, Process, TestDatabase};
use addon_runtime::Session;
use base64::Engine;

/// How long one answer may take; the example answers in milliseconds.
const ANSWER_WITHIN: Duration = Duration::from_secs(10);

/// One hostile request: what it is, and the bytes of it up to the end of the headers' last line
/// (`Connection: close` and the blank line are added), then its body.
struct Case {
    name: String,
    head: String,
    body: Vec<u8>,
    /// Close our sending side after the body, as a client that sent less than it announced
    /// and gave up.
    half_close: bool,
    /// An HTML notice is this route's designed answer to a browser.
    html_ok: bool,
    /// The issue names this as something to refuse: a 2xx or 3xx is a failure too.
    must_refuse: bool,
}

fn case(name: impl Into<String>, head: impl Into<String>, body: impl Into<Vec<u8>>) -> Case {
    Case {
        name: name.into(),
        head: head.into(),
        body: body.into(),
        half_close: false,
        html_ok: false,
        must_refuse: false,
    }
}

/// What came back.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Sends the bytes on a fresh connection and reads the answer to its end.
fn exchange(address: &str, request: &[u8], half_close: bool) -> Result<Answer, String> {
    let mut stream = TcpStream::connect(address).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(ANSWER_WITHIN)).unwrap();
    stream.set_write_timeout(Some(ANSWER_WITHIN)).unwrap();
    // A server may answer and close before it has read a refused body; the answer still counts.
    let _ = stream.write_all(request);
    if half_close {
        let _ = stream.shutdown(Shutdown::Write);
    }
    let started = Instant::now();
    let mut raw = Vec::new();
    let mut buffer = [0u8; 65536];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buffer[..n]),
            Err(e) if raw.is_empty() => {
                return Err(format!("no answer after {:?}: {e}", started.elapsed()));
            }
            Err(_) => break,
        }
    }
    parse_answer(&raw)
}

fn parse_answer(raw: &[u8]) -> Result<Answer, String> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("no complete answer: {:?}", String::from_utf8_lossy(raw)))?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status in `{status_line}`"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    if headers.iter().any(|(n, v)| n == "transfer-encoding" && v.contains("chunked")) {
        body = unchunk(&body);
    }
    Ok(Answer { status, headers, body })
}

fn unchunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = data.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&data[..line_end])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or_default().trim(), 16).ok());
        let Some(size) = size.filter(|s| *s > 0) else { break };
        let start = line_end + 2;
        let Some(chunk) = data.get(start..start + size) else { break };
        out.extend_from_slice(chunk);
        data = data.get(start + size + 2..).unwrap_or_default();
    }
    out
}

/// What is wrong with the answer to a case, if anything.
fn judge(case: &Case, answer: &Answer) -> Option<String> {
    let body = String::from_utf8_lossy(&answer.body);
    let short: String = body.chars().take(160).collect();
    if answer.status >= 500 {
        return Some(format!("{} {short}", answer.status));
    }
    if answer.status < 400 {
        return case.must_refuse.then(|| format!("{} where a refusal was due", answer.status));
    }
    let content_type = answer.header("content-type").unwrap_or_default();
    if case.html_ok && content_type.starts_with("text/html") && !answer.body.is_empty() {
        return None;
    }
    if !content_type.starts_with("application/json") {
        return Some(format!("{} `{content_type}`, not JSON: {short:?}", answer.status));
    }
    match serde_json::from_slice::<Value>(&answer.body) {
        Ok(json) if json["message"].as_str().is_some_and(|m| !m.trim().is_empty()) => None,
        _ => Some(format!("{} JSON without a message: {short}", answer.status)),
    }
}

/// The example's secrets and one provisioned tenant, as the cases need them.
struct Target {
    auth: String,
    salt: String,
    uuid: String,
    drain_token: String,
    api_token: String,
    cookie: String,
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn get(path: &str, extra: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n{extra}")
}

fn with_body(method: &str, path: &str, headers: &str, body: &[u8]) -> Case {
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n{headers}Content-Length: {}\r\n",
        body.len()
    );
    case(format!("{method} {path} [{}]", describe(headers, body)), head, body)
}

fn describe(headers: &str, body: &[u8]) -> String {
    let headers = headers.replace("\r\n", " | ");
    let body: String = String::from_utf8_lossy(body).chars().take(50).collect();
    format!("{} {}B {body:?}", headers.chars().take(80).collect::<String>(), body.len())
}

fn sso_post(t: &Target, name: &str, fields: &[(&str, String)]) -> Case {
    let body = urlencode(&fields.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>());
    let mut c = with_body(
        "POST",
        "/sso/login",
        "Content-Type: application/x-www-form-urlencoded\r\n",
        body.as_bytes(),
    );
    c.name = format!("SSO form: {name}");
    let _ = t;
    c
}

fn resource_form(t: &Target, uuid: &str, timestamp: &str) -> Vec<(&'static str, String)> {
    vec![
        ("resource_id", uuid.to_owned()),
        ("resource_token", sha1_hex(&format!("{uuid}:{}:{timestamp}", t.salt))),
        ("timestamp", timestamp.to_owned()),
    ]
}

fn paths_and_queries(t: &Target, cases: &mut Vec<Case>) {
    let auth = format!("Authorization: {}\r\n", t.auth);
    let u = &t.uuid;
    for path in [
        "/%ff",
        "/%ff%fe%fd",
        "/dashboard/%ff",
        "/api/tenants/%ff",
        "/%00",
        "/..%2f..%2fetc%2fpasswd",
        "/heroku/resources/%c0%af",
        "//",
        "/signed-out/%ff",
        "/drain/%ff",
        &format!("/{}", "a/".repeat(2000)),
        &format!("/dashboard/{}", "x".repeat(8000)),
    ] {
        cases.push(case(format!("path {}", &path[..path.len().min(40)]), get(path, ""), ""));
    }
    for path in
        ["/heroku/resources/%ff", "/heroku/resources/%0d%0aforged:%20line", "/heroku/resources/%e2%80%ae"]
    {
        cases.push(case(format!("authenticated GET {path}"), get(path, &auth), ""));
        let delete =
            format!("DELETE {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n{auth}");
        cases.push(case(format!("DELETE {path}"), delete, ""));
    }
    let browser = "Accept: text/html\r\n";
    for query in [
        "q=%ff",
        "q=%",
        "q=%zz",
        "q=a&q=b",
        "=&&=&",
        "q[]=1",
        "before=-1",
        "before=99999999999999999999999999",
        "limit=18446744073709551616",
        "reason=%ff",
    ] {
        let mut c = case(
            format!("dashboard query {query}"),
            format!(
                "GET /dashboard/{u}?{query} HTTP/1.1\r\nHost: 127.0.0.1\r\n{browser}Cookie: {}\r\n",
                t.cookie
            ),
            "",
        );
        c.html_ok = true;
        cases.push(c);
        cases.push(case(
            format!("API query {query}"),
            get(&format!("/api/tenants/{u}?{query}"), &format!("Authorization: Bearer {}\r\n", t.api_token)),
            "",
        ));
    }
    let mut signed_out = case("signed-out page, bad reason", get("/signed-out?reason=%ff%fe", browser), "");
    signed_out.html_ok = true;
    cases.push(signed_out);
    cases.push(case(
        "API query q of 60 KB",
        get(
            &format!("/api/tenants/{u}?q={}", "a".repeat(60_000)),
            &format!("Authorization: Bearer {}\r\n", t.api_token),
        ),
        "",
    ));
}

fn methods(t: &Target, cases: &mut Vec<Case>) {
    let auth = format!("Authorization: {}\r\n", t.auth);
    let u = &t.uuid;
    for (method, path, with_auth) in [
        ("PUT", "/".to_owned(), false),
        ("DELETE", "/drain".to_owned(), false),
        ("GET", "/drain".to_owned(), false),
        ("PATCH", "/heroku/resources".to_owned(), true),
        ("GET", "/heroku/resources".to_owned(), true),
        ("POST", format!("/heroku/resources/{u}"), true),
        ("PUT", "/sso/login".to_owned(), false),
        ("DELETE", "/sso/logout".to_owned(), false),
        ("GET", "/sso/logout".to_owned(), false),
        ("TRACE", "/".to_owned(), false),
        ("OPTIONS", "/heroku/resources".to_owned(), true),
        ("DELETE", format!("/api/tenants/{u}"), false),
        ("POST", format!("/dashboard/{u}"), false),
        ("BREW", "/".to_owned(), false),
        ("PROPFIND", "/heroku/resources".to_owned(), true),
    ] {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n{}Content-Length: 0\r\n",
            if with_auth { auth.as_str() } else { "" }
        );
        cases.push(case(format!("method {method} {path}"), head, ""));
    }
}

fn basic_auth(t: &Target, cases: &mut Vec<Case>) {
    let body = json!({"uuid": new_uuid(), "plan": "test"}).to_string();
    let (id, password) = {
        let decoded = base64::engine::general_purpose::STANDARD.decode(&t.auth["Basic ".len()..]).unwrap();
        let text = String::from_utf8(decoded).unwrap();
        let (i, p) = text.split_once(':').unwrap();
        (i.to_owned(), p.to_owned())
    };
    let shapes: Vec<(&str, String)> = vec![
        ("none", String::new()),
        ("empty", "Authorization: \r\n".into()),
        ("scheme only", "Authorization: Basic\r\n".into()),
        ("scheme and space", "Authorization: Basic \r\n".into()),
        ("not base64", "Authorization: Basic !!!***\r\n".into()),
        ("bearer", format!("Authorization: Bearer {password}\r\n")),
        ("digest", "Authorization: Digest username=\"x\"\r\n".into()),
        ("no colon", format!("Authorization: Basic {}\r\n", b64(&id))),
        ("colon only", format!("Authorization: Basic {}\r\n", b64(":"))),
        ("id and colon", format!("Authorization: Basic {}\r\n", b64(format!("{id}:")))),
        ("password only", format!("Authorization: Basic {}\r\n", b64(format!(":{password}")))),
        ("wrong password", format!("Authorization: Basic {}\r\n", b64(format!("{id}:wrong")))),
        ("wrong id", format!("Authorization: Basic {}\r\n", b64(format!("other:{password}")))),
        (
            "id in upper case",
            format!("Authorization: Basic {}\r\n", b64(format!("{}:{password}", id.to_uppercase()))),
        ),
        ("password and newline", format!("Authorization: Basic {}\r\n", b64(format!("{id}:{password}\n")))),
        ("password and NUL", format!("Authorization: Basic {}\r\n", b64(format!("{id}:{password}\0")))),
        ("not UTF-8", format!("Authorization: Basic {}\r\n", b64([0xff, 0xfe, b':', 0xfd]))),
        ("8 KB", format!("Authorization: Basic {}\r\n", b64("a".repeat(6000)))),
        (
            "padding missing",
            format!("Authorization: Basic {}\r\n", b64(format!("{id}:{password}x")).trim_end_matches('=')),
        ),
        (
            "two headers, wrong first",
            format!("Authorization: Basic {}\r\nAuthorization: {}\r\n", b64("x:y"), t.auth),
        ),
        (
            "url-safe alphabet",
            format!(
                "Authorization: Basic {}\r\n",
                base64::engine::general_purpose::URL_SAFE.encode("?>?>:~~~")
            ),
        ),
        ("bytes 0x80 in header", "Authorization: Basic \u{e9}\u{e9}\r\n".into()),
    ];
    for (name, header) in shapes {
        let mut c = with_body(
            "POST",
            "/heroku/resources",
            &format!("{header}Content-Type: application/json\r\n"),
            body.as_bytes(),
        );
        c.name = format!("Basic auth: {name}");
        cases.push(c);
    }
}

fn provision_bodies(t: &Target, cases: &mut Vec<Case>) {
    let auth = format!("Authorization: {}\r\n", t.auth);
    let json_type = format!("{auth}Content-Type: application/json\r\n");
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_in_options = format!(
        "{{\"uuid\":\"{}\",\"plan\":\"test\",\"options\":{{\"k\":{}1{}}}}}",
        new_uuid(),
        "[".repeat(5000),
        "]".repeat(5000)
    );
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("blank", b"  \n ".to_vec()),
        ("open brace", b"{".to_vec()),
        ("array", b"[]".to_vec()),
        ("null", b"null".to_vec()),
        ("string", b"\"uuid\"".to_vec()),
        ("uuid a number", br#"{"uuid":1,"plan":"test"}"#.to_vec()),
        ("no plan", format!("{{\"uuid\":\"{}\"}}", new_uuid()).into_bytes()),
        ("deep array", deep.into_bytes()),
        ("deep options", deep_in_options.into_bytes()),
        ("not UTF-8", b"{\"uuid\":\"\xff\xfe\",\"plan\":\"test\"}".to_vec()),
        (
            "byte order mark",
            format!("\u{feff}{{\"uuid\":\"{}\",\"plan\":\"test\"}}", new_uuid()).into_bytes(),
        ),
        ("CR LF in uuid", br#"{"uuid":"abc\r\nforged: yes","plan":"test"}"#.to_vec()),
        ("uuid of 10 KB", format!("{{\"uuid\":\"{}\",\"plan\":\"test\"}}", "u".repeat(10_000)).into_bytes()),
        ("uuid a path", br#"{"uuid":"../../etc/passwd","plan":"test"}"#.to_vec()),
        ("plan unknown", format!("{{\"uuid\":\"{}\",\"plan\":\"platinum\"}}", new_uuid()).into_bytes()),
        ("plan with spaces", format!("{{\"uuid\":\"{}\",\"plan\":\"a b\\n\"}}", new_uuid()).into_bytes()),
        (
            "options not an object",
            format!("{{\"uuid\":\"{}\",\"plan\":\"test\",\"options\":[1]}}", new_uuid()).into_bytes(),
        ),
        (
            "drain token of 100 KB",
            format!(
                "{{\"uuid\":\"{}\",\"plan\":\"test\",\"log_drain_token\":\"{}\"}}",
                new_uuid(),
                "d".repeat(100_000)
            )
            .into_bytes(),
        ),
        (
            "drain token of another tenant",
            format!(
                "{{\"uuid\":\"{}\",\"plan\":\"test\",\"log_drain_token\":\"{}\"}}",
                new_uuid(),
                t.drain_token
            )
            .into_bytes(),
        ),
        (
            "oauth grant a string",
            format!("{{\"uuid\":\"{}\",\"plan\":\"test\",\"oauth_grant\":\"x\"}}", new_uuid()).into_bytes(),
        ),
        (
            "callback not a URL",
            format!("{{\"uuid\":\"{}\",\"plan\":\"test\",\"callback_url\":\"\\u0000\"}}", new_uuid())
                .into_bytes(),
        ),
        ("NUL in uuid", br#"{"uuid":"a\u0000b","plan":"test"}"#.to_vec()),
        (
            "2 MB",
            format!("{{\"uuid\":\"{}\",\"plan\":\"test\",\"name\":\"{}\"}}", new_uuid(), "n".repeat(2 << 20))
                .into_bytes(),
        ),
        (
            "duplicate keys",
            format!("{{\"uuid\":\"{}\",\"uuid\":\"x\",\"plan\":\"test\"}}", new_uuid()).into_bytes(),
        ),
        (
            "huge number",
            format!("{{\"uuid\":\"{}\",\"plan\":\"test\",\"x\":1e999999}}", new_uuid()).into_bytes(),
        ),
    ];
    for (name, body) in bodies {
        let mut c = with_body("POST", "/heroku/resources", &json_type, &body);
        c.name = format!("provision body: {name}");
        cases.push(c);
    }
    let good = json!({"uuid": new_uuid(), "plan": "test"}).to_string();
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonx",
        "\u{e9}\u{e9}",
        ";;;",
        "application/json; charset=\"\\",
    ] {
        let mut c = with_body(
            "POST",
            "/heroku/resources",
            &format!("{auth}Content-Type: {content_type}\r\n"),
            good.as_bytes(),
        );
        c.name = format!("provision content type {content_type}");
        cases.push(c);
    }
    let u = &t.uuid;
    for (name, method, path, body) in [
        ("plan change, garbage", "PUT", format!("/heroku/resources/{u}"), b"\x00\x01".to_vec()),
        ("plan change, no plan", "PUT", format!("/heroku/resources/{u}"), b"{}".to_vec()),
        ("plan change, plan a number", "PUT", format!("/heroku/resources/{u}"), br#"{"plan":7}"#.to_vec()),
        (
            "plan change, unknown resource",
            "PUT",
            format!("/heroku/resources/{}", new_uuid()),
            br#"{"plan":"test"}"#.to_vec(),
        ),
        (
            "plan change, id of 4 KB",
            "PUT",
            format!("/heroku/resources/{}", "i".repeat(4096)),
            br#"{"plan":"test"}"#.to_vec(),
        ),
        ("deprovision, unknown resource", "DELETE", format!("/heroku/resources/{}", new_uuid()), vec![]),
        ("deprovision, CR LF id", "DELETE", "/heroku/resources/a%0d%0aforged".to_owned(), vec![]),
    ] {
        let mut c = with_body(method, &path, &json_type, &body);
        c.name = name.to_owned();
        cases.push(c);
    }
}

fn sign_in(t: &Target, cases: &mut Vec<Case>) {
    let u = &t.uuid;
    let ts = now().to_string();
    let mut good = resource_form(t, u, &ts);
    good.push(("email", "dev@shop.example".into()));
    for (name, fields) in [
        ("empty", vec![]),
        ("timestamp u64::MAX", resource_form(t, u, "18446744073709551615")),
        ("timestamp over u64", resource_form(t, u, "99999999999999999999999999999")),
        ("timestamp negative", resource_form(t, u, "-1")),
        ("timestamp empty", resource_form(t, u, "")),
        ("timestamp a date", resource_form(t, u, "2024-01-01T00:00:00Z")),
        ("timestamp zero", resource_form(t, u, "0")),
        ("stale by a day", resource_form(t, u, &(now() - 86_400).to_string())),
        ("a year ahead", resource_form(t, u, &(now() + 31_536_000).to_string())),
        ("no token", vec![("resource_id", u.clone()), ("timestamp", ts.clone())]),
        (
            "wrong token",
            vec![("resource_id", u.clone()), ("timestamp", ts.clone()), ("resource_token", "0".repeat(40))],
        ),
        (
            "token of 100 KB",
            vec![
                ("resource_id", u.clone()),
                ("timestamp", ts.clone()),
                ("resource_token", "a".repeat(100_000)),
            ],
        ),
        ("unknown resource", resource_form(t, &new_uuid(), &ts)),
        ("resource id with CR LF", resource_form(t, "a\r\nforged: line", &ts)),
        ("resource id of 10 KB", resource_form(t, &"r".repeat(10_000), &ts)),
        ("user-scoped token wrong", {
            let mut f = resource_form(t, u, &ts);
            f.push(("user_scoped_resource_token", "f".repeat(64)));
            f.push(("email", "mallory@example.com".into()));
            f
        }),
        ("email of 200 KB", {
            let mut f = resource_form(t, u, &ts);
            f.push(("email", format!("{}@example.com", "m".repeat(200_000))));
            f
        }),
        ("email of 300 bytes, user-scoped", {
            let email = format!("{}@example.com", "m".repeat(290));
            let token = sha256_hex(&format!("{u}:{}:{ts}:user-1:{email}", t.salt));
            vec![
                ("resource_id", u.clone()),
                ("timestamp", ts.clone()),
                ("user_id", "user-1".into()),
                ("email", email),
                ("user_scoped_resource_token", token),
            ]
        }),
        ("email with CR LF", {
            let mut f = resource_form(t, u, &ts);
            f.push(("email", "a@example.com\r\nforged: line".into()));
            f
        }),
        ("nav-data with CR LF", {
            let mut f = resource_form(t, u, &ts);
            f.push(("nav-data", "abc\r\nSet-Cookie: evil=1".into()));
            f
        }),
        ("nav-data of 100 KB", {
            let mut f = resource_form(t, u, &ts);
            f.push(("nav-data", "n".repeat(100_000)));
            f
        }),
        (
            "legacy token with a v3 resource",
            vec![("id", u.clone()), ("timestamp", ts.clone()), ("token", "0".repeat(40))],
        ),
    ] {
        let mut c = sso_post(t, name, &fields);
        // Over RFC 5321's 254 bytes, an email is refused (it would make a cookie browsers drop).
        c.must_refuse = name.starts_with("email of");
        cases.push(c);
    }
    for (name, content_type, body) in [
        ("JSON instead of a form", "application/json", good_json(&good)),
        ("no content type", "", urlencode(&good).into_bytes()),
        ("not UTF-8", "application/x-www-form-urlencoded", b"resource_id=\xff\xfe&timestamp=\xff".to_vec()),
        (
            "percent garbage",
            "application/x-www-form-urlencoded",
            b"resource_id=%ff%fe&timestamp=%&&==%zz".to_vec(),
        ),
        (
            "field repeated",
            "application/x-www-form-urlencoded",
            format!("{}&timestamp=1&timestamp=2", urlencode(&good)).into_bytes(),
        ),
        (
            "2 MB form",
            "application/x-www-form-urlencoded",
            format!("resource_id={}", "x".repeat(2 << 20)).into_bytes(),
        ),
        (
            "multipart",
            "multipart/form-data; boundary=b",
            b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb\r\n--b--".to_vec(),
        ),
    ] {
        let header =
            if content_type.is_empty() { String::new() } else { format!("Content-Type: {content_type}\r\n") };
        let mut c = with_body("POST", "/sso/login", &header, &body);
        c.name = format!("SSO form: {name}");
        cases.push(c);
    }
    for query in [
        format!("token={}&timestamp=18446744073709551615", "0".repeat(40)),
        "token=%ff&timestamp=%ff".to_owned(),
        "timestamp=1&timestamp=2".to_owned(),
        "%".to_owned(),
        format!("token={}&timestamp={ts}", "z".repeat(40)),
        String::new(),
    ] {
        cases.push(case(
            format!("legacy SSO link ?{}", &query[..query.len().min(40)]),
            get(&format!("/heroku/resources/{u}?{query}"), ""),
            "",
        ));
    }
}

fn good_json(fields: &[(&str, String)]) -> Vec<u8> {
    let map: serde_json::Map<String, Value> =
        fields.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect();
    Value::Object(map).to_string().into_bytes()
}

fn sessions(t: &Target, cases: &mut Vec<Case>) {
    let u = &t.uuid;
    let real = t.cookie.split_once('=').unwrap().1.to_owned();
    let mut flipped = real.clone().into_bytes();
    let middle = flipped.len() / 2;
    flipped[middle] = if flipped[middle] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    let (signed, mac) = real.rsplit_once('.').unwrap();
    let forged_payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!(r#"{{"r":"{}","s":"x","x":99999999999}}"#, new_uuid()));
    let name = Session::COOKIE;
    for (case_name, cookie) in [
        ("garbage", format!("{name}=garbage")),
        ("empty", format!("{name}=")),
        ("version only", format!("{name}=v1.")),
        ("three dots", format!("{name}=v1...")),
        ("one byte flipped", format!("{name}={flipped}")),
        ("MAC cut short", format!("{name}={}", &real[..real.len() - 3])),
        ("MAC of another payload", format!("{name}=v1.{forged_payload}.{mac}")),
        ("v2", format!("{name}=v2{}", &signed[2..])),
        ("10 KB", format!("{name}={}", "A".repeat(10_000))),
        ("not UTF-8", format!("{name}=\u{e9}\u{e9}")),
        ("twice, forged first", format!("{name}=garbage; {}", t.cookie)),
        ("a thousand cookies", (0..1000).map(|i| format!("c{i}=v")).collect::<Vec<_>>().join("; ")),
    ] {
        cases.push(case(
            format!("session cookie: {case_name}, dashboard"),
            get(&format!("/dashboard/{u}"), &format!("Cookie: {cookie}\r\n")),
            "",
        ));
    }
    for (case_name, cookie) in
        [("garbage", format!("{name}=garbage")), ("one byte flipped", format!("{name}={flipped}"))]
    {
        cases.push(case(
            format!("session cookie: {case_name}, own dashboard"),
            get("/dashboard", &format!("Cookie: {cookie}\r\n")),
            "",
        ));
        let mut c = with_body(
            "POST",
            "/sso/logout",
            &format!("Cookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\n"),
            b"",
        );
        c.name = format!("sign-out with a forged cookie: {case_name}");
        cases.push(c);
    }
    let mut c = with_body(
        "POST",
        "/sso/logout",
        &format!("Cookie: {}\r\nOrigin: https://evil.example\r\nContent-Type: application/x-www-form-urlencoded\r\n", t.cookie),
        b"",
    );
    c.name = "sign-out from another site's Origin".into();
    c.must_refuse = true;
    cases.push(c);
    let mut c = case(
        "another tenant's dashboard with a real cookie",
        format!(
            "GET /dashboard/{} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/html\r\nCookie: {}\r\n",
            new_uuid(),
            t.cookie
        ),
        "",
    );
    c.html_ok = true;
    cases.push(c);
}

fn drain(t: &Target, cases: &mut Vec<Case>) {
    let line = "<190>1 2024-05-01T10:00:00.123456+00:00 host app web.1 - hello\n";
    let token = format!("Logplex-Drain-Token: {}\r\n", t.drain_token);
    let logplex = format!("{token}Content-Type: application/logplex-1\r\n");
    let framed = |m: &str| format!("{} {m}", m.len());
    let bodies: Vec<(&str, String, Vec<u8>)> = vec![
        ("no token", "Content-Type: application/logplex-1\r\n".into(), framed(line).into_bytes()),
        (
            "unknown token",
            "Logplex-Drain-Token: d.unknown\r\nContent-Type: application/logplex-1\r\n".into(),
            framed(line).into_bytes(),
        ),
        (
            "token with CR LF escaped",
            "Logplex-Drain-Token: d.%0d%0a\r\nContent-Type: application/logplex-1\r\n".into(),
            framed(line).into_bytes(),
        ),
        (
            "token of 8 KB",
            format!("Logplex-Drain-Token: {}\r\nContent-Type: application/logplex-1\r\n", "t".repeat(8000)),
            framed(line).into_bytes(),
        ),
        (
            "wrong content type",
            format!("{token}Content-Type: application/json\r\n"),
            framed(line).into_bytes(),
        ),
        ("empty body", logplex.clone(), vec![]),
        ("length says more", logplex.clone(), format!("999 {line}").into_bytes()),
        ("length says less", logplex.clone(), format!("5 {line}").into_bytes()),
        ("length of ten digits", logplex.clone(), format!("9999999999 {line}").into_bytes()),
        ("length of twenty digits", logplex.clone(), format!("99999999999999999999 {line}").into_bytes()),
        ("length negative", logplex.clone(), format!("-1 {line}").into_bytes()),
        ("length not a number", logplex.clone(), format!("abc {line}").into_bytes()),
        ("length zero", logplex.clone(), b"0 ".to_vec()),
        ("no space after the length", logplex.clone(), format!("{}{line}", line.len()).into_bytes()),
        ("second frame lies", logplex.clone(), format!("{}500 {line}", framed(line)).into_bytes()),
        ("priority 999", logplex.clone(), framed("<999>1 - host app web.1 - x\n").into_bytes()),
        ("version 2", logplex.clone(), framed("<190>2 - host app web.1 - x\n").into_bytes()),
        (
            "timestamp year 99999",
            logplex.clone(),
            framed("<190>1 99999-01-01T00:00:00Z host app web.1 - x\n").into_bytes(),
        ),
        (
            "timestamp month 13",
            logplex.clone(),
            framed("<190>1 2024-13-01T00:00:00Z host app web.1 - x\n").into_bytes(),
        ),
        (
            "timestamp offset +99:99",
            logplex.clone(),
            framed("<190>1 2024-01-01T00:00:00+99:99 host app web.1 - x\n").into_bytes(),
        ),
        (
            "timestamp fraction of 30 digits",
            logplex.clone(),
            framed(&format!("<190>1 2024-01-01T00:00:00.{}Z host app web.1 - x\n", "9".repeat(30)))
                .into_bytes(),
        ),
        (
            "timestamp 9999-12-31 23:59:60 -23:59",
            logplex.clone(),
            framed("<190>1 9999-12-31T23:59:60-23:59 host app web.1 - x\n").into_bytes(),
        ),
        (
            "timestamp 0000-01-01 +23:59",
            logplex.clone(),
            framed("<190>1 0000-01-01T00:00:00+23:59 host app web.1 - x\n").into_bytes(),
        ),
        (
            "hostname of 300 bytes",
            logplex.clone(),
            framed(&format!("<190>1 - {} app web.1 - x\n", "h".repeat(300))).into_bytes(),
        ),
        ("text not UTF-8", logplex.clone(), {
            let message = b"<190>1 - h app web.1 - \xff\xfe\n";
            [format!("{} ", message.len()).as_bytes(), message.as_ref()].concat()
        }),
        ("only newlines", logplex.clone(), b"\n\r\n\n".to_vec()),
        ("binary noise", logplex.clone(), (0..=255u8).collect()),
        ("frame id with spaces", format!("{logplex}Logplex-Frame-Id: a b c\r\n"), framed(line).into_bytes()),
        (
            "frame id of 4 KB",
            format!("{logplex}Logplex-Frame-Id: {}\r\n", "f".repeat(4096)),
            framed(line).into_bytes(),
        ),
        ("message count wrong", format!("{logplex}Logplex-Msg-Count: 7\r\n"), framed(line).into_bytes()),
        ("message count negative", format!("{logplex}Logplex-Msg-Count: -1\r\n"), framed(line).into_bytes()),
        (
            "message count huge",
            format!("{logplex}Logplex-Msg-Count: 99999999999999999999999\r\n"),
            framed(line).into_bytes(),
        ),
        (
            "2 MB frame",
            logplex.clone(),
            framed(&format!("<190>1 - host app web.1 - {}\n", "x".repeat(2 << 20))).into_bytes(),
        ),
    ];
    for (name, headers, body) in bodies {
        let mut c = with_body("POST", "/drain", &headers, &body);
        c.name = format!("drain: {name}");
        cases.push(c);
    }
}

fn api(t: &Target, cases: &mut Vec<Case>) {
    let u = &t.uuid;
    for (name, path, header) in [
        ("no bearer", format!("/api/tenants/{u}"), String::new()),
        ("empty bearer", format!("/api/tenants/{u}"), "Authorization: Bearer \r\n".to_owned()),
        ("wrong bearer", format!("/api/tenants/{u}"), "Authorization: Bearer wrong\r\n".to_owned()),
        ("basic instead", format!("/api/tenants/{u}"), format!("Authorization: {}\r\n", t.auth)),
        (
            "bearer of 8 KB",
            format!("/api/tenants/{u}"),
            format!("Authorization: Bearer {}\r\n", "b".repeat(8000)),
        ),
        (
            "token of another tenant",
            format!("/api/tenants/{}", new_uuid()),
            format!("Authorization: Bearer {}\r\n", t.api_token),
        ),
        (
            "uuid with CR LF",
            "/api/tenants/a%0d%0aforged".to_owned(),
            format!("Authorization: Bearer {}\r\n", t.api_token),
        ),
    ] {
        cases.push(case(format!("API: {name}"), get(&path, &header), ""));
    }
}

/// Requests that break HTTP itself; hyper answers these before any route, so only "no 5xx and
/// the server lives" is asked of them (their answer, if any, is hyper's empty 400).
fn broken_http(t: &Target) -> Vec<Case> {
    let auth = format!("Authorization: {}\r\n", t.auth);
    let mut cases = vec![
        case("raw 0xff byte in the path", "GET /\u{ff} HTTP/1.1\r\nHost: 127.0.0.1\r\n", ""),
        case("URI over 64 KB (hyper's 414)", get(&format!("/?q={}", "a".repeat(70_000)), ""), ""),
        case("request line garbage", "\u{1}\u{2} / HTTP/9.9\r\n", ""),
        case("header without a colon", "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nno colon here\r\n", ""),
        case(
            "Content-Length not a number",
            "POST /drain HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: many\r\n",
            "",
        ),
        case(
            "Content-Length twice, different",
            "POST /drain HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n",
            "ab",
        ),
        case(
            "chunk size garbage",
            format!(
                "POST /heroku/resources HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Transfer-Encoding: chunked\r\n"
            ),
            "zz\r\nabc\r\n0\r\n\r\n",
        ),
    ];
    let mut lying = case(
        "Content-Length 10^15, 3 bytes sent, then the client stops sending",
        format!("POST /heroku/resources HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Content-Type: application/json\r\nContent-Length: 1000000000000000\r\n"),
        "{\"u",
    );
    lying.half_close = true;
    cases.push(lying);
    cases
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_get_4xx_json_and_the_server_lives() {
    let database = TestDatabase::sqlite();
    let (mut command, origin) = support::example_command(&database);
    // The log is kept, to be searched for panics and forged lines at the end.
    let (_process, _, log) = Process::start_captured(&mut command, "listening on", support::READY_WITHIN);
    let address = origin.trim_start_matches("http://").to_owned();
    let manifest = support::manifest();
    let heroku = addon_runtime::testing::Simulator::from_manifest(&manifest).unwrap().at(&origin);
    let tenant = support::tenant(&heroku, "test").await;
    let (uuid, salt) = (tenant.uuid.clone(), manifest.api.sso_salt.clone());
    let cookie = support::sign_in(&heroku, &salt, &uuid).await;
    let target = Target {
        auth: format!("Basic {}", b64(format!("{}:{}", manifest.id, manifest.api.password))),
        salt,
        uuid: uuid.clone(),
        drain_token: tenant.drain_token,
        api_token: tenant.token,
        cookie,
    };

    let mut cases = Vec::new();
    paths_and_queries(&target, &mut cases);
    methods(&target, &mut cases);
    basic_auth(&target, &mut cases);
    provision_bodies(&target, &mut cases);
    sign_in(&target, &mut cases);
    sessions(&target, &mut cases);
    drain(&target, &mut cases);
    api(&target, &mut cases);
    let broken = broken_http(&target);

    // The normal request after each case: Heroku replaying the provision.
    let normal = format!(
        "POST /heroku/resources HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        target.auth,
        json!({"uuid": uuid, "plan": "test", "log_drain_token": target.drain_token}).to_string().len(),
        json!({"uuid": uuid, "plan": "test", "log_drain_token": target.drain_token})
    );
    let sweep = tokio::task::spawn_blocking(move || {
        let mut failures = Vec::new();
        let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
        let total = cases.len() + broken.len();
        for (index, case) in cases.iter().chain(&broken).enumerate() {
            let framing = index >= cases.len();
            let mut request = format!("{}Connection: close\r\n\r\n", case.head).into_bytes();
            request.extend_from_slice(&case.body);
            match exchange(&address, &request, case.half_close) {
                Ok(answer) => {
                    *statuses.entry(answer.status).or_default() += 1;
                    let problem = if framing {
                        (answer.status >= 500).then(|| format!("{}", answer.status))
                    } else {
                        judge(case, &answer)
                    };
                    if let Some(problem) = problem {
                        failures.push(format!("{}: {problem}", case.name));
                    }
                }
                // A connection hyper closes on broken framing is an answer as designed.
                Err(_) if framing && !case.half_close => {}
                Err(e) => failures.push(format!("{}: {e}", case.name)),
            }
            match exchange(&address, normal.as_bytes(), false) {
                Ok(answer) if answer.status == 200 => {}
                other => failures.push(format!("after `{}`, the normal request got {other:?}", case.name)),
            }
        }
        (total, failures, statuses)
    });
    let (total, mut failures, statuses) = sweep.await.unwrap();
    // Ids with CR LF were sent in paths, forms and bodies: none may start a line of its own.
    for line in log.lines() {
        if line.trim_start().to_ascii_lowercase().starts_with("forged") {
            failures.push(format!("the log has a line forged by a request: {line}"));
        }
        if line.contains("panicked") {
            failures.push(format!("the log shows a panic: {line}"));
        }
    }
    println!("{total} hostile requests; statuses {statuses:?}; {} failures", failures.len());
    assert!(total >= 150, "only {total} cases");
    assert!(failures.is_empty(), "{} failures in {total} cases:\n{}", failures.len(), failures.join("\n"));
}
