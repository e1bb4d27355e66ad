//! An app under test started from a command line: any language, any framework. The harness runs
//! it with `sh -c` in a process group of its own, tells it where to listen and where the sentinels
//! are through environment variables, sends its output to a file in the run directory, and stops
//! the whole group at the end, or kills it if the run is dropped (panic, Ctrl-C).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use tokio::process::{Child, Command};

use crate::child::{signal_group, spawn_owned, tail, Signal};

use super::AppError;

/// How long a stopped app has to exit after SIGTERM before its group is killed.
const STOP_GRACE: Duration = Duration::from_secs(5);

use crate::marks::env;

/// Where to start one instance of the app, and with what.
pub(crate) struct Launch<'a> {
    pub(crate) command: &'a str,
    pub(crate) extra_env: &'a BTreeMap<String, String>,
    /// `app.contract.session_ttl`, told to the app when set.
    pub(crate) session_ttl: Option<std::time::Duration>,
    pub(crate) port: u16,
    pub(crate) store: &'a super::StoreAccess,
    pub(crate) instance: u32,
    pub(crate) run_id: &'a str,
    pub(crate) log: PathBuf,
}

/// A running app process group.
pub(crate) struct ExternalApp {
    child: Child,
    /// The process group, the shell's pid.
    group: u32,
    log: PathBuf,
    stopped: bool,
}

impl ExternalApp {
    /// Starts the command; it is not yet known to be healthy.
    pub(crate) fn spawn(launch: Launch<'_>) -> Result<Self, AppError> {
        let log = std::fs::File::create(&launch.log).map_err(|source| AppError::Log {
            path: launch.log.clone(),
            source,
        })?;
        let store = launch.store;
        let sentinels: Vec<String> = store.sentinels.iter().map(ToString::to_string).collect();
        let mut command = Command::new("sh");
        // Never on the command line, which `ps` shows to every user.
        match &store.password {
            Some(password) => command.env(env::REDIS_PASSWORD, password.expose()),
            None => command.env_remove(env::REDIS_PASSWORD),
        };
        command
            .arg("-c")
            .arg(launch.command)
            .envs(launch.extra_env)
            .env(env::LISTEN, format!("127.0.0.1:{}", launch.port))
            .env(env::PORT, launch.port.to_string())
            .env(env::SENTINELS, sentinels.join(","))
            .env(env::MASTER_NAME, &store.master_name)
            .env(env::INSTANCE, launch.instance.to_string())
            .env(env::RUN, launch.run_id);
        match launch.session_ttl {
            Some(ttl) => command.env(env::SESSION_TTL, ttl.as_secs().to_string()),
            None => command.env_remove(env::SESSION_TTL),
        };
        let shown = crate::secret::Redactor::of(store.password.as_ref())
            .text(launch.command)
            .into_owned();
        let child = spawn_owned(&mut command, log).map_err(|source| AppError::Spawn {
            command: shown.clone(),
            source,
        })?;
        let group = child.id().ok_or_else(|| AppError::Spawn {
            command: shown,
            source: std::io::Error::other("the process exited at once"),
        })?;
        Ok(Self {
            child,
            group,
            log: launch.log,
            stopped: false,
        })
    }

    /// `Some(why)` if the process has exited, with the end of its output.
    pub(crate) fn exited(&mut self) -> Option<String> {
        let status = self.child.try_wait().ok().flatten()?;
        Some(format!(
            "the app command exited ({status}) before it became healthy; the end of its output \
             ({}):\n{}",
            self.log.display(),
            tail(&self.log, 10)
        ))
    }

    /// SIGKILL to the group, as a crash; returns once the command's shell is gone.
    pub(crate) async fn kill(&mut self) {
        signal_group(self.group, Signal::KILL);
        let _ = self.child.wait().await;
        self.stopped = true;
    }

    /// SIGTERM to the group, then SIGKILL if it has not exited within the grace period.
    pub(crate) async fn stop(&mut self) {
        signal_group(self.group, Signal::TERM);
        if tokio::time::timeout(STOP_GRACE, self.child.wait())
            .await
            .is_err()
        {
            signal_group(self.group, Signal::KILL);
            let _ = self.child.wait().await;
        }
        // Children the app left behind in its group go with it.
        signal_group(self.group, Signal::KILL);
        self.stopped = true;
    }
}

impl Drop for ExternalApp {
    fn drop(&mut self) {
        if !self.stopped {
            signal_group(self.group, Signal::KILL);
        }
    }
}
