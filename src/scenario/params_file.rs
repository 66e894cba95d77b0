//! `--params FILE`: parameter values from another file, such as the one `scalesim calibrate`
//! writes.
//!
//! The file is TOML with a `[params]` table (names and values as in a scenario's own
//! `[params]`) and, optionally, a `[calibration]` table describing where the values came from
//! (`machine`, `date`, `source`). Each value the scenario declares becomes a `--set NAME=VALUE`
//! placed before the command line's own, so an explicit `--set` still wins. Names the scenario
//! does not declare are returned as unused (a calibration measures more than one scenario needs),
//! never silently applied as field paths.

use std::path::Path;

use toml_edit::{DocumentMut, Item};

use super::{ScenarioError, doc};

/// A parameters file, read against one scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamsFile {
    /// `NAME=VALUE` overrides for the names the scenario declares, in file order.
    pub sets: Vec<String>,
    /// Names in the file the scenario does not declare.
    pub unused: Vec<String>,
    /// Where the values came from, for reports: the file name with its `[calibration]`
    /// machine and date when it has them.
    pub about: String,
}

/// Reads `path` and matches its `[params]` against those of `scenario_text`.
pub fn read(path: &Path, scenario_text: &str) -> Result<ParamsFile, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ScenarioError::new(path, "", format!("cannot read the parameters file: {e}"))
    })?;
    read_str(&text, path, scenario_text)
}

/// [`read`] on the file's text.
pub fn read_str(text: &str, path: &Path, scenario_text: &str) -> Result<ParamsFile, ScenarioError> {
    let file = doc::parse(text).map_err(|(span, msg)| {
        let mut e = ScenarioError::new(path, "", format!("not valid TOML: {msg}"));
        e.position = span.map(|s| line_col(text, s.start));
        e
    })?;
    let Some(params) = file.get("params").and_then(Item::as_table) else {
        return Err(ScenarioError::new(
            path,
            "params",
            "a parameters file needs a [params] table (NAME = VALUE lines)",
        ));
    };
    let declared = match doc::parse(scenario_text) {
        Ok(d) => doc::param_names(&d),
        Err(_) => Vec::new(),
    };
    let (mut sets, mut unused) = (Vec::new(), Vec::new());
    for (name, item) in params.iter() {
        let Some(value) = item.as_value() else {
            let mut e = ScenarioError::new(
                path,
                format!("params.{name}"),
                "expected a value (a number, a string such as \"0.4ms\", or an array)",
            );
            e.position = doc::locate(text, &e.field);
            return Err(e);
        };
        if declared.iter().any(|d| d == name) {
            let v = value.clone().decorated("", "");
            sets.push(format!("{name}={v}"));
        } else {
            unused.push(name.to_string());
        }
    }
    Ok(ParamsFile {
        sets,
        unused,
        about: about(&file, path),
    })
}

fn about(file: &DocumentMut, path: &Path) -> String {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into(),
    );
    let Some(cal) = file.get("calibration").and_then(Item::as_table) else {
        return name;
    };
    let field = |k: &str| cal.get(k).and_then(Item::as_str).map(str::to_string);
    let facts: Vec<String> = [field("machine"), field("date")]
        .into_iter()
        .flatten()
        .collect();
    if facts.is_empty() {
        name
    } else {
        format!("{name} (calibrated on {})", facts.join(", "))
    }
}

/// 1-based line and column of byte `at`.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCENARIO: &str = "name = \"x\"\n[params]\nrate = 10\nread_median = \"1ms\"\n";

    #[test]
    fn declared_names_become_sets_and_the_rest_is_unused() {
        let file = "[calibration]\nmachine = \"2 cores\"\ndate = \"2026-12-03\"\n\n[params]\n\
                    read_median = \"0.41ms\"\nwrite_median = \"1.2ms\"\nrate = 12.5\n";
        let p = read_str(file, Path::new("dir/cal.toml"), SCENARIO).unwrap();
        assert_eq!(p.sets, vec!["read_median=\"0.41ms\"", "rate=12.5"]);
        assert_eq!(p.unused, vec!["write_median"]);
        assert_eq!(p.about, "cal.toml (calibrated on 2 cores, 2026-12-03)");
    }

    #[test]
    fn bad_files_name_the_file_line_and_field() {
        let e = read_str("[params]\nrate = \n", Path::new("cal.toml"), SCENARIO).unwrap_err();
        assert_eq!(e.position.map(|p| p.0), Some(2), "{e}");
        assert!(e.to_string().contains("cal.toml"), "{e}");
        let e = read_str("rate = 1\n", Path::new("cal.toml"), SCENARIO).unwrap_err();
        assert_eq!(e.field, "params");
        let e = read_str(
            "[params]\n[params.rate]\nx = 1\n",
            Path::new("c.toml"),
            SCENARIO,
        )
        .unwrap_err();
        assert_eq!(e.field, "params.rate");
        assert_eq!(e.position.map(|p| p.0), Some(2), "{e}");
    }
}
