//! The marks a run leaves on what it starts, so that the run itself, `failover-drill clean` and
//! the tests can tell its things from everything else: container and network labels, the
//! environment variables of the processes it starts, the comment on its host rules, and its work
//! directory's name, and the name an app instance goes by in fault records.
//!
//! Every module that starts or finds such a thing (`cluster`, `app`, `nemesis`, `leftovers`)
//! imports its marks from here; this module imports nothing of theirs, so none of them has to
//! import another for a name.

/// Label carrying the run id on every container and network of a run.
pub const RUN_LABEL: &str = "failover-drill.run";
/// Label carrying a node's name (or the app instance's) on its container.
pub const NODE_LABEL: &str = "failover-drill.node";

/// The comment on every host rule a run adds, followed by the run's id.
pub const RULE_TAG: &str = "failover-drill:";

/// Prefix of every run's work directory under `$TMPDIR`, followed by the run id.
pub const WORK_DIR_PREFIX: &str = "failover-drill-";

/// What the harness tells the processes it starts (the app under test, the process backend's
/// nodes), as environment variables.
pub mod env {
    /// `127.0.0.1:<port>`: the address to listen on.
    pub const LISTEN: &str = "FAILOVER_DRILL_LISTEN";
    /// The port alone.
    pub const PORT: &str = "FAILOVER_DRILL_PORT";
    /// The sentinels, comma-separated `host:port`.
    pub const SENTINELS: &str = "FAILOVER_DRILL_SENTINELS";
    /// The master name the sentinels monitor.
    pub const MASTER_NAME: &str = "FAILOVER_DRILL_MASTER_NAME";
    /// Which instance this is, from 0, when a scenario runs several.
    pub const INSTANCE: &str = "FAILOVER_DRILL_INSTANCE";
    /// The run's id: `failover-drill clean` finds the processes of a killed run by it.
    pub const RUN: &str = "FAILOVER_DRILL_RUN";
    /// How long the app should keep a session nobody uses, in whole seconds: set only when the
    /// scenario's `app.contract.session_ttl` says, so a drill can see sessions expire.
    pub const SESSION_TTL: &str = "FAILOVER_DRILL_SESSION_TTL";
    /// The sentinels' and nodes' password, set only when the topology requires one. When the
    /// harness's own environment sets it, that password is used instead of one made up for the
    /// run.
    pub const REDIS_PASSWORD: &str = "FAILOVER_DRILL_REDIS_PASSWORD";
}

/// The name an app instance goes by in fault records: `app-0`.
pub fn app_instance(instance: u32) -> String {
    format!("app-{instance}")
}
