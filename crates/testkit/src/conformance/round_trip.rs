//! Connect-and-relay round trips through `driver.connect` against the
//! matching endpoint.

use std::sync::Arc;

use consoled_core::{BackendStream, ConsoleError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::subject::{local_endpoint, Subject};
use super::EndpointKind;
use crate::{
    normalize_thumbprint, rfb_client_handshake, rfb_request_frame, spice_link_message,
    spice_read_link_reply, AuthdEndpoint, AuthdOptions, GradientFrames, RfbOptions, RfbServer,
    SerialEcho, SpiceEndpoint,
};

/// The `CONNECT` path the round trips use where the protocol allows one.
const CONNECT_PATH: &str = "/conformance/console/1";

pub(super) async fn check(subject: &Subject, endpoint: EndpointKind) {
    match endpoint {
        EndpointKind::Rfb => {
            rfb(subject, None).await;
            rfb(subject, Some(CONNECT_PATH)).await;
        }
        EndpointKind::SerialEcho => {
            serial(subject, None).await;
            serial(subject, Some(CONNECT_PATH)).await;
        }
        EndpointKind::Spice => spice(subject).await,
        EndpointKind::Authd => authd(subject).await,
        // The error checks already proved connect answers 501.
        EndpointKind::External => {}
    }
}

async fn rfb(subject: &Subject, connect_path: Option<&str>) {
    let check = if connect_path.is_some() {
        "RFB round trip through a CONNECT path"
    } else {
        "RFB round trip"
    };
    let options = RfbOptions {
        name: "conformance-vm".into(),
        width: 64,
        height: 48,
        connect_path: connect_path.map(str::to_owned),
        frames: Arc::new(GradientFrames),
    };
    let server = RfbServer::start_with(options)
        .await
        .unwrap_or_else(|e| subject.fail(check, format!("cannot start the RFB endpoint: {e}")));
    let endpoint = local_endpoint(server.addr().port(), connect_path.map(str::to_owned));
    let record = subject.record_for(check, endpoint).await;
    let mut stream = subject.connected(check, &record).await;
    let init = subject
        .limited(
            check,
            "the RFB handshake",
            rfb_client_handshake(&mut stream),
        )
        .await
        .unwrap_or_else(|e| {
            subject.fail(
                check,
                format!("RFB handshake through the driver failed: {e}"),
            )
        });
    if (init.width, init.height, init.name.as_str()) != (64, 48, "conformance-vm") {
        subject.fail(check, format!("the ServerInit arrived garbled: {init:?}"));
    }
    let frame = subject
        .limited(check, "a frame", rfb_request_frame(&mut stream, 64, 48))
        .await
        .unwrap_or_else(|e| {
            subject.fail(
                check,
                format!("frame request through the driver failed: {e}"),
            )
        });
    if frame.len() != 64 * 48 * 4 {
        subject.fail(check, format!("a frame of {} bytes", frame.len()));
    }
}

async fn serial(subject: &Subject, connect_path: Option<&str>) {
    let check = if connect_path.is_some() {
        "serial round trip through a CONNECT path"
    } else {
        "serial round trip"
    };
    let echo = match connect_path {
        Some(path) => SerialEcho::start_with_connect_path(path).await,
        None => SerialEcho::start().await,
    }
    .unwrap_or_else(|e| subject.fail(check, format!("cannot start the echo endpoint: {e}")));
    let endpoint = local_endpoint(echo.addr().port(), connect_path.map(str::to_owned));
    let record = subject.record_for(check, endpoint).await;
    let mut stream = subject.connected(check, &record).await;
    echo_round_trip(subject, check, &mut stream).await;
}

async fn spice(subject: &Subject) {
    const CHECK: &str = "SPICE round trip";
    let spice = SpiceEndpoint::start()
        .await
        .unwrap_or_else(|e| subject.fail(CHECK, format!("cannot start the SPICE endpoint: {e}")));
    let record = subject
        .record_for(CHECK, local_endpoint(spice.addr().port(), None))
        .await;
    let mut stream = subject.connected(CHECK, &record).await;
    let link = async {
        stream.write_all(&spice_link_message()).await?;
        stream.flush().await?;
        spice_read_link_reply(&mut stream).await
    };
    match subject.limited(CHECK, "the SPICE link", link).await {
        Ok(0) => {}
        Ok(code) => subject.fail(CHECK, format!("link reply error {code}, expected 0")),
        Err(e) => subject.fail(CHECK, format!("SPICE link through the driver failed: {e}")),
    }
    echo_round_trip(subject, CHECK, &mut stream).await;
}

async fn authd(subject: &Subject) {
    let options = AuthdOptions {
        ticket: "conformance-ticket-7f3a".into(),
        cfg_file: "[datastore1] conformance/vm.vmx".into(),
    };
    let authd = AuthdEndpoint::start(options.clone())
        .await
        .unwrap_or_else(|e| {
            subject.fail(
                "webmks round trip",
                format!("cannot start the authd endpoint: {e}"),
            )
        });
    let port = authd.addr().port();
    let access_path = |ticket: &str, thumbprint: &str| {
        serde_json::json!({"ticket": ticket, "cfgFile": options.cfg_file, "thumbprint": thumbprint})
            .to_string()
    };

    for (check, thumbprint) in [
        ("webmks round trip", authd.thumbprint()),
        (
            "webmks round trip, plain-hex thumbprint",
            normalize_thumbprint(&authd.thumbprint()),
        ),
    ] {
        let path = access_path(&options.ticket, &thumbprint);
        let record = subject
            .record_for(check, local_endpoint(port, Some(path)))
            .await;
        let mut stream = subject.connected(check, &record).await;
        echo_round_trip(subject, check, &mut stream).await;
    }
    if authd.authenticated() != 2 {
        subject.fail(
            "webmks round trip",
            format!(
                "{} sessions completed the exchange, expected 2",
                authd.authenticated()
            ),
        );
    }

    const CHECK: &str = "webmks with a wrong ticket";
    let wrong = "conformance-wrong-ticket-9c1e";
    let record = subject
        .record_for(
            CHECK,
            local_endpoint(port, Some(access_path(wrong, &authd.thumbprint()))),
        )
        .await;
    match subject.connect(CHECK, &record).await {
        Err(e) if e.status() == 503 => {
            if e.to_string().contains(wrong) {
                subject.fail(CHECK, "the error message carries the ticket");
            }
        }
        Err(e) => subject.fail(
            CHECK,
            format!("expected 503, got {} ({})", e.status(), redact(&e, wrong)),
        ),
        Ok(_) => subject.fail(CHECK, "a wrong ticket got a backend stream"),
    }

    // Refusing it when minting is as good as refusing it when connecting.
    const GARBLED: &str = "webmks with a garbled access path";
    let server = subject.server_with(local_endpoint(port, Some("{not json".into())));
    if let Ok(info) = subject.connect_info(GARBLED, &server).await {
        let record = subject.record_from(info);
        if subject.connect(GARBLED, &record).await.is_ok() {
            subject.fail(
                GARBLED,
                "a garbled internal access path got a backend stream",
            );
        }
    }
}

fn redact(e: &ConsoleError, secret: &str) -> String {
    e.to_string().replace(secret, "<ticket>")
}

/// Bytes written to the backend stream come back unchanged.
async fn echo_round_trip(subject: &Subject, check: &str, stream: &mut BackendStream) {
    let sent: &[u8] = b"consoled conformance \x00\x01\xfe\xff\r\n";
    let round_trip = async {
        stream.write_all(sent).await?;
        stream.flush().await?;
        let mut back = vec![0u8; sent.len()];
        stream.read_exact(&mut back).await?;
        Ok::<_, std::io::Error>(back)
    };
    match subject.limited(check, "the echo", round_trip).await {
        Ok(back) if back == sent => {}
        Ok(back) => subject.fail(check, format!("sent {sent:?}, got back {back:?}")),
        Err(e) => subject.fail(check, format!("relay through the driver failed: {e}")),
    }
}
