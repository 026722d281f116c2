//! The driver plugs in from its own crate: a binary that names the crate
//! (the one line a binary's list of linked drivers gets) finds it at
//! start-up, and a dispatcher serves it like any built-in type, from
//! minting a console to connecting a proxy's backend stream.

mod fake_telnet;

use std::sync::Arc;

use consoled_core::{
    ConsoleError, DispatchSettings, Dispatcher, Identity, MemoryTokenStore, Registry, Token,
};
use consoled_testkit::{FakeBackend, ServerBuilder};
use fake_telnet::FakeTelnet;

// The line a binary's list of linked drivers gets: naming the crate is
// what links it, and its `inventory::submit!` with it.
use consoled_example_driver_telnet as _;

fn dispatcher(registry: Registry, telnet_port: u16) -> Dispatcher {
    let backend = FakeBackend::new().with(
        ServerBuilder::new("vm-1", "router")
            .endpoint("telnet", "127.0.0.1", telnet_port)
            .build(),
    );
    Dispatcher::new(
        Arc::new(registry),
        Arc::new(backend),
        Arc::new(MemoryTokenStore::new()),
        DispatchSettings::default(),
    )
}

#[test]
fn linking_the_crate_registers_the_driver() {
    let registry = Registry::from_inventory().expect("no duplicate registrations");
    let found: Vec<_> = registry
        .descriptors()
        .iter()
        .map(|d| (d.protocol, d.console_type, d.crate_name))
        .collect();
    // This test binary links no other driver crate.
    assert_eq!(
        found,
        [("telnet", "telnet-ws", "consoled-example-driver-telnet")]
    );
}

#[tokio::test]
async fn a_console_is_minted_and_connected_through_a_dispatcher() {
    let telnet = FakeTelnet::serve(None).await.unwrap();
    let port = telnet.port();
    let dispatcher = dispatcher(Registry::from_inventory().unwrap(), port);

    // Minting, as the API does for POST /servers/vm-1/remote-consoles.
    let alice = Identity::new("alice", "demo", ["member"]);
    let console = dispatcher
        .create_console(&alice, "vm-1", "telnet", "telnet-ws")
        .await
        .unwrap();
    assert_eq!(
        (console.protocol.as_str(), console.console_type.as_str()),
        ("telnet", "telnet-ws")
    );
    assert!(
        console
            .url
            .as_str()
            .starts_with("ws://127.0.0.1:6085/?token="),
        "{console:?}"
    );

    // Connecting, as a proxy does with the token of the URL.
    let token = console
        .url
        .query_pairs()
        .find(|(name, _)| name == "token")
        .map(|(_, value)| Token::new(value.into_owned()))
        .expect("a token in the URL");
    let record = dispatcher
        .validate_token(&token)
        .await
        .unwrap()
        .expect("the token is live");
    assert_eq!(
        (record.connect.host.as_str(), record.connect.port),
        ("127.0.0.1", port)
    );
    let driver = dispatcher
        .driver_for(&record.protocol, &record.console_type)
        .unwrap();
    let mut stream = driver.connect(&record).await.unwrap();
    fake_telnet::log_in(&mut stream).await.unwrap();
    assert_eq!(telnet.sessions(), 1);
}

#[tokio::test]
async fn the_dispatcher_refuses_what_the_driver_does_not_serve() {
    let telnet = FakeTelnet::serve(None).await.unwrap();
    let dispatcher = dispatcher(Registry::from_inventory().unwrap(), telnet.port());
    let alice = Identity::new("alice", "demo", ["member"]);

    // A type that is not telnet's: 400 naming the type.
    let err = dispatcher
        .create_console(&alice, "vm-1", "telnet", "novnc")
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ConsoleError::BadRequest("Invalid console type novnc".into())
    );
    // A server without a telnet console: 400 in the driver's words.
    let bare = Dispatcher::new(
        dispatcher.registry().clone(),
        Arc::new(FakeBackend::new().with(ServerBuilder::new("vm-2", "web").vnc("h", 5900))),
        Arc::new(MemoryTokenStore::new()),
        DispatchSettings::default(),
    );
    let err = bare
        .create_console(&alice, "vm-2", "telnet", "telnet-ws")
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ConsoleError::BadRequest("Instance vm-2 has no telnet console configured.".into())
    );
}

#[tokio::test]
async fn a_registry_listed_by_hand_serves_it_too() {
    let telnet = FakeTelnet::serve(None).await.unwrap();
    let registry = Registry::builder()
        .register(Arc::new(consoled_example_driver_telnet::TelnetDriver))
        .build()
        .unwrap();
    let dispatcher = dispatcher(registry, telnet.port());
    let alice = Identity::new("alice", "demo", ["member"]);
    let console = dispatcher
        .create_console(&alice, "vm-1", "telnet", "telnet-ws")
        .await
        .unwrap();
    assert!(console.url.query().is_some_and(|q| q.starts_with("token=")));
}
