//! The JUnit XML of a repeat, for CI systems that show test results: one test suite for the
//! scenario, one test case per bounded expectation. It owns the XML shape only.
//!
//! Written with quick-xml, which does the escaping.

use std::io::Write;

use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;

use super::{DetectionRate, RepeatReport};

impl RepeatReport {
    /// JUnit XML: one test suite for the scenario, one test case per bounded expectation, failed
    /// when it failed in any run, with the runs it failed in; reported counts go to the suite's
    /// output.
    pub fn write_junit(&self, out: impl Write) -> std::io::Result<()> {
        let bounded: Vec<&DetectionRate> = self
            .expectations
            .iter()
            .filter(|r| !r.reported_only)
            .collect();
        let tests = bounded.len().to_string();
        let failures = bounded
            .iter()
            .filter(|r| r.failed_in > 0)
            .count()
            .to_string();
        let mut xml = Writer::new_with_indent(out, b' ', 2);
        xml.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        xml.create_element("testsuites")
            .with_attribute(("name", "failover-drill"))
            .with_attribute(("tests", tests.as_str()))
            .with_attribute(("failures", failures.as_str()))
            .write_inner_content(|xml| {
                xml.create_element("testsuite")
                    .with_attribute(("name", self.scenario.as_str()))
                    .with_attribute(("tests", tests.as_str()))
                    .with_attribute(("failures", failures.as_str()))
                    .write_inner_content(|xml| {
                        for rate in &bounded {
                            self.write_case(xml, rate)?;
                        }
                        let reported = self.reported_lines();
                        if !reported.is_empty() {
                            xml.create_element("system-out")
                                .write_text_content(BytesText::new(&reported))?;
                        }
                        Ok(())
                    })?;
                Ok(())
            })?;
        Ok(())
    }

    fn write_case<W: Write>(
        &self,
        xml: &mut Writer<W>,
        rate: &DetectionRate,
    ) -> std::io::Result<()> {
        let case = xml
            .create_element("testcase")
            .with_attribute(("classname", self.scenario.as_str()))
            .with_attribute(("name", rate.expectation.as_str()));
        if rate.failed_in == 0 {
            case.write_empty()?;
            return Ok(());
        }
        let message = format!("failed in {} of {} runs", rate.failed_in, rate.runs);
        let runs: Vec<String> = self
            .runs
            .iter()
            .filter(|r| r.failed.contains(&rate.expectation))
            .map(|r| r.run_dir.display().to_string())
            .collect();
        case.write_inner_content(|xml| {
            xml.create_element("failure")
                .with_attribute(("message", message.as_str()))
                .write_text_content(BytesText::new(&runs.join("\n")))?;
            Ok(())
        })?;
        Ok(())
    }

    fn reported_lines(&self) -> String {
        self.expectations
            .iter()
            .filter(|r| r.reported_only)
            .map(|r| {
                format!(
                    "{}: above 0 in {} of {} runs (largest {}, {} in all)\n",
                    r.expectation, r.failed_in, r.runs, r.max_actual, r.total_actual
                )
            })
            .collect()
    }
}
