//! The tests that start no cluster: checker properties, the command line's answers to mistakes,
//! the lock file's pins, the HTML report in a browser and a matrix's files. One binary, so the
//! crate is linked once for all of them; CI runs it at a lower priority than the drills.

#[path = "../common/mod.rs"]
mod common;

mod cause_properties;
mod checker_properties;
mod cli;
mod dependency_pins;
mod file_fuzz;
mod html_report;
mod matrix_files;
