//! Matrix files: which apps, scenarios and settings to drill together, expanded into cells.
//!
//! A matrix names apps under test (`[[apps]]`, each a set of `[app]` fields laid over every
//! scenario's own), scenarios (names, paths, or `"all"`), and `[sweep]` lists of values for any
//! scenario field. Apps × the product of the sweep's lists make the rows, scenarios the columns;
//! each cell is one drill, run `repeat` times. A list of one value sets that field in every
//! cell. Every cell is built and validated before anything starts, so a bad value is refused
//! with its file, line and field.
//!
//! It owns parsing, validation and expansion; it must not run anything (`drills` runs cells) nor
//! judge results (`matrix::outcome` tallies the runs' own verdicts).
//!
//! - `sweep`: dotted field paths inside a scenario's TOML, and the product of their values.
//! - `outcome`: the grid of results, its summary and its Markdown table.
//! - `junit`, `html`: the grid as JUnit XML and as a page with the loss-against-outage plot.
//! - `files`: the four files in the matrix's directory.
//! - `rates`: per expectation, in how many of a cell's runs it failed.
//! - `shard`: the matrix's identity and the slice of its drills `--shard K/N` runs.
//! - `merge`: shards' directories checked and put together into the one report.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::scenario::{Catalogue, Named, Origin, Scenario, ScenarioError};

mod files;
mod html;
mod junit;
pub mod merge;
pub mod outcome;
pub mod rates;
pub mod shard;
mod sweep;

pub use outcome::{CellRun, FailedExpectation, MatrixOutcome};
pub use shard::{Drill, Shard};
pub use sweep::Setting;

/// Most drills (cells × repeat) one matrix may ask for.
pub const MAX_DRILLS: usize = 2000;

/// Most runs of one cell.
pub const MAX_REPEAT: u32 = 1000;

/// The app of a row that names none, when its scenarios' own `[app]`s differ.
pub const SCENARIO_APP: &str = "each scenario's app";

/// What is wrong with a matrix file.
#[derive(Debug, thiserror::Error)]
pub enum MatrixError {
    /// The file could not be read.
    #[error("cannot read matrix file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a valid matrix; `message` names the line and field.
    #[error("matrix file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A field's value cannot be used.
    #[error("matrix file {path}{}: field '{field}': {message}", line_part(*.line))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The line of the field, when it is in the file.
        line: Option<usize>,
        /// The dotted field name.
        field: String,
        /// What is wrong and what would be right.
        message: String,
    },
    /// A named scenario could not be loaded.
    #[error("matrix file {path}: {source}")]
    Scenario {
        /// The file.
        path: PathBuf,
        /// Why the scenario could not be loaded.
        source: ScenarioError,
    },
    /// One cell's scenario, with the row's app and settings laid over it, is not valid.
    #[error("matrix file {path}: the cell {row} × {scenario} is not a valid drill: {message}")]
    Cell {
        /// The file.
        path: PathBuf,
        /// The row's app and settings.
        row: String,
        /// The column's scenario.
        scenario: String,
        /// What is wrong, naming the field.
        message: String,
    },
}

fn line_part(line: Option<usize>) -> String {
    line.map_or_else(String::new, |l| format!(", line {l}"))
}

/// A row of the grid: one app with one combination of swept values.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Row {
    /// The app's name in the matrix file.
    pub app: String,
    /// The swept fields and their values in this row, in the sweep's order.
    pub settings: Vec<Setting>,
}

impl Row {
    /// `app` alone, or `app: field=value, field=value` with each field's last segment.
    pub fn label(&self) -> String {
        if self.settings.is_empty() {
            return self.app.clone();
        }
        format!("{}: {}", self.app, self.settings_label())
    }

    /// The settings alone, `field=value, ...`, or `defaults` when nothing is swept.
    pub fn settings_label(&self) -> String {
        if self.settings.is_empty() {
            return "defaults".to_owned();
        }
        let settings: Vec<String> = self.settings.iter().map(Setting::short).collect();
        settings.join(", ")
    }

    /// A directory name for the row's runs: the label with anything but letters, digits, `-`,
    /// `_`, `.` and `=` replaced.
    pub fn slug(&self) -> String {
        let mut slug: String = self
            .label()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_.=".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        while slug.contains("__") {
            slug = slug.replace("__", "_");
        }
        slug.trim_matches('_').to_owned()
    }
}

/// One drill of the grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Its row, an index into [`Matrix::rows`].
    pub row: usize,
    /// Its column, an index into [`Matrix::columns`].
    pub column: usize,
    /// The scenario with the row's app and settings laid over it, validated.
    pub scenario: Scenario,
}

/// A matrix, expanded: every cell is a valid scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    /// Name used for its directory and its report.
    pub name: String,
    /// One line on what it asks.
    pub description: String,
    /// Runs of each cell.
    pub repeat: u32,
    /// Swept fields given one value: set in every cell, so not part of any row's label.
    pub fixed: Vec<Setting>,
    /// App × settings, in the file's app order, then the sweep's product.
    pub rows: Vec<Row>,
    /// Scenario names, in the file's order.
    pub columns: Vec<String>,
    /// Row by row, column by column.
    pub cells: Vec<Cell>,
}

/// A matrix file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MatrixFile {
    name: Option<String>,
    #[serde(default)]
    description: String,
    scenarios: toml::Value,
    #[serde(default = "one")]
    repeat: u32,
    #[serde(default)]
    apps: Vec<toml::Table>,
    #[serde(default)]
    sweep: toml::Table,
}

fn one() -> u32 {
    1
}

/// A scenario as a TOML table, and where it came from.
struct Base {
    name: String,
    path: PathBuf,
    table: toml::Table,
}

/// One app of the file: its name and the `[app]` fields it lays over each scenario's.
struct AppOverlay {
    name: String,
    fields: toml::Table,
}

impl Matrix {
    /// Reads and expands a matrix file; scenario names are looked up in `catalogue`, paths
    /// relative to the matrix file first.
    pub fn from_file(path: &Path, catalogue: &Catalogue) -> Result<Self, MatrixError> {
        let text = std::fs::read_to_string(path).map_err(|source| MatrixError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path, catalogue)
    }

    /// Parses, validates and expands matrix text; `path` is used in messages and to resolve
    /// scenario paths.
    pub fn parse(text: &str, path: &Path, catalogue: &Catalogue) -> Result<Self, MatrixError> {
        let file: MatrixFile = toml::from_str(text).map_err(|e| MatrixError::Parse {
            path: path.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        let invalid = |field: &str, keys: &[&str], message: String| MatrixError::Invalid {
            path: path.to_owned(),
            line: sweep::line_of(text, keys),
            field: field.to_owned(),
            message,
        };
        let name = match file.name {
            Some(name) if name.trim().is_empty() => {
                return Err(invalid("name", &["name"], "must not be empty".into()))
            }
            Some(name) => {
                crate::scenario::path_safe(&name)
                    .map_err(|message| invalid("name", &["name"], message))?;
                name
            }
            None => path
                .file_stem()
                .map_or_else(|| "matrix".to_owned(), |s| s.to_string_lossy().into_owned()),
        };
        if file.repeat == 0 || file.repeat > MAX_REPEAT {
            return Err(invalid(
                "repeat",
                &["repeat"],
                format!("{} is not between 1 and {}", file.repeat, MAX_REPEAT),
            ));
        }
        let bases = load_bases(&file.scenarios, path, catalogue, &invalid)?;
        let apps = app_overlays(&file.apps, &invalid)?;
        let swept = sweep::flatten(&file.sweep).map_err(|(field, message)| {
            let keys: Vec<&str> = std::iter::once("sweep").chain(field.split('.')).collect();
            invalid(&format!("sweep.{field}"), &keys, message)
        })?;
        // Each swept value alone on the first scenario: a field that does not exist or a value of
        // the wrong type is the sweep's fault, named with its line.
        if let Some(first) = bases.first() {
            for (field, values) in &swept {
                for value in values {
                    let mut table = first.table.clone();
                    let keys: Vec<&str> =
                        std::iter::once("sweep").chain(field.split('.')).collect();
                    sweep::set(&mut table, field, value.clone())
                        .and_then(|()| scenario_of(table).map(drop))
                        .map_err(|message| invalid(&format!("sweep.{field}"), &keys, message))?;
                }
            }
        }
        // A field with one value is a setting of every cell, not a dimension of the grid.
        let (single, swept): (Vec<_>, Vec<_>) =
            swept.into_iter().partition(|(_, values)| values.len() == 1);
        let fixed: Vec<Setting> = sweep::product(&single).pop().unwrap_or_default();
        let combinations = sweep::product(&swept);
        let drills = apps.len() * combinations.len() * bases.len() * file.repeat as usize;
        if drills > MAX_DRILLS {
            return Err(invalid(
                "sweep",
                &["sweep"],
                format!(
                    "{} apps × {} combinations × {} scenarios × repeat {} is {drills} drills, \
                     more than {MAX_DRILLS}: sweep fewer values",
                    apps.len(),
                    combinations.len(),
                    bases.len(),
                    file.repeat
                ),
            ));
        }
        let mut matrix = Self {
            name,
            description: file.description,
            repeat: file.repeat,
            fixed,
            rows: Vec::new(),
            columns: bases.iter().map(|b| b.name.clone()).collect(),
            cells: Vec::new(),
        };
        for app in &apps {
            for settings in &combinations {
                let row = Row {
                    app: app.name.clone(),
                    settings: settings.clone(),
                };
                for (column, base) in bases.iter().enumerate() {
                    let scenario =
                        cell_scenario(base, app, &matrix.fixed, &row).map_err(|message| {
                            MatrixError::Cell {
                                path: path.to_owned(),
                                row: row.label(),
                                scenario: base.name.clone(),
                                message,
                            }
                        })?;
                    matrix.cells.push(Cell {
                        row: matrix.rows.len(),
                        column,
                        scenario,
                    });
                }
                matrix.rows.push(row);
            }
        }
        matrix.name_scenario_apps();
        Ok(matrix)
    }

    /// Names the app of each row that names none after what its cells run, when they all run the
    /// same ([`crate::scenario::AppSpec::label`]), so the grid says what was drilled.
    fn name_scenario_apps(&mut self) {
        for (index, row) in self.rows.iter_mut().enumerate() {
            if row.app != SCENARIO_APP {
                continue;
            }
            let mut labels = self
                .cells
                .iter()
                .filter(|c| c.row == index)
                .map(|c| c.scenario.app.label());
            let Some(first) = labels.next() else {
                continue;
            };
            if labels.all(|label| label == first) {
                row.app = first;
            }
        }
    }

    /// A one-row matrix of scenarios already loaded, as `run` makes of several scenarios or a
    /// repeat; named after its scenario when it has one, else `name`.
    pub fn of_scenarios(name: &str, scenarios: Vec<Scenario>, repeat: u32) -> Self {
        let row = Row {
            app: SCENARIO_APP.to_owned(),
            settings: Vec::new(),
        };
        let name = match scenarios.as_slice() {
            [one] => one.name.clone(),
            _ => name.to_owned(),
        };
        let mut matrix = Self {
            name,
            description: String::new(),
            repeat,
            fixed: Vec::new(),
            rows: vec![row],
            columns: scenarios.iter().map(|s| s.name.clone()).collect(),
            cells: scenarios
                .into_iter()
                .enumerate()
                .map(|(column, scenario)| Cell {
                    row: 0,
                    column,
                    scenario,
                })
                .collect(),
        };
        matrix.name_scenario_apps();
        matrix
    }

    /// Drills in all: cells × repeat.
    pub fn drills(&self) -> usize {
        self.cells.len() * self.repeat as usize
    }
}

type Invalid<'a> = dyn Fn(&str, &[&str], String) -> MatrixError + 'a;

/// The scenarios the file names, each as a TOML table.
fn load_bases(
    selection: &toml::Value,
    matrix_path: &Path,
    catalogue: &Catalogue,
    invalid: &Invalid<'_>,
) -> Result<Vec<Base>, MatrixError> {
    let scenario_error = |source| MatrixError::Scenario {
        path: matrix_path.to_owned(),
        source,
    };
    let named: Vec<Named> = match selection {
        toml::Value::String(all) if all == "all" => catalogue.entries().map_err(scenario_error)?,
        toml::Value::Array(names) if !names.is_empty() => {
            let mut named = Vec::new();
            for (i, name) in names.iter().enumerate() {
                let Some(name) = name.as_str() else {
                    return Err(invalid(
                        &format!("scenarios[{i}]"),
                        &["scenarios"],
                        "must be a scenario name or path in quotes".into(),
                    ));
                };
                let beside = matrix_path.parent().map(|p| p.join(name));
                let found = match beside.filter(|p| p.is_file()) {
                    Some(beside) => Named {
                        name: name.to_owned(),
                        origin: Origin::File(beside),
                    },
                    None => catalogue.locate(name).map_err(scenario_error)?,
                };
                named.push(found);
            }
            named
        }
        _ => {
            return Err(invalid(
                "scenarios",
                &["scenarios"],
                "must be \"all\" or a non-empty list of scenario names or paths".into(),
            ))
        }
    };
    if named.is_empty() {
        return Err(invalid(
            "scenarios",
            &["scenarios"],
            format!("\"all\" found no scenarios in {}", catalogue.describe()),
        ));
    }
    let mut bases: Vec<Base> = Vec::new();
    for found in named {
        let text = found.text().map_err(scenario_error)?;
        let path = found.path();
        let scenario = Scenario::parse(&text, &path).map_err(scenario_error)?;
        if bases.iter().any(|b| b.name == scenario.name) {
            return Err(invalid(
                "scenarios",
                &["scenarios"],
                format!("names the scenario '{}' twice", scenario.name),
            ));
        }
        // It parsed as a scenario, so it is a TOML table.
        let table: toml::Table = toml::from_str(&text).map_err(|e| {
            scenario_error(ScenarioError::Parse {
                path: path.clone(),
                message: e.to_string(),
            })
        })?;
        bases.push(Base {
            name: scenario.name,
            path,
            table,
        });
    }
    Ok(bases)
}

/// The `[[apps]]` entries, each checked as `[app]` fields on their own; the scenarios' own apps
/// when there are none.
fn app_overlays(
    apps: &[toml::Table],
    invalid: &Invalid<'_>,
) -> Result<Vec<AppOverlay>, MatrixError> {
    if apps.is_empty() {
        return Ok(vec![AppOverlay {
            name: SCENARIO_APP.to_owned(),
            fields: toml::Table::new(),
        }]);
    }
    let mut overlays: Vec<AppOverlay> = Vec::new();
    for (i, app) in apps.iter().enumerate() {
        let mut fields = app.clone();
        let index = i.to_string();
        let keys = ["apps", index.as_str(), "name"];
        let name = match fields.remove("name") {
            Some(toml::Value::String(name)) if !name.trim().is_empty() => name,
            _ => {
                return Err(invalid(
                    &format!("apps[{i}].name"),
                    &keys[..2],
                    "every app needs a name in quotes, used as its row's label".into(),
                ))
            }
        };
        if overlays.iter().any(|o| o.name == name) {
            return Err(invalid(
                &format!("apps[{i}].name"),
                &keys,
                format!("'{name}' names two apps"),
            ));
        }
        if let Err(e) = toml::Value::Table(fields.clone()).try_into::<crate::scenario::AppSpec>() {
            return Err(invalid(
                &format!("apps[{i}]"),
                &keys[..2],
                format!("not an [app] field or value: {}", e.to_string().trim_end()),
            ));
        }
        overlays.push(AppOverlay { name, fields });
    }
    Ok(overlays)
}

/// The base scenario with the app's fields and the row's settings laid over it, validated.
fn cell_scenario(
    base: &Base,
    app: &AppOverlay,
    fixed: &[Setting],
    row: &Row,
) -> Result<Scenario, String> {
    let mut table = base.table.clone();
    let app_table = table
        .entry("app")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let toml::Value::Table(app_table) = app_table {
        // Which app runs is one choice: naming one replaces the scenario's.
        let chooses = ["command", "image", "mutant"];
        if chooses.iter().any(|k| app.fields.contains_key(*k)) {
            for key in chooses {
                app_table.remove(key);
            }
        }
        lay_over(app_table, &app.fields);
    }
    for setting in fixed.iter().chain(&row.settings) {
        sweep::set(&mut table, &setting.field, setting.value.clone())?;
    }
    let scenario = scenario_of(table)?;
    scenario.validate(&base.path).map_err(|e| e.to_string())?;
    // A fault that would miss the row's app in its container is refused here, with the cell,
    // rather than when its drill starts.
    crate::nemesis::check_app_reach(&scenario.faults, scenario.app.image.is_some())
        .map_err(|e| e.to_string())?;
    Ok(scenario)
}

/// Lays `over` onto `base`: tables merge field by field, any other value replaces.
fn lay_over(base: &mut toml::Table, over: &toml::Table) {
    for (key, value) in over {
        match (base.get_mut(key), value) {
            (Some(toml::Value::Table(inner)), toml::Value::Table(over_inner)) => {
                lay_over(inner, over_inner);
            }
            _ => {
                base.insert(key.clone(), value.clone());
            }
        }
    }
}

fn scenario_of(table: toml::Table) -> Result<Scenario, String> {
    toml::Value::Table(table)
        .try_into::<Scenario>()
        .map_err(|e| e.to_string().trim_end().to_owned())
}

#[cfg(test)]
mod tests;
