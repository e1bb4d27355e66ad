use super::*;
use crate::scenario::kinds::Kill;
use std::time::Duration;

fn parse(text: &str) -> Result<Scenario, ScenarioError> {
    Scenario::parse(text, Path::new("test.toml"))
}

#[test]
fn minimal_file_takes_every_default() {
    let s = parse("name = \"x\"").unwrap();
    assert_eq!(s.topology, Topology::default());
    assert_eq!(s.workload, Workload::default());
    assert_eq!(s.expectations.lost_writes, Bound::Report);
}

#[test]
fn reads_faults_durations_and_bounds() {
    let s = parse(
        r#"
        name = "k"
        [topology]
        down_after = "1500ms"
        [[faults]]
        kind = "kill"
        target = "master"
        at = "5s"
        duration = "8s"
        [expectations]
        lost_writes = 3
        "#,
    )
    .unwrap();
    assert_eq!(s.topology.down_after, Duration::from_millis(1500));
    assert_eq!(
        s.faults,
        vec![FaultSpec {
            target: Some(Target::Master),
            at: Duration::from_secs(5),
            duration: Duration::from_secs(8),
            count: 1,
            every: None,
            jitter: None,
            action: FaultAction::Kill(Kill::default()),
        }]
    );
    assert_eq!(s.expectations.lost_writes, Bound::AtMost(3));
}

fn error_of(text: &str) -> String {
    parse(text).unwrap_err().to_string()
}

#[test]
fn unknown_fields_name_the_field_and_line() {
    let msg = error_of("name = \"x\"\n[topology]\nreplicaz = 2\n");
    assert!(msg.contains("replicaz"), "{msg}");
    assert!(msg.contains("line 3"), "{msg}");
    assert!(msg.contains("test.toml"), "{msg}");
}

#[test]
fn bad_durations_and_kinds_are_errors() {
    assert!(error_of("name = \"x\"\n[topology]\ndown_after = \"soon\"").contains("down_after"));
    let msg = error_of("name = \"x\"\n[[faults]]\nkind = \"melt\"\nat = \"1s\"");
    assert!(msg.contains("melt"), "{msg}");
    let msg = error_of("name = \"x\"\n[expectations]\nlost_writes = \"many\"");
    assert!(msg.contains("report"), "{msg}");
}

#[test]
fn impossible_values_name_the_field() {
    let msg = error_of("name = \"x\"\n[topology]\nsentinels = 3\nquorum = 4");
    assert!(msg.contains("topology.quorum"), "{msg}");
    let msg = error_of("name = \"x\"\n[workload]\nrate = 0.0");
    assert!(msg.contains("workload.rate"), "{msg}");
    let msg = error_of(
        "name = \"x\"\n[workload]\nduration = \"5s\"\n[[faults]]\nkind = \"kill\"\ntarget = \"master\"\nat = \"6s\"\nduration = \"1s\"",
    );
    assert!(msg.contains("faults[0].at"), "{msg}");
    let msg = error_of(
        "name = \"x\"\n[[faults]]\nkind = \"kill\"\ntarget = \"redis-9\"\nat = \"1s\"\nduration = \"1s\"",
    );
    assert!(msg.contains("faults[0].target"), "{msg}");
    for lag in ["1500ms", "0s"] {
        let msg = error_of(&format!(
            "name = \"x\"\n[topology]\nmin_replicas_max_lag = \"{lag}\""
        ));
        assert!(
            msg.contains("topology.min_replicas_max_lag") && msg.contains("whole number"),
            "{msg}"
        );
    }
    assert!(parse("name = \"x\"\n[topology]\nmin_replicas_max_lag = \"2s\"").is_ok());
    for name in ["../../etc", "a/b", ".hidden", "tab\\there"] {
        let msg = error_of(&format!("name = \"{name}\""));
        assert!(
            msg.contains("field 'name'") && msg.contains("directory"),
            "{msg}"
        );
    }
    assert!(parse("name = \"my drill 2\"").is_ok());
    for master in ["my master", "m\\nx", ""] {
        let msg = error_of(&format!(
            "name = \"x\"\n[topology]\nmaster_name = \"{master}\""
        ));
        assert!(msg.contains("topology.master_name"), "{msg}");
    }
}

#[test]
fn unknown_names_list_the_known_ones() {
    let dir = std::env::temp_dir().join(format!("fd-scenarios-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("one.toml"), "name = \"one\"\ndescription = \"d\"").unwrap();
    let msg = Catalogue::with_dir(&dir)
        .load("two")
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("unknown scenario 'two'") && msg.contains("one"),
        "{msg}"
    );
    assert_eq!(Catalogue::with_dir(&dir).load("one").unwrap().name, "one");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn shipped_scenarios_parse() {
    let all = Catalogue::built_in().list().unwrap();
    assert!(all.iter().any(|(name, _)| name == "kill-master"));
    for (name, description) in all {
        assert!(
            !description.starts_with("(invalid)"),
            "{name}: {description}"
        );
    }
}

#[test]
fn fault_fields_that_depend_on_each_other_are_checked() {
    let fault = |body: &str| error_of(&format!("name = \"x\"\n[[faults]]\n{body}"));
    // A kind's own fields are its variant's: a missing one, or one of another kind, is a parse
    // error that names the field and the fields the kind takes.
    let msg = fault("kind = \"partition\"\nat = \"1s\"\nduration = \"2s\"");
    assert!(msg.contains("missing field `cut`"), "{msg}");
    let msg = fault("kind = \"pause\"\nat = \"1s\"");
    assert!(msg.contains("faults[0].duration"), "{msg}");
    let msg = fault("kind = \"manual-failover\"\nat = \"1s\"\nduration = \"2s\"");
    assert!(msg.contains("faults[0].duration"), "{msg}");
    let msg = fault("kind = \"kill\"\ntarget = \"sentinels:most\"\nat = \"1s\"\nduration = \"2s\"");
    assert!(msg.contains("sentinels:majority"), "{msg}");
    let msg = fault("kind = \"latency\"\nat = \"1s\"\nduration = \"2s\"");
    assert!(msg.contains("missing field `latency`"), "{msg}");
    for body in [
        "kind = \"latency\"\nlatency = \"20s\"\nat = \"1s\"\nduration = \"2s\"",
        "kind = \"latency\"\nlatency = \"0ms\"\nat = \"1s\"\nduration = \"2s\"",
    ] {
        let msg = fault(body);
        assert!(msg.contains("faults[0].latency"), "{msg}");
    }
    let msg = fault("kind = \"kill\"\nlatency = \"20ms\"\nat = \"1s\"\nduration = \"2s\"");
    assert!(
        msg.contains("unknown field `latency`, expected `in_flight`")
            && msg.contains("at, target, duration, count, every and jitter"),
        "{msg}"
    );
    let msg = fault("kind = \"stop\"\nat = \"1s\"\nduraton = \"2s\"");
    assert!(
        msg.contains("unknown field `duraton`")
            && msg.contains("takes only at, target, duration, count, every and jitter"),
        "{msg}"
    );
    let msg = fault(
        "kind = \"packet-loss\"\ncut = \"app\"\nloss_percent = 0\nat = \"1s\"\nduration = \"2s\"",
    );
    assert!(msg.contains("faults[0].loss_percent"), "{msg}");
    let msg = error_of("name = \"x\"\n[topology]\nreplicas = 1\nmin_replicas_to_write = 2");
    assert!(msg.contains("topology.min_replicas_to_write"), "{msg}");
    let msg = error_of("name = \"x\"\n[topology]\nreplicas = 1\n[app]\nwait_replicas = 2");
    assert!(msg.contains("app.wait_replicas"), "{msg}");
}

#[test]
fn load_models_and_ramps_are_checked() {
    let s = parse("name = \"x\"\n[workload]\nmodel = \"closed\"").unwrap();
    assert_eq!(s.workload.model, LoadModel::Closed);
    assert_eq!(
        parse("name = \"x\"").unwrap().workload.model,
        LoadModel::Open
    );
    let msg = error_of("name = \"x\"\n[workload]\nmodel = \"closed\"\nramp_to = 400.0");
    assert!(msg.contains("workload.ramp_to"), "{msg}");
    let msg = error_of("name = \"x\"\n[workload]\nramp_to = -1.0");
    assert!(msg.contains("workload.ramp_to"), "{msg}");
    let msg = error_of("name = \"x\"\n[workload]\nmodel = \"half-open\"");
    assert!(msg.contains("half-open"), "{msg}");
    let msg = error_of(
        "name = \"x\"\n[workload]\nusers = 4\nidle = { users = 4, from = \"1s\", until = \"2s\" }",
    );
    assert!(msg.contains("workload.idle.users"), "{msg}");
}

#[test]
fn targets_read_back_as_written() {
    for word in [
        "master",
        "replica",
        "replicas",
        "sentinel",
        "sentinels:minority",
        "sentinels:majority",
        "redis-2",
    ] {
        let target = Target::try_from(word.to_owned()).unwrap();
        assert_eq!(String::from(target), word);
    }
}

#[test]
fn idle_windows_and_instances_are_checked() {
    let w = |body: &str| error_of(&format!("name = \"x\"\n{body}"));
    let msg = w("[workload]\nusers = 4\n[workload.idle]\nusers = 5\nfrom = \"1s\"\nuntil = \"2s\"");
    assert!(msg.contains("workload.idle.users"), "{msg}");
    let msg = w("[workload.idle]\nusers = 1\nfrom = \"3s\"\nuntil = \"2s\"");
    assert!(msg.contains("workload.idle.until"), "{msg}");
    let msg = w("[app]\ninstances = 0");
    assert!(msg.contains("app.instances"), "{msg}");
    let ok = parse("name = \"x\"\n[app]\ninstances = 2\n[workload.idle]\nusers = 3\nfrom = \"1s\"\nuntil = \"2s\"")
        .unwrap();
    assert_eq!(ok.app.instances, 2);
    assert_eq!(ok.workload.idle.map(|i| i.users), Some(3));
}

/// A scenario with one kill fault given `extra` lines, and a 60 s workload.
fn with_kill(extra: &str) -> Result<Scenario, ScenarioError> {
    parse(&format!(
        "name = \"x\"\n[workload]\nduration = \"60s\"\n[[faults]]\nkind = \"kill\"\nat = \"5s\"\nduration = \"5s\"\n{extra}"
    ))
}

#[test]
fn a_repeated_fault_starts_every_so_often() {
    let s = with_kill("count = 3\nevery = \"20s\"\njitter = \"2s\"\nin_flight = 5").unwrap();
    let fault = &s.faults[0];
    let starts: Vec<u64> = fault.starts().map(|d| d.as_secs()).collect();
    assert_eq!(starts, vec![5, 25, 45]);
    assert_eq!(fault.last_start(), Duration::from_secs(47));
    assert_eq!(fault.action, FaultAction::Kill(Kill { in_flight: Some(5) }));
    let once = with_kill("").unwrap();
    assert_eq!(once.faults[0].starts().count(), 1);
    // Defaults are left out when a scenario is written back, so shrunk schedules stay short.
    let written = toml::to_string(&once).unwrap();
    assert!(
        !written.contains("\ncount =") && !written.contains("\nevery ="),
        "{written}"
    );
}

#[test]
fn repetition_fields_that_cannot_work_name_their_field() {
    let cases = [
        ("count = 3", "faults[0].every"),
        ("count = 0", "faults[0].count"),
        ("count = 101\nevery = \"6s\"", "faults[0].count"),
        ("every = \"10s\"", "faults[0].every"),
        ("count = 2\nevery = \"5s\"", "faults[0].every"),
        (
            "count = 3\nevery = \"10s\"\njitter = \"5s\"",
            "faults[0].jitter",
        ),
        ("count = 4\nevery = \"20s\"", "faults[0].count"),
        ("in_flight = 0", "faults[0].in_flight"),
    ];
    for (extra, field) in cases {
        let msg = with_kill(extra).unwrap_err().to_string();
        assert!(msg.contains(field), "{extra}: {msg}");
    }
    let msg = error_of(
        "name = \"x\"\n[[faults]]\nkind = \"pause\"\nat = \"1s\"\nduration = \"1s\"\nin_flight = 3",
    );
    assert!(
        msg.contains("unknown field `in_flight`") && msg.contains("takes only at, target"),
        "{msg}"
    );
}

#[test]
fn an_external_deployment_needs_its_section_and_names_its_nodes_for_node_targets() {
    let section = "[topology.external]\nname = \"staging\"\nsentinels = [\"10.0.0.1:26379\"]\n\
                   [topology.external.names]\n\"10.0.0.5:6379\" = \"redis-a\"\n";
    let s = parse(&format!(
        "name = \"x\"\n[[faults]]\nkind = \"kill\"\ntarget = \"redis-a\"\nat = \"1s\"\nduration = \"1s\"\n\
         [topology]\nbackend = \"external\"\n{section}"
    ))
    .expect("an external scenario");
    assert_eq!(s.node_names(), ["redis-a"]);
    let msg = error_of("name = \"x\"\n[topology]\nbackend = \"external\"\n");
    assert!(
        msg.contains("topology.external") && msg.contains("sentinels"),
        "{msg}"
    );
    let msg = error_of(&format!("name = \"x\"\n{section}"));
    assert!(msg.contains("topology.backend"), "{msg}");
    let msg = error_of(&format!(
        "name = \"x\"\n[[faults]]\nkind = \"kill\"\ntarget = \"redis-1\"\nat = \"1s\"\nduration = \"1s\"\n\
         [topology]\nbackend = \"external\"\n{section}"
    ));
    assert!(
        msg.contains("faults[0].target") && msg.contains("redis-a") && msg.contains("names"),
        "{msg}"
    );
    let msg = error_of(&format!(
        "name = \"x\"\n[topology]\nbackend = \"external\"\n{section}[topology.external.faults.kill]\napply = \"docker kill {{pod}}\"\n"
    ));
    assert!(msg.contains("topology.external.faults.kill.heal"), "{msg}");
}

#[test]
fn the_documented_external_scenarios_parse() {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/external"));
    let mut read = 0;
    for entry in std::fs::read_dir(dir).expect("docs/external") {
        let path = entry.expect("an entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            let s = Scenario::from_file(&path).unwrap_or_else(|e| panic!("{e}"));
            assert!(s.topology.external.is_some(), "{}", path.display());
            read += 1;
        }
    }
    assert!(read >= 2, "the Compose and Kubernetes examples");
}
