//! The serial echo endpoint over real sockets.

use std::time::Duration;

use consoled_testkit::SerialEcho;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(20);

#[tokio::test]
async fn echoes_bytes() {
    let echo = SerialEcho::start().await.unwrap();
    let mut stream = TcpStream::connect(echo.addr()).await.unwrap();
    stream.write_all(b"hello\r\n\x00\xff").await.unwrap();
    let mut back = [0u8; 9];
    timeout(LIMIT, stream.read_exact(&mut back))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&back, b"hello\r\n\x00\xff");
    assert_eq!(echo.connections(), 1);
}

#[tokio::test]
async fn connect_path_then_echo() {
    let echo = SerialEcho::start_with_connect_path("/serial/9")
        .await
        .unwrap();
    let mut stream = TcpStream::connect(echo.addr()).await.unwrap();
    stream
        .write_all(b"CONNECT /serial/9 HTTP/1.1\r\n\r\nabc")
        .await
        .unwrap();
    let mut back = [0u8; 22];
    timeout(LIMIT, stream.read_exact(&mut back))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&back, b"HTTP/1.1 200 OK\r\n\r\nabc");

    let mut wrong = TcpStream::connect(echo.addr()).await.unwrap();
    wrong
        .write_all(b"CONNECT /serial/8 HTTP/1.1\r\n\r\nabc")
        .await
        .unwrap();
    let mut rest = Vec::new();
    timeout(LIMIT, wrong.read_to_end(&mut rest))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rest, b"HTTP/1.1 404 Not Found\r\n\r\n");

    let mut not_connect = TcpStream::connect(echo.addr()).await.unwrap();
    not_connect.write_all(b"abc\r\n\r\n").await.unwrap();
    let mut rest = Vec::new();
    timeout(LIMIT, not_connect.read_to_end(&mut rest))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rest, b"HTTP/1.1 400 Bad Request\r\n\r\n");
    assert_eq!(echo.connections(), 3);
}

#[tokio::test]
async fn serves_connections_concurrently() {
    let echo = SerialEcho::start().await.unwrap();
    let mut first = TcpStream::connect(echo.addr()).await.unwrap();
    let mut second = TcpStream::connect(echo.addr()).await.unwrap();
    // The first session stays open while the second one is served.
    first.write_all(b"1").await.unwrap();
    second.write_all(b"2").await.unwrap();
    let mut b = [0u8; 1];
    timeout(LIMIT, second.read_exact(&mut b))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&b, b"2");
    timeout(LIMIT, first.read_exact(&mut b))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&b, b"1");
}
