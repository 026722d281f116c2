//! The API's Prometheus metrics: every request by route and status, how
//! long each took, and the consoles created.

use std::fmt;
use std::time::Duration;

use axum::http::StatusCode;
use consoled_core::prometheus_client::encoding::{EncodeLabel, EncodeLabelSet, LabelSetEncoder};
use consoled_core::prometheus_client::metrics::counter::Counter;
use consoled_core::prometheus_client::metrics::family::Family;
use consoled_core::prometheus_client::metrics::histogram::Histogram;
use consoled_core::prometheus_client::registry::Registry;

/// The route label of a request no route matched.
pub(crate) const UNMATCHED: &str = "(unmatched)";

/// Request durations, in seconds: Prometheus' usual buckets, from a
/// cached look-up to a slow backend.
const DURATION_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct RouteStatus {
    route: String,
    status: StatusCode,
}

impl EncodeLabelSet for RouteStatus {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> Result<(), fmt::Error> {
        ("route", self.route.as_str()).encode(encoder.encode_label())?;
        ("status", self.status.as_str()).encode(encoder.encode_label())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Route(String);

impl EncodeLabelSet for Route {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> Result<(), fmt::Error> {
        ("route", self.0.as_str()).encode(encoder.encode_label())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ConsoleType(String);

impl EncodeLabelSet for ConsoleType {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> Result<(), fmt::Error> {
        ("type", self.0.as_str()).encode(encoder.encode_label())
    }
}

type Durations = Family<Route, Histogram, fn() -> Histogram>;

/// The API's metric families; give them to
/// [`ApiState::with_metrics`](crate::ApiState::with_metrics) to have the
/// router count.
///
/// - `consoled_api_requests_total{route,status}`: `route` is the route's
///   template (`/v2.1/servers/{server_id}/remote-consoles`), never the path,
///   which may carry a token; `(unmatched)` for an unknown path.
/// - `consoled_api_request_duration_seconds{route}`: a histogram.
/// - `consoled_consoles_created_total{type}`: consoles created, by
///   console type, through either `remote-consoles` or a legacy action.
#[derive(Debug, Clone)]
pub struct ApiMetrics {
    requests: Family<RouteStatus, Counter>,
    durations: Durations,
    consoles_created: Family<ConsoleType, Counter>,
}

impl ApiMetrics {
    /// Registers the API's families in `registry` (once per registry).
    pub fn register(registry: &mut Registry) -> Self {
        let metrics = ApiMetrics {
            requests: Family::default(),
            durations: Family::new_with_constructor(|| Histogram::new(DURATION_BUCKETS)),
            consoles_created: Family::default(),
        };
        registry.register(
            "consoled_api_requests",
            "Compute API requests answered, by route template and status",
            metrics.requests.clone(),
        );
        registry.register(
            "consoled_api_request_duration_seconds",
            "Time to answer a compute API request, by route template",
            metrics.durations.clone(),
        );
        registry.register(
            "consoled_consoles_created",
            "Consoles created (tokens minted), by console type",
            metrics.consoles_created.clone(),
        );
        metrics
    }

    /// Counts one answered request.
    pub(crate) fn answered(&self, route: &str, status: StatusCode, took: Duration) {
        self.requests
            .get_or_create(&RouteStatus {
                route: route.to_owned(),
                status,
            })
            .inc();
        self.durations
            .get_or_create(&Route(route.to_owned()))
            .observe(took.as_secs_f64());
    }

    /// Counts one console created.
    pub(crate) fn console_created(&self, console_type: &str) {
        self.consoles_created
            .get_or_create(&ConsoleType(console_type.to_owned()))
            .inc();
    }
}
