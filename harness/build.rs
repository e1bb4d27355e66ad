//! Embeds the named scenarios (`../scenarios/*.toml`) in the crate, so an installed
//! `failover-drill` knows them from any directory and a library user can load them by name.
//!
//! It writes `$OUT_DIR/built_in_scenarios.rs`: one `include_str!` per file, so the compiler
//! tracks each file's content, and a rerun of this script whenever the directory's list of
//! files changes (a crate that embeds a whole directory in a macro misses added files on stable
//! Rust). Outside the repository (a packaged crate) the list is empty, with a warning.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let dir = manifest.join("..").join("scenarios");
    println!("cargo::rerun-if-changed={}", dir.display());
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|ext| ext == "toml"))
            .collect(),
        Err(e) => {
            println!(
                "cargo::warning=no scenarios embedded: cannot read {}: {e}",
                dir.display()
            );
            Vec::new()
        }
    };
    files.sort();
    let mut code = String::from(
        "/// The scenarios shipped in `scenarios/`, as (file name, text).\n\
         pub(crate) static BUILT_IN: &[(&str, &str)] = &[\n",
    );
    for path in &files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| format!("{} has a name that is not UTF-8", path.display()))?;
        let absolute = path.canonicalize()?;
        writeln!(code, "    ({name:?}, include_str!({:?})),", absolute)?;
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR")?).join("built_in_scenarios.rs");
    std::fs::write(out, code)?;
    Ok(())
}
