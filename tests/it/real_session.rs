//! `scalesim real` end to end, against containers: a primary with two streaming replicas, three
//! read strategies, and replica-1 cut off the network for five seconds.
//!
//! Runs the CLI binary in a child process (its own tokio runtime and testcontainers client, so
//! it cannot disturb the other real tests), then checks what the run must show:
//! - routing: each strategy sent reads where it says (primary only: no replica reads; round
//!   robin: no primary reads, both replicas used; read-your-writes: both);
//! - the fault: replica-1's replication lag grew by seconds and the stale-read probe caught
//!   replica-1 serving stale data, while replica-0 stayed within milliseconds;
//! - the run carried on: most requests completed;
//! - cleanup: no container or network of the child is left.
//!
//! Needs a Docker engine, so it is `#[ignore]`d; `scripts/test.sh` runs it when one answers (see
//! `real_infra`).

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

const SCENARIO: &str = r#"
name = "real-session-test"
duration = "18s"
warmup = "3s"
seed = 5
bucket = "1s"

[workload]
type = "poisson"
rate = 120
keys = { dist = "zipf", n = 2000, alpha = 0.9 }

[classes.browse]
weight = 70
path = ["replicas"]

[classes.orders]
weight = 20
path = ["replicas"]

[classes.purchase]
weight = 10
path = ["primary"]

[stations.primary]
workers = 4
service = "1ms"

[stations.replicas]
workers = 8
service = "1ms"

[[strategies]]
name = "primary only"
set = { "real.routing" = "primary" }

[[strategies]]
name = "round robin"
set = { "real.routing" = "round_robin" }

[[strategies]]
name = "read your writes"
set = { "real.routing" = "read_your_writes" }

[real]
replicas = 2
products = 2000
users = 2000
pool_size = 4
ops = { browse = "read_product", orders = "read_user_orders", purchase = "place_order" }
faults = [
  { at = "7s", fault = "disconnect replica-1" },
  { at = "12s", fault = "reconnect replica-1" },
]
"#;

fn temp_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("scalesim-real-session-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn component<'a>(strategy: &'a Value, name: &str) -> &'a Value {
    strategy["components"]
        .as_array()
        .expect("components")
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no component {name}"))
}

fn metric(strategy: &Value, component_name: &str, key: &str) -> f64 {
    component(strategy, component_name)["metrics"][key]
        .as_f64()
        .unwrap_or_else(|| panic!("no {component_name}.{key}"))
}

fn leftovers(pid: u32) -> Vec<String> {
    let label = format!("label=scalesim.owner={pid}");
    let mut out = Vec::new();
    for args in [
        vec!["ps", "-aq", "--filter", &label],
        vec!["network", "ls", "-q", "--filter", &label],
    ] {
        let o = Command::new("docker").args(&args).output().expect("docker");
        out.extend(
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(str::to_string),
        );
    }
    out
}

#[test]
#[ignore = "needs a Docker engine: scripts/test.sh runs it when one answers"]
fn real_session_routes_reads_detects_staleness_and_cleans_up() {
    super::real_infra::require_docker();
    let dir = temp_dir();
    let file = dir.join("scenario.toml");
    std::fs::write(&file, SCENARIO).expect("write scenario");
    let out = dir.join("out");
    let child = Command::new(env!("CARGO_BIN_EXE_scalesim"))
        .args([
            "real",
            file.to_str().expect("utf-8"),
            "--out",
            out.to_str().expect("utf-8"),
            "--quiet",
        ])
        .spawn()
        .expect("spawn scalesim");
    let pid = child.id();
    let status = child.wait_with_output().expect("wait").status;
    assert!(status.success(), "scalesim real failed: {status}");
    assert!(
        leftovers(pid).is_empty(),
        "containers or networks left: {:?}",
        leftovers(pid)
    );

    let summary: Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).expect("summary"))
            .expect("json");
    assert_eq!(summary["mode"], "real");
    let s = summary["strategies"].as_array().expect("strategies");
    assert_eq!(s.len(), 3);
    let (primary, rr, ryw) = (&s[0], &s[1], &s[2]);

    // Routing.
    assert_eq!(metric(primary, "db", "reads_replicas"), 0.0);
    assert!(metric(primary, "db", "reads_primary") > 500.0);
    assert_eq!(metric(rr, "db", "reads_primary"), 0.0);
    assert!(
        metric(rr, "db.replica-0", "reads") > 200.0 && metric(rr, "db.replica-1", "reads") > 200.0
    );
    assert!(metric(ryw, "db", "reads_primary") > 0.0 && metric(ryw, "db", "reads_replicas") > 0.0);

    for st in s {
        // The fault: replica-1 fell seconds behind and served stale data; replica-0 did not lag.
        assert!(
            metric(st, "db.replica-1", "lag_ms_max") > 2000.0,
            "{}",
            st["name"]
        );
        assert!(
            metric(st, "db.replica-1", "stale_reads") > 0.0,
            "{}",
            st["name"]
        );
        assert!(
            metric(st, "db.replica-0", "lag_ms_max") < 1000.0,
            "{}",
            st["name"]
        );
        // The run carried on.
        let (done, requests) = (
            st["completed"].as_f64().unwrap(),
            st["requests"].as_f64().unwrap(),
        );
        assert!(
            done > 0.9 * requests && requests > 1000.0,
            "{}: {done}/{requests}",
            st["name"]
        );
    }
    // Primary-only reads are never stale; round robin over a cut-off replica is.
    assert_eq!(metric(primary, "db", "stale_reads"), 0.0);
    assert!(metric(rr, "db", "stale_reads") > 0.0);
    for f in [
        "summary.csv",
        "timeseries.csv",
        "report.html",
        "manifest.json",
    ] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
