//! Sentinel events: subscribes to every channel of every sentinel and puts each message (`+sdown`,
//! `+odown`, `+switch-master`, ...) into the history, skipping the sentinels' hello chatter.
//!
//! It owns the subscriptions. It must not act on what it hears; it only tells an observer (the
//! node-state sampler) that something was heard.

use futures::StreamExt;
use tokio::task::JoinHandle;

use crate::cluster::node::Node;
use crate::history::{Record, Recorder, SentinelEvent};

/// Channel the sentinels gossip on every two seconds; noise for a history.
const HELLO_CHANNEL: &str = "__sentinel__:hello";

/// The running subscriptions; stopped on drop.
#[derive(Debug)]
pub struct SentinelMonitor {
    tasks: Vec<JoinHandle<()>>,
}

/// What can stop the monitor from starting.
#[derive(Debug, thiserror::Error)]
#[error("cannot subscribe to sentinel {sentinel}'s events: {detail}")]
pub struct MonitorError {
    sentinel: String,
    detail: String,
}

impl SentinelMonitor {
    /// Subscribes to every sentinel; returns once every subscription is active, so no event of the
    /// run can be missed. `heard` is called after each event is recorded.
    pub async fn start<'a>(
        sentinels: impl IntoIterator<Item = &'a Node>,
        recorder: &Recorder,
        heard: impl Fn() + Clone + Send + 'static,
    ) -> Result<Self, MonitorError> {
        let mut tasks = Vec::new();
        for sentinel in sentinels {
            let fail = |detail: String| MonitorError {
                sentinel: sentinel.name.clone(),
                detail,
            };
            let client = sentinel.client().map_err(fail)?;
            let mut pubsub = client
                .get_async_pubsub()
                .await
                .map_err(|e| fail(e.to_string()))?;
            pubsub
                .psubscribe("*")
                .await
                .map_err(|e| fail(e.to_string()))?;
            let recorder = recorder.clone();
            let name = sentinel.name.clone();
            let heard = heard.clone();
            tasks.push(tokio::spawn(async move {
                let mut messages = pubsub.into_on_message();
                while let Some(msg) = messages.next().await {
                    let channel = msg.get_channel_name().to_owned();
                    if channel == HELLO_CHANNEL {
                        continue;
                    }
                    recorder.record(Record::Sentinel(SentinelEvent {
                        at: recorder.now(),
                        sentinel: name.clone(),
                        channel,
                        message: msg.get_payload::<String>().unwrap_or_default(),
                    }));
                    heard();
                }
            }));
        }
        Ok(Self { tasks })
    }
}

impl Drop for SentinelMonitor {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}
