//! Commands, flags and exit codes: 0 ok; 1 an SLO failed under `--fail-on-slo`, at the base
//! point or any sweep point (or `validate` found the simulator out of tolerance); 2 bad input
//! or usage (a flag, a scenario, a file named on the command line that is missing or
//! malformed); 3 a real run could not use its servers (they could not be started or reached);
//! 4 an I/O or internal failure (results could not be written, a determinism check failed).
//! `diff` (and `run --baseline`) exits 1 when a watched metric got worse beyond noise.
//! Errors are printed with their whole cause chain; nothing panics on bad input.

use std::error::Error as StdError;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};

use scalesim::report::summary::Summary;
use scalesim::report::{self, Formats, Manifest, RunFacts};
use scalesim::run::{self, RunOptions, Shard};
use scalesim::scenario;

mod diff;

use diff::{Baseline, GateArgs, Print};

#[derive(Parser, Debug)]
#[command(
    name = "scalesim",
    version,
    about = "Compare scalability strategies before building them: simulate, run for real, report."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Simulate every strategy of a scenario and write the summary, plots and report.
    Run(RunArgs),
    /// Load and validate a scenario without running it.
    Check(CheckArgs),
    /// Compare the simulator against closed-form queueing theory (M/M/1, M/M/c, M/D/1, M/G/1, M/M/c/K).
    Validate(ValidateArgs),
    /// List the scenarios in a folder (default `sims/`).
    List {
        /// Folder to list.
        #[arg(default_value = "sims")]
        dir: PathBuf,
    },
    /// Run every strategy against real Postgres and Redis (containers, or `--target` servers).
    #[cfg(feature = "real")]
    Real(RealArgs),
    /// Measure the scenario's operations on real servers at low load and write the fitted
    /// service times and concurrency curve as a parameters file for `--params`.
    #[cfg(feature = "real")]
    Calibrate(CalibrateArgs),
    /// Remove every scalesim-labelled container, network and volume whose owner process is
    /// gone (a `real` run killed with SIGKILL, a crashed machine); print what it removed.
    #[cfg(feature = "real")]
    Cleanup {
        /// List what would be removed, and remove nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// How would an HPA manifest have scaled over a metric trace (`timestamp,metric,value` CSV
    /// of totals: `cpu` cores, `memory` bytes, custom metrics by name)? No queueing model: for
    /// that, simulate the trace as a `trace` workload with the HPA as a controller.
    HpaDryRun(DryRunArgs),
    /// Compare two result folders per strategy, class and metric; exit 1 when a watched
    /// metric (`--fail-on`) got worse beyond noise.
    Diff {
        /// The old (accepted) result folder, e.g. the committed `results/<scenario>/`.
        old: PathBuf,
        /// The new result folder.
        new: PathBuf,
        #[command(flatten)]
        gate: GateArgs,
    },
    /// Merge the outputs of `run --shard I/N` into the single-run result.
    Merge {
        /// Shard output folders.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Where to write the merged result.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(clap::Args, Debug)]
struct CommonArgs {
    /// Override a named parameter or a field path, e.g. `--set rate=4` or `--set duration=2h`.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    sets: Vec<String>,
    /// Take `[params]` values from this file (e.g. what `scalesim calibrate` wrote) for the
    /// names the scenario declares; `--set` still wins.
    #[arg(long, value_name = "FILE")]
    params: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    /// The scenario file.
    file: PathBuf,
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    output: OutputArgs,
    /// Root seed (overrides the scenario's).
    #[arg(long)]
    seed: Option<u64>,
    /// Replications (overrides the scenario's).
    #[arg(long)]
    replications: Option<u32>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, default_value_t = 0)]
    jobs: usize,
    /// Run shard I of N of the sweep points (see `scalesim merge`).
    #[arg(long, value_name = "I/N")]
    shard: Option<Shard>,
    /// Run twice and fail unless both summaries are identical.
    #[arg(long)]
    check_determinism: bool,
    /// After the run, compare it with this result folder as `scalesim diff DIR OUT` does
    /// (exit 1 when a watched metric got worse beyond noise).
    #[arg(long, value_name = "DIR", conflicts_with = "shard")]
    baseline: Option<PathBuf>,
    #[command(flatten)]
    gate: GateArgs,
}

#[cfg(feature = "real")]
#[derive(clap::Args, Debug)]
struct RealArgs {
    /// The scenario file (with a `[real]` table).
    file: PathBuf,
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    output: OutputArgs,
    /// Root seed (overrides the scenario's).
    #[arg(long)]
    seed: Option<u64>,
    /// Existing servers instead of containers: `primary=URL`, `replica=URL` and `shard=URL`
    /// (repeatable), `redis=URL`, `pgbouncer=URL` (PgBouncer in front of the primary).
    /// Loopback addresses only.
    #[arg(long = "target", value_name = "ROLE=URL")]
    targets: Vec<String>,
    /// Also simulate the scenario (with `--params` values, if given) and report the
    /// prediction against the measurement, per load and strategy; the prediction's own report
    /// goes to `prediction/` in the output folder.
    #[arg(long)]
    compare: bool,
    /// Replications of the prediction (default: the scenario's).
    #[arg(long, requires = "compare")]
    replications: Option<u32>,
}

#[cfg(feature = "real")]
#[derive(clap::Args, Debug)]
struct CalibrateArgs {
    /// The scenario file (with a `[real]` table).
    file: PathBuf,
    #[command(flatten)]
    common: CommonArgs,
    /// Where to write the parameters file (default `results/<scenario>/calibration.toml`).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Root seed of the data set and the probes' keys (overrides the scenario's).
    #[arg(long)]
    seed: Option<u64>,
    /// Completed requests to aim for per operation and node (open loop at 100 per second, or
    /// slower for an operation that would queue at that rate; 60 s at most).
    #[arg(long, default_value_t = 400)]
    samples: usize,
    /// Seconds each level of the concurrency curve runs.
    #[arg(long, default_value_t = 3.0)]
    level_seconds: f64,
    /// Existing servers instead of containers, as for `scalesim real`.
    #[arg(long = "target", value_name = "ROLE=URL")]
    targets: Vec<String>,
}

/// Where results go and what is printed: shared by `run` and `real`.
#[derive(clap::Args, Debug)]
struct OutputArgs {
    /// Output folder (default `results/<scenario>/`, `results/<scenario>/real/` for `real`).
    #[arg(long)]
    out: Option<PathBuf>,
    /// What to print on standard output.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Print nothing but errors.
    #[arg(long)]
    quiet: bool,
    /// Exit with status 1 when a strategy misses an SLO: at the base point or at any sweep
    /// point (and when a cost-growth verdict fails).
    #[arg(long)]
    fail_on_slo: bool,
}

impl OutputArgs {
    /// `--out`, else `results/<scenario>/` for simulations and `results/<scenario>/real/` for
    /// real runs, so a scenario's prediction and measurement sit side by side.
    fn dir(&self, l: &scenario::Loaded, mode: &str) -> PathBuf {
        let default = PathBuf::from("results").join(&l.base.name);
        self.out.clone().unwrap_or_else(|| {
            if mode == "real" {
                default.join("real")
            } else {
                default
            }
        })
    }

    /// Writes every output file, prints the result, and returns the exit status.
    fn finish(
        &self,
        l: &scenario::Loaded,
        rep: &report::summary::Report,
        started: Instant,
    ) -> Result<i32> {
        let out = self.dir(l, &rep.summary.mode);
        let manifest = manifest(&rep.summary, started);
        report::write_all(rep, &out, &manifest, &Formats::default())
            .with_context(|| format!("writing results to {}", out.display()))?;
        print_result(rep, self.format, self.quiet, &out)?;
        Ok(if self.fail_on_slo && !rep.summary.slo_passed() {
            CHECK_FAILED
        } else {
            0
        })
    }
}

#[derive(clap::Args, Debug)]
struct DryRunArgs {
    /// The HorizontalPodAutoscaler manifest (autoscaling/v2 YAML).
    manifest: PathBuf,
    /// The metric trace (CSV rows `timestamp,metric,value`).
    trace: PathBuf,
    /// Sync period.
    #[arg(long, default_value = "15s")]
    sync: String,
    /// Replicas at the start of the trace.
    #[arg(long, default_value_t = 1)]
    replicas: i32,
    /// CPU request per pod, vCPUs.
    #[arg(long, default_value_t = 1.0)]
    cpu_request: f64,
    /// Memory request per pod (a Kubernetes quantity, e.g. `512Mi`).
    #[arg(long, default_value = "512Mi")]
    memory_request: String,
    /// Also write every sync as CSV here.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
struct CheckArgs {
    /// The scenario file.
    file: PathBuf,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(clap::Args, Debug)]
struct ValidateArgs {
    /// Customers per model.
    #[arg(long, default_value_t = 1_000_000)]
    customers: u64,
    /// Replications per model.
    #[arg(long, default_value_t = 5)]
    replications: u32,
    /// Root seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Format {
    Table,
    Json,
    Csv,
}

/// Exit status: a strategy missed an SLO under `--fail-on-slo`, or `validate` found the
/// simulator out of tolerance.
const CHECK_FAILED: i32 = 1;
/// Exit status: bad input or usage.
const BAD_INPUT: i32 = 2;
/// Exit status: a real run could not start or reach its servers.
const UNAVAILABLE: i32 = 3;
/// Exit status: an I/O or internal failure.
const FAILURE: i32 = 4;

/// A boxed error, as the status markers below wrap it.
type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Marks an error the user can fix by changing the command line or the files it names (exit 2).
/// Printed as the error it wraps.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
struct BadInput(BoxError);

/// Marks a real run whose servers could not be started or reached (exit 3). Printed as the error
/// it wraps.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
struct Unavailable(BoxError);

fn bad_input(e: impl Into<BoxError>) -> anyhow::Error {
    anyhow::Error::new(BadInput(e.into()))
}

/// The exit status of a failed command: the marker in its cause chain, else an I/O or internal
/// failure.
fn failure_status(e: &anyhow::Error) -> i32 {
    if e.chain().any(|c| c.is::<BadInput>()) {
        BAD_INPUT
    } else if e.chain().any(|c| c.is::<Unavailable>()) {
        UNAVAILABLE
    } else {
        FAILURE
    }
}

/// Runs the command line and returns the exit status.
pub(crate) fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { BAD_INPUT } else { 0 };
        }
    };
    match dispatch(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            failure_status(&e)
        }
    }
}

fn dispatch(cmd: Command) -> Result<i32> {
    match cmd {
        Command::Run(a) => cmd_run(a),
        Command::Check(a) => cmd_check(a),
        Command::Validate(a) => cmd_validate(a),
        Command::List { dir } => cmd_list(&dir),
        Command::Merge { dirs, out } => cmd_merge(&dirs, &out),
        Command::Diff { old, new, gate } => diff::cmd_diff(&old, &new, &gate),
        Command::HpaDryRun(a) => cmd_dry_run(a),
        #[cfg(feature = "real")]
        Command::Real(a) => cmd_real(a),
        #[cfg(feature = "real")]
        Command::Calibrate(a) => cmd_calibrate(a),
        #[cfg(feature = "real")]
        Command::Cleanup { dry_run } => cmd_cleanup(dry_run),
    }
}

#[cfg(feature = "real")]
fn cmd_real(a: RealArgs) -> Result<i32> {
    use scalesim::real::session::{Servers, parse_targets, run_real, specs};
    let started = Instant::now();
    let (loaded, params) = load_with_params(&a.file, &a.common)?;
    if loaded.strategies.iter().any(|s| s.scenario.auto_warmup) {
        return Err(bad_input(
            "`warmup = \"auto\"` needs a pilot run of each replication, which the real \
             drivers do not do: give the warm-up as a duration",
        ));
    }
    specs(&loaded).map_err(bad_input)?;
    let servers = if a.targets.is_empty() {
        Servers::Containers
    } else {
        Servers::External(parse_targets(&a.targets).map_err(bad_input)?)
    };
    let mut rep = run_real(&loaded, &servers, a.seed)
        .map_err(|e| naming_targets(session_error(e), &a.targets))?;
    if a.compare {
        let opts = RunOptions {
            jobs: 0,
            replications: a.replications,
            seed: a.seed,
            progress: !a.output.quiet,
            shard: None,
        };
        let mut sim = run::run(&loaded, &opts);
        run::study::finish(&loaded, &mut sim.summary);
        let dir = a.output.dir(&loaded, "real").join("prediction");
        report::write_all(
            &sim,
            &dir,
            &manifest(&sim.summary, started),
            &Formats::default(),
        )
        .with_context(|| format!("writing the prediction to {}", dir.display()))?;
        let c = report::compare::compare(&sim.summary, &rep.summary, &params);
        rep.summary.comparison = Some(c);
    }
    a.output.finish(&loaded, &rep, started)
}

#[cfg(feature = "real")]
fn cmd_calibrate(a: CalibrateArgs) -> Result<i32> {
    use scalesim::real::calibrate::{Probes, calibrate};
    use scalesim::real::session::{Servers, parse_targets, specs};
    let loaded = load(&a.file, &a.common)?;
    specs(&loaded).map_err(bad_input)?;
    if a.samples < 10 || !(a.level_seconds > 0.0 && a.level_seconds <= 600.0) {
        return Err(bad_input(
            "--samples must be at least 10 and --level-seconds between 0 and 600",
        ));
    }
    let servers = if a.targets.is_empty() {
        Servers::Containers
    } else {
        Servers::External(parse_targets(&a.targets).map_err(bad_input)?)
    };
    let probes = Probes {
        samples: a.samples,
        level_time: std::time::Duration::from_secs_f64(a.level_seconds),
        ..Probes::default()
    };
    let cal = calibrate(&loaded, &servers, a.seed, &probes)
        .map_err(|e| naming_targets(session_error(e), &a.targets))?;
    let out = a.out.clone().unwrap_or_else(|| {
        PathBuf::from("results")
            .join(&loaded.base.name)
            .join("calibration.toml")
    });
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    // Written whole to a temporary file, then renamed: never half a file.
    let tmp = out.with_extension("toml.tmp");
    std::fs::write(&tmp, cal.to_toml()).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &out).with_context(|| format!("writing {}", out.display()))?;
    for f in &cal.fits {
        println!(
            "{:32} median {:.3} ms  p99 {:.3} ms  (KS {:.3}, n {})",
            f.name, f.median_ms, f.p99_ms, f.ks, f.samples
        );
    }
    if let Some(u) = &cal.usl {
        let pts: Vec<String> = u
            .points
            .iter()
            .map(|(n, x)| format!("{n}: {x:.0}"))
            .collect();
        println!(
            "{:32} X(1) {:.0}/s  sigma {:.4}  kappa {:.5}  R² {:.3}  ({})",
            "db concurrency curve",
            u.throughput_1,
            u.sigma,
            u.kappa,
            u.r2,
            pts.join(", ")
        );
    }
    println!("wrote {}", out.display());
    Ok(0)
}

/// An error of a session on `--target` servers, with their addresses (passwords redacted):
/// the driver's own message ("connection refused") does not say which server it tried.
#[cfg(feature = "real")]
fn naming_targets(e: anyhow::Error, targets: &[String]) -> anyhow::Error {
    if targets.is_empty() {
        return e;
    }
    let named: Vec<String> = targets
        .iter()
        .map(|t| match t.split_once('=') {
            Some((role, url)) => format!("{role}={}", scalesim::real::plan::redact(url)),
            None => t.clone(),
        })
        .collect();
    e.context(format!("on the servers {}", named.join(", ")))
}

/// `scalesim cleanup`: one line per labelled resource, removed (or, with `--dry-run`, to be
/// removed) or kept with the reason; exit 0, or 3 when Docker cannot be asked.
#[cfg(feature = "real")]
fn cmd_cleanup(dry_run: bool) -> Result<i32> {
    use scalesim::real::provision::cleanup_orphans;
    let found = cleanup_orphans(dry_run).map_err(|e| anyhow::Error::new(Unavailable(e.into())))?;
    let verb = if dry_run { "would remove" } else { "removed" };
    for l in &found {
        let owner = l.owner.map_or_else(|| "?".to_owned(), |p| p.to_string());
        match &l.kept {
            None => println!(
                "{verb} {} {} (owner process {owner} is gone)",
                l.kind, l.name
            ),
            Some(why) => println!("kept {} {}: {why}", l.kind, l.name),
        }
    }
    let gone = found.iter().filter(|l| l.kept.is_none()).count();
    println!("{verb} {gone} of {} scalesim resources", found.len());
    Ok(0)
}

/// A failed real session, marked with its exit status: bad input for the scenario, the plan
/// or the `--target` URLs; unavailable for servers that could not be started or reached; an
/// internal failure for the load generator or the async runtime. Its message already holds
/// its causes, so it is kept as one message (they would print twice otherwise).
#[cfg(feature = "real")]
fn session_error(e: scalesim::real::session::SessionError) -> anyhow::Error {
    use scalesim::real::plan::RealError as R;
    use scalesim::real::provision::ProvisionError as P;
    use scalesim::real::session::SessionError as S;
    let message = e.to_string();
    match e {
        S::Scenario(_)
        | S::Provision(P::InvalidSpec(_))
        | S::Run(R::InvalidPlan(_) | R::InvalidUrl(_) | R::HostNotAllowed { .. })
        | S::Run(R::MissingServer(_)) => bad_input(message),
        S::Run(R::Internal(_)) | S::Runtime(_) => anyhow::Error::msg(message),
        _ => anyhow::Error::new(Unavailable(message.into())),
    }
}

fn load(file: &Path, common: &CommonArgs) -> Result<scenario::Loaded> {
    Ok(load_with_params(file, common)?.0)
}

/// [`load`], and where the parameters came from: the `--params` file, or the scenario itself.
fn load_with_params(file: &Path, common: &CommonArgs) -> Result<(scenario::Loaded, String)> {
    let mut sets = Vec::new();
    let mut about = "the scenario's own values".to_string();
    if let Some(path) = &common.params {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let p = scenario::params_file::read(path, &text).map_err(bad_input)?;
        if !p.unused.is_empty() {
            eprintln!(
                "note: {}: {} not declared by {} (left unused): {}",
                path.display(),
                if p.unused.len() == 1 {
                    "a parameter"
                } else {
                    "parameters"
                },
                file.display(),
                p.unused.join(", ")
            );
        }
        sets = p.sets;
        about = p.about;
    }
    sets.extend(common.sets.iter().cloned());
    let loaded = scenario::load(file, &sets).map_err(bad_input)?;
    for w in &loaded.warnings {
        eprintln!("warning: {w}");
    }
    Ok((loaded, about))
}

fn cmd_check(a: CheckArgs) -> Result<i32> {
    let l = load(&a.file, &a.common)?;
    let b = &l.base;
    // A `[real]` table is checked as `scalesim real` would, before any server starts.
    #[cfg(feature = "real")]
    if b.real.is_some() {
        scalesim::real::session::specs(&l).map_err(bad_input)?;
    }
    println!("{}: ok ({}, hash {})", a.file.display(), b.name, l.hash);
    println!("  services:");
    for sv in &b.system.services {
        let st = &sv.station;
        println!(
            "    {}: {} instance(s) x {} worker(s), {}, balancer {}",
            sv.name(),
            sv.instances,
            st.workers,
            match st.discipline {
                scalesim::model::station::Discipline::Fifo => "fifo",
                scalesim::model::station::Discipline::ProcessorSharing => "ps",
            },
            sv.policy.name()
        );
    }
    for c in &b.system.controllers {
        println!("  controller: {}", c.name());
    }
    println!("  classes: {}", b.class_names.join(", "));
    println!(
        "  strategies: {}",
        l.strategies
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    if let Some(sw) = &l.sweep {
        println!("  sweep: {} over {:?}", sw.param, sw.values);
    }
    if b.auto_warmup {
        println!("  warm-up: auto (MSER-5 on the pooled pilot replications)");
    }
    if let Some(r) = &b.auto_replications {
        println!(
            "  replications: auto, {} to {}, until the 95 % half-width of {} is within {} % of the mean",
            r.min,
            r.max,
            r.metrics.join(", "),
            (r.precision * 1000.0).round() / 10.0
        );
    }
    Ok(0)
}

fn cmd_run(a: RunArgs) -> Result<i32> {
    let started = Instant::now();
    let loaded = load(&a.file, &a.common)?;
    let baseline = baseline(&a)?;
    if a.shard.is_some() && loaded.base.auto_replications.is_some() && a.replications.is_none() {
        return Err(bad_input(
            "`replications = \"auto\"` chooses one count for the whole run, which shards run \
             apart cannot agree on: give `--replications N` with `--shard`",
        ));
    }
    let opts = RunOptions {
        jobs: a.jobs,
        replications: a.replications,
        seed: a.seed,
        progress: !a.output.quiet,
        shard: a.shard,
    };
    let mut rep = run::run(&loaded, &opts);
    for w in rep.summary.run_warnings() {
        eprintln!("warning: {w}");
    }
    // Compared before the capacity search fills `summary.capacity`, which the second run lacks.
    if a.check_determinism {
        let again = run::run(
            &loaded,
            &RunOptions {
                jobs: 1,
                progress: false,
                ..opts.clone()
            },
        );
        if again.summary != rep.summary || again.timeseries != rep.timeseries {
            bail!(
                "determinism check failed: two runs of {} gave different results (run: {})",
                a.file.display(),
                reproduce(&a, &rep.summary)
            );
        }
    }
    if let (Some(cap), true) = (&loaded.capacity, a.shard.is_none_or(|s| s.index == 0)) {
        let seed = a.seed.unwrap_or(loaded.base.seed);
        // The count the run used: `replications = "auto"` settles it in the run.
        let reps = a.replications.unwrap_or(rep.summary.replications).max(1);
        rep.summary.capacity = run::with_pool(a.jobs, || {
            run::capacity_search(&loaded, cap, seed, reps, Some(&rep.summary))
        });
    }
    // Capacity objectives and the checklist's citations of them need the search's result.
    run::study::finish(&loaded, &mut rep.summary);
    let mut code = a.output.finish(&loaded, &rep, started)?;
    if let Some(b) = &baseline {
        let print = match (a.output.quiet, a.output.format) {
            (true, _) => Print::Quiet,
            (false, Format::Table) => Print::Stdout,
            (false, _) => Print::Stderr,
        };
        let out = a.output.dir(&loaded, "sim");
        code = code.max(b.compare(&rep.summary, &out, &a.gate, print)?);
    }
    if let Some(shard) = a.shard {
        write_shard(&a.output.dir(&loaded, "sim"), shard, &rep)?;
    }
    if !a.output.quiet {
        eprintln!(
            "reproduce: {}  # scenario hash {}",
            reproduce(&a, &rep.summary),
            rep.summary.scenario_hash
        );
    }
    Ok(code)
}

/// The `--baseline` of `run`, read before the run; the gate's flags without it are an error.
fn baseline(a: &RunArgs) -> Result<Option<Baseline>> {
    match &a.baseline {
        Some(dir) => Baseline::read(dir, &a.gate).map(Some),
        None if a.gate.given() => Err(bad_input(
            "--fail-on, --tolerance, --all and --json compare with a baseline: add --baseline DIR",
        )),
        None => Ok(None),
    }
}

/// The command that reproduces this run's results: the file, the seed and replications it
/// used, its `--set` overrides in order, and its shard if any (threads and output options do not
/// change results).
fn reproduce(a: &RunArgs, s: &Summary) -> String {
    let mut words = vec![
        "scalesim".to_string(),
        "run".to_string(),
        shell_word(&a.file.to_string_lossy()),
        "--seed".to_string(),
        s.seed.to_string(),
        "--replications".to_string(),
        s.replications.to_string(),
    ];
    if let Some(p) = &a.common.params {
        words.push("--params".to_string());
        words.push(shell_word(&p.to_string_lossy()));
    }
    for set in &a.common.sets {
        words.push("--set".to_string());
        words.push(shell_word(set));
    }
    if let Some(shard) = a.shard {
        words.push("--shard".to_string());
        words.push(format!("{}/{}", shard.index, shard.count));
    }
    words.join(" ")
}

/// `w` as one POSIX shell word: as is when it needs no quoting, else in single quotes.
fn shell_word(w: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-.,/:=+@%".contains(c);
    if !w.is_empty() && w.chars().all(plain) {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', r"'\''"))
    }
}

fn print_result(
    rep: &report::summary::Report,
    format: Format,
    quiet: bool,
    out: &Path,
) -> Result<()> {
    if quiet {
        return Ok(());
    }
    match format {
        Format::Table => {
            print!(
                "{}",
                report::render_table(&rep.summary, std::io::stdout().is_terminal())
            );
            println!("results: {}", out.display());
        }
        Format::Json => println!("{}", serde_json::to_string_pretty(&rep.summary)?),
        Format::Csv => print!("{}", report::summary_csv(&rep.summary)),
    }
    Ok(())
}

const SHARD_FILE: &str = "shard.json";

fn write_shard(out: &Path, shard: Shard, rep: &report::summary::Report) -> Result<()> {
    let body = serde_json::to_vec(&(shard, rep))?;
    report::write_atomic(&out.join(SHARD_FILE), &body).context("writing the shard file")?;
    Ok(())
}

fn cmd_merge(dirs: &[PathBuf], out: &Path) -> Result<i32> {
    let started = Instant::now();
    let mut parts = Vec::new();
    for d in dirs {
        let path = d.join(SHARD_FILE);
        let text = std::fs::read(&path).map_err(input_io).with_context(|| {
            format!(
                "reading {} (was it written by `run --shard`?)",
                path.display()
            )
        })?;
        let part: (Shard, report::summary::Report) = serde_json::from_slice(&text)
            .map_err(bad_input)
            .with_context(|| format!("parsing {}", path.display()))?;
        parts.push(part);
    }
    let rep = run::merge_reports(parts).map_err(bad_input)?;
    let manifest = manifest(&rep.summary, started);
    report::write_all(&rep, out, &manifest, &Formats::default())
        .with_context(|| format!("writing results to {}", out.display()))?;
    println!("merged {} shards into {}", dirs.len(), out.display());
    Ok(0)
}

/// An I/O error on a file or folder named on the command line: bad input when it does not
/// exist, else an I/O failure.
fn input_io(e: std::io::Error) -> anyhow::Error {
    if e.kind() == std::io::ErrorKind::NotFound {
        bad_input(e)
    } else {
        e.into()
    }
}

/// The manifest of the run that produced `summary` and started at `started`.
fn manifest(summary: &Summary, started: Instant) -> Manifest {
    Manifest {
        scenario: summary.scenario.clone(),
        scenario_hash: summary.scenario_hash.clone(),
        seed: summary.seed,
        version: env!("CARGO_PKG_VERSION").to_string(),
        mode: summary.mode.clone(),
        run: RunFacts {
            git_revision: git_revision(),
            command_line: std::env::args().collect(),
            wall_time_s: started.elapsed().as_secs_f64(),
        },
    }
}

fn git_revision() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn cmd_dry_run(a: DryRunArgs) -> Result<i32> {
    use scalesim::run::dry_run::{PodRequests, dry_run, metric_names, to_csv};
    let manifest = scalesim::scenario::manifest::load_hpa(&a.manifest).map_err(bad_input)?;
    let trace = scalesim::scenario::trace::read(&a.trace).map_err(bad_input)?;
    let sync = scalesim::scenario::units::parse_duration(&a.sync)
        .map_err(|m| bad_input(format!("--sync: {m}")))?;
    if sync <= 0.0 || sync.is_nan() {
        return Err(bad_input("--sync: must be longer than zero"));
    }
    if !(a.cpu_request > 0.0 && a.cpu_request.is_finite()) || a.replicas < 1 {
        return Err(bad_input(
            "--cpu-request must be positive and --replicas at least 1",
        ));
    }
    let memory = scalesim::scenario::manifest::parse_quantity(&a.memory_request)
        .map_err(|m| bad_input(format!("--memory-request: {m}")))?
        / 1000;
    let names = metric_names(&manifest.spec);
    let missing: Vec<&str> = names
        .iter()
        .filter(|n| !trace.contains_key(n.as_str()))
        .map(String::as_str)
        .collect();
    if missing.len() == names.len() {
        let have: Vec<&str> = trace.keys().map(String::as_str).collect();
        return Err(bad_input(format!(
            "{}: none of the manifest's metrics ({}) is in the trace (it has {})",
            a.trace.display(),
            names.join(", "),
            have.join(", ")
        )));
    }
    for m in &missing {
        eprintln!(
            "warning: {}: no samples of `{m}`: the HPA sees that metric as missing",
            a.trace.display()
        );
    }
    let requests = PodRequests {
        cpu_milli: (a.cpu_request * 1000.0).round() as i64,
        memory,
    };
    let rows = dry_run(&manifest.spec, &trace, sync, a.replicas, requests);
    println!(
        "HPA {} over {} ({} syncs every {}): replicas {} -> {}, between {} and {}",
        manifest.name,
        a.trace.display(),
        rows.len(),
        a.sync,
        a.replicas,
        rows.last().map_or(a.replicas, |r| r.replicas),
        rows.iter().map(|r| r.replicas).min().unwrap_or(a.replicas),
        rows.iter().map(|r| r.replicas).max().unwrap_or(a.replicas),
    );
    println!(
        "{:>10}  {:>8}  proposals ({})",
        "t (s)",
        "replicas",
        names.join(", ")
    );
    for r in rows.iter().filter(|r| r.replicas != r.before) {
        let p: Vec<String> = r
            .proposals
            .iter()
            .map(|p| p.map_or("-".to_string(), |x| x.to_string()))
            .collect();
        println!(
            "{:>10.0}  {:>3} -> {:<3} {}",
            r.t_s,
            r.before,
            r.replicas,
            p.join(", ")
        );
    }
    if let Some(out) = &a.out {
        scalesim::report::write_atomic(out, to_csv(&manifest.spec, &rows).as_bytes())
            .with_context(|| format!("writing {}", out.display()))?;
        println!("every sync: {}", out.display());
    }
    Ok(0)
}

fn cmd_list(dir: &Path) -> Result<i32> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(input_io)
        .with_context(|| format!("listing {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    for f in files {
        match scenario::load(&f, &[]) {
            Ok(l) => println!("{:<36} {}", f.display(), first_line(&l.base.description)),
            Err(e) => println!("{:<36} INVALID: {e}", f.display()),
        }
    }
    Ok(0)
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

fn cmd_validate(a: ValidateArgs) -> Result<i32> {
    let rows = scalesim::run::validate::validate_all(a.customers, a.replications, a.seed);
    print!("{}", scalesim::run::validate::render(&rows));
    Ok(if rows.iter().all(|r| r.within_tolerance()) {
        0
    } else {
        CHECK_FAILED
    })
}
