//! How each fault of a schedule acts on a deployment the harness did not start, chosen once per
//! fault: the operator's command template for its kind when the deployment gives one; else a
//! Redis command that does the fault (`pause` as `CLIENT PAUSE`, `reset` as `CLIENT KILL`); else
//! the kind's own way when that needs only Redis and Sentinel commands or the app (the two
//! failovers, `kill-app`); else the fault is refused before the run, naming what to configure.
//!
//! It owns that choice and the refusal; the ways themselves are `command_template` and
//! `redis_commands`.

use super::NemesisError;
use crate::scenario::{
    CommandTemplate, Cut, ExternalTopology, FaultAction, FaultKind, FaultSpec, Target, TemplateNode,
};
use sample_app::store::NodeAddr;

/// How one fault acts.
#[derive(Debug, Clone, Copy)]
pub(super) enum Way<'a> {
    /// The kind's own implementation.
    Own,
    /// The operator's commands for the kind.
    Command(&'a CommandTemplate),
    /// `CLIENT PAUSE <duration> ALL` on the target.
    ClientPause,
    /// `CLIENT KILL TYPE normal` on the target.
    ClientKill,
}

/// How `spec` acts on `deployment` (on the harness's own cluster when there is none), or why it
/// cannot.
pub(super) fn way<'a>(
    spec: &FaultSpec,
    deployment: Option<&'a ExternalTopology>,
) -> Result<Way<'a>, String> {
    let Some(deployment) = deployment else {
        return Ok(Way::Own);
    };
    let kind = spec.kind();
    let configure = format!(
        "give the commands that do it in [topology.external.faults.{kind}] (apply{})",
        if kind.lasts() { " and heal" } else { "" }
    );
    if let FaultAction::Kill(kill) = &spec.action {
        if kill.in_flight.is_some() {
            return Err(
                "in_flight freezes the target before the kill, which needs a node the harness \
                 started; leave in_flight out on an external deployment"
                    .to_owned(),
            );
        }
    }
    if let Some(template) = deployment.template(kind) {
        return Ok(Way::Command(template));
    }
    // Every kind is named, so a new one must say here how it acts without a template.
    let cannot = |verb: &str| {
        Err(format!(
            "the harness did not start the deployment's nodes, so it cannot {verb} them itself; \
             {configure}"
        ))
    };
    match kind {
        FaultKind::ManualFailover | FaultKind::GracefulFailover | FaultKind::KillApp => {
            Ok(Way::Own)
        }
        FaultKind::Pause => Ok(Way::ClientPause),
        FaultKind::Reset => match &spec.action {
            FaultAction::Reset(reset) if reset.cut == Cut::All => Ok(Way::ClientKill),
            _ => Err(format!(
                "through Redis a reset is CLIENT KILL, which breaks every client's connections, \
                 not only those cut names: set cut = \"all\", or {configure}"
            )),
        },
        FaultKind::Kill => cannot("kill"),
        FaultKind::Stop => cannot("stop"),
        FaultKind::RestartSentinels => cannot("restart"),
        FaultKind::Partition | FaultKind::Latency | FaultKind::PacketLoss => {
            cannot("change the network of")
        }
    }
}

/// Fails with the first fault that cannot act on `deployment`, by position and kind.
pub fn check_external(
    faults: &[FaultSpec],
    deployment: &ExternalTopology,
) -> Result<(), NemesisError> {
    for (index, spec) in faults.iter().enumerate() {
        way(spec, Some(deployment)).map_err(|detail| NemesisError::NotOnExternal {
            index,
            kind: spec.kind().name(),
            detail,
        })?;
    }
    Ok(())
}

/// The node a target names at the moment the plan is shown, by its name and address.
pub(super) type NodeNow<'a> = &'a dyn Fn(&Target) -> Option<(String, NodeAddr)>;

/// What each fault will do on `deployment`, one line each, for the run's plan. A fault done by the
/// operator's commands also shows them filled in for the node its target names `now`: the
/// commands that would run, not only the templates (the target is resolved again when the fault
/// fires, so a `master` fault hits whichever node is master then).
pub fn plan(faults: &[FaultSpec], deployment: &ExternalTopology, now: NodeNow<'_>) -> Vec<String> {
    faults
        .iter()
        .enumerate()
        .map(|(index, spec)| {
            let kind = spec.kind();
            let when = format!(
                "faults[{index}] {kind} at {} on {}",
                humantime::format_duration(spec.at),
                String::from(spec.target())
            );
            let how = match way(spec, Some(deployment)) {
                Ok(Way::Own) => match kind {
                    FaultKind::KillApp => "the app under test's instance is crashed".to_owned(),
                    _ => "through Sentinel and Redis commands (SENTINEL FAILOVER)".to_owned(),
                },
                Ok(Way::Command(template)) => {
                    let mut how = match &template.heal {
                        Some(heal) => format!("runs `{}`, then `{heal}`", template.apply),
                        None => format!("runs `{}`", template.apply),
                    };
                    if let Some((name, addr)) = now(&spec.target()) {
                        let node = TemplateNode {
                            name: &name,
                            addr: &addr,
                        };
                        let fill = |command: &str| CommandTemplate::fill(command, node);
                        how.push_str(&match &template.heal {
                            Some(heal) => format!(
                                "; on {name} now: `{}`, then `{}`",
                                fill(&template.apply),
                                fill(heal)
                            ),
                            None => format!("; on {name} now: `{}`", fill(&template.apply)),
                        });
                    }
                    how
                }
                Ok(Way::ClientPause) => format!(
                    "CLIENT PAUSE {} ALL: the node answers no client for that long",
                    spec.duration.as_millis()
                ),
                Ok(Way::ClientKill) => "CLIENT KILL TYPE normal: every client's connection is \
                                        broken once (new ones are not refused)"
                    .to_owned(),
                Err(why) => format!("refused: {why}"),
            };
            format!("{when}: {how}")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(body: &str) -> FaultSpec {
        toml::from_str(&format!("at = \"1s\"\nduration = \"1s\"\n{body}")).expect("fault")
    }

    fn deployment(faults: &str) -> ExternalTopology {
        toml::from_str(&format!(
            "name = \"staging\"\nsentinels = [\"10.0.0.1:26379\"]\n{faults}"
        ))
        .expect("a section")
    }

    #[test]
    fn each_kind_takes_a_template_a_redis_command_its_own_way_or_is_refused() {
        let bare = deployment("");
        let kill = fault("kind = \"kill\"");
        let err = check_external(std::slice::from_ref(&kill), &bare)
            .expect_err("kill needs a template")
            .to_string();
        assert!(
            err.contains("faults[0] (kill)") && err.contains("[topology.external.faults.kill]"),
            "{err}"
        );
        let with_kill = deployment("[faults.kill]\napply = \"docker kill {container}\"\nheal = \"docker start {container}\"");
        assert!(matches!(
            way(&kill, Some(&with_kill)),
            Ok(Way::Command(t)) if t.apply.starts_with("docker kill")
        ));
        assert!(matches!(
            way(&fault("kind = \"pause\""), Some(&bare)),
            Ok(Way::ClientPause)
        ));
        assert!(matches!(
            way(&fault("kind = \"reset\"\ncut = \"all\""), Some(&bare)),
            Ok(Way::ClientKill)
        ));
        let app_reset = fault("kind = \"reset\"\ncut = \"app\"");
        assert!(way(&app_reset, Some(&bare))
            .expect_err("only cut = all")
            .contains("cut = \"all\""));
        let failover: FaultSpec =
            toml::from_str("at = \"1s\"\nkind = \"manual-failover\"").expect("fault");
        assert!(matches!(way(&failover, Some(&bare)), Ok(Way::Own)));
        let partition = fault("kind = \"partition\"\ncut = \"all\"");
        assert!(way(&partition, Some(&bare))
            .expect_err("needs commands")
            .contains("faults.partition"));
        let held = fault("kind = \"kill\"\nin_flight = 4");
        assert!(way(&held, Some(&with_kill))
            .expect_err("no freezing")
            .contains("in_flight"));
        assert!(matches!(way(&partition, None), Ok(Way::Own)));
        let unknown = plan(&[kill.clone(), failover.clone()], &with_kill, &|_| None);
        assert_eq!(
            unknown[0],
            "faults[0] kill at 1s on master: runs `docker kill {container}`, then `docker start {container}`"
        );
        assert!(unknown[1].contains("SENTINEL FAILOVER"), "{unknown:?}");
        // The plan the user confirms shows the commands that would run on the master now.
        let now = |target: &Target| {
            (*target == Target::Master).then(|| {
                (
                    "sessions-redis-1".to_owned(),
                    NodeAddr::new("10.0.4.21", 6379),
                )
            })
        };
        let filled = plan(&[kill, failover], &with_kill, &now);
        assert_eq!(
            filled[0],
            "faults[0] kill at 1s on master: runs `docker kill {container}`, then `docker start \
             {container}`; on sessions-redis-1 now: `docker kill sessions-redis-1`, then `docker \
             start sessions-redis-1`"
        );
    }
}
