//! The scenario's `[sampler]` section and its validation.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Problem;

/// How often the harness records every node's state (role, link, offset, keys, run id; the master
/// each sentinel names). It also samples at once on every sentinel event.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SamplerSpec {
    /// Time between two samples of one node (10ms to 10s).
    #[serde(with = "humantime_serde")]
    pub period: Duration,
}

impl Default for SamplerSpec {
    fn default() -> Self {
        Self {
            period: Duration::from_millis(100),
        }
    }
}

impl SamplerSpec {
    /// Checks the section; the field named is within it.
    pub(super) fn check(&self) -> Result<(), Problem> {
        let period = self.period;
        if period < Duration::from_millis(10) || period > Duration::from_secs(10) {
            return Err((
                "period".into(),
                format!(
                    "{} is not between 10ms and 10s",
                    humantime::format_duration(period)
                ),
            ));
        }
        Ok(())
    }
}
