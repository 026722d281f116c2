//! Nova's RFB security proxy, both sides. As a VNC server's bytes, any
//! input is secured or refused with a 503, never a panic. As a client's
//! writes to the stream that presents security None, the client reads our
//! version first, and the server sees exactly what follows a correct
//! 3.8/None handshake, or nothing.
#![no_main]

use std::io::Cursor;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};

use consoled_core::ConnectInfo;
use consoled_rfb::{AuthScheme, PresentedNone, VncSecurity, VncSettings, RFB_3_8};
use consoled_testkit::pki::TestCa;
use consoled_testkit::ServerBuilder;
use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

#[path = "runtime.rs"]
mod runtime;
use runtime::runtime;

/// `["vencrypt", "none"]` with a CA that signed nothing the input holds.
fn security() -> &'static VncSecurity {
    static SECURITY: OnceLock<VncSecurity> = OnceLock::new();
    SECURITY.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("consoled-fuzz-rfb-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let ca = TestCa::new("fuzz CA").expect("CA");
        std::fs::write(dir.join("ca.pem"), ca.cert_pem()).expect("CA file");
        let settings = VncSettings {
            auth_schemes: vec![AuthScheme::VeNCrypt, AuthScheme::None],
            vencrypt_ca_certs: Some("ca.pem".into()),
            ..VncSettings::default()
        };
        let security = VncSecurity::from_settings(&settings, &dir).expect("settings");
        // The CA is loaded; the file is not needed again.
        let _ = std::fs::remove_dir_all(&dir);
        security
    })
}

fn info() -> &'static ConnectInfo {
    static INFO: OnceLock<ConnectInfo> = OnceLock::new();
    INFO.get_or_init(|| {
        ServerBuilder::new("vm", "vm")
            .endpoint("vnc", "127.0.0.1", 5900)
            .build()
            .connect_info("vnc", "VNC")
            .expect("connect info")
    })
}

/// Everything readable now, without waiting.
fn read_ready<S: AsyncRead + Unpin>(stream: &mut S, out: &mut Vec<u8>) {
    let mut cx = Context::from_waker(Waker::noop());
    let mut chunk = [0u8; 64];
    loop {
        let mut buf = ReadBuf::new(&mut chunk);
        match Pin::new(&mut *stream).poll_read(&mut cx, &mut buf) {
            Poll::Ready(Ok(())) if !buf.filled().is_empty() => out.extend_from_slice(buf.filled()),
            _ => return,
        }
    }
}

fn write_now<S: AsyncWrite + Unpin>(stream: &mut S, mut bytes: &[u8]) {
    let mut cx = Context::from_waker(Waker::noop());
    while !bytes.is_empty() {
        match Pin::new(&mut *stream).poll_write(&mut cx, bytes) {
            Poll::Ready(Ok(n)) if n > 0 => bytes = &bytes[n..],
            other => panic!("a write to memory did not complete: {other:?}"),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, data)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        let server = tokio::io::join(Cursor::new(data.to_vec()), tokio::io::sink());
        let outcome = runtime().block_on(security().secure(Box::new(server), info()));
        if let Err(e) = outcome {
            assert_eq!(e.status(), 503, "{e}");
        }
        return;
    }
    // The client writes in chunks of 1 to 8 bytes and reads what is ready
    // after each.
    let chunk = usize::from(mode >> 5) + 1;
    let inner = tokio::io::join(Cursor::new(b"ServerInit".to_vec()), Vec::new());
    let mut stream = PresentedNone::new(inner);
    let mut seen = Vec::new();
    for piece in data.chunks(chunk) {
        read_ready(&mut stream, &mut seen);
        write_now(&mut stream, piece);
    }
    read_ready(&mut stream, &mut seen);
    assert!(seen.len() >= 12 && &seen[..12] == RFB_3_8, "{seen:?}");
    let valid = data.len() >= 13 && &data[..12] == RFB_3_8 && data[12] == 1;
    if valid {
        assert_eq!(&seen[12..18], b"\x01\x01\0\0\0\0");
        assert_eq!(&seen[18..], b"ServerInit");
    }
    let (_, to_server) = stream.into_inner().into_inner();
    if valid {
        assert_eq!(to_server, &data[13..]);
    } else {
        assert!(to_server.is_empty(), "{to_server:?}");
    }
});
