//! Fuzzing the scenario loader (proptest as the driver): bad input must never panic or hang,
//! and every error must render as a message.
//!
//! Inputs: arbitrary bytes; a soup of scenario-format tokens; each shipped scenario mutated by
//! a few random edits (delete, duplicate or swap lines, replace a number or a string, insert a
//! line from a dictionary of tricky entries or random characters, truncate); and random
//! `--set` strings over the shipped scenarios. Whatever loads is also run for one simulated
//! second (when its load is small enough to be quick) and its report rendered, and must give
//! finite, physically possible numbers. Panics fail the proptest case, which proptest shrinks
//! to a minimal input.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::strategy::ValueTree;

use scalesim::model::workload::{Arrivals, Load};
use scalesim::report;
use scalesim::run::{self, RunOptions};
use scalesim::scenario::{self, Loaded, Scenario, ScenarioError};

use crate::common::{self, assert_finite};

/// The shipped scenarios, read once: (path, text).
fn sims() -> &'static [(PathBuf, String)] {
    static SIMS: std::sync::OnceLock<Vec<(PathBuf, String)>> = std::sync::OnceLock::new();
    SIMS.get_or_init(|| {
        common::all_sims()
            .into_iter()
            .map(|p| {
                let t = std::fs::read_to_string(&p).expect("readable");
                (p, t)
            })
            .collect()
    })
}

// ---------------------------------------------------------------------------------------------
// Checks

fn check_error(e: &ScenarioError) {
    let msg = e.to_string();
    assert!(
        !msg.is_empty() && !e.message.is_empty(),
        "empty error message: {e:?}"
    );
    assert!(
        msg.starts_with(&e.file.display().to_string()),
        "the message does not start with the file: {msg}"
    );
}

/// Loads `text` as `path` with `sets`; errors must render; whatever loads is run briefly.
fn load_and_maybe_run(text: &str, path: &Path, sets: &[String]) {
    match scenario::load_str(text, path, sets) {
        Err(e) => check_error(&e),
        Ok(_) => {
            run_briefly(text, path, sets);
        }
    }
}

/// Every scenario of a loaded file: the strategies and every sweep point.
fn scenarios(l: &Loaded) -> impl Iterator<Item = &Scenario> {
    l.strategies
        .iter()
        .map(|s| &s.scenario)
        .chain(l.sweep.iter().flat_map(|s| s.points.iter().flatten()))
}

/// Whether one second of `sc` is quick: a bounded arrival rate, or users who think long enough
/// to send a bounded number of requests per second (and think at all: with no think time and
/// an instant path, closed-loop users would send infinitely many).
fn quick(sc: &Scenario) -> bool {
    let sys = &sc.system;
    let load_ok = match &sys.load {
        Load::Open(Arrivals::Constant { rate }) => *rate <= 20_000.0,
        Load::Open(Arrivals::Poisson(p)) => p.max() <= 20_000.0,
        Load::Open(Arrivals::Mmpp { rates, .. }) => rates[0].max(rates[1]) <= 20_000.0,
        Load::Open(Arrivals::Replay(ts)) => ts.len() <= 100_000,
        Load::Closed(u) => {
            u.think.mean() >= 1e-3
                && u.target.max() <= 100_000.0
                && u.target.max() / u.think.mean() <= 20_000.0
        }
    };
    load_ok
        && sys
            .classes
            .iter()
            .all(|c| scalesim::model::program::ops_bound(&c.path) <= 50.0)
}

/// Runs `text` for one simulated second, one replication, and renders the report; false when
/// it does not load with the short horizon or would not be quick.
fn run_briefly(text: &str, path: &Path, sets: &[String]) -> bool {
    let mut all = sets.to_vec();
    all.extend(["duration=1s", "warmup=0s", "bucket=100ms"].map(String::from));
    let Ok(l) = scenario::load_str(text, path, &all) else {
        return false;
    };
    if l.sweep.as_ref().is_some_and(|s| s.points.len() > 30) || !scenarios(&l).all(quick) {
        return false;
    }
    let what = format!("one second of\n{text}\nwith {all:?}");
    let huge_prices = scenarios(&l).any(|sc| {
        sc.prices
            .worker_hour
            .iter()
            .chain([&sc.prices.per_million_requests, &sc.prices.fixed_per_hour])
            .any(|p| *p > 1e12)
    });
    let rep = common::within(30, &what, move || {
        run::run(
            &l,
            &RunOptions {
                replications: Some(1),
                jobs: 1,
                ..RunOptions::default()
            },
        )
    });
    let mut summary = rep.summary.clone();
    if huge_prices {
        // Prices near f64::MAX overflow the cost to infinity; that is arithmetic, not a bug.
        for s in summary
            .strategies
            .iter_mut()
            .chain(summary.points.iter_mut().flat_map(|p| &mut p.strategies))
        {
            s.cost = Default::default();
        }
    }
    assert_finite(&summary);
    for s in rep
        .summary
        .strategies
        .iter()
        .chain(rep.summary.points.iter().flat_map(|p| &p.strategies))
    {
        assert!(
            s.requests >= s.completed + s.failed,
            "`{}` finished more than arrived",
            s.name
        );
        assert!(
            s.latency_ms.max <= 1000.0 * 1.01,
            "`{}`: a latency of {} ms in a one-second run",
            s.name,
            s.latency_ms.max
        );
        for c in &s.components {
            assert!(
                (0.0..=1.0 + 1e-9).contains(&c.utilization),
                "`{}`: {} utilization {}",
                s.name,
                c.name,
                c.utilization
            );
        }
    }
    let _ = report::render_table(&rep.summary, false);
    let _ = report::summary_csv(&rep.summary);
    let _ = report::timeseries_csv(&rep.timeseries);
    report::summary_json(&rep.summary).expect("the summary serializes");
    true
}

// ---------------------------------------------------------------------------------------------
// Mutations

#[derive(Debug, Clone)]
enum Mutation {
    DeleteLine(Index),
    DuplicateLine(Index),
    SwapLines(Index, Index),
    ReplaceNumber(Index, String),
    ReplaceString(Index, String),
    InsertLine(Index, String),
    InsertChars(Index, String),
    Truncate(Index),
}

const NUMBERS: &[&str] = &[
    "-1",
    "0",
    "-0.0",
    "1",
    "0.5",
    "3",
    "1e308",
    "-1e308",
    "1e-300",
    "5e-324",
    "nan",
    "-nan",
    "inf",
    "-inf",
    "+inf",
    "99999999999999999999",
    "18446744073709551615",
    "9223372036854775807",
    "-9223372036854775808",
    "4294967296",
    "4294967295",
    "65536",
    "1_000_000",
    "1.7976931348623157e308",
    "0x10",
    "1e",
    "01",
    "1.",
    ".5",
];

const STRINGS: &[&str] = &[
    "",
    "$",
    "$$",
    "$rate",
    "$nope",
    "$users",
    "5 parsecs",
    "1ms",
    "0s",
    "0",
    "-5ms",
    "1e400s",
    "1.5.5s",
    "5µs",
    "1h30m",
    "9999999999999999999d",
    "nan",
    "inf",
    "_",
    "ms",
    "fifo",
    "ps",
    "processor_sharing",
    "zipf",
    "uniform",
    "hotspot",
    "exponential",
    "normal",
    "lognormal",
    "pareto",
    "gamma",
    "weibull",
    "empirical",
    "mixture",
    "constant",
    "poisson",
    "ramp",
    "stages",
    "spike",
    "diurnal",
    "mmpp",
    "replay",
    "users",
    "app",
    "db",
    "server",
    "payments",
    "nonexistent.csv",
    "rate",
    "percentiles.0",
    "percentiles.9",
    "classes.page.path.9",
    "stations.app.workers",
    "sweep.values.0",
    "\u{202e}",
];

/// Lines (or blocks) that exercise corners of the format; inserted anywhere.
const DICTIONARY: &[&str] = &[
    "queue_capacity = 0",
    "discipline = \"ps\"",
    "timeout = \"1ns\"",
    "service = { dist = \"normal\", mean = \"5ms\", sd = \"1ms\", min = \"10ms\", max = \"1ms\" }",
    "service = { dist = \"normal\", mean = \"5ms\", sd = \"0ms\" }",
    "service = { dist = \"uniform\", min = \"5ms\", max = \"1ms\" }",
    "service = { dist = \"empirical\", edges = [\"1ms\", \"2ms\"], weights = [0] }",
    "service = { dist = \"empirical\", edges = [\"2ms\", \"1ms\"], weights = [1] }",
    "service = { dist = \"empirical\", samples = [] }",
    "service = { dist = \"mixture\", parts = [] }",
    "service = { dist = \"mixture\", parts = [{ weight = 1e308, of = \"1ms\" }, { weight = 1e308, of = \"2ms\" }] }",
    "service = { dist = \"pareto\", scale = \"1ms\", shape = 1e-300 }",
    "service = { dist = \"lognormal\", mu = nan, sigma = 1 }",
    "service = { dist = \"lognormal\", mu = 800, sigma = 1 }",
    "service = { dist = \"lognormal\", median = \"1ms\", p99 = \"1ms\" }",
    "service = { dist = \"weibull\", scale = \"0ms\", shape = 1 }",
    "service = { dist = \"gamma\", shape = 1e-300, scale = \"1ms\" }",
    "service = \"0ms\"",
    "service = 1e300",
    "percentiles = [99.9, 50]",
    "percentiles = [100]",
    "path = []",
    "path = [{ fork = [] }]",
    "path = [{ fork = [\"app\", \"app\"] }, { delay = \"0ms\" }]",
    "path = [{ fork = [\"app\"], delay = \"1ms\" }]",
    "path = [{ delay = { dist = \"exponential\", mean = \"1ms\" } }]",
    "path = [{ fork = [[\"app\", { delay = \"1ms\" }], [[\"app\"]]] }]",
    "path = [{ branch = [{ p = 0.5, path = [\"app\"] }, { p = 0.6, path = [] }] }]",
    "path = [{ branch = [{ p = nan, path = [\"app\"] }] }]",
    "path = [{ branch = [] }]",
    "path = [{ by_key = [\"app\", [\"app\", \"app\"]], router = \"range\" }]",
    "path = [{ by_key = [], router = \"hash\" }]",
    "path = [{ repeat = 1000000, path = [{ repeat = 1000000, path = [{ delay = \"0ms\" }] }] }]",
    "path = [{ repeat = -1, path = [\"app\"] }]",
    "path = [{ repeat = { dist = \"poisson\", mean = 1e300 }, path = [\"app\"] }]",
    "path = [{ repeat = { dist = \"uniform\", min = 5, max = 1 }, path = [\"app\"] }]",
    "path = [{ repeat = { dist = \"geometric\", mean = 3 }, path = [] }]",
    "path = [{ try = [\"app\"], attempts = 100, timeout = \"1ns\", fallback = [{ try = [\"app\"], timeout = \"1ns\" }] }]",
    "path = [{ try = [], attempts = 0 }]",
    "path = [{ try = [\"app\"], timeout = \"0ms\", router = \"hash\" }]",
    "path = [{ try = [{ fork = [[{ try = [\"app\"], timeout = \"1us\" }], \"app\"] }], timeout = \"2us\", attempts = 3 }]",
    "instances = 0",
    "instances = 100001",
    "instances = 20\nbalancer = \"p2c\"",
    "instances = 3\nbalancer = \"key_hash\"",
    "instances = 3\nbalancer = \"sticky\"",
    "instances = 3\nbalancer = \"weighted\"\nspeeds = [1, 0.5]\nweights = [0, 1]",
    "balancer = \"roundrobin\"",
    "speeds = [0]",
    "startup = \"-1s\"",
    "restart = { dist = \"exponential\", mean = \"1s\" }",
    "[services.extra]\nservice = \"1ms\"\ninstances = 2",
    "[services.server]\nservice = \"1ms\"",
    "[controllers.plan]\ntype = \"schedule\"\nservice = \"server\"\nschedule = [{ at = \"1ms\", instances = 0 }, { at = \"2ms\", crash = 1 }, { at = \"3ms\", instances = 5 }]",
    "[controllers.plan]\ntype = \"schedule\"\nservice = \"nowhere\"\nschedule = []",
    "[controllers.plan]\ntype = \"hpa\"\nservice = \"app\"",
    "[controllers.plan]\ntype = \"schedule\"\nservice = \"app\"\nschedule = [{ at = \"2s\", instances = 1 }, { at = \"1s\", crash = 1, instances = 2 }]",
    "[prices]\ninstance_hour = { nope = 1 }",
    "type = \"stages\"\nstages = [{ duration = \"100ms\", target = 50 }, { duration = \"100ms\", target = 0 }]",
    "type = \"ramp\"\nfrom = 10\nto = 1e9\nover = \"0s\"",
    "type = \"mmpp\"\nrates = [0, 0]\nsojourn = [\"1ms\", \"1ms\"]",
    "type = \"mmpp\"\nrates = [100, 200]\nsojourn = [0.01, 1e300]",
    "type = \"diurnal\"\nmean = 100\nphase = nan\namplitude = 1\nperiod = \"0s\"",
    "type = \"spike\"\nbase = 100\nmultiplier = 2\nat = 1e300\nramp = 1e300\nhold = 1e300",
    "type = \"constant\"",
    "type = \"constant\"\nrate = 1e-300",
    "type = \"replay\"\nfile = \"nonexistent.csv\"",
    "type = \"users\"\nusers = 5",
    "type = \"users\"\nusers = 5\nthink = \"0ms\"",
    "keys = { dist = \"hotspot\", n = 1, hot_fraction = 1, hot_share = 0 }",
    "keys = { dist = \"zipf\", n = 0 }",
    "[sweep]\nparam = \"percentiles.3\"\nvalues = [1]",
    "[sweep]\nparam = \"rate\"\nvalues = []",
    "[sweep]\nparam = \"rate\"\nfrom = 1\nto = 2\nsteps = 3",
    "[capacity]\nto = inf",
    "[capacity]\nfrom = 0\nto = 1",
    "[[strategies]]\nname = \"x\"\nset = { \"percentiles.7\" = 1 }",
    "[[strategies]]\nname = \"x\"\nset = { \"stations\" = 1 }",
    "[[strategies]]\nname = \"x\"\nset = { \"classes.job.path.0\" = \"nowhere\" }",
    "[[strategies]]\nname = \"c=4\"",
    "[params]\nrate = \"$rate\"",
    "bucket = \"1ns\"",
    "warmup = \"1h\"",
    "replications = 0",
    "seed = -1",
    "[stations.extra]\nservice = \"1ms\"\nworkers = 4294967296",
    "[classes.extra]\npath = [\"nowhere\"]\nweight = 0",
    "weight = 0",
    "weight = -1",
    "weight = inf",
    "service_by_class.nope = \"1ms\"",
    "[slo]\np99 = \"-1ms\"\nmax_error_rate = 2\nmin_throughput = nan",
    "[prices]\nworker_hour = { nope = 1 }",
    "[real]\nanything = 1",
    "a.b.c.d.e = 1",
    "name = \"\u{fc}\u{202e}\"",
    "x = [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    let number = prop_oneof![
        3 => select(NUMBERS).prop_map(str::to_string),
        1 => any::<i64>().prop_map(|x| x.to_string()),
        1 => any::<f64>().prop_map(|x| format!("{x:e}")),
    ];
    let string =
        prop_oneof![3 => select(STRINGS).prop_map(str::to_string), 1 => "[a-z0-9$.µ_ -]{0,12}"];
    prop_oneof![
        2 => any::<Index>().prop_map(Mutation::DeleteLine),
        1 => any::<Index>().prop_map(Mutation::DuplicateLine),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        4 => (any::<Index>(), number).prop_map(|(i, n)| Mutation::ReplaceNumber(i, n)),
        3 => (any::<Index>(), string).prop_map(|(i, s)| Mutation::ReplaceString(i, s)),
        4 => (any::<Index>(), select(DICTIONARY)).prop_map(|(i, l)| Mutation::InsertLine(i, l.to_string())),
        1 => (any::<Index>(), "[\\[\\]{}=\",.#$a-z0-9\n]{1,4}").prop_map(|(i, s)| Mutation::InsertChars(i, s)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
    ]
}

/// Byte ranges of number-like tokens: a digit run (with `.`, `_`, `e`), optionally signed.
fn numbers(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let starts = b[i].is_ascii_digit()
            && (i == 0
                || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_' || b[i - 1] == b'.'));
        if !starts {
            i += 1;
            continue;
        }
        let start = if i > 0 && b[i - 1] == b'-' { i - 1 } else { i };
        let mut j = i;
        while j < b.len() && (b[j].is_ascii_digit() || b[j] == b'.' || b[j] == b'_' || b[j] == b'e')
        {
            j += 1;
        }
        out.push((start, j));
        i = j;
    }
    out
}

/// Byte ranges of the contents of one-line double-quoted strings.
fn strings(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let quotes: Vec<usize> = line.match_indices('"').map(|(i, _)| offset + i).collect();
        out.extend(quotes.chunks_exact(2).map(|q| (q[0] + 1, q[1])));
        offset += line.len();
    }
    out
}

fn char_boundary(text: &str, i: &Index) -> usize {
    let n = text.len() + 1;
    (i.index(n)..n)
        .find(|&k| text.is_char_boundary(k))
        .unwrap_or(text.len())
}

fn key_of(line: &str) -> &str {
    line.split('=').next().unwrap_or("").trim()
}

/// Puts a dictionary entry into `lines`: an entry whose key the file already has replaces one
/// of those lines (inserting it would only be a duplicate-key syntax error); otherwise it is
/// inserted.
fn insert_entry(lines: &mut Vec<String>, i: &Index, entry: &str) {
    let key = key_of(entry);
    let same: Vec<usize> = (0..lines.len())
        .filter(|&k| !key.is_empty() && key_of(&lines[k]) == key)
        .collect();
    if same.is_empty() {
        lines.insert(i.index(lines.len() + 1), entry.to_string());
    } else {
        lines[same[i.index(same.len())]] = entry.to_string();
    }
}

fn apply(text: &str, m: &Mutation) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let replace = |ranges: Vec<(usize, usize)>, i: &Index, new: &str| match ranges.is_empty() {
        true => text.to_string(),
        false => {
            let (a, b) = ranges[i.index(ranges.len())];
            format!("{}{new}{}", &text[..a], &text[b..])
        }
    };
    match m {
        Mutation::ReplaceNumber(i, n) => return replace(numbers(text), i, n),
        Mutation::ReplaceString(i, s) => return replace(strings(text), i, s),
        Mutation::InsertChars(i, s) => {
            let k = char_boundary(text, i);
            return format!("{}{s}{}", &text[..k], &text[k..]);
        }
        Mutation::Truncate(i) => return text[..char_boundary(text, i)].to_string(),
        _ if lines.is_empty() => return text.to_string(),
        Mutation::DeleteLine(i) => {
            lines.remove(i.index(lines.len()));
        }
        Mutation::DuplicateLine(i) => {
            let k = i.index(lines.len());
            lines.insert(k, lines[k].clone());
        }
        Mutation::SwapLines(a, b) => {
            let n = lines.len();
            lines.swap(a.index(n), b.index(n));
        }
        Mutation::InsertLine(i, l) => insert_entry(&mut lines, i, l),
    }
    lines.join("\n") + "\n"
}

// ---------------------------------------------------------------------------------------------
// `--set` strings

const SET_KEYS: &[&str] = &[
    "rate",
    "servers",
    "service_mean",
    "users",
    "pods",
    "duration",
    "warmup",
    "seed",
    "replications",
    "bucket",
    "name",
    "percentiles",
    "percentiles.0",
    "percentiles.5",
    "percentiles.x",
    "classes.job.path",
    "classes.job.path.0",
    "classes.job.path.7",
    "classes.page.path.1.fork.5",
    "classes.job.path.x.y",
    "stations.server.workers",
    "stations.server.instances",
    "stations.server.balancer",
    "services.app.instances",
    "controllers.plan.schedule.0.instances",
    "classes.job.path.0.try",
    "classes.job.path.0.attempts",
    "classes.job.path.0.repeat",
    "classes.job.path.0.branch.0.p",
    "stations.server.service.mean",
    "stations.server.service",
    "stations.app.service.parts.0.weight",
    "stations.app.service.parts.9.of",
    "strategies",
    "strategies.0.name",
    "strategies.9.set.servers",
    "params",
    "params.rate",
    "params.rate.x",
    "sweep",
    "sweep.values.9",
    "sweep.values.0",
    "sweep.param",
    "workload",
    "workload.type",
    "workload.stages.0.target",
    "workload.stages.5",
    "",
    ".",
    "..",
    "a..b",
    "name.x",
    "slo.p99",
    "capacity.to",
    "$rate",
    "real.x",
    " rate ",
];

const SET_VALUES: &[&str] = &[
    "4",
    "0",
    "-1",
    "1e999",
    "nan",
    "inf",
    "2h",
    "5 parsecs",
    "true",
    "[1, 2]",
    "[]",
    "{ a = 1 }",
    "{}",
    "[",
    "\"",
    "'x'",
    "\"$rate\"",
    "$rate",
    "[[1]]",
    "{",
    "= 1",
    "",
    "\"ps\"",
    "\"p2c\"",
    "\"key_hash\"",
    "{ try = [\"server\"], attempts = 3, timeout = \"1ms\" }",
    "{ repeat = 5, path = [\"server\"] }",
    "{ dist = \"normal\", mean = \"1ms\", sd = \"1ms\", min = \"5ms\", max = \"1ms\" }",
    "1979-05-27T07:32:00Z",
    "\"\"\"x\"\"\"",
    "1.5",
    "18446744073709551616",
];

fn set_string() -> impl Strategy<Value = String> {
    let key = prop_oneof![4 => select(SET_KEYS).prop_map(str::to_string), 1 => "[a-z.0-9_$]{0,10}"];
    let value = prop_oneof![4 => select(SET_VALUES).prop_map(str::to_string), 1 => "[ -~]{0,10}"];
    prop_oneof![
        6 => (key, value).prop_map(|(k, v)| format!("{k}={v}")),
        1 => "[ -~]{0,16}",
    ]
}

// ---------------------------------------------------------------------------------------------
// The fuzz targets

proptest! {
    #![proptest_config(common::proptest_config(6000))]

    /// Each shipped scenario with one to four random edits.
    #[test]
    fn mutated_sims_never_panic(which: Index, edits in prop::collection::vec(mutation(), 1..=4)) {
        let (path, text) = which.get(sims());
        let text = edits.iter().fold(text.clone(), |t, m| apply(&t, m));
        load_and_maybe_run(&text, path, &[]);
    }
}

proptest! {
    #![proptest_config(common::proptest_config(3000))]

    /// Random `--set` strings (one or two) over each shipped scenario.
    #[test]
    fn random_sets_never_panic(which: Index, sets in prop::collection::vec(set_string(), 1..=2)) {
        let (path, text) = which.get(sims());
        load_and_maybe_run(text, path, &sets);
    }

    /// Arbitrary bytes, read as UTF-8 with replacement characters.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        load_and_maybe_run(&String::from_utf8_lossy(&bytes), Path::new("fuzz.toml"), &[]);
    }

    /// Lines of scenario-format tokens, which get much further into validation than bytes.
    #[test]
    fn token_soup_never_panics(lines in prop::collection::vec(prop::collection::vec(select(TOKENS), 1..8), 1..30)) {
        let text: String = lines.iter().map(|l| l.concat() + "\n").collect();
        load_and_maybe_run(&text, &common::sim("soup.toml"), &[]);
    }
}

const TOKENS: &[&str] = &[
    "name",
    "duration",
    "warmup",
    "workload",
    "type",
    "rate",
    "classes",
    "job",
    "path",
    "stations",
    "services",
    "controllers",
    "instances",
    "balancer",
    "try",
    "fallback",
    "attempts",
    "repeat",
    "branch",
    "by_key",
    "schedule",
    "server",
    "workers",
    "service",
    "dist",
    "mean",
    "strategies",
    "set",
    "sweep",
    "param",
    "values",
    "params",
    "slo",
    "p99",
    "[",
    "]",
    "[[",
    "]]",
    "{",
    "}",
    "=",
    " = ",
    ",",
    ".",
    "\"",
    "\"x\"",
    "\"1ms\"",
    "\"poisson\"",
    "\"exponential\"",
    "\"server\"",
    "\"$rate\"",
    "1",
    "0",
    "-1",
    "2.5",
    "nan",
    "inf",
    "true",
    "#",
    " ",
    "'",
    "\"\"\"",
    "\\",
    "\u{0}",
    "é",
];

// ---------------------------------------------------------------------------------------------
// Sanity of the fuzzer itself: the mutations do reach the validator.

/// Replacing numbers and strings in a shipped scenario finds real tokens, and the dictionary
/// entries produce both valid scenarios and errors past the TOML parser (so the fuzzer is not
/// just feeding the parser garbage).
#[test]
fn mutations_reach_validation() {
    let (path, text) = mmc();
    assert!(
        numbers(text).iter().any(|&(a, b)| &text[a..b] == "3.2"),
        "{:?}",
        numbers(text)
    );
    assert!(
        strings(text)
            .iter()
            .any(|&(a, b)| &text[a..b] == "$servers")
    );
    let (mut valid, mut semantic) = (0, 0);
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    for entry in DICTIONARY {
        for _ in 0..3 {
            let i = any::<Index>()
                .new_tree(&mut runner)
                .expect("an index")
                .current();
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            insert_entry(&mut lines, &i, entry);
            match scenario::load_str(&lines.join("\n"), path, &[]) {
                Ok(_) => valid += 1,
                Err(e) if !e.message.starts_with("TOML syntax") => semantic += 1,
                Err(_) => {}
            }
        }
    }
    assert!(
        valid >= 20 && semantic >= 60,
        "valid {valid}, semantic errors {semantic} of {}",
        3 * DICTIONARY.len()
    );
}

/// A fair share of mutated scenarios still loads and gets run, so the run stage is exercised.
#[test]
fn some_mutants_run() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let cases = (any::<Index>(), prop::collection::vec(mutation(), 1..=4));
    let ran = (0..300)
        .filter(|_| {
            let (which, edits) = cases.new_tree(&mut runner).expect("a case").current();
            let (path, text) = which.get(sims());
            let text = edits.iter().fold(text.clone(), |t, m| apply(&t, m));
            scenario::load_str(&text, path, &[]).is_ok() && run_briefly(&text, path, &[])
        })
        .count();
    assert!(ran >= 20, "only {ran} of 300 mutants ran");
}

// ---------------------------------------------------------------------------------------------
// Regressions found by the fuzzer

fn mmc() -> (&'static Path, &'static str) {
    let (p, t) = sims()
        .iter()
        .find(|(p, _)| p.ends_with("mmc.toml"))
        .expect("mmc.toml");
    (p, t)
}

fn expect_error(text: &str, sets: &[&str], wanted: &str) -> ScenarioError {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let e = scenario::load_str(text, mmc().0, &sets).expect_err("must be refused");
    check_error(&e);
    assert!(e.to_string().contains(wanted), "`{wanted}` not in: {e}");
    e
}

/// Regression: `--set`, a strategy's `set` or a sweep `param` naming an array element past
/// the end (`percentiles.5`) panicked in toml_edit's `Array::replace`.
#[test]
fn r_set_array_index_out_of_range() {
    let (_, text) = mmc();
    expect_error(text, &["percentiles.5=1"], "out of range");
    let strategy =
        format!("{text}\n[[strategies]]\nname = \"x\"\nset = {{ \"percentiles.3\" = 1 }}\n");
    expect_error(&strategy, &[], "out of range");
    expect_error(text, &["sweep.param=\"percentiles.1\""], "out of range");
    // An index inside the array still works.
    let l = scenario::load_str(text, mmc().0, &["percentiles.0=99.9".into()]).expect("in range");
    assert_eq!(l.base.percentiles, vec![99.9]);
}

/// `mmc.toml` with `from` replaced by `to`.
fn mmc_with(from: &str, to: &str) -> String {
    let (_, text) = mmc();
    assert!(text.contains(from), "`{from}` not in mmc.toml");
    text.replacen(from, to, 1)
}

const MMC_SERVICE: &str = r#"service = { dist = "exponential", mean = "$service_mean" }"#;

/// Regression: a truncated normal with `min` above `max` loaded, then panicked in
/// `f64::clamp` on the first service time that missed the empty range 64 times.
#[test]
fn r_normal_min_above_max() {
    let bad = mmc_with(
        MMC_SERVICE,
        r#"service = { dist = "normal", mean = "1s", sd = "1s", min = "10s", max = "1s" }"#,
    );
    expect_error(&bad, &[], "max must be at least min");
    let point = mmc_with(
        MMC_SERVICE,
        r#"service = { dist = "normal", mean = "1s", sd = "1s", min = "1s", max = "1s" }"#,
    );
    assert!(run_briefly(&point, mmc().0, &[]));
}

/// Regression: `phase = nan` made every diurnal rate NaN, so arrival thinning never accepted
/// a candidate and ran until the clock saturated (a hang); `mu = nan` gave NaN service times.
#[test]
fn r_non_finite_phase_and_mu() {
    let diurnal = mmc_with(
        "type = \"poisson\"\nrate = \"$rate\"",
        "type = \"diurnal\"\nmean = 3\nperiod = \"1h\"\nphase = nan",
    );
    expect_error(&diurnal, &[], "workload.phase");
    for mu in ["nan", "inf", "-inf"] {
        let ln = mmc_with(
            MMC_SERVICE,
            &format!("service = {{ dist = \"lognormal\", mu = {mu}, sigma = 1 }}"),
        );
        expect_error(&ln, &[], "stations.server.service.mu");
    }
    let finite = mmc_with(
        "type = \"poisson\"\nrate = \"$rate\"",
        "type = \"diurnal\"\nmean = 3\nperiod = \"1h\"\nphase = 1.5",
    );
    assert!(run_briefly(&finite, mmc().0, &[]));
}

/// Regression: `[capacity] to = inf` was accepted, and the bisection between a finite and an
/// infinite scale never narrowed (nor could the probe at infinite load finish).
#[test]
fn r_capacity_infinite_bound() {
    expect_error(&mmc_with("to = 3.0", "to = inf"), &[], "capacity");
}

/// Regression: `steps = 4000000000` in a sweep allocated every point up front (tens of GB).
#[test]
fn r_sweep_with_billions_of_steps() {
    let huge = mmc_with(
        "values = [2.0, 2.4, 2.8, 3.2, 3.6]",
        "from = 1\nto = 2\nsteps = 4000000000",
    );
    common::within(10, "loading a huge sweep", move || {
        expect_error(&huge, &[], "sweep.values")
    });
    let (_, text) = mmc();
    let fine = text.replacen(
        "values = [2.0, 2.4, 2.8, 3.2, 3.6]",
        "from = 1\nto = 2\nsteps = 3",
        1,
    );
    let l = scenario::load_str(&fine, mmc().0, &[]).expect("a small stepped sweep loads");
    assert_eq!(l.sweep.expect("a sweep").values, vec![1.0, 1.5, 2.0]);
}

/// Regression: a class with an empty path, under closed-loop users without think time,
/// finished each request at the instant it was sent and sent the next at the same instant,
/// for ever (a hang). An empty path is now refused.
#[test]
fn r_empty_path() {
    let users = mmc_with(
        "type = \"poisson\"\nrate = \"$rate\"",
        "type = \"users\"\nusers = 3",
    );
    let empty = users.replacen(r#"path = ["server"]"#, "path = []", 1);
    expect_error(&empty, &[], "classes.job.path");
    let thinking = users.replacen("users = 3", "users = 3\nthink = \"100ms\"", 1);
    assert!(run_briefly(&thinking, mmc().0, &[]));
}
