//! authd's line protocol: CRLF-terminated commands and status lines.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The longest status line we accept; authd's are well under 100 bytes.
pub const MAX_LINE: usize = 1024;

/// Reads one line, without its line ending. Reads byte by byte so that
/// nothing past the line is consumed: the next bytes may belong to a TLS
/// handshake.
///
/// # Errors
/// A description when the peer closes, the line exceeds [`MAX_LINE`], or
/// the read fails.
pub async fn read_line<S: AsyncRead + Unpin>(stream: &mut S) -> Result<String, String> {
    let mut line = Vec::with_capacity(64);
    let mut byte = [0u8; 1];
    loop {
        match stream.read(&mut byte).await {
            Ok(0) => return Err("connection closed before a full line".into()),
            Ok(_) if byte[0] == b'\n' => break,
            Ok(_) => line.push(byte[0]),
            Err(e) => return Err(e.to_string()),
        }
        if line.len() > MAX_LINE {
            return Err(format!("line longer than {MAX_LINE} bytes"));
        }
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(String::from_utf8_lossy(&line).into_owned())
}

/// Writes `line` plus CRLF and flushes it.
///
/// # Errors
/// The write error, described.
pub(crate) async fn write_line<S: AsyncWrite + Unpin>(
    stream: &mut S,
    line: &str,
) -> Result<(), String> {
    let mut bytes = Vec::with_capacity(line.len() + 2);
    bytes.extend_from_slice(line.as_bytes());
    bytes.extend_from_slice(b"\r\n");
    stream.write_all(&bytes).await.map_err(|e| e.to_string())?;
    stream.flush().await.map_err(|e| e.to_string())
}

/// The status code of a reply line when it is `code`, else a description
/// of what came instead that is safe to show (the code only: a reply may
/// echo what we sent).
pub fn expect_status<'a>(line: &'a str, code: &str) -> Result<&'a str, String> {
    let (status, rest) = line.split_once(' ').unwrap_or((line, ""));
    if status == code {
        return Ok(rest.trim());
    }
    let shown = if status.len() == 3 && status.bytes().all(|b| b.is_ascii_digit()) {
        status.to_owned()
    } else {
        "a line without a status code".to_owned()
    };
    Err(format!("expected {code}, got {shown}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::duplex;

    #[tokio::test]
    async fn reads_exactly_one_line() {
        let (mut ours, mut theirs) = duplex(256);
        theirs
            .write_all(b"220 VMware Authentication Daemon\r\n\x16\x03")
            .await
            .unwrap();
        assert_eq!(
            read_line(&mut ours).await.unwrap(),
            "220 VMware Authentication Daemon"
        );
        let mut rest = [0u8; 2];
        ours.read_exact(&mut rest).await.unwrap();
        assert_eq!(&rest, b"\x16\x03");
    }

    #[tokio::test]
    async fn long_or_cut_lines_fail() {
        let (mut ours, mut theirs) = duplex(4096);
        theirs.write_all(&[b'x'; MAX_LINE + 10]).await.unwrap();
        assert!(read_line(&mut ours).await.unwrap_err().contains("longer"));
        let (mut ours, theirs) = duplex(64);
        drop(theirs);
        assert!(read_line(&mut ours).await.unwrap_err().contains("closed"));
    }

    #[tokio::test]
    async fn writes_crlf() {
        let (mut ours, mut theirs) = duplex(64);
        write_line(&mut ours, "USER x").await.unwrap();
        let mut got = [0u8; 8];
        theirs.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"USER x\r\n");
    }

    #[test]
    fn status_checks_show_only_the_code() {
        assert_eq!(expect_status("200 AA:BB", "200"), Ok("AA:BB"));
        assert_eq!(
            expect_status("230 User logged in", "230"),
            Ok("User logged in")
        );
        assert_eq!(
            expect_status("530 Login incorrect", "230").unwrap_err(),
            "expected 230, got 530"
        );
        let odd = expect_status("ticket-echo secret", "331").unwrap_err();
        assert!(!odd.contains("secret"), "{odd}");
    }
}
