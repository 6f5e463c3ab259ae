//! How the log writes a line: tracing's own format, with every field's control characters
//! escaped, and (in the plain log) the request a line belongs to taken from the task rather
//! than from a span (`base::log_context`).

use std::fmt;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::{DefaultFields, Writer};
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
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
        write_head(&mut writer, meta.level(), request.as_deref())?;
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
/// line with it too.
pub(crate) fn write_head(out: &mut Writer<'_>, level: &Level, request: Option<&str>) -> fmt::Result {
    SystemTime.format_time(out)?;
    write!(out, " {level:>5} ")?;
    if let Some(fields) = request {
        write!(out, "request{{{fields}}}:")?;
    }
    Ok(())
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
    fn escaping_matches_the_one_escape_rule() {
        for text in ["plain", "a\nb\r\n", "\u{1b}[31mred", "é\u{7f}ü", "", "\n"] {
            let mut out = String::new();
            fmt::Write::write_str(&mut Escaping(&mut out), text).unwrap();
            assert_eq!(out, crate::base::answer::escaped(text), "{text:?}");
        }
    }
}
