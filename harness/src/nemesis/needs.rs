//! What a fault kind needs, and the checks made with it before anything starts: that the machine
//! has it (root, programs), that the backend offers it (a network namespace per node), and that
//! the fault can reach the app where it runs. A run that cannot be made stops with a message
//! naming the fault and what it needs.
//!
//! It owns those checks; the needs themselves are declared by each kind's file.

use std::path::Path;

use super::NemesisError;
use crate::cluster::backend::Capabilities;
use crate::scenario::FaultSpec;

/// What a fault kind needs beyond the Docker engine.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Needs {
    /// Root, and why.
    pub(crate) root: Option<&'static str>,
    /// Programs on the path (or in `/usr/sbin`, `/sbin`).
    pub(crate) programs: &'static [&'static str],
    /// A network namespace for each node, and why.
    pub(crate) own_network_namespace: Option<&'static str>,
    /// Why it cannot act on an app started from `app.image`, if it cannot.
    pub(crate) not_with_app_image: Option<&'static str>,
}

impl Needs {
    /// What it needs, in words: `root and the nsenter and iptables commands`.
    fn summary(&self) -> String {
        let programs = match self.programs {
            [] => String::new(),
            [one] => format!("the {one} command"),
            many => format!("the {} commands", many.join(" and ")),
        };
        match (self.root.is_some(), programs.is_empty()) {
            (true, true) => "root".to_owned(),
            (true, false) => format!("root and {programs}"),
            (false, _) => programs,
        }
    }
}

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

/// The Debian package that carries `program`.
fn package_of(program: &str) -> &str {
    match program {
        "nsenter" => "util-linux",
        other => other,
    }
}

/// What a fault needs beyond a Docker engine or the process backend, in words, when it needs
/// anything: `root and the nsenter and iptables commands; a network namespace per node, ...`.
pub fn needs_in_words(fault: &FaultSpec) -> Option<String> {
    let needs = super::needs_of(&fault.action);
    let mut parts = Vec::new();
    let machine = needs.summary();
    if !machine.is_empty() {
        parts.push(machine);
    }
    if needs.own_network_namespace.is_some() {
        parts.push("a Docker engine (not the process backend)".to_owned());
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// Checks before anything starts that the machine can apply every fault of the schedule.
pub fn check_privileges(faults: &[FaultSpec]) -> Result<(), NemesisError> {
    for (index, fault) in faults.iter().enumerate() {
        let needs = super::needs_of(&fault.action);
        let unavailable = |detail: String| NemesisError::Unavailable {
            index,
            kind: fault.kind().name(),
            needs: needs.summary(),
            detail,
        };
        if let Some(why_root) = needs.root {
            if effective_uid() != Some(0) {
                return Err(unavailable(format!("run as root ({why_root})")));
            }
        }
        for program in needs.programs {
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

/// The first fault a backend with `capabilities` cannot apply, and why, as
/// `fault 1 (partition) cannot run on it: ...`.
pub fn refusal(faults: &[FaultSpec], capabilities: Capabilities) -> Option<String> {
    faults.iter().enumerate().find_map(|(index, fault)| {
        let needs = super::needs_of(&fault.action);
        let why = needs
            .own_network_namespace
            .filter(|_| !capabilities.network_namespace_per_node)?;
        Some(format!(
            "fault {index} ({}) cannot run on it: {why}",
            fault.kind()
        ))
    })
}

/// Fails with the first fault that cannot act on an app running in a container of its own.
pub fn check_app_reach(faults: &[FaultSpec], app_in_container: bool) -> Result<(), NemesisError> {
    if !app_in_container {
        return Ok(());
    }
    faults
        .iter()
        .enumerate()
        .find_map(|(index, f)| {
            let why = super::needs_of(&f.action).not_with_app_image?;
            Some(Err(NemesisError::NotWithAppImage {
                index,
                kind: f.kind().name(),
                why,
            }))
        })
        .unwrap_or(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(body: &str) -> FaultSpec {
        toml::from_str(&format!("at = \"1s\"\nduration = \"1s\"\n{body}")).expect("fault")
    }

    #[test]
    fn backends_without_a_namespace_per_node_refuse_network_faults_by_position_and_kind() {
        let shared = Capabilities {
            network_namespace_per_node: false,
        };
        let simple = [fault("kind = \"kill\""), fault("kind = \"pause\"")];
        assert_eq!(refusal(&simple, shared), None);
        let with_partition = [
            fault("kind = \"kill\""),
            fault("kind = \"partition\"\ncut = \"all\""),
        ];
        let refused = refusal(&with_partition, shared).expect("partition refused");
        assert!(refused.starts_with("fault 1 (partition)"), "{refused}");
        assert!(refusal(&[fault("kind = \"latency\"\nlatency = \"10ms\"")], shared).is_some());
        assert!(refusal(&[fault("kind = \"reset\"\ncut = \"app\"")], shared).is_some());
        let own = Capabilities {
            network_namespace_per_node: true,
        };
        assert_eq!(refusal(&with_partition, own), None);
    }

    #[test]
    fn faults_on_the_hosts_link_miss_an_app_in_a_container() {
        let latency = [
            fault("kind = \"kill\""),
            fault("kind = \"latency\"\nlatency = \"10ms\""),
        ];
        let err = check_app_reach(&latency, true).expect_err("latency misses it");
        assert!(err.to_string().contains("faults[1]"), "{err}");
        assert!(check_app_reach(&latency, false).is_ok());
        let cluster_cut = [fault("kind = \"partition\"\ncut = \"cluster\"")];
        assert!(check_app_reach(&cluster_cut, true).is_ok());
        let app_cut = [fault("kind = \"reset\"\ncut = \"app\"")];
        assert!(check_app_reach(&app_cut, true).is_err());
    }

    #[test]
    fn needs_read_as_words() {
        let needs = Needs {
            root: Some("x"),
            programs: &["nsenter", "iptables"],
            ..Needs::default()
        };
        assert_eq!(
            needs.summary(),
            "root and the nsenter and iptables commands"
        );
    }
}
