//! Sentinel events: what a sentinel published on one of its channels, kept as heard and parsed
//! once, when heard, into a typed [`Notice`]. Everything that reads sentinel events (the cause
//! rules' view of the cluster, the failover breakdown, the counts) reads the notice, never the
//! text again.
//!
//! It owns the record and the parse of Sentinel's message formats. It must not interpret what an
//! event means for a run.

use serde::{Deserialize, Serialize};

use super::Micros;

/// A sentinel's pub/sub message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentinelEvent {
    /// When the harness received it.
    pub at: Micros,
    /// The sentinel's node name.
    pub sentinel: String,
    /// The channel: the event name, like `+switch-master`, as heard.
    pub channel: String,
    /// The payload, as heard.
    pub message: String,
    /// The channel and payload parsed, when the event was heard.
    pub notice: Notice,
}

impl SentinelEvent {
    /// The event `sentinel` published on `channel` with `message`, heard at `at`.
    pub fn heard(at: Micros, sentinel: &str, channel: &str, message: &str) -> Self {
        Self {
            at,
            sentinel: sentinel.to_owned(),
            channel: channel.to_owned(),
            message: message.to_owned(),
            notice: Notice::parse(channel, message),
        }
    }
}

/// What a sentinel event says, typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "notice", rename_all = "kebab-case")]
pub enum Notice {
    /// `+switch-master <name> <old-ip> <old-port> <new-ip> <new-port>`: the sentinels' master
    /// moved.
    SwitchMaster {
        /// The master the sentinels named before, `host:port`.
        old: String,
        /// The one they name now.
        new: String,
    },
    /// An event about one instance: `<type> <name> <ip> <port>`, followed by
    /// `@ <master-name> <master-ip> <master-port>` when the instance is not a master.
    Instance {
        /// Which event.
        event: InstanceEvent,
        /// The instance it is about.
        instance: Instance,
    },
    /// Anything else (`+new-epoch`, `+vote-for-leader`, `+tilt`, a message not in Sentinel's
    /// formats): kept as heard, never read.
    Other,
}

/// The instance an event is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instance {
    /// What Sentinel calls it.
    pub role: InstanceRole,
    /// Its `host:port`.
    pub addr: String,
    /// For a replica or a sentinel, the master it belongs to, `host:port`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub master: Option<String>,
}

/// The instance types in Sentinel's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InstanceRole {
    /// `master`.
    Master,
    /// `slave`.
    Replica,
    /// `sentinel`.
    Sentinel,
}

/// The instance events the harness reads, by channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InstanceEvent {
    /// `+sdown`: this sentinel sees the instance down.
    Sdown,
    /// `-sdown`.
    SdownCleared,
    /// `+odown`: a quorum sees the master down.
    Odown,
    /// `-odown`.
    OdownCleared,
    /// `+try-failover`.
    TryFailover,
    /// `+elected-leader`: this sentinel runs the failover.
    ElectedLeader,
    /// `+selected-slave`: the replica chosen for promotion.
    SelectedReplica,
    /// `+failover-state-send-slaveof-noone`: the chosen replica is told to become master, which
    /// closes its clients.
    PromotionSent,
    /// `+promoted-slave`: the chosen replica reported itself master.
    PromotedReplica,
    /// `+slave-reconf-sent`: a replica is told to follow the new master, which closes its
    /// clients.
    ReplicaReconfSent,
    /// `+slave-reconf-inprog`.
    ReplicaReconfInProgress,
    /// `+slave-reconf-done`.
    ReplicaReconfDone,
    /// `+failover-end`, or `+failover-end-for-timeout`.
    FailoverEnd,
    /// `+convert-to-slave`: a returning old master is told to follow the new one, which closes
    /// its clients.
    ConvertToReplica,
    /// `+fix-slave-config`: a replica following the wrong master is told the right one, which
    /// closes its clients.
    FixReplicaConfig,
    /// `+reboot`: the instance restarted.
    Reboot,
    /// Another instance event (`+slave`, `+sentinel`, `-dup-sentinel`, ...).
    Other,
}

impl InstanceEvent {
    fn of_channel(channel: &str) -> Self {
        match channel {
            "+sdown" => Self::Sdown,
            "-sdown" => Self::SdownCleared,
            "+odown" => Self::Odown,
            "-odown" => Self::OdownCleared,
            "+try-failover" => Self::TryFailover,
            "+elected-leader" => Self::ElectedLeader,
            "+selected-slave" => Self::SelectedReplica,
            "+failover-state-send-slaveof-noone" => Self::PromotionSent,
            "+promoted-slave" => Self::PromotedReplica,
            "+slave-reconf-sent" => Self::ReplicaReconfSent,
            "+slave-reconf-inprog" => Self::ReplicaReconfInProgress,
            "+slave-reconf-done" => Self::ReplicaReconfDone,
            "+failover-end" | "+failover-end-for-timeout" => Self::FailoverEnd,
            "+convert-to-slave" => Self::ConvertToReplica,
            "+fix-slave-config" => Self::FixReplicaConfig,
            "+reboot" => Self::Reboot,
            _ => Self::Other,
        }
    }

    /// Whether Sentinel, at this event, sends the instance a `SLAVEOF` (or `REPLICAOF NO ONE`)
    /// together with `CLIENT KILL TYPE normal`: the instance's normal clients, the app's among
    /// them, lose their connections then.
    pub fn closes_clients(self) -> bool {
        matches!(
            self,
            Self::PromotionSent
                | Self::ReplicaReconfSent
                | Self::ConvertToReplica
                | Self::FixReplicaConfig
        )
    }
}

/// `ip port` as `ip:port`, when both are there and the port is a number.
fn addr(ip: Option<&&str>, port: Option<&&str>) -> Option<String> {
    let (ip, port) = (ip?, port?);
    port.parse::<u16>().ok()?;
    Some(format!("{ip}:{port}"))
}

fn instance_role(word: &str) -> Option<InstanceRole> {
    match word {
        "master" => Some(InstanceRole::Master),
        "slave" => Some(InstanceRole::Replica),
        "sentinel" => Some(InstanceRole::Sentinel),
        _ => None,
    }
}

impl Notice {
    /// `message` on `channel` as Sentinel formats it; [`Notice::Other`] when it is not in a
    /// format the harness reads.
    pub fn parse(channel: &str, message: &str) -> Self {
        let words: Vec<&str> = message.split_whitespace().collect();
        if channel == "+switch-master" {
            return match (
                addr(words.get(1), words.get(2)),
                addr(words.get(3), words.get(4)),
            ) {
                (Some(old), Some(new)) if words.len() == 5 => Self::SwitchMaster { old, new },
                _ => Self::Other,
            };
        }
        let Some(role) = words.first().and_then(|w| instance_role(w)) else {
            return Self::Other;
        };
        let Some(instance_addr) = addr(words.get(2), words.get(3)) else {
            return Self::Other;
        };
        let master = match words.get(4) {
            Some(&"@") => addr(words.get(6), words.get(7)),
            _ => None,
        };
        Self::Instance {
            event: InstanceEvent::of_channel(channel),
            instance: Instance {
                role,
                addr: instance_addr,
                master,
            },
        }
    }

    /// The master whose failover this event belongs to: the old master of a switch, the master
    /// a replica's event names, or the instance itself when it is a master.
    pub fn failed_master(&self) -> Option<&str> {
        match self {
            Self::SwitchMaster { old, .. } => Some(old),
            Self::Instance { instance, .. } => match instance.role {
                InstanceRole::Master => Some(&instance.addr),
                _ => instance.master.as_deref(),
            },
            Self::Other => None,
        }
    }

    /// The instance event and the address of the instance it is about.
    pub fn about(&self) -> Option<(InstanceEvent, &str)> {
        match self {
            Self::Instance { event, instance } => Some((*event, &instance.addr)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sentinels_formats_and_keeps_the_rest_as_other() {
        assert_eq!(
            Notice::parse("+switch-master", "mymaster 10.0.0.2 6379 10.0.0.4 6379"),
            Notice::SwitchMaster {
                old: "10.0.0.2:6379".into(),
                new: "10.0.0.4:6379".into()
            }
        );
        let reconf = Notice::parse(
            "+slave-reconf-sent",
            "slave 10.0.0.3:6379 10.0.0.3 6379 @ mymaster 10.0.0.2 6379",
        );
        assert_eq!(
            reconf,
            Notice::Instance {
                event: InstanceEvent::ReplicaReconfSent,
                instance: Instance {
                    role: InstanceRole::Replica,
                    addr: "10.0.0.3:6379".into(),
                    master: Some("10.0.0.2:6379".into()),
                }
            }
        );
        assert_eq!(reconf.failed_master(), Some("10.0.0.2:6379"));
        assert!(reconf.about().is_some_and(|(e, _)| e.closes_clients()));
        let sdown = Notice::parse("+sdown", "master mymaster 10.0.0.2 6379");
        assert_eq!(sdown.failed_master(), Some("10.0.0.2:6379"));
        assert_eq!(sdown.about(), Some((InstanceEvent::Sdown, "10.0.0.2:6379")));
        for (channel, message) in [
            ("+new-epoch", "7"),
            ("+switch-master", "mymaster 10.0.0.2 6379"),
            ("+switch-master", "mymaster 10.0.0.2 port 10.0.0.4 6379"),
            ("+sdown", "master mymaster 10.0.0.2"),
            ("+sdown", "\u{1b}[2J evil 1.2.3.4 6379"),
        ] {
            assert_eq!(Notice::parse(channel, message), Notice::Other, "{message}");
        }
    }
}
