//! One-line errors for TOML files: file, line, table and what is wrong.

use std::path::Path;

/// `<file>:<line>: in [<table>]: <message>`, from a TOML parse or
/// deserialization error. The line and table come from the error's span;
/// the message (toml's) names the offending key.
pub fn one_line(path: &Path, source: &str, error: &toml::de::Error) -> String {
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
            message = format!("{key}: {message}");
        }
    }
    let line = before.matches('\n').count() + 1;
    let table = before
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
