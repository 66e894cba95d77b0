//! `[caches.NAME]` tiers and the `cache` / `write` steps that use them.

use super::{Paths, Res, V, dist, service_index};
use crate::model::cache::{CacheSpec, MAX_KEY_SPACE, Policy, Ttl, TtlMode};
use crate::model::dist::Dist;
use crate::model::program::Step;
use crate::model::tiers::{Behind, Fill, ReadSpec, TierAt, TierSpec, WritePolicy, WriteSpec};
use crate::model::workload::KeyDist;
use crate::scenario::raw::{RawCache, RawScenario, RawSpecialStep};

/// `[caches]`: the tiers, in name order (their index is their place in that order).
pub(in crate::scenario::valid) fn tiers(
    v: &V<'_>,
    raw: &RawScenario,
    services: &[String],
    keys: &KeyDist,
) -> Res<Vec<TierSpec>> {
    raw.caches
        .iter()
        .map(|(name, c)| tier(v, name, c, services, keys))
        .collect()
}

fn tier(v: &V<'_>, name: &str, c: &RawCache, services: &[String], keys: &KeyDist) -> Res<TierSpec> {
    let f = |k: &str| format!("caches.{name}.{k}");
    let service = |k: &str, s: &str| service_index(v, &f(k), s, services);
    let at = match (&c.per_instance, &c.service) {
        (Some(s), None) => TierAt::Instance(service("per_instance", s)?),
        (None, Some(s)) => TierAt::Service(service("service", s)?),
        _ => {
            return Err(v.err(
                format!("caches.{name}"),
                "set exactly one of `per_instance = \"SERVICE\"` (a cache in each instance: \
                 an in-process L1) and `service = \"SERVICE\"` (one cache reached by visiting \
                 that service: Redis, a CDN edge)",
            ));
        }
    };
    let space = keys.space();
    if space == 0 {
        return Err(v.err(
            format!("caches.{name}"),
            "a cache needs request keys: set `workload.keys`",
        ));
    }
    if space > MAX_KEY_SPACE {
        return Err(v.err(
            "workload.keys.n",
            format!("a cache holds at most {MAX_KEY_SPACE} keys"),
        ));
    }
    if c.capacity < 1 {
        return Err(v.err(
            f("capacity"),
            format!("must be at least 1 entry, got {}", c.capacity),
        ));
    }
    let bytes = match c.bytes {
        Some(b) if b < 1 => {
            return Err(v.err(f("bytes"), format!("must be at least 1, got {b}")));
        }
        Some(b) => Some(b as u64),
        None => None,
    };
    let value_size = match (&c.value_size, bytes) {
        (Some(d), Some(_)) => Some(dist(v, &f("value_size"), d)?),
        (None, Some(_)) => {
            return Err(v.err(
                f("value_size"),
                "a byte limit needs the size of the values: `value_size = { dist = ... }` (bytes)",
            ));
        }
        // Sizes without a byte limit: the bytes served and filled are counted (and priced).
        (Some(d), None) => Some(dist(v, &f("value_size"), d)?),
        (None, None) => None,
    };
    let mut prices = [0.0; 2];
    for (i, (k, p)) in [("price_gb", c.price_gb), ("fill_price_gb", c.fill_price_gb)]
        .into_iter()
        .enumerate()
    {
        if let Some(p) = p {
            if !(p.is_finite() && p >= 0.0) {
                return Err(v.err(f(k), format!("must be a price of 0 or more, got {p}")));
            }
            if value_size.is_none() {
                return Err(v.err(
                    f(k),
                    "a price per GB needs the size of the values: `value_size = { dist = ... }` \
                     (bytes)",
                ));
            }
            prices[i] = p;
        }
    }
    let policy =
        Policy::parse(c.policy.as_deref().unwrap_or("lru")).map_err(|m| v.err(f("policy"), m))?;
    let ttl = match &c.ttl {
        None => {
            for (k, set) in [
                ("ttl_jitter", c.ttl_jitter.is_some()),
                ("ttl_restart_on_hit", c.ttl_restart_on_hit.is_some()),
            ] {
                if set {
                    return Err(v.err(f(k), "belongs with `ttl`"));
                }
            }
            None
        }
        Some(d) => {
            let ns = v.ns(&f("ttl"), d)?;
            if ns == 0 {
                return Err(v.err(f("ttl"), "must be longer than zero"));
            }
            let jitter = c.ttl_jitter.unwrap_or(0.0);
            if !(0.0..1.0).contains(&jitter) {
                return Err(v.err(
                    f("ttl_jitter"),
                    format!("must be in [0, 1) (a share of the TTL), got {jitter}"),
                ));
            }
            Some(Ttl {
                ns,
                jitter,
                mode: if c.ttl_restart_on_hit.unwrap_or(false) {
                    TtlMode::RestartOnHit
                } else {
                    TtlMode::FromInsert
                },
            })
        }
    };
    let shared = matches!(at, TierAt::Service(_));
    for (k, set) in [
        ("hit", c.hit.is_some()),
        ("miss", c.miss.is_some()),
        ("invalidation", c.invalidation.is_some()),
    ] {
        if shared && set {
            return Err(v.err(
                f(k),
                "belongs to an in-process tier (`per_instance`): a shared tier's lookup time \
                 is its service's visit, and writes reach it directly",
            ));
        }
    }
    let hit = match &c.hit {
        Some(d) => dist(v, &f("hit"), d)?,
        None => Dist::Constant(0.0),
    };
    let miss = match &c.miss {
        Some(d) => dist(v, &f("miss"), d)?,
        None => hit.clone(),
    };
    let invalidation = c
        .invalidation
        .as_ref()
        .map(|d| dist(v, &f("invalidation"), d))
        .transpose()?;
    let cache = CacheSpec {
        capacity: c.capacity as u64,
        bytes,
        policy,
        ttl,
    };
    cache
        .check()
        .map_err(|m| v.err(format!("caches.{name}"), m))?;
    Ok(TierSpec {
        name: name.to_string(),
        cache,
        at,
        hit,
        miss,
        value_size,
        invalidation,
        price_gb: prices[0],
        fill_price_gb: prices[1],
    })
}

impl Paths<'_> {
    /// The tiers a step names, in order: each known, none twice, in-process ones read where
    /// the request has visited their service.
    fn tier_list(&self, field: &str, names: &[String], reading: bool) -> Res<Vec<u32>> {
        let mut out: Vec<u32> = Vec::new();
        for (i, n) in names.iter().enumerate() {
            let at = format!("{field}.{i}");
            let Some(t) = self.tiers.iter().position(|t| &t.name == n) else {
                return Err(self
                    .v
                    .err(
                        &at,
                        format!("no cache named `{n}` (define it under `[caches.{n}]`)"),
                    )
                    .suggest(n, self.tiers.iter().map(|t| t.name.as_str())));
            };
            if out.contains(&(t as u32)) {
                return Err(self.v.err(
                    &at,
                    format!("`{n}` is listed twice: a tier order must not loop"),
                ));
            }
            if let TierAt::Instance(s) = self.tiers[t].at
                && !self.visited.contains(&s)
            {
                return Err(self.v.err(
                    &at,
                    format!(
                        "`{n}` lives in each instance of `{}`: {} must come after a visit to \
                         it (the request uses the cache of the instance that served it)",
                        self.services[s as usize],
                        if reading { "the read" } else { "the write" }
                    ),
                ));
            }
            out.push(t as u32);
        }
        Ok(out)
    }

    /// `{ cache = [tiers], load = [path], fill, single_flight, early_refresh,
    /// stale_while_revalidate, key_mod }`.
    pub(super) fn cache_read(
        &mut self,
        field: &str,
        t: &RawSpecialStep,
        depth: usize,
    ) -> Res<Step> {
        let f = |k: &str| format!("{field}.{k}");
        let names = t.cache.as_deref().unwrap_or(&[]);
        if names.is_empty() {
            return Err(self.v.err(f("cache"), "name at least one cache tier"));
        }
        let tiers = self.tier_list(&f("cache"), names, true)?;
        let load = t.load.as_deref().filter(|p| !p.is_empty()).ok_or_else(|| {
            self.v.err(
                f("load"),
                "a cached read needs `load = [...]`: the path that fetches the value on a miss \
                 (the database)",
            )
        })?;
        let fill = match t.fill.as_deref().unwrap_or("aside") {
            "aside" => Fill::Aside,
            "through" => Fill::Through,
            other => {
                return Err(self
                    .v
                    .err(f("fill"), format!("unknown fill `{other}`"))
                    .suggest(other, ["aside", "through"]));
            }
        };
        let early_refresh = match t.early_refresh {
            Some(b) if !(b.is_finite() && b > 0.0) => {
                return Err(self.v.err(
                    f("early_refresh"),
                    format!("XFetch's beta must be positive (1 is the usual), got {b}"),
                ));
            }
            b => b,
        };
        let swr = self
            .v
            .opt_ns(&f("stale_while_revalidate"), &t.stale_while_revalidate)?;
        if swr == Some(0) {
            return Err(self
                .v
                .err(f("stale_while_revalidate"), "must be longer than zero"));
        }
        if (early_refresh.is_some() || swr.is_some())
            && tiers
                .iter()
                .all(|&k| self.tiers[k as usize].cache.ttl.is_none())
        {
            return Err(self.v.err(
                f(if swr.is_some() {
                    "stale_while_revalidate"
                } else {
                    "early_refresh"
                }),
                "acts on expiring entries, but none of these tiers has a `ttl`",
            ));
        }
        let key_mod = match t.key_mod {
            None => 0,
            Some(m) if m >= 1 => m as u64,
            Some(m) => {
                return Err(self
                    .v
                    .err(f("key_mod"), format!("must be at least 1, got {m}")));
            }
        };
        let load = self.path(&f("load"), load, depth + 1)?;
        Ok(Step::CacheRead(Box::new(ReadSpec {
            key_mod,
            tiers,
            load,
            fill,
            single_flight: t.single_flight.unwrap_or(false),
            early_refresh,
            stale_while_revalidate: swr,
        })))
    }

    /// `{ write = [tiers], policy, store = [path], name, batch, interval, crash }`.
    pub(super) fn cache_write(
        &mut self,
        field: &str,
        t: &RawSpecialStep,
        depth: usize,
    ) -> Res<Step> {
        let f = |k: &str| format!("{field}.{k}");
        let tiers = self.tier_list(&f("write"), t.write.as_deref().unwrap_or(&[]), false)?;
        let policy = match t.policy.as_deref() {
            None => {
                return Err(self.v.err(
                    f("policy"),
                    "a write needs `policy`: `invalidate` (cache-aside: write the store, delete \
                     the key from the tiers), `through` (write the store and the tiers) or \
                     `behind` (write the tiers, queue the store write for a worker)",
                ));
            }
            Some(p) => match WritePolicy::NAMES.iter().position(|n| *n == p) {
                Some(0) => WritePolicy::Invalidate,
                Some(1) => WritePolicy::Through,
                Some(_) => WritePolicy::Behind,
                None => {
                    return Err(self
                        .v
                        .err(f("policy"), format!("unknown write policy `{p}`"))
                        .suggest(p, WritePolicy::NAMES));
                }
            },
        };
        let behind_only = [
            ("batch", t.batch.is_some()),
            ("interval", t.interval.is_some()),
            ("crash", t.crash.is_some()),
        ];
        if policy != WritePolicy::Behind
            && let Some((k, _)) = behind_only.iter().find(|k| k.1)
        {
            return Err(self.v.err(
                f(k),
                "belongs to `policy = \"behind\"` (the write-behind worker)",
            ));
        }
        let batch = t.batch.unwrap_or(100);
        if !(1..=1_000_000).contains(&batch) {
            return Err(self.v.err(
                f("batch"),
                format!("must be between 1 and 1000000 writes, got {batch}"),
            ));
        }
        let interval = match &t.interval {
            Some(d) => self.v.ns(&f("interval"), d)?,
            None => 1_000_000_000,
        };
        if interval == 0 {
            return Err(self.v.err(f("interval"), "must be longer than zero"));
        }
        let crash = match &t.crash {
            Some(c) => Some((
                self.v.ns(&f("crash.at"), &c.at)?,
                self.v.ns(&f("crash.restart"), &c.restart)?,
            )),
            None => None,
        };
        let store = t
            .store
            .as_deref()
            .filter(|p| !p.is_empty())
            .ok_or_else(|| {
                self.v.err(
                    f("store"),
                    "a write needs `store = [...]`: the path that writes the store (the database)",
                )
            })?;
        let store = self.path(&f("store"), store, depth + 1)?;
        Ok(Step::CacheWrite(Box::new(WriteSpec {
            name: t.name.clone().unwrap_or_else(|| "write-behind".to_string()),
            tiers,
            policy,
            store,
            behind: Behind {
                batch: batch as u32,
                interval,
                crash,
            },
        })))
    }
}
