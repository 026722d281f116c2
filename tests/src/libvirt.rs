//! A real libvirtd (`qemu:///system`), started by the tests when it is not
//! running, and test domains (TCG guests with no disk) that are removed on
//! drop. The test command sets the machine up (the packages, the
//! `libvirt-qemu` user, `/etc/libvirt/qemu.conf`); see `scripts/libvirt-setup`.

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::chromium::TempDir;

/// The connection the tests use.
pub const URI: &str = "qemu:///system";

/// The name every test domain starts with, so that the machine's other
/// domains are left alone.
pub const PREFIX: &str = "consoled-test";

/// Fails unless libvirt's daemon and client are installed.
///
/// # Panics
/// When they are not, naming the packages.
pub fn require_libvirt() {
    for tool in ["libvirtd", "virtlogd", "virsh"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            found,
            "{tool} is not installed: install libvirt-daemon, libvirt-daemon-driver-qemu and \
             libvirt-clients (scripts/test installs them and runs scripts/libvirt-setup)"
        );
    }
}

/// Whether libvirtd answers on [`URI`].
pub fn answers() -> bool {
    Command::new("virsh")
        .args(["-c", URI, "version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Starts virtlogd and libvirtd as daemons unless libvirtd answers already,
/// and waits until it does.
///
/// # Panics
/// When it does not answer within a minute.
pub fn start_libvirtd() {
    require_libvirt();
    if answers() {
        return;
    }
    // QEMU's output goes through virtlogd: it must run before a domain
    // starts. Either daemon refuses a second copy of itself, harmlessly.
    for daemon in ["virtlogd", "libvirtd"] {
        let _ = Command::new(daemon)
            .arg("-d")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    wait_until("libvirtd answers", answers);
}

/// Stops libvirtd (the domains keep running, as on a real host).
///
/// # Panics
/// When it still answers after a minute.
pub fn stop_libvirtd() {
    let _ = Command::new("pkill").args(["-x", "libvirtd"]).status();
    wait_until("libvirtd has stopped", || !answers());
}

fn wait_until(what: &str, done: impl Fn() -> bool) {
    let begun = Instant::now();
    while !done() {
        assert!(
            begun.elapsed() < Duration::from_secs(60),
            "timed out: {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Runs `virsh -c URI <args>` and returns its output.
///
/// # Panics
/// When virsh fails.
pub fn virsh(args: &[&str]) -> String {
    let out = Command::new("virsh")
        .args(["-c", URI])
        .args(args)
        .output()
        .expect("virsh runs");
    assert!(
        out.status.success(),
        "virsh {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// How a test domain's VNC server listens.
#[derive(Debug, Clone)]
pub enum Vnc {
    /// The next free port from 5900, on loopback.
    Autoport,
    /// This port, on loopback.
    Port(u16),
    /// A UNIX socket in the domain's folder.
    Socket,
}

/// How a test domain's first serial port (COM1) listens.
#[derive(Debug, Clone)]
pub enum Serial {
    /// A TCP port on loopback.
    Tcp(u16),
    /// A UNIX socket in the domain's folder.
    Unix,
}

/// What a test domain is like.
#[derive(Debug, Clone)]
pub struct DomainSpec {
    /// Its name after [`PREFIX`] and the test process's id.
    pub label: String,
    /// Nova's metadata: the instance's name and owning project.
    pub nova: Option<(String, String)>,
    /// Its VNC server.
    pub vnc: Vnc,
    /// Its serial port.
    pub serial: Serial,
}

/// A persistent test domain, destroyed and undefined on drop.
pub struct TestDomain {
    /// The domain's name.
    pub name: String,
    /// Its UUID.
    pub uuid: String,
    dir: TempDir,
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

impl TestDomain {
    /// Defines a domain as `spec` says (not started). SeaBIOS writes its
    /// screen to the serial port too and reboots a second after finding no
    /// disk, so the serial line carries text again and again.
    ///
    /// # Panics
    /// When libvirt refuses the definition.
    pub fn define(spec: &DomainSpec) -> TestDomain {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("{PREFIX}-{}-{n}-{}", std::process::id(), spec.label);
        let dir = TempDir::new("domain");
        let sercon = dir.path().join("sercon-port");
        std::fs::write(&sercon, 0x3f8u16.to_le_bytes()).expect("sercon file");
        let path = |file: &str| dir.path().join(file).display().to_string();
        let metadata = spec
            .nova
            .as_ref()
            .map(|(nova_name, project)| {
                format!(
                    r#"<metadata><nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1">
  <nova:name>{nova_name}</nova:name>
  <nova:owner><nova:user uuid="u-1">alice</nova:user><nova:project uuid="{project}">p</nova:project></nova:owner>
</nova:instance></metadata>"#
                )
            })
            .unwrap_or_default();
        let graphics = match spec.vnc {
            Vnc::Autoport => "<graphics type='vnc' autoport='yes' listen='127.0.0.1'/>".to_owned(),
            Vnc::Port(port) => {
                format!("<graphics type='vnc' port='{port}' autoport='no' listen='127.0.0.1'/>")
            }
            Vnc::Socket => format!("<graphics type='vnc' socket='{}'/>", path("vnc.sock")),
        };
        let serial = match spec.serial {
            Serial::Tcp(port) => format!(
                "<serial type='tcp'><source mode='bind' host='127.0.0.1' service='{port}'/>\
                 <protocol type='raw'/></serial>"
            ),
            Serial::Unix => format!(
                "<serial type='unix'><source mode='bind' path='{}'/></serial>",
                path("serial.sock")
            ),
        };
        let xml = format!(
            r#"<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>{name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  {metadata}
  <os><type arch='x86_64' machine='pc'>hvm</type><bios rebootTimeout='1000'/></os>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    {graphics}
    {serial}
    <video><model type='vga'/></video>
  </devices>
  <qemu:commandline>
    <qemu:arg value='-fw_cfg'/>
    <qemu:arg value='name=etc/sercon-port,file={sercon}'/>
  </qemu:commandline>
</domain>"#,
            sercon = sercon.display(),
        );
        let file = dir.path().join("domain.xml");
        std::fs::write(&file, xml).expect("domain XML written");
        virsh(&["define", &file.display().to_string()]);
        let uuid = virsh(&["domuuid", &name]);
        TestDomain { name, uuid, dir }
    }

    /// Starts it.
    ///
    /// # Panics
    /// When libvirt cannot.
    pub fn start(&self) {
        virsh(&["start", &self.name]);
    }

    /// Pulls its plug (`virsh destroy`).
    ///
    /// # Panics
    /// When libvirt cannot.
    pub fn destroy(&self) {
        virsh(&["destroy", &self.name]);
    }

    /// Its VNC TCP port while it runs.
    ///
    /// # Panics
    /// When it has none.
    pub fn vnc_port(&self) -> u16 {
        let display = virsh(&["vncdisplay", &self.name]);
        let n: u16 = display
            .rsplit(':')
            .next()
            .and_then(|d| d.parse().ok())
            .unwrap_or_else(|| panic!("no VNC display: {display:?}"));
        5900 + n
    }

    /// What QEMU's monitor says about its VNC server and clients.
    pub fn vnc_info(&self) -> String {
        virsh(&["qemu-monitor-command", &self.name, "--hmp", "info vnc"])
    }

    /// The folder of its sockets.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }
}

impl Drop for TestDomain {
    fn drop(&mut self) {
        for args in [["destroy", &self.name], ["undefine", &self.name]] {
            let _ = Command::new("virsh")
                .args(["-c", URI])
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}
