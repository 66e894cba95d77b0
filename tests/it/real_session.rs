//! `scalesim real` end to end, against containers: a primary with two streaming replicas, three
//! read strategies, and replica-1 cut off the network for five seconds.
//!
//! Runs the CLI binary in a child process (its own tokio runtime and testcontainers client, so
//! it cannot disturb the other real tests), then checks what the run must show:
//! - routing: each strategy sent reads where it says (primary only: no replica reads; round
//!   robin: no primary reads, both replicas used; read-your-writes: both);
//! - the fault: replica-1's replication lag grew by seconds and every probe while it was cut
//!   off found it behind, while replica-0 stayed within milliseconds; stale reads are only
//!   those a strategy served (primary only: none on any replica, whatever the probe says);
//! - the servers: durable by default (the primary reports `fsync` on), no limits, the image
//!   with its id and kind;
//! - the run carried on: most requests completed;
//! - cleanup: no container or network of the child is left.
//!
//! Needs a Docker engine, so it is `#[ignore]`d; `scripts/test.sh` runs it when one answers (see
//! `real_infra`).
//!
//! Shoppers for real (`[sessions]` with closed-loop users) the same way, one primary: sessions
//! are conserved (started = ended + abandoned + in progress), a patient shopper's visits per
//! state are the graph's visit ratios (the chain solved here, with a tolerance from the sample
//! size), a patience of 0 abandons every session at its first page and converts none, and the
//! terminal shows the shoppers table. A bad `[sessions]` or a session graph on an open workload
//! is refused before any server starts, naming file, line and field (no Docker needed).

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::common::{self, Scratch};

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
        // The fault: replica-1 fell seconds behind; replica-0 did not lag. (The probe finds a
        // healthy replica behind most of the time too, so its ratios are not compared here:
        // the time series below checks the fault's buckets.)
        assert!(
            metric(st, "db.replica-1", "lag_ms_max") > 2000.0,
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
    // Primary-only reads are never stale, even where the probe finds a replica behind: the
    // probe's figure has its own name. Round robin over a cut-off replica reads stale data.
    assert_eq!(metric(primary, "db", "stale_reads"), 0.0);
    assert_eq!(metric(primary, "db.replica-1", "stale_reads"), 0.0);
    assert!(metric(primary, "db.replica-1", "probe_behind") > 10.0);
    assert!(metric(rr, "db", "stale_reads") > 0.0);
    assert!(metric(rr, "db.replica-1", "stale_reads") > 0.0);
    // While replica-1 was cut off (7 s to 12 s), every probe found it behind.
    let series = std::fs::read_to_string(out.join("timeseries.csv")).expect("timeseries");
    for st in s {
        let name = st["name"].as_str().expect("name");
        for t in ["8", "9", "10"] {
            let row = format!("{name},0,{t},probe_behind.replica-1,");
            let value = series
                .lines()
                .find_map(|l| l.strip_prefix(&row))
                .unwrap_or_else(|| panic!("no {row}"));
            assert_eq!(value, "1", "{row}");
        }
    }
    // The servers: durable as configured and as the primary reports, no limits, the image.
    for st in s {
        let servers = &st["servers"];
        assert_eq!(servers["durability"], "durable", "{servers}");
        assert_eq!(servers["postgres_settings"]["fsync"], "on", "{servers}");
        assert_eq!(servers["postgres_settings"]["synchronous_commit"], "on");
        assert!(servers["cpus"].is_null() && servers["memory_bytes"].is_null());
        let image = &servers["images"][0];
        assert!(
            image["id"]
                .as_str()
                .is_some_and(|id| id.starts_with("sha256:"))
        );
        assert!(["official", "debian-lookalike"].contains(&image["kind"].as_str().unwrap()));
        // One run: no confidence interval, rather than a zero.
        assert!(st["latency_ms_ci95"]["p99"].is_null());
    }
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

/// Eight shoppers on one primary: home -> search / product, search -> product, product -> pay,
/// pay -> exit (with exits and loops), think 20 ms; "patient" has no patience, "impatient" a
/// patience of 0 on the first page. No warm-up, so the counts cover the whole run.
const SHOPPERS: &str = r#"
name = "real-shoppers-test"
duration = "12s"
warmup = "0s"
seed = 9

[workload]
type = "users"
stages = [{ duration = "1s", target = 8 }, { duration = "11s", target = 8 }]
think = { dist = "exponential", mean = "20ms" }
keys = { dist = "zipf", n = 2000, alpha = 0.9 }

[sessions]
start = "home"
converts = "pay"
revenue = 10

[sessions.states.home]
class = "browse"
think = { dist = "exponential", mean = "20ms" }
next = { search = 0.4, product = 0.4, exit = 0.2 }

[sessions.states.search]
class = "search"
think = { dist = "exponential", mean = "20ms" }
next = { product = 0.7, search = 0.1, exit = 0.2 }

[sessions.states.product]
class = "browse"
think = { dist = "exponential", mean = "20ms" }
next = { pay = 0.3, search = 0.2, product = 0.2, exit = 0.3 }

[sessions.states.pay]
class = "purchase"
next = { exit = 1.0 }

[classes.browse]
path = ["db"]

[classes.search]
path = ["db"]

[classes.purchase]
path = ["db"]

[stations.db]
workers = 4
service = "1ms"

[[strategies]]
name = "patient"

[[strategies]]
name = "impatient"
set = { "sessions.states.home.patience" = "0s" }

[real]
products = 2000
users = 2000
pool_size = 4
ops = { browse = "read_product", search = "search_products", purchase = "place_order" }
"#;

const STATES: [&str; 4] = ["home", "search", "product", "pay"];

/// Per state of [`SHOPPERS`]: the mean and standard deviation of a session's visits to it.
///
/// With N = (I - Q)^-1 the chain's fundamental matrix, a session started at s visits j N[s][j]
/// times on average, with variance N[s][j] (2 N[j][j] - 1) - N[s][j]^2 (Kemeny & Snell,
/// Finite Markov Chains, 3.3.5); row j of N is the graph's visit ratios started at j.
fn visit_moments() -> Vec<(f64, f64)> {
    let path = std::path::Path::new("shoppers.toml");
    let sc = scalesim::scenario::load_str(SHOPPERS, path, &[]).expect("valid scenario");
    let graph = sc.base.system.shared.sessions.expect("sessions");
    let names: Vec<&str> = graph.states.iter().map(|s| s.name.as_str()).collect();
    let from_start = graph.visit_ratios();
    STATES
        .iter()
        .map(|name| {
            let j = names.iter().position(|n| n == name).expect("state");
            let mut at_j = graph.clone();
            at_j.start = u16::try_from(j).expect("small graph");
            let (n_sj, n_jj) = (from_start[j], at_j.visit_ratios()[j]);
            (
                n_sj,
                (n_sj * (2.0 * n_jj - 1.0) - n_sj * n_sj).max(0.0).sqrt(),
            )
        })
        .collect()
}

#[test]
#[ignore = "needs a Docker engine: scripts/test.sh runs it when one answers"]
fn real_shoppers_conserve_sessions_walk_the_graph_and_abandon_without_patience() {
    super::real_infra::require_docker();
    let dir = Scratch::new("real-shoppers");
    let file = dir.write("shoppers.toml", SHOPPERS);
    let out = dir.join("out");
    let child = Command::new(env!("CARGO_BIN_EXE_scalesim"))
        .args([
            "real",
            file.to_str().expect("utf-8"),
            "--out",
            out.to_str().expect("utf-8"),
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn scalesim");
    let pid = child.id();
    let done = child.wait_with_output().expect("wait");
    assert!(
        done.status.success(),
        "scalesim real failed: {}",
        done.status
    );
    assert!(leftovers(pid).is_empty(), "containers or networks left");
    let table = String::from_utf8_lossy(&done.stdout);
    assert!(table.contains("Shoppers (sessions)"), "{table}");

    let summary: Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).expect("summary"))
            .expect("json");
    let s = summary["strategies"].as_array().expect("strategies");
    let (patient, impatient) = (&s[0], &s[1]);
    let m = |st: &Value, k: &str| metric(st, "sessions", k);
    for st in s {
        // Conservation: every session started ended, was abandoned, or is one of the eight in
        // progress at the end (no warm-up: the counts are the whole run's).
        let in_progress = m(st, "in_progress");
        assert!(in_progress <= 8.0, "{}", st["name"]);
        assert_eq!(
            m(st, "sessions"),
            m(st, "ended") + m(st, "abandoned") + in_progress,
            "{}",
            st["name"]
        );
        assert!(
            m(st, "sessions") > 300.0,
            "{}: too few sessions",
            st["name"]
        );
    }

    // Patient shoppers walk the graph in its visit ratios. Each of the n sessions that ended
    // visits state j a number of times with mean v_j and deviation sd_j, independently of the
    // others: the total is within 4 sd_j sqrt(n) of n v_j but for about 6 runs in 100,000.
    // The few sessions in progress or abandoned (a failed page) walked part of a session;
    // each is allowed up to v_j + 4 sd_j visits either way.
    let n = m(patient, "sessions");
    let partial = m(patient, "in_progress") + m(patient, "abandoned");
    assert!(m(patient, "abandoned") <= 0.01 * n, "pages failed");
    for (name, (v, sd)) in STATES.iter().zip(visit_moments()) {
        let visits = m(patient, &format!("visits.{name}"));
        let tolerance = 4.0 * sd * n.sqrt() + partial * (v + 4.0 * sd);
        assert!(
            (visits - n * v).abs() <= tolerance,
            "{name}: {visits} visits in {n} sessions, expected {:.0} +- {tolerance:.0}",
            n * v
        );
    }
    assert!(m(patient, "conversions") > 0.0 && m(patient, "revenue") > 0.0);

    // A patience of 0 at the first page: every session abandoned there, none converted.
    let finished = m(impatient, "sessions") - m(impatient, "in_progress");
    assert_eq!(m(impatient, "abandoned"), finished);
    assert_eq!(m(impatient, "abandoned.home"), finished);
    assert_eq!(m(impatient, "visits.home"), m(impatient, "sessions"));
    assert_eq!(m(impatient, "visits.product"), 0.0);
    assert_eq!(m(impatient, "ended"), 0.0);
    assert_eq!(m(impatient, "conversions"), 0.0);
    assert_eq!(m(impatient, "conversion_rate"), 0.0);
    assert!(m(impatient, "revenue_lost") > 0.0);
}

/// `scalesim real` on an edit of the shipped real-sessions scenario: exit 2, the field and
/// `file:line:` in stderr, no panic, and no server started (it fails in well under a second of
/// validation, before provisioning; a Docker engine is not needed).
fn expect_refused(from: &str, to: &str, field: &str, marker: &str) {
    expect_refused_in("real-sessions.toml", from, to, field, marker);
}

/// [`expect_refused`] on an edit of `sims/NAME`.
fn expect_refused_in(name: &str, from: &str, to: &str, field: &str, marker: &str) {
    let shipped = std::fs::read_to_string(common::root().join("sims").join(name))
        .unwrap_or_else(|e| panic!("sims/{name}: {e}"));
    assert!(shipped.contains(from), "{from}");
    let text = shipped.replacen(from, to, 1);
    let dir = Scratch::new("real-sessions-bad");
    let file = dir.write(name, &text);
    let line = text
        .lines()
        .position(|l| l.contains(marker) && !l.starts_with('#'))
        .expect("marker")
        + 1;
    let o = Command::new(env!("CARGO_BIN_EXE_scalesim"))
        .args(["real", file.to_str().expect("utf-8"), "--quiet"])
        .output()
        .expect("the binary runs");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{to}: {err}");
    let at = format!("{}:{line}:", file.display());
    assert!(err.contains(field) && err.contains(&at), "{to}: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("starting"),
        "{err}"
    );
}

#[test]
fn real_sessions_bad_input_is_named_before_any_server_starts() {
    expect_refused(
        "next = { search = 0.4, product = 0.4, exit = 0.2 }",
        "next = { search = 0.4, product = 0.4, exit = 0.1 }",
        "sessions.states.home.next",
        "exit = 0.1",
    );
    expect_refused(
        "class = \"search\"",
        "class = \"serch\"",
        "sessions.states.search.class",
        "serch",
    );
    expect_refused(
        "type = \"users\"\nstages = [{ duration = \"1s\", target = \"$shoppers\" }, \
         { duration = \"34s\", target = \"$shoppers\" }]\n",
        "type = \"poisson\"\nrate = \"$shoppers\"\n",
        "workload.type",
        "type = \"poisson\"",
    );
}

#[test]
fn real_servers_bad_input_is_named_before_any_server_starts() {
    let at_real = "routing = \"primary\"\n";
    expect_refused(
        at_real,
        "routing = \"primary\"\ndurability = \"fsat\"\n",
        "real.durability",
        "fsat",
    );
    expect_refused(
        at_real,
        "routing = \"primary\"\ncpus = 0\n",
        "real.cpus",
        "cpus = 0",
    );
    expect_refused(
        at_real,
        "routing = \"primary\"\nmemory = \"1 gigabyte\"\n",
        "real.memory",
        "gigabyte",
    );
    expect_refused(
        at_real,
        "routing = \"primary\"\nmemory = \"16MiB\"\n",
        "real.memory",
        "16MiB",
    );
    // Strategies share one cluster: one of them cannot have its own durability (named with
    // the strategy, at the `[real]` table its override changes).
    expect_refused(
        "set = { \"real.routing\" = \"round_robin\",",
        "set = { \"real.durability\" = \"fast\", \"real.routing\" = \"round_robin\",",
        "strategy \"round robin\"",
        "[real]",
    );
}

#[test]
fn real_pool_bad_input_is_named_before_any_server_starts() {
    let refused = |from: &str, to: &str, field: &str, marker: &str| {
        expect_refused_in("real-pool.toml", from, to, field, marker);
    };
    let mode = "pool_mode = \"transaction\"";
    refused(
        mode,
        "pool_mode = \"transactoin\"",
        "real.pgbouncer.pool_mode",
        "transactoin",
    );
    refused(
        mode,
        "pool_mod = \"transaction\"",
        "real.pgbouncer.pool_mod",
        "pool_mod =",
    );
    refused(
        "instances = 4",
        "instances = 0",
        "real.instances",
        "instances = 0",
    );
    refused(
        "pool_name = \"app_pool\"",
        "pool_name = \"app_pol\"",
        "real.pool_name",
        "app_pol",
    );
    refused(
        "max_connections = 50\nacquire_timeout",
        "max_connections = -1\nacquire_timeout",
        "real.max_connections",
        "max_connections = -1",
    );
    refused(
        "acquire_timeout = \"1s\"\nrequest_timeout",
        "acquire_timeout = \"0s\"\nrequest_timeout",
        "real.acquire_timeout",
        "acquire_timeout = \"0s\"",
    );
}
