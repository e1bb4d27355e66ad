//! Listens to `+switch-master` on every sentinel so the store moves to a new master as soon as one
//! is promoted, instead of waiting for its next error.

use std::sync::Weak;
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::task::JoinHandle;

use super::{Inner, NodeAddr};

/// The listener tasks; aborted when the store is dropped.
#[derive(Debug)]
pub(crate) struct SwitchListeners(Vec<JoinHandle<()>>);

impl Drop for SwitchListeners {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// Pause before reconnecting to a sentinel that went away.
const RECONNECT_PAUSE: Duration = Duration::from_millis(250);

pub(crate) fn spawn(inner: Weak<Inner>, sentinels: &[NodeAddr]) -> SwitchListeners {
    SwitchListeners(
        sentinels
            .iter()
            .map(|sentinel| tokio::spawn(listen(inner.clone(), sentinel.clone())))
            .collect(),
    )
}

/// Reads `<name> <old-ip> <old-port> <new-ip> <new-port>` and returns the new master if the
/// message is about `master_name`.
pub(crate) fn parse_switch(payload: &str, master_name: &str) -> Option<NodeAddr> {
    let parts: Vec<&str> = payload.split_whitespace().collect();
    match parts.as_slice() {
        [name, _, _, host, port] if *name == master_name => {
            Some(NodeAddr::new(*host, port.parse().ok()?))
        }
        _ => None,
    }
}

async fn listen(inner: Weak<Inner>, sentinel: NodeAddr) {
    loop {
        let Some(store) = inner.upgrade() else { return };
        let connect_timeout = store.config.connect_timeout;
        let master_name = store.config.master_name.clone();
        let password = store.config.password.clone();
        drop(store);

        if let Ok(client) = sentinel.client(password.as_ref()) {
            let pubsub = tokio::time::timeout(connect_timeout, client.get_async_pubsub()).await;
            if let Ok(Ok(mut pubsub)) = pubsub {
                if pubsub.subscribe("+switch-master").await.is_ok() {
                    let mut messages = pubsub.on_message();
                    while let Some(msg) = messages.next().await {
                        let Ok(payload) = msg.get_payload::<String>() else {
                            continue;
                        };
                        let Some(master) = parse_switch(&payload, &master_name) else {
                            continue;
                        };
                        let Some(store) = inner.upgrade() else { return };
                        store.on_switch(master, Instant::now());
                    }
                }
            }
        }
        tracing::debug!(%sentinel, "switch listener lost its sentinel; reconnecting");
        tokio::time::sleep(RECONNECT_PAUSE).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_our_master() {
        let msg = "mymaster 10.0.0.2 6379 10.0.0.3 6379";
        assert_eq!(
            parse_switch(msg, "mymaster"),
            Some(NodeAddr::new("10.0.0.3", 6379))
        );
        assert_eq!(parse_switch(msg, "other"), None);
        assert_eq!(parse_switch("mymaster 1 2", "mymaster"), None);
    }
}
