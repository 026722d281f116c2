//! The SPICE endpoint against the SPICE client helpers.

use std::time::Duration;

use consoled_testkit::{spice_link_message, spice_read_link_reply, SpiceEndpoint};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(20);

#[tokio::test]
async fn link_then_echo() {
    let spice = SpiceEndpoint::start().await.unwrap();
    let mut stream = TcpStream::connect(spice.addr()).await.unwrap();
    stream.write_all(&spice_link_message()).await.unwrap();
    let error = timeout(LIMIT, spice_read_link_reply(&mut stream))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(error, 0);
    stream.write_all(b"after link").await.unwrap();
    let mut back = [0u8; 10];
    timeout(LIMIT, stream.read_exact(&mut back))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&back, b"after link");
    assert_eq!(spice.connections(), 1);
}

#[tokio::test]
async fn link_reply_has_the_documented_shape() {
    let spice = SpiceEndpoint::start().await.unwrap();
    let mut stream = TcpStream::connect(spice.addr()).await.unwrap();
    stream.write_all(&spice_link_message()).await.unwrap();
    let mut reply = vec![0u8; 16 + 178];
    timeout(LIMIT, stream.read_exact(&mut reply))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&reply[..4], b"REDQ");
    assert_eq!(&reply[4..16], &[2, 0, 0, 0, 2, 0, 0, 0, 178, 0, 0, 0]);
    assert_eq!(&reply[16..20], &[0, 0, 0, 0], "SPICE_LINK_ERR_OK");
    assert!(reply[20..182].iter().all(|&b| b == 0), "zeroed public key");
    assert_eq!(&reply[182..190], &[0; 8], "no capabilities");
}

#[tokio::test]
async fn wrong_version_and_magic() {
    let spice = SpiceEndpoint::start().await.unwrap();
    let mut link = spice_link_message();
    link[4] = 1;
    let mut old = TcpStream::connect(spice.addr()).await.unwrap();
    old.write_all(&link).await.unwrap();
    let error = timeout(LIMIT, spice_read_link_reply(&mut old))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(error, 4, "SPICE_LINK_ERR_VERSION_MISMATCH");

    let mut http = TcpStream::connect(spice.addr()).await.unwrap();
    http.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
    let mut rest = Vec::new();
    let _ = timeout(LIMIT, http.read_to_end(&mut rest)).await.unwrap();
    assert!(rest.is_empty());

    let mut fine = TcpStream::connect(spice.addr()).await.unwrap();
    fine.write_all(&spice_link_message()).await.unwrap();
    assert_eq!(spice_read_link_reply(&mut fine).await.unwrap(), 0);
}

#[tokio::test]
async fn client_rejects_what_is_not_spice() {
    let (mut ours, mut theirs) = tokio::io::duplex(64);
    theirs.write_all(b"RFB 003.008\nxxxx").await.unwrap();
    let err = spice_read_link_reply(&mut ours).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
}
