//! Descriptor sanity.

use consoled_core::catalog::NOVA_CONSOLE_TYPES;
use consoled_core::{Front, Url};

use super::endpoint::ConformanceEndpoint;
use super::subject::{endpoint_name, Subject};

pub(super) fn check<E: ConformanceEndpoint>(subject: &Subject) {
    const CHECK: &str = "descriptor";
    let d = &subject.descriptor;
    for (field, value) in [
        ("protocol", d.protocol),
        ("console_type", d.console_type),
        ("crate_name", d.crate_name),
    ] {
        if value.trim().is_empty() {
            subject.fail(CHECK, format!("{field} is empty"));
        }
    }
    if let Some(entry) = NOVA_CONSOLE_TYPES
        .iter()
        .find(|e| e.console_type == d.console_type)
    {
        if entry.protocol != d.protocol {
            subject.fail(
                CHECK,
                format!(
                    "the compute API pairs type {} with protocol {}, not {}",
                    d.console_type, entry.protocol, d.protocol
                ),
            );
        }
        if entry.min_version != d.min_version {
            subject.fail(
                CHECK,
                format!(
                    "the compute API accepts {} from microversion {}, the descriptor says {}",
                    d.console_type, entry.min_version, d.min_version
                ),
            );
        }
    }
    match Url::parse(d.default_base_url) {
        Ok(url) if url.cannot_be_a_base() || !url.has_host() => subject.fail(
            CHECK,
            format!("default_base_url {:?} has no host", d.default_base_url),
        ),
        Ok(_) => {}
        Err(e) => subject.fail(
            CHECK,
            format!(
                "default_base_url {:?} does not parse: {e}",
                d.default_base_url
            ),
        ),
    }
    // A driver that wrongly claims an external front would skip every
    // round trip; one that wrongly denies it would be relayed to nothing.
    let external = d.front == Front::External;
    if external != E::EXTERNAL {
        subject.fail(
            CHECK,
            format!(
                "front {} does not fit endpoint {}",
                d.front,
                endpoint_name::<E>()
            ),
        );
    }
}
