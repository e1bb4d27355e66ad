//! Counters the store and the app export at `GET /metrics` in the Prometheus text format.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// Store and app counters; cheap to bump from any task.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Store commands retried after an error (each retry counts once).
    pub store_retries: AtomicU64,
    /// Store commands that failed (connection error, timeout, `READONLY`, ...), retried or not.
    pub store_errors: AtomicU64,
    /// Times the store asked the sentinels for the master.
    pub rediscoveries: AtomicU64,
    /// `+switch-master` messages received for our master.
    pub switch_messages: AtomicU64,
    /// Requests answered 503 because the store stayed unavailable past its retry deadline.
    pub unavailable_responses: AtomicU64,
    /// Writes whose `WAIT` counted too few replicas (each then retried).
    pub wait_shortfalls: AtomicU64,
}

/// One counter as read from the text format.
const COUNTERS: [(&str, &str); 6] = [
    (
        "sample_app_store_retries_total",
        "Store commands retried after an error.",
    ),
    (
        "sample_app_store_errors_total",
        "Store commands that failed, retried or not.",
    ),
    (
        "sample_app_rediscoveries_total",
        "Master discoveries through the sentinels.",
    ),
    (
        "sample_app_switch_master_messages_total",
        "+switch-master messages received for the monitored master.",
    ),
    (
        "sample_app_unavailable_responses_total",
        "Requests answered 503 after the store's retry deadline.",
    ),
    (
        "sample_app_wait_shortfalls_total",
        "Writes whose WAIT counted too few replicas.",
    ),
];

impl Metrics {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn values(&self) -> [u64; 6] {
        [
            &self.store_retries,
            &self.store_errors,
            &self.rediscoveries,
            &self.switch_messages,
            &self.unavailable_responses,
            &self.wait_shortfalls,
        ]
        .map(|c| c.load(Ordering::Relaxed))
    }

    /// The counters in the Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for ((name, help), value) in COUNTERS.iter().zip(self.values()) {
            // Writing to a String cannot fail.
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_counter_with_its_value() {
        let m = Metrics::default();
        Metrics::bump(&m.store_retries);
        Metrics::bump(&m.store_retries);
        let text = m.render();
        assert!(text.contains("sample_app_store_retries_total 2\n"));
        assert!(text.contains("sample_app_unavailable_responses_total 0\n"));
        assert_eq!(text.matches("# TYPE").count(), COUNTERS.len());
    }
}
