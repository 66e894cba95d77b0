//! Writing a report directory: what goes in it, and how it gets there safely.
//!
//! [`write_all`] renders every file in memory, writes them into a staging directory
//! `out/.tmp-<pid>-<n>` (each file fsync'ed), creates the destination directories, and then
//! renames the files one by one into `out/` (a rename within one file system is atomic), with
//! `manifest.json` last. `manifest.json` holds only what the inputs decide (scenario, hash, seed,
//! version, mode), so running a shipped scenario again leaves its committed results unchanged;
//! what differs from run to run (command line, wall time, git revision) goes to `run.json`,
//! which git ignores under `results/`. Whatever fails, the staging directory is removed when the [`Staging`]
//! guard drops, so `out/` never holds a half-written file: each file in it is either the old
//! complete one or the new complete one.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use serde::{Deserialize, Serialize};

use super::plot::Plot;
use super::summary::{Report, Summary};

/// Run facts written to `manifest.json`, enough to reproduce the run: only what the inputs
/// decide, so the file is the same whenever the same scenario runs again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Manifest {
    /// Scenario name.
    pub scenario: String,
    /// Hex hash of the validated scenario (after `--set`).
    pub scenario_hash: String,
    /// Root seed.
    pub seed: u64,
    /// scalesim version.
    pub version: String,
    /// `"sim"` or `"real"`.
    pub mode: String,
    /// What changes from one run to the next, written to `run.json` instead.
    #[serde(skip)]
    pub run: RunFacts,
}

/// The facts of one particular run, written to `run.json` (not committed: they change on
/// every run even when the results do not).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct RunFacts {
    /// Git revision of the scalesim build, when known.
    pub git_revision: Option<String>,
    /// The command line that produced the run.
    pub command_line: Vec<String>,
    /// Wall-clock duration of the run, seconds.
    pub wall_time_s: f64,
}

/// Which outputs [`write_all`] produces. `manifest.json` and `run.json` are always written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Formats {
    /// `summary.json`.
    pub json: bool,
    /// `summary.csv` and `timeseries.csv`.
    pub csv: bool,
    /// `plots/<name>.png` and `plots/<name>.svg` (nothing without the `plot` feature).
    pub plots: bool,
    /// `report.html` (charts included when the `plot` feature is on).
    pub html: bool,
}

impl Default for Formats {
    fn default() -> Self {
        Self::all()
    }
}

impl Formats {
    /// Every format.
    pub fn all() -> Self {
        Self {
            json: true,
            csv: true,
            plots: true,
            html: true,
        }
    }

    /// No optional format: only `manifest.json` and `run.json`.
    pub fn none() -> Self {
        Self {
            json: false,
            csv: false,
            plots: false,
            html: false,
        }
    }

    /// Parses a comma-separated list such as `json,csv` (names: `json`, `csv`, `plots`, `html`,
    /// `all`), as a `--formats` flag would take it.
    pub fn parse(list: &str) -> Result<Self, ReportError> {
        let mut formats = Self::none();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name {
                "json" => formats.json = true,
                "csv" => formats.csv = true,
                "plots" | "plot" => formats.plots = true,
                "html" => formats.html = true,
                "all" => formats = Self::all(),
                other => return Err(ReportError::UnknownFormat(other.to_string())),
            }
        }
        Ok(formats)
    }
}

/// What [`write_all`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The output directory.
    pub dir: PathBuf,
    /// Every file written, as paths inside [`Written::dir`], in writing order.
    pub files: Vec<PathBuf>,
}

/// Failures while writing a report. None of them affects the results in memory: the caller
/// can still print the table, or retry into another directory.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// A file-system operation failed (`out` is a regular file, no permission, disk full...).
    /// Files already renamed into place are complete; nothing half-written is left.
    #[error("cannot {action} {}", path.display())]
    Io {
        /// What was being done, e.g. `create directory`.
        action: &'static str,
        /// The path it was done to.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// A value could not be serialized as JSON (a bug, not an environment problem).
    #[error("cannot serialize {what} as JSON")]
    Json {
        /// `summary`, `manifest` or `run facts`.
        what: &'static str,
        /// The serde error.
        #[source]
        source: serde_json::Error,
    },
    /// [`Formats::parse`] met an unknown name; fix the flag and run again.
    #[error("unknown report format `{0}` (expected json, csv, plots, html or all)")]
    UnknownFormat(String),
}

/// `summary.json`: the pretty-printed `serde_json` form of `summary`, plus a final newline.
pub fn summary_json(summary: &Summary) -> Result<String, ReportError> {
    to_json(summary, "summary")
}

fn to_json<T: Serialize>(value: &T, what: &'static str) -> Result<String, ReportError> {
    let mut text =
        serde_json::to_string_pretty(value).map_err(|source| ReportError::Json { what, source })?;
    text.push('\n');
    Ok(text)
}

/// Writes the report files selected by `formats` (and always `run.json` and `manifest.json`)
/// into `out`,
/// creating it if needed. See [the report module](crate::report) for the atomicity guarantee.
pub fn write_all(
    report: &Report,
    out: &Path,
    manifest: &Manifest,
    formats: &Formats,
) -> Result<Written, ReportError> {
    let files = render(report, manifest, formats)?;
    fs::create_dir_all(out).map_err(io_error("create directory", out))?;
    let mut staging = Staging::create(out)?;
    for (name, bytes) in &files {
        staging.put(name, bytes)?;
    }
    let written = staging.commit()?;
    if formats.plots {
        remove_stale_plots(out, &written);
    }
    Ok(Written {
        dir: out.to_path_buf(),
        files: written,
    })
}

/// One output file: path relative to the output directory, and its bytes.
type Output = (String, Vec<u8>);

/// Every output file, `manifest.json` last.
fn render(
    report: &Report,
    manifest: &Manifest,
    formats: &Formats,
) -> Result<Vec<Output>, ReportError> {
    let mut files = Vec::new();
    if formats.json {
        files.push(file("summary.json", summary_json(&report.summary)?));
    }
    if formats.csv {
        files.push(file("summary.csv", super::summary_csv(&report.summary)));
        files.push(file(
            "timeseries.csv",
            super::timeseries_csv(&report.timeseries),
        ));
        if let Some(csv) = super::tidy::objectives_csv(&report.summary) {
            files.push(file("objectives.csv", csv));
        }
        if let Some(c) = &report.summary.comparison {
            files.push(file("comparison.csv", super::compare::csv(c)));
        }
    }
    let charts = if formats.plots || formats.html {
        super::plots(report)
    } else {
        Vec::new()
    };
    if formats.plots {
        files.extend(charts.iter().flat_map(plot_files));
    }
    if formats.html {
        files.push(file("report.html", super::html(report, &charts)));
    }
    files.push(file("run.json", to_json(&manifest.run, "run facts")?));
    files.push(file("manifest.json", to_json(manifest, "manifest")?));
    Ok(files)
}

fn file(name: &str, text: String) -> Output {
    (name.to_string(), text.into_bytes())
}

fn plot_files(plot: &Plot) -> [Output; 2] {
    let png = (format!("plots/{}.png", plot.name), plot.png.clone());
    [
        png,
        file(&format!("plots/{}.svg", plot.name), plot.svg.clone()),
    ]
}

/// Removes charts left in `out/plots` by an earlier report that this one did not produce (when
/// this one writes plots), so the directory matches `report.html`. Best effort; only `.png` and `.svg` files are touched.
fn remove_stale_plots(out: &Path, written: &[PathBuf]) {
    let Ok(entries) = fs::read_dir(out.join("plots")) else {
        return;
    };
    for path in entries.filter_map(|e| e.ok()).map(|e| e.path()) {
        let chart = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("png" | "svg")
        );
        if chart && !written.contains(&path) {
            let _ = fs::remove_file(&path);
        }
    }
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> ReportError {
    let path = path.to_path_buf();
    move |source| ReportError::Io {
        action,
        path,
        source,
    }
}

/// Writes one file atomically: a temporary sibling, fsync'ed, then renamed over `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io_error("create directory", dir))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".tmp-{}-{name}", std::process::id()));
    let result = (|| {
        let mut file = File::create(&tmp).map_err(io_error("create", &tmp))?;
        file.write_all(bytes).map_err(io_error("write", &tmp))?;
        file.sync_all().map_err(io_error("sync", &tmp))?;
        fs::rename(&tmp, path).map_err(io_error("rename into", path))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// A staging directory inside the output directory; removed on drop, whatever happened.
#[derive(Debug)]
struct Staging {
    out: PathBuf,
    dir: PathBuf,
    files: Vec<PathBuf>,
}

impl Staging {
    /// Creates `out/.tmp-<pid>-<n>`, a name no other writer (thread or process) uses.
    fn create(out: &Path) -> Result<Self, ReportError> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        loop {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let dir = out.join(format!(".tmp-{}-{n}", std::process::id()));
            match fs::create_dir(&dir) {
                Ok(()) => {
                    return Ok(Self {
                        out: out.to_path_buf(),
                        dir,
                        files: Vec::new(),
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(io_error("create directory", &dir)(e)),
            }
        }
    }

    /// Writes and fsyncs one file at `relative` inside the staging directory.
    fn put(&mut self, relative: &str, bytes: &[u8]) -> Result<(), ReportError> {
        let path = self.dir.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io_error("create directory", parent))?;
        }
        let mut file = File::create(&path).map_err(io_error("create", &path))?;
        file.write_all(bytes).map_err(io_error("write", &path))?;
        file.sync_all().map_err(io_error("sync", &path))?;
        self.files.push(PathBuf::from(relative));
        Ok(())
    }

    /// Creates the destination directories, then renames every file into place in order and
    /// syncs the directories. Returns the destination paths.
    fn commit(self) -> Result<Vec<PathBuf>, ReportError> {
        for relative in &self.files {
            let target = self.out.join(relative);
            let parent = target.parent().unwrap_or(&self.out);
            fs::create_dir_all(parent).map_err(io_error("create directory", parent))?;
        }
        let mut done = Vec::with_capacity(self.files.len());
        for relative in &self.files {
            let (from, to) = (self.dir.join(relative), self.out.join(relative));
            fs::rename(&from, &to).map_err(io_error("rename into", &to))?;
            done.push(to);
        }
        sync_dirs(&done);
        Ok(done)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        // Best effort: on success only empty directories remain; on failure, staged files.
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Makes the renames durable by syncing the directories that received files (Unix only;
/// other systems do not let a directory be opened for syncing). Best effort: the data is
/// already synced, only the directory entries could be lost on a crash.
fn sync_dirs(files: &[PathBuf]) {
    if cfg!(unix) {
        let mut dirs: Vec<&Path> = files.iter().filter_map(|f| f.parent()).collect();
        dirs.dedup();
        for dir in dirs {
            let _ = File::open(dir).and_then(|d| d.sync_all());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_names_and_rejects_unknown() {
        let f = Formats::parse("json, csv").unwrap();
        assert_eq!(
            f,
            Formats {
                json: true,
                csv: true,
                plots: false,
                html: false
            }
        );
        assert_eq!(Formats::parse("all").unwrap(), Formats::all());
        assert!(matches!(Formats::parse("pdf"), Err(ReportError::UnknownFormat(n)) if n == "pdf"));
    }

    #[test]
    fn staging_is_removed_when_dropped_without_commit() {
        let out = std::env::temp_dir().join(format!("scalesim-staging-{}", std::process::id()));
        fs::create_dir_all(&out).unwrap();
        let dir = {
            let mut staging = Staging::create(&out).unwrap();
            staging.put("plots/a.svg", b"<svg/>").unwrap();
            staging.dir.clone()
        };
        assert!(!dir.exists());
        assert!(!out.join("plots").exists());
        fs::remove_dir_all(&out).unwrap();
    }
}
