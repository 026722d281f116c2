//! The outside tools the tests drive. A missing one fails the test with
//! the package that provides it: a skipped end-to-end test would pass
//! without having proved anything.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::chromium::Browser;
use crate::qemu::Qemu;

/// Where Debian's `novnc` package installs noVNC.
pub const NOVNC_ROOT: &str = "/usr/share/novnc";

/// Fails unless `qemu-system-x86_64` runs.
///
/// # Panics
/// When it is not installed.
pub fn require_qemu() {
    assert!(
        Qemu::available(),
        "qemu-system-x86_64 is not installed: install the package qemu-system-x86 \
         (scripts/test installs it)"
    );
}

/// Fails unless Chromium runs.
///
/// # Panics
/// When it is not installed.
pub fn require_chromium() {
    assert!(
        Browser::available(),
        "chromium is not installed: install the package chromium (scripts/test installs it)"
    );
}

/// Fails unless noVNC's pages are installed; returns their folder.
///
/// # Panics
/// When they are not.
pub fn require_novnc() -> PathBuf {
    let root = Path::new(NOVNC_ROOT);
    assert!(
        root.join("vnc_lite.html").is_file() && root.join("vnc.html").is_file(),
        "noVNC is not installed in {NOVNC_ROOT}: install the package novnc \
         (scripts/test installs it)"
    );
    root.to_path_buf()
}

/// Fails unless the `openstack` command runs.
///
/// # Panics
/// When it is not installed.
pub fn require_openstack() {
    let runs = Command::new("openstack")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        runs,
        "the openstack command is not installed: install the package python-openstackclient \
         (python3 -m pip install python-openstackclient; scripts/test installs it)"
    );
}

/// The `asciinema` command of the virtualenv `CONSOLED_ASCIINEMA` names
/// (scripts/test installs asciinema from PyPI there).
///
/// # Panics
/// When the variable is unset or the command is missing.
pub fn require_asciinema() -> PathBuf {
    let venv = std::env::var_os("CONSOLED_ASCIINEMA").expect(
        "CONSOLED_ASCIINEMA is not set: it names a virtualenv with asciinema from PyPI \
         (scripts/test makes one)",
    );
    let bin = Path::new(&venv).join("bin").join("asciinema");
    assert!(
        bin.is_file(),
        "{} is missing: pip install asciinema into $CONSOLED_ASCIINEMA",
        bin.display()
    );
    bin
}
