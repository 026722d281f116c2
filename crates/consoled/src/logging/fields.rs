//! The fields of a text line, as `tracing_subscriber`'s default field
//! formatter writes them (`name=value`, strings quoted as `Debug` quotes
//! them, the message bare), written without a formatting call for the
//! values that do not need one.
//!
//! The default goes through `core::fmt` for every field, a string or a
//! number included, and writes the message a character at a time to
//! escape it: for the API's two lines per request, about a twentieth of
//! its CPU. Here strings that need no escaping are copied, integers go
//! through `itoa` and floats through `ryu`; anything else is still
//! formatted.
//!
//! Every bare value (the message, `%`-formatted fields, errors) has its
//! control characters written as escapes, so that no field can end a line
//! or drive the terminal behind the log; the default escapes only some of
//! them, and lets a newline through.

use std::error::Error;
use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing_subscriber::field::{MakeVisitor, VisitFmt, VisitOutput};
use tracing_subscriber::fmt::format::Writer;

/// The text format's field formatter (`fmt_fields`), for events and spans.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct TextFields;

impl<'a> MakeVisitor<Writer<'a>> for TextFields {
    type Visitor = TextVisitor<'a>;

    fn make_visitor(&self, target: Writer<'a>) -> Self::Visitor {
        TextVisitor {
            writer: target,
            empty: true,
            result: Ok(()),
        }
    }
}

/// Writes one event's or span's fields, a space between two.
pub(super) struct TextVisitor<'a> {
    writer: Writer<'a>,
    empty: bool,
    result: fmt::Result,
}

impl TextVisitor<'_> {
    /// Starts `field`: the space before it and, but for the message, its
    /// name and `=`. Returns whether the field is the message, or `None`
    /// once writing has failed.
    fn start(&mut self, field: &Field) -> Option<bool> {
        self.result.ok()?;
        let pad = if std::mem::take(&mut self.empty) {
            Ok(())
        } else {
            self.writer.write_char(' ')
        };
        let name = field.name();
        let message = name == "message";
        self.result = pad.and_then(|()| {
            if message {
                return Ok(());
            }
            self.writer
                .write_str(name.strip_prefix("r#").unwrap_or(name))?;
            self.writer.write_char('=')
        });
        self.result.ok().map(|()| message)
    }

    /// Writes `value` escaped, unless writing has already failed.
    fn bare(&mut self, value: fmt::Arguments<'_>) {
        if self.result.is_ok() {
            self.result = Escaping(&mut self.writer).write_fmt(value);
        }
    }
}

impl Visit for TextVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        match self.start(field) {
            Some(true) => self.result = write_escaped(&mut self.writer, value),
            Some(false) if value.bytes().all(quotes_as_itself) => {
                self.result = write_quoted(&mut self.writer, value);
            }
            Some(false) => self.result = write!(self.writer, "{value:?}"),
            None => {}
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if self.start(field).is_some() {
            self.result = self.writer.write_str(itoa::Buffer::new().format(value));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if self.start(field).is_some() {
            self.result = self.writer.write_str(itoa::Buffer::new().format(value));
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if self.start(field).is_some() {
            self.result = self.writer.write_str(ryu::Buffer::new().format(value));
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if self.start(field).is_some() {
            self.result = self.writer.write_str(if value { "true" } else { "false" });
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        if self.start(field).is_none() {
            return;
        }
        self.bare(format_args!("{value}"));
        // Its causes as the default writes them: `name.sources=[a, b]`.
        let Some(mut source) = value.source() else {
            return;
        };
        let name = field.name();
        self.bare(format_args!(" {name}.sources=["));
        loop {
            self.bare(format_args!("{source}"));
            match source.source() {
                Some(next) => {
                    source = next;
                    self.bare(format_args!(", "));
                }
                None => break,
            }
        }
        self.bare(format_args!("]"));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.start(field).is_some() {
            self.bare(format_args!("{value:?}"));
        }
    }
}

impl VisitOutput<fmt::Result> for TextVisitor<'_> {
    fn finish(self) -> fmt::Result {
        self.result
    }
}

impl VisitFmt for TextVisitor<'_> {
    fn writer(&mut self) -> &mut dyn fmt::Write {
        &mut self.writer
    }
}

/// Whether `Debug` writes `byte` of a string as itself: printable ASCII
/// but the quote and the backslash.
fn quotes_as_itself(byte: u8) -> bool {
    matches!(byte, b' '..=b'~') && byte != b'"' && byte != b'\\'
}

/// `text` in quotes, as it is: for text [`quotes_as_itself`].
fn write_quoted(out: &mut dyn fmt::Write, text: &str) -> fmt::Result {
    out.write_char('"')?;
    out.write_str(text)?;
    out.write_char('"')
}

/// Whether `byte` may begin a control character: C0, DEL, or (`0xc2`)
/// the UTF-8 of U+0080 to U+00BF, among them the C1 controls.
fn may_be_control(byte: u8) -> bool {
    byte < 0x20 || byte == 0x7f || byte == 0xc2
}

/// `text` with its control characters, but the tab, written as escapes
/// (`\n`, `\r`, `\x1b`, `\u{9b}`).
fn write_escaped(out: &mut dyn fmt::Write, text: &str) -> fmt::Result {
    if !text.bytes().any(may_be_control) {
        return out.write_str(text);
    }
    let mut rest = text;
    while let Some((at, ch)) = rest
        .char_indices()
        .find(|&(_, ch)| ch != '\t' && ch.is_control())
    {
        out.write_str(&rest[..at])?;
        match ch {
            '\n' => out.write_str("\\n")?,
            '\r' => out.write_str("\\r")?,
            ch if u32::from(ch) < 0x80 => write!(out, "\\x{:02x}", u32::from(ch))?,
            ch => write!(out, "\\u{{{:x}}}", u32::from(ch))?,
        }
        rest = &rest[at + ch.len_utf8()..];
    }
    out.write_str(rest)
}

/// A writer that escapes the control characters of all it is given.
struct Escaping<'w, 'a>(&'w mut Writer<'a>);

impl fmt::Write for Escaping<'_, '_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        write_escaped(&mut self.0, text)
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::fmt::format::DefaultFields;
    use tracing_subscriber::fmt::MakeWriter;

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Captured;

        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    #[derive(Debug)]
    struct Outer(Inner);

    #[derive(Debug)]
    struct Inner;

    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("backend down")
        }
    }

    impl fmt::Display for Inner {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("connection refused")
        }
    }

    impl Error for Outer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }

    impl Error for Inner {}

    /// The lines `log` writes through `fields`.
    fn lines<N>(fields: N, log: impl FnOnce()) -> String
    where
        N: for<'w> tracing_subscriber::fmt::FormatFields<'w> + Send + Sync + 'static,
    {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(captured.clone())
            .with_ansi(false)
            .without_time()
            .fmt_fields(fields)
            .finish();
        tracing::subscriber::with_default(subscriber, log);
        let bytes = captured.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    fn events() {
        let span = tracing::info_span!("request", request_id = %"req-1", n = 3_u64);
        let _entered = span.enter();
        let error = Outer(Inner);
        let method = "POST";
        tracing::info!(
            method = %method,
            route = "/v2.1/servers/{server_id}/remote-consoles",
            status = 200_u16,
            offset = -4_i64,
            latency_ms = 0.125,
            slow = 1234.5_f64,
            cached = false,
            r#type = "novnc",
            "request answered"
        );
        tracing::warn!(
            quoted = "a \"b\" \\ c",
            unicode = "é ✓",
            list = ?vec![1, 2],
            error = &error as &(dyn Error + 'static),
            "console not created"
        );
        tracing::info!(alone = true);
        tracing::error!("{} of {}", 1, 2);
    }

    #[test]
    fn reads_as_the_default_field_formatter_writes() {
        let ours = lines(TextFields, events);
        assert_eq!(ours, lines(DefaultFields::new(), events));
        assert!(
            ours.contains(
                "request{request_id=req-1 n=3}: consoled::logging::fields::tests: \
                 request answered method=POST route=\"/v2.1/servers/{server_id}/remote-consoles\" \
                 status=200 offset=-4 latency_ms=0.125 slow=1234.5 cached=false type=\"novnc\""
            ),
            "{ours}"
        );
        assert!(
            ours.contains("error=backend down error.sources=[connection refused]"),
            "{ours}"
        );
    }

    #[test]
    fn no_field_can_end_a_line_or_reach_the_terminal() {
        let log = lines(TextFields, || {
            tracing::info!(
                user = %"evil\nFAKE LINE\r\x1b[31m\u{9b}",
                quoted = "x\ny",
                "first\nsecond\ttabbed"
            );
        });
        assert_eq!(log.lines().count(), 1, "{log}");
        assert!(
            log.contains(
                "first\\nsecond\ttabbed user=evil\\nFAKE LINE\\r\\x1b[31m\\u{9b} quoted=\"x\\ny\""
            ),
            "{log}"
        );
    }
}
