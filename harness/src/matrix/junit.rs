//! The JUnit XML of a matrix, for CI systems that show test results: a test suite per scenario,
//! a test case per app × settings, failed with the expectations that failed (and in how many
//! runs), or in error when a run could not finish; a shard's file has only the shard's cells. It
//! owns the XML shape only.
//!
//! Written with quick-xml, which does the escaping.

use std::io::Write;

use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;

use super::outcome::{CellOutcome, CellVerdict, MatrixOutcome};

impl MatrixOutcome {
    /// JUnit XML of the grid; cells with no finished run are skipped test cases.
    pub fn write_junit(&self, out: impl Write) -> std::io::Result<()> {
        let count = |verdict: CellVerdict| {
            self.drilled_cells()
                .filter(|c| c.verdict() == verdict)
                .count()
                .to_string()
        };
        let mut xml = Writer::new_with_indent(out, b' ', 2);
        xml.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        xml.create_element("testsuites")
            .with_attribute(("name", self.name.as_str()))
            .with_attribute(("tests", self.drilled_cells().count().to_string().as_str()))
            .with_attribute(("failures", count(CellVerdict::Failed).as_str()))
            .with_attribute(("errors", count(CellVerdict::Error).as_str()))
            .with_attribute(("time", format!("{:.1}", self.wall_s).as_str()))
            .write_inner_content(|xml| {
                for (column, scenario) in self.columns.iter().enumerate() {
                    self.write_suite(xml, column, scenario)?;
                }
                Ok(())
            })?;
        Ok(())
    }

    fn write_suite<W: Write>(
        &self,
        xml: &mut Writer<W>,
        column: usize,
        scenario: &str,
    ) -> std::io::Result<()> {
        let cells: Vec<&CellOutcome> = self
            .drilled_cells()
            .filter(|c| c.column == column)
            .collect();
        if cells.is_empty() {
            return Ok(());
        }
        let count = |verdict: CellVerdict| {
            cells
                .iter()
                .filter(|c| c.verdict() == verdict)
                .count()
                .to_string()
        };
        let time: f64 = cells
            .iter()
            .flat_map(|c| c.runs.iter())
            .map(|r| r.took_s)
            .sum();
        xml.create_element("testsuite")
            .with_attribute(("name", scenario))
            .with_attribute(("tests", cells.len().to_string().as_str()))
            .with_attribute(("failures", count(CellVerdict::Failed).as_str()))
            .with_attribute(("errors", count(CellVerdict::Error).as_str()))
            .with_attribute(("skipped", count(CellVerdict::Pending).as_str()))
            .with_attribute(("time", format!("{time:.1}").as_str()))
            .write_inner_content(|xml| {
                for cell in cells {
                    self.write_case(xml, scenario, cell)?;
                }
                Ok(())
            })?;
        Ok(())
    }

    fn write_case<W: Write>(
        &self,
        xml: &mut Writer<W>,
        scenario: &str,
        cell: &CellOutcome,
    ) -> std::io::Result<()> {
        let name = self.rows[cell.row].label();
        let time: f64 = cell.runs.iter().map(|r| r.took_s).sum();
        let case = xml
            .create_element("testcase")
            .with_attribute(("classname", scenario))
            .with_attribute(("name", name.as_str()))
            .with_attribute(("time", format!("{time:.1}").as_str()));
        let reported: String = cell.reported().iter().map(|r| format!("{r}\n")).collect();
        let runs: String = cell
            .runs
            .iter()
            .map(|r| match &r.error {
                Some(e) => format!("could not finish: {e}\n"),
                None => format!(
                    "{} {}{}\n",
                    if r.passed { "passed" } else { "FAILED" },
                    r.run_dir.display(),
                    if r.failed.is_empty() {
                        String::new()
                    } else {
                        let failed: Vec<String> =
                            r.failed.iter().map(ToString::to_string).collect();
                        format!(": {}", failed.join(", "))
                    }
                ),
            })
            .chain(std::iter::once(reported))
            .collect();
        match cell.verdict() {
            CellVerdict::Passed => {
                case.write_inner_content(|xml| {
                    xml.create_element("system-out")
                        .write_text_content(BytesText::new(&runs))?;
                    Ok(())
                })?;
            }
            CellVerdict::Pending => {
                case.write_inner_content(|xml| {
                    xml.create_element("skipped")
                        .with_attribute(("message", "not run: the matrix was stopped"))
                        .write_empty()?;
                    Ok(())
                })?;
            }
            verdict => {
                let element = if verdict == CellVerdict::Failed {
                    "failure"
                } else {
                    "error"
                };
                let message = cell.failures().join("; ");
                case.write_inner_content(|xml| {
                    xml.create_element(element)
                        .with_attribute(("message", message.as_str()))
                        .write_text_content(BytesText::new(&runs))?;
                    Ok(())
                })?;
            }
        }
        Ok(())
    }
}
