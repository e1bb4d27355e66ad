//! The terminal summary of a run: the verdict, each fault's failover breakdown, errors and
//! outages, the app's own counters, the findings grouped by class and cause with one witness each,
//! latency, and the expectations.

use std::io::Write;

use super::RunReport;
use crate::cause::{Explained, FindingGroup};
use crate::checker::timeline::FailoverTimeline;
use crate::checker::{Class, WitnessOp};
use crate::history::Micros;

fn opt_ms(v: Option<f64>) -> String {
    v.map_or_else(|| "never".to_owned(), |ms| format!("{ms:.0} ms"))
}

/// The store counters the sample app exports, and how the summary names them.
const STORE_COUNTERS: [(&str, &str); 4] = [
    ("sample_app_store_retries_total", "retries"),
    ("sample_app_store_errors_total", "errors"),
    ("sample_app_rediscoveries_total", "rediscoveries"),
    (
        "sample_app_switch_master_messages_total",
        "+switch-master messages",
    ),
];

/// The fault a witness's times are told from: the last to start at or before `at`, else the
/// first; `None` in a run without faults.
fn reference(failovers: &[FailoverTimeline], at: Micros) -> Option<(String, Micros)> {
    let start = |f: &FailoverTimeline| (f.fault_at_s * 1e6).round() as Micros;
    failovers
        .iter()
        .rev()
        .find(|f| start(f) <= at)
        .or_else(|| failovers.first())
        .map(|f| {
            (
                format!("{} of {} at {:.1} s", f.fault, f.node, f.fault_at_s),
                start(f),
            )
        })
}

/// The fault a group's witness is told from, for its first operation; the start of the run in a
/// run without faults.
pub(super) fn witness_reference(
    failovers: &[FailoverTimeline],
    witness: &Explained,
) -> (String, Micros) {
    let first = witness
        .finding
        .witness
        .first()
        .map_or(witness.finding.at, |w| w.intended_at);
    reference(failovers, first).unwrap_or_else(|| ("the start of the run".to_owned(), 0))
}

/// `at` relative to `t0`, signed: `+0.195 s`.
pub(super) fn relative(at: Micros, t0: Micros) -> String {
    let (sign, d) = if at >= t0 {
        ('+', at - t0)
    } else {
        ('-', t0 - at)
    };
    format!("{sign}{:.3} s", d as f64 / 1e6)
}

/// One witness line: when it was due and when it was answered, relative to the fault; what was
/// asked and what came back.
pub(super) fn witness_line(op: &WitnessOp, t0: Micros) -> String {
    let tries = if op.attempts > 1 {
        format!(" after {} attempts", op.attempts)
    } else {
        String::new()
    };
    let note = op
        .note
        .as_ref()
        .map_or_else(String::new, |n| format!(" ({n})"));
    format!(
        "{:>9} {:>9}  {} (op {}) -> {}{tries}{note}",
        relative(op.intended_at, t0),
        relative(op.ended_at, t0),
        op.request,
        op.id,
        op.answer
    )
}

impl RunReport {
    /// The terminal summary.
    pub fn write_summary(&self, out: &mut impl Write) -> std::io::Result<()> {
        let verdict = if self.passed { "PASSED" } else { "FAILED" };
        writeln!(out, "scenario {}: {verdict}", self.scenario)?;
        writeln!(
            out,
            "  machine: {} cores, kernel {}; nodes on {}; cluster ready in {:.1} s",
            self.machine.cores, self.machine.kernel, self.image, self.cluster_startup_s
        )?;
        if let Some(command) = &self.app_command {
            writeln!(out, "  app: {command}")?;
        }
        writeln!(
            out,
            "  operations: {}, HTTP attempts: {}",
            self.operations, self.attempts
        )?;
        for f in &self.failovers {
            self.write_failover(f, out)?;
        }
        writeln!(out, "  final reads: {}", self.final_reads.line())?;
        writeln!(out, "  logouts: {}", self.logouts.line())?;
        self.write_errors(out)?;
        self.write_findings(out)?;
        self.write_latency(out)?;
        for x in &self.expectations {
            if x.reported_only && x.actual == 0 {
                continue;
            }
            let mark = if x.passed { "ok  " } else { "FAIL" };
            writeln!(
                out,
                "  [{mark}] {} (actual {})",
                x.expectation,
                x.actual_text()
            )?;
        }
        writeln!(
            out,
            "  report: {} (and report.json, latency/*.hgrm)",
            self.run_dir.join("report.html").display()
        )
    }

    fn write_failover(&self, f: &FailoverTimeline, out: &mut impl Write) -> std::io::Result<()> {
        writeln!(
            out,
            "  {} of {} ({}) at {:.1} s:",
            f.fault, f.node, f.addr, f.fault_at_s
        )?;
        writeln!(
            out,
            "    detection: +sdown {}, +odown {}; election: +elected-leader {}; promotion: +promoted-slave {}, +switch-master {} (new master {})",
            opt_ms(f.sdown_ms),
            opt_ms(f.odown_ms),
            opt_ms(f.elected_leader_ms),
            opt_ms(f.promoted_ms),
            opt_ms(f.switch_master_ms),
            f.new_master.as_deref().unwrap_or("none")
        )?;
        // Only the in-process sample app reports its store's events.
        let app_first = match &self.app_command {
            None => opt_ms(f.app_first_success_ms),
            Some(_) => "not known (only the sample app reports its store's events)".to_owned(),
        };
        writeln!(
            out,
            "    app's first store success {}, first user {}, last user {} ({}/{} users recovered)",
            app_first,
            opt_ms(f.first_user_success_ms),
            opt_ms(f.last_user_success_ms),
            f.users_recovered,
            f.users
        )?;
        writeln!(
            out,
            "    healed {}, demoted by +convert-to-slave {}, back in place {}",
            opt_ms(f.healed_ms),
            opt_ms(f.demoted_ms),
            opt_ms(f.settled_ms)
        )?;
        if f.node.starts_with("redis-") && f.sdown_ms.is_some() && f.switch_master_ms.is_none() {
            writeln!(
                out,
                "    no failover: the sentinels saw {} down but promoted no replica; the cluster stayed without a master until the heal ({})",
                f.node,
                opt_ms(f.healed_ms)
            )?;
        }
        Ok(())
    }

    fn write_errors(&self, out: &mut impl Write) -> std::io::Result<()> {
        let e = &self.user_errors;
        writeln!(
            out,
            "  failed attempts: {} ({} absorbed by client retries, {} operations retried); user-visible errors: {}",
            e.failed_attempts, e.absorbed_attempts, e.retried_operations, e.visible
        )?;
        let longest = match e.longest_unavailable_user {
            Some(user) => format!(
                "{:.0} ms (user {user})",
                e.longest_unavailable as f64 / 1_000.0
            ),
            None => "no user was kept waiting and then worked again".to_owned(),
        };
        write!(out, "  longest a user could not work: {longest}")?;
        match e.never_recovered_since {
            Some(since) if e.never_recovered > 0 => writeln!(
                out,
                "; {} users never worked again, the first from {:.1} s to the end of the run",
                e.never_recovered,
                since as f64 / 1e6
            )?,
            _ => writeln!(out)?,
        }
        let counters: Vec<String> = STORE_COUNTERS
            .iter()
            .filter_map(|(metric, name)| {
                self.app_metrics
                    .get(*metric)
                    .map(|value| format!("{value} {name}"))
            })
            .collect();
        if counters.is_empty() {
            writeln!(
                out,
                "  app store: retries, errors, rediscoveries and +switch-master messages not reported by the app"
            )
        } else {
            let missing: Vec<&str> = STORE_COUNTERS
                .iter()
                .filter(|(metric, _)| !self.app_metrics.contains_key(*metric))
                .map(|(_, name)| *name)
                .collect();
            let missing = if missing.is_empty() {
                String::new()
            } else {
                format!("; {} not reported by the app", missing.join(", "))
            };
            writeln!(out, "  app store: {}{missing}", counters.join(", "))
        }
    }

    fn write_findings(&self, out: &mut impl Write) -> std::io::Result<()> {
        let found = &self.findings;
        let counts: Vec<String> = Class::ANOMALIES
            .iter()
            .map(|c| format!("{} {}", c.plural(), found.count(*c)))
            .collect();
        writeln!(out, "  anomalies: {}", counts.join(", "))?;
        if found.groups.is_empty() {
            return Ok(());
        }
        writeln!(out, "  findings by class and cause:")?;
        for class in Class::ALL {
            let groups: Vec<&FindingGroup> = found.of(class).collect();
            if groups.is_empty() {
                continue;
            }
            let (count, values) = (found.count(class), found.values(class));
            let concerning = if matches!(class, Class::Rollback | Class::StaleRead) {
                format!(" ({values} values)")
            } else {
                String::new()
            };
            writeln!(out, "    {}: {count}{concerning}", class.plural())?;
            for group in groups {
                self.write_group(group, out)?;
            }
        }
        Ok(())
    }

    fn write_group(&self, group: &FindingGroup, out: &mut impl Write) -> std::io::Result<()> {
        writeln!(out, "      {} x {}", group.count, group.summary)?;
        let witness = &group.witness;
        let (from, t0) = witness_reference(&self.failovers, witness);
        writeln!(
            out,
            "        witness: {}; user {}, times (due, answered) from the {from}:",
            witness.finding.message,
            witness
                .finding
                .user
                .map_or_else(|| "-".to_owned(), |u| u.to_string()),
        )?;
        for op in &witness.finding.witness {
            writeln!(out, "          {}", witness_line(op, t0))?;
        }
        writeln!(out, "        why: {}", witness.cause.detail)
    }

    fn write_latency(&self, out: &mut impl Write) -> std::io::Result<()> {
        let (r, o) = (&self.request_latency, &self.operation_latency);
        writeln!(
            out,
            "  request latency p50 {:.2} ms, p99 {:.2} ms, max {:.0} ms; operation (from intended start) p50 {:.2} ms, p99 {:.2} ms, max {:.0} ms",
            r.p50_ms, r.p99_ms, r.max_ms, o.p50_ms, o.p99_ms, o.max_ms
        )?;
        writeln!(
            out,
            "  load: {} model; {} operations started more than 10 ms after they were due; {} due but never started",
            self.load_model, self.late_starts, self.not_started
        )?;
        if !self.phase_latency.is_empty() {
            writeln!(
                out,
                "  operation latency (ms)  {:>7} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
                "count", "p50", "p90", "p99", "p99.9", "p99.99", "max"
            )?;
        }
        for p in &self.phase_latency {
            write!(
                out,
                "    {:<7} {:<6}        {:>7}",
                p.phase.name(),
                p.kind,
                p.latency.count
            )?;
            for ms in p.latency.columns() {
                write!(out, " {ms:>8.2}")?;
            }
            writeln!(out)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn witness_times_are_told_from_the_fault_before_them() {
        assert_eq!(relative(6_195_000, 6_000_000), "+0.195 s");
        assert_eq!(relative(5_900_000, 6_000_000), "-0.100 s");
    }
}
