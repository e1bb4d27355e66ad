//! Checks before anything starts that the machine can apply every fault of a schedule, so a run
//! that cannot be made stops with a message naming the fault and what it needs.

use std::path::Path;

use super::NemesisError;
use crate::scenario::{FaultKind, FaultSpec};

fn on_path(program: &str) -> bool {
    let dirs = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&dirs)
        .chain([
            Path::new("/usr/sbin").to_owned(),
            Path::new("/sbin").to_owned(),
        ])
        .any(|dir| dir.join(program).is_file())
}

fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// What a fault kind needs beyond the Docker engine: a summary, why root, and its programs.
fn needs(kind: FaultKind) -> Option<(&'static str, &'static str, &'static [&'static str])> {
    match kind {
        FaultKind::Partition | FaultKind::Reset => Some((
            "root and the nsenter and iptables commands",
            "iptables rules go into the node's network namespace",
            &["nsenter", "iptables"],
        )),
        FaultKind::Latency => Some((
            "root and the iptables command",
            "an iptables rule on the host redirects the node's traffic into a delay proxy",
            &["iptables"],
        )),
        FaultKind::Kill | FaultKind::Stop | FaultKind::Pause | FaultKind::ManualFailover => None,
    }
}

/// The Debian package that carries `program`.
fn package_of(program: &str) -> &str {
    match program {
        "nsenter" => "util-linux",
        other => other,
    }
}

/// Checks before anything starts that the machine can apply every fault of the schedule.
pub fn check_privileges(faults: &[FaultSpec]) -> Result<(), NemesisError> {
    for (index, fault) in faults.iter().enumerate() {
        let Some((summary, why_root, programs)) = needs(fault.kind) else {
            continue;
        };
        let unavailable = |detail: String| NemesisError::Unavailable {
            index,
            kind: fault.kind.name(),
            needs: summary,
            detail,
        };
        if effective_uid() != Some(0) {
            return Err(unavailable(format!("run as root ({why_root})")));
        }
        for program in programs {
            if !on_path(program) {
                return Err(unavailable(format!(
                    "{program} is missing: install it with `apt-get install -y {}`",
                    package_of(program)
                )));
            }
        }
    }
    Ok(())
}
