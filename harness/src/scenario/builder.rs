//! A scenario written in code: the same typed sections a file has, set through closures or
//! shorthands, and checked by the same validation when built, so a mistake names its field as a
//! file's would (`workload.rate`, `faults[0].at`).
//!
//! It owns assembling a [`Scenario`]; it must not run one.

use std::path::Path;
use std::time::Duration;

use super::{
    AppSpec, Bound, Expectations, FaultAction, FaultSpec, SamplerSpec, Scenario, ScenarioError,
    Target, Topology, Workload,
};

/// What validation errors name as the scenario's file.
const BUILT_IN_CODE: &str = "(built in code)";

/// Builds a [`Scenario`]; start with [`Scenario::builder`], or from a named scenario with
/// [`ScenarioBuilder::from`].
///
/// ```
/// use std::time::Duration;
/// use failover_drill::scenario::{kinds::Kill, Bound, Scenario};
///
/// let scenario = Scenario::builder("kill-master-quickly")
///     .topology(|t| t.down_after = Duration::from_millis(800))
///     .users(10)
///     .rate(100.0)
///     .duration(Duration::from_secs(15))
///     .fault(Duration::from_secs(5), Duration::from_secs(6), Kill::default())
///     .expectations(|e| e.lost_writes = Bound::AtMost(0))
///     .longest_unavailable(Duration::from_secs(8))
///     .build()?;
/// assert_eq!(scenario.faults.len(), 1);
///
/// // A mistake names its field, as in a file.
/// let error = Scenario::builder("late-fault")
///     .duration(Duration::from_secs(10))
///     .fault(Duration::from_secs(12), Duration::from_secs(6), Kill::default())
///     .build()
///     .unwrap_err();
/// assert!(error.to_string().contains("faults[0].at"));
/// # Ok::<(), failover_drill::scenario::ScenarioError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ScenarioBuilder {
    scenario: Scenario,
}

impl Scenario {
    /// A builder for a scenario named `name`, every setting at its default and no faults.
    pub fn builder(name: impl Into<String>) -> ScenarioBuilder {
        ScenarioBuilder {
            scenario: Scenario {
                name: name.into(),
                description: String::new(),
                topology: Topology::default(),
                app: AppSpec::default(),
                workload: Workload::default(),
                faults: Vec::new(),
                expectations: Expectations::default(),
                sampler: SamplerSpec::default(),
            },
        }
    }
}

/// Starts from an existing scenario, such as a named one: `Scenario::named("kill-master")`.
impl From<Scenario> for ScenarioBuilder {
    fn from(scenario: Scenario) -> Self {
        Self { scenario }
    }
}

impl ScenarioBuilder {
    /// Renames the scenario (run directories and reports carry the name).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.scenario.name = name.into();
        self
    }

    /// One line on what the scenario shows.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.scenario.description = text.into();
        self
    }

    /// Changes the Redis topology: `|t| t.replicas = 2`.
    pub fn topology(mut self, change: impl FnOnce(&mut Topology)) -> Self {
        change(&mut self.scenario.topology);
        self
    }

    /// Changes the app section: its HTTP contract, instances, health path.
    pub fn app(mut self, change: impl FnOnce(&mut AppSpec)) -> Self {
        change(&mut self.scenario.app);
        self
    }

    /// Changes the workload: model, users, rate, retries.
    pub fn workload(mut self, change: impl FnOnce(&mut Workload)) -> Self {
        change(&mut self.scenario.workload);
        self
    }

    /// Changes the expectations that decide the verdict.
    pub fn expectations(mut self, change: impl FnOnce(&mut Expectations)) -> Self {
        change(&mut self.scenario.expectations);
        self
    }

    /// Changes how often the nodes' states are sampled.
    pub fn sampler(mut self, change: impl FnOnce(&mut SamplerSpec)) -> Self {
        change(&mut self.scenario.sampler);
        self
    }

    /// How long the workload runs; every fault starts before its end.
    pub fn duration(self, duration: Duration) -> Self {
        self.workload(|w| w.duration = duration)
    }

    /// How many virtual users log in.
    pub fn users(self, users: u32) -> Self {
        self.workload(|w| w.users = users)
    }

    /// Requests per second over all users.
    pub fn rate(self, rate: f64) -> Self {
        self.workload(|w| w.rate = rate)
    }

    /// Adds a fault at `at` on its kind's own target (the master for most kinds), lasting
    /// `lasting` before its heal; `Duration::ZERO` for the kinds that end by themselves (manual
    /// and graceful failovers, restarting the sentinels). [`fault_spec`](Self::fault_spec) takes
    /// one with another target, or repeated.
    pub fn fault(self, at: Duration, lasting: Duration, action: impl Into<FaultAction>) -> Self {
        self.fault_spec(FaultSpec::new(at, action).lasting(lasting))
    }

    /// Adds a fault as written out in full.
    pub fn fault_spec(mut self, fault: FaultSpec) -> Self {
        self.scenario.faults.push(fault);
        self
    }

    /// Removes every fault, as a baseline without faults.
    pub fn no_faults(mut self) -> Self {
        self.scenario.faults.clear();
        self
    }

    /// Fails the run when one user could not work for longer than `bound`.
    pub fn longest_unavailable(self, bound: Duration) -> Self {
        self.expectations(|e| e.longest_unavailable = Some(bound))
    }

    /// Fails the run when more writes the app acknowledged are lost than `bound`.
    pub fn lost_writes(self, bound: Bound) -> Self {
        self.expectations(|e| e.lost_writes = bound)
    }

    /// Checks every field as a scenario file's are checked; an error names the field.
    pub fn build(self) -> Result<Scenario, ScenarioError> {
        self.scenario.validate(Path::new(BUILT_IN_CODE))?;
        Ok(self.scenario)
    }
}

impl FaultSpec {
    /// A fault at `at` on its kind's own target, happening once; for kinds that last, set
    /// [`lasting`](Self::lasting).
    pub fn new(at: Duration, action: impl Into<FaultAction>) -> Self {
        Self {
            target: None,
            at,
            duration: Duration::ZERO,
            count: 1,
            every: None,
            jitter: None,
            action: action.into(),
        }
    }

    /// Hits `target` instead of the kind's own.
    pub fn on(mut self, target: Target) -> Self {
        self.target = Some(target);
        self
    }

    /// Lasts `duration` before its heal.
    pub fn lasting(mut self, duration: Duration) -> Self {
        self.duration = duration;
        self
    }

    /// Happens `count` times, one start every `every`.
    pub fn repeated(mut self, count: u32, every: Duration) -> Self {
        self.count = count;
        self.every = Some(every);
        self
    }

    /// Moves each start by up to `jitter` either way.
    pub fn jittered(mut self, jitter: Duration) -> Self {
        self.jitter = Some(jitter);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::kinds::{Kill, Partition, Pause};
    use crate::scenario::Cut;

    #[test]
    fn a_built_scenario_equals_the_same_scenario_read_from_a_file() {
        let built = Scenario::builder("p")
            .duration(Duration::from_secs(20))
            .fault_spec(
                FaultSpec::new(Duration::from_secs(5), Partition { cut: Cut::Cluster })
                    .lasting(Duration::from_secs(4)),
            )
            .fault(
                Duration::from_secs(12),
                Duration::from_secs(3),
                Kill::default(),
            )
            .longest_unavailable(Duration::from_secs(9))
            .build()
            .expect("valid");
        let parsed = Scenario::parse(
            r#"
name = "p"
[workload]
duration = "20s"
[[faults]]
kind = "partition"
cut = "cluster"
at = "5s"
duration = "4s"
[[faults]]
kind = "kill"
at = "12s"
duration = "3s"
[expectations]
longest_unavailable = "9s"
"#,
            Path::new("p.toml"),
        )
        .expect("valid");
        assert_eq!(built, parsed);
    }

    #[test]
    fn a_mistake_names_its_field() {
        let error = Scenario::builder("x")
            .fault(Duration::from_secs(1), Duration::ZERO, Pause {})
            .build()
            .expect_err("a pause needs a duration")
            .to_string();
        assert!(error.contains("faults[0].duration"), "{error}");
        let error = Scenario::builder("x")
            .rate(0.0)
            .build()
            .expect_err("no rate")
            .to_string();
        assert!(error.contains("workload.rate"), "{error}");
    }

    #[test]
    fn a_named_scenario_can_be_changed_and_keeps_the_rest() {
        let named = Scenario::named("kill-master").expect("built in");
        let changed = ScenarioBuilder::from(named.clone())
            .name("kill-master-short")
            .duration(Duration::from_secs(12))
            .build()
            .expect("valid");
        assert_eq!(changed.faults, named.faults);
        assert_eq!(changed.workload.duration, Duration::from_secs(12));
        assert_eq!(changed.name, "kill-master-short");
    }
}
