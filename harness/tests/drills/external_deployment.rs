//! A Sentinel deployment started by hand, outside the harness (a master, a replica and three
//! sentinels as `redis-server` processes on loopback ports, see `hand_made`), looked at as an
//! external deployment: healthy while it is, and the replica named once it dies. The harness only
//! reads: the test started every process and stops them itself, and checks they were all still
//! running.

use crate::common;

use std::process::Command;
use std::time::Duration;

use crate::hand_made::HandMade;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_started_by_hand_is_seen_whole_and_its_dead_replica_named() {
    let _slot = common::a_cluster_slot().await;
    let made = HandMade::start("inspect", 1);
    let healthy = made.ready().await;
    println!("{}", healthy.describe().join("\n"));
    assert_eq!(healthy.problems(), Vec::<String>::new(), "{:#?}", healthy);
    assert_eq!(healthy.master(), Some(made.addr("master")));
    assert_eq!(healthy.sentinels.len(), 3, "found from the one given");
    assert_eq!(healthy.nodes.len(), 2, "{:#?}", healthy.nodes);

    made.kill("replica-1");
    let replica = made.addr("replica-1").to_string();
    let broken = made
        .inspect_until(Duration::from_secs(15), |d| {
            d.problems()
                .iter()
                .any(|p| p.contains(&replica) && p.contains("s_down"))
        })
        .await;
    let problems = broken.problems();
    println!("{}\n{}", broken.describe().join("\n"), problems.join("\n"));
    assert!(
        problems.iter().any(|p| p.contains(&replica)),
        "{problems:#?}"
    );

    let cli = Command::new(env!("CARGO_BIN_EXE_failover-drill"))
        .args(["inspect", "--sentinels", &made.sentinels()[0].to_string()])
        .env_remove("FAILOVER_DRILL_REDIS_PASSWORD")
        .output()
        .expect("run the CLI");
    let said = String::from_utf8_lossy(&cli.stdout);
    assert_eq!(cli.status.code(), Some(1), "{said}");
    assert!(
        said.lines()
            .any(|l| l.starts_with("problem:") && l.contains(&replica)),
        "{said}"
    );
    // A drill of it stops before anything is done, with what is wrong.
    let scenario = made.dir.join("drill.toml");
    std::fs::write(
        &scenario,
        format!(
            "name = \"unhealthy\"\n[topology]\nbackend = \"external\"\n[topology.external]\n\
             name = \"hand-made\"\nsentinels = [\"{}\"]\n",
            made.sentinels()[0]
        ),
    )
    .expect("a scenario file");
    let drill = Command::new(env!("CARGO_BIN_EXE_failover-drill"))
        .arg("run")
        .arg(&scenario)
        .arg("--yes")
        .arg("--out")
        .arg(made.dir.join("runs"))
        .env_remove("FAILOVER_DRILL_REDIS_PASSWORD")
        .output()
        .expect("run the CLI");
    let said = String::from_utf8_lossy(&drill.stderr);
    assert_eq!(drill.status.code(), Some(2), "{said}");
    assert!(
        said.contains("'hand-made' is not ready to be drilled")
            && said.contains(&replica)
            && said.contains("failover-drill inspect --sentinels"),
        "{said}"
    );
    assert!(
        !made.dir.join("runs").exists(),
        "no run directory: nothing was started"
    );
    assert!(
        made.all_running_but("replica-1"),
        "the harness stopped nothing"
    );
}

#[test]
fn inspect_with_no_sentinel_answering_says_what_to_check() {
    let port = crate::hand_made::free_port();
    let cli = Command::new(env!("CARGO_BIN_EXE_failover-drill"))
        .args([
            "inspect",
            "--sentinels",
            &format!("127.0.0.1:{}", port.port),
        ])
        .output()
        .expect("run the CLI");
    let said = String::from_utf8_lossy(&cli.stderr);
    assert_eq!(cli.status.code(), Some(2), "{said}");
    assert!(said.contains("no sentinel answered"), "{said}");
}
