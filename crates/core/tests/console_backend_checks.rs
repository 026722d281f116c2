//! `Dispatcher::console_backend`: the checks of a console, in its order,
//! without a token; the backend opened through the driver's own connect.

use std::collections::HashMap;
use std::sync::Arc;

use consoled_core::{
    ConsoleError, DispatchSettings, Dispatcher, Identity, MemoryTokenStore, Registry, TokenStore,
    TypeSettings,
};
use consoled_driver_serial::SerialDriver;
use consoled_driver_vnc_novnc::NoVncDriver;
use consoled_driver_vnc_xvpvnc::XvpVncDriver;
use consoled_testkit::{FakeBackend, ServerBuilder};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

fn backend(vnc_port: u16) -> FakeBackend {
    FakeBackend::new()
        .with(ServerBuilder::new("ok", "web").vnc("127.0.0.1", vnc_port))
        .with(
            ServerBuilder::new("theirs", "db")
                .project("other")
                .vnc("127.0.0.1", vnc_port),
        )
        .with(
            ServerBuilder::new("off", "stopped")
                .status("SHUTOFF")
                .vnc("127.0.0.1", vnc_port),
        )
        .with(ServerBuilder::new("serial-only", "tty").serial("127.0.0.1", 7001))
}

fn dispatcher(registry: Registry, off: &[&str], store: Arc<dyn TokenStore>) -> Dispatcher {
    let types = off
        .iter()
        .map(|t| {
            let off = TypeSettings {
                enabled: false,
                ..TypeSettings::default()
            };
            ((*t).to_owned(), off)
        })
        .collect::<HashMap<_, _>>();
    let settings = DispatchSettings {
        types,
        ..DispatchSettings::default()
    };
    Dispatcher::new(Arc::new(registry), Arc::new(backend(5900)), store, settings)
}

fn vnc_and_serial() -> Registry {
    Registry::builder()
        .register(Arc::new(NoVncDriver))
        .register(Arc::new(XvpVncDriver))
        .register(Arc::new(SerialDriver))
        .build()
        .unwrap()
}

fn member() -> Identity {
    Identity::new("alice", "demo", ["member"])
}

async fn refused(d: &Dispatcher, who: &Identity, server: &str) -> ConsoleError {
    d.console_backend(who, server, "vnc")
        .await
        .expect_err("refused")
}

#[tokio::test]
async fn a_member_gets_the_first_enabled_vnc_type_and_no_token_is_stored() {
    let store = Arc::new(MemoryTokenStore::new());
    let d = dispatcher(vnc_and_serial(), &[], store.clone());
    let found = d.console_backend(&member(), "ok", "vnc").await.unwrap();
    let record = found.record();
    assert_eq!(
        (record.protocol.as_str(), record.console_type.as_str()),
        ("vnc", "novnc")
    );
    assert_eq!(record.instance_uuid, "ok");
    assert_eq!(
        (record.connect.host.as_str(), record.connect.port),
        ("127.0.0.1", 5900)
    );
    assert_eq!(
        record.minted_by.as_ref().map(|m| m.user_id.as_str()),
        Some("alice")
    );
    assert!(store.is_empty(), "nothing minted");

    let d = dispatcher(vnc_and_serial(), &["novnc"], store);
    let found = d.console_backend(&member(), "ok", "vnc").await.unwrap();
    assert_eq!(found.record().console_type, "xvpvnc");
}

#[tokio::test]
async fn the_checks_of_a_console_apply_in_its_order() {
    let d = dispatcher(vnc_and_serial(), &[], Arc::new(MemoryTokenStore::new()));
    assert_eq!(refused(&d, &member(), "nope").await.status(), 404);
    assert_eq!(refused(&d, &member(), "theirs").await.status(), 404);
    let admin = Identity::new("admin", "ops", ["admin"]);
    d.console_backend(&admin, "theirs", "vnc").await.unwrap();
    let reader = Identity::new("bob", "demo", ["reader"]);
    assert_eq!(refused(&d, &reader, "ok").await.status(), 403);
    assert_eq!(refused(&d, &reader, "off").await.status(), 403);
    assert_eq!(refused(&d, &member(), "off").await.status(), 409);
    let err = refused(&d, &member(), "serial-only").await;
    assert_eq!(
        err.to_string(),
        "Instance serial-only has no VNC console configured."
    );
}

#[tokio::test]
async fn no_vnc_driver_is_501_and_every_type_off_is_400() {
    let serial = Registry::builder()
        .register(Arc::new(SerialDriver))
        .build()
        .unwrap();
    let d = dispatcher(serial, &[], Arc::new(MemoryTokenStore::new()));
    let err = refused(&d, &member(), "ok").await;
    assert_eq!(err.status(), 501, "{err}");
    // State before the driver, as for a console.
    assert_eq!(refused(&d, &member(), "off").await.status(), 409);

    let d = dispatcher(
        vnc_and_serial(),
        &["novnc", "xvpvnc"],
        Arc::new(MemoryTokenStore::new()),
    );
    let err = refused(&d, &member(), "ok").await;
    assert_eq!(err.to_string(), "Unavailable console type novnc.");
}

#[tokio::test]
async fn open_reaches_the_backend_with_the_drivers_connect() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let registry = Arc::new(vnc_and_serial());
    let d = Dispatcher::new(
        registry,
        Arc::new(backend(port)),
        Arc::new(MemoryTokenStore::new()),
        DispatchSettings::default(),
    );
    let found = d.console_backend(&member(), "ok", "vnc").await.unwrap();
    let accepting = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut first = [0u8; 1];
        stream.read(&mut first).await.unwrap()
    });
    let stream = found.open().await.unwrap();
    drop(stream);
    assert_eq!(accepting.await.unwrap(), 0, "connected, then closed");
    drop(found);

    // Nothing listens any more: 503.
    let found = d.console_backend(&member(), "ok", "vnc").await.unwrap();
    let err = found.open().await.err().expect("refused");
    assert_eq!(err.status(), 503, "{err}");
}
