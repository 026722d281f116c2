//! `consoled recording render`: a recorded VNC session's screen at a
//! moment, replayed through the screenshot decoder.

use std::io::BufReader;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use consoled_proxy::recording::{RecordKind, RfbRecording};
use consoled_rfb::{replay_handshake, Decoder, Framebuffer, PixelFormat};

/// What `consoled recording` does.
#[derive(Debug, Subcommand)]
pub enum RecordingCommand {
    /// Draws the screen of a recorded VNC session (`.rfbrec`) as it was
    /// at a moment, into a PNG.
    Render(RenderOptions),
}

/// `consoled recording render`.
#[derive(Debug, Args)]
pub struct RenderOptions {
    /// The recording.
    file: PathBuf,
    /// Seconds from the session's start (default: its end).
    #[arg(long, value_name = "SECONDS")]
    at: Option<f64>,
    /// The PNG to write.
    #[arg(short, long, value_name = "FILE.png")]
    output: PathBuf,
}

/// Runs the command.
///
/// # Errors
/// A recording that cannot be read, is not whole up to that moment, or
/// holds no screen by then.
pub async fn run(command: RecordingCommand) -> Result<(), String> {
    let RecordingCommand::Render(options) = command;
    let at = options
        .at
        .map(|s| Duration::try_from_secs_f64(s).map_err(|_| format!("--at {s}: not a moment")))
        .transpose()?;
    let file = std::fs::File::open(&options.file)
        .map_err(|e| format!("{}: {e}", options.file.display()))?;
    let (server, client) = streams(BufReader::new(file), at)
        .map_err(|e| format!("{}: {e}", options.file.display()))?;
    let screen = replay(&server, &client)
        .await
        .map_err(|e| format!("{}: {e}", options.file.display()))?;
    let png = screen.to_png().map_err(|e| e.to_string())?;
    std::fs::write(&options.output, png)
        .map_err(|e| format!("{}: {e}", options.output.display()))?;
    println!(
        "{}: {}x{} screen written",
        options.output.display(),
        screen.width(),
        screen.height()
    );
    Ok(())
}

/// The server-to-client and client-to-server bytes up to `at` (the whole
/// recording without it).
///
/// # Errors
/// A recording that does not read, or lost bytes before `at` (the decoder
/// cannot pick up a stream with a hole).
fn streams(
    input: impl std::io::BufRead,
    at: Option<Duration>,
) -> Result<(Vec<u8>, Vec<u8>), String> {
    let recording = RfbRecording::read(input).map_err(|e| e.to_string())?;
    let (mut server, mut client) = (Vec::new(), Vec::new());
    for record in recording {
        let record = record.map_err(|e| e.to_string())?;
        if at.is_some_and(|at| record.at > at) {
            break;
        }
        match record.kind {
            RecordKind::ServerToClient(bytes) => server.extend_from_slice(&bytes),
            RecordKind::ClientToServer(bytes) => client.extend_from_slice(&bytes),
            RecordKind::Gap { .. } => {
                return Err(format!(
                    "the recording lost bytes at {:.3} s (the disk did not keep up); \
                     the screen cannot be replayed past that",
                    record.at.as_secs_f64()
                ))
            }
        }
    }
    Ok((server, client))
}

/// Replays `server` (what the VNC server sent) onto a screen, decoding
/// pixels in the format the client asked for in `client`.
///
/// # Errors
/// A stream that is not an RFB session with security None, or data the
/// decoder refuses.
async fn replay(server: &[u8], client: &[u8]) -> Result<Framebuffer, String> {
    let mut s = server;
    let init = replay_handshake(&mut s).await.map_err(|e| e.to_string())?;
    let mut screen = Framebuffer::new(init.width, init.height).map_err(|e| e.to_string())?;
    let format = client_pixel_format(client).unwrap_or(init.format);
    let mut decoder = Decoder::new(format).map_err(|e| e.to_string())?;
    while !s.is_empty() {
        let left = s;
        match decoder.read_message(&mut s, &mut screen).await {
            Ok(_) => {}
            // A message cut off by the moment asked for: the screen as it
            // was before it.
            Err(_) if s.is_empty() && !left.is_empty() => break,
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(screen)
}

/// The last SetPixelFormat the client sent, if it sent one: after its
/// version (12 bytes), its security choice (1) and ClientInit (1), client
/// messages are read by their fixed shapes.
fn client_pixel_format(client: &[u8]) -> Option<PixelFormat> {
    let mut c = client.get(14..)?;
    let mut last = None;
    while let Some(&kind) = c.first() {
        let len = match kind {
            0 => 20,
            2 => 4 + 4 * usize::from(u16::from_be_bytes([*c.get(2)?, *c.get(3)?])),
            3 => 10,
            4 => 8,
            5 => 6,
            6 => 8 + usize::try_from(u32::from_be_bytes(c.get(4..8)?.try_into().ok()?)).ok()?,
            // An extension message whose shape is unknown: stop here.
            _ => break,
        };
        let message = c.get(..len)?;
        if kind == 0 {
            let mut wire = [0u8; 16];
            wire.copy_from_slice(&message[4..20]);
            last = Some(PixelFormat::from_wire(&wire));
        }
        c = &c[len..];
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client_stream(messages: &[&[u8]]) -> Vec<u8> {
        let mut c = b"RFB 003.008\n\x01\x01".to_vec();
        for m in messages {
            c.extend_from_slice(m);
        }
        c
    }

    #[test]
    fn the_last_set_pixel_format_counts() {
        let mut first = vec![0u8; 20];
        first[4] = 16;
        let mut second = vec![0u8; 20];
        second[4] = 32;
        let encodings = [2u8, 0, 0, 2, 0, 0, 0, 16, 0, 0, 0, 0];
        let request = [3u8, 0, 0, 0, 0, 0, 4, 0, 3, 0];
        let stream = client_stream(&[&first, &encodings, &second, &request]);
        let format = client_pixel_format(&stream).unwrap();
        assert_eq!(format.to_wire()[0], 32);
        assert!(client_pixel_format(&client_stream(&[&request])).is_none());
    }
}
