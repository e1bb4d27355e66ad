//! The kinds of fault: each kind's name, its own fields and the words that describe it. A kind is
//! declared here once; how it is applied lives in `nemesis`, one file per kind.
//!
//! It owns data only: it must not apply, schedule or judge anything.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Target;

/// What a fault does, by name: the `kind` of scenario files and of fault records in histories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// SIGKILL, then start again at the same address after `duration`.
    Kill,
    /// Graceful stop (SIGTERM: Redis runs `SHUTDOWN`), then start again after `duration`.
    Stop,
    /// Freeze the processes (cgroup freezer), resume after `duration`: a stalled, not dead, node.
    Pause,
    /// Drop every packet between the target and the peers `cut` names, for `duration`.
    Partition,
    /// Answer every TCP packet the peers `cut` names send the target with a reset, for
    /// `duration`: open connections break at once and new ones are refused.
    Reset,
    /// `SENTINEL FAILOVER`: a planned switch with no node down.
    ManualFailover,
    /// Delay every byte between the app (the host) and the target by `latency`, each way, for
    /// `duration`; the target's links to the other nodes stay fast.
    Latency,
    /// The planned switch done right, as charts' pre-stop hooks do it: pause writes on the master
    /// (`CLIENT PAUSE WRITE`), wait until every replica has all it wrote, `SENTINEL FAILOVER`,
    /// demote the old master, then let the held writes go on.
    GracefulFailover,
    /// Drop `loss_percent` of the packets between the target and the peers `cut` names, at
    /// random, both ways, for `duration`: a lossy link, not a cut one.
    PacketLoss,
    /// Restart every sentinel, one after another (SIGTERM, start again at the same address, wait
    /// until it knows the master), as an upgrade of the sentinels does. Watchers of the sentinels
    /// (the app, the harness) must subscribe again to each restarted one.
    RestartSentinels,
    /// SIGKILL one instance of the app under test (the in-process app drops its server, store and
    /// connections), and start it again at its address after `duration`: sessions must outlive
    /// an app crash.
    KillApp,
}

impl FaultKind {
    /// Whether the fault lasts for a `duration` and then heals; a kind that does not ends by
    /// itself.
    pub fn lasts(self) -> bool {
        !matches!(
            self,
            Self::ManualFailover | Self::GracefulFailover | Self::RestartSentinels
        )
    }

    /// The one target the kind can have, if it has one: a failover moves whichever node is the
    /// master; restarting the sentinels restarts them all.
    pub fn only_target(self) -> Option<Target> {
        match self {
            Self::ManualFailover | Self::GracefulFailover => Some(Target::Master),
            Self::RestartSentinels => Some(Target::Sentinels),
            Self::KillApp => Some(Target::App),
            _ => None,
        }
    }

    /// The name used in scenario files and histories.
    pub fn name(self) -> &'static str {
        match self {
            Self::Kill => "kill",
            Self::Stop => "stop",
            Self::Pause => "pause",
            Self::Partition => "partition",
            Self::Reset => "reset",
            Self::ManualFailover => "manual-failover",
            Self::Latency => "latency",
            Self::GracefulFailover => "graceful-failover",
            Self::PacketLoss => "packet-loss",
            Self::RestartSentinels => "restart-sentinels",
            Self::KillApp => "kill-app",
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

/// What a fault does, with the fields of its kind and no others: a scenario's `kind` and the
/// fields that go with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum FaultAction {
    /// See [`FaultKind::Kill`].
    Kill(Kill),
    /// See [`FaultKind::Stop`].
    Stop(Stop),
    /// See [`FaultKind::Pause`].
    Pause(Pause),
    /// See [`FaultKind::Partition`].
    Partition(Partition),
    /// See [`FaultKind::Reset`].
    Reset(Reset),
    /// See [`FaultKind::ManualFailover`].
    ManualFailover(ManualFailover),
    /// See [`FaultKind::Latency`].
    Latency(Latency),
    /// See [`FaultKind::GracefulFailover`].
    GracefulFailover(GracefulFailover),
    /// See [`FaultKind::PacketLoss`].
    PacketLoss(PacketLoss),
    /// See [`FaultKind::RestartSentinels`].
    RestartSentinels(RestartSentinels),
    /// See [`FaultKind::KillApp`].
    KillApp(KillApp),
}

/// Each kind's own fields make its action: `FaultSpec::new(at, Kill::default())`.
macro_rules! action_from_fields {
    ($($variant:ident),* $(,)?) => {
        $(impl From<$variant> for FaultAction {
            fn from(fields: $variant) -> Self {
                Self::$variant(fields)
            }
        })*
    };
}

action_from_fields!(
    Kill,
    Stop,
    Pause,
    Partition,
    Reset,
    ManualFailover,
    Latency,
    GracefulFailover,
    PacketLoss,
    RestartSentinels,
    KillApp,
);

impl FaultAction {
    /// The action's kind.
    pub fn kind(&self) -> FaultKind {
        match self {
            Self::Kill(_) => FaultKind::Kill,
            Self::Stop(_) => FaultKind::Stop,
            Self::Pause(_) => FaultKind::Pause,
            Self::Partition(_) => FaultKind::Partition,
            Self::Reset(_) => FaultKind::Reset,
            Self::ManualFailover(_) => FaultKind::ManualFailover,
            Self::Latency(_) => FaultKind::Latency,
            Self::GracefulFailover(_) => FaultKind::GracefulFailover,
            Self::PacketLoss(_) => FaultKind::PacketLoss,
            Self::RestartSentinels(_) => FaultKind::RestartSentinels,
            Self::KillApp(_) => FaultKind::KillApp,
        }
    }

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
