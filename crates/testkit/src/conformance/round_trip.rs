//! Connect-and-relay round trips through `driver.connect` against the
//! driver's fake endpoint, and the endpoint data it must refuse.

use consoled_core::ConsoleError;

use super::endpoint::{ConformanceEndpoint, Refused};
use super::subject::{endpoint_name, Subject};

/// The `CONNECT` path the round trips use where the endpoint allows one.
pub(super) const CONNECT_PATH: &str = "/conformance/console/1";

/// Starts a fresh `E`, or fails `check` saying why not.
async fn start<E: ConformanceEndpoint>(
    subject: &Subject,
    check: &str,
    connect_path: Option<&str>,
) -> E {
    match subject
        .limited(check, "starting the endpoint", E::start(connect_path))
        .await
    {
        Ok(endpoint) => endpoint,
        Err(e) => subject.fail(
            check,
            format!("cannot start the endpoint {}: {e}", endpoint_name::<E>()),
        ),
    }
}

/// Every form of `E`'s endpoint data mints, connects and completes `E`'s
/// exchange; then `E` agrees with what it saw.
pub(super) async fn round_trip<E: ConformanceEndpoint>(
    subject: &Subject,
    check: &str,
    connect_path: Option<&str>,
) {
    let fake: E = start(subject, check, connect_path).await;
    let main = fake.endpoint();
    // A fake that dropped the path would let a driver that skips the
    // handshake pass.
    if connect_path.is_some() && main.internal_access_path.as_deref() != connect_path {
        subject.fail(
            check,
            format!(
                "the endpoint {} was started behind a CONNECT path its endpoint data does not carry",
                endpoint_name::<E>()
            ),
        );
    }
    let forms = std::iter::once((None, main)).chain(
        fake.alternatives()
            .into_iter()
            .map(|(name, endpoint)| (Some(name), endpoint)),
    );
    let mut exchanges = 0;
    for (form, endpoint) in forms {
        let check = match form {
            Some(form) => format!("{check}, {form}"),
            None => check.to_owned(),
        };
        let record = subject.record_for(&check, endpoint).await;
        let mut stream = subject.connected(&check, &record).await;
        let exchanged = subject
            .limited(&check, "the exchange", fake.exchange(&mut stream))
            .await;
        if let Err(why) = exchanged {
            subject.fail(&check, why);
        }
        exchanges += 1;
    }
    if let Err(why) = fake.verify(exchanges) {
        subject.fail(check, why);
    }
}

/// Every endpoint data `E` refuses fails the way `E` says.
pub(super) async fn refusals<E: ConformanceEndpoint>(subject: &Subject) {
    let fake: E = start(subject, "backend refusals", None).await;
    for refusal in fake.refusals() {
        let check = refusal.name;
        match refusal.refused {
            Refused::Connecting { secret } => {
                let record = subject.record_for(check, refusal.endpoint).await;
                match subject.connect(check, &record).await {
                    Err(e) if e.status() == 503 => {
                        if secret.as_deref().is_some_and(|s| e.to_string().contains(s)) {
                            subject.fail(check, "the error message carries the secret");
                        }
                    }
                    Err(e) => subject.fail(
                        check,
                        format!(
                            "expected 503, got {} ({})",
                            e.status(),
                            redact(&e, secret.as_deref())
                        ),
                    ),
                    Ok(_) => subject.fail(check, "a refused endpoint got a backend stream"),
                }
            }
            // Refusing it when minting is as good as refusing it when
            // connecting.
            Refused::MintingOrConnecting => {
                let server = subject.server_with(refusal.endpoint);
                if let Ok(info) = subject.connect_info(check, &server).await {
                    let record = subject.record_from(info);
                    if subject.connect(check, &record).await.is_ok() {
                        subject.fail(check, "a refused endpoint got a backend stream");
                    }
                }
            }
        }
    }
}

fn redact(e: &ConsoleError, secret: Option<&str>) -> String {
    let message = e.to_string();
    match secret {
        Some(secret) if !secret.is_empty() => message.replace(secret, "<secret>"),
        _ => message,
    }
}
