//! Helpers shared by the test modules: where the shipped scenarios are, scratch directories,
//! short-horizon loading, and the checks every run must pass (conservation, no NaN).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

use proptest::test_runner::{Config as ProptestConfig, RngSeed};
use scalesim::model::System;
use scalesim::observe::{ComponentStats, RepStats};
use scalesim::report::summary::Summary;
use scalesim::run::RepMetrics;
use scalesim::scenario::{self, Loaded};

/// Runs the base scenario of TOML `text` (with `--set` style `sets`) once with `seed`.
pub fn run_text(text: &str, sets: &[&str], seed: u64) -> RepStats {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let loaded =
        scenario::load_str(text, Path::new("test.toml"), &sets).expect("the test scenario loads");
    System::new(&loaded.base.system, seed).run()
}

/// The component `name` of a replication.
pub fn component<'a>(s: &'a RepStats, name: &str) -> &'a ComponentStats {
    s.components
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no component {name}"))
}

/// The named metric of a component.
pub fn metric(c: &ComponentStats, name: &str) -> f64 {
    c.metrics
        .iter()
        .find(|(k, _)| k == name)
        .unwrap_or_else(|| panic!("{}: no metric {name}", c.name))
        .1
}

/// The crate root (where `sims/` lives).
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `sims/<name>`.
pub fn sim(name: &str) -> PathBuf {
    root().join("sims").join(name)
}

/// Every `sims/*.toml`, sorted; fails when there are none (a test over nothing cannot fail).
pub fn all_sims() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("sims"))
        .expect("sims/ exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 6,
        "expected the shipped scenarios in sims/, found {files:?}"
    );
    files
}

/// A fresh, empty scratch directory under the system temp dir, unique per process and call.
/// Removed (with its contents) when the guard drops.
pub struct Scratch(pub PathBuf);

impl Scratch {
    /// A new scratch directory; `tag` names it for debugging.
    pub fn new(tag: &str) -> Scratch {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("scalesim-it-{}-{tag}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        Scratch(dir)
    }

    /// A path inside the directory.
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Writes `text` to `name` inside the directory and returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.join(name);
        std::fs::write(&p, text).expect("write scratch file");
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Loads `path` with `sets` plus a short horizon (`duration`, `warmup`).
pub fn load_short(path: &Path, duration: &str, warmup: &str, sets: &[&str]) -> Loaded {
    let mut all: Vec<String> = vec![format!("duration={duration}"), format!("warmup={warmup}")];
    all.extend(sets.iter().map(|s| s.to_string()));
    scenario::load(path, &all).unwrap_or_else(|e| panic!("{} does not load: {e}", path.display()))
}

/// Every number of `summary` is finite: serde_json writes NaN and infinities as `null`, and the
/// summary has no optional fields, so a `null` anywhere is a non-finite number.
pub fn assert_finite(summary: &Summary) {
    let v = serde_json::to_value(summary).expect("summary serializes");
    let mut nulls = Vec::new();
    find_nulls(&v, "summary", &mut nulls);
    assert!(
        nulls.is_empty(),
        "non-finite numbers in the summary of {}: {nulls:?}",
        summary.scenario
    );
}

fn find_nulls(v: &serde_json::Value, path: &str, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Null => out.push(path.to_string()),
        serde_json::Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| find_nulls(x, &format!("{path}[{i}]"), out)),
        serde_json::Value::Object(o) => o
            .iter()
            .for_each(|(k, x)| find_nulls(x, &format!("{path}.{k}"), out)),
        _ => {}
    }
}

/// Conservation of one replication: nothing is completed or failed twice, per class and in
/// total, and the class figures add up to the total. (The recorder derives the in-flight count
/// as `arrived - completed - failed`, so that identity is not checked: it cannot fail. What
/// can fail is the subtraction wrapping, and a count beyond what the system can hold, which
/// the callers bound.)
pub fn assert_conserved(m: &RepMetrics, what: &str) {
    let t = &m.total;
    assert!(
        t.completed + t.failed_total() <= t.arrived,
        "{what}: more finished ({} + {}) than arrived ({})",
        t.completed,
        t.failed_total(),
        t.arrived
    );
    for (i, c) in m.classes.iter().enumerate() {
        assert!(
            c.completed + c.failed_total() <= c.arrived,
            "{what}: class {i} finished more than arrived"
        );
    }
    let sum = |f: &dyn Fn(&scalesim::run::Metrics) -> u64| m.classes.iter().map(f).sum::<u64>();
    assert_eq!(
        sum(&|c| c.arrived),
        t.arrived,
        "{what}: class arrivals do not add up"
    );
    assert_eq!(
        sum(&|c| c.completed),
        t.completed,
        "{what}: class completions do not add up"
    );
    assert_eq!(
        sum(&|c| c.failed_total()),
        t.failed_total(),
        "{what}: class failures do not add up"
    );
}

/// Runs `f` on its own thread and returns its result, failing when it takes longer than
/// `secs` seconds: a hang becomes a test failure (the stuck thread is left behind).
pub fn within<T: Send + 'static>(
    secs: u64,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(x) => x,
        Err(RecvTimeoutError::Timeout) => panic!("{what}: still running after {secs} s (a hang?)"),
        Err(RecvTimeoutError::Disconnected) => panic!("{what}: panicked (its message is above)"),
    }
}

/// Proptest settings: `cases` cases from a fixed seed, so a run is reproducible, no failure
/// files written into the source tree. `PROPTEST_CASES` and `PROPTEST_RNG_SEED` override the
/// count and the seed, to search longer or elsewhere.
pub fn proptest_config(cases: u32) -> ProptestConfig {
    let mut c = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = cases;
    }
    if matches!(c.rng_seed, RngSeed::Random) {
        c.rng_seed = RngSeed::Fixed(0x5ca1_e51e);
    }
    c.failure_persistence = None;
    c
}
