//! Deliberately broken store behaviours, for testing a harness: a failover drill that cannot tell
//! these from the correct store proves nothing. Test-only; never set one in a deployed app.

use std::fmt;
use std::str::FromStr;

/// A known bug the store can be made to have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mutant {
    /// Resolves the master once, at the first command, and never again: no re-discovery after an
    /// error, `+switch-master` ignored.
    Pinned,
    /// Re-resolves after an error but does not retry: the first store error of a request is
    /// answered 500, as an Express error handler would.
    NoRetry,
    /// Serves read-only requests (`GET /session`) from a replica, which can serve an older session
    /// than the master holds; appends still load and save on the master.
    StaleRead,
    /// Answers a session save before it is stored, and drops one save in [`LOSSY_ACK_DROP_EVERY`].
    LossyAck,
    /// A request whose command was on the wire when the connection broke reconnects to that
    /// same address, again and again with backoff, for up to [`STALE_RECONNECT_FOR`] before it
    /// asks the sentinels again; a reconnection is not checked with `ROLE`. Other requests find
    /// the master correctly. A master that restarts empty at its old address while such a request
    /// is retrying serves it: redis-py's connection-level retry on a Sentinel-managed connection
    /// behaves this way. Only a request in flight at the wrong moment shows the bug.
    StaleReconnect,
    /// A store error while loading a session is taken for "no session": the load is tried once,
    /// and a failure answers as if the user had no session, as a session layer that catches every
    /// store error does (Django's cache-backed sessions). During a failover users are shown as
    /// logged out while their sessions are still in Redis.
    ErrorAsLogout,
    /// Each app instance keeps every session it loaded or saved in a cache of its own in front of
    /// the store, and never asks the store again for a session it holds. With more than one
    /// instance, an instance serves and saves back its own old copy of a session another instance
    /// changed: the instances disagree, with nothing wrong in the cluster.
    InstanceCache,
    /// Login keeps the session id the user held: the session is filled in under the id its
    /// cookie already named, instead of a new one (`Session::cycle_id`). A live session's id
    /// survives the login, so whoever knew it holds the logged-in session (session fixation).
    FixedId,
    /// Logout is answered before the deletion is sent: the deletion waits in a queue for
    /// [`LOGOUT_UNACKED_DELAY`] and is then sent once, its error ignored, as a write-behind store
    /// or a handler that does not wait for `destroy` does. The cookie held before the logout
    /// opens the session until the deletion lands, and for good when it fails.
    LogoutUnacked,
    /// Once the store has had to retry a call (a failover under way), it saves sessions without
    /// their expiry for [`TTL_DROPPED_FOR`], as a retry path that rebuilds the command and stays
    /// in use until the link looks healthy would: a session saved then lives until it is
    /// deleted, unless a later save sets its expiry again.
    TtlDropped,
}

/// How long after its last retry the `ttl-dropped` store still saves without expiry.
pub const TTL_DROPPED_FOR: std::time::Duration = std::time::Duration::from_secs(5);

/// How long a `logout-unacked` deletion waits in its queue after the logout was answered.
pub const LOGOUT_UNACKED_DELAY: std::time::Duration = std::time::Duration::from_millis(50);

/// How long a `stale-reconnect` request keeps reconnecting to its last address before it asks
/// the sentinels.
pub const STALE_RECONNECT_FOR: std::time::Duration = std::time::Duration::from_secs(10);

/// `lossy-ack` drops every this-many-th save.
pub const LOSSY_ACK_DROP_EVERY: u64 = 10;

impl Mutant {
    /// Every mutant, in the order they are documented.
    pub const ALL: [Mutant; 10] = [
        Mutant::Pinned,
        Mutant::NoRetry,
        Mutant::StaleRead,
        Mutant::LossyAck,
        Mutant::StaleReconnect,
        Mutant::ErrorAsLogout,
        Mutant::InstanceCache,
        Mutant::FixedId,
        Mutant::LogoutUnacked,
        Mutant::TtlDropped,
    ];

    /// Its name in flags and scenario files.
    pub fn name(self) -> &'static str {
        match self {
            Mutant::Pinned => "pinned",
            Mutant::NoRetry => "no-retry",
            Mutant::StaleRead => "stale-read",
            Mutant::LossyAck => "lossy-ack",
            Mutant::StaleReconnect => "stale-reconnect",
            Mutant::ErrorAsLogout => "error-as-logout",
            Mutant::InstanceCache => "instance-cache",
            Mutant::FixedId => "fixed-id",
            Mutant::LogoutUnacked => "logout-unacked",
            Mutant::TtlDropped => "ttl-dropped",
        }
    }
}

impl fmt::Display for Mutant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is no mutant's.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown store mutant '{name}': use one of {}", Mutant::ALL.map(Mutant::name).join(", "))]
pub struct UnknownMutant {
    name: String,
}

impl FromStr for Mutant {
    type Err = UnknownMutant;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Mutant::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| UnknownMutant { name: s.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_ones_list_the_choices() {
        for m in Mutant::ALL {
            assert_eq!(m.name().parse::<Mutant>().ok(), Some(m));
        }
        let err = "pinnned".parse::<Mutant>().expect_err("a typo");
        assert!(err.to_string().contains("no-retry"), "{err}");
        assert!(
            err.to_string()
                .ends_with("fixed-id, logout-unacked, ttl-dropped"),
            "{err}"
        );
    }
}
