//! The kinds of fault: each kind's name, its own fields and the words that describe it. A kind is
//! declared here once; how it is applied lives in `nemesis`, one file per kind.
//!
//! It owns data only: it must not apply, schedule or judge anything.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Target;

/// The one list of fault kinds: each kind's variant, the struct of its own fields, and its name in
/// scenario files and histories. `FaultKind` (with `ALL` and `name`), `FaultAction` (with `kind`)
/// and `From<fields> for FaultAction` are made from it. Every other fact about a kind (whether it
/// lasts, its only target, its words, whether a command template can do it, what it needs, how it
/// acts on a deployment the harness did not start) is an exhaustive match on `FaultKind` or
/// `FaultAction`, so a kind added here and missed there does not compile.
macro_rules! fault_kinds {
    ($($(#[doc = $doc:literal])* $variant:ident($fields:ident) = $name:literal;)*) => {
        /// What a fault does, by name: the `kind` of scenario files and of fault records in
        /// histories.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum FaultKind {
            $($(#[doc = $doc])* #[serde(rename = $name)] $variant,)*
        }

        impl FaultKind {
            /// Every kind, in the order of the table.
            pub const ALL: &'static [FaultKind] = &[$(FaultKind::$variant),*];

            /// The name used in scenario files and histories.
            pub fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)*
                }
            }
        }

        /// What a fault does, with the fields of its kind and no others: a scenario's `kind` and
        /// the fields that go with it.
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(tag = "kind")]
        pub enum FaultAction {
            $(
                #[doc = concat!("See [`FaultKind::", stringify!($variant), "`].")]
                #[serde(rename = $name)]
                $variant($fields),
            )*
        }

        impl FaultAction {
            /// The action's kind.
            pub fn kind(&self) -> FaultKind {
                match self {
                    $(Self::$variant(_) => FaultKind::$variant,)*
                }
            }
        }

        // Each kind's own fields make its action: `FaultSpec::new(at, Kill::default())`.
        $(impl From<$fields> for FaultAction {
            fn from(fields: $fields) -> Self {
                Self::$variant(fields)
            }
        })*
    };
}

fault_kinds! {
    /// SIGKILL, then start again at the same address after `duration`.
    Kill(Kill) = "kill";
    /// Graceful stop (SIGTERM: Redis runs `SHUTDOWN`), then start again after `duration`.
    Stop(Stop) = "stop";
    /// Freeze the processes (cgroup freezer), resume after `duration`: a stalled, not dead, node.
    Pause(Pause) = "pause";
    /// Drop every packet between the target and the peers `cut` names, for `duration`.
    Partition(Partition) = "partition";
    /// Answer every TCP packet the peers `cut` names send the target with a reset, for
    /// `duration`: open connections break at once and new ones are refused.
    Reset(Reset) = "reset";
    /// `SENTINEL FAILOVER`: a planned switch with no node down.
    ManualFailover(ManualFailover) = "manual-failover";
    /// Delay every byte between the app (the host) and the target by `latency`, each way, for
    /// `duration`; the target's links to the other nodes stay fast.
    Latency(Latency) = "latency";
    /// The planned switch done right, as charts' pre-stop hooks do it: pause writes on the master
    /// (`CLIENT PAUSE WRITE`), wait until every replica has all it wrote, `SENTINEL FAILOVER`,
    /// demote the old master, then let the held writes go on.
    GracefulFailover(GracefulFailover) = "graceful-failover";
    /// Drop `loss_percent` of the packets between the target and the peers `cut` names, at
    /// random, both ways, for `duration`: a lossy link, not a cut one.
    PacketLoss(PacketLoss) = "packet-loss";
    /// Restart every sentinel, one after another (SIGTERM, start again at the same address, wait
    /// until it knows the master), as an upgrade of the sentinels does. Watchers of the sentinels
    /// (the app, the harness) must subscribe again to each restarted one.
    RestartSentinels(RestartSentinels) = "restart-sentinels";
    /// SIGKILL one instance of the app under test (the in-process app drops its server, store and
    /// connections), and start it again at its address after `duration`: sessions must outlive
    /// an app crash.
    KillApp(KillApp) = "kill-app";
}

impl FaultKind {
    /// Whether the fault lasts for a `duration` and then heals; a kind that does not ends by
    /// itself.
    pub fn lasts(self) -> bool {
        match self {
            Self::Kill
            | Self::Stop
            | Self::Pause
            | Self::Partition
            | Self::Reset
            | Self::Latency
            | Self::PacketLoss
            | Self::KillApp => true,
            Self::ManualFailover | Self::GracefulFailover | Self::RestartSentinels => false,
        }
    }

    /// The one target the kind can have, if it has one: a failover moves whichever node is the
    /// master; restarting the sentinels restarts them all.
    pub fn only_target(self) -> Option<Target> {
        match self {
            Self::ManualFailover | Self::GracefulFailover => Some(Target::Master),
            Self::RestartSentinels => Some(Target::Sentinels),
            Self::KillApp => Some(Target::App),
            Self::Kill
            | Self::Stop
            | Self::Pause
            | Self::Partition
            | Self::Reset
            | Self::Latency
            | Self::PacketLoss => None,
        }
    }

    /// Whether an operator's command template (`topology.external.faults.<kind>`) can do it on
    /// a deployment the harness did not start: anything done to a node can; `kill-app` acts on
    /// the app the harness itself runs.
    pub fn takes_command_template(self) -> bool {
        match self {
            Self::Kill
            | Self::Stop
            | Self::Pause
            | Self::Partition
            | Self::Reset
            | Self::ManualFailover
            | Self::Latency
            | Self::GracefulFailover
            | Self::PacketLoss
            | Self::RestartSentinels => true,
            Self::KillApp => false,
        }
    }

    /// What the fault did to its node, in words: `killed`, `frozen`, `cut off from the app`.
    pub fn verb(self, cut: Option<Cut>) -> &'static str {
        match (self, cut) {
            (Self::Kill, _) => "killed",
            (Self::Stop, _) => "stopped",
            (Self::Pause, _) => "frozen",
            (Self::Partition, Some(Cut::App)) => "cut off from the app",
            (Self::Partition, Some(Cut::Cluster)) => "cut off from the sentinels and replicas",
            (Self::Partition, _) => "cut off from everyone",
            (Self::Reset, Some(Cut::Cluster)) => "resetting the cluster's connections",
            (Self::Reset, _) => "resetting the app's connections",
            (Self::Latency, _) => "slowed down",
            (Self::ManualFailover, _) => "being failed over",
            (Self::GracefulFailover, _) => "being handed over",
            (Self::PacketLoss, Some(Cut::App)) => "losing packets to and from the app",
            (Self::PacketLoss, Some(Cut::Cluster)) => "losing packets to and from the cluster",
            (Self::PacketLoss, _) => "losing packets",
            (Self::RestartSentinels, _) => "being restarted",
            (Self::KillApp, _) => "crashed",
        }
    }
}

impl std::fmt::Display for FaultKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Whom a partitioned node can no longer reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cut {
    /// Every other node (sentinels and data nodes) while the app still reaches it: for the master,
    /// a split brain.
    Cluster,
    /// The app only: the cluster sees a healthy master the app cannot reach.
    App,
    /// Everyone.
    All,
}

impl Cut {
    /// Whether the node can no longer reach the sentinels and the other data nodes.
    pub fn isolates_from_cluster(self) -> bool {
        matches!(self, Self::Cluster | Self::All)
    }
}

impl FaultAction {
    /// Whom the target is cut off from, for the kinds that cut.
    pub fn cut(&self) -> Option<Cut> {
        match self {
            Self::Partition(Partition { cut })
            | Self::Reset(Reset { cut })
            | Self::PacketLoss(PacketLoss { cut, .. }) => Some(*cut),
            _ => None,
        }
    }

    /// Checks the values of the kind's own fields against the scenario's `app_instances`;
    /// returns the field and what is wrong.
    pub(crate) fn check(&self, app_instances: u32) -> Result<(), (&'static str, String)> {
        match self {
            Self::Kill(Kill { in_flight: Some(0) }) => Err((
                "in_flight",
                "must be at least 1 (leave it out to apply the fault at once)".to_owned(),
            )),
            Self::Latency(Latency { latency })
                if *latency < Duration::from_millis(1) || *latency > Duration::from_secs(10) =>
            {
                Err(("latency", "must be between 1ms and 10s".into()))
            }
            Self::PacketLoss(PacketLoss { loss_percent, .. })
                if *loss_percent == 0 || *loss_percent > 100 =>
            {
                Err((
                    "loss_percent",
                    format!("{loss_percent} is not between 1 and 100"),
                ))
            }
            Self::KillApp(KillApp { instance }) if *instance >= app_instances => Err((
                "instance",
                format!(
                    "the scenario starts {app_instances} app instances (app.instances), numbered \
                     from 0"
                ),
            )),
            _ => Ok(()),
        }
    }
}

/// A kill's own fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Kill {
    /// Land the fault on requests in flight. The target is frozen first, the fault waits until
    /// the workload has at least this many requests in flight (at most
    /// [`IN_FLIGHT_WAIT`](super::IN_FLIGHT_WAIT)), and then kills the frozen node: every command
    /// on its connections is lost mid-flight, as when a loaded master crashes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_flight: Option<u32>,
}

/// A stop has no fields of its own.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stop {}

/// A pause has no fields of its own.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pause {}

/// A partition's own fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Partition {
    /// Whom the target is cut off from.
    pub cut: Cut,
}

/// A reset's own fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reset {
    /// Whose packets to the target are answered with a reset.
    pub cut: Cut,
}

/// A manual failover has no fields of its own.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManualFailover {}

/// Added latency's own fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Latency {
    /// The delay added each way, 1 ms to 10 s.
    #[serde(with = "humantime_serde")]
    pub latency: Duration,
}

/// A graceful failover has no fields of its own.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GracefulFailover {}

/// Packet loss's own fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PacketLoss {
    /// Whose packets to and from the target are lost.
    pub cut: Cut,
    /// The share of those packets dropped, each at random: 1 to 100 (100 is a partition).
    pub loss_percent: u32,
}

/// Restarting the sentinels has no fields of its own.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestartSentinels {}

/// Killing the app's own fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KillApp {
    /// Which instance of the app, from 0; default 0.
    #[serde(default)]
    pub instance: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kinds' names in files and in records are the table's: serde reads and writes them.
    #[test]
    fn every_kind_reads_and_writes_by_its_name() {
        for kind in FaultKind::ALL {
            let written = toml::Value::try_from(kind).expect("a kind serialises");
            assert_eq!(written.as_str(), Some(kind.name()));
            let read: FaultKind = toml::Value::String(kind.name().to_owned())
                .try_into()
                .expect("read back");
            assert_eq!(read, *kind);
        }
        let names: std::collections::BTreeSet<&str> =
            FaultKind::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(
            names.len(),
            FaultKind::ALL.len(),
            "no two kinds share a name"
        );
    }

    /// docs/scenarios.md lists every kind in `faults[].kind` and gives each a row of what it
    /// applies and how it heals.
    #[test]
    fn every_kind_has_its_rows_in_the_scenario_reference() {
        let doc = include_str!("../../../../docs/scenarios.md");
        let kinds_field = doc
            .lines()
            .find(|l| l.starts_with("| `faults[].kind` |"))
            .expect("the faults[].kind row");
        for kind in FaultKind::ALL {
            let name = kind.name();
            assert!(
                kinds_field.contains(&format!("`{name}`")),
                "docs/scenarios.md's faults[].kind row does not list {name}"
            );
            assert!(
                doc.lines().any(|l| l.starts_with(&format!("| `{name}` |"))),
                "docs/scenarios.md has no row for the {name} kind in its table of kinds"
            );
        }
    }
}
