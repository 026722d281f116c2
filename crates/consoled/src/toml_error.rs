//! One-line errors for TOML files: file, line, table and what is wrong.

use std::path::Path;

/// `<file>:<line>: in [<table>]: <message>`, from a TOML parse or
/// deserialization error. The line and table come from the error's span;
/// the message (toml's) names the offending key.
pub fn one_line(path: &Path, source: &str, error: &toml::de::Error) -> String {
    let message = error.message().trim().replace('\n', " ");
    let Some(span) = error.span() else {
        return format!("{}: {message}", path.display());
    };
    let start = span.start.min(source.len());
    let before = &source[..start];
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
}
