//! What the store tells an observer about master changes, so a harness can time a failover from
//! the app's side.

use std::time::Instant;

use super::NodeAddr;

/// One change in the store's view of the master.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreEventKind {
    /// A `+switch-master` message named a new master.
    SwitchAnnounced {
        /// The promoted master.
        master: NodeAddr,
    },
    /// Discovery found and verified (with `ROLE`) a master.
    MasterResolved {
        /// The verified master.
        master: NodeAddr,
    },
    /// The first command that succeeded on a newly resolved master.
    FirstSuccess {
        /// The master that answered.
        master: NodeAddr,
    },
}

/// A [`StoreEventKind`] with the moment it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreEvent {
    /// When it happened, on the monotonic clock.
    pub at: Instant,
    /// What happened.
    pub kind: StoreEventKind,
}

/// Receives store events; must not block.
pub type StoreEventSink = tokio::sync::mpsc::UnboundedSender<StoreEvent>;
