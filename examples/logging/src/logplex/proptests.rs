//! Property tests of drain bodies and their timestamps: any bytes are parsed or refused without
//! a panic and within bounds, a frame that lies about its length is refused, frames written as
//! Logplex writes them parse back to the same lines, and RFC 3339 timestamps round-trip.

use proptest::prelude::*;

use super::{frame, parse, time, FrameError, Message};

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// A header field as RFC 5424 allows it: printable ASCII without spaces.
fn field(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::char::range('!', '~'), 1..=max)
        .prop_map(|chars| chars.into_iter().collect())
}

/// What an app may print: anything, newlines and non-ASCII included, but no leading byte order
/// mark (RFC 5424 says that one is not part of the text).
fn text() -> impl Strategy<Value = String> {
    let char = prop_oneof![
        4 => proptest::char::range(' ', '~'),
        1 => proptest::sample::select(vec!['\n', '\r', '\t', '<', '>', '-', 'é', '😀', '\0']),
        1 => any::<char>(),
    ];
    proptest::collection::vec(char, 0..200)
        .prop_map(|chars| chars.into_iter().collect::<String>())
        .prop_filter("no leading byte order mark", |t| !t.starts_with('\u{feff}'))
}

/// Parts of an RFC 3339 timestamp: any valid date from year 0 to 9999, any time, an optional
/// fraction of one to six digits, `Z` or an offset.
#[derive(Debug, Clone)]
struct Stamp {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    fraction: Option<(u32, i64)>,
    offset_minutes: Option<i64>,
}

fn days_in(year: i64, month: i64) -> i64 {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn stamp() -> impl Strategy<Value = Stamp> {
    (0i64..=9999, 1i64..=12)
        .prop_flat_map(|(year, month)| {
            (
                Just(year),
                Just(month),
                1..=days_in(year, month),
                0i64..24,
                0i64..60,
                0i64..60,
                proptest::option::of((1u32..=6).prop_flat_map(|len| (Just(len), 0..10i64.pow(len)))),
                proptest::option::of(-(23 * 60 + 59)..=(23 * 60 + 59i64)),
            )
        })
        .prop_map(|(year, month, day, hour, minute, second, fraction, offset_minutes)| Stamp {
            year,
            month,
            day,
            hour,
            minute,
            second,
            fraction,
            offset_minutes,
        })
}

impl Stamp {
    fn rfc3339(&self) -> String {
        let mut text = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        );
        if let Some((len, digits)) = self.fraction {
            text.push_str(&format!(".{digits:0width$}", width = len as usize));
        }
        match self.offset_minutes {
            None => text.push('Z'),
            Some(offset) => {
                let sign = if offset < 0 { '-' } else { '+' };
                text.push_str(&format!("{sign}{:02}:{:02}", offset.abs() / 60, offset.abs() % 60));
            }
        }
        text
    }

    fn micros_of_fraction(&self) -> i64 {
        self.fraction.map_or(0, |(len, digits)| digits * 10i64.pow(6 - len))
    }

    /// The same instant written in UTC without a fraction, to compare with.
    fn utc_whole_seconds(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

fn message() -> impl Strategy<Value = Message> {
    let stamp =
        stamp().prop_filter("an offset cannot leave years 0 to 9999", |s| (1..=9998).contains(&s.year));
    (0u8..=191, proptest::option::of(stamp), field(255), field(48), field(128), text()).prop_map(
        |(priority, stamp, host, app, process, text)| Message {
            priority,
            timestamp: stamp.map(|s| time::parse(&s.rfc3339()).expect("a valid stamp parses")),
            host,
            app,
            process,
            text,
        },
    )
}

/// The message as Logplex writes it: `<PRI>1 TIMESTAMP HOST APP PROC - TEXT\n`, with the
/// timestamp in UTC to the microsecond.
fn write(message: &Message) -> String {
    let stamp = match message.timestamp {
        None => "-".to_owned(),
        Some(micros) => {
            let utc = time::format_utc(micros);
            // `YYYY-MM-DD HH:MM:SS.mmm` to RFC 3339, with the microseconds.
            format!("{}T{}.{:06}Z", &utc[..10], &utc[11..19], micros.rem_euclid(1_000_000))
        }
    };
    let Message { priority, host, app, process, text, .. } = message;
    format!("<{priority}>1 {stamp} {host} {app} {process} - {text}\n")
}

proptest! {
    #![proptest_config(config(256))]

    /// Any bytes: parsed or refused without a panic, and never more messages than the body
    /// could hold (each needs at least its length, a space and `<N>1 - a b c d`).
    #[test]
    fn any_body_is_parsed_or_refused(
        body in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..600),
            proptest::collection::vec(
                prop_oneof![
                    proptest::collection::vec(proptest::sample::select(b"0123456789 <>1-\n".to_vec()), 0..20),
                    proptest::collection::vec(any::<u8>(), 0..20),
                ],
                0..30,
            ).prop_map(|parts| parts.concat()),
        ],
    ) {
        match parse(&body) {
            Ok(messages) => {
                prop_assert!(!messages.is_empty());
                prop_assert!(messages.len() * 16 <= body.len(), "{} messages from {} bytes", messages.len(), body.len());
                for m in &messages {
                    prop_assert!(m.priority <= 191);
                    prop_assert!(m.host.len() <= 255 && m.app.len() <= 48 && m.process.len() <= 128);
                    prop_assert!(m.text.len() <= body.len() * 3, "lossy UTF-8 at most triples the text");
                }
            }
            Err(error) => prop_assert!(!error.to_string().is_empty()),
        }
    }

    /// Frames written as Logplex writes them, back to back or with newlines between, parse to
    /// the same lines in the same order.
    #[test]
    fn written_frames_parse_back(
        messages in proptest::collection::vec(message(), 1..8),
        newlines in proptest::collection::vec(any::<bool>(), 8),
    ) {
        let mut body = String::new();
        for (message, newline) in messages.iter().zip(&newlines) {
            body.push_str(&frame(&write(message)));
            if *newline {
                body.push('\n');
            }
        }
        prop_assert_eq!(parse(body.as_bytes()).unwrap(), messages);
    }

    /// A frame whose length says more than follows is refused as truncated, with both numbers;
    /// one that says less leaves bytes that do not start with a length, or a shorter message.
    #[test]
    fn frames_that_lie_about_their_length_are_refused(
        message in message(),
        more in 1usize..1_000_000,
        less in 2usize..20,
    ) {
        let line = write(&message);
        let truthful = format!("{} {line}", line.len());
        prop_assert!(parse(truthful.as_bytes()).is_ok());

        let long = format!("{} {line}", line.len() + more);
        let refused = parse(long.as_bytes());
        prop_assert_eq!(
            refused,
            Err(FrameError::Truncated { message: 1, at: 0, length: line.len() + more, left: line.len() })
        );

        if less < line.len() {
            let short = format!("{} {line}", line.len() - less);
            let parsed = parse(short.as_bytes());
            prop_assert_ne!(parsed, Ok(vec![message.clone()]));
        }

        // A length with more digits than any drain body needs is refused before it is read.
        let huge = format!("{}{} {line}", "9".repeat(10), line.len());
        prop_assert_eq!(parse(huge.as_bytes()), Err(FrameError::BadLength { message: 1, at: 0 }));
    }

    /// Any text as a timestamp: a time or `None`, never a panic.
    #[test]
    fn any_timestamp_text_is_parsed_or_refused(
        text in prop_oneof![
            proptest::collection::vec(any::<char>(), 0..40).prop_map(|c| c.into_iter().collect::<String>()),
            proptest::collection::vec(proptest::sample::select(b"0123456789-:T.Z+ ".to_vec()), 0..40)
                .prop_map(|b| String::from_utf8(b).unwrap()),
            (stamp(), any::<usize>(), any::<char>()).prop_map(|(s, at, by)| {
                let mut chars: Vec<char> = s.rfc3339().chars().collect();
                let at = at % chars.len();
                chars[at] = by;
                chars.into_iter().collect()
            }),
        ],
    ) {
        if let Some(micros) = time::parse(&text) {
            // Years 0000 to 9999, with an offset of up to a day either side.
            prop_assert!((-62_167_219_200_000_000 - 86_400_000_000..=253_402_300_800_000_000 + 86_400_000_000).contains(&micros));
            prop_assert!(!time::format_utc(micros).is_empty());
        }
    }

    /// Any valid RFC 3339 timestamp parses, to the instant its UTC form names minus its offset,
    /// and formats back to its UTC date and time.
    #[test]
    fn timestamps_round_trip(stamp in stamp()) {
        let micros = time::parse(&stamp.rfc3339()).expect("a valid timestamp parses");
        let utc = time::parse(&stamp.utc_whole_seconds()).unwrap();
        let offset = stamp.offset_minutes.unwrap_or(0) * 60 * 1_000_000;
        prop_assert_eq!(micros, utc + stamp.micros_of_fraction() - offset);
        let shown = time::format_utc(utc + stamp.micros_of_fraction());
        let expected = format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}",
            stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second,
            stamp.micros_of_fraction() / 1000
        );
        prop_assert_eq!(shown, expected);
    }

    /// Formatting never panics, whatever the number (the registry could hold anything).
    #[test]
    fn any_instant_formats(micros in any::<i64>()) {
        prop_assert!(time::format_utc(micros).len() >= 23);
    }
}
