//! Running an operator's command (`docker kill redis-a`, `kubectl delete pod redis-node-0`) as a
//! fault's apply or heal on a deployment the harness did not start: through `sh -c`, within the
//! deployment's `command_timeout`, each command and its output appended to the run directory's
//! `commands.log`.
//!
//! A command keeps the user's environment (kubectl needs `KUBECONFIG`, `PATH` and `HOME`) less the
//! harness's own secrets, plus the node's values (`FAILOVER_DRILL_NODE_NAME`, ...).
//!
//! It owns running and logging; which command, on which node, is the caller's. A command still
//! running when its timeout passes, or when the run is cut short, is killed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use super::NemesisError;
use crate::scenario::ExternalTopology;
use crate::secret::Redactor;

/// The deployment's commands and where their log goes.
#[derive(Debug, Clone, Copy)]
pub struct Operator<'a> {
    /// The deployment, with its command templates and their timeout.
    pub deployment: &'a ExternalTopology,
    /// The file every command and its output is appended to.
    pub log: &'a Path,
    /// What keeps the nodes' password out of that file and the run's errors.
    pub redactor: &'a Redactor,
}

/// One command to run, and what its log entry says it was for.
#[derive(Debug, Clone)]
pub(super) struct OperatorCommand {
    /// `faults[2] kill apply on redis-1 (10.0.0.5:6379)`.
    pub(super) purpose: String,
    /// The filled-in command.
    pub(super) command: String,
    /// The node's values, as environment variables.
    pub(super) env: Vec<(String, String)>,
    /// Longest it may run.
    pub(super) timeout: Duration,
    /// The log file.
    pub(super) log: PathBuf,
    /// What keeps the nodes' password out of the log and the error.
    pub(super) redactor: Redactor,
}

/// How a command ended.
struct Ended {
    status: String,
    success: bool,
    output: String,
}

impl OperatorCommand {
    /// `sh -c` the command, with the environment it gets.
    fn shell(&self) -> std::process::Command {
        let mut shell = std::process::Command::new("sh");
        shell
            .arg("-c")
            .arg(&self.command)
            .env_remove(crate::marks::env::REDIS_PASSWORD)
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        shell
    }

    /// Runs the command; fails when it exits with an error, cannot start, or outlives its
    /// timeout (it is killed then).
    pub(super) async fn run(&self) -> Result<(), NemesisError> {
        let started = Instant::now();
        let child = tokio::process::Command::from(self.shell())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn();
        let ended = match child {
            Err(e) => Ended {
                status: format!("did not start: {e}"),
                success: false,
                output: String::new(),
            },
            Ok(child) => match tokio::time::timeout(self.timeout, child.wait_with_output()).await {
                Err(_) => Ended {
                    status: format!(
                        "killed after the command_timeout of {}",
                        humantime::format_duration(self.timeout)
                    ),
                    success: false,
                    output: String::new(),
                },
                Ok(Err(e)) => Ended {
                    status: format!("could not be waited for: {e}"),
                    success: false,
                    output: String::new(),
                },
                Ok(Ok(output)) => Ended {
                    status: output.status.to_string(),
                    success: output.status.success(),
                    output: format!(
                        "{}{}",
                        String::from_utf8_lossy(&output.stdout),
                        String::from_utf8_lossy(&output.stderr)
                    ),
                },
            },
        };
        self.finish(started, ended)
    }

    /// Runs the command to the end on this thread, killing it at its timeout: for a heal owed by
    /// a run cut short, when nothing async is left to run it.
    pub(super) fn run_blocking(&self) -> Result<(), NemesisError> {
        let started = Instant::now();
        let spawned = self
            .shell()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let ended = match spawned {
            Err(e) => Ended {
                status: format!("did not start: {e}"),
                success: false,
                output: String::new(),
            },
            Ok(mut child) => loop {
                match child.try_wait() {
                    Ok(Some(status)) => {
                        break Ended {
                            status: status.to_string(),
                            success: status.success(),
                            output: "(not kept: run while the run was being cut short)".into(),
                        }
                    }
                    Ok(None) if started.elapsed() < self.timeout => {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    _ => {
                        let _ = child.kill();
                        let _ = child.wait();
                        break Ended {
                            status: "killed at its command_timeout".into(),
                            success: false,
                            output: String::new(),
                        };
                    }
                }
            },
        };
        self.finish(started, ended)
    }

    /// Logs how the command ended; an error unless it succeeded.
    fn finish(&self, started: Instant, ended: Ended) -> Result<(), NemesisError> {
        let took = started.elapsed();
        let hide = |text: &str| self.redactor.text(text).into_owned();
        let ended = Ended {
            output: hide(&ended.output),
            ..ended
        };
        let command = hide(&self.command);
        let entry = format!(
            "== {}\n$ {}\n{}-- {} after {:.3}s\n",
            self.purpose,
            command,
            ended.output,
            ended.status,
            took.as_secs_f64()
        );
        // A log that cannot be written must not hide what the command did to the deployment.
        let logged = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .and_then(|mut file| file.write_all(entry.as_bytes()));
        if ended.success {
            return logged.map_err(|e| NemesisError::Command {
                purpose: self.purpose.clone(),
                command: command.clone(),
                detail: format!(
                    "it succeeded, but {} could not be written: {e}",
                    self.log.display()
                ),
            });
        }
        let output = ended.output.trim();
        Err(NemesisError::Command {
            purpose: self.purpose.clone(),
            command,
            detail: if output.is_empty() {
                ended.status
            } else {
                format!("{}: {}", ended.status, last_lines(output, 5))
            },
        })
    }
}

/// The last `n` lines of `text`, joined with ` / `.
fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join(" / ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(dir: &Path, text: &str, timeout: Duration) -> OperatorCommand {
        OperatorCommand {
            purpose: "faults[0] kill apply on redis-1".into(),
            command: text.into(),
            env: vec![("FAILOVER_DRILL_NODE_NAME".into(), "redis-1".into())],
            timeout,
            log: dir.join("commands.log"),
            redactor: Redactor::of(Some(&sample_app::store::Password::new("pw-in-env"))),
        }
    }

    #[tokio::test]
    async fn commands_are_logged_and_failures_say_what_the_command_said() {
        let dir = std::env::temp_dir().join(format!("fd-command-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a directory");
        let second = Duration::from_secs(5);
        command(&dir, "echo killed it", second)
            .run()
            .await
            .expect("succeeds");
        command(&dir, "echo \"$FAILOVER_DRILL_NODE_NAME\" pw-in-env", second)
            .run()
            .await
            .expect("succeeds");
        let failed = command(&dir, "echo no such container >&2; exit 3", second)
            .run()
            .await
            .expect_err("fails")
            .to_string();
        assert!(
            failed.contains("exit status: 3") && failed.contains("no such container"),
            "{failed}"
        );
        let slow = command(&dir, "sleep 5", Duration::from_millis(200));
        let started = Instant::now();
        let timed_out = slow.run().await.expect_err("killed").to_string();
        assert!(started.elapsed() < Duration::from_secs(4), "not waited out");
        assert!(timed_out.contains("command_timeout"), "{timed_out}");
        command(&dir, "exit 0", second)
            .run_blocking()
            .expect("runs on this thread");
        let log = std::fs::read_to_string(dir.join("commands.log")).expect("a log");
        assert!(
            log.contains("$ echo killed it\nkilled it\n-- exit status: 0"),
            "{log}"
        );
        assert_eq!(log.matches("== faults[0] kill apply").count(), 5, "{log}");
        assert!(
            log.contains("\nredis-1 (redacted)\n"),
            "the node's values are in the environment, the password is not in the output: {log}"
        );
        std::fs::remove_dir_all(&dir).expect("removed");
    }
}
