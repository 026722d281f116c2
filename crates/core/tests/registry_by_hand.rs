//! Registries listed by hand: what is missing is a 501, what is doubled
//! is an error naming both crates.

use std::sync::Arc;

use consoled_core::{
    async_trait, BackendStream, ConnectInfo, ConsoleDriver, ConsoleError, DispatchSettings,
    Dispatcher, DriverDescriptor, Identity, MemoryTokenStore, Registry, RegistryError, Server,
    Token, TokenRecord, Url,
};
use consoled_driver_mks::WebMksDriver;
use consoled_driver_rdp::RdpHtml5Driver;
use consoled_driver_serial::SerialDriver;
use consoled_driver_vnc_novnc::NoVncDriver;
use consoled_driver_vnc_xvpvnc::XvpVncDriver;
use consoled_testkit::{FakeBackend, ServerBuilder};

#[tokio::test]
async fn without_the_spice_crate_spice_types_are_501() {
    let registry = Registry::builder()
        .register(Arc::new(NoVncDriver))
        .register(Arc::new(XvpVncDriver))
        .register(Arc::new(RdpHtml5Driver))
        .register(Arc::new(SerialDriver))
        .register(Arc::new(WebMksDriver::default()))
        .build()
        .unwrap();
    assert_eq!(registry.len(), 5);
    let backend = FakeBackend::new().with(ServerBuilder::new("vm-1", "web").endpoint(
        "spice",
        "127.0.0.1",
        5900,
    ));
    let d = Dispatcher::new(
        Arc::new(registry),
        Arc::new(backend),
        Arc::new(MemoryTokenStore::new()),
        DispatchSettings::default(),
    );
    let member = Identity::new("alice", "demo", ["member"]);
    for console_type in ["spice-html5", "spice-direct"] {
        let err = d
            .create_console(&member, "vm-1", "spice", console_type)
            .await
            .unwrap_err();
        assert_eq!(err.status(), 501, "{err}");
        assert_eq!(err.fault_name(), "notImplemented");
        let message = err.to_string();
        assert!(
            message.ends_with(
                "available: mks/webmks, rdp/rdp-html5, serial/serial, vnc/novnc, vnc/xvpvnc."
            ),
            "{message}"
        );
    }
}

/// Claims vnc/novnc from another crate.
struct Impostor;

const IMPOSTOR: DriverDescriptor = {
    let mut descriptor = consoled_driver_vnc_novnc::DESCRIPTOR;
    descriptor.crate_name = "consoled-driver-novnc-fork";
    descriptor
};

#[async_trait]
impl ConsoleDriver for Impostor {
    fn descriptor(&self) -> &DriverDescriptor {
        &IMPOSTOR
    }
    async fn connect_info(&self, _server: &Server) -> Result<ConnectInfo, ConsoleError> {
        Err(ConsoleError::BadRequest("impostor".into()))
    }
    fn access_url(&self, base: &Url, _token: &Token) -> Result<Url, ConsoleError> {
        Ok(base.clone())
    }
    async fn connect(&self, _record: &TokenRecord) -> Result<BackendStream, ConsoleError> {
        Err(ConsoleError::ServiceUnavailable("impostor".into()))
    }
}

#[test]
fn a_pair_registered_twice_names_both_crates() {
    for (a, b) in [
        (
            Arc::new(NoVncDriver) as Arc<dyn ConsoleDriver>,
            Arc::new(Impostor) as Arc<dyn ConsoleDriver>,
        ),
        (Arc::new(Impostor), Arc::new(NoVncDriver)),
    ] {
        let err = Registry::builder()
            .register(Arc::new(SerialDriver))
            .register(a)
            .register(b)
            .build()
            .unwrap_err();
        let RegistryError::Duplicate {
            protocol,
            console_type,
            first,
            second,
        } = &err
        else {
            panic!("unexpected error {err:?}");
        };
        assert_eq!((protocol.as_str(), console_type.as_str()), ("vnc", "novnc"));
        let mut crates = [first.as_str(), second.as_str()];
        crates.sort_unstable();
        assert_eq!(
            crates,
            ["consoled-driver-novnc-fork", "consoled-driver-vnc-novnc"]
        );
        let message = err.to_string();
        assert!(
            message.contains("consoled-driver-novnc-fork")
                && message.contains("consoled-driver-vnc-novnc")
        );
    }
}

#[test]
fn the_same_pair_from_the_same_crate_twice_is_also_refused() {
    let err = Registry::builder()
        .register(Arc::new(NoVncDriver))
        .register(Arc::new(NoVncDriver))
        .build()
        .unwrap_err();
    assert!(matches!(err, RegistryError::Duplicate { .. }));
}

#[test]
fn replace_installs_a_configured_driver_in_place_of_its_pairs() {
    let mut registry = Registry::builder()
        .register(Arc::new(NoVncDriver))
        .register(Arc::new(SerialDriver))
        .build()
        .unwrap();
    let replaced = registry
        .replace(Arc::new(Impostor))
        .expect("vnc/novnc was there");
    assert_eq!(
        replaced.descriptor().crate_name,
        "consoled-driver-vnc-novnc"
    );
    assert_eq!(registry.len(), 2);
    assert_eq!(
        registry
            .get("vnc", "novnc")
            .unwrap()
            .descriptor()
            .crate_name,
        "consoled-driver-novnc-fork"
    );
    assert!(
        registry.replace(Arc::new(XvpVncDriver)).is_none(),
        "a new pair is added"
    );
    assert_eq!(registry.len(), 3);
}
