//! Scenario and matrix files mutated field by field, not byte by byte: every shipped file (and an
//! external deployment's section) is read as TOML, one or two of its values are replaced by
//! values of another type, out of range, empty, huge or hostile (`$(touch ...)`, `../`, a
//! newline, an escape sequence), or removed, and the file is written back and read as the
//! harness reads it. A mutation of the text would mostly stop at TOML syntax; these reach
//! validation. Each case must be refused with a message naming its file, or accepted with names
//! that stay inside `--out`; none may panic, and nothing runs (reading a file starts nothing).

use std::path::{Path, PathBuf};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use failover_drill::matrix::{Matrix, MatrixError};
use failover_drill::scenario::{Catalogue, Scenario, ScenarioError};

/// Cases per kind of file.
const CASES: usize = 10_000;

/// A file `$(touch ...)` would create, were a value ever run by a shell.
fn canary() -> PathBuf {
    std::env::temp_dir().join(format!("fd-fuzz-canary-{}", std::process::id()))
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the repository")
        .to_owned()
}

/// The external deployment's section, which no shipped scenario has.
const EXTERNAL: &str = r#"
name = "external-seed"
[workload]
users = 4
rate = 20.0
duration = "10s"
[[faults]]
kind = "kill"
target = "master"
at = "2s"
duration = "2s"
[topology]
backend = "external"
[topology.external]
name = "staging"
sentinels = ["10.0.0.1:26379"]
command_timeout = "10s"
[topology.external.names]
"10.0.0.2:6379" = "redis-a"
[topology.external.faults.kill]
apply = "docker kill {container}"
heal = "docker start {container}"
"#;

/// Durations, short and long, for a field that holds one.
const DURATIONS: [&str; 10] = [
    "0s",
    "1ns",
    "1ms",
    "500ms",
    "1s",
    "3s",
    "59s",
    "10m",
    "24h",
    "99999999h",
];

/// The values a field is replaced by.
fn replacement(rng: &mut StdRng, was: &toml::Value) -> toml::Value {
    use toml::Value;
    let canary = canary().display().to_string();
    let strings = [
        String::new(),
        " ".into(),
        "0s".into(),
        "1ns".into(),
        "-1s".into(),
        "99999999h".into(),
        "1s".into(),
        "../../etc".into(),
        "a/b".into(),
        ".hidden".into(),
        format!("$(touch {canary})"),
        format!("a;touch {canary}"),
        "`id`".into(),
        "x\n[y]".into(),
        "\u{1b}[2J".into(),
        "é ü".into(),
        "%2e%2e".into(),
        "x".repeat(10_000),
        "master".into(),
        "replica".into(),
        "redis-1".into(),
        "sentinel-9".into(),
        "all".into(),
        "app".into(),
        "kill".into(),
        "partition".into(),
        "POST".into(),
        "/x".into(),
        "127.0.0.1:0".into(),
        "h:99999".into(),
        "pa'ss".into(),
    ];
    let numbers = [
        0,
        -1,
        1,
        2,
        3,
        65_535,
        65_536,
        i64::from(u32::MAX) + 1,
        i64::MAX,
        i64::MIN,
    ];
    let floats = [0.0, -1.0, 0.5, 1e-9, 1e12, f64::INFINITY, f64::NAN];
    match rng.gen_range(0..16) {
        // The same type, another value: what validation, not the parser, must catch.
        0..=9 => match was {
            // A duration stays one, so that its bounds, not its syntax, are what is tried.
            Value::String(d) if humantime::parse_duration(d).is_ok() && rng.gen_range(0..4) > 0 => {
                Value::String(DURATIONS[rng.gen_range(0..DURATIONS.len())].to_owned())
            }
            Value::String(_) => Value::String(strings[rng.gen_range(0..strings.len())].clone()),
            Value::Integer(n) => Value::Integer(match rng.gen_range(0..3) {
                0 => n.saturating_neg(),
                1 => n.saturating_mul(1000),
                _ => numbers[rng.gen_range(0..numbers.len())],
            }),
            Value::Float(x) => Value::Float(match rng.gen_range(0..2) {
                0 => -x,
                _ => floats[rng.gen_range(0..floats.len())],
            }),
            Value::Boolean(b) => Value::Boolean(!b),
            Value::Array(items) => {
                let mut items = items.clone();
                match rng.gen_range(0..3) {
                    0 => items.clear(),
                    1 => items.extend(items.clone()),
                    _ => {
                        items.pop();
                    }
                }
                Value::Array(items)
            }
            other => other.clone(),
        },
        10 => Value::String(strings[rng.gen_range(0..strings.len())].clone()),
        11 => Value::Integer(numbers[rng.gen_range(0..numbers.len())]),
        12 => Value::Float(floats[rng.gen_range(0..floats.len())]),
        13 => Value::Boolean(rng.gen()),
        14 => Value::Array(vec![Value::String(
            strings[rng.gen_range(0..strings.len())].clone(),
        )]),
        _ => Value::Table(toml::Table::new()),
    }
}

/// Every value's place in `value`: a key path, array positions included.
fn leaves(value: &toml::Value, at: &mut Vec<String>, found: &mut Vec<Vec<String>>) {
    match value {
        toml::Value::Table(table) => {
            for (key, v) in table {
                at.push(key.clone());
                found.push(at.clone());
                leaves(v, at, found);
                at.pop();
            }
        }
        toml::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                at.push(i.to_string());
                found.push(at.clone());
                leaves(v, at, found);
                at.pop();
            }
        }
        _ => {}
    }
}

/// Replaces (or, for a table's key, sometimes removes) the value at `path`.
fn mutate(root: &mut toml::Value, path: &[String], rng: &mut StdRng) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut at = root;
    for step in parents {
        at = match at {
            toml::Value::Table(t) => match t.get_mut(step) {
                Some(v) => v,
                None => return,
            },
            toml::Value::Array(items) => {
                match step.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                    Some(v) => v,
                    None => return,
                }
            }
            _ => return,
        };
    }
    match at {
        toml::Value::Table(t) => {
            if rng.gen_range(0..6) == 0 {
                t.remove(last);
            } else if let Some(v) = t.get_mut(last) {
                *v = replacement(rng, v);
            }
        }
        toml::Value::Array(items) => {
            if let Some(v) = last.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                *v = replacement(rng, v);
            }
        }
        _ => {}
    }
}

/// What reading one mutated file came to.
enum Read {
    Accepted,
    /// By the deserializer: a wrong type, a missing or unknown field.
    RefusedAsWritten,
    /// By validation: a value of the right type that cannot be drilled.
    RefusedAsInvalid,
}

/// The counts of one fuzz.
#[derive(Debug, Default)]
struct Tally {
    cases: usize,
    accepted: usize,
    refused_as_written: usize,
    refused_as_invalid: usize,
    unwritable: usize,
}

/// `seeds` mutated `CASES` times; each text goes to `read`.
fn fuzz(
    seeds: &[(PathBuf, String)],
    seed: u64,
    mut read: impl FnMut(&str, &Path) -> Read,
) -> Tally {
    let mut rng = StdRng::seed_from_u64(seed);
    let parsed: Vec<(PathBuf, toml::Value, Vec<Vec<String>>)> = seeds
        .iter()
        .map(|(path, text)| {
            let value: toml::Value = toml::from_str(text).expect("a shipped file is TOML");
            let mut found = Vec::new();
            leaves(&value, &mut Vec::new(), &mut found);
            (path.clone(), value, found)
        })
        .collect();
    let mut tally = Tally {
        cases: CASES,
        ..Tally::default()
    };
    for case in 0..CASES {
        let (path, value, paths) = &parsed[case % parsed.len()];
        let mut mutated = value.clone();
        for _ in 0..rng.gen_range(1..=2) {
            mutate(
                &mut mutated,
                &paths[rng.gen_range(0..paths.len())],
                &mut rng,
            );
        }
        let Ok(text) = toml::to_string(&mutated) else {
            tally.unwritable += 1;
            continue;
        };
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read(&text, path)));
        match outcome {
            Ok(Read::Accepted) => tally.accepted += 1,
            Ok(Read::RefusedAsWritten) => tally.refused_as_written += 1,
            Ok(Read::RefusedAsInvalid) => tally.refused_as_invalid += 1,
            Err(_) => panic!("case {case} of {} panicked:\n{text}", path.display()),
        }
    }
    tally
}

/// Checks the counts and prints them.
fn report(what: &str, seeds: usize, tally: &Tally) {
    println!(
        "{what}: {} cases from {seeds} seeds; accepted {}, refused as written {}, refused by \
         validation {}; not writable as TOML {}",
        tally.cases,
        tally.accepted,
        tally.refused_as_written,
        tally.refused_as_invalid,
        tally.unwritable
    );
    assert_eq!(
        tally.accepted + tally.refused_as_written + tally.refused_as_invalid + tally.unwritable,
        tally.cases
    );
    // An accepted file went through validation as much as one it refused.
    assert!(
        tally.accepted + tally.refused_as_invalid > tally.cases / 3,
        "validation, not the deserializer, is what is exercised: {tally:?}"
    );
    assert!(tally.refused_as_invalid > 0, "{tally:?}");
    assert!(tally.accepted > 0, "a harmless mutation is accepted");
    assert!(!canary().exists(), "nothing a file said was run");
}

fn files_in(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut files: Vec<(PathBuf, String)> = std::fs::read_dir(dir)
        .expect("a directory")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("readable");
            (p, text)
        })
        .collect();
    files.sort();
    files
}

/// Whether a name read from a file keeps a run's directory inside `--out`.
fn stays_inside(name: &str) -> bool {
    let out = Path::new("/out");
    let dir = out.join(format!("{name}-0123456789"));
    !name.starts_with('.') && dir.parent() == Some(out) && !name.chars().any(char::is_control)
}

#[test]
fn ten_thousand_field_mutations_of_scenario_files_are_refused_or_safe() {
    let mut seeds = files_in(&repo().join("scenarios"));
    seeds.push((PathBuf::from("external-seed.toml"), EXTERNAL.to_owned()));
    for (path, text) in &seeds {
        Scenario::parse(text, path).expect("every seed is valid");
    }
    let tally = fuzz(&seeds, 0x5eed_0001, |text, path| {
        match Scenario::parse(text, path) {
            Ok(scenario) => {
                assert!(stays_inside(&scenario.name), "{:?}", scenario.name);
                // What a run writes of it must be writable too.
                toml::to_string(&scenario.settings()).expect("settings as TOML");
                Read::Accepted
            }
            Err(e) => {
                let message = e.to_string();
                assert!(message.contains(&*path.to_string_lossy()), "{message}");
                match e {
                    ScenarioError::Invalid { .. } => Read::RefusedAsInvalid,
                    _ => Read::RefusedAsWritten,
                }
            }
        }
    });
    report("scenario files", seeds.len(), &tally);
}

#[test]
fn ten_thousand_field_mutations_of_matrix_files_are_refused_or_safe() {
    let examples = repo().join("examples");
    let mut seeds = vec![(
        examples.join("stacks.toml"),
        std::fs::read_to_string(examples.join("stacks.toml")).expect("stacks.toml"),
    )];
    seeds.extend(files_in(&examples.join("sweeps")));
    let catalogue = Catalogue::built_in();
    for (path, text) in &seeds {
        Matrix::parse(text, path, &catalogue).expect("every seed is valid");
    }
    let tally = fuzz(&seeds, 0x5eed_0002, |text, path| {
        match Matrix::parse(text, path, &catalogue) {
            Ok(matrix) => {
                assert!(stays_inside(&matrix.name), "{:?}", matrix.name);
                for cell in &matrix.cells {
                    assert!(
                        stays_inside(&cell.scenario.name),
                        "{:?}",
                        cell.scenario.name
                    );
                }
                Read::Accepted
            }
            Err(e) => {
                let message = e.to_string();
                assert!(message.contains(&*path.to_string_lossy()), "{message}");
                match e {
                    MatrixError::Parse { .. } => Read::RefusedAsWritten,
                    _ => Read::RefusedAsInvalid,
                }
            }
        }
    });
    report("matrix files", seeds.len(), &tally);
}
