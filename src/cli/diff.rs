//! `scalesim diff OLD NEW` and `scalesim run FILE --baseline DIR`: compare two results, print
//! the changed rows, write the comparison as JSON, and fail (exit 1) when a watched metric got
//! worse beyond noise. The rule is in [`scalesim::report::diff`].

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use scalesim::report::diff::{
    self, DEFAULT_FAIL_ON, DIFF_FILE, Diff, DiffError, DiffOptions, parse_list, parse_tolerance,
};
use scalesim::report::summary::Summary;

use super::{CHECK_FAILED, bad_input};

/// How to judge and what to print; shared by `diff` and `run --baseline`.
#[derive(clap::Args, Debug, Default)]
pub(super) struct GateArgs {
    /// Metrics that fail the command (exit 1) when worse beyond noise, comma-separated: a key
    /// (`latency_ms.p99`), its last part (`p99`) or its first (`cost`, `slo`); `""` never
    /// fails. Default `p99,error_rate,cost`.
    #[arg(long, value_name = "METRICS")]
    fail_on: Option<String>,
    /// Relative tolerance, percent, for metrics without a confidence interval (default 1).
    #[arg(long, value_name = "PCT")]
    tolerance: Option<String>,
    /// Print every compared row, not only those changed beyond noise.
    #[arg(long)]
    all: bool,
    /// Write the comparison as JSON here (default: `diff.json` in the new result folder).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

impl GateArgs {
    /// Whether any of these flags was given (they need `--baseline` on `run`).
    pub(super) fn given(&self) -> bool {
        self.fail_on.is_some() || self.tolerance.is_some() || self.all || self.json.is_some()
    }

    fn options(&self) -> Result<DiffOptions> {
        let tolerance = match &self.tolerance {
            Some(t) => parse_tolerance(t).map_err(bad_input)?,
            None => DiffOptions::default().tolerance,
        };
        let fail_on = parse_list(self.fail_on.as_deref().unwrap_or(DEFAULT_FAIL_ON));
        Ok(DiffOptions { tolerance, fail_on })
    }
}

/// A diff error with its exit status: bad input, or an I/O failure.
fn diff_error(e: DiffError) -> anyhow::Error {
    if e.is_bad_input() {
        bad_input(e)
    } else {
        anyhow::Error::new(e)
    }
}

/// `scalesim diff OLD NEW`.
pub(super) fn cmd_diff(old: &Path, new: &Path, gate: &GateArgs) -> Result<i32> {
    let opts = gate.options()?;
    let old_summary = diff::read_result(old).map_err(diff_error)?;
    let new_summary = diff::read_result(new).map_err(diff_error)?;
    let d = diff::diff(old, &old_summary, new, &new_summary, &opts).map_err(diff_error)?;
    finish(&d, gate, new, Print::Stdout)
}

/// A baseline read before `run` starts, so that a bad folder or flag fails at once (and the
/// run may overwrite that folder).
#[derive(Debug)]
pub(super) struct Baseline {
    dir: PathBuf,
    summary: Summary,
    opts: DiffOptions,
}

impl Baseline {
    /// Reads `dir` and checks the gate's flags against it.
    pub(super) fn read(dir: &Path, gate: &GateArgs) -> Result<Self> {
        let opts = gate.options()?;
        let summary = diff::read_result(dir).map_err(diff_error)?;
        // Checks the `--fail-on` names against the baseline's own metrics.
        diff::diff(dir, &summary, dir, &summary, &opts).map_err(diff_error)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            summary,
            opts,
        })
    }

    /// Compares the run just written to `out` with the baseline; the exit status of the gate.
    pub(super) fn compare(
        &self,
        new: &Summary,
        out: &Path,
        gate: &GateArgs,
        print: Print,
    ) -> Result<i32> {
        let d = diff::diff(&self.dir, &self.summary, out, new, &self.opts).map_err(diff_error)?;
        finish(&d, gate, out, print)
    }
}

/// Where the comparison table goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Print {
    /// Standard output (`diff`, and `run` printing its table).
    Stdout,
    /// Standard error (`run` printing JSON or CSV on standard output).
    Stderr,
    /// Only a failed gate, on standard error (`run --quiet`).
    Quiet,
}

/// Prints the comparison, writes its JSON, and returns the gate's exit status.
fn finish(d: &Diff, gate: &GateArgs, new_dir: &Path, print: Print) -> Result<i32> {
    let json = gate.json.clone().unwrap_or_else(|| new_dir.join(DIFF_FILE));
    let mut body = serde_json::to_string_pretty(d)?;
    body.push('\n');
    scalesim::report::write_atomic(&json, body.as_bytes())
        .with_context(|| format!("writing {}", json.display()))?;
    match print {
        Print::Stdout => {
            print!(
                "{}",
                diff::render(d, gate.all, std::io::stdout().is_terminal())
            );
            println!("diff: {}", json.display());
        }
        Print::Stderr => eprint!(
            "{}",
            diff::render(d, gate.all, std::io::stderr().is_terminal())
        ),
        Print::Quiet if !d.gate().is_empty() => eprintln!(
            "diff: {} watched number(s) worse beyond noise than {} (see {})",
            d.gate().len(),
            d.old.dir.display(),
            json.display()
        ),
        Print::Quiet => {}
    }
    Ok(if d.gate().is_empty() { 0 } else { CHECK_FAILED })
}
