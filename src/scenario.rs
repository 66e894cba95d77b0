//! Scenario files: the TOML format users write, loaded in two stages.
//!
//! 1. [`doc`]: the text is parsed into an editable document; `--set NAME=VALUE` overrides a
//!    `[params]` entry or any field path; each strategy's `set` and each sweep point are applied
//!    the same way to a copy; then every `"$name"` string becomes the parameter's value.
//! 2. [`raw`] mirrors the file with serde (`deny_unknown_fields`), and [`valid`] turns it into a
//!    [`Scenario`] that cannot hold invalid values.
//!
//! Every failure is a [`ScenarioError`] naming the file, line, column and field path, with the
//! nearest valid name for unknown ones. Nothing is run before the whole file (every strategy and
//! sweep point) has validated.

pub mod doc;
mod error;
pub mod manifest;
pub mod params_file;
pub mod raw;
pub mod study;
pub mod trace;
pub mod units;
pub mod valid;

use std::path::{Path, PathBuf};

use toml_edit::DocumentMut;

pub use error::{ScenarioError, nearest};
pub use study::{Check, CheckItem, Evidence, Load, Objective};
pub use valid::{AutoReplications, Prices, Scenario, Slo};

/// One strategy: a name and its validated scenario.
#[derive(Debug, Clone)]
pub struct Strategy {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// The scenario with the strategy's overrides applied.
    pub scenario: Scenario,
}

/// A sweep: one parameter over several values, every strategy at every point.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// The swept `[params]` name or field path.
    pub param: String,
    /// Its values.
    pub values: Vec<f64>,
    /// `points[i][j]`: strategy `j` at value `i`.
    pub points: Vec<Vec<Scenario>>,
}

/// Capacity search bounds (load scale factors).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CapacitySpec {
    /// Lowest scale tried.
    pub from: f64,
    /// Highest scale tried.
    pub to: f64,
    /// Relative precision of the answer.
    pub tolerance: f64,
    /// Horizon of each probe, ns (`None`: the scenario's): a shorter one makes the search
    /// cheaper where the steady state comes early.
    pub duration: Option<u64>,
}

/// A loaded scenario file.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The file.
    pub file: PathBuf,
    /// The effective text (after `--set`).
    pub text: String,
    /// FNV-1a 64 of the effective text, hex.
    pub hash: String,
    /// The scenario without strategy overrides.
    pub base: Scenario,
    /// Strategies in file order (one named `base` when the file has none).
    pub strategies: Vec<Strategy>,
    /// The sweep, if any.
    pub sweep: Option<Sweep>,
    /// The capacity search, if any.
    pub capacity: Option<CapacitySpec>,
    /// Named loads every strategy also runs at (`[[loads]]`), in file order.
    pub loads: Vec<Load>,
    /// Objectives judged per strategy (`[[objectives]]`).
    pub objectives: Vec<Objective>,
    /// The checklist (`[[checklist]]`).
    pub checklist: Vec<CheckItem>,
    /// What is valid but probably not meant (`file:line: field: message`), once each.
    pub warnings: Vec<String>,
}

/// Loads and validates `path` with `--set` overrides (`NAME=VALUE`).
pub fn load(path: &Path, sets: &[String]) -> Result<Loaded, ScenarioError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ScenarioError::new(path, "", format!("cannot read the scenario file: {e}")))?;
    load_str(&text, path, sets)
}

/// Loads and validates scenario `text` as if read from `path`.
///
/// An error that the `--set` overrides cause (the file alone loads, or the error's field is one
/// a `--set` names) says which overrides, and points at no line of the file: the value at fault
/// is on the command line.
pub fn load_str(text: &str, path: &Path, sets: &[String]) -> Result<Loaded, ScenarioError> {
    load_with_sets(text, path, sets).map_err(|e| {
        if sets.is_empty() || e.context.as_deref().is_some_and(|c| c.starts_with("--set")) {
            return e;
        }
        let related: Vec<&String> = sets.iter().filter(|s| set_touches(s, &e.field)).collect();
        if !related.is_empty() {
            blame_sets(e, &related)
        } else if load_with_sets(text, path, &[]).is_ok() {
            blame_sets(e, &sets.iter().collect::<Vec<_>>())
        } else {
            e
        }
    })
}

/// Whether `--set NAME=VALUE` changes `field` or a table holding it (or a field inside it).
fn set_touches(set: &str, field: &str) -> bool {
    let name = set.split('=').next().unwrap_or("").trim();
    let within = |a: &str, b: &str| a == b || a.starts_with(&format!("{b}."));
    !name.is_empty() && (within(field, name) || within(name, field))
}

/// `e` as caused by `sets`: no position in the file, and the overrides named.
fn blame_sets(mut e: ScenarioError, sets: &[&String]) -> ScenarioError {
    let named: Vec<String> = sets.iter().map(|s| format!("--set {s}")).collect();
    let named = named.join(", ");
    e.position = None;
    e.context = Some(match e.context.take() {
        Some(c) => format!("{named}; {c}"),
        None => named,
    });
    e
}

fn load_with_sets(text: &str, path: &Path, sets: &[String]) -> Result<Loaded, ScenarioError> {
    let mut base_doc = doc::parse(text).map_err(|(span, msg)| {
        let mut e = ScenarioError::new(path, "", format!("TOML syntax: {}", msg.trim()));
        e.position = span.map(|s| doc::line_col(text, s.start));
        e
    })?;
    for set in sets {
        check_set_name(&base_doc, set, path)?;
        apply_set(&mut base_doc, set)
            .map_err(|m| ScenarioError::new(path, set.split('=').next().unwrap_or(""), m))?;
    }
    let effective = base_doc.to_string();
    let (raw, base) = build(&base_doc, path, None).map_err(|e| {
        if sets.is_empty() {
            e
        } else {
            in_file(e, text, None)
        }
    })?;
    let mut strategies = Vec::new();
    let mut strategy_docs = Vec::new();
    for (i, s) in raw.strategies.iter().enumerate() {
        let ctx = format!("strategy \"{}\"", s.name);
        let mut d = base_doc.clone();
        let field = format!("strategies.{i}.set");
        apply_overrides(&mut d, &base_doc, &s.set, &field, &ctx, path, &effective)?;
        let (_, scenario) = build(&d, path, Some(&ctx))
            .map_err(|e| in_file(e, text, Some(&format!("strategies.{i}"))))?;
        strategies.push(Strategy {
            name: s.name.clone(),
            description: s.description.clone(),
            scenario,
        });
        strategy_docs.push(d);
    }
    check_strategy_names(&raw.strategies, path, &effective)?;
    if strategies.is_empty() {
        strategies.push(Strategy {
            name: "base".into(),
            description: String::new(),
            scenario: base.clone(),
        });
        strategy_docs.push(base_doc.clone());
    }
    let sweep = raw
        .sweep
        .as_ref()
        .map(|s| sweep(s, &strategy_docs, &strategies, path, text))
        .transpose()?;
    let capacity = raw
        .capacity
        .as_ref()
        .map(|c| capacity(c, path, &effective, base.system.warmup))
        .transpose()?;
    let loads = raw
        .loads
        .iter()
        .enumerate()
        .map(|(i, l)| {
            // The command line wins: a `--set` of a field the load also sets keeps its value.
            let mut l = l.clone();
            l.set.retain(|k, _| !sets.iter().any(|s| set_touches(s, k)));
            named_load(
                i,
                &l,
                &base_doc,
                &strategy_docs,
                &strategies,
                path,
                text,
                &effective,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let names: Vec<String> = loads.iter().map(|l| l.name.clone()).collect();
    if let Some(i) = (0..names.len()).find(|&i| names[..i].contains(&names[i])) {
        let m = format!("duplicate load name `{}`", names[i]);
        return Err(located(
            ScenarioError::new(path, format!("loads.{i}.name"), m),
            &effective,
        ));
    }
    let ctx = study::Context {
        path,
        loads: &names,
        capacity: capacity.is_some(),
        cost_growth: sweep.is_some() && base.slo.max_cost_growth.is_some(),
    };
    let objectives =
        study::objectives(&raw.objectives, &ctx).map_err(|e| located(e, &effective))?;
    let checklist =
        study::checklist(&raw.checklist, &objectives, &ctx).map_err(|e| located(e, &effective))?;
    let mut warnings: Vec<String> = Vec::new();
    let unused = unused_params(&base_doc, path);
    for w in base
        .warnings
        .iter()
        .chain(strategies.iter().flat_map(|s| &s.scenario.warnings))
        .chain(&unused)
    {
        let w = located(w.clone(), &effective).to_string();
        if !warnings.contains(&w) {
            warnings.push(w);
        }
    }
    Ok(Loaded {
        file: path.to_path_buf(),
        hash: format!("{:016x}", fnv64(effective.as_bytes())),
        warnings,
        text: effective,
        base,
        strategies,
        sweep,
        capacity,
        loads,
        objectives,
        checklist,
    })
}

/// Applies a strategy's or a load's `set` (at `field`) to `d`: each name must be one the file
/// has (checked against `base`, the file after `--set`).
fn apply_overrides(
    d: &mut DocumentMut,
    base: &DocumentMut,
    set: &std::collections::BTreeMap<String, toml::Value>,
    field: &str,
    ctx: &str,
    path: &Path,
    effective: &str,
) -> Result<(), ScenarioError> {
    for (k, v) in set {
        if let Some(unknown) = unknown_target(base, k) {
            let mut e = unknown.error(path, format!("{field}.{k}"));
            e.context = Some(ctx.to_string());
            return Err(located(e, effective));
        }
        let value = doc::parse_value(&v.to_string());
        set_key(d, k, value).map_err(|m| {
            located(
                ScenarioError::new(path, format!("{field}.{k}"), m),
                effective,
            )
        })?;
    }
    Ok(())
}

/// Load `i`: every strategy's document with the load's overrides, validated.
#[allow(clippy::too_many_arguments)]
fn named_load(
    i: usize,
    l: &raw::RawLoad,
    base: &DocumentMut,
    docs: &[DocumentMut],
    strategies: &[Strategy],
    path: &Path,
    text: &str,
    effective: &str,
) -> Result<Load, ScenarioError> {
    let field = format!("loads.{i}.set");
    let mut points = Vec::with_capacity(docs.len());
    for (d, st) in docs.iter().zip(strategies) {
        let ctx = format!("strategy \"{}\", load \"{}\"", st.name, l.name);
        let mut d = d.clone();
        apply_overrides(&mut d, base, &l.set, &field, &ctx, path, effective)?;
        let (_, scenario) = build(&d, path, Some(&ctx))
            .map_err(|e| in_file(e, text, Some(&format!("loads.{i}"))))?;
        points.push(scenario);
    }
    Ok(Load {
        name: l.name.clone(),
        description: l.description.clone(),
        points,
    })
}

fn check_strategy_names(
    s: &[raw::RawStrategy],
    path: &Path,
    text: &str,
) -> Result<(), ScenarioError> {
    for (i, a) in s.iter().enumerate() {
        if s[..i].iter().any(|b| b.name == a.name) {
            return Err(located(
                ScenarioError::new(
                    path,
                    format!("strategies.{i}.name"),
                    format!("duplicate strategy name `{}`", a.name),
                ),
                text,
            ));
        }
    }
    Ok(())
}

/// Top-level fields that hold a value (not a table), which `--set NAME=VALUE` may name directly.
const TOP_LEVEL_VALUES: [&str; 11] = [
    "name",
    "description",
    "duration",
    "warmup",
    "seed",
    "replications",
    "max_replications",
    "precision",
    "precision_metrics",
    "bucket",
    "percentiles",
];

/// Tables whose entries the file names (`[stations.app]`): an override may change an entry's
/// fields but never create an entry, since a misspelt name would silently add one that nothing
/// uses. The other tables (`prices.worker_hour`, `service_by_class`, `queue_limit_by_class`,
/// `measure`) may gain entries: their keys are checked against these names on validation.
const NAMED_TABLES: [(&str, &str); 8] = [
    ("params", "parameter"),
    ("classes", "class"),
    ("stations", "station"),
    ("services", "service"),
    ("controllers", "controller"),
    ("budgets", "budget"),
    ("bulkheads", "bulkhead"),
    ("breakers", "breaker"),
];

/// An override naming nothing the file has: the name as written, what is wrong, and the
/// names it could have meant.
struct UnknownTarget {
    field: String,
    message: String,
    suggestion: Option<String>,
}

impl UnknownTarget {
    /// The error, reported against `field` (the override's own place).
    fn error(self, path: &Path, field: String) -> ScenarioError {
        let message = if field == self.field {
            self.message
        } else {
            format!("`{}` {}", self.field, self.message)
        };
        let mut e = ScenarioError::new(path, field, message);
        e.suggestion = self.suggestion;
        e
    }
}

/// Checks the name of an override (`--set`, a strategy's `set`, a sweep's `param`) against
/// `d`: a bare name must be a `[params]` entry or a top-level value; a field path must not
/// create an entry of a [`NAMED_TABLES`] table. Unknown fields of an existing entry are left to
/// validation, which names the expected ones.
fn unknown_target(d: &DocumentMut, key: &str) -> Option<UnknownTarget> {
    let params = doc::param_names(d);
    if !key.contains('.') {
        if params.iter().any(|p| p == key) || TOP_LEVEL_VALUES.contains(&key) {
            return None;
        }
        let candidates = params.iter().map(String::as_str).chain(TOP_LEVEL_VALUES);
        return Some(UnknownTarget {
            field: key.to_string(),
            message: "names no [params] entry and no top-level field".into(),
            suggestion: nearest(key, candidates),
        });
    }
    let mut segs = key.split('.');
    let (table, entry) = (segs.next()?, segs.next()?);
    let (_, what) = NAMED_TABLES.iter().find(|(t, _)| *t == table)?;
    let names: Vec<String> = d
        .get(table)
        .and_then(toml_edit::Item::as_table_like)
        .map(|t| t.iter().map(|(k, _)| k.to_string()).collect())
        .unwrap_or_default();
    if names.iter().any(|n| n == entry) {
        return None;
    }
    let have = if names.is_empty() {
        format!("the file has no [{table}]")
    } else {
        format!("[{table}] has {}", names.join(", "))
    };
    Some(UnknownTarget {
        field: key.to_string(),
        message: format!("names no {what} `{entry}` ({have}); an override cannot add one"),
        suggestion: nearest(entry, names.iter().map(String::as_str)),
    })
}

/// A `--set NAME=...` must name something the file has (see [`unknown_target`]); the error is
/// reported against the command line, not a position in the file, with the nearest name.
fn check_set_name(d: &DocumentMut, set: &str, path: &Path) -> Result<(), ScenarioError> {
    let name = set.split('=').next().unwrap_or("").trim();
    let Some(unknown) = unknown_target(d, name) else {
        return Ok(());
    };
    let mut e = unknown.error(path, name.to_string());
    e.context = Some(format!("--set {set}"));
    Err(e)
}

/// Warnings for `[params]` entries that no field refers to as `"$name"`: setting one (in the
/// file, by `--set`, by a strategy or a sweep) changes nothing.
fn unused_params(d: &DocumentMut, path: &Path) -> Vec<ScenarioError> {
    let used = doc::param_refs(d);
    doc::param_names(d)
        .into_iter()
        .filter(|p| !used.contains(p))
        .map(|p| {
            let msg = format!("no field refers to it as \"${p}\", so setting it changes nothing");
            ScenarioError::new(path, format!("params.{p}"), msg)
        })
        .collect()
}

/// Applies `NAME=VALUE`: a `[params]` name, else a field path.
pub fn apply_set(d: &mut DocumentMut, set: &str) -> Result<(), String> {
    let (k, v) = set
        .split_once('=')
        .ok_or_else(|| format!("`--set {set}`: expected NAME=VALUE"))?;
    set_key(d, k.trim(), doc::parse_value(v.trim()))
}

fn set_key(d: &mut DocumentMut, key: &str, value: toml_edit::Value) -> Result<(), String> {
    if doc::param_names(d).iter().any(|p| p == key) {
        doc::set_path(d, &format!("params.{key}"), value)
    } else {
        doc::set_path(d, key, value)
    }
}

/// Substitutes parameters, deserializes and validates one document.
fn build(
    d: &DocumentMut,
    path: &Path,
    ctx: Option<&str>,
) -> Result<(raw::RawScenario, Scenario), ScenarioError> {
    let mut d = d.clone();
    let dangling = doc::substitute_params(&mut d);
    let text = d.to_string();
    let with_ctx = |mut e: ScenarioError| {
        e.context = ctx.map(str::to_string);
        e
    };
    if let Some((field, name)) = dangling.first() {
        let names = doc::param_names(&d);
        let e = ScenarioError::new(path, field, format!("`${name}` names no entry of [params]"))
            .suggest(name, names.iter().map(String::as_str));
        return Err(with_ctx(located(e, &text)));
    }
    let raw = deserialize(&text, path).map_err(with_ctx)?;
    let scenario = valid::validate(&raw, path).map_err(|e| with_ctx(located(e, &text)))?;
    Ok((raw, scenario))
}

/// Keeps the position of an error found in an edited document (after `--set`, a strategy's
/// `set`, a sweep value) only when the user's `text` has the error's field on that line:
/// overrides add keys and shift lines, so the edited document's line may be another line of
/// the file, or none. Otherwise the position is that of `fallback` in the file (the strategy or
/// the sweep whose override caused the error), if any.
fn in_file(mut e: ScenarioError, text: &str, fallback: Option<&str>) -> ScenarioError {
    if e.position.map(|p| p.0) != doc::locate(text, &e.field).map(|p| p.0) {
        e.position = fallback.and_then(|f| doc::locate(text, f));
    }
    e
}

fn located(mut e: ScenarioError, text: &str) -> ScenarioError {
    if e.position.is_none() {
        e.position = doc::locate(text, &e.field);
    }
    e
}

fn deserialize(text: &str, path: &Path) -> Result<raw::RawScenario, ScenarioError> {
    let de = toml::Deserializer::parse(text).map_err(|e| toml_error(path, text, "", &e))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        toml_error(
            path,
            text,
            if field == "." { "" } else { &field },
            e.inner(),
        )
    })
}

fn toml_error(path: &Path, text: &str, field: &str, e: &toml::de::Error) -> ScenarioError {
    let msg = e.message().trim().to_string();
    let mut err = ScenarioError::new(path, field, msg.clone());
    err.position = e.span().map(|s| doc::line_col(text, s.start));
    if let Some((unknown, expected)) = unknown_field(&msg) {
        let already = field == unknown || field.ends_with(&format!(".{unknown}"));
        err.field = if field.is_empty() || already {
            if field.is_empty() {
                unknown.clone()
            } else {
                field.to_string()
            }
        } else {
            format!("{field}.{unknown}")
        };
        err = err.suggest(&unknown, expected.iter().map(String::as_str));
    }
    err
}

/// Parses serde's "unknown field `x`, expected one of `a`, `b`" into (`x`, [a, b]).
fn unknown_field(msg: &str) -> Option<(String, Vec<String>)> {
    let rest = msg.strip_prefix("unknown field `")?;
    let (name, tail) = rest.split_once('`')?;
    let expected = tail
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    Some((name.to_string(), expected))
}

/// Most points `steps` may ask for: each point is validated and run for every strategy.
const MAX_SWEEP_STEPS: u32 = 10_000;

fn sweep(
    s: &raw::RawSweep,
    docs: &[DocumentMut],
    strategies: &[Strategy],
    path: &Path,
    text: &str,
) -> Result<Sweep, ScenarioError> {
    let err = |f: &str, m: &str| located(ScenarioError::new(path, format!("sweep.{f}"), m), text);
    let values = match (&s.values, s.from, s.to, s.steps) {
        (Some(v), ..) if !v.is_empty() => v.clone(),
        (None, Some(a), Some(b), Some(n)) if (2..=MAX_SWEEP_STEPS).contains(&n) => (0..n)
            .map(|i| a + (b - a) * f64::from(i) / f64::from(n - 1))
            .collect(),
        _ => {
            return Err(err(
                "values",
                &format!(
                    "a sweep needs `values = [...]`, or `from`, `to` and `steps` (2 to {MAX_SWEEP_STEPS})"
                ),
            ));
        }
    };
    if let Some(d) = docs.first()
        && let Some(unknown) = unknown_target(d, &s.param)
    {
        return Err(located(unknown.error(path, "sweep.param".into()), text));
    }
    let mut points = Vec::new();
    for &x in &values {
        let mut row = Vec::new();
        for (d, st) in docs.iter().zip(strategies) {
            let mut d = d.clone();
            // A whole number goes in as an integer, so counts (instances, workers) take it.
            let v = if x.fract() == 0.0 && x.abs() < 9.0e15 {
                toml_edit::Value::from(x as i64)
            } else {
                toml_edit::Value::from(x)
            };
            set_key(&mut d, &s.param, v).map_err(|m| err("param", &m))?;
            let ctx = format!("strategy \"{}\", sweep {} = {x}", st.name, s.param);
            row.push(
                build(&d, path, Some(&ctx))
                    .map_err(|e| in_file(e, text, Some("sweep")))?
                    .1,
            );
        }
        points.push(row);
    }
    Ok(Sweep {
        param: s.param.clone(),
        values,
        points,
    })
}

fn capacity(
    c: &raw::RawCapacity,
    path: &Path,
    text: &str,
    warmup: u64,
) -> Result<CapacitySpec, ScenarioError> {
    if !(c.from > 0.0
        && c.to > c.from
        && c.to.is_finite()
        && c.tolerance > 0.0
        && c.tolerance < 1.0)
    {
        return Err(located(
            ScenarioError::new(
                path,
                "capacity",
                "needs 0 < from < to (finite) and 0 < tolerance < 1",
            ),
            text,
        ));
    }
    let duration = match &c.duration {
        None => None,
        Some(d) => {
            let secs = match d {
                raw::RawDur::Secs(s) => Ok(*s),
                raw::RawDur::Text(t) => units::parse_duration(t),
            };
            let ns = secs.map(|s| crate::engine::SimTime::from_secs_f64(s.max(0.0)).0);
            match ns {
                Ok(ns) if ns > warmup => Some(ns),
                Ok(_) => {
                    let e = ScenarioError::new(
                        path,
                        "capacity.duration",
                        "each probe must run past the warm-up: make it longer than `warmup`",
                    );
                    return Err(located(e, text));
                }
                Err(m) => {
                    return Err(located(
                        ScenarioError::new(path, "capacity.duration", m),
                        text,
                    ));
                }
            }
        }
    };
    Ok(CapacitySpec {
        from: c.from,
        to: c.to,
        tolerance: c.tolerance,
        duration,
    })
}

/// FNV-1a, 64 bits.
pub fn fnv64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01B3)
    })
}
