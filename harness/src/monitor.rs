//! Sentinel events: subscribes to every channel of every sentinel and puts each message (`+sdown`,
//! `+odown`, `+switch-master`, ...) into the history, parsed once as it is heard
//! ([`SentinelEvent::heard`]), skipping the sentinels' hello chatter. When a
//! sentinel's connection ends (it was restarted, stopped or killed), it subscribes again as soon
//! as that sentinel answers, so the events of a restarted sentinel are not lost.
//!
//! It owns the subscriptions. It must not act on what it hears; it only tells an observer (the
//! node-state sampler) that something was heard.

use std::time::Duration;

use futures::StreamExt;
use redis::aio::PubSub;
use tokio::task::JoinHandle;

use crate::cluster::node::Node;
use crate::history::{Record, Recorder, SentinelEvent};

/// Channel the sentinels gossip on every two seconds; noise for a history.
const HELLO_CHANNEL: &str = "__sentinel__:hello";
/// The first pause between attempts to subscribe again; it doubles up to [`RESUBSCRIBE_MAX`].
const RESUBSCRIBE_FIRST: Duration = Duration::from_millis(50);
/// The longest pause between attempts to subscribe again: a restarted sentinel is heard within it.
const RESUBSCRIBE_MAX: Duration = Duration::from_millis(500);

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

async fn subscribe(client: &redis::Client) -> Result<PubSub, String> {
    let mut pubsub = client.get_async_pubsub().await.map_err(|e| e.to_string())?;
    pubsub.psubscribe("*").await.map_err(|e| e.to_string())?;
    Ok(pubsub)
}

/// Subscribes again until the sentinel answers; runs until the monitor is dropped.
async fn resubscribe(client: &redis::Client) -> PubSub {
    let mut pause = RESUBSCRIBE_FIRST;
    loop {
        if let Ok(pubsub) = subscribe(client).await {
            return pubsub;
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(RESUBSCRIBE_MAX);
    }
}

impl SentinelMonitor {
    /// Subscribes to every sentinel; returns once every subscription is active, so no event of the
    /// run can be missed. `heard` is called with each event after it is recorded.
    pub async fn start<'a>(
        sentinels: impl IntoIterator<Item = &'a Node>,
        recorder: &Recorder,
        heard: impl Fn(&SentinelEvent) + Clone + Send + 'static,
    ) -> Result<Self, MonitorError> {
        let mut tasks = Vec::new();
        for sentinel in sentinels {
            let fail = |detail: String| MonitorError {
                sentinel: sentinel.name.clone(),
                detail,
            };
            let client = sentinel.client().map_err(fail)?;
            let first = subscribe(&client).await.map_err(fail)?;
            let recorder = recorder.clone();
            let name = sentinel.name.clone();
            let heard = heard.clone();
            tasks.push(tokio::spawn(async move {
                let mut pubsub = first;
                loop {
                    let mut messages = pubsub.into_on_message();
                    while let Some(msg) = messages.next().await {
                        let channel = msg.get_channel_name().to_owned();
                        if channel == HELLO_CHANNEL {
                            continue;
                        }
                        let event = SentinelEvent::heard(
                            recorder.now(),
                            &name,
                            &channel,
                            &msg.get_payload::<String>().unwrap_or_default(),
                        );
                        recorder.record(Record::Sentinel(event.clone()));
                        heard(&event);
                    }
                    drop(messages);
                    pubsub = resubscribe(&client).await;
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
