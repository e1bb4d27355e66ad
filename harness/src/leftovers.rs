//! What runs left behind, found by label, and its removal: `failover-drill clean`. Every run
//! removes what it started, also on panic and Ctrl-C; this is for a run that could not, because
//! it was SIGKILLed or the machine went down. Containers and networks carry the
//! `failover-drill.run` label; the latency fault's host rule carries a `failover-drill:<run>`
//! comment; an app started from a command line and a node of the process backend carry
//! `FAILOVER_DRILL_RUN=<run>` in their environment, and the process backend's nodes keep their
//! files in `$TMPDIR/failover-drill-<run>`. Partition rules live in a node's own network namespace
//! and go with its container.

use std::collections::HashMap;
use std::time::Duration;

use bollard::query_parameters::{ListContainersOptions, ListNetworksOptions};
use bollard::Docker;

use crate::cluster::ClusterError;
use crate::marks::{RULE_TAG, RUN_LABEL, WORK_DIR_PREFIX};

/// Things a run left, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Leftovers {
    /// Containers, with their state (`running`, `paused`, `exited`).
    pub containers: Vec<(String, String, String)>,
    /// Networks.
    pub networks: Vec<String>,
    /// Host iptables rules, as `iptables -t nat -S` prints them.
    pub host_rules: Vec<String>,
    /// Processes a run started (apps from a command line, nodes of the process backend): pid and
    /// command line.
    pub processes: Vec<(u32, String)>,
    /// The process backend's node directories.
    pub work_dirs: Vec<std::path::PathBuf>,
}

impl Leftovers {
    /// Nothing left.
    pub fn is_empty(&self) -> bool {
        self.containers.is_empty()
            && self.networks.is_empty()
            && self.host_rules.is_empty()
            && self.processes.is_empty()
            && self.work_dirs.is_empty()
    }

    /// One line each, for people.
    pub fn describe(&self) -> Vec<String> {
        let containers = self
            .containers
            .iter()
            .map(|(_, name, state)| format!("container {name} ({state})"));
        let networks = self.networks.iter().map(|n| format!("network {n}"));
        let rules = self.host_rules.iter().map(|r| format!("host rule: {r}"));
        let processes = self
            .processes
            .iter()
            .map(|(pid, cmd)| format!("process {pid}: {cmd}"));
        let dirs = self
            .work_dirs
            .iter()
            .map(|d| format!("directory {}", d.display()));
        containers
            .chain(networks)
            .chain(rules)
            .chain(processes)
            .chain(dirs)
            .collect()
    }
}

fn docker_error(action: &str) -> impl Fn(bollard::errors::Error) -> ClusterError + '_ {
    move |e| ClusterError::Docker {
        action: action.to_owned(),
        detail: e.to_string(),
    }
}

fn label_filter(run: Option<&str>) -> HashMap<String, Vec<String>> {
    let label = run.map_or_else(|| RUN_LABEL.to_owned(), |id| format!("{RUN_LABEL}={id}"));
    HashMap::from([("label".to_owned(), vec![label])])
}

/// The host's rules tagged for `run` (or for any run), from `iptables -t nat -S OUTPUT`; none
/// when iptables is missing, since then no run can have added one.
pub fn host_rules(run: Option<&str>) -> Vec<String> {
    let tag = format!("{RULE_TAG}{}", run.unwrap_or(""));
    let Ok(out) = std::process::Command::new("iptables")
        .args(["-w", "-t", "nat", "-S", "OUTPUT"])
        .output()
    else {
        return Vec::new();
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|rule| rule.starts_with("-A ") && rule.contains(&tag))
        .map(str::to_owned)
        .collect()
}

/// Processes of `run` (or of any run): those with `FAILOVER_DRILL_RUN=<run>` in their environment
/// (apps started from a command line), and those working in the run's directory (the process
/// backend's nodes, whose environment Redis overwrites with its process title).
pub fn processes(run: Option<&str>) -> Vec<(u32, String)> {
    let wanted = format!("{}={}", crate::marks::env::RUN, run.unwrap_or(""));
    let work_dir = std::env::temp_dir().join(format!("{}{}", WORK_DIR_PREFIX, run.unwrap_or("")));
    let in_work_dir = |cwd: &std::path::Path| match run {
        Some(_) => cwd.starts_with(&work_dir),
        None => cwd
            .to_string_lossy()
            .starts_with(&*work_dir.to_string_lossy()),
    };
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found: Vec<(u32, String)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            if pid == std::process::id() {
                return None;
            }
            let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
            let tagged = environ.split(|b| *b == 0).any(|var| {
                let var = String::from_utf8_lossy(var);
                match run {
                    Some(_) => var == wanted,
                    None => var.starts_with(&wanted),
                }
            });
            let working_there =
                std::fs::read_link(entry.path().join("cwd")).is_ok_and(|cwd| in_work_dir(&cwd));
            if !tagged && !working_there {
                return None;
            }
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            Some((pid, cmdline.trim().to_owned()))
        })
        .collect();
    found.sort();
    found
}

/// The process backend's node directories of `run` (or of any run).
pub fn work_dirs(run: Option<&str>) -> Vec<std::path::PathBuf> {
    let prefix = format!("{}{}", WORK_DIR_PREFIX, run.unwrap_or(""));
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return Vec::new();
    };
    let mut found: Vec<_> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            e.path().is_dir()
                && match run {
                    Some(_) => name == prefix,
                    None => name.starts_with(&prefix),
                }
        })
        .map(|e| e.path())
        .collect();
    found.sort();
    found
}

/// What runs (or one run) left; containers and networks only when there is an engine to ask.
pub async fn find(docker: Option<&Docker>, run: Option<&str>) -> Result<Leftovers, ClusterError> {
    let mut found = Leftovers {
        host_rules: host_rules(run),
        processes: processes(run),
        work_dirs: work_dirs(run),
        ..Leftovers::default()
    };
    let Some(docker) = docker else {
        return Ok(found);
    };
    let containers = docker
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(label_filter(run)),
            ..Default::default()
        }))
        .await
        .map_err(docker_error("list containers"))?;
    let networks = docker
        .list_networks(Some(ListNetworksOptions {
            filters: Some(label_filter(run)),
        }))
        .await
        .map_err(docker_error("list networks"))?;
    found.containers = containers
        .into_iter()
        .map(|c| {
            let name = c
                .names
                .and_then(|n| n.into_iter().next())
                .unwrap_or_default()
                .trim_start_matches('/')
                .to_owned();
            let state = c.state.map(|s| s.to_string()).unwrap_or_default();
            (c.id.unwrap_or_default(), name, state)
        })
        .collect();
    found.networks = networks.into_iter().filter_map(|n| n.name).collect();
    Ok(found)
}

/// How long a SIGKILLed process may take to exit.
const KILL_WAIT: Duration = Duration::from_secs(10);

/// Whether process `pid` has exited: no longer in `/proc`, or a zombie (dead, and waiting only for
/// its parent, which after a SIGKILLed run is init, to collect its status).
fn process_gone(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return true;
    };
    // `pid (comm) state ...`; comm may hold spaces and parentheses, so the state follows the last ')'.
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.trim_start().chars().next());
    matches!(state, Some('Z' | 'X'))
}

/// Removes everything in `leftovers`: containers (paused ones are resumed first, as the engine
/// will not remove a frozen process), then networks, then host rules, then processes (each
/// SIGKILLed and awaited until it has exited), then directories. Tries everything and reports
/// the first failure.
pub async fn remove(docker: Option<&Docker>, leftovers: &Leftovers) -> Result<(), ClusterError> {
    let mut first_error = None;
    if let Some(docker) = docker {
        if let Err(e) = remove_from_engine(docker, leftovers).await {
            first_error.get_or_insert(e);
        }
    }
    for rule in &leftovers.host_rules {
        let mut args = vec!["-w".to_owned(), "-t".to_owned(), "nat".to_owned()];
        args.extend(delete_args(rule));
        let removed = std::process::Command::new("iptables").args(&args).output();
        if !removed.as_ref().is_ok_and(|o| o.status.success()) {
            first_error.get_or_insert(ClusterError::Host {
                action: format!("remove host rule '{rule}'"),
                detail: removed.map_or_else(
                    |e| e.to_string(),
                    |o| String::from_utf8_lossy(&o.stderr).trim().to_owned(),
                ),
            });
        }
    }
    // Processes before their directories: a node still running would write into its own.
    let mut dying = Vec::new();
    for (pid, cmdline) in &leftovers.processes {
        let killed = crate::child::signal_process(*pid, crate::child::Signal::KILL);
        // Unsignalled, a process either exited meanwhile (gone, as wanted) or was refused.
        if killed {
            dying.push((*pid, cmdline));
        } else if !process_gone(*pid) {
            first_error.get_or_insert(ClusterError::Host {
                action: format!("kill process {pid} ({cmdline})"),
                detail: "kill(2) refused: run `failover-drill clean` as the user that started it, \
                         or as root"
                    .to_owned(),
            });
        }
    }
    // kill(2) returns once the signal is sent; a loaded machine runs the process's exit later, and
    // until then it still works in its directory and holds its port.
    let deadline = std::time::Instant::now() + KILL_WAIT;
    while dying.iter().any(|(pid, _)| !process_gone(*pid)) && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for (pid, cmdline) in dying.into_iter().filter(|(pid, _)| !process_gone(*pid)) {
        first_error.get_or_insert(ClusterError::Host {
            action: format!("kill process {pid} ({cmdline})"),
            detail: format!(
                "it still runs {} s after SIGKILL; look at its state in /proc/{pid}/status",
                KILL_WAIT.as_secs()
            ),
        });
    }
    for dir in &leftovers.work_dirs {
        if let Err(e) = std::fs::remove_dir_all(dir) {
            first_error.get_or_insert(ClusterError::Host {
                action: format!("remove {}", dir.display()),
                detail: e.to_string(),
            });
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// Removes the containers (resuming paused ones first) and then the networks.
async fn remove_from_engine(docker: &Docker, leftovers: &Leftovers) -> Result<(), ClusterError> {
    let mut first_error = None;
    for (id, name, state) in &leftovers.containers {
        let removed = crate::cluster::engine::remove_container(docker, id, state == "paused").await;
        match removed {
            Err(("unpause", e)) => {
                first_error.get_or_insert(docker_error("unpause")(e));
            }
            Err((_, e)) => {
                first_error.get_or_insert(ClusterError::Docker {
                    action: format!("remove container {name}"),
                    detail: e.to_string(),
                });
            }
            Ok(()) => {}
        }
    }
    for network in &leftovers.networks {
        if let Err(e) = docker.remove_network(network).await {
            first_error.get_or_insert(ClusterError::Docker {
                action: format!("remove network {network}"),
                detail: e.to_string(),
            });
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// `iptables -D` arguments for a rule as `-S` prints it (`-A OUTPUT ...`), quotes removed.
fn delete_args(rule: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in rule.chars() {
        match c {
            '"' => quoted = !quoted,
            ' ' if !quoted => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    if words.first().map(String::as_str) == Some("-A") {
        words[0] = "-D".to_owned();
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_killed_process_is_gone_once_it_has_exited_before_it_is_collected() {
        let mut child = std::process::Command::new("sleep")
            .arg("60")
            .spawn()
            .expect("start sleep");
        let pid = child.id();
        assert!(!process_gone(pid));
        child.kill().expect("SIGKILL it");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !process_gone(pid) && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(process_gone(pid));
        // A zombie until its parent collects it: still in /proc, and gone all the same.
        assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
        child.wait().expect("collect it");
        assert!(process_gone(pid));
    }

    #[test]
    fn a_printed_rule_becomes_its_deletion() {
        let rule = r#"-A OUTPUT -d 10.255.0.1/32 -p tcp -m tcp --dport 6379 -m comment --comment "failover-drill:abc" -j REDIRECT --to-ports 5555"#;
        let args = delete_args(rule);
        assert_eq!(args[..3], ["-D", "OUTPUT", "-d"]);
        assert!(args.contains(&"failover-drill:abc".to_owned()));
        assert_eq!(args.last().map(String::as_str), Some("5555"));
    }
}
