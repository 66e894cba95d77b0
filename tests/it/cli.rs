//! The command line's contract: exit status 0 when all is well, 1 when an SLO fails under
//! `--fail-on-slo`, 2 for any bad input or usage, 4 for an I/O or internal failure (never
//! confused with bad input); every input error names the field (and, when the field is in the
//! file, `file:line:col`), suggests the nearest valid name for a misspelt one, and leaves no
//! output folder behind. `run` prints the command that reproduces it.
//!
//! Each bad scenario is a one-line edit of a small valid file, so a failure points at exactly
//! one class of mistake; the valid file itself is checked to pass first.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::{self, Scratch};

const VALID: &str = r#"name = "tiny"
duration = "1m"
warmup = "5s"

[params]
rate = 2

[workload]
type = "poisson"
rate = "$rate"

[classes.job]
path = ["server"]

[stations.server]
workers = 2
service = { dist = "exponential", mean = "100ms" }
"#;

fn scalesim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scalesim"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited normally, not by a signal")
}

/// The 1-based line of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("`{needle}` not in the text"))
        + 1
}

/// `VALID` with `from` replaced by `to` (which must change it).
fn edit(from: &str, to: &str) -> String {
    assert!(VALID.contains(from), "`{from}` not in the valid scenario");
    VALID.replacen(from, to, 1)
}

/// Runs `run FILE --out DIR/out ARGS`, expects exit 2, every `wanted` piece in stderr, and no
/// output folder.
fn expect_bad_run(dir: &Scratch, file: &Path, args: &[&str], wanted: &[&str]) -> String {
    let out = dir.join("out");
    let mut all = vec![
        "run",
        file.to_str().expect("utf-8"),
        "--quiet",
        "--out",
        out.to_str().expect("utf-8"),
    ];
    all.extend(args);
    let o = scalesim(&all);
    let err = stderr(&o);
    assert_eq!(code(&o), 2, "{args:?}: expected exit 2, stderr: {err}");
    for w in wanted {
        assert!(err.contains(w), "{args:?}: stderr lacks `{w}`:\n{err}");
    }
    assert!(!err.contains("panicked"), "a panic: {err}");
    assert!(!out.exists(), "a failed run created {}", out.display());
    err
}

/// A scenario file that fails with `wanted` at the line containing `marker`.
fn expect_bad_file(name: &str, text: &str, marker: &str, wanted: &[&str]) {
    let dir = Scratch::new(name);
    let file = dir.write("scenario.toml", text);
    let at = format!("{}:{}:", file.display(), line_of(text, marker));
    let mut all = wanted.to_vec();
    all.push(&at);
    expect_bad_run(&dir, &file, &[], &all);
}

#[test]
fn valid_scenario_exits_0_and_check_describes_it() {
    let dir = Scratch::new("valid");
    let file = dir.write("scenario.toml", VALID);
    let o = scalesim(&["check", file.to_str().expect("utf-8")]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("ok") && text.contains("server") && text.contains("job"),
        "{text}"
    );
    let out = dir.join("out");
    let o = scalesim(&[
        "run",
        file.to_str().expect("utf-8"),
        "--quiet",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(out.join("summary.json").is_file());
}

#[test]
fn failed_slo_exits_1_only_with_fail_on_slo() {
    let dir = Scratch::new("slo");
    let mmc = common::sim("mmc.toml");
    let run = |out: &str, fail: bool| {
        let out = dir.join(out);
        let mut args = vec![
            "run",
            mmc.to_str().expect("utf-8"),
            "--set",
            "duration=20m",
            "--set",
            r#"slo.p99="1ms""#,
            "--replications",
            "1",
            "--quiet",
            "--out",
            out.to_str().expect("utf-8"),
        ];
        if fail {
            args.push("--fail-on-slo");
        }
        let o = scalesim(&args);
        (code(&o), stderr(&o), out)
    };
    let (status, err, out) = run("fail", true);
    assert_eq!(status, 1, "{err}");
    assert!(
        out.join("summary.json").is_file(),
        "the results of a run that missed its SLO are still written"
    );
    let (status, err, _) = run("report-only", false);
    assert_eq!(
        status, 0,
        "an SLO miss without --fail-on-slo is not an error: {err}"
    );
    // The same run with an SLO it meets exits 0 even under --fail-on-slo.
    let out = dir.join("pass");
    let o = scalesim(&[
        "run",
        mmc.to_str().expect("utf-8"),
        "--set",
        "duration=20m",
        "--set",
        r#"slo.p99="1h""#,
        "--replications",
        "1",
        "--quiet",
        "--fail-on-slo",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

#[test]
fn unknown_field_suggests_the_nearest_name() {
    let text = edit("workers = 2", "wrokers = 2");
    expect_bad_file(
        "typo",
        &text,
        "wrokers",
        &["stations.server.wrokers", "did you mean `workers`"],
    );
}

#[test]
fn unknown_unit_names_the_field() {
    let text = edit(r#"mean = "100ms""#, r#"mean = "5 parsecs""#);
    expect_bad_file(
        "unit",
        &text,
        "parsecs",
        &["stations.server.service.mean", "unknown unit `parsecs`"],
    );
}

#[test]
fn dangling_param_reference_suggests_the_param() {
    let text = edit(r#"rate = "$rate""#, r#"rate = "$rat""#);
    expect_bad_file(
        "dangling",
        &text,
        "$rat",
        &[
            "workload.rate",
            "`$rat` names no entry of [params]",
            "did you mean `rate`",
        ],
    );
}

#[test]
fn negative_rate_is_refused_in_the_file_and_by_set() {
    // The parameter is substituted into `workload.rate`, which is where the error points.
    let text = edit("rate = 2", "rate = -3");
    expect_bad_file(
        "negative",
        &text,
        r#"rate = "$rate""#,
        &["workload.rate", "must be positive, got -3"],
    );
    let dir = Scratch::new("negative-set");
    let file = dir.write("scenario.toml", VALID);
    expect_bad_run(
        &dir,
        &file,
        &["--set", "rate=-1"],
        &["workload.rate", "must be positive, got -1"],
    );
}

#[test]
fn zero_workers_is_refused() {
    let text = edit("workers = 2", "workers = 0");
    expect_bad_file(
        "zero-workers",
        &text,
        "workers = 0",
        &["stations.server.workers", "must be between 1 and"],
    );
}

#[test]
fn path_step_naming_no_station_suggests_one() {
    let text = edit(r#"path = ["server"]"#, r#"path = ["sever"]"#);
    expect_bad_file(
        "path",
        &text,
        "sever",
        &[
            "classes.job.path.0",
            "no service or station named `sever`",
            "did you mean `server`",
        ],
    );
}

#[test]
fn unknown_distribution_suggests_one() {
    let text = edit(r#"dist = "exponential""#, r#"dist = "exponentail""#);
    expect_bad_file(
        "dist",
        &text,
        "exponentail",
        &[
            "stations.server.service.dist",
            "unknown distribution `exponentail`",
            "did you mean `exponential`",
        ],
    );
}

#[test]
fn warmup_not_shorter_than_duration_is_refused() {
    let text = edit(r#"warmup = "5s""#, r#"warmup = "1m""#);
    expect_bad_file(
        "warmup",
        &text,
        "warmup",
        &["field `warmup`", "shorter than `duration`"],
    );
}

#[test]
fn toml_syntax_error_gives_the_line() {
    let text = edit("workers = 2", "workers = = 2");
    expect_bad_file("syntax", &text, "workers = = 2", &["TOML syntax"]);
}

#[test]
fn missing_file_is_bad_input() {
    let dir = Scratch::new("missing");
    let file: PathBuf = dir.join("no-such-scenario.toml");
    expect_bad_run(
        &dir,
        &file,
        &[],
        &["no-such-scenario.toml", "cannot read the scenario file"],
    );
    let o = scalesim(&["check", file.to_str().expect("utf-8")]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
}

#[test]
fn malformed_set_is_bad_input() {
    let dir = Scratch::new("set");
    let file = dir.write("scenario.toml", VALID);
    expect_bad_run(
        &dir,
        &file,
        &["--set", "rate"],
        &["--set rate", "expected NAME=VALUE"],
    );
    expect_bad_run(
        &dir,
        &file,
        &["--set", "stations.server.wrokers=3"],
        &["wrokers", "did you mean `workers`"],
    );
}

/// A `--set` naming a table entry the file lacks is refused with the nearest name, instead of
/// creating a table nothing uses; a strategy's `set` gets the same check, and bare names are
/// checked against the parameters. Neither blames a line for a `--set`.
#[test]
fn override_of_a_missing_name_suggests_the_nearest() {
    let dir = Scratch::new("set-missing");
    let file = dir.write("scenario.toml", VALID);
    let err = expect_bad_run(
        &dir,
        &file,
        &["--set", "stations.sever.workers=3"],
        &[
            "(--set stations.sever.workers=3)",
            "names no station `sever`",
            "[stations] has server",
            "did you mean `server`",
        ],
    );
    assert!(
        err.contains(&format!("{}: field", file.display())),
        "a --set error blames a line of the file: {err}"
    );
    expect_bad_run(
        &dir,
        &file,
        &["--set", "params.rat=3"],
        &["names no parameter `rat`", "did you mean `rate`"],
    );
    expect_bad_run(
        &dir,
        &file,
        &["--set", "rat=3"],
        &["names no [params] entry", "did you mean `rate`"],
    );
    // Tables documented to gain entries still may: a price for a station without one.
    let o = scalesim(&[
        "check",
        file.to_str().expect("utf-8"),
        "--set",
        "prices.worker_hour.server=0.1",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // A strategy's `set`: the parameters are suggested too, at the strategy's table.
    for (set, wanted) in [
        ("rat = 3", "did you mean `rate`"),
        (r#""stations.sever.workers" = 3"#, "did you mean `server`"),
    ] {
        let text = format!("{VALID}\n[[strategies]]\nname = \"more\"\nset = {{ {set} }}\n");
        expect_bad_file(
            "strategy-set",
            &text,
            "[[strategies]]",
            &[wanted, "strategy \"more\""],
        );
    }
    // A sweep over a misspelt parameter.
    let text = format!("{VALID}\n[sweep]\nparam = \"rat\"\nvalues = [1, 2]\n");
    expect_bad_file(
        "sweep-param",
        &text,
        "param = ",
        &["sweep.param", "did you mean `rate`"],
    );
}

/// A `[params]` entry that no field refers to changes nothing when set: a warning names it.
#[test]
fn unreferenced_param_is_a_warning() {
    let dir = Scratch::new("unused-param");
    let file = dir.write("scenario.toml", &edit("rate = 2", "rate = 2\nspare = 7"));
    let o = scalesim(&["check", file.to_str().expect("utf-8")]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("warning:") && err.contains("params.spare") && err.contains("\"$spare\""),
        "{err}"
    );
    assert!(!err.contains("params.rate"), "{err}");
}

/// `--fail-on-slo` covers every sweep point: here the base point meets the SLO and only the
/// last sweep point misses it.
#[test]
fn fail_on_slo_covers_every_sweep_point() {
    let dir = Scratch::new("slo-sweep");
    let text =
        format!("{VALID}\n[slo]\np99 = \"2s\"\n\n[sweep]\nparam = \"rate\"\nvalues = [2, 40]\n");
    let file = dir.write("scenario.toml", &text);
    let run = |name: &str, fail: bool| {
        let out = dir.join(name);
        let mut args = vec![
            "run",
            file.to_str().expect("utf-8"),
            "--quiet",
            "--out",
            out.to_str().expect("utf-8"),
        ];
        if fail {
            args.push("--fail-on-slo");
        }
        let o = scalesim(&args);
        (code(&o), stderr(&o), out)
    };
    let (status, err, out) = run("fail", true);
    assert_eq!(status, 1, "{err}");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).expect("summary"))
            .expect("json");
    assert_eq!(summary["strategies"][0]["slo"]["passed"], true, "{summary}");
    assert_eq!(
        summary["points"][1]["strategies"][0]["slo"]["passed"],
        false
    );
    let (status, err, _) = run("report", false);
    assert_eq!(status, 0, "{err}");
}

#[test]
fn bad_shard_is_bad_input() {
    let dir = Scratch::new("shard");
    let file = dir.write("scenario.toml", VALID);
    for shard in ["2/2", "1/0", "x", "1-2"] {
        expect_bad_run(&dir, &file, &["--shard", shard], &["--shard", "I/N"]);
    }
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    for args in [
        &["frobnicate"][..],
        &["run", "--frobnicate", "x.toml"],
        &["run"],
        &[],
        &["run", "x.toml", "--replications", "many"],
    ] {
        let o = scalesim(args);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).is_empty(), "{args:?}: no message");
    }
    for args in [&["--help"][..], &["run", "--help"], &["--version"]] {
        let o = scalesim(args);
        assert_eq!(code(&o), 0, "{args:?}: {}", stderr(&o));
        assert!(!o.stdout.is_empty(), "{args:?}: printed nothing");
    }
}

#[test]
fn unwritable_results_exit_4_not_2() {
    let dir = Scratch::new("io");
    let file = dir.write("scenario.toml", VALID);
    // `--out` names a regular file: the run is fine, writing its results is not.
    let out = dir.write("out", "not a folder");
    let o = scalesim(&[
        "run",
        file.to_str().expect("utf-8"),
        "--quiet",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    let err = stderr(&o);
    assert_eq!(code(&o), 4, "{err}");
    assert!(err.contains("writing results to"), "{err}");
    assert!(!err.contains("panicked"), "a panic: {err}");
}

#[test]
fn missing_or_malformed_merge_inputs_are_bad_input() {
    let dir = Scratch::new("merge-input");
    let out = dir.join("merged");
    let o = scalesim(&[
        "merge",
        dir.join("no-such-shard").to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("run --shard"), "{}", stderr(&o));
    std::fs::create_dir_all(dir.join("junk")).expect("create a folder");
    dir.write("junk/shard.json", "{ not json");
    let o = scalesim(&[
        "merge",
        dir.join("junk").to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("parsing"), "{}", stderr(&o));
    assert!(!out.exists());
}

/// The `reproduce: ...` line of a run's stderr, split into the command and the scenario hash.
fn reproduce_line(o: &Output) -> (String, String) {
    let err = stderr(o);
    let line = err
        .lines()
        .find_map(|l| l.strip_prefix("reproduce: "))
        .unwrap_or_else(|| panic!("no reproduce line in:\n{err}"));
    let (command, hash) = line
        .split_once("  # scenario hash ")
        .unwrap_or_else(|| panic!("no scenario hash in `{line}`"));
    (command.to_string(), hash.to_string())
}

fn summary_text(out: &Path) -> String {
    std::fs::read_to_string(out.join("summary.json")).expect("summary.json written")
}

#[test]
fn run_prints_the_command_that_reproduces_it() {
    let dir = Scratch::new("reproduce");
    let file = dir.write("scenario.toml", VALID);
    let first = dir.join("first");
    let o = scalesim(&[
        "run",
        file.to_str().expect("utf-8"),
        "--set",
        "rate=3",
        "--set",
        r#"duration="50s""#,
        "--format",
        "json",
        "--out",
        first.to_str().expect("utf-8"),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let printed: serde_json::Value =
        serde_json::from_slice(&o.stdout).expect("stdout is the JSON summary alone");
    let (command, hash) = reproduce_line(&o);
    // The scenario's own seed (1) and replications are spelt out; overrides keep their order
    // and are quoted for the shell.
    let want = format!(
        "scalesim run {} --seed 1 --replications {} --set rate=3 --set 'duration=\"50s\"'",
        file.display(),
        printed["replications"]
    );
    assert_eq!(command, want);
    assert_eq!(printed["scenario_hash"], hash.as_str());
    // Run the printed command through the shell, as a user would paste it: the same summary.
    let second = dir.join("second");
    let line = command.replacen("scalesim", env!("CARGO_BIN_EXE_scalesim"), 1);
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!("{line} --quiet --out '{}'", second.display()))
        .output()
        .expect("sh runs");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).is_empty(),
        "--quiet prints nothing: {}",
        stderr(&o)
    );
    assert_eq!(summary_text(&first), summary_text(&second));
}

/// Regression: errors found after an override pointed at the line the field had in the edited
/// document, which is another line of the file (or past its end): a strategy's `set` or a
/// `--set` that adds a key shifts every later line. They now point at the field where the
/// file has it there, else at the strategy whose `set` caused the error, else nowhere.
#[test]
fn r_override_error_positions() {
    let strategy =
        |set: &str| format!("{VALID}\n[[strategies]]\nname = \"shed\"\nset = {{ {set} }}\n");
    let dir = Scratch::new("positions");
    let file = dir.write(
        "scenario.toml",
        &strategy(r#""stations.server.queue_capacity" = -5"#),
    );
    let text = std::fs::read_to_string(&file).expect("read back");
    let at = |line: usize| format!("{}:{line}:1: field", file.display());
    // A key the strategy adds: the strategy's table.
    expect_bad_run(
        &dir,
        &file,
        &[],
        &[
            &at(line_of(&text, "[[strategies]]")),
            "stations.server.queue_capacity",
            "strategy \"shed\"",
        ],
    );
    // A parameter the strategy changes in place: the field that uses it, on its own line.
    std::fs::write(&file, strategy("rate = -2")).expect("write");
    expect_bad_run(
        &dir,
        &file,
        &[],
        &[&at(line_of(VALID, r#"rate = "$rate""#)), "workload.rate"],
    );
    // A key `--set` adds is in no line of the file; one it changes in place keeps its line.
    std::fs::write(&file, VALID).expect("write");
    let err = expect_bad_run(
        &dir,
        &file,
        &["--set", "stations.server.queue_capacity=-1"],
        &["stations.server.queue_capacity"],
    );
    assert!(
        err.contains(&format!("{}: field", file.display())),
        "a position outside the file: {err}"
    );
    // A `--set` that changes a value in place is still the `--set`'s fault: it is named, and
    // no line of the file is blamed.
    let err = expect_bad_run(
        &dir,
        &file,
        &["--set", "rate=-1"],
        &["workload.rate", "(--set rate=-1)"],
    );
    assert!(
        err.contains(&format!("{}: field", file.display())),
        "a --set error blames a line of the file: {err}"
    );
}

#[test]
fn hpa_dry_run_replays_a_trace_and_refuses_a_bad_one() {
    let root = common::root();
    let manifest = root.join("deploy/hpa-custom-metrics-described.yaml");
    let trace = root.join("sims/data/black-friday-metrics.csv");
    let dir = Scratch::new("dry-run");
    let out = dir.join("dry.csv");
    let o = scalesim(&[
        "hpa-dry-run",
        manifest.to_str().expect("utf-8"),
        trace.to_str().expect("utf-8"),
        "--replicas",
        "3",
        "--cpu-request",
        "2",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    // The trace's spike needs 30 pods by its request rate (1,500/s at 50 per pod).
    assert!(text.contains("between 3 and 30"), "{text}");
    let csv = std::fs::read_to_string(&out).expect("the CSV was written");
    assert!(csv.starts_with("t_s,replicas_before,replicas,proposal_cpu,proposal_requests_per_second,proposal_queue_length\n"));
    assert_eq!(
        csv.lines().count(),
        161,
        "a header and one row per 15 s sync of 40 min"
    );

    let bad = dir.write("bad.csv", "timestamp,metric,value\n0,cpu,1\n15,cpu,oops\n");
    let o = scalesim(&[
        "hpa-dry-run",
        manifest.to_str().expect("utf-8"),
        bad.to_str().expect("utf-8"),
    ]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("bad.csv:3: value `oops` is not a number"),
        "{}",
        stderr(&o)
    );
    let unrelated = dir.write("other.csv", "0,disk,1\n");
    let o = scalesim(&[
        "hpa-dry-run",
        manifest.to_str().expect("utf-8"),
        unrelated.to_str().expect("utf-8"),
    ]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("none of the manifest's metrics"),
        "{}",
        stderr(&o)
    );
    let guide = root.join("deploy/hpa-custom-metrics.yaml");
    let o = scalesim(&[
        "hpa-dry-run",
        guide.to_str().expect("utf-8"),
        trace.to_str().expect("utf-8"),
    ]);
    assert_eq!(code(&o), 2, "the guide's text lacks describedObject");
    assert!(stderr(&o).contains("describedObject"), "{}", stderr(&o));
}

#[test]
fn r15_auto_replications_without_a_maximum_is_refused() {
    let text = edit(
        r#"warmup = "5s""#,
        "warmup = \"auto\"\nreplications = \"auto\"",
    );
    expect_bad_file(
        "auto-reps",
        &text,
        "replications",
        &[
            "field `replications`",
            "needs a maximum",
            "max_replications",
        ],
    );
    let text = edit(r#"warmup = "5s""#, "replications = 3\nmax_replications = 9");
    expect_bad_file(
        "auto-max-alone",
        &text,
        "max_replications",
        &["field `max_replications`", "only used with"],
    );
    let text = edit(
        r#"warmup = "5s""#,
        "replications = \"auto\"\nmax_replications = 9\nprecision_metrics = [\"p98\"]",
    );
    expect_bad_file(
        "auto-metric",
        &text,
        "precision_metrics",
        &["precision_metrics.0", "unknown figure `p98`"],
    );
    let text = edit(r#"warmup = "5s""#, "replications = \"many\"");
    expect_bad_file(
        "reps-word",
        &text,
        "replications",
        &["field `replications`", "a whole number or \"auto\""],
    );
}

#[test]
fn r15_auto_replications_cannot_be_sharded_without_a_count() {
    let text = edit(
        r#"warmup = "5s""#,
        "replications = \"auto\"\nmax_replications = 4",
    );
    let dir = Scratch::new("auto-shard");
    let file = dir.write("scenario.toml", &text);
    expect_bad_run(&dir, &file, &["--shard", "0/2"], &["--replications N"]);
}

/// `--params FILE` applies the names the scenario declares, names the rest as unused, loses to
/// an explicit `--set`, and a broken parameters file is bad input with its line.
#[test]
fn params_file_sets_declared_parameters_and_set_wins() {
    let dir = Scratch::new("cli-params");
    let file = dir.0.join("tiny.toml");
    std::fs::write(&file, VALID).unwrap();
    let params = dir.0.join("cal.toml");
    std::fs::write(
        &params,
        "[calibration]\nmachine = \"m\"\ndate = \"2026-12-03\"\n[params]\nrate = 7\nother = 1\n",
    )
    .unwrap();
    let rate = |extra: &[&str]| {
        let out = dir.0.join(format!("out{}", extra.len()));
        let mut args = vec![
            "run",
            file.to_str().unwrap(),
            "--params",
            params.to_str().unwrap(),
            "--quiet",
            "--replications",
            "1",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let o = scalesim(&args);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        assert!(
            stderr(&o).contains("other"),
            "unused names are named: {}",
            stderr(&o)
        );
        let s: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap())
                .unwrap();
        s["strategies"][0]["throughput_rps"].as_f64().unwrap()
    };
    let from_file = rate(&[]);
    assert!(
        (from_file - 7.0).abs() < 1.0,
        "rate 7 from the file: {from_file}"
    );
    let overridden = rate(&["--set", "rate=3"]);
    assert!((overridden - 3.0).abs() < 0.7, "--set wins: {overridden}");

    std::fs::write(&params, "[params]\nrate = \n").unwrap();
    let o = scalesim(&[
        "check",
        file.to_str().unwrap(),
        "--params",
        params.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("cal.toml:2"), "{}", stderr(&o));
}

/// Calibration against a server that cannot be reached exits 3 and names its address.
#[cfg(feature = "real")]
#[test]
fn calibrate_on_an_unreachable_server_exits_3_with_the_address() {
    let dir = Scratch::new("cli-calibrate");
    let out = dir.0.join("cal.toml");
    let o = scalesim(&[
        "calibrate",
        &common::sim("real-read-replicas.toml").to_string_lossy(),
        "--target",
        "primary=postgres://scalesim:secret@127.0.0.1:1/scalesim",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("127.0.0.1:1"), "{err}");
    assert!(!err.contains("secret"), "the password is redacted: {err}");
    assert!(!out.exists(), "nothing written");
}

/// `check` validates a `[real]` table as `scalesim real` would, naming the nested field and
/// its line, before any server starts.
#[cfg(feature = "real")]
#[test]
fn check_names_the_real_sections_nested_field() {
    let file = common::sim("real-sharding.toml");
    let file = file.to_string_lossy();
    let ok = scalesim(&["check", &file]);
    assert_eq!(code(&ok), 0, "{}", stderr(&ok));
    let cases = [
        ("real.sharding.shardz=3", "real.sharding.shardz"),
        (
            "real.sharding.reshard={at=\"35s\",shards=5}",
            "real.sharding.reshard.shards",
        ),
        ("real.ops.browse=place_ordr", "real.ops.browse"),
    ];
    for (set, field) in cases {
        let o = scalesim(&["check", &file, "--set", set]);
        let err = stderr(&o);
        assert_eq!(code(&o), 2, "{set}: {err}");
        assert!(err.contains(&format!("field `{field}`")), "{set}: {err}");
        assert!(err.contains("real-sharding.toml:1"), "{set}: a line: {err}");
    }
}
