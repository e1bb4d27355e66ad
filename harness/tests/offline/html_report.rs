//! The HTML report opens in a real browser with no network and its plots render: headless
//! Chromium (Debian's `chromium`, which `ci/prepare.sh --tests` installs) loads the page with a
//! probe script added, and the probe reports what was laid out.

use crate::common;

use std::path::Path;
use std::process::Command;

use failover_drill::assess::{assess, RunFacts};
use failover_drill::history::synthetic::synthetic_history;
use failover_drill::history::{
    FaultEvent, FaultPhase, NodeSample, NodeState, NodeType, OkValue, Outcome, Record,
    SentinelEvent,
};

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
  const boxes = [...document.querySelectorAll('#failover text')]
    .map(t => t.getBoundingClientRect())
    .filter(b => b.width > 0);
  let overlaps = 0;
  boxes.forEach((a, i) => boxes.slice(i + 1).forEach(b => {
    if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1) overlaps++;
  }));
  document.body.setAttribute('data-labels', boxes.length);
  document.body.setAttribute('data-overlaps', overlaps);
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
    panic!("headless Chromium is needed: install it with `apt-get install -y chromium` (`bash ci/prepare.sh --tests` does)");
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
            fault: failover_drill::history::FaultKind::Kill,
            phase,
            node: "redis-1".into(),
            addr: "10.0.0.2:6379".into(),
            cut: None,
            applying_since: None,
            in_flight: None,
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
    // Sentinel events a few ms apart, as kill-master's are on a 20 s axis: their labels must not
    // print over each other.
    for (after, channel, message) in [
        (9_000, "+sdown", "master mymaster 10.0.0.2 6379"),
        (
            10_500,
            "+odown",
            "master mymaster 10.0.0.2 6379 #quorum 2/2",
        ),
        (11_000, "+elected-leader", "master mymaster 10.0.0.2 6379"),
        (
            21_000,
            "+promoted-slave",
            "slave 10.0.0.3:6379 10.0.0.3 6379 @ mymaster 10.0.0.2 6379",
        ),
        (
            21_500,
            "+switch-master",
            "mymaster 10.0.0.2 6379 10.0.0.3 6379",
        ),
    ] {
        history.records.push(Record::Sentinel(SentinelEvent::heard(
            100_000 + after,
            "sentinel-1",
            channel,
            message,
        )));
    }
    // Node states for the swimlanes: the master unreachable during the fault, a sentinel naming it.
    for at in (0..400_000).step_by(20_000) {
        let master = if (100_000..200_000).contains(&at) {
            NodeState::Unreachable {
                error: "timed out".into(),
            }
        } else {
            NodeState::Master {
                run_id: "r".into(),
                offset: at as i64,
                keys: 20,
                loaded_keys: Some(0),
                replicas: 2,
                served: Default::default(),
            }
        };
        for (node, kind, state) in [
            ("redis-1", NodeType::Data, master),
            (
                "sentinel-1",
                NodeType::Sentinel,
                NodeState::Sentinel {
                    master: Some("10.0.0.2:6379".into()),
                },
            ),
        ] {
            history.records.push(Record::Node(NodeSample {
                at,
                node: node.into(),
                kind,
                addr: "10.0.0.2:6379".into(),
                state,
            }));
        }
    }
    // One value gone from the last read: a finding for the page to explain.
    if let Some(Record::Operation(op)) = history.records.iter_mut().rev().find(|r| {
        matches!(r, Record::Operation(op) if matches!(&op.outcome, Outcome::Ok(OkValue::Read { items, .. }) if items.len() > 2))
    }) {
        if let Outcome::Ok(OkValue::Read { items, .. }) = &mut op.outcome {
            items.pop();
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
    assert_eq!(attribute(&dom, "data-plots"), Some(4), "{dom:.2000}");
    assert_eq!(
        attribute(&dom, "data-drawn"),
        Some(4),
        "every plot was laid out with its shapes"
    );
    assert!(
        attribute(&dom, "data-labels").is_some_and(|n| n > 10),
        "the failover breakdown has its labels"
    );
    assert_eq!(
        attribute(&dom, "data-overlaps"),
        Some(0),
        "no label of the failover breakdown prints over another"
    );
    assert!(
        html.contains("Findings by class and cause") && html.contains("witness"),
        "the finding is shown with its witness"
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
