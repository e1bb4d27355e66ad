//! `failover-drill check`: what a scenario or matrix file would run, in words, without starting
//! anything, for a CI lint step and for editors.
//!
//! It owns telling the two kinds of file apart and putting them into words; validation is the
//! scenario's and the matrix's own. It must not start a node, an app or a fault, nor look at
//! anything but the files (so it answers the same on any machine).

use std::path::Path;

use crate::matrix::{Matrix, MatrixError};
use crate::nemesis;
use crate::scenario::{BackendChoice, Catalogue, Scenario, ScenarioError};
use crate::shown::printable;
use crate::verdict;

/// Why a file cannot be drilled.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// A scenario that does not load, or a name that is not in the catalogue.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// A matrix that does not load.
    #[error(transparent)]
    Matrix(#[from] MatrixError),
}

/// What `name_or_path` would run, in lines: a matrix file (a TOML table with `scenarios`, a
/// field no scenario has), a scenario file, or a scenario's name in `catalogue`. A file that is
/// not TOML is left to the scenario's parser, whose message names the line.
pub fn check(name_or_path: &str, catalogue: &Catalogue) -> Result<Vec<String>, CheckError> {
    let path = Path::new(name_or_path);
    if let Ok(text) = std::fs::read_to_string(path) {
        let is_matrix = text
            .parse::<toml::Table>()
            .is_ok_and(|table| table.contains_key("scenarios"));
        if is_matrix {
            let matrix = Matrix::parse(&text, path, catalogue)?;
            return Ok(describe_matrix(&matrix));
        }
    }
    let scenario = catalogue.load(name_or_path)?;
    Ok(describe_scenario(&scenario, ""))
}

fn backend_words(scenario: &Scenario) -> String {
    match (&scenario.topology.external, scenario.topology.backend) {
        (Some(external), BackendChoice::External) => format!(
            "the external deployment '{}' (through the sentinels {})",
            printable(&external.name),
            printable(&external.sentinels.join(", "))
        ),
        (_, BackendChoice::Docker) => "Docker containers".to_owned(),
        (_, BackendChoice::Process) => "local redis-server processes".to_owned(),
        (_, _) => "Docker containers, or local processes when no engine answers".to_owned(),
    }
}

fn app_words(scenario: &Scenario) -> String {
    let app = &scenario.app;
    let what = match (&app.command, &app.image) {
        (Some(command), _) => format!("`{}`", printable(command)),
        (None, Some(image)) => format!("the image {}", printable(image)),
        (None, None) => match app.mutant {
            Some(mutant) => format!("the in-process sample app with the {mutant} mutant"),
            None => "the in-process sample app".to_owned(),
        },
    };
    if app.instances > 1 {
        format!("{what}, {} instances", app.instances)
    } else {
        what
    }
}

/// A scenario in lines, each after `indent`.
fn describe_scenario(scenario: &Scenario, indent: &str) -> Vec<String> {
    let t = &scenario.topology;
    let w = &scenario.workload;
    let mut lines = vec![format!(
        "{indent}scenario {}: {}",
        printable(&scenario.name),
        printable(&scenario.description)
    )];
    if t.external.is_none() {
        lines.push(format!(
            "{indent}  nodes: 1 master, {} replicas, {} sentinels (quorum {}), as {}",
            t.replicas,
            t.sentinels,
            t.quorum,
            backend_words(scenario)
        ));
    } else {
        lines.push(format!("{indent}  nodes: {}", backend_words(scenario)));
    }
    lines.push(format!("{indent}  app: {}", app_words(scenario)));
    lines.push(format!("{indent}  workload: {}", w.describe()));
    if scenario.faults.is_empty() {
        lines.push(format!("{indent}  no fault"));
    }
    for (index, fault) in scenario.faults.iter().enumerate() {
        let needs = nemesis::needs_in_words(fault)
            .map_or_else(String::new, |needs| format!("; needs {needs}"));
        lines.push(format!(
            "{indent}  fault {}: {}{needs}",
            index + 1,
            printable(&fault.describe())
        ));
    }
    let expectations = verdict::expectations_in_words(&scenario.expectations);
    lines.push(format!("{indent}  expects: {}", expectations.join("; ")));
    lines
}

/// A matrix in lines: its size, its rows, then each column's scenario as the first row has it.
fn describe_matrix(matrix: &Matrix) -> Vec<String> {
    let mut lines = vec![format!(
        "matrix {}: {} rows × {} scenarios, repeat {}: {} drills",
        printable(&matrix.name),
        matrix.rows.len(),
        matrix.columns.len(),
        matrix.repeat,
        matrix.drills()
    )];
    if !matrix.fixed.is_empty() {
        let fixed: Vec<String> = matrix
            .fixed
            .iter()
            .map(|setting| format!("{} = {}", setting.field, setting.value))
            .collect();
        lines.push(format!("  every cell: {}", printable(&fixed.join(", "))));
    }
    for (index, row) in matrix.rows.iter().enumerate() {
        lines.push(format!("  row {}: {}", index + 1, printable(&row.label())));
    }
    for (column, name) in matrix.columns.iter().enumerate() {
        let first = matrix.cells.iter().find(|cell| cell.column == column);
        if let Some(cell) = first {
            lines.push(format!(
                "  column {}: {} (as row 1 has it)",
                column + 1,
                printable(name)
            ));
            lines.extend(describe_scenario(&cell.scenario, "    "));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(body: &str) -> Scenario {
        let text =
            format!("name = \"t\"\ndescription = \"d\"\n[workload]\nduration = \"20s\"\n{body}");
        Scenario::parse(&text, Path::new("t.toml")).expect("valid scenario")
    }

    #[test]
    fn a_scenario_reads_as_its_nodes_app_workload_faults_and_expectations() {
        let s = scenario(
            "[[faults]]\nkind = \"partition\"\ntarget = \"master\"\nat = \"6s\"\n\
             duration = \"8s\"\ncut = \"cluster\"\n[expectations]\nfailover_within = \"5s\"",
        );
        let lines = describe_scenario(&s, "");
        let text = lines.join("\n");
        assert!(
            text.contains("nodes: 1 master, 2 replicas, 3 sentinels"),
            "{text}"
        );
        assert!(text.contains("app: the in-process sample app"), "{text}");
        assert!(
            text.contains(
                "fault 1: partition on master at 6s for 8s (cut = \"cluster\"); needs root and \
                 the nsenter and iptables commands; a Docker engine"
            ),
            "{text}"
        );
        assert!(text.contains("lost sessions <= 0"), "{text}");
        assert!(
            text.contains("+switch-master after each fault on the master <= 5s"),
            "{text}"
        );
    }

    #[test]
    fn a_value_from_the_file_cannot_reach_the_terminal_raw() {
        let s = scenario("[app]\ncommand = \"node x.js\\u001b[2J\\nforged line\"");
        let text = describe_scenario(&s, "").join("\n");
        assert!(!text.contains('\u{1b}'), "{text}");
        assert!(text.contains("node x.js\\u{1b}[2J\\nforged line"), "{text}");
    }

    #[test]
    fn a_matrix_file_is_told_from_a_scenario_file_and_both_name_what_is_wrong() {
        let dir = std::env::temp_dir().join(format!("fd-check-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let matrix = dir.join("m.toml");
        std::fs::write(
            &matrix,
            "scenarios = [\"kill-master\"]\nrepeat = 2\n[sweep]\napp.wait_replicas = [0, 1]\n",
        )
        .expect("write");
        let lines = check(&matrix.to_string_lossy(), &Catalogue::built_in()).expect("valid");
        assert_eq!(
            lines[0],
            "matrix m: 2 rows × 1 scenarios, repeat 2: 4 drills"
        );
        assert!(
            lines.iter().any(|l| l.contains("scenario kill-master")),
            "{lines:?}"
        );

        let bad = dir.join("bad.toml");
        std::fs::write(&bad, "name = \"b\"\n[workload]\nusers = 0\n").expect("write");
        let err = check(&bad.to_string_lossy(), &Catalogue::built_in()).expect_err("refused");
        assert!(err.to_string().contains("workload.users"), "{err}");
        let err = check("no-such-scenario", &Catalogue::built_in()).expect_err("unknown");
        assert!(err.to_string().contains("no-such-scenario"), "{err}");
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
