//! `consoled screenshot`: a PNG of a VNC console's screen through the
//! console URL consoled minted, reached as its browser client reaches it
//! (noVNC's WebSocket, or xvpvnc's raw TCP front).

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use consoled_rfb::{capture, Encoding, ScreenshotOptions, DEFAULT_TIMEOUT};
use consoled_testkit::WsIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use url::Url;

/// The longest HTTP answer head read from xvpvnc's front.
const MAX_HEAD: usize = 8 * 1024;

/// `consoled screenshot`'s options.
#[derive(Debug, Clone, clap::Args)]
pub struct ScreenshotArgs {
    /// A novnc or xvpvnc console URL that consoled minted.
    #[arg(long, value_name = "CONSOLE_URL")]
    pub url: String,
    /// Where to write the PNG.
    #[arg(long, short, value_name = "FILE.png")]
    pub output: PathBuf,
    /// The encodings offered to the VNC server, preferred first: raw,
    /// copyrect, zlib, zrle.
    #[arg(long, value_delimiter = ',', default_value = "zrle,zlib,raw")]
    pub encodings: Vec<Encoding>,
    /// How long the whole screenshot may take, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_TIMEOUT.as_secs())]
    pub timeout: u64,
}

/// Takes the screenshot and writes it; says what it wrote on standard
/// output.
///
/// # Errors
/// The URL is not a VNC console URL; the proxy refuses it; the VNC
/// server cannot be read; the file cannot be written.
pub async fn run(args: ScreenshotArgs) -> Result<(), String> {
    let url = Url::parse(&args.url).map_err(|e| format!("--url: {e}"))?;
    let options = ScreenshotOptions {
        encodings: args.encodings.clone(),
        timeout: Duration::from_secs(args.timeout),
        ..ScreenshotOptions::default()
    };
    let shot = match console_kind(&url)? {
        Kind::NoVnc(ws_url) => {
            let tcp = connect(&ws_url).await?;
            let (ws, _) = tokio_tungstenite::client_async(ws_url.as_str(), tcp)
                .await
                .map_err(|e| format!("the console proxy refused the WebSocket: {e}"))?;
            capture(WsIo::new(ws, Bytes::new()), &options).await
        }
        Kind::XvpVnc => {
            let mut tcp = connect(&url).await?;
            xvpvnc_request(&mut tcp, &url).await?;
            capture(tcp, &options).await
        }
    }
    .map_err(|e| format!("the VNC server behind the console {e}"))?;
    let png = shot.screen.to_png().map_err(|e| e.to_string())?;
    std::fs::write(&args.output, png)
        .map_err(|e| format!("cannot write {}: {e}", args.output.display()))?;
    println!("wrote {}: {}", args.output.display(), shot.summary());
    Ok(())
}

/// How a console URL is opened.
#[derive(Debug, PartialEq, Eq)]
enum Kind {
    /// noVNC's page: a WebSocket to the page's host, at its `path`
    /// parameter.
    NoVnc(Url),
    /// xvpvnc: raw TCP after an HTTP request line carrying the token.
    XvpVnc,
}

fn console_kind(url: &Url) -> Result<Kind, String> {
    if url.scheme() != "http" {
        return Err(format!(
            "--url: {}:// console URLs are not supported (novnc and xvpvnc URLs are http://)",
            url.scheme()
        ));
    }
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    if let Some(path) = param("path") {
        // As noVNC does: the page's own host and port, then its path.
        let mut ws = url.clone();
        ws.set_scheme("ws")
            .map_err(|()| "--url: cannot become a WebSocket URL".to_owned())?;
        ws.set_query(None);
        ws.set_fragment(None);
        let ws = ws
            .join(&format!("/{}", path.trim_start_matches('/')))
            .map_err(|e| format!("--url: its path parameter {path:?}: {e}"))?;
        return Ok(Kind::NoVnc(ws));
    }
    if param("token").is_some() {
        return Ok(Kind::XvpVnc);
    }
    Err("--url: not a VNC console URL: it has neither noVNC's path parameter nor a token".into())
}

async fn connect(url: &Url) -> Result<TcpStream, String> {
    let host = url.host_str().ok_or("--url: the URL names no host")?;
    let port = url
        .port_or_known_default()
        .ok_or("--url: the URL names no port")?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    TcpStream::connect((host, port))
        .await
        .map_err(|e| format!("cannot reach the console proxy at {host}:{port}: {e}"))
}

/// xvpvnc's front: the request line with the token, `200 OK`, then RFB.
async fn xvpvnc_request(tcp: &mut TcpStream, url: &Url) -> Result<(), String> {
    let target = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    };
    let host = url.host_str().unwrap_or_default();
    let request = format!("GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n");
    let io = |e: std::io::Error| format!("the console proxy failed: {e}");
    tcp.write_all(request.as_bytes()).await.map_err(io)?;
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() == MAX_HEAD {
            return Err("the console proxy's answer has no end of head".into());
        }
        let byte = tcp.read_u8().await.map_err(io)?;
        head.push(byte);
    }
    let status_line = String::from_utf8_lossy(&head);
    let status_line = status_line.lines().next().unwrap_or_default();
    if status_line.split_whitespace().nth(1) != Some("200") {
        return Err(format!(
            "the console proxy refused the console: {status_line}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(url: &str) -> Result<Kind, String> {
        console_kind(&Url::parse(url).unwrap())
    }

    #[test]
    fn novnc_urls_open_the_websocket_novnc_opens() {
        let url = "http://127.0.0.1:6080/vnc_lite.html?path=%3Ftoken%3Dabc";
        assert_eq!(
            kind(url).unwrap(),
            Kind::NoVnc(Url::parse("ws://127.0.0.1:6080/?token=abc").unwrap())
        );
        let url = "http://h:6080/app/vnc.html?autoconnect=1&path=websockify%3Ftoken%3Dx";
        assert_eq!(
            kind(url).unwrap(),
            Kind::NoVnc(Url::parse("ws://h:6080/websockify?token=x").unwrap())
        );
    }

    #[test]
    fn xvpvnc_urls_carry_a_token_and_others_are_refused() {
        assert_eq!(
            kind("http://127.0.0.1:6081/console?token=t").unwrap(),
            Kind::XvpVnc
        );
        assert!(kind("ws://127.0.0.1:6083/?token=t")
            .unwrap_err()
            .contains("ws://"));
        assert!(kind("http://127.0.0.1:6080/vnc_lite.html")
            .unwrap_err()
            .contains("neither"));
    }
}
