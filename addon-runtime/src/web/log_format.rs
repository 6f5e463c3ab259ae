//! How the log writes a line: tracing's own format, with every field's control characters
//! escaped, and (in the plain log) the request a line belongs to taken from the task rather
//! than from a span (`base::log_context`).

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::{DefaultFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

use crate::base::log_context;

/// The log's field formatter: tracing's default, with every control character escaped, so no
/// value (a vendor's field included) can end a line early or paint the terminal.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct EscapedFields;

impl<'writer> FormatFields<'writer> for EscapedFields {
    fn format_fields<R: RecordFields>(&self, mut writer: Writer<'writer>, fields: R) -> fmt::Result {
        DefaultFields::new().format_fields(Writer::new(&mut Escaping(&mut writer)), fields)
    }
}

/// Passes text on with every control character escaped as it goes (as [`crate::base::answer::escaped`] does), with
/// no buffer of its own: the log's formatting allocates nothing for it.
pub(crate) struct Escaping<W>(pub(crate) W);

impl<W: fmt::Write> fmt::Write for Escaping<W> {
    fn write_str(&mut self, mut text: &str) -> fmt::Result {
        while let Some((at, control)) = text.char_indices().find(|(_, c)| c.is_control()) {
            self.0.write_str(&text[..at])?;
            for escape in control.escape_default() {
                self.0.write_char(escape)?;
            }
            text = &text[at + control.len_utf8()..];
        }
        self.0.write_str(text)
    }
}

/// The plain log's line, without colours: what tracing's default format writes (time, level,
/// spans, target, fields), with the task's request first among the spans.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PlainFormat;

impl<S, N> FormatEvent<S, N> for PlainFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let request = log_context::current();
        let mut head = Vec::with_capacity(64);
        write_head(&mut head, meta.level(), request.as_deref());
        writer.write_str(std::str::from_utf8(&head).map_err(|_| fmt::Error)?)?;
        let mut named = request.is_some();
        for span in ctx.event_scope().into_iter().flat_map(|scope| scope.from_root()) {
            writer.write_str(span.name())?;
            if let Some(fields) = span.extensions().get::<FormattedFields<N>>().filter(|f| !f.is_empty()) {
                write!(writer, "{{{fields}}}")?;
            }
            writer.write_char(':')?;
            named = true;
        }
        if named {
            writer.write_char(' ')?;
        }
        write!(writer, "{}: ", meta.target())?;
        ctx.format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// The start of a plain line, as tracing's default format writes it: the time, the level, and
/// the request's fields in the place of a first span. `web::trace` writes the request's own
/// line with it too, straight into the log's batch: bytes, without the formatting machinery,
/// as that line is written once per request.
pub(crate) fn write_head(out: &mut Vec<u8>, level: &Level, request: Option<&str>) {
    out.extend_from_slice(&timestamp(SystemTime::now()));
    // The level right-aligned in five columns, between spaces.
    let level: &[u8] = if *level == Level::ERROR {
        b" ERROR "
    } else if *level == Level::WARN {
        b"  WARN "
    } else if *level == Level::INFO {
        b"  INFO "
    } else if *level == Level::DEBUG {
        b" DEBUG "
    } else {
        b" TRACE "
    };
    out.extend_from_slice(level);
    if let Some(fields) = request {
        out.extend_from_slice(b"request{");
        out.extend_from_slice(fields.as_bytes());
        out.extend_from_slice(b"}:");
    }
}

/// `now` as tracing's default format writes it: RFC 3339 in UTC, with microseconds
/// (`2026-11-30T15:18:39.123456Z`). A clock before 1970 reads as 1970.
pub(crate) fn timestamp(now: SystemTime) -> [u8; 27] {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let (seconds, micros) = (since.as_secs(), u64::from(since.subsec_micros()));
    let (year, month, day) = civil_date(seconds / 86_400);
    let of_day = seconds % 86_400;
    let mut out = *b"0000-00-00T00:00:00.000000Z";
    put_digits(&mut out[0..4], year);
    put_digits(&mut out[5..7], month);
    put_digits(&mut out[8..10], day);
    put_digits(&mut out[11..13], of_day / 3_600);
    put_digits(&mut out[14..16], of_day / 60 % 60);
    put_digits(&mut out[17..19], of_day % 60);
    put_digits(&mut out[20..26], micros);
    out
}

/// `value` in decimal, as `Display` writes it.
pub(crate) fn push_decimal(out: &mut Vec<u8>, value: u64) {
    let mut digits = [0u8; 20];
    let width = value.checked_ilog10().map_or(1, |log| log as usize + 1);
    put_digits(&mut digits[..width], value);
    out.extend_from_slice(&digits[..width]);
}

/// The last `out.len()` decimal digits of `value`, zero-padded.
fn put_digits(out: &mut [u8], mut value: u64) {
    for digit in out.iter_mut().rev() {
        *digit = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// The (year, month, day) of the Gregorian calendar `days` after 1970-01-01. Counted in eras
/// of 400 years (146,097 days) whose years start on March 1st, so a leap day ends its year.
fn civil_date(days: u64) -> (u64, u64, u64) {
    // Days since 0000-03-01.
    let days = days + 719_468;
    let (era, of_era) = (days / 146_097, days % 146_097);
    let year_of_era = (of_era - of_era / 1_460 + of_era / 36_524 - of_era / 146_096) / 365;
    let of_year = of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * of_year + 2) / 153;
    let day = of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 };
    (era * 400 + year_of_era + u64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::fmt::MakeWriter;

    use super::*;

    /// Lines written to memory.
    #[derive(Clone, Default)]
    struct Memory(Arc<Mutex<Vec<u8>>>);

    impl Write for Memory {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Memory {
        type Writer = Memory;

        fn make_writer(&'a self) -> Memory {
            self.clone()
        }
    }

    #[test]
    fn lines_name_the_tasks_request_as_a_span_would_and_the_vendors_tasks_inherit_it() {
        let memory = Memory::default();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .fmt_fields(EscapedFields)
            .event_format(PlainFormat)
            .with_writer(memory.clone())
            .finish();
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        tracing::subscriber::with_default(subscriber, || {
            runtime.block_on(async {
                tracing::info!("outside");
                log_context::scope("id=7 method=GET path=/x".into(), async {
                    tracing::info!(field = "a\nb", "inside");
                    // The vendor's methods run on tasks of their own.
                    tokio::spawn(log_context::carry(async {
                        let _span = tracing::info_span!("vendor", plan = "hobby").entered();
                        tracing::warn!("carried");
                    }))
                    .await
                    .unwrap();
                })
                .await;
            });
        });
        let text = String::from_utf8(memory.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().map(|line| line.split_once(' ').unwrap().1).collect();
        let target = module_path!();
        assert_eq!(
            lines,
            [
                format!(" INFO {target}: outside"),
                format!(" INFO request{{id=7 method=GET path=/x}}: {target}: inside field=\"a\\nb\""),
                format!(
                    " WARN request{{id=7 method=GET path=/x}}:vendor{{plan=\"hobby\"}}: {target}: carried"
                ),
            ]
        );
    }

    #[test]
    fn timestamps_are_written_as_tracing_writes_them() {
        let at = |seconds: u64, micros: u64| {
            let time = UNIX_EPOCH + std::time::Duration::from_micros(seconds * 1_000_000 + micros);
            String::from_utf8(timestamp(time).to_vec()).unwrap()
        };
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(at(68_169_600, 1), "1972-02-29T00:00:00.000001Z");
        assert_eq!(at(951_782_400, 0), "2000-02-29T00:00:00.000000Z");
        assert_eq!(at(951_868_799, 999_999), "2000-02-29T23:59:59.999999Z");
        assert_eq!(at(1_798_761_599, 120_000), "2026-12-31T23:59:59.120000Z");
        assert_eq!(at(4_102_444_800, 0), "2100-01-01T00:00:00.000000Z");
        // Now, against tracing's own clock format, to the minute (retried across a minute's end).
        let agrees = (0..3).any(|_| {
            let mut theirs = String::new();
            tracing_subscriber::fmt::time::FormatTime::format_time(
                &tracing_subscriber::fmt::time::SystemTime,
                &mut Writer::new(&mut theirs),
            )
            .unwrap();
            let ours = String::from_utf8(timestamp(SystemTime::now()).to_vec()).unwrap();
            ours.len() == theirs.len() && ours[..16] == theirs[..16]
        });
        assert!(agrees);
    }

    #[test]
    fn decimals_are_written_as_display_writes_them() {
        for value in [0, 7, 10, 99, 303, 1_000_000, u64::MAX] {
            let mut out = Vec::new();
            push_decimal(&mut out, value);
            assert_eq!(String::from_utf8(out).unwrap(), value.to_string());
        }
    }

    #[test]
    fn escaping_matches_the_one_escape_rule() {
        for text in ["plain", "a\nb\r\n", "\u{1b}[31mred", "é\u{7f}ü", "", "\n"] {
            let mut out = String::new();
            fmt::Write::write_str(&mut Escaping(&mut out), text).unwrap();
            assert_eq!(out, crate::base::answer::escaped(text), "{text:?}");
        }
    }
}
