//! Flows across services: `[topics.NAME]`, `[consumers.NAME]` (a consumer group and its
//! handler path), the `publish` step, and the `saga` step.

use super::{Declared, MAX_ATTEMPTS, Paths, Registry, Res, V, dist, key_space, service_index};
use crate::model::dist::Dist;
use crate::model::program::Step;
use crate::model::regions::{Outage, RegionsSpec, published_rtt};
use crate::model::saga::SagaConfig;
use crate::model::topics::{GroupSpec, TopicSpec};
use crate::model::workload::KeyDist;
use crate::scenario::raw::{RawScenario, RawSpecialStep};

/// Health checks notice a region down after 30 s (three failed 10 s checks).
const DETECT_NS: u64 = 30_000_000_000;
/// A DNS failover record's TTL: 60 s.
const DNS_TTL_NS: u64 = 60_000_000_000;
/// Data transfer between AWS regions, per GB.
const TRANSFER_GB: f64 = 0.02;

/// `[regions]`: names, the RTT matrix (the published one by default), DNS failover, an outage.
pub(in crate::scenario::valid) fn regions(v: &V<'_>, raw: &RawScenario) -> Res<RegionsSpec> {
    let Some(r) = &raw.regions else {
        return Ok(RegionsSpec::default());
    };
    if r.names.is_empty() || r.names.len() > 64 {
        return Err(v.err("regions.names", "needs 1 to 64 region names"));
    }
    for (i, n) in r.names.iter().enumerate() {
        if r.names[..i].contains(n) {
            return Err(v.err(
                format!("regions.names.{i}"),
                format!("`{n}` is listed twice"),
            ));
        }
    }
    let n = r.names.len();
    let rtt: Vec<Vec<u64>> = match &r.rtt_ms {
        Some(m) => {
            if m.len() != n || m.iter().any(|row| row.len() != n) {
                return Err(v.err(
                    "regions.rtt_ms",
                    format!("must be a square {n} x {n} matrix, one row and column per region in `names` order"),
                ));
            }
            for (i, row) in m.iter().enumerate() {
                for (j, x) in row.iter().enumerate() {
                    if !x.is_finite() || *x < 0.0 {
                        return Err(v.err(
                            format!("regions.rtt_ms.{i}.{j}"),
                            format!("an RTT is zero or positive (ms), got {x}"),
                        ));
                    }
                }
            }
            m.iter()
                .map(|row| row.iter().map(|x| (x * 1e6).round() as u64).collect())
                .collect()
        }
        None => {
            let mut out = vec![vec![0; n]; n];
            for (i, a) in r.names.iter().enumerate() {
                for (j, b) in r.names.iter().enumerate() {
                    let ms = published_rtt(a, b).ok_or_else(|| {
                        v.err(
                            "regions.rtt_ms",
                            format!(
                                "no published RTT between `{a}` and `{b}` (known: us-east, \
                                 us-west, eu-west, asia-southeast, sa-east): give `rtt_ms`"
                            ),
                        )
                    })?;
                    out[i][j] = (ms * 1e6) as u64;
                }
            }
            out
        }
    };
    let outage = match &r.outage {
        None => None,
        Some(o) => {
            let region = r.names.iter().position(|x| *x == o.region).ok_or_else(|| {
                v.err(
                    "regions.outage.region",
                    format!("no region named `{}`", o.region),
                )
                .suggest(&o.region, r.names.iter().map(String::as_str))
            })?;
            Some(Outage {
                region: region as u16,
                at: v.ns("regions.outage.at", &o.at)?,
                length: v.ns("regions.outage.for", &o.length)?,
            })
        }
    };
    Ok(RegionsSpec {
        names: r.names.clone(),
        rtt,
        detect: v.opt_ns("regions.detect", &r.detect)?.unwrap_or(DETECT_NS),
        dns_ttl: v
            .opt_ns("regions.dns_ttl", &r.dns_ttl)?
            .unwrap_or(DNS_TTL_NS),
        transfer_price_gb: v.non_negative(
            "regions.transfer_price_gb",
            r.transfer_price_gb.unwrap_or(TRANSFER_GB),
        )?,
        outage,
    })
}

/// Per class, the index of its clients' region.
pub(in crate::scenario::valid) fn class_regions(
    v: &V<'_>,
    raw: &RawScenario,
    regions: &RegionsSpec,
) -> Res<Vec<Option<u16>>> {
    raw.classes
        .iter()
        .map(|(name, c)| match &c.region {
            None => Ok(None),
            Some(r) => regions
                .names
                .iter()
                .position(|x| x == r)
                .map(|i| Some(i as u16))
                .ok_or_else(|| {
                    let e = v.err(
                        format!("classes.{name}.region"),
                        format!("no region named `{r}` (list it in `[regions] names`)"),
                    );
                    e.suggest(r, regions.names.iter().map(String::as_str))
                }),
        })
        .collect()
}

/// A broker acknowledges an append in about 2 ms (Kafka with `acks=all` inside one zone).
const APPEND_S: f64 = 2.0e-3;
/// Kafka's `auto.commit.interval.ms` default.
const COMMIT_NS: u64 = 5_000_000_000;
/// How often an idle consumer polls.
const POLL_NS: u64 = 100_000_000;
/// A compensation is retried after this long unless `undo_backoff` says otherwise.
const UNDO_BACKOFF_NS: u64 = 100_000_000;

/// `[topics]`, in name order.
pub(in crate::scenario::valid) fn topics(v: &V<'_>, raw: &RawScenario) -> Res<Vec<TopicSpec>> {
    raw.topics
        .iter()
        .map(|(name, t)| {
            let f = |k: &str| format!("topics.{name}.{k}");
            if !(1..=10_000).contains(&t.partitions) {
                return Err(v.err(
                    f("partitions"),
                    format!("must be between 1 and 10000, got {}", t.partitions),
                ));
            }
            let append = match &t.append {
                Some(d) => dist(v, &f("append"), d)?,
                None => Dist::Constant(APPEND_S),
            };
            Ok(TopicSpec {
                name: name.clone(),
                partitions: t.partitions as u32,
                append,
            })
        })
        .collect()
}

/// `[consumers]`, in name order: each group's topic, consumers and handler path.
pub(in crate::scenario::valid) fn groups(
    v: &V<'_>,
    raw: &RawScenario,
    services: &[String],
    keys: &KeyDist,
    shared: &mut Registry,
    declared: &Declared<'_>,
) -> Res<Vec<GroupSpec>> {
    let mut out = Vec::new();
    for (name, c) in &raw.consumers {
        let f = |k: &str| format!("consumers.{name}.{k}");
        let topic = declared
            .topics
            .iter()
            .position(|t| *t == c.topic)
            .ok_or_else(|| {
                v.err(
                    f("topic"),
                    format!(
                        "no topic named `{}` (define it under `[topics.{}]`)",
                        c.topic, c.topic
                    ),
                )
                .suggest(&c.topic, declared.topics.iter().map(String::as_str))
            })?;
        let service = service_index(v, &f("service"), &c.service, services)?;
        let class = format!("consumers.{name}");
        let path = Paths {
            v,
            services,
            keys: key_space(keys),
            class: &class,
            scopes: 0,
            shared: &mut *shared,
            tiers: declared.tiers,
            databases: declared.databases,
            pools: declared.pools,
            topics: declared.topics,
            regions: declared.regions,
            groups: declared.groups,
            region: None,
            // The processing visit comes first, at the consumer's instance.
            visited: vec![service],
        }
        .path(&f("path"), &c.path, 0)?;
        let attempts = c.attempts.unwrap_or(3);
        if !(1..=1000).contains(&attempts) {
            return Err(v.err(
                f("attempts"),
                format!("must be between 1 and 1000, got {attempts}"),
            ));
        }
        let poison = v.fraction(&f("poison"), c.poison.unwrap_or(0.0))?;
        let commit_interval = v
            .opt_ns(&f("commit_interval"), &c.commit_interval)?
            .unwrap_or(COMMIT_NS);
        let poll = v.opt_ns(&f("poll"), &c.poll)?.unwrap_or(POLL_NS);
        if poll == 0 {
            return Err(v.err(f("poll"), "must be longer than zero"));
        }
        out.push(GroupSpec {
            name: name.clone(),
            topic: topic as u32,
            service,
            path,
            attempts: attempts as u32,
            poison,
            commit_interval,
            poll,
        });
    }
    Ok(out)
}

impl Paths<'_> {
    fn region_index(&self, field: &str, name: &str) -> Res<u16> {
        self.regions
            .iter()
            .position(|x| x == name)
            .map(|i| i as u16)
            .ok_or_else(|| {
                self.v
                    .err(
                        field,
                        format!("no region named `{name}` (list it in `[regions] names`)"),
                    )
                    .suggest(name, self.regions.iter().map(String::as_str))
            })
    }

    fn kb(&self, field: &str, t: &RawSpecialStep) -> Res<f64> {
        self.v
            .non_negative(&format!("{field}.kb"), t.kb.unwrap_or(0.0))
    }

    /// `{ geo = { us-east = [...], eu-west = [...] }, kb = 60 }`.
    pub(super) fn geo_step(&mut self, field: &str, t: &RawSpecialStep, depth: usize) -> Res<Step> {
        let table = t.geo.as_ref().expect("present");
        if self.region.is_none() {
            return Err(self.v.err(
                format!("{field}.geo"),
                "a `geo` step routes by the clients' region: give the class a `region`",
            ));
        }
        if table.is_empty() {
            return Err(self
                .v
                .err(format!("{field}.geo"), "needs at least one region's path"));
        }
        let mut arms = vec![None; self.regions.len()];
        for (name, path) in table {
            let f = format!("{field}.geo.{name}");
            let r = self.region_index(&f, name)?;
            if path.is_empty() {
                return Err(self.v.err(f, "a region's path needs at least one step"));
            }
            arms[r as usize] = Some(self.path(&f, path, depth + 1)?);
        }
        Ok(Step::Geo(arms, self.kb(field, t)?))
    }

    /// `{ rtt = "us-east", kb = 2 }`.
    pub(super) fn rtt_step(&mut self, field: &str, t: &RawSpecialStep) -> Res<Step> {
        let name = t.rtt.as_deref().expect("present");
        let r = self.region_index(&format!("{field}.rtt"), name)?;
        if self.region.is_none() {
            return Err(self.v.err(
                format!("{field}.rtt"),
                "an `rtt` hop starts from the region serving the request: give the class a `region`",
            ));
        }
        Ok(Step::Rtt(r, self.kb(field, t)?))
    }

    /// `{ publish = "orders" }`.
    pub(super) fn publish_step(&mut self, field: &str, t: &RawSpecialStep) -> Res<Step> {
        let name = t.publish.as_deref().expect("present");
        let k = self.topics.iter().position(|x| x == name).ok_or_else(|| {
            self.v
                .err(
                    format!("{field}.publish"),
                    format!("no topic named `{name}` (define it under `[topics.{name}]`)"),
                )
                .suggest(name, self.topics.iter().map(String::as_str))
        })?;
        Ok(Step::Publish(k as u32))
    }

    /// `{ saga = "order", steps = [{ name, do, undo }, ...], undo_attempts, undo_backoff,
    /// hold = { from, to }, orchestrator }`.
    pub(super) fn saga_step(&mut self, field: &str, t: &RawSpecialStep, depth: usize) -> Res<Step> {
        let name = t.saga.as_deref().expect("present");
        let f = |k: &str| format!("{field}.{k}");
        if name.is_empty() {
            return Err(self
                .v
                .err(f("saga"), "a saga needs a name (its metrics' component)"));
        }
        if self.shared.sagas.iter().any(|s| s.name == name) {
            return Err(self.v.err(
                f("saga"),
                format!("a saga named `{name}` is already declared: saga names are unique"),
            ));
        }
        let raw_steps = t
            .steps
            .as_deref()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                self.v.err(
                    f("steps"),
                    "a saga needs `steps = [{ name, do = [...], undo = [...] }, ...]`",
                )
            })?;
        let choreography = match t.mode.as_deref() {
            None | Some("orchestration") => false,
            Some("choreography") => true,
            Some(other) => {
                return Err(self
                    .v
                    .err(f("mode"), format!("unknown mode `{other}`"))
                    .suggest(other, ["orchestration", "choreography"]));
            }
        };
        if choreography && t.orchestrator.is_some() {
            return Err(self.v.err(
                f("orchestrator"),
                "a choreography has no orchestrator: its participants' consumers run the steps",
            ));
        }
        let mut participants = Vec::new();
        let mut names: Vec<String> = Vec::new();
        let mut steps = Vec::new();
        for (i, s) in raw_steps.iter().enumerate() {
            let sf = |k: &str| format!("{field}.steps.{i}.{k}");
            if names.contains(&s.name) {
                return Err(self
                    .v
                    .err(sf("name"), format!("step `{}` is named twice", s.name)));
            }
            if s.run.is_empty() {
                return Err(self.v.err(sf("do"), "a step needs a non-empty `do` path"));
            }
            let last = i + 1 == raw_steps.len();
            if s.undo.is_none() && !last {
                return Err(self.v.err(
                    format!("{field}.steps.{i}"),
                    format!(
                        "step `{}` needs an `undo` path: a later step can fail, and then the \
                         saga compensates it (only the last step may go without)",
                        s.name
                    ),
                ));
            }
            let run = self.path(&sf("do"), &s.run, depth + 1)?;
            let undo = match &s.undo {
                Some(u) if u.is_empty() => {
                    return Err(self
                        .v
                        .err(sf("undo"), "an `undo` path needs at least one step"));
                }
                Some(u) => Some(self.path(&sf("undo"), u, depth + 1)?),
                None => None,
            };
            match (&s.by, choreography) {
                (Some(g), true) => {
                    let k = self.groups.iter().position(|x| x == g).ok_or_else(|| {
                        self.v
                            .err(
                                sf("by"),
                                format!("no consumer group named `{g}` (define it under `[consumers.{g}]`)"),
                            )
                            .suggest(g, self.groups.iter().map(String::as_str))
                    })?;
                    participants.push(k as u32);
                }
                (None, true) => {
                    return Err(self.v.err(
                        format!("{field}.steps.{i}"),
                        format!(
                            "in a choreography every step names its participant: `by = \"GROUP\"` \
                             (the consumer group that runs step `{}`)",
                            s.name
                        ),
                    ));
                }
                (Some(_), false) => {
                    return Err(self.v.err(
                        sf("by"),
                        "`by` names a choreography's participant: set `mode = \"choreography\"`",
                    ));
                }
                (None, false) => {}
            }
            names.push(s.name.clone());
            steps.push((run, undo));
        }
        let undo_attempts = t.undo_attempts.unwrap_or(3);
        if !(1..=MAX_ATTEMPTS).contains(&undo_attempts) {
            return Err(self.v.err(
                f("undo_attempts"),
                format!("must be between 1 and {MAX_ATTEMPTS}, got {undo_attempts}"),
            ));
        }
        let undo_backoff = self
            .v
            .opt_ns(&f("undo_backoff"), &t.undo_backoff)?
            .unwrap_or(UNDO_BACKOFF_NS);
        let step_of = |k: &str, s: &str| -> Res<usize> {
            names.iter().position(|n| n == s).ok_or_else(|| {
                self.v
                    .err(
                        format!("{field}.hold.{k}"),
                        format!("no step named `{s}` in this saga"),
                    )
                    .suggest(s, names.iter().map(String::as_str))
            })
        };
        let hold = match &t.hold {
            None => None,
            Some(h) => {
                let from = step_of("from", &h.from)?;
                let to = match &h.to {
                    Some(s) => step_of("to", s)?,
                    None => names.len(),
                };
                if to != names.len() && to <= from {
                    return Err(self.v.err(
                        f("hold.to"),
                        "the hold ends at a step after the one that takes it",
                    ));
                }
                Some((from, to))
            }
        };
        let orchestrator = match &t.orchestrator {
            None => None,
            Some(o) => {
                let n = self.service(&f("orchestrator"), o)?;
                if !self.visited.contains(&n) {
                    return Err(self.v.err(
                        f("orchestrator"),
                        format!(
                            "the orchestrator `{o}` holds the saga's state in one of its \
                             instances: visit it earlier on the path"
                        ),
                    ));
                }
                Some(n)
            }
        };
        let id = self.shared.sagas.len() as u32;
        self.shared.sagas.push(SagaConfig {
            name: name.to_string(),
            steps: names,
            undo_attempts: undo_attempts as u32,
            undo_backoff,
            hold,
            orchestrator,
            participants: choreography.then_some(participants),
        });
        Ok(Step::Saga(id, steps))
    }
}
