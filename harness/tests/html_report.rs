//! The HTML report opens in a real browser with no network and its plots render: headless
//! Chromium (Debian's `chromium`, which `ci/prepare.sh` installs) loads the page with a probe
//! script added, and the probe reports what was laid out.

mod common;

use std::path::Path;
use std::process::Command;

use failover_drill::assess::{assess, RunFacts};
use failover_drill::history::synthetic::synthetic_history;
use failover_drill::history::{FaultEvent, FaultPhase, Record};

/// Counts, once the page has loaded, the plots whose drawing has a real size and many shapes, and
/// measures the latency plot's fault shading.
const PROBE: &str = r#"<script>
window.addEventListener('load', () => {
  const plots = [...document.querySelectorAll('figure.plot svg')];
  const drawn = plots.filter(svg => {
    const box = svg.getBoundingClientRect();
    return box.width > 300 && box.height > 150 && svg.querySelectorAll('circle, rect, polyline, path, line, text').length > 10;
  });
  const shades = [...document.querySelectorAll('#latency rect')].filter(r => parseFloat(r.getAttribute('opacity')) < 1 && r.getBoundingClientRect().width > 5);
  document.body.setAttribute('data-plots', plots.length);
  document.body.setAttribute('data-drawn', drawn.length);
  document.body.setAttribute('data-shades', shades.length);
});
</script></body>"#;

fn chromium() -> String {
    for candidate in ["chromium", "chromium-browser"] {
        if Command::new(candidate)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return candidate.to_owned();
        }
    }
    panic!("headless Chromium is needed: install it with `apt-get install -y chromium` (ci/prepare.sh does)");
}

fn attribute(dom: &str, name: &str) -> Option<u32> {
    let start = dom.find(&format!("{name}=\""))? + name.len() + 2;
    dom[start..].split('"').next()?.parse().ok()
}

fn rendered(page: &Path) -> String {
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_report_page_renders_its_plots_offline() {
    let mut history = synthetic_history(20, 400);
    // A fault from 0.1 s to 0.2 s, and every operation inside it 80 ms slower: the spike.
    for (at, phase) in [(100_000, FaultPhase::Start), (200_000, FaultPhase::Heal)] {
        history.records.push(Record::Fault(FaultEvent {
            at,
            fault: "kill".into(),
            phase,
            node: "redis-1".into(),
            addr: "10.0.0.2:6379".into(),
        }));
    }
    for record in &mut history.records {
        if let Record::Operation(op) = record {
            if (100_000..200_000).contains(&op.intended_at) {
                op.ended_at += 80_000;
                if let Some(last) = op.attempts.last_mut() {
                    last.ended_at += 80_000;
                }
            }
        }
    }
    let dir = common::out_dir().join("html-report-test");
    std::fs::create_dir_all(&dir).expect("test directory");
    let facts = RunFacts {
        run_id: "html-test".into(),
        run_dir: dir.clone(),
        ..RunFacts::default()
    };
    let assessment = assess(&common::scenario("kill-master"), &history, facts);
    let page = assessment
        .report
        .write_html(&assessment.samples)
        .expect("report.html");
    let html = std::fs::read_to_string(&page).expect("read the page");
    assert!(only_svg_namespaces(&html), "the page fetches nothing");
    let probed = dir.join("probed.html");
    std::fs::write(&probed, html.replace("</body>", PROBE)).expect("write the probed page");

    let dom = rendered(&probed);
    assert_eq!(attribute(&dom, "data-plots"), Some(3), "{dom:.2000}");
    assert_eq!(
        attribute(&dom, "data-drawn"),
        Some(3),
        "every plot was laid out with its shapes"
    );
    assert_eq!(
        attribute(&dom, "data-shades"),
        Some(1),
        "the fault window is shaded"
    );
}

/// The only URLs a page may hold are XML namespace names, which browsers never fetch.
fn only_svg_namespaces(html: &str) -> bool {
    html.match_indices("http")
        .all(|(i, _)| html[i..].starts_with("http://www.w3.org/"))
}
