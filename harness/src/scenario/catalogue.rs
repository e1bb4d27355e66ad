//! The named scenarios: the ones built into the crate (the repository's `scenarios/`, embedded
//! when it was compiled), with a directory of the user's laid over them. A file in that
//! directory adds a name, or replaces the built-in scenario of the same file name.
//!
//! It owns finding a scenario by name or path and listing the names; it must not start anything.

use std::path::{Path, PathBuf};

use super::{Scenario, ScenarioError};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/built_in_scenarios.rs"));
}

/// Where named scenarios are looked up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalogue {
    /// The user's directory, whose files come before the built-in ones.
    dir: Option<PathBuf>,
}

/// One scenario file found by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    /// The file's name without `.toml`: what `run` and matrix files call it.
    pub name: String,
    /// Where its text is.
    pub origin: Origin,
}

/// Where a named scenario's text is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Compiled into the crate.
    BuiltIn(&'static str),
    /// A file on disk.
    File(PathBuf),
}

impl Named {
    /// What messages call it: the file's path, or its name marked as built in.
    pub fn path(&self) -> PathBuf {
        match &self.origin {
            Origin::File(path) => path.clone(),
            Origin::BuiltIn(_) => PathBuf::from(format!("{}.toml (built in)", self.name)),
        }
    }

    /// The scenario's text.
    pub fn text(&self) -> Result<String, ScenarioError> {
        match &self.origin {
            Origin::BuiltIn(text) => Ok((*text).to_owned()),
            Origin::File(path) => {
                std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
                    path: path.clone(),
                    source,
                })
            }
        }
    }

    /// The scenario, parsed and validated.
    pub fn load(&self) -> Result<Scenario, ScenarioError> {
        Scenario::parse(&self.text()?, &self.path())
    }
}

impl Catalogue {
    /// The built-in scenarios only.
    pub fn built_in() -> Self {
        Self { dir: None }
    }

    /// The built-in scenarios with `dir`'s `.toml` files laid over them.
    pub fn with_dir(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: Some(dir.into()),
        }
    }

    /// Every named scenario, sorted by name; a file in the directory hides the built-in one of
    /// the same name. A directory that cannot be read is an error, naming it.
    pub fn entries(&self) -> Result<Vec<Named>, ScenarioError> {
        let mut found: Vec<Named> = embedded::BUILT_IN
            .iter()
            .map(|(file, text)| Named {
                name: file.trim_end_matches(".toml").to_owned(),
                origin: Origin::BuiltIn(text),
            })
            .collect();
        if let Some(dir) = &self.dir {
            for path in toml_files(dir)? {
                let Some(name) = path.file_stem().map(|s| s.to_string_lossy().into_owned()) else {
                    continue;
                };
                found.retain(|named| named.name != name);
                found.push(Named {
                    name,
                    origin: Origin::File(path),
                });
            }
        }
        found.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(found)
    }

    /// `name_or_path` as a file that exists, else as a name in the catalogue.
    pub fn locate(&self, name_or_path: &str) -> Result<Named, ScenarioError> {
        let as_path = Path::new(name_or_path);
        if as_path.is_file() {
            return Ok(Named {
                name: as_path
                    .file_stem()
                    .map_or_else(String::new, |s| s.to_string_lossy().into_owned()),
                origin: Origin::File(as_path.to_owned()),
            });
        }
        let entries = self.entries()?;
        if let Some(named) = entries.iter().find(|n| n.name == name_or_path) {
            return Ok(named.clone());
        }
        Err(ScenarioError::Unknown {
            name: name_or_path.to_owned(),
            looked_in: self.describe(),
            known: entries.into_iter().map(|n| n.name).collect(),
        })
    }

    /// Loads `name_or_path`: a file, or a named scenario.
    pub fn load(&self, name_or_path: &str) -> Result<Scenario, ScenarioError> {
        self.locate(name_or_path)?.load()
    }

    /// Every named scenario as `(name, description)`, sorted by name. A scenario that does not
    /// parse is listed with its error as the description, so a broken file is visible, not
    /// hidden.
    pub fn list(&self) -> Result<Vec<(String, String)>, ScenarioError> {
        Ok(self
            .entries()?
            .into_iter()
            .map(|named| match named.load() {
                Ok(s) => (s.name, s.description),
                Err(e) => (named.name, format!("(invalid) {e}")),
            })
            .collect())
    }

    /// Where names are looked up, in words.
    pub fn describe(&self) -> String {
        match &self.dir {
            Some(dir) => format!("{} and the built-in scenarios", dir.display()),
            None => "the built-in scenarios".to_owned(),
        }
    }
}

/// Every `.toml` file in `dir`, sorted by path.
fn toml_files(dir: &Path) -> Result<Vec<PathBuf>, ScenarioError> {
    let entries = std::fs::read_dir(dir).map_err(|source| ScenarioError::Read {
        path: dir.to_owned(),
        source,
    })?;
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|ext| ext == "toml") && p.is_file())
        .collect();
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
    }

    #[test]
    fn every_shipped_file_is_built_in_with_the_same_text() {
        let built_in = Catalogue::built_in().entries().expect("entries");
        let files = toml_files(&shipped_dir()).expect("the shipped directory");
        assert_eq!(built_in.len(), files.len());
        for path in &files {
            let stem = path.file_stem().and_then(|s| s.to_str()).expect("a name");
            let named = built_in
                .iter()
                .find(|n| n.name == stem)
                .unwrap_or_else(|| panic!("{stem} is not built in"));
            let Origin::BuiltIn(text) = named.origin else {
                panic!("{stem} is not built in");
            };
            assert_eq!(
                text,
                std::fs::read_to_string(path).expect("read"),
                "{path:?}"
            );
        }
    }

    #[test]
    fn a_file_in_the_directory_replaces_the_built_in_one_and_adds_its_own_names() {
        let dir = std::env::temp_dir().join(format!("catalogue-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let kill = Catalogue::built_in().load("kill-master").expect("built in");
        let mut mine = kill.clone();
        mine.description = "mine".to_owned();
        std::fs::write(
            dir.join("kill-master.toml"),
            toml::to_string(&mine).expect("toml"),
        )
        .expect("write");
        mine.name = "extra".to_owned();
        std::fs::write(
            dir.join("extra.toml"),
            toml::to_string(&mine).expect("toml"),
        )
        .expect("write");
        let catalogue = Catalogue::with_dir(&dir);
        let listed = catalogue.list().expect("list");
        let built_in = Catalogue::built_in().list().expect("list");
        std::fs::remove_dir_all(&dir).expect("clean up");
        assert_eq!(listed.len(), built_in.len() + 1);
        let description = |name: &str| {
            listed
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, d)| d.clone())
        };
        assert_eq!(description("kill-master").as_deref(), Some("mine"));
        assert_eq!(description("extra").as_deref(), Some("mine"));
        assert_eq!(
            description("stop-master"),
            built_in
                .iter()
                .find(|(n, _)| n == "stop-master")
                .map(|(_, d)| d.clone())
        );
    }

    #[test]
    fn an_unknown_name_lists_the_known_ones_and_where_they_were_looked_for() {
        let message = Catalogue::with_dir("/nonexistent-scenarios")
            .locate("kill-mastr")
            .expect_err("unknown")
            .to_string();
        assert!(message.contains("/nonexistent-scenarios"), "{message}");
        let message = Catalogue::built_in()
            .locate("kill-mastr")
            .expect_err("unknown")
            .to_string();
        assert!(
            message.contains("kill-master") && message.contains("built-in"),
            "{message}"
        );
    }
}
