//! The body of a Heroku log drain request (`Content-Type: application/logplex-1`): syslog
//! messages, each prefixed by its length in bytes (RFC 6587 octet counting), back to back:
//!
//! ```text
//! 83 <40>1 2012-11-30T06:45:29+00:00 host app web.3 - State changed from starting to up
//! ```
//!
//! (83 counts the newline Logplex ends each message with.)
//!
//! Each message is RFC 5424 as Logplex writes it: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID`
//! and then the text. Logplex leaves out RFC 5424's STRUCTURED-DATA field, so everything after
//! MSGID is the text, a leading `-` included.
//!
//! Pure functions of the bytes, so every rule is unit-tested without a server.

pub mod time;

#[cfg(test)]
mod proptests;

use std::fmt;

/// One syslog message from a drain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Facility × 8 + severity; `<190>` is `local7.info`, Heroku's usual for app output.
    pub priority: u8,
    /// When it was logged (Unix microseconds), or `None` for syslog's `-`.
    pub timestamp: Option<i64>,
    pub host: String,
    /// `app` for the app's own output, `heroku` for the platform's.
    pub app: String,
    /// The dyno or component: `web.1`, `router`, `worker.2`.
    pub process: String,
    /// The text, with invalid UTF-8 replaced rather than refused: logs are what apps printed.
    pub text: String,
}

impl Message {
    /// The syslog severity, 0 (emergency) to 7 (debug).
    pub fn severity(&self) -> u8 {
        self.priority % 8
    }
}

/// Why a drain body was refused; the message says where, for whoever reads the drain's errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    Empty,
    /// The message's length prefix is missing, not a number, or not followed by a space.
    BadLength {
        message: usize,
        at: usize,
    },
    /// The length says more bytes than the body has left.
    Truncated {
        message: usize,
        at: usize,
        length: usize,
        left: usize,
    },
    /// The length holds, but the syslog header does not.
    BadMessage {
        message: usize,
        problem: &'static str,
    },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Empty => write!(f, "the body holds no log messages"),
            FrameError::BadLength { message, at } => {
                write!(f, "message {message} (byte {at}) does not start with its length in bytes and a space")
            }
            FrameError::Truncated { message, at, length, left } => write!(
                f,
                "message {message} (byte {at}) says it is {length} bytes long, but only {left} bytes follow"
            ),
            FrameError::BadMessage { message, problem } => {
                write!(f, "message {message} is not an RFC 5424 syslog message: {problem}")
            }
        }
    }
}

/// The longest length prefix read: a drain body is far smaller than 10^9 bytes.
const MAX_LENGTH_DIGITS: usize = 9;

/// Every message of a drain body, in order; any malformed message refuses the whole body, so
/// a frame is stored entirely or not at all.
pub fn parse(body: &[u8]) -> Result<Vec<Message>, FrameError> {
    let mut messages = Vec::new();
    let mut at = 0;
    loop {
        // Some senders end each frame with a newline outside the count; it separates nothing.
        while at < body.len() && matches!(body[at], b'\n' | b'\r') {
            at += 1;
        }
        if at == body.len() {
            break;
        }
        let number = messages.len() + 1;
        let digits = body[at..].iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || digits > MAX_LENGTH_DIGITS || body.get(at + digits) != Some(&b' ') {
            return Err(FrameError::BadLength { message: number, at });
        }
        let length: usize = std::str::from_utf8(&body[at..at + digits])
            .ok()
            .and_then(|d| d.parse().ok())
            .ok_or(FrameError::BadLength { message: number, at })?;
        let start = at + digits + 1;
        let left = body.len() - start;
        if length > left {
            return Err(FrameError::Truncated { message: number, at, length, left });
        }
        let message = parse_message(&body[start..start + length])
            .map_err(|problem| FrameError::BadMessage { message: number, problem })?;
        messages.push(message);
        at = start + length;
    }
    if messages.is_empty() {
        return Err(FrameError::Empty);
    }
    Ok(messages)
}

/// `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID TEXT`.
fn parse_message(bytes: &[u8]) -> Result<Message, &'static str> {
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let rest = bytes.strip_prefix(b"<").ok_or("it does not start with `<PRI>`")?;
    let close = rest.iter().take(4).position(|b| *b == b'>').ok_or("the priority is not closed by `>`")?;
    let priority = ascii_number(&rest[..close])
        .filter(|p| *p <= 191)
        .ok_or("the priority is not a number from 0 to 191")?;
    let rest = rest[close + 1..].strip_prefix(b"1 ").ok_or("the version is not `1`")?;
    let mut fields = rest.splitn(6, |b| *b == b' ');
    let mut header = |limit: usize, problem: &'static str| -> Result<String, &'static str> {
        let field = fields.next().ok_or(problem)?;
        let printable =
            !field.is_empty() && field.len() <= limit && field.iter().all(|b| (33..=126).contains(b));
        printable.then(|| String::from_utf8_lossy(field).into_owned()).ok_or(problem)
    };
    let timestamp = header(64, "the timestamp is missing")?;
    let host = header(255, "the hostname is missing or not printable ASCII")?;
    let app = header(48, "the app name is missing or not printable ASCII")?;
    let process = header(128, "the process id is missing or not printable ASCII")?;
    header(32, "the message id is missing or not printable ASCII")?;
    let text = fields.next().unwrap_or_default();
    // RFC 5424 lets the text start with a byte order mark; it is not part of what was logged.
    let text = text.strip_prefix("\u{feff}".as_bytes()).unwrap_or(text);
    let timestamp = match timestamp.as_str() {
        "-" => None,
        stamp => Some(time::parse(stamp).ok_or("the timestamp is not RFC 3339")?),
    };
    Ok(Message { priority, timestamp, host, app, process, text: String::from_utf8_lossy(text).into_owned() })
}

fn ascii_number(bytes: &[u8]) -> Option<u8> {
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

/// One message framed as Logplex sends it: `<length> <message>`, for tests and examples.
pub fn frame(message: &str) -> String {
    format!("{} {message}", message.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Logplex ends each message with a newline, inside the count: 82 characters and `\n`.
    const LINE: &str = "<40>1 2012-11-30T06:45:29+00:00 host app web.3 - State changed from starting to up\n";

    #[test]
    fn one_message() {
        let body = format!("83 {LINE}");
        let messages = parse(body.as_bytes()).unwrap();
        assert_eq!(
            messages,
            vec![Message {
                priority: 40,
                timestamp: Some(1_354_257_929_000_000),
                host: "host".into(),
                app: "app".into(),
                process: "web.3".into(),
                text: "State changed from starting to up".into(),
            }]
        );
        assert_eq!(messages[0].severity(), 0);
    }

    #[test]
    fn several_messages_back_to_back_and_with_newlines() {
        let router = "<158>1 2012-11-30T06:45:26+00:00 host heroku router - at=info method=GET path=\"/\" status=200\n";
        let body = format!(
            "{}{}\n{}",
            frame(LINE),
            frame(router),
            frame("<190>1 - host app worker.2 - - starts with a dash")
        );
        let messages = parse(body.as_bytes()).unwrap();
        assert_eq!(messages.len(), 3);
        assert_eq!(messages[1].app, "heroku");
        assert_eq!(messages[1].process, "router");
        assert_eq!(
            messages[1].text, "at=info method=GET path=\"/\" status=200",
            "the counted newline is dropped"
        );
        assert_eq!(messages[1].severity(), 6);
        assert_eq!(messages[2].timestamp, None);
        assert_eq!(messages[2].text, "- starts with a dash", "Logplex sends no STRUCTURED-DATA");
    }

    #[test]
    fn lengths_count_bytes_not_characters() {
        let line = "<190>1 2026-05-01T10:00:00Z host app web.1 - café ☕ 東京";
        assert_eq!(line.chars().count() + 7, line.len(), "é is 2 bytes, ☕, 東 and 京 are 3");
        let messages = parse(frame(line).as_bytes()).unwrap();
        assert_eq!(messages[0].text, "café ☕ 東京");
        // Counting characters instead would cut the message short and misread the next one.
        let by_chars = format!("{} {line}", line.chars().count());
        assert!(parse(by_chars.as_bytes()).is_err());
    }

    #[test]
    fn invalid_utf8_in_the_text_is_kept_lossily() {
        let mut line = b"<190>1 2026-05-01T10:00:00Z host app web.1 - bad ".to_vec();
        line.push(0xff);
        let mut body = format!("{} ", line.len()).into_bytes();
        body.extend_from_slice(&line);
        assert_eq!(parse(&body).unwrap()[0].text, "bad \u{fffd}");
    }

    #[test]
    fn truncated_message() {
        let body = format!("83 {}", &LINE[..50]);
        assert_eq!(
            parse(body.as_bytes()),
            Err(FrameError::Truncated { message: 1, at: 0, length: 83, left: 50 })
        );
        let body = format!("{}83 {}", frame(LINE), &LINE[..10]);
        assert!(matches!(parse(body.as_bytes()), Err(FrameError::Truncated { message: 2, at: 86, .. })));
    }

    #[test]
    fn lengths_that_are_not_numbers() {
        for body in
            [&format!("eighty {LINE}"), &format!("-83 {LINE}"), &format!("83{LINE}"), LINE, "1234567890 x"]
        {
            assert!(
                matches!(parse(body.as_bytes()), Err(FrameError::BadLength { message: 1, at: 0 })),
                "{body:?}"
            );
        }
    }

    #[test]
    fn empty_bodies() {
        assert_eq!(parse(b""), Err(FrameError::Empty));
        assert_eq!(parse(b"\n\r\n"), Err(FrameError::Empty));
    }

    #[test]
    fn framed_but_not_syslog() {
        for (line, problem) in [
            ("hello world", "it does not start with `<PRI>`"),
            ("<999>1 - h a p - x", "the priority is not a number from 0 to 191"),
            ("<40 1 - h a p - x", "the priority is not closed by `>`"),
            ("<40>2 - h a p - x", "the version is not `1`"),
            ("<40>1 yesterday h a p - x", "the timestamp is not RFC 3339"),
            ("<40>1 - h a", "the process id is missing or not printable ASCII"),
            ("<40>1 -  a p - x", "the hostname is missing or not printable ASCII"),
            ("", "it does not start with `<PRI>`"),
        ] {
            let error = parse(frame(line).as_bytes()).unwrap_err();
            assert_eq!(error, FrameError::BadMessage { message: 1, problem }, "{line:?}");
            assert!(error.to_string().starts_with("message 1 is not an RFC 5424 syslog message"));
        }
    }

    #[test]
    fn a_message_without_text_is_kept() {
        let messages = parse(frame("<190>1 2026-05-01T10:00:00Z host app web.1 -").as_bytes()).unwrap();
        assert_eq!(messages[0].text, "");
    }
}
