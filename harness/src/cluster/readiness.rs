//! Waiting on conditions, never on sleeps: a replica is ready when it reports its link to the master
//! up; a sentinel when it sees the master, every replica and every other sentinel.

use std::future::Future;
use std::time::{Duration, Instant};

use super::node::Node;
use super::ClusterError;

/// Pause between two checks of a condition.
pub(super) const POLL: Duration = Duration::from_millis(100);

/// Polls `check` until it returns `Ok` or `timeout` passes; the error names `node` and what it last
/// reported.
pub async fn until<F, Fut>(timeout: Duration, node: &str, mut check: F) -> Result<(), ClusterError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        let last = match check().await {
            Ok(()) => return Ok(()),
            Err(report) => report,
        };
        if Instant::now() >= deadline {
            return Err(ClusterError::NotReady {
                node: node.to_owned(),
                waited_ms: timeout.as_millis(),
                report: last,
            });
        }
        tokio::time::sleep(POLL).await;
    }
}

/// `field:value` from `INFO` output.
pub(crate) fn info_field<'a>(info: &'a str, field: &str) -> Option<&'a str> {
    info.lines()
        .find_map(|line| line.trim_end().strip_prefix(field)?.strip_prefix(':'))
}

/// Checks that `replica` has its replication link up.
pub async fn replica_linked(replica: &Node) -> Result<(), String> {
    let mut conn = replica.connect().await?;
    let info: String = redis::cmd("INFO")
        .arg("replication")
        .query_async(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
    match info_field(&info, "master_link_status") {
        Some("up") => Ok(()),
        other => Err(format!("master_link_status is {other:?}")),
    }
}

/// Checks that `sentinel` monitors `master_name` as a healthy master with `replicas` replicas and
/// `others` other sentinels.
pub async fn sentinel_sees_all(
    sentinel: &Node,
    master_name: &str,
    replicas: usize,
    others: usize,
) -> Result<(), String> {
    let mut conn = sentinel.connect().await?;
    let fields: Vec<String> = redis::cmd("SENTINEL")
        .arg("MASTER")
        .arg(master_name)
        .query_async(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
    let get = |key: &str| {
        fields
            .chunks(2)
            .find(|pair| pair[0] == key)
            .and_then(|pair| pair.get(1))
            .map(String::as_str)
    };
    let flags = get("flags").unwrap_or("?");
    let seen_replicas: usize = get("num-slaves").and_then(|v| v.parse().ok()).unwrap_or(0);
    let seen_others: usize = get("num-other-sentinels")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if flags == "master" && seen_replicas >= replicas && seen_others >= others {
        Ok(())
    } else {
        Err(format!(
            "flags={flags}, sees {seen_replicas}/{replicas} replicas and {seen_others}/{others} other sentinels"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_info_fields() {
        let info = "# Replication\r\nrole:slave\r\nmaster_link_status:up\r\n";
        assert_eq!(info_field(info, "master_link_status"), Some("up"));
        assert_eq!(info_field(info, "role"), Some("slave"));
        assert_eq!(info_field(info, "master_host"), None);
    }
}
