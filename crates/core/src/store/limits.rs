//! How many live tokens a store keeps: the stores' part of `[tokens]`.

use serde::{Deserialize, Serialize};

use crate::config::SettingError;

/// The bounds on live token records, in all and per project.
///
/// A project's cap answers that project alone with 403 when it is reached,
/// so one busy or hostile project cannot deny consoles to the others; the
/// total bounds the memory store's size (a Redis store is bounded by its
/// Redis's own `maxmemory`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct StoreLimits {
    /// The most live console tokens the memory store holds (beyond it,
    /// 503); the default fits the default TTL at 1,000 creations per
    /// second.
    pub max_live_records: usize,
    /// The most live console tokens one project may hold in either store
    /// (beyond it, 403 for that project only); 0: no cap.
    pub max_live_records_per_project: usize,
}

impl StoreLimits {
    /// Default total: 600 s (the default TTL) at 1,000 creations per
    /// second, with room to spare.
    pub const DEFAULT_MAX_LIVE_RECORDS: usize = 1_000_000;
    /// Default per project: far beyond any project's consoles in use, a
    /// tenth of the total.
    pub const DEFAULT_MAX_LIVE_RECORDS_PER_PROJECT: usize = 100_000;
    /// The largest total a configuration may ask for (about 1 KiB of
    /// memory each).
    pub const MAX_LIVE_RECORDS: usize = 100_000_000;

    /// The cap of one project, if any.
    pub fn per_project(&self) -> Option<usize> {
        (self.max_live_records_per_project > 0).then_some(self.max_live_records_per_project)
    }

    /// Checks that the limits can be honoured.
    ///
    /// # Errors
    /// `max_live_records` when it is 0 or beyond
    /// [`Self::MAX_LIVE_RECORDS`].
    pub fn validate(&self) -> Result<(), SettingError> {
        if self.max_live_records == 0 || self.max_live_records > Self::MAX_LIVE_RECORDS {
            return Err(SettingError::new(
                "max_live_records",
                format!("must be between 1 and {}", Self::MAX_LIVE_RECORDS),
            ));
        }
        Ok(())
    }
}

impl Default for StoreLimits {
    fn default() -> Self {
        StoreLimits {
            max_live_records: Self::DEFAULT_MAX_LIVE_RECORDS,
            max_live_records_per_project: Self::DEFAULT_MAX_LIVE_RECORDS_PER_PROJECT,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_zero_means_no_cap() {
        let limits = StoreLimits::default();
        assert_eq!(limits.validate(), Ok(()));
        assert_eq!(limits.per_project(), Some(100_000));
        let uncapped = StoreLimits {
            max_live_records_per_project: 0,
            ..limits
        };
        assert_eq!(uncapped.per_project(), None);
        for total in [0, StoreLimits::MAX_LIVE_RECORDS + 1] {
            let bad = StoreLimits {
                max_live_records: total,
                ..limits
            };
            assert_eq!(bad.validate().unwrap_err().key, "max_live_records");
        }
    }
}
