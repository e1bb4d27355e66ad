use std::path::Path;
use std::time::Duration;

use super::*;

fn parse(text: &str) -> Result<Matrix, MatrixError> {
    Matrix::parse(text, Path::new("m.toml"), &Catalogue::built_in())
}

fn error(text: &str) -> String {
    parse(text).expect_err("the matrix is refused").to_string()
}

#[test]
fn apps_times_the_sweep_make_rows_and_scenarios_columns() {
    let matrix = parse(
        r#"
name = "durability"
scenarios = ["split-brain", "kill-master"]
repeat = 3

[[apps]]
name = "sample"

[[apps]]
name = "wait-one"
wait_replicas = 1

[sweep]
topology.min_replicas_to_write = [0, 1]
topology.down_after = ["1s", "3s"]
"#,
    )
    .expect("valid");
    assert_eq!(matrix.rows.len(), 2 * 2 * 2);
    assert_eq!(matrix.columns, ["split-brain", "kill-master"]);
    assert_eq!(matrix.cells.len(), 16);
    assert_eq!(matrix.drills(), 48);
    // The sweep's paths are sorted: down_after changes slowest.
    assert_eq!(
        matrix.rows[1].label(),
        "sample: down_after=1s, min_replicas_to_write=1"
    );
    let cell = matrix
        .cells
        .iter()
        .find(|c| c.row == 7 && c.column == 0)
        .expect("cell");
    let s = &cell.scenario;
    assert_eq!(matrix.rows[7].app, "wait-one");
    assert_eq!(s.name, "split-brain");
    assert_eq!(s.app.wait_replicas, 1);
    assert_eq!(s.app.instances, 2, "the scenario's own [app] fields stay");
    assert_eq!(s.topology.min_replicas_to_write, 1);
    assert_eq!(s.topology.down_after, Duration::from_secs(3));
    assert_eq!(s.faults.len(), 1, "the scenario's faults stay");
}

#[test]
fn all_names_every_shipped_scenario() {
    let matrix = parse("scenarios = \"all\"").expect("valid");
    let shipped = Catalogue::built_in().list().expect("list");
    assert_eq!(matrix.columns.len(), shipped.len());
    assert_eq!(matrix.rows.len(), 1);
    assert_eq!(matrix.rows[0].app, SCENARIO_APP);
    assert_eq!(matrix.name, "m", "named after its file by default");
}

#[test]
fn an_app_command_replaces_the_scenarios_app_choice() {
    let matrix = parse(
        r#"
scenarios = ["kill-master"]
[[apps]]
name = "python"
command = "python3 examples/python/app.py"
contract.login = { method = "POST", path = "/test/login" }
"#,
    )
    .expect("valid");
    let app = &matrix.cells[0].scenario.app;
    assert_eq!(
        app.command.as_deref(),
        Some("python3 examples/python/app.py")
    );
    assert_eq!(app.mutant, None);
    assert_eq!(
        app.contract.login.path, "/test/login",
        "tables merge field by field"
    );
    assert_eq!(
        app.contract.read,
        crate::scenario::HttpContract::default().read,
        "fields not given keep their values"
    );
}

#[test]
fn a_sweep_over_a_field_that_does_not_exist_names_its_line_and_field() {
    let e = error("scenarios = [\"kill-master\"]\n\n[sweep]\ntopology.down_aftr = [\"1s\"]\n");
    assert!(
        e.contains("m.toml, line 4: field 'sweep.topology.down_aftr'"),
        "{e}"
    );
    assert!(e.contains("unknown field"), "{e}");
}

#[test]
fn a_swept_value_of_the_wrong_type_is_refused() {
    let e = error("scenarios = [\"kill-master\"]\n[sweep]\napp.wait_replicas = [\"one\"]\n");
    assert!(e.contains("line 3: field 'sweep.app.wait_replicas'"), "{e}");
}

#[test]
fn an_empty_list_or_a_bare_value_in_the_sweep_is_refused() {
    let e = error("scenarios = [\"kill-master\"]\n[sweep]\napp.wait_replicas = []\n");
    assert!(e.contains("field 'sweep.app.wait_replicas'"), "{e}");
    assert!(e.contains("product empty"), "{e}");
    let e = error("scenarios = [\"kill-master\"]\n[sweep]\napp.wait_replicas = 1\n");
    assert!(e.contains("must be a list of values"), "{e}");
}

#[test]
fn unknown_top_level_fields_and_bad_scenarios_are_refused() {
    let e = error("scenarios = [\"kill-master\"]\nrepeats = 3\n");
    assert!(e.contains("unknown field `repeats`"), "{e}");
    assert!(e.contains("line 2"), "{e}");
    let e = error("scenarios = [\"no-such-scenario\"]\n");
    assert!(e.contains("unknown scenario 'no-such-scenario'"), "{e}");
    let e = error("scenarios = []\n");
    assert!(e.contains("field 'scenarios'"), "{e}");
    let e = error("scenarios = [\"kill-master\"]\nrepeat = 0\n");
    assert!(e.contains("line 2: field 'repeat'"), "{e}");
}

#[test]
fn apps_need_names_and_real_app_fields() {
    let e = error("scenarios = [\"kill-master\"]\n[[apps]]\nwait_replicas = 1\n");
    assert!(e.contains("field 'apps[0].name'"), "{e}");
    let e = error("scenarios = [\"kill-master\"]\n[[apps]]\nname = \"a\"\n\n[[apps]]\nname = \"b\"\nwait_replica = 1\n");
    assert!(e.contains("line 5: field 'apps[1]'"), "{e}");
    assert!(e.contains("unknown field `wait_replica`"), "{e}");
}

#[test]
fn a_combination_that_cannot_run_names_its_cell() {
    // Each value is fine alone; three replicas to wait for is more than the two there are.
    let e = error("scenarios = [\"kill-master\"]\n[sweep]\napp.wait_replicas = [0, 3]\n");
    assert!(
        e.contains("the cell each scenario's app: wait_replicas=3 × kill-master"),
        "{e}"
    );
    assert!(e.contains("app.wait_replicas"), "{e}");
}

#[test]
fn too_many_drills_are_refused_before_anything_runs() {
    let e = error(
        "scenarios = \"all\"\nrepeat = 100\n[sweep]\napp.wait_replicas = [0, 1]\ntopology.down_after = [\"1s\", \"2s\"]\n",
    );
    assert!(e.contains("more than 2000"), "{e}");
}

#[test]
fn row_slugs_are_directory_names() {
    let row = Row {
        app: "python app".into(),
        settings: vec![Setting {
            field: "topology.down_after".into(),
            value: toml::Value::String("1s".into()),
        }],
    };
    assert_eq!(row.slug(), "python_app_down_after=1s");
}

#[test]
fn a_list_of_one_value_sets_every_cell_without_a_row_of_its_own() {
    let matrix = parse(
        "scenarios = [\"split-brain\"]\n[sweep]\ntopology.min_replicas_max_lag = [\"1s\"]\napp.wait_replicas = [0, 1]\n",
    )
    .expect("valid");
    assert_eq!(matrix.rows.len(), 2);
    // The row names the app its cells run: split-brain's own, two instances of the sample app.
    assert_eq!(
        matrix.rows[1].label(),
        "sample app, 2 instances: wait_replicas=1"
    );
    assert_eq!(matrix.fixed.len(), 1);
    assert!(matrix
        .cells
        .iter()
        .all(|c| c.scenario.topology.min_replicas_max_lag == Duration::from_secs(1)));
}

#[test]
fn a_name_that_would_leave_the_output_directory_is_refused() {
    let msg = error("name = \"../elsewhere\"\nscenarios = [\"kill-master\"]\n");
    assert!(
        msg.contains("field 'name'") && msg.contains("directory"),
        "{msg}"
    );
    assert!(parse("name = \"durability 2\"\nscenarios = [\"kill-master\"]\n").is_ok());
}

#[test]
fn a_row_that_names_no_app_is_named_after_the_app_its_cells_run() {
    let one = Matrix::of_scenarios(
        "run",
        vec![crate::scenario::Scenario::named("kill-master").expect("shipped")],
        3,
    );
    assert_eq!(one.name, "kill-master", "named after its one scenario");
    assert_eq!(one.rows[0].app, "sample app");
    let mut python = crate::scenario::Scenario::named("kill-master").expect("shipped");
    python.app.command = Some("python3 examples/python-app/app.py".into());
    let mut other = crate::scenario::Scenario::named("pause-master").expect("shipped");
    other.app.command.clone_from(&python.app.command);
    let both = Matrix::of_scenarios("run", vec![python.clone(), other], 1);
    assert_eq!(both.name, "run");
    assert_eq!(both.rows[0].app, "python3 examples/python-app/app.py");
    let mut mutant = crate::scenario::Scenario::named("pause-master").expect("shipped");
    mutant.app.mutant = Some(sample_app::store::Mutant::Pinned);
    let mixed = Matrix::of_scenarios("run", vec![python, mutant], 1);
    assert_eq!(mixed.rows[0].app, SCENARIO_APP);
    let long = "x".repeat(80);
    let spec = crate::scenario::AppSpec {
        command: Some(long),
        ..Default::default()
    };
    assert_eq!(spec.label().chars().count(), 60);
    assert!(spec.label().ends_with('…'));
}
