//! Any fault kind done by the operator's own commands on a deployment the harness did not start:
//! the kind's `apply` template filled in for each target node and run, then after the fault's
//! duration its `heal` template. A heal still owed when the run is cut short is run when the
//! guard drops, so the deployment is not left with a node down.
//!
//! It owns filling templates in for the schedule's nodes; running them is `command`'s.

use super::command::{Operator, OperatorCommand};
use super::fault::{Applied, Fault, Scene};
use super::needs::Needs;
use super::NemesisError;
use crate::cluster::node::Node;
use crate::scenario::{CommandTemplate, FaultKind, TemplateNode};

/// One fault of the schedule, done by a command template.
pub(super) struct Templated<'a> {
    /// Position in the scenario's `faults`.
    pub(super) index: usize,
    /// The fault's kind.
    pub(super) kind: FaultKind,
    /// Its commands.
    pub(super) template: &'a CommandTemplate,
    /// The deployment's timeout and log.
    pub(super) operator: Operator<'a>,
}

/// The heal commands still owed; dropped before the heal ran (a run cut short), it runs them.
pub(super) struct OwedHeal {
    commands: Vec<OperatorCommand>,
}

impl Drop for OwedHeal {
    fn drop(&mut self) {
        let commands = std::mem::take(&mut self.commands);
        if commands.is_empty() {
            return;
        }
        crate::owed::owe("an operator's heal command", move || {
            for command in commands {
                if let Err(e) = command.run_blocking() {
                    eprintln!("failover-drill: the heal owed by a run cut short failed: {e}");
                }
            }
        });
    }
}

impl Templated<'_> {
    /// The `phase` command `text` for each node.
    fn commands(&self, phase: &str, text: &str, nodes: &[&Node]) -> Vec<OperatorCommand> {
        nodes
            .iter()
            .map(|node| {
                let values = TemplateNode {
                    name: &node.name,
                    addr: &node.addr,
                };
                OperatorCommand {
                    purpose: format!(
                        "faults[{}] {} {phase} on {} ({})",
                        self.index, self.kind, node.name, node.addr
                    ),
                    command: CommandTemplate::fill(text, values),
                    env: values.env(),
                    timeout: self.operator.deployment.command_timeout,
                    log: self.operator.log.to_owned(),
                    redactor: self.operator.redactor.clone(),
                }
            })
            .collect()
    }
}

impl Fault for Templated<'_> {
    type Guard = OwedHeal;

    fn needs(&self) -> Needs {
        Needs::default()
    }

    async fn apply(
        &self,
        _: &Scene<'_>,
        nodes: &[&Node],
    ) -> Result<Applied<OwedHeal>, NemesisError> {
        let heals = match &self.template.heal {
            Some(heal) => self.commands("heal", heal, nodes),
            None => Vec::new(),
        };
        let mut owed = OwedHeal {
            commands: Vec::new(),
        };
        for (i, apply) in self
            .commands("apply", &self.template.apply, nodes)
            .into_iter()
            .enumerate()
        {
            // A node's heal is owed once its apply has been tried: a command that failed may
            // still have done part of its work.
            owed.commands.extend(heals.get(i).cloned());
            apply.run().await?;
        }
        Ok(Applied::at_once(owed))
    }

    async fn heal(
        &self,
        _: &Scene<'_>,
        _: &[&Node],
        mut owed: OwedHeal,
    ) -> Result<(), NemesisError> {
        // Each stays owed until it has run: a run cut short meanwhile runs it again on drop.
        let mut first_error = None;
        while let Some(heal) = owed.commands.first().cloned() {
            let ran = heal.run().await;
            owed.commands.remove(0);
            if let Err(e) = ran {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_heal_still_owed_when_the_run_is_cut_short_runs_on_drop() {
        let dir = std::env::temp_dir().join(format!("fd-owed-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a directory");
        let healed = dir.join("healed");
        let owed = OwedHeal {
            commands: vec![OperatorCommand {
                purpose: "faults[0] kill heal on redis-1".into(),
                command: format!("touch {}", healed.display()),
                env: Vec::new(),
                timeout: Duration::from_secs(5),
                log: dir.join("commands.log"),
                redactor: crate::secret::Redactor::default(),
            }],
        };
        assert!(!healed.exists());
        drop(owed);
        crate::owed::settle();
        assert!(healed.exists(), "the heal ran");
        let log = std::fs::read_to_string(dir.join("commands.log")).expect("logged");
        assert!(log.contains("== faults[0] kill heal on redis-1"), "{log}");
        std::fs::remove_dir_all(&dir).expect("removed");
    }
}
