//! A token store that counts what is asked of it, for Prometheus:
//! `consoled_token_store_operations_total{store,op,result}` and, where the
//! store can tell, `consoled_token_store_live_records{store}`.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeLabel, EncodeLabelSet, EncodeMetric, LabelSetEncoder,
};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use super::{StoreError, TokenStore};
use crate::record::TokenRecord;
use crate::token::TokenHash;

/// The operations counter's name, without the `_total` the encoder adds.
const OPERATIONS: &str = "consoled_token_store_operations";
const LIVE_RECORDS: &str = "consoled_token_store_live_records";

/// `{store, op, result}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct OperationLabels {
    store: &'static str,
    op: &'static str,
    result: &'static str,
}

impl EncodeLabelSet for OperationLabels {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> Result<(), fmt::Error> {
        ("store", self.store).encode(encoder.encode_label())?;
        ("op", self.op).encode(encoder.encode_label())?;
        ("result", self.result).encode(encoder.encode_label())
    }
}

/// Wraps any [`TokenStore`] and counts each operation by its outcome.
/// Costs one counter increment per operation; an embedder who wants no
/// metrics simply does not wrap its store.
///
/// `result` is `ok`, `not_found` (a validation of an unknown or expired
/// token: the stores cannot tell the two apart), or the error's kind:
/// `unavailable`, `full`, `over_quota`, `corrupt`. An operation abandoned
/// by its caller (a time-out) is not counted.
///
/// # Example
///
/// ```
/// use std::sync::Arc;
/// use consoled_core::store::MeteredTokenStore;
/// use consoled_core::{MemoryTokenStore, TokenStore};
/// use prometheus_client::registry::Registry;
///
/// let mut registry = Registry::default();
/// let store: Arc<dyn TokenStore> = Arc::new(MeteredTokenStore::register(
///     Arc::new(MemoryTokenStore::new()),
///     "memory",
///     &mut registry,
/// ));
/// # let _ = store;
/// ```
pub struct MeteredTokenStore {
    inner: Arc<dyn TokenStore>,
    name: &'static str,
    operations: Family<OperationLabels, Counter>,
}

impl fmt::Debug for MeteredTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MeteredTokenStore")
            .field("store", &self.name)
            .finish_non_exhaustive()
    }
}

impl MeteredTokenStore {
    /// Wraps `inner`, named `name` in the `store` label (`memory`,
    /// `redis`), and registers its metric families in `registry`. Register
    /// one store per registry: a second would register the same names.
    pub fn register(
        inner: Arc<dyn TokenStore>,
        name: &'static str,
        registry: &mut Registry,
    ) -> Self {
        let operations = Family::<OperationLabels, Counter>::default();
        registry.register(
            OPERATIONS,
            "Token store operations, by store, operation and result",
            operations.clone(),
        );
        registry.register_collector(Box::new(LiveRecords {
            store: Arc::clone(&inner),
            name,
        }));
        MeteredTokenStore {
            inner,
            name,
            operations,
        }
    }

    fn count(&self, op: &'static str, result: &'static str) {
        self.operations
            .get_or_create(&OperationLabels {
                store: self.name,
                op,
                result,
            })
            .inc();
    }
}

/// The `result` label of a failed operation.
fn error_kind(e: &StoreError) -> &'static str {
    match e {
        StoreError::Unavailable(_) => "unavailable",
        StoreError::Full(_) => "full",
        StoreError::Corrupt(_) => "corrupt",
        StoreError::OverQuota { .. } => "over_quota",
    }
}

fn outcome<T>(result: &Result<T, StoreError>) -> &'static str {
    result.as_ref().map_or_else(error_kind, |_| "ok")
}

#[async_trait]
impl TokenStore for MeteredTokenStore {
    async fn authorize(&self, record: TokenRecord) -> Result<(), StoreError> {
        let result = self.inner.authorize(record).await;
        self.count("authorize", outcome(&result));
        result
    }

    async fn validate(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        let result = self.inner.validate(hash).await;
        let label = match &result {
            Ok(None) => "not_found",
            other => outcome(other),
        };
        self.count("validate", label);
        result
    }

    async fn revoke_server(&self, instance_uuid: &str) -> Result<usize, StoreError> {
        let result = self.inner.revoke_server(instance_uuid).await;
        self.count("revoke_server", outcome(&result));
        result
    }

    async fn purge_expired(&self) -> Result<usize, StoreError> {
        let result = self.inner.purge_expired().await;
        self.count("purge_expired", outcome(&result));
        result
    }

    fn live_records(&self) -> Option<usize> {
        self.inner.live_records()
    }
}

/// Asks the store how many records it holds at each scrape; a store that
/// cannot tell shows no such metric.
struct LiveRecords {
    store: Arc<dyn TokenStore>,
    name: &'static str,
}

impl fmt::Debug for LiveRecords {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveRecords")
            .field("store", &self.name)
            .finish_non_exhaustive()
    }
}

impl Collector for LiveRecords {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
        let Some(live) = self.store.live_records() else {
            return Ok(());
        };
        let gauge = ConstGauge::new(i64::try_from(live).unwrap_or(i64::MAX));
        let mut metric = encoder.encode_descriptor(
            LIVE_RECORDS,
            "Token records the store holds (expired ones until purged)",
            None,
            MetricType::Gauge,
        )?;
        let labels = [("store", self.name)];
        gauge.encode(metric.encode_family(&labels)?)
    }
}

#[cfg(test)]
mod tests {
    use prometheus_client::encoding::prometheus_text::encode;

    use super::*;
    use crate::record::sample_record;
    use crate::store::{MemoryTokenStore, StoreLimits};
    use crate::token::Token;

    fn record(token: &str, project: &str) -> TokenRecord {
        TokenRecord {
            expires_at: u64::MAX / 2,
            minted_by: Some(crate::record::MintedBy {
                user_id: "u".into(),
                project_id: project.into(),
            }),
            ..sample_record(token)
        }
    }

    fn scrape(registry: &Registry) -> String {
        let mut text = String::new();
        encode(&mut text, registry).unwrap();
        text
    }

    #[tokio::test]
    async fn each_operation_is_counted_by_its_outcome() {
        let mut registry = Registry::default();
        let limits = StoreLimits {
            max_live_records: 10,
            max_live_records_per_project: 1,
        };
        let store = MeteredTokenStore::register(
            Arc::new(MemoryTokenStore::with_limits(limits)),
            "memory",
            &mut registry,
        );
        store.authorize(record("a", "p")).await.unwrap();
        store.authorize(record("b", "p")).await.unwrap_err();
        assert!(store
            .validate(&Token::new("a").hash())
            .await
            .unwrap()
            .is_some());
        assert!(store
            .validate(&Token::new("z").hash())
            .await
            .unwrap()
            .is_none());
        assert!(store
            .validate(&Token::new("y").hash())
            .await
            .unwrap()
            .is_none());
        store.purge_expired().await.unwrap();
        let text = scrape(&registry);
        for line in [
            r#"consoled_token_store_operations_total{store="memory",op="authorize",result="ok"} 1"#,
            r#"consoled_token_store_operations_total{store="memory",op="authorize",result="over_quota"} 1"#,
            r#"consoled_token_store_operations_total{store="memory",op="validate",result="ok"} 1"#,
            r#"consoled_token_store_operations_total{store="memory",op="validate",result="not_found"} 2"#,
            r#"consoled_token_store_operations_total{store="memory",op="purge_expired",result="ok"} 1"#,
            r#"consoled_token_store_live_records{store="memory"} 1"#,
        ] {
            assert!(text.lines().any(|l| l == line), "no {line} in\n{text}");
        }
        assert_eq!(store.revoke_server("s1").await.unwrap(), 1);
        let text = scrape(&registry);
        assert!(
            text.contains(r#"consoled_token_store_live_records{store="memory"} 0"#),
            "{text}"
        );
    }

    /// A store that cannot count its records.
    struct Blind;

    #[async_trait]
    impl TokenStore for Blind {
        async fn authorize(&self, _: TokenRecord) -> Result<(), StoreError> {
            Err(StoreError::Unavailable("down".into()))
        }
        async fn validate(&self, _: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
            Err(StoreError::Corrupt("bad".into()))
        }
        async fn revoke_server(&self, _: &str) -> Result<usize, StoreError> {
            Err(StoreError::Full(3))
        }
        async fn purge_expired(&self) -> Result<usize, StoreError> {
            Ok(0)
        }
    }

    #[tokio::test]
    async fn errors_are_counted_by_kind_and_a_blind_store_reports_no_records() {
        let mut registry = Registry::default();
        let store = MeteredTokenStore::register(Arc::new(Blind), "redis", &mut registry);
        store.authorize(record("a", "p")).await.unwrap_err();
        store.validate(&Token::new("a").hash()).await.unwrap_err();
        store.revoke_server("s1").await.unwrap_err();
        let text = scrape(&registry);
        for line in [
            r#"consoled_token_store_operations_total{store="redis",op="authorize",result="unavailable"} 1"#,
            r#"consoled_token_store_operations_total{store="redis",op="validate",result="corrupt"} 1"#,
            r#"consoled_token_store_operations_total{store="redis",op="revoke_server",result="full"} 1"#,
        ] {
            assert!(text.lines().any(|l| l == line), "no {line} in\n{text}");
        }
        assert!(!text.contains(LIVE_RECORDS), "{text}");
    }
}
