//! The pumps over in-memory pipes, on a paused clock where time matters.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use consoled_core::prometheus_client::encoding::prometheus_text::encode;
use consoled_core::prometheus_client::registry::Registry;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{duplex, AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::task::JoinHandle;
use tokio::time::{timeout, Instant};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::*;
use crate::metrics::ProxyMetrics;
use crate::shutdown::ShutdownTrigger;

const LIMIT: Duration = Duration::from_secs(30);

/// tungstenite's default limit, which these tests ran with before the
/// relay parsed frames itself.
const MAX_FRAME: usize = 16 << 20;

fn limits() -> SessionLimits {
    SessionLimits {
        keepalive: None,
        idle_timeout: None,
        expires: None,
        close_wait: Duration::from_secs(5),
    }
}

struct Session {
    client: WebSocketStream<DuplexStream>,
    backend: DuplexStream,
    relay: JoinHandle<RelayReport>,
    trigger: ShutdownTrigger,
}

async fn session_with(
    limits: SessionLimits,
    max_frame_size: usize,
    trigger: ShutdownTrigger,
) -> Session {
    let (client_io, server_io) = duplex(64 * 1024);
    let (backend, backend_ours) = duplex(64 * 1024);
    let client = WebSocketStream::from_raw_socket(client_io, Role::Client, None).await;
    let signal = trigger.signal();
    let relay = tokio::spawn(async move {
        relay_websocket(
            server_io,
            backend_ours,
            &limits,
            max_frame_size,
            signal,
            None,
            Publish::default(),
        )
        .await
    });
    Session {
        client,
        backend,
        relay,
        trigger,
    }
}

async fn session(limits: SessionLimits) -> Session {
    session_with(limits, MAX_FRAME, ShutdownTrigger::new()).await
}

async fn next(client: &mut WebSocketStream<DuplexStream>) -> Message {
    timeout(LIMIT, client.next())
        .await
        .expect("a message in time")
        .expect("stream open")
        .expect("valid message")
}

async fn read_exactly(backend: &mut DuplexStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    timeout(LIMIT, backend.read_exact(&mut buf))
        .await
        .expect("bytes in time")
        .expect("read");
    buf
}

async fn expect_close(client: &mut WebSocketStream<DuplexStream>, code: CloseCode, reason: &str) {
    loop {
        match next(client).await {
            Message::Close(Some(frame)) => {
                assert_eq!(frame.code, code);
                assert_eq!(frame.reason.as_str(), reason);
                return;
            }
            Message::Ping(_) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn binary_and_text_frames_reach_the_backend() {
    let mut s = session(limits()).await;
    s.client
        .send(Message::binary(&b"\x01\x02"[..]))
        .await
        .unwrap();
    s.client.send(Message::text("ls\r")).await.unwrap();
    assert_eq!(read_exactly(&mut s.backend, 5).await, b"\x01\x02ls\r");
}

#[tokio::test]
async fn each_backend_read_is_one_frame_sent_at_once() {
    let mut s = session(limits()).await;
    s.backend.write_all(b"RFB 003.008\n").await.unwrap();
    assert_eq!(
        next(&mut s.client).await,
        Message::binary(&b"RFB 003.008\n"[..])
    );
    // A single byte is not held back waiting for more.
    s.backend.write_all(b"\x01").await.unwrap();
    assert_eq!(next(&mut s.client).await, Message::binary(&b"\x01"[..]));
}

#[tokio::test]
async fn large_output_arrives_whole_and_in_order() {
    let mut s = session(limits()).await;
    let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    let expected = data.clone();
    let mut backend = s.backend;
    let writer = tokio::spawn(async move {
        backend.write_all(&data).await.unwrap();
        backend
    });
    let mut got = Vec::new();
    while got.len() < expected.len() {
        match next(&mut s.client).await {
            Message::Binary(b) => {
                assert!(b.len() <= crate::ws_relay::BACKEND_READ_SIZE);
                got.extend_from_slice(&b);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(got, expected);
    drop(writer.await.unwrap());
}

#[tokio::test]
async fn backend_end_closes_the_client_normally() {
    let mut s = session(limits()).await;
    s.backend.write_all(b"bye").await.unwrap();
    s.backend.shutdown().await.unwrap();
    assert_eq!(next(&mut s.client).await, Message::binary(&b"bye"[..]));
    expect_close(&mut s.client, CloseCode::Normal, "console closed").await;
    // The client answers the close; the relay then finishes.
    assert!(timeout(LIMIT, s.client.next()).await.unwrap().is_none());
    let report = timeout(LIMIT, s.relay).await.unwrap().unwrap();
    assert_eq!(report.end, SessionEnd::BackendClosed);
    assert_eq!(report.to_client, 3);
}

#[tokio::test]
async fn client_close_half_closes_the_backend() {
    let mut s = session(limits()).await;
    s.client.send(Message::binary(&b"last"[..])).await.unwrap();
    s.client.close(None).await.unwrap();
    let mut received = Vec::new();
    timeout(LIMIT, s.backend.read_to_end(&mut received))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(received, b"last");
    let report = timeout(LIMIT, s.relay).await.unwrap().unwrap();
    assert_eq!(report.end, SessionEnd::ClientClosed);
    assert_eq!(report.to_backend, 4);
}

#[tokio::test]
async fn an_oversized_frame_closes_with_1009() {
    let mut s = session_with(limits(), 1024, ShutdownTrigger::new()).await;
    s.client
        .send(Message::binary(vec![7u8; 4096]))
        .await
        .unwrap();
    expect_close(&mut s.client, CloseCode::Size, "frame too large").await;
    let report = timeout(LIMIT, s.relay).await.unwrap().unwrap();
    assert_eq!(report.end, SessionEnd::FrameTooLarge);
    assert_eq!(report.to_backend, 0);
}

#[tokio::test(start_paused = true)]
async fn idle_sessions_are_closed() {
    let mut l = limits();
    l.idle_timeout = Some(Duration::from_secs(5));
    let mut s = session(l).await;
    s.client.send(Message::binary(&b"x"[..])).await.unwrap();
    assert_eq!(read_exactly(&mut s.backend, 1).await, b"x");
    expect_close(&mut s.client, CloseCode::Normal, "idle timeout").await;
    assert_eq!(
        timeout(LIMIT, s.relay).await.unwrap().unwrap().end,
        SessionEnd::Idle
    );
}

#[tokio::test(start_paused = true)]
async fn sessions_end_when_the_token_expires() {
    let mut l = limits();
    l.expires = Some(Instant::now() + Duration::from_secs(5));
    let mut s = session(l).await;
    expect_close(&mut s.client, CloseCode::Normal, "session expired").await;
    assert_eq!(
        timeout(LIMIT, s.relay).await.unwrap().unwrap().end,
        SessionEnd::Expired
    );
}

#[tokio::test]
async fn shutdown_closes_with_going_away() {
    let mut s = session(limits()).await;
    s.trigger.fire();
    expect_close(&mut s.client, CloseCode::Away, "proxy shutting down").await;
    // Reading on sends the client's reply, which completes the closing handshake.
    assert!(timeout(LIMIT, s.client.next()).await.unwrap().is_none());
    assert_eq!(
        timeout(LIMIT, s.relay).await.unwrap().unwrap().end,
        SessionEnd::Shutdown
    );
}

#[tokio::test(start_paused = true)]
async fn pings_keep_a_live_client_and_drop_a_dead_one() {
    let mut l = limits();
    l.keepalive = Some(Duration::from_secs(20));
    let mut s = session(l).await;
    // A reading client answers each ping (tungstenite replies on read).
    for _ in 0..3 {
        assert!(matches!(next(&mut s.client).await, Message::Ping(_)));
    }
    // Now it stops reading: its pong never comes.
    let report = timeout(Duration::from_secs(600), s.relay)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.end, SessionEnd::DeadPeer);
}

#[tokio::test]
async fn raw_relay_half_closes_each_direction() {
    let (mut client, client_ours) = duplex(1024);
    let (mut backend, backend_ours) = duplex(1024);
    let trigger = ShutdownTrigger::new();
    let signal = trigger.signal();
    let relay = tokio::spawn(async move {
        relay_raw(
            client_ours,
            backend_ours,
            &limits(),
            signal,
            None,
            Publish::default(),
        )
        .await
    });
    client.write_all(b"key").await.unwrap();
    client.shutdown().await.unwrap();
    let mut got = Vec::new();
    timeout(LIMIT, backend.read_to_end(&mut got))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, b"key");
    // The other direction still flows after the client's half-close.
    backend.write_all(b"frame").await.unwrap();
    backend.shutdown().await.unwrap();
    let mut got = Vec::new();
    timeout(LIMIT, client.read_to_end(&mut got))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, b"frame");
    let report = timeout(LIMIT, relay).await.unwrap().unwrap();
    assert_eq!(report.end, SessionEnd::ClientClosed);
    assert_eq!((report.to_backend, report.to_client), (3, 5));
}

#[tokio::test(start_paused = true)]
async fn raw_relay_honours_the_idle_timeout() {
    let (_client, client_ours) = duplex(1024);
    let (_backend, backend_ours) = duplex(1024);
    let mut l = limits();
    l.idle_timeout = Some(Duration::from_secs(5));
    let trigger = ShutdownTrigger::new();
    let report = relay_raw(
        client_ours,
        backend_ours,
        &l,
        trigger.signal(),
        None,
        Publish::default(),
    )
    .await;
    assert_eq!(report.end, SessionEnd::Idle);
}

/// A relay between 1 KiB pipes, so that anything not held back would
/// have to pile up in the relay; returns its client, its backend and the
/// trigger of its shutdown.
async fn small_pipe_session() -> (WebSocketStream<DuplexStream>, DuplexStream, ShutdownTrigger) {
    let (client_io, server_io) = duplex(1024);
    let (backend, backend_ours) = duplex(1024);
    let client = WebSocketStream::from_raw_socket(client_io, Role::Client, None).await;
    let trigger = ShutdownTrigger::new();
    let signal = trigger.signal();
    tokio::spawn(async move {
        relay_websocket(
            server_io,
            backend_ours,
            &limits(),
            MAX_FRAME,
            signal,
            None,
            Publish::default(),
        )
        .await
    });
    (client, backend, trigger)
}

#[tokio::test(start_paused = true)]
async fn a_slow_backend_holds_the_client_back() {
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;
    // Small pipes: anything not held back would have to pile up in the relay.
    let (mut client, mut backend, _trigger) = small_pipe_session().await;
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    let sender = tokio::spawn(async move {
        for _ in 0..100 {
            client.send(Message::binary(vec![9u8; 1024])).await.unwrap();
            counter.fetch_add(1, Ordering::SeqCst);
        }
        client
    });
    // Nobody reads the backend: the client must stall long before 100 KiB.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let stalled_at = sent.load(Ordering::SeqCst);
    assert!(
        stalled_at < 20,
        "{stalled_at} KiB accepted with nobody reading"
    );
    // Once the backend reads, everything flows, in order.
    let received = read_exactly(&mut backend, 100 * 1024).await;
    assert!(received.iter().all(|&b| b == 9));
    let _client = timeout(LIMIT, sender).await.unwrap().unwrap();
    assert_eq!(sent.load(Ordering::SeqCst), 100);
}

#[tokio::test]
async fn pings_get_pongs_and_a_close_gets_its_echo() {
    use tokio_tungstenite::tungstenite::protocol::CloseFrame;
    let mut s = session(limits()).await;
    s.client.send(Message::Ping("hi".into())).await.unwrap();
    assert_eq!(next(&mut s.client).await, Message::Pong("hi".into()));
    let frame = CloseFrame {
        code: CloseCode::Library(4000),
        reason: "bye".into(),
    };
    s.client.close(Some(frame.clone())).await.unwrap();
    assert_eq!(next(&mut s.client).await, Message::Close(Some(frame)));
    let report = timeout(LIMIT, s.relay).await.unwrap().unwrap();
    assert_eq!(report.end, SessionEnd::ClientClosed);
}

#[tokio::test]
async fn an_unmasked_client_frame_closes_with_1002() {
    let mut s = session(limits()).await;
    // A frame a server would send: clients must mask theirs.
    s.client.get_mut().write_all(b"\x82\x01x").await.unwrap();
    expect_close(&mut s.client, CloseCode::Protocol, "protocol error").await;
    let report = timeout(LIMIT, s.relay).await.unwrap().unwrap();
    assert!(matches!(report.end, SessionEnd::ProtocolError(_)));
    assert_eq!(report.to_backend, 0);
}

#[tokio::test(start_paused = true)]
async fn a_slow_client_holds_the_backend_back() {
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;
    let (mut client, mut backend, _trigger) = small_pipe_session().await;
    let written = Arc::new(AtomicUsize::new(0));
    let counter = written.clone();
    let writer = tokio::spawn(async move {
        for i in 0..100u8 {
            backend.write_all(&[i; 1024]).await.unwrap();
            counter.fetch_add(1, Ordering::SeqCst);
        }
        backend
    });
    // Nobody reads the client: the backend must stall long before 100 KiB.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let stalled_at = written.load(Ordering::SeqCst);
    assert!(
        stalled_at < 20,
        "{stalled_at} KiB taken with nobody reading"
    );
    let mut got = Vec::new();
    while got.len() < 100 * 1024 {
        match next(&mut client).await {
            Message::Binary(b) => got.extend_from_slice(&b),
            other => panic!("unexpected {other:?}"),
        }
    }
    let want: Vec<u8> = (0..100u8).flat_map(|i| [i; 1024]).collect();
    assert_eq!(got, want);
    drop(timeout(LIMIT, writer).await.unwrap().unwrap());
}

/// What the registry shows for one line's name and labels, if anything.
fn sample(registry: &Registry, series: &str) -> Option<String> {
    let mut text = String::new();
    encode(&mut text, registry).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ').map(str::to_owned))
}

#[tokio::test(start_paused = true)]
async fn a_live_raw_session_publishes_its_bytes_every_interval() {
    let mut registry = Registry::default();
    let metrics = Arc::new(ProxyMetrics::register(&mut registry));
    let (mut client, client_ours) = duplex(1024);
    let (mut backend, backend_ours) = duplex(1024);
    let trigger = ShutdownTrigger::new();
    let signal = trigger.signal();
    let ours = metrics.clone();
    let relay = tokio::spawn(async move {
        let mut tally = ours.session_started("xvpvnc");
        let report = relay_raw(
            client_ours,
            backend_ours,
            &limits(),
            signal,
            None,
            Publish {
                tally: Some(&mut tally),
                listed: None,
            },
        )
        .await;
        tally.finish(&report);
        report
    });
    client.write_all(b"hello").await.unwrap();
    assert_eq!(read_exactly(&mut backend, 5).await, b"hello");
    backend.write_all(b"abc").await.unwrap();
    let mut got = [0u8; 3];
    client.read_exact(&mut got).await.unwrap();
    let up = r#"consoled_proxy_bytes_total{type="xvpvnc",direction="to_backend"}"#;
    let down = r#"consoled_proxy_bytes_total{type="xvpvnc",direction="to_client"}"#;
    let active = r#"consoled_proxy_sessions_active{type="xvpvnc"}"#;
    // Nothing shared moves before the tick.
    assert_eq!(sample(&registry, up).as_deref(), Some("0"));
    assert_eq!(sample(&registry, active).as_deref(), Some("1"));
    tokio::time::sleep(crate::PUBLISH_INTERVAL + Duration::from_millis(1)).await;
    assert_eq!(sample(&registry, up).as_deref(), Some("5"));
    assert_eq!(sample(&registry, down).as_deref(), Some("3"));
    // The relay goes on after a tick, and its end publishes the rest.
    client.write_all(b"!!").await.unwrap();
    assert_eq!(read_exactly(&mut backend, 2).await, b"!!");
    client.shutdown().await.unwrap();
    backend.shutdown().await.unwrap();
    let report = timeout(LIMIT, relay).await.unwrap().unwrap();
    assert_eq!((report.to_backend, report.to_client), (7, 3));
    assert_eq!(sample(&registry, up).as_deref(), Some("7"));
    assert_eq!(sample(&registry, active).as_deref(), Some("0"));
    assert_eq!(
        sample(
            &registry,
            r#"consoled_proxy_sessions_total{type="xvpvnc",end="client_closed"}"#
        )
        .as_deref(),
        Some("1")
    );
}

#[tokio::test(start_paused = true)]
async fn a_live_websocket_session_publishes_its_bytes_every_interval() {
    let mut registry = Registry::default();
    let metrics = Arc::new(ProxyMetrics::register(&mut registry));
    let (client_io, server_io) = duplex(64 * 1024);
    let (mut backend, backend_ours) = duplex(64 * 1024);
    let mut client = WebSocketStream::from_raw_socket(client_io, Role::Client, None).await;
    let trigger = ShutdownTrigger::new();
    let signal = trigger.signal();
    let ours = metrics.clone();
    let relay = tokio::spawn(async move {
        let mut tally = ours.session_started("novnc");
        let report = relay_websocket(
            server_io,
            backend_ours,
            &limits(),
            MAX_FRAME,
            signal,
            None,
            Publish {
                tally: Some(&mut tally),
                listed: None,
            },
        )
        .await;
        tally.finish(&report);
        report
    });
    client.send(Message::binary(&b"keys"[..])).await.unwrap();
    assert_eq!(read_exactly(&mut backend, 4).await, b"keys");
    backend.write_all(b"screen").await.unwrap();
    assert_eq!(next(&mut client).await, Message::binary(&b"screen"[..]));
    let up = r#"consoled_proxy_bytes_total{type="novnc",direction="to_backend"}"#;
    let down = r#"consoled_proxy_bytes_total{type="novnc",direction="to_client"}"#;
    assert_eq!(sample(&registry, down).as_deref(), Some("0"));
    tokio::time::sleep(crate::PUBLISH_INTERVAL * 2 + Duration::from_millis(1)).await;
    assert_eq!(sample(&registry, up).as_deref(), Some("4"));
    assert_eq!(sample(&registry, down).as_deref(), Some("6"));
    trigger.fire();
    expect_close(&mut client, CloseCode::Away, "proxy shutting down").await;
    drop(client);
    let report = timeout(LIMIT, relay).await.unwrap().unwrap();
    assert_eq!(report.end, SessionEnd::Shutdown);
    assert_eq!(sample(&registry, down).as_deref(), Some("6"));
    assert_eq!(
        sample(
            &registry,
            r#"consoled_proxy_sessions_total{type="novnc",end="shutdown"}"#
        )
        .as_deref(),
        Some("1")
    );
}

/// A client socket that gathers, but takes at most `most` bytes per call:
/// a vectored frame is cut anywhere, in its header or its payload.
struct Gathering {
    io: DuplexStream,
    most: usize,
}

impl tokio::io::AsyncRead for Gathering {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for Gathering {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let most = self.most.min(buf.len());
        std::pin::Pin::new(&mut self.io).poll_write(cx, &buf[..most])
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        parts: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let mut joined = Vec::new();
        for part in parts {
            joined.extend_from_slice(part);
        }
        joined.truncate(self.most);
        std::pin::Pin::new(&mut self.io).poll_write(cx, &joined)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[tokio::test]
async fn frames_cut_anywhere_by_a_gathering_client_arrive_whole() {
    for most in [1, 3, 7, 1000] {
        let (client_io, server_io) = duplex(4096);
        let (mut backend, backend_ours) = duplex(64 * 1024);
        let mut client = WebSocketStream::from_raw_socket(client_io, Role::Client, None).await;
        let server = Gathering {
            io: server_io,
            most,
        };
        let relay = tokio::spawn(async move {
            relay_websocket(
                server,
                backend_ours,
                &limits(),
                MAX_FRAME,
                ShutdownTrigger::new().signal(),
                None,
                Publish::default(),
            )
            .await
        });
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let expected = data.clone();
        let writer = tokio::spawn(async move {
            backend.write_all(&data).await.unwrap();
            backend
        });
        let mut got = Vec::new();
        while got.len() < expected.len() {
            match next(&mut client).await {
                Message::Binary(b) => got.extend_from_slice(&b),
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(got, expected, "cut at {most} bytes a write");
        drop(writer.await.unwrap());
        relay.abort();
    }
}
