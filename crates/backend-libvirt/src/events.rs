//! libvirt's domain lifecycle events, which the virt crate does not bind:
//! the one place in consoled with `unsafe` code.
//!
//! libvirt calls [`on_lifecycle`] on its event loop thread (see
//! [`ensure_event_loop`]); the callback copies the domain's UUID and the
//! event into a channel and returns at once.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;
use virt::sys;

use crate::hypervisor::Conn;

/// One lifecycle event of one domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lifecycle {
    /// The domain's UUID.
    pub(crate) uuid: String,
    /// `virDomainEventType`.
    pub(crate) event: u32,
    /// Its detail (`virDomainEventStoppedDetailType`, ...).
    pub(crate) detail: i32,
}

impl Lifecycle {
    /// Whether the domain's console is gone for good: stopped (shut down,
    /// destroyed, crashed, migrated away, saved, failed), undefined, or
    /// crashed.
    pub(crate) fn ends_consoles(&self) -> bool {
        matches!(
            self.event,
            sys::VIR_DOMAIN_EVENT_STOPPED
                | sys::VIR_DOMAIN_EVENT_UNDEFINED
                | sys::VIR_DOMAIN_EVENT_CRASHED
        )
    }
}

/// Where events go.
pub(crate) type Sink = UnboundedSender<Lifecycle>;

/// libvirt's default event loop, which domain events and keepalives need,
/// registered before the first connection opens and run on a thread of
/// its own. libvirt keeps it per process, so it is set up once per process.
///
/// # Errors
/// libvirt's message when the loop cannot be registered.
pub(crate) fn ensure_event_loop() -> Result<(), String> {
    static STARTED: OnceLock<Result<(), String>> = OnceLock::new();
    STARTED
        .get_or_init(|| {
            virt::event::event_register_default_impl()
                .map_err(|e| format!("cannot start libvirt's event loop: {e}"))?;
            std::thread::Builder::new()
                .name("libvirt-events".into())
                .spawn(|| loop {
                    if let Err(e) = virt::event::event_run_default_impl() {
                        tracing::warn!(error = %e, "libvirt event loop iteration failed");
                        std::thread::sleep(Duration::from_millis(100));
                    }
                })
                .map(|_| ())
                .map_err(|e| format!("cannot start libvirt's event thread: {e}"))
        })
        .clone()
}

/// A lifecycle callback registered on one connection; deregistered when
/// dropped.
pub(crate) struct Registration {
    conn: Arc<Conn>,
    id: c_int,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("id", &self.id)
            .finish()
    }
}

/// Sends every lifecycle event of `conn`'s domains to `sink`.
///
/// # Errors
/// libvirt's error when the callback cannot be registered.
pub(crate) fn register(conn: &Arc<Conn>, sink: Sink) -> Result<Registration, virt::error::Error> {
    let opaque = Box::into_raw(Box::new(sink)).cast::<c_void>();
    let lifecycle: sys::virConnectDomainEventCallback = Some(on_lifecycle);
    // SAFETY: libvirt's API takes every event callback as the generic
    // type (its VIR_DOMAIN_EVENT_CALLBACK cast) and calls it back with the
    // signature of the event id, here the lifecycle one. Both are `extern
    // "C"` function pointers of one size.
    let generic: sys::virConnectDomainEventGenericCallback =
        unsafe { std::mem::transmute(lifecycle) };
    // SAFETY: the connection is open for the call; `opaque` is a leaked
    // box that libvirt hands to `free_sink` exactly once, when the
    // callback is deregistered or the connection goes.
    let id = unsafe {
        sys::virConnectDomainEventRegisterAny(
            conn.as_ptr(),
            std::ptr::null_mut(),
            sys::VIR_DOMAIN_EVENT_ID_LIFECYCLE as c_int,
            generic,
            opaque,
            Some(free_sink),
        )
    };
    if id < 0 {
        let error = virt::error::Error::last_error();
        // SAFETY: libvirt refused the registration, so it never took the
        // box; it is ours to free.
        drop(unsafe { Box::from_raw(opaque.cast::<Sink>()) });
        return Err(error);
    }
    Ok(Registration {
        conn: Arc::clone(conn),
        id,
    })
}

impl Drop for Registration {
    fn drop(&mut self) {
        // SAFETY: `id` was returned for this connection, which `self.conn`
        // keeps open. A connection that died answers -1, harmlessly.
        unsafe {
            sys::virConnectDomainEventDeregisterAny(self.conn.as_ptr(), self.id);
        }
    }
}

/// libvirt's call for one event. Must not unwind into C: nothing here
/// panics.
unsafe extern "C" fn on_lifecycle(
    _conn: sys::virConnectPtr,
    dom: sys::virDomainPtr,
    event: c_int,
    detail: c_int,
    opaque: *mut c_void,
) -> c_int {
    // SAFETY: `opaque` is the `Sink` box `register` leaked, alive until
    // `free_sink` runs, which libvirt does not do during a callback.
    let sink = unsafe { &*opaque.cast::<Sink>() };
    let mut buf: [c_char; sys::VIR_UUID_STRING_BUFLEN as usize] =
        [0; sys::VIR_UUID_STRING_BUFLEN as usize];
    // SAFETY: libvirt passes a domain valid for the callback, and the
    // buffer has the size its API asks for.
    if unsafe { sys::virDomainGetUUIDString(dom, buf.as_mut_ptr()) } == 0 {
        // SAFETY: on success libvirt wrote a NUL-terminated string.
        let uuid = unsafe { CStr::from_ptr(buf.as_ptr()) };
        let _ = sink.send(Lifecycle {
            uuid: uuid.to_string_lossy().into_owned(),
            event: u32::try_from(event).unwrap_or(u32::MAX),
            detail,
        });
    }
    0
}

/// libvirt's call when it lets go of a registration's `opaque`.
unsafe extern "C" fn free_sink(opaque: *mut c_void) {
    // SAFETY: called once per registration, with the box `register` leaked.
    drop(unsafe { Box::from_raw(opaque.cast::<Sink>()) });
}
