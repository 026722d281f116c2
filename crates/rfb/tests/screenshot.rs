//! The screenshot client against a scripted VNC server: what it asks for,
//! and how it gets the whole screen when the server sends it in parts,
//! resizes, stalls or never finishes.

use std::time::Duration;

use consoled_rfb::{capture, ClientError, Encoding, PixelFormat, ScreenshotOptions, DESKTOP_SIZE};
use tokio::io::{duplex, AsyncReadExt, AsyncWriteExt, DuplexStream};

/// The server's side: the handshake of an RFB 3.8 server offering None,
/// and what the client sends up to its first update request.
struct Server {
    io: DuplexStream,
}

impl Server {
    async fn handshake(io: DuplexStream, width: u16, height: u16) -> Server {
        let mut server = Server { io };
        server.io.write_all(b"RFB 003.008\n").await.unwrap();
        assert_eq!(server.read(12).await, b"RFB 003.008\n");
        server.io.write_all(&[1, 1]).await.unwrap();
        assert_eq!(server.read(1).await, [1], "security None");
        server.io.write_all(&[0, 0, 0, 0]).await.unwrap();
        assert_eq!(server.read(1).await, [1], "ClientInit shares the desktop");
        let mut init = width.to_be_bytes().to_vec();
        init.extend_from_slice(&height.to_be_bytes());
        // QEMU's own format; the client asks for its own anyway.
        init.extend_from_slice(&[32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]);
        init.extend_from_slice(&[0, 0, 0, 2]);
        init.extend_from_slice(b"vm");
        server.io.write_all(&init).await.unwrap();
        server
    }

    async fn read(&mut self, n: usize) -> Vec<u8> {
        let mut buf = vec![0; n];
        self.io.read_exact(&mut buf).await.unwrap();
        buf
    }

    /// SetPixelFormat and SetEncodings; returns the encodings.
    async fn setup(&mut self) -> Vec<i32> {
        let set_format = self.read(20).await;
        assert_eq!(set_format[0], 0);
        assert_eq!(set_format[4..], PixelFormat::RGBX.to_wire());
        let head = self.read(4).await;
        assert_eq!(head[0], 2, "SetEncodings");
        let count = usize::from(u16::from_be_bytes([head[2], head[3]]));
        self.read(count * 4)
            .await
            .chunks(4)
            .map(|c| i32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    }

    /// The next FramebufferUpdateRequest: (incremental, x, y, w, h).
    async fn request(&mut self) -> (u8, u16, u16, u16, u16) {
        let r = self.read(10).await;
        assert_eq!(r[0], 3, "FramebufferUpdateRequest");
        let at = |i: usize| u16::from_be_bytes([r[i], r[i + 1]]);
        (r[1], at(2), at(4), at(6), at(8))
    }

    async fn update(&mut self, rects: &[Rect]) {
        let mut out = vec![0, 0];
        out.extend_from_slice(&(rects.len() as u16).to_be_bytes());
        for (x, y, w, h, code, body) in rects {
            for v in [x, y, w, h] {
                out.extend_from_slice(&v.to_be_bytes());
            }
            out.extend_from_slice(&code.to_be_bytes());
            out.extend_from_slice(body);
        }
        self.io.write_all(&out).await.unwrap();
    }
}

/// A rectangle as the server sends it: x, y, width, height, encoding,
/// body.
type Rect = (u16, u16, u16, u16, i32, Vec<u8>);

/// `n` RGBX pixels of one colour.
fn raw(n: usize, rgb: [u8; 3]) -> Vec<u8> {
    [rgb[0], rgb[1], rgb[2], 0].repeat(n)
}

#[tokio::test]
async fn the_whole_screen_is_read_across_updates_and_a_resize() {
    let (client, server) = duplex(1 << 16);
    let serving = tokio::spawn(async move {
        let mut s = Server::handshake(server, 4, 2).await;
        assert_eq!(
            s.setup().await,
            [16, 0, DESKTOP_SIZE],
            "the options' encodings, then DesktopSize"
        );
        assert_eq!(s.request().await, (0, 0, 0, 4, 2), "a full request");
        // Half the screen, then a bell: not done yet.
        s.update(&[(0, 0, 4, 1, 0, raw(4, [1, 1, 1]))]).await;
        s.io.write_all(&[2]).await.unwrap();
        assert_eq!(s.request().await, (0, 0, 0, 4, 2), "asked again");
        // A new size, of which this update paints the left column.
        s.update(&[
            (0, 0, 3, 3, DESKTOP_SIZE, vec![]),
            (0, 0, 1, 3, 0, raw(3, [2, 2, 2])),
        ])
        .await;
        assert_eq!(s.request().await, (0, 0, 0, 3, 3), "the new size");
        // The rest, twice over the left column: coverage counts once.
        s.update(&[
            (0, 0, 2, 3, 0, raw(6, [3, 3, 3])),
            (2, 0, 1, 3, 0, raw(3, [4, 4, 4])),
        ])
        .await;
        s
    });
    let options = ScreenshotOptions {
        encodings: vec![Encoding::Zrle, Encoding::Raw],
        ..ScreenshotOptions::default()
    };
    let shot = capture(client, &options).await.unwrap();
    let _server = serving.await.unwrap();
    assert_eq!(shot.name, "vm");
    let screen = &shot.screen;
    assert_eq!((screen.width(), screen.height()), (3, 3));
    assert!(screen.is_covered());
    assert_eq!(screen.pixel(0, 2), [3, 3, 3]);
    assert_eq!(screen.pixel(2, 1), [4, 4, 4]);
    assert_eq!(shot.rectangles, [(Encoding::Raw, 4)]);
    assert_eq!(shot.summary(), "3x3, 4 rectangles (raw 4)");
    let png = screen.to_png().unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
}

#[tokio::test]
async fn a_server_that_never_paints_everything_is_refused() {
    let (client, server) = duplex(1 << 16);
    tokio::spawn(async move {
        let mut s = Server::handshake(server, 2, 2).await;
        s.setup().await;
        loop {
            s.request().await;
            s.update(&[(0, 0, 1, 1, 0, raw(1, [9, 9, 9]))]).await;
        }
    });
    let options = ScreenshotOptions {
        max_requests: 3,
        ..ScreenshotOptions::default()
    };
    let err = capture(client, &options).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("painted 1 of the 4 pixels of its 2x2 screen in 3 full updates"),
        "{err}"
    );
}

#[tokio::test]
async fn a_stalling_server_is_bounded_in_time() {
    let (client, server) = duplex(1 << 16);
    let serving = tokio::spawn(async move {
        let mut s = Server::handshake(server, 2, 2).await;
        s.setup().await;
        s.request().await;
        // Never answers, never closes.
        std::future::pending::<()>().await;
    });
    let options = ScreenshotOptions {
        timeout: Duration::from_millis(200),
        ..ScreenshotOptions::default()
    };
    let err = capture(client, &options).await.unwrap_err();
    assert!(matches!(err, ClientError::Timeout(_)), "{err}");
    assert!(err.to_string().contains("within 200 ms"), "{err}");
    serving.abort();
}

#[tokio::test]
async fn a_screen_over_8192_is_refused_before_any_pixel() {
    let (client, server) = duplex(1 << 16);
    tokio::spawn(async move {
        let s = Server::handshake(server, 8193, 8193).await;
        std::future::pending::<()>().await;
        drop(s);
    });
    let err = capture(client, &ScreenshotOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::TooLarge { .. }), "{err}");
    assert!(err.to_string().contains("8193x8193"), "{err}");
}
