//! The client's side of the RFB handshake: version (3.8, or a 3.3 or 3.7
//! server's own), security None, a shared ClientInit, ServerInit.

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use crate::client::error::ClientError;
use crate::client::framebuffer::MAX_DIMENSION;
use crate::client::pixel_format::PixelFormat;
use crate::client::read;
use crate::handshake::named_types;

/// RFB security type None.
const NONE: u8 = 1;

/// The longest desktop name or refusal reason read.
const MAX_TEXT: u32 = 64 * 1024;

/// What the server said in ServerInit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInit {
    /// Screen width.
    pub width: u16,
    /// Screen height.
    pub height: u16,
    /// The server's own pixel format.
    pub format: PixelFormat,
    /// The desktop's name.
    pub name: String,
}

/// The protocol versions the client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Version {
    V3_3,
    V3_7,
    V3_8,
}

impl Version {
    fn wire(self) -> &'static [u8; 12] {
        match self {
            Version::V3_3 => b"RFB 003.003\n",
            Version::V3_7 => b"RFB 003.007\n",
            Version::V3_8 => crate::handshake::RFB_3_8,
        }
    }
}

/// Runs the client's side of the handshake on a fresh connection to a
/// VNC server, up to and including ServerInit. The ClientInit asks to
/// share the desktop, so that nobody else's session is closed.
///
/// # Errors
/// [`ClientError::Refused`] when the server refuses the connection or
/// the security handshake, or offers no security None (behind consoled's
/// security proxy, `[vnc] auth_schemes` with `vencrypt`, it always
/// does); [`ClientError::Protocol`] when it is not an RFB 3.x server;
/// [`ClientError::TooLarge`] for a screen over
/// [`MAX_DIMENSION`]; I/O errors.
pub async fn handshake<S>(stream: &mut S) -> Result<ServerInit, ClientError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let offered = read::array::<12, _>(stream, "its RFB version").await?;
    let version = version_for(&offered)?;
    write(stream, version.wire(), "the client's RFB version").await?;
    if version == Version::V3_3 {
        match read::u32(stream, "its security type").await? {
            0 => return Err(refused_with(stream, "refused the connection").await),
            1 => {}
            other => {
                return Err(ClientError::Refused(format!(
                    "requires security type {}; the screenshot client speaks None (1)",
                    named_types(&[u8::try_from(other).unwrap_or(u8::MAX)])
                )))
            }
        }
    } else {
        let count = read::u8(stream, "its security types").await?;
        if count == 0 {
            return Err(refused_with(stream, "refused the connection").await);
        }
        let types = read::vec(stream, usize::from(count), "its security types").await?;
        if !types.contains(&NONE) {
            return Err(ClientError::Refused(format!(
                "offers security types {}; the screenshot client speaks None (1) only (with \
                 [vnc] auth_schemes listing vencrypt, consoled negotiates VeNCrypt itself)",
                named_types(&types)
            )));
        }
        write(stream, &[NONE], "the client's security type").await?;
        // Before 3.8 security None has no SecurityResult.
        if version == Version::V3_8 && read::u32(stream, "its SecurityResult").await? != 0 {
            return Err(refused_with(stream, "refused the security handshake").await);
        }
    }
    // Shared: a screenshot must not end anybody's session.
    write(stream, &[1], "ClientInit").await?;
    server_init(stream).await
}

/// Reads the server's half of a finished handshake from a recorded
/// server-to-client stream, up to and including ServerInit: what a
/// replay needs before it hands the rest of the stream to a
/// [`Decoder`](crate::Decoder). The client is taken to have chosen
/// security None (what consoled's security proxy presents, and what a
/// server without authentication offers) in the version the server
/// offered (3.3, 3.7 or 3.8).
///
/// # Errors
/// [`ClientError::Refused`] when the recorded server refused the
/// connection or offered no None; [`ClientError::Protocol`] when the
/// stream does not start with an RFB 3.x greeting;
/// [`ClientError::TooLarge`] for a screen over [`MAX_DIMENSION`];
/// [`ClientError::Closed`] when the recording ends first.
pub async fn replay_handshake<R: AsyncRead + Unpin>(
    stream: &mut R,
) -> Result<ServerInit, ClientError> {
    let offered = read::array::<12, _>(stream, "its RFB version").await?;
    match version_for(&offered)? {
        Version::V3_3 => {
            if read::u32(stream, "its security type").await? != u32::from(NONE) {
                return Err(ClientError::Refused("did not choose security None".into()));
            }
        }
        version => {
            let count = read::u8(stream, "its security types").await?;
            let types = read::vec(stream, usize::from(count), "its security types").await?;
            if !types.contains(&NONE) {
                return Err(ClientError::Refused(format!(
                    "offered security types {}, not None",
                    named_types(&types)
                )));
            }
            if version == Version::V3_8 && read::u32(stream, "its SecurityResult").await? != 0 {
                return Err(refused_with(stream, "refused the security handshake").await);
            }
        }
    }
    server_init(stream).await
}

/// ServerInit, its screen size checked.
async fn server_init<R: AsyncRead + Unpin>(stream: &mut R) -> Result<ServerInit, ClientError> {
    let head = read::array::<20, _>(stream, "ServerInit").await?;
    let width = u16::from_be_bytes([head[0], head[1]]);
    let height = u16::from_be_bytes([head[2], head[3]]);
    let mut format = [0u8; 16];
    format.copy_from_slice(&head[4..20]);
    let name = read::text(stream, MAX_TEXT, "its desktop name").await?;
    if width > MAX_DIMENSION || height > MAX_DIMENSION {
        return Err(ClientError::TooLarge {
            width,
            height,
            max: MAX_DIMENSION,
        });
    }
    Ok(ServerInit {
        width,
        height,
        format: PixelFormat::from_wire(&format),
        name,
    })
}

/// The version to answer a server's `RFB xxx.yyy\n` with: 3.8 for 3.8
/// and later, 3.7 for 3.7, 3.3 for the rest of 3.x (as RFC 6143 says).
fn version_for(offered: &[u8; 12]) -> Result<Version, ClientError> {
    let text = std::str::from_utf8(offered).ok();
    let parsed = text
        .and_then(|t| t.strip_prefix("RFB "))
        .and_then(|t| t.strip_suffix('\n'))
        .and_then(|t| t.split_once('.'))
        .and_then(|(major, minor)| Some((major.parse::<u16>().ok()?, minor.parse::<u16>().ok()?)));
    match parsed {
        Some((major, _)) if major > 3 => Ok(Version::V3_8),
        Some((3, minor)) if minor >= 8 => Ok(Version::V3_8),
        Some((3, 7)) => Ok(Version::V3_7),
        Some((3, _)) => Ok(Version::V3_3),
        _ => Err(ClientError::Protocol(format!(
            "is not an RFB 3.x server: it sent {:?}",
            String::from_utf8_lossy(offered)
        ))),
    }
}

/// The refusal with the server's reason, or how reading it failed.
async fn refused_with<S: AsyncRead + Unpin>(stream: &mut S, what: &str) -> ClientError {
    match read::text(stream, MAX_TEXT, "its reason").await {
        Ok(reason) => ClientError::Refused(format!("{what}: {reason}")),
        Err(e) => e,
    }
}

pub(crate) async fn write<S: AsyncWrite + Unpin>(
    stream: &mut S,
    bytes: &[u8],
    what: &'static str,
) -> Result<(), ClientError> {
    let sent = async {
        stream.write_all(bytes).await?;
        stream.flush().await
    };
    sent.await
        .map_err(|source| ClientError::Io { what, source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{duplex, AsyncReadExt};

    fn server_init(width: u16, height: u16) -> Vec<u8> {
        let mut out = width.to_be_bytes().to_vec();
        out.extend_from_slice(&height.to_be_bytes());
        out.extend_from_slice(&PixelFormat::RGBX.to_wire());
        out.extend_from_slice(&4u32.to_be_bytes());
        out.extend_from_slice(b"qemu");
        out
    }

    /// Runs the handshake against a server that sends `script` at once,
    /// and returns its outcome and what the client wrote.
    async fn against(script: Vec<u8>) -> (Result<ServerInit, ClientError>, Vec<u8>) {
        let (mut client, mut server) = duplex(64 * 1024);
        let serving = tokio::spawn(async move {
            server.write_all(&script).await.unwrap();
            // Then end of stream: a client that wants more sees it closed.
            server.shutdown().await.unwrap();
            let mut seen = Vec::new();
            let _ = server.read_to_end(&mut seen).await;
            seen
        });
        let outcome = handshake(&mut client).await;
        drop(client);
        (outcome, serving.await.unwrap())
    }

    #[tokio::test]
    async fn rfb_3_8_with_none_shares_the_desktop() {
        let script = [
            b"RFB 003.008\n".as_slice(),
            &[2, 19, 1],
            &[0, 0, 0, 0],
            &server_init(720, 400),
        ]
        .concat();
        let (outcome, wrote) = against(script).await;
        let init = outcome.unwrap();
        assert_eq!(
            (init.width, init.height, init.name.as_str()),
            (720, 400, "qemu")
        );
        assert_eq!(init.format, PixelFormat::RGBX);
        assert_eq!(wrote, b"RFB 003.008\n\x01\x01", "version, None, shared");
    }

    #[tokio::test]
    async fn older_servers_are_answered_in_their_version() {
        let script = [
            b"RFB 003.003\n".as_slice(),
            &[0, 0, 0, 1],
            &server_init(1, 1),
        ]
        .concat();
        let (outcome, wrote) = against(script).await;
        outcome.unwrap();
        assert_eq!(wrote, b"RFB 003.003\n\x01");
        let script = [b"RFB 003.007\n".as_slice(), &[1, 1], &server_init(1, 1)].concat();
        let (outcome, wrote) = against(script).await;
        outcome.unwrap();
        assert_eq!(wrote, b"RFB 003.007\n\x01\x01");
        let script = [
            b"RFB 003.889\n".as_slice(),
            &[1, 1],
            &[0; 4],
            &server_init(1, 1),
        ]
        .concat();
        let (outcome, wrote) = against(script).await;
        outcome.unwrap();
        assert_eq!(&wrote[..12], b"RFB 003.008\n");
    }

    #[tokio::test]
    async fn refusals_say_why() {
        let reason = |text: &str| {
            let mut out = (text.len() as u32).to_be_bytes().to_vec();
            out.extend_from_slice(text.as_bytes());
            out
        };
        let cases: [(Vec<u8>, &str); 6] = [
            (b"HTTP/1.1 400".to_vec(), "not an RFB 3.x server"),
            (
                [b"RFB 003.008\n".as_slice(), &[0], &reason("too many")].concat(),
                "refused the connection: too many",
            ),
            (
                [b"RFB 003.008\n".as_slice(), &[2, 2, 19]].concat(),
                "offers security types 2 (VNC), 19 (VeNCrypt)",
            ),
            (
                [
                    b"RFB 003.008\n".as_slice(),
                    &[1, 1],
                    &[0, 0, 0, 1],
                    &reason("no"),
                ]
                .concat(),
                "refused the security handshake: no",
            ),
            (
                [b"RFB 003.003\n".as_slice(), &[0, 0, 0, 2]].concat(),
                "requires security type 2 (VNC)",
            ),
            (
                [
                    b"RFB 003.008\n".as_slice(),
                    &[1, 1],
                    &[0; 4],
                    &server_init(8193, 10),
                ]
                .concat(),
                "8193x10",
            ),
        ];
        for (script, why) in cases {
            let (outcome, _) = against(script).await;
            let err = outcome.unwrap_err();
            assert!(err.to_string().contains(why), "{why}: {err}");
        }
        let (outcome, _) = against(b"RFB 003.008\n".to_vec()).await;
        assert!(matches!(outcome, Err(ClientError::Closed { .. })));
    }

    #[tokio::test]
    async fn a_recorded_server_stream_replays_to_its_server_init() {
        let recorded = [
            b"RFB 003.008\n".as_slice(),
            &[2, 19, 1],
            &[0, 0, 0, 0],
            &server_init(720, 400),
            b"first update",
        ]
        .concat();
        let mut stream = recorded.as_slice();
        let init = replay_handshake(&mut stream).await.unwrap();
        assert_eq!((init.width, init.height), (720, 400));
        assert_eq!(stream, b"first update", "the rest is the decoder's");
        let v33 = [
            b"RFB 003.003\n".as_slice(),
            &[0, 0, 0, 1],
            &server_init(2, 2),
        ]
        .concat();
        replay_handshake(&mut v33.as_slice()).await.unwrap();
        let vnc_auth = [b"RFB 003.008\n".as_slice(), &[1, 2]].concat();
        let err = replay_handshake(&mut vnc_auth.as_slice())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("2 (VNC), not None"), "{err}");
    }
}
