//! Programs the harness starts and owns (an app from a command line, a node of the process
//! backend): each in a process group of its own, its output in a file, killed if its handle is
//! dropped, signalled through kill(1) since the crate forbids unsafe code.

use std::fs::File;
use std::path::Path;
use std::process::Stdio;

use tokio::process::{Child, Command};

/// Starts `command` detached from the terminal's process group, with stdout and stderr in `log`.
pub(crate) fn spawn_owned(command: &mut Command, log: File) -> std::io::Result<Child> {
    let err_log = log.try_clone()?;
    command
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err_log)
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
}

/// Sends `signal` (`TERM`, `KILL`, `STOP`, `CONT`) to `target`: a pid, or `-<pgid>` for a whole
/// process group. False when kill(1) failed, as for a process already gone.
pub(crate) fn send_signal(target: &str, signal: &str) -> bool {
    std::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .arg("--")
        .arg(target)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The last `lines` lines of `text`.
pub(crate) fn tail_lines(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The last `lines` lines of the file at `path`; empty if it cannot be read.
pub(crate) fn tail(path: &Path, lines: usize) -> String {
    tail_lines(&std::fs::read_to_string(path).unwrap_or_default(), lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_is_the_last_lines_or_all_of_a_short_text() {
        assert_eq!(tail_lines("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail_lines("a", 5), "a");
    }
}
