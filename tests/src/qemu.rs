//! A real QEMU guest with no disk: SeaBIOS draws on the VGA console, which
//! QEMU serves over VNC and SPICE; the first serial port is a TCP server.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::process::{Child, Command};

use crate::chromium::TempDir;
use crate::net::{free_port, free_port_from, wait_for_listener};

/// The QEMU binary the tests use.
pub const QEMU: &str = "qemu-system-x86_64";

/// A running QEMU, killed on drop.
pub struct Qemu {
    child: Child,
    vnc: SocketAddr,
    spice: SocketAddr,
    serial: SocketAddr,
    /// Holds the QMP socket (`qmp.sock`) and the screendumps.
    dir: TempDir,
}

impl Qemu {
    /// Whether QEMU is installed (the test command installs it).
    pub fn available() -> bool {
        std::process::Command::new(QEMU)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Starts a diskless guest under software emulation with VNC, SPICE and
    /// a serial port on loopback, and waits for all three to listen.
    ///
    /// # Panics
    /// When QEMU cannot start or its ports do not open.
    pub async fn start() -> Qemu {
        Qemu::start_with(false).await
    }

    /// As [`Qemu::start`]; with `bios_on_serial`, SeaBIOS also writes its
    /// screen to the serial port and reboots a second after finding no
    /// disk, so the serial line carries text again and again (a client
    /// that connects late still sees some).
    ///
    /// # Panics
    /// When QEMU cannot start or its ports do not open.
    pub async fn start_with(bios_on_serial: bool) -> Qemu {
        Qemu::launch(bios_on_serial, None).await
    }

    /// As [`Qemu::start`], with QEMU's own VeNCrypt on the VNC server:
    /// `tls-creds-x509` from `tls_dir` (`ca-cert.pem`, `server-cert.pem`,
    /// `server-key.pem`) with `verify-peer=on`, so a client must present a
    /// certificate signed by that CA.
    ///
    /// # Panics
    /// When QEMU cannot start or its ports do not open.
    pub async fn start_vencrypt(tls_dir: &Path) -> Qemu {
        Qemu::launch(false, Some(tls_dir)).await
    }

    async fn launch(bios_on_serial: bool, vnc_tls: Option<&Path>) -> Qemu {
        let sercon = bios_on_serial.then(SerconFile::new);
        let dir = TempDir::new("qemu");
        // A port found free can be taken by another process before QEMU
        // binds it; QEMU then exits, and another pair of ports is tried.
        for _ in 0..3 {
            let vnc: SocketAddr = ([127, 0, 0, 1], free_port_from(5900 + 100)).into();
            let spice: SocketAddr = ([127, 0, 0, 1], free_port()).into();
            let serial: SocketAddr = ([127, 0, 0, 1], free_port()).into();
            let qmp = dir.path().join("qmp.sock");
            let mut child = spawn(vnc, spice, serial, sercon.as_ref(), vnc_tls, &qmp);
            let listening = async {
                for addr in [vnc, spice, serial] {
                    wait_for_listener(addr, Duration::from_secs(30)).await;
                }
            };
            tokio::select! {
                () = listening => return Qemu { child, vnc, spice, serial, dir },
                status = child.wait() => {
                    eprintln!("qemu-system-x86_64 exited before listening ({status:?}); retrying");
                }
            }
        }
        panic!("qemu-system-x86_64 did not start (its errors are above)");
    }

    /// Where QEMU's VNC server listens.
    pub fn vnc(&self) -> SocketAddr {
        self.vnc
    }

    /// Where QEMU's SPICE server listens (plain, no ticket).
    pub fn spice(&self) -> SocketAddr {
        self.spice
    }

    /// Where QEMU's first serial port listens.
    pub fn serial(&self) -> SocketAddr {
        self.serial
    }

    /// QEMU's process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// QEMU's own picture of the screen: QMP `screendump` in PNG (QEMU
    /// 7.1 and later), as its bytes.
    ///
    /// # Panics
    /// When QMP cannot be reached or refuses.
    pub async fn screendump(&self) -> Vec<u8> {
        let file = self.dir.path().join("screendump.png");
        let _ = std::fs::remove_file(&file);
        let socket = self.dir.path().join("qmp.sock");
        let mut qmp = None;
        for _ in 0..100 {
            match UnixStream::connect(&socket).await {
                Ok(stream) => {
                    qmp = Some(stream);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        let (read, mut write) = qmp.expect("QEMU's QMP socket").into_split();
        let mut lines = BufReader::new(read).lines();
        let mut answer = async |command: String| {
            write
                .write_all(format!("{command}\n").as_bytes())
                .await
                .expect("QMP command sent");
            loop {
                let line = lines
                    .next_line()
                    .await
                    .expect("QMP answers")
                    .expect("QMP stays open");
                // Events and the greeting come in between.
                if line.contains("\"return\"") || line.contains("\"error\"") {
                    assert!(!line.contains("\"error\""), "QMP {command}: {line}");
                    return;
                }
            }
        };
        answer(r#"{"execute": "qmp_capabilities"}"#.to_owned()).await;
        let dump = serde_json::json!({
            "execute": "screendump",
            "arguments": {"filename": file.to_str().expect("a UTF-8 path"), "format": "png"},
        });
        answer(dump.to_string()).await;
        std::fs::read(&file).expect("QEMU wrote the screendump")
    }
}

fn spawn(
    vnc: SocketAddr,
    spice: SocketAddr,
    serial: SocketAddr,
    sercon: Option<&SerconFile>,
    vnc_tls: Option<&Path>,
    qmp: &Path,
) -> Child {
    let mut command = Command::new(QEMU);
    let mut vnc_arg = format!("127.0.0.1:{}", vnc.port() - 5900);
    if let Some(dir) = vnc_tls {
        command.arg("-object").arg(format!(
            "tls-creds-x509,id=vnctls0,dir={},endpoint=server,verify-peer=on",
            dir.display()
        ));
        vnc_arg.push_str(",tls-creds=vnctls0");
    }
    if let Some(sercon) = sercon {
        command
            .arg("-fw_cfg")
            .arg(format!(
                "name=etc/sercon-port,file={}",
                sercon.0.path().join("port").display()
            ))
            .args(["-boot", "reboot-timeout=1000"]);
    }
    command
        .args([
            "-nodefaults",
            "-no-user-config",
            "-machine",
            "pc,accel=tcg",
            "-m",
            "64",
            "-vga",
            "std",
            "-display",
            "none",
            "-vnc",
            &vnc_arg,
            "-spice",
            &format!(
                "port={},addr={},disable-ticketing=on",
                spice.port(),
                spice.ip()
            ),
            "-serial",
            &format!("tcp:{serial},server=on,wait=off"),
            "-monitor",
            "none",
            "-qmp",
            &format!("unix:{},server=on,wait=off", qmp.display()),
            "-name",
            "consoled-e2e",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("qemu-system-x86_64 did not start")
}

/// SeaBIOS's `etc/sercon-port` firmware file: the I/O port of the first
/// serial port (0x3f8), little endian, which makes SeaBIOS mirror its
/// screen there.
struct SerconFile(crate::chromium::TempDir);

impl SerconFile {
    fn new() -> SerconFile {
        let dir = crate::chromium::TempDir::new("sercon");
        std::fs::write(dir.path().join("port"), 0x3f8u16.to_le_bytes()).expect("sercon file");
        SerconFile(dir)
    }
}
