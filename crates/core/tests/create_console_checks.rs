//! `Dispatcher::create_console`, check by check and in Nova's order, over
//! the in-memory store and a fake backend with the real driver crates.

use std::collections::HashMap;
use std::sync::Arc;

use consoled_core::{
    ConsoleError, DispatchSettings, Dispatcher, Identity, MemoryTokenStore, Registry, StoreLimits,
    TypeSettings,
};
use consoled_driver_serial::SerialDriver;
use consoled_driver_vnc_novnc::NoVncDriver;
use consoled_driver_vnc_xvpvnc::XvpVncDriver;
use consoled_testkit::{FakeBackend, SequentialTokens, ServerBuilder};

fn backend() -> FakeBackend {
    FakeBackend::new()
        .with(
            ServerBuilder::new("ok", "web")
                .vnc("127.0.0.1", 5900)
                .serial("127.0.0.1", 7000),
        )
        .with(
            ServerBuilder::new("theirs", "db")
                .project("other")
                .vnc("127.0.0.1", 5901),
        )
        .with(
            ServerBuilder::new("unscheduled", "new")
                .host(None)
                .vnc("127.0.0.1", 5902),
        )
        .with(
            ServerBuilder::new("deleting", "old")
                .task_state("deleting")
                .vnc("127.0.0.1", 5903),
        )
        .with(
            ServerBuilder::new("migrating", "mv")
                .task_state("MIGRATING")
                .vnc("127.0.0.1", 5904),
        )
        .with(ServerBuilder::new("serial-only", "tty").serial("127.0.0.1", 7001))
}

/// vnc (both types) and serial linked; xvpvnc switched off in settings.
fn dispatcher() -> Dispatcher {
    let registry = Registry::builder()
        .register(Arc::new(NoVncDriver))
        .register(Arc::new(XvpVncDriver))
        .register(Arc::new(SerialDriver))
        .build()
        .expect("no duplicates");
    let settings = DispatchSettings {
        types: HashMap::from([(
            "xvpvnc".to_owned(),
            TypeSettings {
                enabled: false,
                ..TypeSettings::default()
            },
        )]),
        ..DispatchSettings::default()
    };
    Dispatcher::new(
        Arc::new(registry),
        Arc::new(backend()),
        Arc::new(MemoryTokenStore::new()),
        settings,
    )
    .with_token_source(SequentialTokens::new("tok"))
}

fn member() -> Identity {
    Identity::new("alice", "demo", ["member"])
}

async fn refused(who: &Identity, server: &str, protocol: &str, console_type: &str) -> ConsoleError {
    dispatcher()
        .create_console(who, server, protocol, console_type)
        .await
        .expect_err("the request should be refused")
}

#[tokio::test]
async fn a_member_gets_a_console() {
    let console = dispatcher()
        .create_console(&member(), "ok", "vnc", "novnc")
        .await
        .unwrap();
    assert_eq!(
        (console.protocol.as_str(), console.console_type.as_str()),
        ("vnc", "novnc")
    );
    assert_eq!(
        console.url.as_str(),
        "http://127.0.0.1:6080/vnc_auto.html?path=%3Ftoken%3Dtok-1"
    );
}

#[tokio::test]
async fn unknown_server_is_404() {
    let err = refused(&member(), "nope", "vnc", "novnc").await;
    assert_eq!(
        err,
        ConsoleError::NotFound("Instance nope could not be found.".into())
    );
}

#[tokio::test]
async fn another_projects_server_is_404_for_a_member_and_visible_to_an_admin() {
    let err = refused(&member(), "theirs", "vnc", "novnc").await;
    assert_eq!(err.status(), 404);
    let admin = Identity::new("admin", "ops", ["admin"]);
    let console = dispatcher()
        .create_console(&admin, "theirs", "vnc", "novnc")
        .await
        .unwrap();
    assert_eq!(console.console_type, "novnc");
}

#[tokio::test]
async fn a_reader_is_403() {
    let reader = Identity::new("bob", "demo", ["reader"]);
    assert_eq!(refused(&reader, "ok", "vnc", "novnc").await.status(), 403);
}

#[tokio::test]
async fn a_server_without_host_or_busy_is_409() {
    for server in ["unscheduled", "deleting", "migrating"] {
        let err = refused(&member(), server, "vnc", "novnc").await;
        assert_eq!(err.status(), 409, "{server}: {err}");
        assert!(err.to_string().contains(server), "{err}");
    }
}

#[tokio::test]
async fn a_type_of_another_protocol_is_400() {
    let err = refused(&member(), "ok", "vnc", "serial").await;
    assert_eq!(
        err,
        ConsoleError::BadRequest("Invalid console type serial".into())
    );
    let err = refused(&member(), "ok", "vnc", "telnet").await;
    assert_eq!(
        err,
        ConsoleError::BadRequest("Invalid console type telnet".into())
    );
}

#[tokio::test]
async fn a_known_pair_without_a_driver_is_501_listing_what_is_available() {
    let err = refused(&member(), "ok", "spice", "spice-html5").await;
    assert_eq!(err.status(), 501);
    let message = err.to_string();
    assert!(message.contains("spice/spice-html5"), "{message}");
    assert!(
        message.contains("serial/serial, vnc/novnc, vnc/xvpvnc"),
        "available drivers are listed, sorted: {message}"
    );
}

#[tokio::test]
async fn a_type_switched_off_is_400() {
    let err = refused(&member(), "ok", "vnc", "xvpvnc").await;
    assert_eq!(
        err,
        ConsoleError::BadRequest("Unavailable console type xvpvnc.".into())
    );
}

#[tokio::test]
async fn a_server_without_the_endpoint_is_400() {
    let err = refused(&member(), "serial-only", "vnc", "novnc").await;
    assert_eq!(err.status(), 400);
    assert!(err.to_string().contains("no VNC console"), "{err}");
    // The same server does have a serial console.
    dispatcher()
        .create_console(&member(), "serial-only", "serial", "serial")
        .await
        .unwrap();
}

/// When a request fails several checks, the first in Nova's order wins.
#[tokio::test]
async fn checks_run_in_order() {
    let reader = Identity::new("bob", "demo", ["reader"]);
    // visibility before policy: a reader of another project sees nothing
    assert_eq!(
        refused(
            &Identity::new("bob", "x", ["reader"]),
            "theirs",
            "vnc",
            "novnc"
        )
        .await
        .status(),
        404
    );
    // policy before state
    assert_eq!(
        refused(&reader, "deleting", "vnc", "serial").await.status(),
        403
    );
    // state before the type's protocol
    assert_eq!(
        refused(&member(), "deleting", "vnc", "serial")
            .await
            .status(),
        409
    );
    // protocol before driver
    assert_eq!(
        refused(&member(), "ok", "spice", "novnc").await.status(),
        400
    );
    // driver before settings and endpoint: spice has neither driver nor endpoint
    assert_eq!(
        refused(&member(), "serial-only", "spice", "spice-html5")
            .await
            .status(),
        501
    );
    // settings before endpoint: xvpvnc is off and the server has no VNC
    let err = refused(&member(), "serial-only", "vnc", "xvpvnc").await;
    assert_eq!(err.to_string(), "Unavailable console type xvpvnc.");
}

#[tokio::test]
async fn a_project_at_its_token_cap_is_403_and_the_others_still_mint() {
    let registry = Registry::builder()
        .register(Arc::new(SerialDriver))
        .build()
        .expect("no duplicates");
    let store = MemoryTokenStore::with_limits(StoreLimits {
        max_live_records_per_project: 2,
        ..StoreLimits::default()
    });
    let dispatcher = Dispatcher::new(
        Arc::new(registry),
        Arc::new(backend()),
        Arc::new(store),
        DispatchSettings::default(),
    );
    let alice = Identity::new("alice", "demo", ["member"]);
    for _ in 0..2 {
        dispatcher
            .create_console(&alice, "ok", "serial", "serial")
            .await
            .expect("within the cap");
    }
    let refused = dispatcher
        .create_console(&alice, "ok", "serial", "serial")
        .await
        .expect_err("over the cap");
    assert_eq!((refused.status(), refused.fault_name()), (403, "forbidden"));
    assert!(refused.to_string().contains("Quota exceeded"), "{refused}");
    // The cap is the minting project's: an admin acting from its own
    // project mints for the same server.
    let admin = Identity::new("admin", "admin", ["admin"]);
    dispatcher
        .create_console(&admin, "ok", "serial", "serial")
        .await
        .expect("another project is not held back");
}
