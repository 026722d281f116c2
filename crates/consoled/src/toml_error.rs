//! One-line errors for TOML files: file, line, table and what is wrong.

use std::path::Path;

/// `<file>:<line>: in [<table>]: <message>`, from a TOML parse or
/// deserialization error. The line and table come from the error's span;
/// the message (toml's) names the offending key.
pub fn one_line(path: &Path, source: &str, error: &toml::de::Error) -> String {
    one_line_under(path, source, error, "")
}

/// [`one_line`] for an error of a section deserialized on its own, whose
/// key paths start below `section` (empty: at the root).
pub fn one_line_under(path: &Path, source: &str, error: &toml::de::Error, section: &str) -> String {
    let mut message = error.message().trim().replace('\n', " ");
    let Some(span) = error.span() else {
        return format!("{}: {message}", path.display());
    };
    let start = span.start.min(source.len());
    let before = source.get(..start).unwrap_or(source);
    // A span after `=` on its line is a value, whose message does not say
    // whose; an unknown key's message names the key itself.
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    if before[line_start..].contains('=') {
        if let Some(key) = key_of(error) {
            message = match section {
                "" => format!("{key}: {message}"),
                _ if key.starts_with('[') => format!("{section}{key}: {message}"),
                _ => format!("{section}.{key}: {message}"),
            };
        }
    }
    at(path, source, span, &message)
}

/// `<file>:<line>: in [<table>]: <message>` for a place in `source`.
pub fn at(path: &Path, source: &str, span: std::ops::Range<usize>, message: &str) -> String {
    let start = span.start.min(source.len());
    let before = source.get(..start).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    // Up to the end of the line, so that a key in a header names its table.
    let line_end = source[start..]
        .find('\n')
        .map_or(source.len(), |i| start + i);
    let table = source[..line_end]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|header| format!(" in {}", header.split('#').next().unwrap_or(header).trim()))
        .unwrap_or_default();
    format!("{}:{line}:{table}: {message}", path.display())
}

/// The dotted key a value error is about (`api.listen`): toml's message
/// for a bad value (`invalid socket address syntax`) does not name it.
/// toml prints the key path only when it has no input to quote, and does
/// not expose it otherwise.
fn key_of(error: &toml::de::Error) -> Option<String> {
    let mut bare = error.clone();
    bare.set_input(None);
    bare.to_string().lines().find_map(|line| {
        let key = line.strip_prefix("in `")?.strip_suffix('`')?;
        (!key.is_empty()).then(|| key.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct File {
        api: Api,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Api {
        listen: String,
    }

    #[test]
    fn names_file_line_table_and_key() {
        let source = "# comment\n[api]\nlisten = \"x\"\nlistn = \"y\"\n";
        let e = toml::from_str::<File>(source).unwrap_err();
        let line = one_line(Path::new("c.toml"), source, &e);
        assert!(
            line.starts_with("c.toml:4: in [api]: unknown field `listn`"),
            "{line}"
        );
        assert!(!line.contains('\n'));
    }

    #[test]
    fn a_bad_value_names_its_key() {
        let source = "[api]\nlisten = 5\n";
        let e = toml::from_str::<File>(source).unwrap_err();
        let line = one_line(Path::new("c.toml"), source, &e);
        assert!(
            line.starts_with("c.toml:2: in [api]: api.listen: "),
            "{line}"
        );
    }
}
