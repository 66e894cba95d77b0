//! Kubernetes `HorizontalPodAutoscaler` manifests (`autoscaling/v2`), loaded unchanged from
//! YAML into the [`HpaSpec`] of [`crate::model::hpa`].
//!
//! The loader is strict the way the API server is, and stricter where the simulator could only
//! ignore a field: every key it does not model is an error naming it, so a manifest is never
//! half-read. Every [`ManifestError`] names the file, the line and the field path:
//!
//! ```text
//! deploy/x.yaml:12: spec.metrics[0].resource.target.type: unknown target type "Percent" (expected Utilization, AverageValue or Value)
//! ```
//!
//! # What is read
//!
//! | field | becomes |
//! |---|---|
//! | `apiVersion: autoscaling/v2`, `kind: HorizontalPodAutoscaler` | checked |
//! | `metadata.name` | [`Manifest::name`] (`namespace`, `labels`, `annotations` are accepted and have no effect) |
//! | `spec.scaleTargetRef.{apiVersion, kind, name}` | [`Manifest::target`] is `name`; `kind` is required |
//! | `spec.minReplicas`, `spec.maxReplicas` | `min_replicas` (absent: `None`, i.e. 1), `max_replicas` |
//! | `spec.metrics[]` of type `Resource`, `ContainerResource`, `Pods`, `Object`, `External` | [`MetricSpec`]; absent or empty: CPU utilization 80 %, the API server's default |
//! | `…target.{type, averageUtilization, averageValue, value}` | [`MetricTarget`]; quantities in milli-units |
//! | `…metric.name` | the metric name (`selector` is refused: the simulator has no labels) |
//! | `…object.describedObject.{apiVersion, kind, name}` | `object` is `name`; `kind` and `name` are required |
//! | `spec.behavior.{scaleUp, scaleDown}.{stabilizationWindowSeconds, selectPolicy, policies, tolerance}` | [`Behavior`] |
//!
//! Quantities follow `resource.Quantity`: `100m`, `1`, `1.5`, `2k`, `500Mi`, `1Gi`, `1e3`, read
//! as milli-units rounded up as `Quantity.MilliValue()` does (`1` is 1000, `500Mi` is
//! 524 288 000 000: memory in milli-bytes, like every value the HPA module compares). A YAML
//! number is read as the quantity it spells. `tolerance` is a quantity too, kept as a fraction.
//!
//! Validation mirrors `pkg/apis/autoscaling/validation`: `minReplicas ≥ 1`,
//! `maxReplicas ≥ max(1, minReplicas)`, targets positive, `averageUtilization ≥ 1`, windows in
//! `0..=3600` s, policy `value > 0` and `periodSeconds` in `1..=1800`, `tolerance ≥ 0`. Each
//! target type must come with its own value field and no other (a [`MetricTarget`] holds one),
//! and only the types the controller reads for that source are accepted (Resource and
//! ContainerResource: Utilization or AverageValue; Pods: AverageValue; Object and External:
//! Value or AverageValue).

use std::fmt;
use std::path::{Path, PathBuf};

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

use crate::model::hpa::{
    Behavior, HpaSpec, MetricSpec, MetricTarget, PolicyKind, ScalingPolicy, ScalingRules,
    SelectPolicy,
};

use super::error::nearest;

/// A loaded `HorizontalPodAutoscaler`.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// `metadata.name`.
    pub name: String,
    /// `spec.scaleTargetRef.name`: the workload it scales.
    pub target: String,
    /// The spec as the HPA module takes it.
    pub spec: HpaSpec,
}

/// A manifest that cannot be loaded. Never recoverable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line, when the error is in the text (not for an unreadable file).
    pub line: Option<usize>,
    /// Field path, like `spec.metrics[0].resource.target.type`; empty for the whole file.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.field.is_empty() {
            write!(f, ": {}", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ManifestError {}

/// Reads and parses the `HorizontalPodAutoscaler` in `path`.
pub fn load_hpa(path: &Path) -> Result<Manifest, ManifestError> {
    let text = std::fs::read_to_string(path).map_err(|e| ManifestError {
        file: path.to_path_buf(),
        line: None,
        field: String::new(),
        message: format!("cannot read: {e}"),
    })?;
    parse_hpa(&text, path)
}

/// Parses a `HorizontalPodAutoscaler` from `text`; `path` is only used in errors.
pub fn parse_hpa(text: &str, path: &Path) -> Result<Manifest, ManifestError> {
    let cx = Cx { file: path };
    let docs = MarkedYaml::load_from_str(text).map_err(|e| {
        cx.err(
            e.marker().line(),
            "",
            format!("not YAML: {} (column {})", e.info(), e.marker().col() + 1),
        )
    })?;
    let doc = match docs.as_slice() {
        [] => return Err(cx.err(1, "", "empty file: expected a HorizontalPodAutoscaler")),
        [doc] => doc,
        [_, second, ..] => {
            return Err(cx.err(
                line(second),
                "",
                format!(
                    "{} YAML documents: expected one HorizontalPodAutoscaler",
                    docs.len()
                ),
            ));
        }
    };
    let root = Val {
        node: doc,
        path: String::new(),
        key_line: line(doc),
    };
    read_root(&cx, &root)
}

/// Parses a Kubernetes quantity (`100m`, `1.5`, `2k`, `500Mi`, `1e3`) into milli-units, rounded
/// up like `Quantity.MilliValue()`.
pub fn parse_quantity(s: &str) -> Result<i64, String> {
    let bad = || format!("{s:?} is not a quantity (like 100m, 1.5, 2k, 500Mi or 1Gi)");
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (number, suffix) = rest.split_at(end);
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    if (int.is_empty() && frac.is_empty()) || frac.contains('.') {
        return Err(bad());
    }
    let frac = frac.trim_end_matches('0');
    let digits = format!("{int}{frac}");
    let digits = digits.trim_start_matches('0');
    if digits.len() > 30 {
        return Err(format!("{s:?} has too many digits"));
    }
    let mantissa: i128 = if digits.is_empty() {
        0
    } else {
        digits.parse().map_err(|_| bad())?
    };
    let (binary, decimal): (u32, i32) = match suffix {
        "" => (0, 0),
        "n" => (0, -9),
        "u" => (0, -6),
        "m" => (0, -3),
        "k" => (0, 3),
        "M" => (0, 6),
        "G" => (0, 9),
        "T" => (0, 12),
        "P" => (0, 15),
        "E" => (0, 18),
        "Ki" => (10, 0),
        "Mi" => (20, 0),
        "Gi" => (30, 0),
        "Ti" => (40, 0),
        "Pi" => (50, 0),
        "Ei" => (60, 0),
        _ => {
            let exp = suffix
                .strip_prefix(['e', 'E'])
                .filter(|e| {
                    let d = e.strip_prefix(['+', '-']).unwrap_or(e);
                    !d.is_empty() && d.len() <= 3 && d.bytes().all(|b| b.is_ascii_digit())
                })
                .ok_or_else(bad)?;
            (0, exp.parse().map_err(|_| bad())?)
        }
    };
    let too_large = || format!("{s:?} is too large");
    let scaled = mantissa
        .checked_mul(1i128 << binary)
        .ok_or_else(too_large)?;
    // milli = value × 1000 = scaled × 10^(decimal + 3 − fraction digits)
    let exp = decimal + 3 - frac.len() as i32;
    let magnitude = if exp >= 0 {
        10i128
            .checked_pow(exp as u32)
            .and_then(|p| scaled.checked_mul(p))
            .ok_or_else(too_large)?
    } else if -exp > 38 {
        // below 10^-38 milli: ceil gives 1 for any positive value (0 for a negative one)
        i128::from(scaled > 0 && !neg)
    } else {
        let div = 10i128.pow((-exp) as u32);
        // ceil for positive values, truncation toward zero (also ceil) for negative ones
        if neg {
            scaled / div
        } else {
            (scaled + div - 1) / div
        }
    };
    let signed = if neg { -magnitude } else { magnitude };
    i64::try_from(signed).map_err(|_| too_large())
}

/// File context for errors.
struct Cx<'a> {
    file: &'a Path,
}

impl Cx<'_> {
    fn err(&self, line: usize, field: &str, message: impl Into<String>) -> ManifestError {
        ManifestError {
            file: self.file.to_path_buf(),
            line: Some(line),
            field: field.to_string(),
            message: message.into(),
        }
    }
}

fn line(node: &MarkedYaml<'_>) -> usize {
    node.span.start.line().max(1)
}

/// A node, its field path, and the line of the key that holds it (where "missing field" errors
/// point).
struct Val<'a, 'y> {
    node: &'a MarkedYaml<'y>,
    path: String,
    key_line: usize,
}

impl<'a, 'y> Val<'a, 'y> {
    fn line(&self) -> usize {
        line(self.node)
    }

    fn err(&self, cx: &Cx<'_>, message: impl Into<String>) -> ManifestError {
        cx.err(self.line(), &self.path, message)
    }

    fn is_null(&self) -> bool {
        matches!(self.node.data, YamlData::Value(Scalar::Null))
    }

    fn scalar(&self, cx: &Cx<'_>, what: &str) -> Result<&'a Scalar<'y>, ManifestError> {
        match &self.node.data {
            YamlData::Value(s) => Ok(s),
            YamlData::Tagged(..) => Err(self.err(cx, "YAML tags are not supported")),
            YamlData::Alias(_) => Err(self.err(cx, "YAML aliases are not supported")),
            YamlData::BadValue => Err(self.err(cx, "invalid YAML value")),
            YamlData::Sequence(_) => Err(self.err(cx, format!("expected {what}, found a list"))),
            YamlData::Mapping(_) => Err(self.err(cx, format!("expected {what}, found a mapping"))),
            YamlData::Representation(..) => Err(self.err(cx, "unresolved YAML scalar")),
        }
    }

    fn str(&self, cx: &Cx<'_>) -> Result<&'a str, ManifestError> {
        match self.scalar(cx, "a string")? {
            Scalar::String(s) => Ok(s),
            other => Err(self.err(cx, format!("expected a string, found {}", describe(other)))),
        }
    }

    /// A non-empty string.
    fn name(&self, cx: &Cx<'_>) -> Result<String, ManifestError> {
        let s = self.str(cx)?;
        if s.is_empty() {
            return Err(self.err(cx, "must not be empty"));
        }
        Ok(s.to_string())
    }

    fn int(&self, cx: &Cx<'_>) -> Result<i32, ManifestError> {
        match self.scalar(cx, "an integer")? {
            Scalar::Integer(i) => i32::try_from(*i)
                .map_err(|_| self.err(cx, format!("{i} is out of range for an int32"))),
            other => Err(self.err(
                cx,
                format!("expected an integer, found {}", describe(other)),
            )),
        }
    }

    /// A quantity in milli-units (a string or a YAML number).
    fn quantity(&self, cx: &Cx<'_>) -> Result<i64, ManifestError> {
        let text = match self.scalar(cx, "a quantity")? {
            Scalar::String(s) => s.to_string(),
            Scalar::Integer(i) => i.to_string(),
            Scalar::FloatingPoint(f) if f.is_finite() => f.to_string(),
            other => {
                return Err(self.err(
                    cx,
                    format!("expected a quantity, found {}", describe(other)),
                ));
            }
        };
        parse_quantity(&text).map_err(|m| self.err(cx, m))
    }

    fn map(&self, cx: &Cx<'_>, allowed: &[&str]) -> Result<Map<'a, 'y>, ManifestError> {
        let YamlData::Mapping(m) = &self.node.data else {
            let found = match &self.node.data {
                YamlData::Sequence(_) => "a list".to_string(),
                YamlData::Value(s) => describe(s),
                _ => "another kind of node".to_string(),
            };
            return Err(self.err(cx, format!("expected a mapping, found {found}")));
        };
        let mut entries = Vec::new();
        for (k, v) in m.iter() {
            let key_line = line(k);
            let YamlData::Value(Scalar::String(key)) = &k.data else {
                return Err(cx.err(key_line, &self.path, "keys must be strings"));
            };
            let path = join(&self.path, key);
            if !allowed.contains(&key.as_ref()) {
                let mut message = format!("unknown field `{key}`");
                if let Some(s) = nearest(key, allowed.iter().copied()) {
                    message.push_str(&format!(" (did you mean `{s}`?)"));
                }
                message.push_str(&format!(" (supported: {})", allowed.join(", ")));
                return Err(cx.err(key_line, &path, message));
            }
            entries.push((
                key.as_ref(),
                Val {
                    node: v,
                    path,
                    key_line,
                },
            ));
        }
        Ok(Map {
            entries,
            path: self.path.clone(),
            line: self.key_line,
        })
    }

    fn seq(&self, cx: &Cx<'_>) -> Result<Vec<Val<'a, 'y>>, ManifestError> {
        let YamlData::Sequence(items) = &self.node.data else {
            return Err(self.err(cx, "expected a list"));
        };
        Ok(items
            .iter()
            .enumerate()
            .map(|(i, node)| Val {
                node,
                path: format!("{}[{i}]", self.path),
                key_line: line(node),
            })
            .collect())
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn describe(s: &Scalar<'_>) -> String {
    match s {
        Scalar::Null => "null".into(),
        Scalar::Boolean(b) => format!("the boolean {b}"),
        Scalar::Integer(i) => format!("the number {i}"),
        Scalar::FloatingPoint(f) => format!("the number {f}"),
        Scalar::String(s) => format!("the string {s:?}"),
    }
}

/// A mapping whose keys have been checked against the allowed ones.
struct Map<'a, 'y> {
    entries: Vec<(&'a str, Val<'a, 'y>)>,
    path: String,
    /// The line of the key holding the mapping.
    line: usize,
}

impl<'a, 'y> Map<'a, 'y> {
    /// The value of `key`, `None` if absent or null.
    fn opt(&self, key: &str) -> Option<&Val<'a, 'y>> {
        self.entries
            .iter()
            .find(|(k, v)| *k == key && !v.is_null())
            .map(|(_, v)| v)
    }

    fn req(&self, cx: &Cx<'_>, key: &str) -> Result<&Val<'a, 'y>, ManifestError> {
        self.opt(key)
            .ok_or_else(|| self.missing(cx, key, "required field is missing"))
    }

    fn missing(&self, cx: &Cx<'_>, key: &str, message: &str) -> ManifestError {
        cx.err(self.line, &join(&self.path, key), message)
    }
}

fn read_root(cx: &Cx<'_>, root: &Val<'_, '_>) -> Result<Manifest, ManifestError> {
    let m = root.map(cx, &["apiVersion", "kind", "metadata", "spec"])?;
    let api = m.req(cx, "apiVersion")?;
    if api.str(cx)? != "autoscaling/v2" {
        return Err(api.err(
            cx,
            format!(
                "apiVersion {:?} is not supported (expected autoscaling/v2)",
                api.str(cx)?
            ),
        ));
    }
    let kind = m.req(cx, "kind")?;
    if kind.str(cx)? != "HorizontalPodAutoscaler" {
        return Err(kind.err(
            cx,
            format!(
                "kind {:?} is not supported (expected HorizontalPodAutoscaler)",
                kind.str(cx)?
            ),
        ));
    }
    let meta = m
        .req(cx, "metadata")?
        .map(cx, &["name", "namespace", "labels", "annotations"])?;
    let name = meta.req(cx, "name")?.name(cx)?;
    if let Some(ns) = meta.opt("namespace") {
        ns.str(cx)?;
    }
    let spec = m.req(cx, "spec")?;
    let s = spec.map(
        cx,
        &[
            "scaleTargetRef",
            "minReplicas",
            "maxReplicas",
            "metrics",
            "behavior",
        ],
    )?;

    let target_ref = s
        .req(cx, "scaleTargetRef")?
        .map(cx, &["apiVersion", "kind", "name"])?;
    object_ref(cx, &target_ref)?;
    let target = target_ref.req(cx, "name")?.name(cx)?;

    let min_replicas = match s.opt("minReplicas") {
        Some(v) => {
            let n = v.int(cx)?;
            if n < 1 {
                return Err(v.err(cx, format!("must be at least 1, got {n}")));
            }
            Some(n)
        }
        None => None,
    };
    let max = s.req(cx, "maxReplicas")?;
    let max_replicas = max.int(cx)?;
    if max_replicas < 1 {
        return Err(max.err(cx, format!("must be at least 1, got {max_replicas}")));
    }
    if let Some(min) = min_replicas.filter(|&min| min > max_replicas) {
        return Err(max.err(
            cx,
            format!("maxReplicas ({max_replicas}) is less than minReplicas ({min})"),
        ));
    }

    let mut metrics = Vec::new();
    if let Some(list) = s.opt("metrics") {
        for item in list.seq(cx)? {
            metrics.push(metric(cx, &item)?);
        }
    }
    if metrics.is_empty() {
        // SetDefaults_HorizontalPodAutoscaler
        metrics.push(MetricSpec::cpu_utilization(80));
    }

    let behavior = match s.opt("behavior") {
        Some(b) => {
            let b = b.map(cx, &["scaleUp", "scaleDown"])?;
            Some(Behavior {
                scale_up: b.opt("scaleUp").map(|r| rules(cx, r)).transpose()?,
                scale_down: b.opt("scaleDown").map(|r| rules(cx, r)).transpose()?,
            })
        }
        None => None,
    };

    Ok(Manifest {
        name,
        target,
        spec: HpaSpec {
            min_replicas,
            max_replicas,
            metrics,
            behavior,
        },
    })
}

/// A `CrossVersionObjectReference`: `kind` and `name` required, `apiVersion` optional.
fn object_ref(cx: &Cx<'_>, m: &Map<'_, '_>) -> Result<(), ManifestError> {
    if let Some(v) = m.opt("apiVersion") {
        v.str(cx)?;
    }
    m.req(cx, "kind")?.name(cx)?;
    m.req(cx, "name")?.name(cx)?;
    Ok(())
}

const METRIC_TYPES: [(&str, &str); 5] = [
    ("Resource", "resource"),
    ("ContainerResource", "containerResource"),
    ("Pods", "pods"),
    ("Object", "object"),
    ("External", "external"),
];

fn metric(cx: &Cx<'_>, item: &Val<'_, '_>) -> Result<MetricSpec, ManifestError> {
    let m = item.map(
        cx,
        &[
            "type",
            "resource",
            "containerResource",
            "pods",
            "object",
            "external",
        ],
    )?;
    let ty = m.req(cx, "type")?;
    let ty_name = ty.str(cx)?;
    let Some(&(_, key)) = METRIC_TYPES.iter().find(|(t, _)| *t == ty_name) else {
        return Err(ty.err(
            cx,
            format!(
                "unknown metric type {ty_name:?} (expected Resource, ContainerResource, Pods, Object or External)"
            ),
        ));
    };
    for (k, v) in &m.entries {
        if *k != "type" && *k != key {
            return Err(cx.err(
                v.key_line,
                &v.path,
                format!("`{k}` does not belong to a metric of type {ty_name} (set only `{key}`)"),
            ));
        }
    }
    let src = m.req(cx, key)?;
    let spec = match ty_name {
        "Resource" => {
            let s = src.map(cx, &["name", "target"])?;
            MetricSpec::Resource {
                resource: s.req(cx, "name")?.name(cx)?,
                target: target(cx, &s, ty_name, &["Utilization", "AverageValue"])?,
            }
        }
        "ContainerResource" => {
            let s = src.map(cx, &["name", "container", "target"])?;
            MetricSpec::ContainerResource {
                resource: s.req(cx, "name")?.name(cx)?,
                container: s.req(cx, "container")?.name(cx)?,
                target: target(cx, &s, ty_name, &["Utilization", "AverageValue"])?,
            }
        }
        "Pods" => {
            let s = src.map(cx, &["metric", "target"])?;
            MetricSpec::Pods {
                metric: metric_name(cx, &s)?,
                target: target(cx, &s, ty_name, &["AverageValue"])?,
            }
        }
        "Object" => {
            let s = src.map(cx, &["describedObject", "metric", "target"])?;
            let described = s
                .opt("describedObject")
                .ok_or_else(|| {
                    s.missing(
                        cx,
                        "describedObject",
                        "required field is missing: an Object metric describes one object \
                         (kind and name); without it Kubernetes rejects the manifest",
                    )
                })?
                .map(cx, &["apiVersion", "kind", "name"])?;
            object_ref(cx, &described)?;
            MetricSpec::Object {
                metric: metric_name(cx, &s)?,
                object: described.req(cx, "name")?.name(cx)?,
                target: target(cx, &s, ty_name, &["Value", "AverageValue"])?,
            }
        }
        _ => {
            let s = src.map(cx, &["metric", "target"])?;
            MetricSpec::External {
                metric: metric_name(cx, &s)?,
                target: target(cx, &s, ty_name, &["Value", "AverageValue"])?,
            }
        }
    };
    Ok(spec)
}

/// `metric: {name, selector}`; a selector is refused.
fn metric_name(cx: &Cx<'_>, source: &Map<'_, '_>) -> Result<String, ManifestError> {
    let m = source.req(cx, "metric")?.map(cx, &["name", "selector"])?;
    if let Some((_, sel)) = m.entries.iter().find(|(k, _)| *k == "selector") {
        return Err(cx.err(
            sel.key_line,
            &sel.path,
            "metric selectors are not supported (the simulator has no labels): remove it",
        ));
    }
    m.req(cx, "name")?.name(cx)
}

const TARGET_TYPES: [(&str, &str); 3] = [
    ("Utilization", "averageUtilization"),
    ("AverageValue", "averageValue"),
    ("Value", "value"),
];

fn target(
    cx: &Cx<'_>,
    source: &Map<'_, '_>,
    metric_type: &str,
    allowed: &[&str],
) -> Result<MetricTarget, ManifestError> {
    let t = source
        .req(cx, "target")?
        .map(cx, &["type", "averageUtilization", "averageValue", "value"])?;
    let ty = t.req(cx, "type")?;
    let ty_name = ty.str(cx)?;
    let Some(&(_, key)) = TARGET_TYPES.iter().find(|(n, _)| *n == ty_name) else {
        return Err(ty.err(
            cx,
            format!(
                "unknown target type {ty_name:?} (expected Utilization, AverageValue or Value)"
            ),
        ));
    };
    if !allowed.contains(&ty_name) {
        return Err(ty.err(
            cx,
            format!(
                "target type {ty_name} does not apply to a {metric_type} metric (expected {})",
                allowed.join(" or ")
            ),
        ));
    }
    for (k, v) in &t.entries {
        if *k != "type" && *k != key {
            return Err(cx.err(
                v.key_line,
                &v.path,
                format!("`{k}` does not apply to target type {ty_name} (set only `{key}`)"),
            ));
        }
    }
    let v = t
        .opt(key)
        .ok_or_else(|| t.missing(cx, key, &format!("required for target type {ty_name}")))?;
    Ok(match ty_name {
        "Utilization" => {
            let p = v.int(cx)?;
            if p < 1 {
                return Err(v.err(cx, format!("must be greater than 0, got {p}")));
            }
            MetricTarget::Utilization(p)
        }
        _ => {
            let q = v.quantity(cx)?;
            if q <= 0 {
                return Err(v.err(cx, "must be positive"));
            }
            if ty_name == "Value" {
                MetricTarget::Value(q)
            } else {
                MetricTarget::AverageValue(q)
            }
        }
    })
}

/// Kubernetes' `MaxStabilizationWindowSeconds`.
const MAX_WINDOW: i32 = 3600;
/// Kubernetes' `MaxPeriodSeconds`.
const MAX_PERIOD: i32 = 1800;

fn rules(cx: &Cx<'_>, v: &Val<'_, '_>) -> Result<ScalingRules, ManifestError> {
    let m = v.map(
        cx,
        &[
            "stabilizationWindowSeconds",
            "selectPolicy",
            "policies",
            "tolerance",
        ],
    )?;
    let mut r = ScalingRules::default();
    if let Some(w) = m.opt("stabilizationWindowSeconds") {
        let s = w.int(cx)?;
        if !(0..=MAX_WINDOW).contains(&s) {
            return Err(w.err(
                cx,
                format!("must be between 0 and {MAX_WINDOW} seconds, got {s}"),
            ));
        }
        r.stabilization_window_seconds = Some(s);
    }
    if let Some(p) = m.opt("selectPolicy") {
        r.select_policy = Some(match p.str(cx)? {
            "Max" => SelectPolicy::Max,
            "Min" => SelectPolicy::Min,
            "Disabled" => SelectPolicy::Disabled,
            other => {
                return Err(p.err(
                    cx,
                    format!("unknown selectPolicy {other:?} (expected Max, Min or Disabled)"),
                ));
            }
        });
    }
    if let Some(list) = m.opt("policies") {
        let items = list.seq(cx)?;
        if items.is_empty() {
            return Err(list.err(cx, "must list at least one policy"));
        }
        r.policies = Some(
            items
                .iter()
                .map(|p| policy(cx, p))
                .collect::<Result<_, _>>()?,
        );
    }
    if let Some(t) = m.opt("tolerance") {
        let milli = t.quantity(cx)?;
        if milli < 0 {
            return Err(t.err(cx, "must be greater than or equal to 0"));
        }
        r.tolerance = Some(milli as f64 / 1000.0);
    }
    Ok(r)
}

fn policy(cx: &Cx<'_>, v: &Val<'_, '_>) -> Result<ScalingPolicy, ManifestError> {
    let m = v.map(cx, &["type", "value", "periodSeconds"])?;
    let ty = m.req(cx, "type")?;
    let kind = match ty.str(cx)? {
        "Pods" => PolicyKind::Pods,
        "Percent" => PolicyKind::Percent,
        other => {
            return Err(ty.err(
                cx,
                format!("unknown policy type {other:?} (expected Pods or Percent)"),
            ));
        }
    };
    let value = m.req(cx, "value")?;
    let n = value.int(cx)?;
    if n <= 0 {
        return Err(value.err(cx, format!("must be greater than 0, got {n}")));
    }
    let period = m.req(cx, "periodSeconds")?;
    let p = period.int(cx)?;
    if !(1..=MAX_PERIOD).contains(&p) {
        return Err(period.err(
            cx,
            format!("must be between 1 and {MAX_PERIOD} seconds, got {p}"),
        ));
    }
    Ok(ScalingPolicy {
        kind,
        value: n,
        period_seconds: p,
    })
}

#[cfg(test)]
mod tests;
