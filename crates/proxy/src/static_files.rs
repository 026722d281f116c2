//! The web root a console listener serves (noVNC's or spice-html5's
//! pages), so that the console URL opens a working page in a browser.

use std::io;
use std::path::{Path, PathBuf};

use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::http_head::RequestHead;
use crate::response::{response_head, write_empty};

/// Where distributions install the browser clients, by console type: the
/// defaults Nova uses.
pub const DEFAULT_WEB_ROOTS: &[(&str, &str)] = &[
    ("novnc", "/usr/share/novnc"),
    ("spice-html5", "/usr/share/spice-html5"),
];

/// The default web root of a listener serving `types`: the first one that
/// is installed.
pub(crate) fn default_web_root(types: &[String]) -> Option<PathBuf> {
    types.iter().find_map(|t| {
        DEFAULT_WEB_ROOTS
            .iter()
            .find(|(ty, _)| ty == t)
            .map(|(_, dir)| PathBuf::from(dir))
            .filter(|dir| dir.is_dir())
    })
}

/// Why a request path maps to no file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PathError {
    /// `//host/...`: a browser may take it for another site (open
    /// redirect), so it is refused outright.
    DoubleSlash,
    /// Not absolute, a `..` or `.` segment, a backslash, a NUL, bad
    /// percent-encoding.
    Invalid,
}

/// The file under `root` that the request path names: percent-decoded,
/// refused when it could leave the root. A path ending in `/` names its
/// `index.html`. Pure, for unit tests and fuzzing.
pub(crate) fn resolve(root: &Path, raw_path: &str) -> Result<PathBuf, PathError> {
    if raw_path.starts_with("//") {
        return Err(PathError::DoubleSlash);
    }
    let decoded = percent_decode(raw_path).ok_or(PathError::Invalid)?;
    let relative = decoded.strip_prefix('/').ok_or(PathError::Invalid)?;
    if decoded.contains(['\\', '\0']) {
        return Err(PathError::Invalid);
    }
    let mut file = root.to_path_buf();
    for segment in relative.split('/') {
        match segment {
            "" => {}
            "." | ".." => return Err(PathError::Invalid),
            name => file.push(name),
        }
    }
    if relative.is_empty() || relative.ends_with('/') {
        file.push("index.html");
    }
    Ok(file)
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The `Content-Type` of a file, by its extension.
pub(crate) fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default();
    match ext.to_ascii_lowercase().as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "ico" => "image/x-icon",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "wasm" => "application/wasm",
        "txt" => "text/plain; charset=utf-8",
        "xml" => "application/xml",
        "oga" | "ogg" => "audio/ogg",
        "mp3" => "audio/mpeg",
        _ => "application/octet-stream",
    }
}

/// Serves `head`'s path from `root`. Returns whether the connection may
/// serve another request.
pub(crate) async fn serve<S>(stream: &mut S, root: &Path, head: &RequestHead) -> io::Result<bool>
where
    S: AsyncWrite + Unpin,
{
    if !matches!(head.method.as_str(), "GET" | "HEAD") {
        write_empty(stream, 405, &[("Allow", "GET, HEAD")]).await?;
        return Ok(false);
    }
    let path = match resolve(root, head.path()) {
        Ok(path) => path,
        Err(e) => {
            tracing::info!(path = head.path(), reason = ?e, "static file request refused");
            write_empty(stream, 400, &[]).await?;
            return Ok(false);
        }
    };
    let opened = match tokio::fs::File::open(&path).await {
        Ok(file) => match file.metadata().await {
            Ok(meta) if meta.is_file() => Some((file, meta.len())),
            _ => None,
        },
        Err(_) => None,
    };
    let Some((mut file, len)) = opened else {
        write_empty(stream, 404, &[]).await?;
        return Ok(false);
    };
    let keep_alive = head.keep_alive();
    let headers = [
        ("Content-Type", content_type(&path)),
        ("X-Content-Type-Options", "nosniff"),
        ("Cache-Control", "no-cache"),
    ];
    stream
        .write_all(response_head(200, &headers, Some(len), keep_alive).as_bytes())
        .await?;
    if head.method == "GET" {
        let sent = tokio::io::copy(&mut file, stream).await?;
        if sent != len {
            // The file changed under us; the length we announced is wrong.
            return Ok(false);
        }
    }
    stream.flush().await?;
    Ok(keep_alive)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> PathBuf {
        PathBuf::from("/srv/novnc")
    }

    #[test]
    fn maps_paths_under_the_root() {
        assert_eq!(
            resolve(&root(), "/vnc_auto.html"),
            Ok(root().join("vnc_auto.html"))
        );
        assert_eq!(resolve(&root(), "/app/ui.js"), Ok(root().join("app/ui.js")));
        assert_eq!(resolve(&root(), "/"), Ok(root().join("index.html")));
        assert_eq!(resolve(&root(), "/app/"), Ok(root().join("app/index.html")));
        assert_eq!(resolve(&root(), "/a%20b.html"), Ok(root().join("a b.html")));
    }

    #[test]
    fn double_slash_is_an_open_redirect() {
        assert_eq!(
            resolve(&root(), "//evil.example/"),
            Err(PathError::DoubleSlash)
        );
        assert_eq!(resolve(&root(), "//"), Err(PathError::DoubleSlash));
    }

    #[test]
    fn never_leaves_the_root() {
        for bad in [
            "/../etc/passwd",
            "/app/../../etc/passwd",
            "/%2e%2e/etc/passwd",
            "/app/%2E%2E/%2e%2e/x",
            "/./x",
            "/a\\..\\b",
            "/a%00b",
            "/%zz",
            "/%2",
            "relative",
            "",
            "/%ff",
        ] {
            assert_eq!(resolve(&root(), bad), Err(PathError::Invalid), "{bad}");
        }
    }

    #[test]
    fn types_by_extension() {
        assert_eq!(
            content_type(Path::new("a/vnc.HTML")),
            "text/html; charset=utf-8"
        );
        assert_eq!(
            content_type(Path::new("core/rfb.js")),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type(Path::new("noext")), "application/octet-stream");
    }

    #[test]
    fn default_root_only_for_types_that_have_one() {
        assert_eq!(default_web_root(&["serial".to_owned()]), None);
    }
}
