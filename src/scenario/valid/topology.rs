//! Validation of the topology: services (and plain stations), class paths, controllers.

use std::collections::BTreeMap;

use super::{Res, V, dist};
use crate::model::ClassSpec;
use crate::model::balance::Policy;
use crate::model::controller::{Action, ControllerSpec};
use crate::model::dist::Dist;
use crate::model::program::{Count, KeyRoute, Step, TrySpec, ops_bound};
use crate::model::service::ServiceSpec;
use crate::model::station::{Discipline, StationSpec};
use crate::model::workload::KeyDist;
use crate::scenario::raw::*;

/// At most this many instances in one service (instance ids live in 24 bits of event kinds).
const MAX_INSTANCES: i64 = 100_000;
/// Most steps one request may run (a bound: repeats at their largest counts).
const MAX_OPS: f64 = 1e7;
/// Deepest nesting of sub-paths.
const MAX_DEPTH: usize = 16;

/// `[stations]` and `[services]` together, sorted by name (one namespace).
pub(super) fn services(v: &V<'_>, raw: &RawScenario, classes: &[String]) -> Res<Vec<ServiceSpec>> {
    let mut all: BTreeMap<&str, (&str, &RawStation)> = BTreeMap::new();
    for (n, s) in &raw.stations {
        all.insert(n, ("stations", s));
    }
    for (n, s) in &raw.services {
        if all.insert(n, ("services", s)).is_some() {
            return Err(v.err(
                format!("services.{n}"),
                format!("`{n}` is also defined under [stations]: one name, one service"),
            ));
        }
    }
    if all.is_empty() {
        return Err(v.err("services", "define at least one service (or station)"));
    }
    all.iter()
        .map(|(n, (table, s))| service(v, &format!("{table}.{n}"), n, s, classes))
        .collect()
}

fn service(
    v: &V<'_>,
    at: &str,
    name: &str,
    s: &RawStation,
    classes: &[String],
) -> Res<ServiceSpec> {
    let f = |k: &str| format!("{at}.{k}");
    let station = station(v, at, name, s, classes)?;
    let instances = s.instances.unwrap_or(1);
    if !(0..=MAX_INSTANCES).contains(&instances) {
        return Err(v.err(
            f("instances"),
            format!("must be between 0 and {MAX_INSTANCES}, got {instances}"),
        ));
    }
    let policy = match s.balancer.as_deref() {
        None => Policy::RoundRobin,
        Some(b) => Policy::parse(b).ok_or_else(|| {
            v.err(f("balancer"), format!("unknown balancer `{b}`"))
                .suggest(b, Policy::NAMES)
        })?,
    };
    let opt_dist = |k: &str, d: &Option<RawDist>| {
        d.as_ref()
            .map(|d| dist(v, &f(k), d))
            .transpose()
            .map(|d| d.unwrap_or(Dist::Constant(0.0)))
    };
    let factors = |k: &str, xs: &Option<Vec<f64>>| -> Res<Vec<f64>> {
        let xs = xs.clone().unwrap_or_default();
        for (i, x) in xs.iter().enumerate() {
            if !(x.is_finite() && *x > 0.0) {
                return Err(v.err(f(&format!("{k}.{i}")), format!("must be positive, got {x}")));
            }
        }
        Ok(xs)
    };
    Ok(ServiceSpec {
        station,
        instances: instances as u32,
        policy,
        startup: opt_dist("startup", &s.startup)?,
        restart: opt_dist("restart", &s.restart)?,
        speeds: factors("speeds", &s.speeds)?,
        weights: factors("weights", &s.weights)?,
    })
}

fn station(
    v: &V<'_>,
    at: &str,
    name: &str,
    s: &RawStation,
    classes: &[String],
) -> Res<StationSpec> {
    let f = |k: &str| format!("{at}.{k}");
    if s.workers < 1 || s.workers > 1_000_000 {
        return Err(v.err(
            f("workers"),
            format!("must be between 1 and 1000000, got {}", s.workers),
        ));
    }
    let discipline = match s.discipline.as_deref().unwrap_or("fifo") {
        "fifo" => Discipline::Fifo,
        "ps" | "processor_sharing" => Discipline::ProcessorSharing,
        other => {
            return Err(v
                .err(f("discipline"), format!("unknown discipline `{other}`"))
                .suggest(other, ["fifo", "ps"]));
        }
    };
    let queue_capacity = match s.queue_capacity {
        Some(c) if c < 0 => {
            return Err(v.err(
                f("queue_capacity"),
                format!("must be zero or positive, got {c}"),
            ));
        }
        c => c.map(|c| c.min(u32::MAX as i64) as u32),
    };
    let base = dist(v, &f("service"), &s.service)?;
    let mut service = vec![base; classes.len()];
    for (cname, d) in &s.service_by_class {
        let field = f(&format!("service_by_class.{cname}"));
        let i = classes.iter().position(|c| c == cname).ok_or_else(|| {
            v.err(&field, format!("no class named `{cname}`"))
                .suggest(cname, classes.iter().map(String::as_str))
        })?;
        service[i] = dist(v, &field, d)?;
    }
    Ok(StationSpec {
        name: name.to_string(),
        workers: s.workers as u32,
        discipline,
        queue_capacity,
        service,
    })
}

/// The size of the key space, for range routing.
fn key_space(k: &KeyDist) -> Option<u64> {
    match k {
        KeyDist::None => None,
        KeyDist::Uniform { n } | KeyDist::Zipf { n, .. } | KeyDist::Hotspot { n, .. } => Some(*n),
    }
}

struct Paths<'a> {
    v: &'a V<'a>,
    services: &'a [String],
    keys: Option<u64>,
    class: &'a str,
    scopes: usize,
}

/// A class: its path tree, timeout and weight.
pub(super) fn class(
    v: &V<'_>,
    name: &str,
    c: &RawClass,
    services: &[String],
    keys: &KeyDist,
) -> Res<ClassSpec> {
    let field = format!("classes.{name}.path");
    if c.path.is_empty() {
        // A closed-loop user with no think time would otherwise loop at one instant for ever.
        return Err(v.err(&field, "needs at least one step"));
    }
    let mut p = Paths {
        v,
        services,
        keys: key_space(keys),
        class: name,
        scopes: 0,
    };
    let path = p.path(&field, &c.path, 0)?;
    let ops = ops_bound(&path);
    if ops > MAX_OPS {
        return Err(v.err(
            &field,
            format!("one request would run up to {ops:.3e} steps (repeats multiply); at most {MAX_OPS:e}"),
        ));
    }
    let deadline = v.opt_ns(&format!("classes.{name}.timeout"), &c.timeout)?;
    Ok(ClassSpec {
        name: name.to_string(),
        path,
        deadline,
    })
}

impl Paths<'_> {
    fn service(&self, field: &str, s: &str) -> Res<u32> {
        self.services
            .iter()
            .position(|x| x == s)
            .map(|i| i as u32)
            .ok_or_else(|| {
                self.v
                    .err(field, format!("no service or station named `{s}`"))
                    .suggest(s, self.services.iter().map(String::as_str))
            })
    }

    fn path(&mut self, field: &str, steps: &[RawStep], depth: usize) -> Res<Vec<Step>> {
        if depth > MAX_DEPTH {
            return Err(self
                .v
                .err(field, format!("sub-paths nest deeper than {MAX_DEPTH}")));
        }
        steps
            .iter()
            .enumerate()
            .map(|(i, s)| self.step(&format!("{field}.{i}"), s, depth))
            .collect()
    }

    fn arm(&mut self, field: &str, a: &RawArm, depth: usize) -> Res<Vec<Step>> {
        match a {
            RawArm::Visit(s) => Ok(vec![Step::Visit(self.service(field, s)?)]),
            RawArm::Path(p) => self.path(field, p, depth + 1),
        }
    }

    fn arms(&mut self, field: &str, arms: &[RawArm], depth: usize) -> Res<Vec<Vec<Step>>> {
        if arms.is_empty() {
            return Err(self.v.err(field, "needs at least one arm"));
        }
        arms.iter()
            .enumerate()
            .map(|(i, a)| self.arm(&format!("{field}.{i}"), a, depth))
            .collect()
    }

    fn step(&mut self, field: &str, s: &RawStep, depth: usize) -> Res<Step> {
        let t = match s {
            RawStep::Visit(n) => return Ok(Step::Visit(self.service(field, n)?)),
            RawStep::Special(t) => t,
        };
        let kinds = [
            ("fork", t.fork.is_some()),
            ("delay", t.delay.is_some()),
            ("branch", t.branch.is_some()),
            ("by_key", t.by_key.is_some()),
            ("repeat", t.repeat.is_some()),
            ("try", t.try_.is_some()),
        ];
        let present: Vec<&str> = kinds.iter().filter(|k| k.1).map(|k| k.0).collect();
        let [kind] = present.as_slice() else {
            return Err(self.v.err(
                field,
                format!(
                    "a step is a service name or a table with exactly one of `fork`, `delay`, \
                     `branch`, `by_key`, `repeat`, `try` (found {})",
                    if present.is_empty() {
                        "none".to_string()
                    } else {
                        present.join(", ")
                    }
                ),
            ));
        };
        self.only(field, t, kind)?;
        let sub = |k: &str| format!("{field}.{k}");
        match *kind {
            "fork" => Ok(Step::Fork(self.arms(
                &sub("fork"),
                t.fork.as_deref().unwrap_or(&[]),
                depth,
            )?)),
            "delay" => Ok(Step::Delay(dist(
                self.v,
                &sub("delay"),
                t.delay.as_ref().expect("present"),
            )?)),
            "branch" => self.branch(&sub("branch"), t.branch.as_deref().unwrap_or(&[]), depth),
            "by_key" => self.by_key(field, t, depth),
            "repeat" => self.repeat(field, t, depth),
            _ => self.try_scope(field, t, depth),
        }
    }

    /// Refuses options that belong to another construct (`attempts` on a fork, ...).
    fn only(&self, field: &str, t: &RawSpecialStep, kind: &str) -> Res<()> {
        let allowed: &[&str] = match kind {
            "by_key" => &["router"],
            "repeat" => &["path"],
            "try" => &["name", "attempts", "timeout", "fallback"],
            _ => &[],
        };
        let options = [
            ("router", t.router.is_some()),
            ("path", t.path.is_some()),
            ("name", t.name.is_some()),
            ("attempts", t.attempts.is_some()),
            ("timeout", t.timeout.is_some()),
            ("fallback", t.fallback.is_some()),
        ];
        match options.iter().find(|(k, set)| *set && !allowed.contains(k)) {
            Some((k, _)) => Err(self.v.err(
                format!("{field}.{k}"),
                format!("`{k}` does not apply to a `{kind}` step"),
            )),
            None => Ok(()),
        }
    }

    fn branch(&mut self, field: &str, arms: &[RawBranchArm], depth: usize) -> Res<Step> {
        if arms.is_empty() {
            return Err(self.v.err(field, "needs at least one `{ p, path }` arm"));
        }
        let mut total = 0.0;
        let mut out = Vec::new();
        for (i, a) in arms.iter().enumerate() {
            let f = format!("{field}.{i}");
            let p = self.v.fraction(&format!("{f}.p"), a.p)?;
            total += p;
            out.push((p, self.path(&format!("{f}.path"), &a.path, depth + 1)?));
        }
        if total > 1.0 + 1e-9 {
            return Err(self.v.err(
                field,
                format!(
                    "probabilities add up to {total}, more than 1 (the rest of 1 skips the branch)"
                ),
            ));
        }
        Ok(Step::Branch(out))
    }

    fn by_key(&mut self, field: &str, t: &RawSpecialStep, depth: usize) -> Res<Step> {
        let arms = self.arms(
            &format!("{field}.by_key"),
            t.by_key.as_deref().unwrap_or(&[]),
            depth,
        )?;
        let route = match t.router.as_deref().unwrap_or("hash") {
            "hash" => KeyRoute::Hash,
            "range" => KeyRoute::Range {
                keys: self.keys.ok_or_else(|| {
                    self.v.err(
                        format!("{field}.router"),
                        "range routing needs a key space: set `workload.keys`",
                    )
                })?,
            },
            other => {
                return Err(self
                    .v
                    .err(
                        format!("{field}.router"),
                        format!("unknown router `{other}`"),
                    )
                    .suggest(other, ["hash", "range"]));
            }
        };
        if self.keys.is_none() {
            return Err(self.v.err(
                format!("{field}.by_key"),
                "routing by key needs request keys: set `workload.keys`",
            ));
        }
        Ok(Step::ByKey(route, arms))
    }

    fn repeat(&mut self, field: &str, t: &RawSpecialStep, depth: usize) -> Res<Step> {
        let f = format!("{field}.repeat");
        let count = match t.repeat.as_ref().expect("present") {
            RawCount::Fixed(n) if (0..=1_000_000).contains(n) => Count::Fixed(*n as u32),
            RawCount::Fixed(n) => {
                return Err(self
                    .v
                    .err(&f, format!("must be between 0 and 1000000, got {n}")));
            }
            RawCount::Dist(d) => self.count(&f, d)?,
        };
        let body = t.path.as_deref().filter(|p| !p.is_empty()).ok_or_else(|| {
            self.v
                .err(format!("{field}.path"), "a repeat needs a non-empty `path`")
        })?;
        Ok(Step::Repeat(
            count,
            self.path(&format!("{field}.path"), body, depth + 1)?,
        ))
    }

    fn count(&self, f: &str, d: &RawCountDist) -> Res<Count> {
        let mean = |d: &RawCountDist| {
            let m = self.v.positive(&format!("{f}.mean"), d.mean)?;
            if m > 1e6 {
                return Err(self.v.err(format!("{f}.mean"), "must be at most 1000000"));
            }
            Ok(m)
        };
        match d.dist.as_str() {
            "uniform" => {
                let (lo, hi) = (d.min.unwrap_or(0), d.max.unwrap_or(-1));
                if !(0 <= lo && lo <= hi && hi <= 1_000_000) {
                    return Err(self.v.err(f, "uniform needs 0 <= min <= max <= 1000000"));
                }
                Ok(Count::Uniform(lo as u32, hi as u32))
            }
            "geometric" => Ok(Count::Geometric(mean(d)?)),
            "poisson" => Ok(Count::Poisson(mean(d)?)),
            other => Err(self
                .v
                .err(
                    format!("{f}.dist"),
                    format!("unknown count distribution `{other}`"),
                )
                .suggest(other, ["uniform", "geometric", "poisson"])),
        }
    }

    fn try_scope(&mut self, field: &str, t: &RawSpecialStep, depth: usize) -> Res<Step> {
        let body = t.try_.as_deref().unwrap_or(&[]);
        if body.is_empty() {
            return Err(self
                .v
                .err(format!("{field}.try"), "needs at least one step"));
        }
        let attempts = t.attempts.unwrap_or(1);
        if !(1..=100).contains(&attempts) {
            return Err(self.v.err(
                format!("{field}.attempts"),
                format!("must be between 1 and 100, got {attempts}"),
            ));
        }
        let timeout = self.v.opt_ns(&format!("{field}.timeout"), &t.timeout)?;
        if timeout == Some(0) {
            return Err(self
                .v
                .err(format!("{field}.timeout"), "must be longer than zero"));
        }
        let fallback = match &t.fallback {
            Some(f) => Some(self.path(&format!("{field}.fallback"), f, depth + 1)?),
            None => None,
        };
        self.scopes += 1;
        let name = t
            .name
            .clone()
            .unwrap_or_else(|| format!("{}.try{}", self.class, self.scopes));
        Ok(Step::Try(Box::new(TrySpec {
            name,
            body: self.path(&format!("{field}.try"), body, depth + 1)?,
            attempts: attempts as u32,
            timeout,
            fallback,
        })))
    }
}

/// `[controllers.NAME]`.
pub(super) fn controllers(
    v: &V<'_>,
    raw: &RawScenario,
    services: &[String],
) -> Res<Vec<ControllerSpec>> {
    raw.controllers
        .iter()
        .map(|(name, c)| controller(v, name, c, services))
        .collect()
}

fn controller(
    v: &V<'_>,
    name: &str,
    c: &RawController,
    services: &[String],
) -> Res<ControllerSpec> {
    let f = |k: &str| format!("controllers.{name}.{k}");
    if services.iter().any(|s| s == name) {
        return Err(v.err(
            format!("controllers.{name}"),
            format!("`{name}` is also a service: components need distinct names"),
        ));
    }
    let service = services
        .iter()
        .position(|s| *s == c.service)
        .ok_or_else(|| {
            v.err(f("service"), format!("no service named `{}`", c.service))
                .suggest(&c.service, services.iter().map(String::as_str))
        })? as u32;
    if c.kind != "schedule" {
        return Err(v
            .err(f("type"), format!("unknown controller type `{}`", c.kind))
            .suggest(&c.kind, ["schedule"]));
    }
    if c.schedule.is_empty() {
        return Err(v.err(
            f("schedule"),
            "needs at least one `{ at, instances }` or `{ at, crash }` entry",
        ));
    }
    let mut steps = Vec::new();
    for (i, s) in c.schedule.iter().enumerate() {
        let g = |k: &str| f(&format!("schedule.{i}.{k}"));
        let at = v.ns(&g("at"), &s.at)?;
        let action = match (s.instances, s.crash) {
            (Some(n), None) if (0..=MAX_INSTANCES).contains(&n) => Action::Instances(n as u32),
            (None, Some(k)) if (1..=MAX_INSTANCES).contains(&k) => Action::Crash(k as u32),
            (Some(_), None) => {
                return Err(v.err(
                    g("instances"),
                    format!("must be between 0 and {MAX_INSTANCES}"),
                ));
            }
            (None, Some(_)) => {
                return Err(v.err(g("crash"), format!("must be between 1 and {MAX_INSTANCES}")));
            }
            _ => {
                return Err(v.err(
                    f(&format!("schedule.{i}")),
                    "an entry sets exactly one of `instances` and `crash`",
                ));
            }
        };
        if steps.last().is_some_and(|(t, _)| *t > at) {
            return Err(v.err(g("at"), "entries must be in time order"));
        }
        steps.push((at, action));
    }
    Ok(ControllerSpec::Schedule {
        name: name.to_string(),
        service,
        steps,
    })
}
