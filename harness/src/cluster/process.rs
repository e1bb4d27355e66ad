//! One node as a local `redis-server` process on a loopback port: the process backend, for
//! machines without a Docker engine. The process runs in a directory of its own (its config file,
//! its data, its output in `node.log`), in a process group of its own, and carries
//! `FAILOVER_DRILL_RUN=<run>` in its environment so `failover-drill clean` finds it after a
//! killed run. Dropping it kills it.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::process::{Child, Command};

use crate::child::{signal_process, spawn_owned, tail, Signal};
use tokio::sync::Mutex;

use super::ClusterError;

/// Name of a node's output file in its directory.
pub const LOG_FILE: &str = "node.log";

/// How long a stopped node has to exit after SIGTERM before it is killed, as `docker stop -t 10`.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// A node's process, which can be killed, stopped, frozen and started again with the same
/// command line.
pub(crate) struct NodeProcess {
    name: String,
    binary: PathBuf,
    args: Vec<String>,
    dir: PathBuf,
    run_id: String,
    child: Mutex<Option<Child>>,
}

impl NodeProcess {
    /// Starts `binary args...` in `dir`.
    pub(crate) fn spawn(
        name: &str,
        binary: &Path,
        args: Vec<String>,
        dir: &Path,
        run_id: &str,
    ) -> Result<Self, ClusterError> {
        let mut process = Self {
            name: name.to_owned(),
            binary: binary.to_owned(),
            args,
            dir: dir.to_owned(),
            run_id: run_id.to_owned(),
            child: Mutex::new(None),
        };
        let child = process.launch()?;
        *process.child.get_mut() = Some(child);
        Ok(process)
    }

    fn launch(&self) -> Result<Child, ClusterError> {
        let fail = |e: std::io::Error| ClusterError::NodeStart {
            node: self.name.clone(),
            detail: format!("cannot start {}: {e}", self.binary.display()),
        };
        let log_path = self.dir.join(LOG_FILE);
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(fail)?;
        let mut command = Command::new(&self.binary);
        // A node needs nothing of the harness's environment, its password least of all (that is
        // in the node's config file): only the mark `clean` finds it by.
        command
            .args(&self.args)
            .current_dir(&self.dir)
            .env_clear()
            .env(crate::marks::env::RUN, &self.run_id);
        spawn_owned(&mut command, log).map_err(fail)
    }

    /// The running process's pid.
    pub(crate) async fn pid(&self) -> Option<u32> {
        self.child.lock().await.as_ref().and_then(Child::id)
    }

    /// Why the process is not running, if it has exited, with the end of its output.
    pub(crate) async fn exited(&self) -> Option<String> {
        let mut child = self.child.lock().await;
        let status = child.as_mut()?.try_wait().ok().flatten()?;
        Some(format!(
            "{} exited ({status}); the end of its output:\n{}",
            self.binary.display(),
            tail(&self.dir.join(LOG_FILE), 8)
        ))
    }

    /// SIGKILL, and waits until it is gone.
    pub(crate) async fn kill(&self) {
        if let Some(mut child) = self.child.lock().await.take() {
            let _ = child.kill().await;
        }
    }

    /// SIGTERM, on which Redis runs `SHUTDOWN`; SIGKILL if it has not exited within 10 s.
    pub(crate) async fn stop(&self) {
        if let Some(mut child) = self.child.lock().await.take() {
            if let Some(pid) = child.id() {
                signal_process(pid, Signal::TERM);
                if tokio::time::timeout(STOP_GRACE, child.wait()).await.is_ok() {
                    return;
                }
            }
            let _ = child.kill().await;
        }
    }

    /// Freezes (`STOP`) or resumes (`CONT`) the process.
    pub(crate) async fn freeze(&self, frozen: bool) -> Result<(), ClusterError> {
        let pid = self.pid().await.ok_or_else(|| ClusterError::Host {
            action: format!("signal {}", self.name),
            detail: "the process is not running".to_owned(),
        })?;
        let signal = if frozen { Signal::STOP } else { Signal::CONT };
        if signal_process(pid, signal) {
            Ok(())
        } else {
            Err(ClusterError::Host {
                action: format!("signal {} (pid {pid})", self.name),
                detail: "kill(2) failed: the process is gone".to_owned(),
            })
        }
    }

    /// Starts the process again with the same command line, after a kill or stop.
    pub(crate) async fn start_again(&self) -> Result<(), ClusterError> {
        let mut child = self.child.lock().await;
        if let Some(mut old) = child.take() {
            let _ = old.kill().await;
        }
        *child = Some(self.launch()?);
        Ok(())
    }
}

/// Lowest port a node is given: above the well-known and most registered services' ports.
const LOWEST_NODE_PORT: u16 = 20_000;

/// Candidate ports tried before giving up.
const PORT_ATTEMPTS: usize = 2_000;

/// The first port the kernel hands to outgoing connections (`ip_local_port_range`).
fn ephemeral_low() -> u16 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse().ok())
        .unwrap_or(32_768)
}

/// Where the lock files of reserved ports are: one empty file per port ever reserved, left in
/// place (removing a lock file another process may be opening would undo its lock).
fn reservations_dir() -> PathBuf {
    // Not under the `failover-drill-` prefix of a run's directory, which `clean` removes.
    std::env::temp_dir().join("failover-drill.ports")
}

/// A loopback port reserved for one node, machine-wide, until dropped: a lock is held on the
/// port's file in [`reservations_dir`]. Every failover-drill process picks its ports at random
/// from the same range, and a free port tested with `bind` is only free until the node binds it;
/// without the lock, two drills started at once by separate processes (the shards of a matrix
/// on one machine) were seen to pick the same port, and a sentinel that could not bind it left
/// its drill talking to another drill's sentinel. The lock goes when the process ends, however
/// it ends.
#[derive(Debug)]
pub struct ReservedPort {
    /// The port.
    pub port: u16,
    _lock: std::fs::File,
}

impl ReservedPort {
    /// `port`, when no other node holds it and it is free now.
    fn take(dir: &Path, port: u16) -> Option<Self> {
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(port.to_string()))
            .ok()?;
        lock.try_lock().ok()?;
        // Reserved by no drill; it must also be free of anything else.
        drop(std::net::TcpListener::bind(("127.0.0.1", port)).ok()?);
        Some(Self { port, _lock: lock })
    }
}

/// `n` distinct loopback ports, free now and reserved for this process's nodes until dropped,
/// below the kernel's ephemeral range.
///
/// A port the kernel picks for `bind(0)` is an ephemeral one, which any outgoing connection may
/// take as its local port between the pick and the node's own bind, or while a killed node is
/// down before its restart at the same port: under a drill's load that happened. A port below the
/// range is only ever taken by another explicit bind, and by no other drill's node while
/// reserved ([`ReservedPort`]).
pub fn free_ports(n: usize) -> Result<Vec<ReservedPort>, ClusterError> {
    use rand::Rng;
    let failed = |detail: String| ClusterError::Host {
        action: format!("find {n} free loopback ports"),
        detail,
    };
    let high = ephemeral_low();
    if high <= LOWEST_NODE_PORT + 1_000 {
        return Err(failed(format!(
            "the ephemeral port range starts at {high}, which leaves too few ports between \
             {LOWEST_NODE_PORT} and it; raise the start of net.ipv4.ip_local_port_range"
        )));
    }
    let dir = reservations_dir();
    std::fs::create_dir_all(&dir)
        .map_err(|e| failed(format!("cannot create {}: {e}", dir.display())))?;
    let mut rng = rand::thread_rng();
    // Each port is locked as it is taken, so the ports are distinct.
    let mut held: Vec<ReservedPort> = Vec::with_capacity(n);
    for _ in 0..PORT_ATTEMPTS {
        if held.len() == n {
            break;
        }
        let port = rng.gen_range(LOWEST_NODE_PORT..high);
        held.extend(ReservedPort::take(&dir, port));
    }
    if held.len() < n {
        return Err(failed(format!(
            "only {} of {PORT_ATTEMPTS} ports tried between {LOWEST_NODE_PORT} and {high} were \
             free and not reserved by another drill (lock files in {})",
            held.len(),
            dir.display()
        )));
    }
    Ok(held)
}

/// The directory of a run's node processes under the system's temporary directory; removed when
/// dropped.
pub(crate) struct WorkDir {
    pub(crate) path: PathBuf,
}

impl WorkDir {
    pub(crate) fn create(run_id: &str) -> Result<Self, ClusterError> {
        let path = std::env::temp_dir().join(format!("{}{run_id}", crate::marks::WORK_DIR_PREFIX));
        std::fs::create_dir_all(&path).map_err(|e| ClusterError::Host {
            action: format!("create {}", path.display()),
            detail: e.to_string(),
        })?;
        Ok(Self { path })
    }

    /// Removes the directory now, reporting a failure.
    pub(crate) fn remove(self) -> Result<(), ClusterError> {
        std::fs::remove_dir_all(&self.path).map_err(|e| ClusterError::Host {
            action: format!("remove {}", self.path.display()),
            detail: e.to_string(),
        })
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Writes a node's config file, readable by its owner only: it may hold the password.
pub(crate) fn write_private(path: &Path, contents: &str) -> Result<(), ClusterError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let fail = |e: std::io::Error| ClusterError::Host {
        action: format!("write {}", path.display()),
        detail: e.to_string(),
    };
    let mut file = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(fail)?;
    file.write_all(contents.as_bytes()).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_ports_are_distinct_and_below_the_ephemeral_range() {
        let reserved = free_ports(9).expect("ports");
        let ports: Vec<u16> = reserved.iter().map(|r| r.port).collect();
        let mut distinct = ports.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), 9, "{ports:?}");
        let high = ephemeral_low();
        assert!(
            ports.iter().all(|p| (LOWEST_NODE_PORT..high).contains(p)),
            "{ports:?} not in {LOWEST_NODE_PORT}..{high}"
        );
    }

    #[test]
    fn a_reserved_port_is_not_taken_again_until_its_reservation_is_dropped() {
        let dir = reservations_dir();
        let reserved = free_ports(1).expect("a port").remove(0);
        // The lock is per open file: another drill, in this process or another, is refused.
        assert!(ReservedPort::take(&dir, reserved.port).is_none());
        let port = reserved.port;
        drop(reserved);
        // Released, it can be taken again, though not always at once: a process another thread
        // starts meanwhile holds a copy of the lock's file until it execs (failed once, beside a
        // test binary starting processes on a loaded machine).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let taken = loop {
            match ReservedPort::take(&dir, port) {
                Some(taken) => break Some(taken.port),
                None if std::time::Instant::now() >= deadline => break None,
                None => std::thread::sleep(std::time::Duration::from_millis(10)),
            }
        };
        assert_eq!(taken, Some(port));
    }
}
