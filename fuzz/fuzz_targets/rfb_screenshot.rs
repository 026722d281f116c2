//! The screenshot client, fed a VNC server's bytes: the handshake, then
//! server messages through the Decoder. Any input ends in a screenshot
//! whose every pixel is painted or in a ClientError, never a panic, and
//! a screen never exceeds MAX_DIMENSION.
#![no_main]

use std::io::Cursor;
use std::time::Duration;

use consoled_rfb::{
    capture, Decoder, Encoding, Framebuffer, PixelFormat, ScreenshotOptions, MAX_DIMENSION,
};
use libfuzzer_sys::fuzz_target;

#[path = "runtime.rs"]
mod runtime;
use runtime::runtime;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, data)) = data.split_first() else {
        return;
    };
    runtime().block_on(async {
        if mode % 2 == 0 {
            // A whole session: what the client writes goes nowhere.
            let server = tokio::io::join(Cursor::new(data.to_vec()), tokio::io::sink());
            let options = ScreenshotOptions {
                encodings: Encoding::ALL.to_vec(),
                timeout: Duration::from_secs(10),
                max_requests: 4,
            };
            if let Ok(shot) = capture(server, &options).await {
                assert!(shot.screen.is_covered());
                assert!(shot.screen.width() <= MAX_DIMENSION);
                assert!(shot.screen.height() <= MAX_DIMENSION);
            }
            return;
        }
        // Messages alone, onto a small screen.
        let mut screen = Framebuffer::new(64, 48).expect("a small screen");
        let mut decoder = Decoder::new(PixelFormat::RGBX).expect("RGBX decodes");
        let mut rest = data;
        while decoder.read_message(&mut rest, &mut screen).await.is_ok() {
            assert!(screen.width() <= MAX_DIMENSION && screen.height() <= MAX_DIMENSION);
            assert_eq!(
                screen.rgb().len(),
                usize::from(screen.width()) * usize::from(screen.height()) * 3
            );
        }
    });
});
