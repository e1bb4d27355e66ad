//! Programs the harness starts and owns (an app from a command line, a node of the process
//! backend): each in a process group of its own, its output in a file, killed if its handle is
//! dropped, signalled with kill(2) through rustix (the crate forbids unsafe code of its own).

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

pub(crate) use rustix::process::Signal;

/// The pid as kill(2) takes it; none for 0 and 1, which would signal every process of ours, or
/// every process at all, rather than one.
fn owned_pid(pid: u32) -> Option<rustix::process::Pid> {
    i32::try_from(pid)
        .ok()
        .filter(|p| *p > 1)
        .and_then(rustix::process::Pid::from_raw)
}

/// Sends `signal` to the process `pid`. False when it could not be sent, as to a process already
/// gone.
pub(crate) fn signal_process(pid: u32, signal: Signal) -> bool {
    owned_pid(pid).is_some_and(|pid| rustix::process::kill_process(pid, signal).is_ok())
}

/// Sends `signal` to every process of the group `group`. False when it could not be sent, as to
/// a group already gone.
pub(crate) fn signal_group(group: u32, signal: Signal) -> bool {
    owned_pid(group).is_some_and(|pid| rustix::process::kill_process_group(pid, signal).is_ok())
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
    fn signals_reach_a_process_and_never_pid_0_or_1() {
        assert!(!signal_process(0, Signal::CONT));
        assert!(!signal_group(1, Signal::CONT));
        let mut sleeper = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("sleep starts");
        assert!(signal_process(sleeper.id(), Signal::KILL));
        let status = sleeper.wait().expect("sleep ends");
        assert!(!status.success(), "killed, not finished: {status}");
    }

    #[test]
    fn the_tail_is_the_last_lines_or_all_of_a_short_text() {
        assert_eq!(tail_lines("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail_lines("a", 5), "a");
    }
}
