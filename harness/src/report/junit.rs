//! JUnit XML of one scenario's expectations, for CI systems that show test results: one test
//! suite for the scenario, one test case per bounded expectation (failed with a message and
//! details), and the reported counts as the suite's output. A run and a repeat both write it;
//! they say what goes in, this module owns the shape.
//!
//! Written with quick-xml, which does the escaping.

use std::io::Write;

use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;

/// One bounded expectation as a test case.
#[derive(Debug, Clone)]
pub struct JunitCase {
    /// The expectation: `lost sessions <= 0`.
    pub name: String,
    /// When it failed: a short message, and the details.
    pub failure: Option<(String, String)>,
}

/// Writes the suite of `scenario`: its `cases`, and `output` (the reported counts) when there is
/// any.
pub fn write_scenario_junit(
    out: impl Write,
    scenario: &str,
    cases: &[JunitCase],
    output: &str,
) -> std::io::Result<()> {
    let tests = cases.len().to_string();
    let failures = cases
        .iter()
        .filter(|c| c.failure.is_some())
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
                .with_attribute(("name", scenario))
                .with_attribute(("tests", tests.as_str()))
                .with_attribute(("failures", failures.as_str()))
                .write_inner_content(|xml| {
                    for case in cases {
                        let element = xml
                            .create_element("testcase")
                            .with_attribute(("classname", scenario))
                            .with_attribute(("name", case.name.as_str()));
                        match &case.failure {
                            None => {
                                element.write_empty()?;
                            }
                            Some((message, details)) => {
                                element.write_inner_content(|xml| {
                                    xml.create_element("failure")
                                        .with_attribute(("message", message.as_str()))
                                        .write_text_content(BytesText::new(details))?;
                                    Ok(())
                                })?;
                            }
                        }
                    }
                    if !output.is_empty() {
                        xml.create_element("system-out")
                            .write_text_content(BytesText::new(output))?;
                    }
                    Ok(())
                })?;
            Ok(())
        })?;
    Ok(())
}
