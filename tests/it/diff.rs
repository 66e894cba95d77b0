//! `scalesim diff` and `run --baseline`, through the binary: the same scenario and seed twice
//! changes nothing (exit 0); a slower service makes p99 worse beyond noise (exit 1, the row in
//! the JSON); bad input is exit 2 with a message that names the problem, never a panic.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::{self, Scratch};

/// `sims/load-baseline.toml` shortened: three replications of six minutes.
const SHORT: [&str; 6] = [
    "--replications",
    "3",
    "--set",
    "duration=6m",
    "--set",
    "warmup=1m",
];

/// The app pods four times slower (median 16 ms instead of 4 ms).
const SLOWER: [&str; 2] = [
    "--set",
    "stations.app.service={ dist = \"lognormal\", median = \"16ms\", p99 = \"80ms\" }",
];

fn scalesim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scalesim"))
        .current_dir(common::root())
        .args(args)
        .output()
        .expect("the binary runs")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited normally, not by a signal")
}

fn text(o: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Runs the short load-baseline into `out` with `extra` arguments; asserts it succeeded.
fn run_into(out: &Path, extra: &[&str]) {
    let out = out.to_string_lossy();
    let mut args = vec!["run", "sims/load-baseline.toml", "--quiet", "--out", &out];
    args.extend(SHORT);
    args.extend(extra);
    let o = scalesim(&args);
    assert_eq!(code(&o), 0, "run failed: {}", text(&o));
}

fn json(path: &Path) -> serde_json::Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).expect("diff JSON parses")
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

#[test]
fn same_seed_twice_changes_nothing_and_slower_service_fails_the_gate() {
    let dir = Scratch::new("diff");
    let (a, b, slow) = (dir.0.join("a"), dir.0.join("b"), dir.0.join("slow"));
    run_into(&a, &[]);
    run_into(&b, &[]);
    run_into(&slow, &SLOWER);

    let o = scalesim(&["diff", &s(&a), &s(&b)]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(
        text(&o).contains("nothing changed beyond noise"),
        "{}",
        text(&o)
    );
    let d = json(&b.join("diff.json"));
    let rows = d["rows"].as_array().expect("rows");
    assert!(rows.len() > 50, "every strategy, class and metric compared");
    assert!(rows.iter().all(|r| r["verdict"] == "unchanged"));

    let report = dir.0.join("slow.json");
    let o = scalesim(&["diff", &s(&a), &s(&slow), "--json", &s(&report)]);
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert!(text(&o).contains("WORSE") && text(&o).contains("gate (p99,error_rate,cost): FAILED"));
    let d = json(&report);
    let failed = d["failed"].as_array().expect("failed rows");
    let p99 = failed
        .iter()
        .find(|r| {
            r["metric"] == "latency_ms.p99"
                && r["class"] == ""
                && r["strategy"] == "3 read replicas"
        })
        .unwrap_or_else(|| panic!("strategy p99 among the failed rows: {failed:?}"));
    assert_eq!(p99["rule"], "ci");
    let (old, new) = (
        p99["old"].as_f64().expect("old"),
        p99["new"].as_f64().expect("new"),
    );
    let half_widths = p99["old_ci95"].as_f64().expect("ci") + p99["new_ci95"].as_f64().expect("ci");
    assert!(
        new - old > half_widths,
        "worse beyond the two intervals: {p99}"
    );
    assert!(
        !slow.join("diff.json").exists(),
        "--json replaces the default file"
    );

    // Nothing watched: the same changes are shown, the gate passes.
    let o = scalesim(&[
        "diff",
        &s(&a),
        &s(&slow),
        "--fail-on",
        "",
        "--json",
        &s(&report),
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    // `--all` prints unchanged rows too.
    let o = scalesim(&["diff", &s(&a), &s(&b), "--all", "--json", &s(&report)]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("unchanged"),
        "{}",
        text(&o)
    );
}

#[test]
fn run_with_a_baseline_runs_then_compares() {
    let dir = Scratch::new("baseline");
    let (base, same, slow) = (dir.0.join("base"), dir.0.join("same"), dir.0.join("slow"));
    run_into(&base, &[]);
    run_into(&same, &["--baseline", &s(&base)]);
    assert!(same.join("diff.json").exists());
    assert!(same.join("summary.json").exists());

    let out = s(&slow);
    let mut args = vec!["run", "sims/load-baseline.toml", "--out", &out];
    args.extend(SHORT);
    args.extend(SLOWER);
    let b = s(&base);
    args.extend(["--baseline", &b]);
    let o = scalesim(&args);
    assert_eq!(code(&o), 1, "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("Scenario load-baseline") && stdout.contains("WORSE"),
        "{}",
        text(&o)
    );
    assert!(
        slow.join("summary.json").exists(),
        "the run's results are written first"
    );

    // The baseline is read before the run: a missing one fails at once, with no output.
    let missing = dir.0.join("missing");
    let none = dir.0.join("none");
    let o = scalesim(&[
        "run",
        "sims/load-baseline.toml",
        "--out",
        &s(&none),
        "--baseline",
        &s(&missing),
    ]);
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(!none.exists(), "nothing ran");
}

/// Every bad input: exit 2, the message, no panic.
#[test]
fn bad_input_is_a_clear_error() {
    let dir = Scratch::new("diff-bad");
    let missing = s(&dir.0.join("missing"));
    let not_result = s(&dir.0);
    let broken = dir.0.join("broken");
    std::fs::create_dir_all(&broken).expect("mkdir");
    std::fs::write(
        broken.join("summary.json"),
        "{\"schema\": 1, \"scenario\": ",
    )
    .expect("write");
    let future = dir.0.join("future");
    std::fs::create_dir_all(&future).expect("mkdir");
    std::fs::write(future.join("summary.json"), "{\"schema\": 99}").expect("write");
    let (broken, future) = (s(&broken), s(&future));
    let json = s(&dir.0.join("d.json"));
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["diff", &missing, "results/mmc"], "no such folder"),
        (
            vec!["diff", "results/mmc", &not_result],
            "not a scalesim result folder",
        ),
        (
            vec!["diff", "results/mmc", &broken],
            "not a scalesim summary",
        ),
        (vec!["diff", "results/mmc", &future], "summary schema 99"),
        (
            vec![
                "diff",
                "results/mmc",
                "results/load-baseline",
                "--json",
                &json,
            ],
            "no strategy in common",
        ),
        (
            vec![
                "diff",
                "results/mmc",
                "results/mmc",
                "--fail-on",
                "p98",
                "--json",
                &json,
            ],
            "`p98` names no metric",
        ),
        (
            vec![
                "diff",
                "results/mmc",
                "results/mmc",
                "--tolerance=-3",
                "--json",
                &json,
            ],
            "--tolerance",
        ),
        (
            vec!["run", "sims/mmc.toml", "--fail-on", "p99"],
            "add --baseline DIR",
        ),
        (vec!["diff", "results/mmc"], "NEW"),
    ];
    for (args, message) in cases {
        let o = scalesim(&args);
        let t = text(&o);
        assert_eq!(code(&o), 2, "{args:?}: {t}");
        assert!(t.contains(message), "{args:?}: `{message}` not in {t}");
        assert!(!t.contains("panicked"), "{args:?}: {t}");
    }
}

/// A committed result compared with itself: unchanged, and the table says so.
#[test]
fn committed_results_diff_clean_against_themselves() {
    let dir = Scratch::new("diff-self");
    let json = s(&dir.0.join("d.json"));
    for name in ["mmc", "read-replicas", "real-cache/real"] {
        let path: PathBuf = ["results", name].iter().collect();
        let p = s(&path);
        let o = scalesim(&["diff", &p, &p, "--json", &json]);
        assert_eq!(code(&o), 0, "{name}: {}", text(&o));
        assert!(text(&o).contains("nothing changed beyond noise"), "{name}");
    }
}
