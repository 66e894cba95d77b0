//! Cache tiers in paths: an L1 in each pod, a shared L2 (Redis), CDN edges, in front of the
//! data the requests read and write.
//!
//! A tier is a [`Cache`] (the pure policies of [`super::cache`]) placed either in every instance
//! of a service ([`TierAt::Instance`]: each pod warms its own, a pod that starts or restarts
//! starts cold) or once, reached by a visit to a service ([`TierAt::Service`]: Redis with its
//! own capacity and round trip). Paths use tiers through two steps:
//!
//! ```text
//! { cache = ["l1", "redis"], load = ["db"] }      read: L1, then Redis, then the load path;
//!                                                  a hit at tier i fills the tiers above it,
//!                                                  a load fills every tier
//! { write = ["l1", "redis"], policy = "through", store = ["db"] }
//!                                                  write: invalidate, write-through or
//!                                                  write-behind (a queue drained by a worker)
//! ```
//!
//! The data: every key has the version of its latest acknowledged write (`data`) and the
//! version the store holds (`db`): equal except while a write-behind worker has not yet
//! written it. A read returns a version: from a cache entry, or the store's at the moment its
//! load returned. It is **stale** when that version is older than `data[key]`, the same
//! definition the replica model and the real runs use (`stale_read_ratio`).
//!
//! Stampedes: with `single_flight`, concurrent misses of one key wait for the one load in
//! flight; `early_refresh = beta` is XFetch (Vattani, Chierichetti, Lowenstein, VLDB 2015): a
//! hit recomputes early with probability rising as the expiry nears, `now - delta * beta *
//! ln(u) >= expiry` with `delta` the step's mean load time; `stale_while_revalidate` serves an
//! entry up to that long past its expiry while one background load refreshes it.
//!
//! Per-key state (versions, commit times) is in flat arrays sized by the key space; a lookup
//! allocates nothing. This module holds the state and the bookkeeping; the system's
//! interpreter ([`super::system`]) decides when each happens.

use std::collections::HashMap;

use super::balance::hash64;
use super::cache::{Cache, CacheSpec, CacheStats, Lookup};
use super::dist::Dist;
use super::program::Step;
use crate::engine::Rng;
use crate::observe::ComponentStats;

/// Where a tier lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TierAt {
    /// One cache in each instance of service `i` (an in-process L1).
    Instance(u32),
    /// One cache, reached by visiting service `i` (Redis, a CDN edge).
    Service(u32),
}

/// A cache tier as the scenario describes it.
#[derive(Debug, Clone)]
pub struct TierSpec {
    /// Name (its component).
    pub name: String,
    /// Capacity, policy, TTL.
    pub cache: CacheSpec,
    /// Where it lives.
    pub at: TierAt,
    /// Time of a lookup that hits, and of one that misses (in-process tiers; a shared tier's
    /// lookup is its service's visit).
    pub hit: Dist,
    /// See `hit`.
    pub miss: Dist,
    /// Bytes of a key's value (when `cache.bytes` is set): drawn once per key.
    pub value_size: Option<Dist>,
    /// For an in-process tier: the delay of the pub/sub hop that tells the other instances of
    /// a write; `None`: they are not told (their entries live until their TTL).
    pub invalidation: Option<Dist>,
    /// Price per GB this tier serves (a CDN edge's egress), and per GB filled into it from
    /// below (the origin's egress); bytes from `value_size`.
    pub price_gb: f64,
    /// See `price_gb`.
    pub fill_price_gb: f64,
}

/// Who fills the tiers after a miss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fill {
    /// Cache-aside: the app writes the value into each shared tier that missed (one more visit
    /// to it, which the request waits for).
    Aside,
    /// Read-through: the cache loads and stores the value itself; the request pays nothing more.
    Through,
}

/// A read through tiers (`{ cache = [...], load = [...] }`).
#[derive(Debug, Clone)]
pub struct ReadSpec {
    /// Tiers in lookup order.
    pub tiers: Vec<u32>,
    /// The path that loads the value on a miss everywhere (the database).
    pub load: Vec<Step>,
    /// Who fills.
    pub fill: Fill,
    /// Concurrent misses of a key wait for the one load in flight.
    pub single_flight: bool,
    /// XFetch's beta.
    pub early_refresh: Option<f64>,
    /// Serve an entry this long past its expiry while a background load refreshes it, ns.
    pub stale_while_revalidate: Option<u64>,
    /// The cached entry is the request key modulo this: many keys share an entry (a search
    /// page per category). 0: each key is its own entry.
    pub key_mod: u64,
}

/// How a write treats the tiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WritePolicy {
    /// Write the store, then delete the key from every tier (cache-aside + invalidate).
    Invalidate,
    /// Write the store, then the new value into every tier (the write pays both).
    Through,
    /// Write the tiers and queue the write; a worker writes the store later, in batches.
    Behind,
}

impl WritePolicy {
    /// Names as scenarios spell them.
    pub const NAMES: [&'static str; 3] = ["invalidate", "through", "behind"];
}

/// The write-behind worker.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Behind {
    /// Writes per flush, at most.
    pub batch: u32,
    /// A flush starts at least this often while writes wait, ns (and at once when a batch is
    /// full).
    pub interval: u64,
    /// The worker crashes at this time (ns) and is back after the second, losing what it
    /// held.
    pub crash: Option<(u64, u64)>,
}

/// A write (`{ write = [...], policy = ..., store = [...] }`).
#[derive(Debug, Clone)]
pub struct WriteSpec {
    /// Name of its write-behind queue (steps of one name share it).
    pub name: String,
    /// Tiers it keeps in step.
    pub tiers: Vec<u32>,
    /// Policy.
    pub policy: WritePolicy,
    /// The path that writes the store.
    pub store: Vec<Step>,
    /// The write-behind worker (policy `behind`).
    pub behind: Behind,
}

/// Counters of one tier beyond the cache's own.
#[derive(Debug, Clone, Copy, Default)]
struct TierCounts {
    /// Served past expiry (stale-while-revalidate).
    grace_hits: u64,
    /// Hits that recomputed early (XFetch).
    early_refreshes: u64,
    /// Lookup time, ns, and lookups, for the latency a hit saves.
    lookup_ns: u64,
    lookups: u64,
    /// Bytes served by hits and bytes filled in (with a `value_size`).
    served_bytes: u64,
    filled_bytes: u64,
}

/// Counters of the data.
#[derive(Debug, Clone, Copy, Default)]
struct DataCounts {
    reads: u64,
    stale: u64,
    /// Sum and max of the age of the newest write a stale read missed, ns.
    stale_age_ns: u64,
    stale_age_max: u64,
    writes: u64,
    loads: u64,
    load_ns: u64,
    coalesced: u64,
    background_loads: u64,
}

/// An in-process cache of one instance, for the instance's current memory.
#[derive(Debug)]
struct Local {
    epoch: u32,
    cache: Cache,
}

/// A write-behind queue and its worker.
#[derive(Debug, Default)]
pub struct Queue {
    /// Name.
    pub name: String,
    /// Class and first pc of the store block its flushes run.
    pub store: (u16, u32),
    /// Worker settings.
    pub behind: Option<Behind>,
    waiting: std::collections::VecDeque<(u64, u64, u64)>,
    /// The batch being written: key, version, when it was queued.
    inflight: Vec<(u64, u64, u64)>,
    /// Increased by each crash: a flush of an earlier epoch is void.
    pub epoch: u64,
    busy: bool,
    down_until: u64,
    lost: u64,
    flushed: u64,
    flushes: u64,
    failed_flushes: u64,
    enqueued: u64,
    depth_max: u64,
    crashes: u64,
}

/// The tiers' state in one replication.
#[derive(Debug)]
pub struct Tiers {
    specs: Vec<TierSpec>,
    /// Per tier: whether a path uses it.
    used: Vec<bool>,
    key_space: u64,
    seed: u64,
    /// Per tier: the shared cache, or per instance slot its cache.
    shared: Vec<Option<Cache>>,
    local: Vec<Vec<Option<Local>>>,
    /// Stats of in-process caches dropped with their instance's memory.
    retired: Vec<CacheStats>,
    counts: Vec<TierCounts>,
    /// Latest acknowledged version, stored version, time of the latest write, per key.
    data: Vec<u64>,
    db: Vec<u64>,
    written_at: Vec<u64>,
    dc: DataCounts,
    /// Queues of write-behind steps, by global index.
    pub queues: Vec<Queue>,
    /// Loads in flight per key (single flight and background refresh): leader and the
    /// requests waiting for it (chained through their `next` field).
    flights: HashMap<u64, (u32, u32)>,
    /// Counters and gauges at the end of the warm-up and at the last sample.
    warm: Option<Box<Snapshot>>,
    sampled: Vec<(u64, u64)>,
}

#[derive(Debug, Clone)]
struct Snapshot {
    stats: Vec<CacheStats>,
    counts: Vec<TierCounts>,
    dc: DataCounts,
    queues: Vec<(u64, u64, u64, u64, u64, u64)>,
}

impl Tiers {
    /// The tiers of `specs` over keys `0..key_space`, of which paths use those marked in
    /// `used` (the others report nothing), and the write-behind queues named `queues` (class
    /// and store pc each).
    pub fn new(
        specs: &[TierSpec],
        used: Vec<bool>,
        key_space: u64,
        seed: u64,
        queues: Vec<(String, (u16, u32), Option<Behind>)>,
    ) -> Tiers {
        let n = specs.len();
        let keys = if specs.is_empty() && queues.is_empty() {
            0
        } else {
            key_space as usize
        };
        Tiers {
            shared: specs
                .iter()
                .enumerate()
                .map(|(i, s)| match s.at {
                    TierAt::Service(_) => Some(
                        Cache::new(&s.cache, key_space, hash64(seed ^ ((i as u64) << 40)))
                            .expect("validated cache"),
                    ),
                    TierAt::Instance(_) => None,
                })
                .collect(),
            local: (0..n).map(|_| Vec::new()).collect(),
            retired: vec![CacheStats::default(); n],
            counts: vec![TierCounts::default(); n],
            data: vec![0; keys],
            db: vec![0; keys],
            written_at: vec![0; keys],
            dc: DataCounts::default(),
            queues: queues
                .into_iter()
                .map(|(name, store, behind)| Queue {
                    name,
                    store,
                    behind,
                    ..Queue::default()
                })
                .collect(),
            flights: HashMap::new(),
            warm: None,
            sampled: vec![(0, 0); n],
            specs: specs.to_vec(),
            used,
            key_space,
            seed,
        }
    }

    /// Whether there is anything to report: no path reads or writes through tiers.
    pub fn is_empty(&self) -> bool {
        !self.used.contains(&true) && self.queues.is_empty()
    }

    /// Tier `t`'s spec.
    pub fn spec(&self, t: u32) -> &TierSpec {
        &self.specs[t as usize]
    }

    /// The cache of tier `t` a request at `instance` (memory `epoch`) uses: the shared one, or
    /// that instance's, made (cold) when the instance's memory is new. `None` when that memory
    /// is gone: the request left a pod that has since crashed or been replaced in its slot (a
    /// late fill must not wipe the new pod's cache).
    fn cache(&mut self, t: u32, instance: u32, epoch: u32) -> Option<&mut Cache> {
        let t = t as usize;
        if self.shared[t].is_some() {
            return self.shared[t].as_mut();
        }
        let slots = &mut self.local[t];
        let i = instance as usize;
        if slots.len() <= i {
            slots.resize_with(i + 1, || None);
        }
        if slots[i].as_ref().is_some_and(|l| l.epoch > epoch) {
            return None;
        }
        if slots[i].as_ref().is_none_or(|l| l.epoch != epoch) {
            if let Some(old) = slots[i].take() {
                add_stats(&mut self.retired[t], &old.cache.stats());
            }
            let seed =
                hash64(self.seed ^ ((t as u64) << 40) ^ ((i as u64) << 20) ^ u64::from(epoch));
            slots[i] = Some(Local {
                epoch,
                cache: Cache::new(&self.specs[t].cache, self.key_space, seed)
                    .expect("validated cache"),
            });
        }
        slots[i].as_mut().map(|l| &mut l.cache)
    }

    /// Looks `key` up in tier `t` for a request at `instance`: the version found on a hit.
    /// `grace` serves an expired entry up to that long past its expiry (reported as
    /// `refresh = true`: the caller starts a background load); `beta` is XFetch's, with
    /// `delta` the mean load time, and `u` a uniform draw for it.
    #[allow(clippy::too_many_arguments)]
    pub fn lookup(
        &mut self,
        t: u32,
        instance: u32,
        epoch: u32,
        key: u64,
        now: u64,
        grace: Option<u64>,
        early: Option<(f64, f64)>,
    ) -> TierAnswer {
        let answer = self.answer(t, instance, epoch, key, now, grace, early);
        if let TierAnswer::Hit { .. } = answer
            && self.specs[t as usize].value_size.is_some()
        {
            self.counts[t as usize].served_bytes += self.size(t, key);
        }
        answer
    }

    #[allow(clippy::too_many_arguments)]
    fn answer(
        &mut self,
        t: u32,
        instance: u32,
        epoch: u32,
        key: u64,
        now: u64,
        grace: Option<u64>,
        early: Option<(f64, f64)>,
    ) -> TierAnswer {
        let Some(cache) = self.cache(t, instance, epoch) else {
            return TierAnswer::Miss;
        };
        if let Some(g) = grace
            && let Some((version, expires)) = cache.peek(key)
            && now >= expires
            && now < expires.saturating_add(g)
        {
            self.counts[t as usize].grace_hits += 1;
            return TierAnswer::Hit {
                version,
                refresh: true,
            };
        }
        let expires = match early {
            Some(_) => cache.peek(key).map(|p| p.1),
            None => None,
        };
        match cache.lookup(key, now) {
            Lookup::Hit { version } => {
                if let (Some((beta, delta_u)), Some(exp)) = (early, expires)
                    && exp != u64::MAX
                    && now as f64 + delta_u * beta >= exp as f64
                {
                    self.counts[t as usize].early_refreshes += 1;
                    return TierAnswer::Miss;
                }
                TierAnswer::Hit {
                    version,
                    refresh: false,
                }
            }
            Lookup::Miss | Lookup::Expired => TierAnswer::Miss,
        }
    }

    /// Time a lookup took at tier `t`.
    pub fn lookup_time(&mut self, t: u32, ns: u64) {
        let c = &mut self.counts[t as usize];
        c.lookup_ns += ns;
        c.lookups += 1;
    }

    /// Stores `version` of `key` in tier `t` (for `instance`).
    pub fn fill(&mut self, t: u32, instance: u32, epoch: u32, key: u64, version: u64, now: u64) {
        let size = self.size(t, key);
        if self.specs[t as usize].value_size.is_some() {
            self.counts[t as usize].filled_bytes += size;
        }
        if let Some(c) = self.cache(t, instance, epoch) {
            c.insert(key, version, size, now);
        }
    }

    /// Deletes `key` from tier `t` (for `instance`).
    pub fn invalidate(&mut self, t: u32, instance: u32, epoch: u32, key: u64) {
        if let Some(c) = self.cache(t, instance, epoch) {
            c.invalidate(key);
        }
    }

    /// Deletes `key` from every instance's cache of in-process tier `t` but `except`'s (the
    /// pub/sub message arrived).
    pub fn invalidate_others(&mut self, t: u32, key: u64, except: u32) {
        for (i, l) in self.local[t as usize].iter_mut().enumerate() {
            if i as u32 != except
                && let Some(l) = l
            {
                l.cache.invalidate(key);
            }
        }
    }

    /// The bytes of `key`'s value in tier `t` (1 when the tier counts entries only): drawn from
    /// the tier's size distribution with the key's own stream, so a key keeps its size.
    fn size(&self, t: u32, key: u64) -> u64 {
        match &self.specs[t as usize].value_size {
            Some(d) => {
                let mut rng = Rng::seed_from(hash64(self.seed ^ key ^ (u64::from(t) << 48)));
                // The distribution's plain numbers are the bytes.
                d.sample_secs(&mut rng).max(1.0).round() as u64
            }
            None => 1,
        }
    }

    /// The version a load of `key` reads now, and that load took `ns`.
    pub fn load(&mut self, key: u64, ns: u64) -> u64 {
        self.dc.loads += 1;
        self.dc.load_ns += ns;
        self.db.get(key as usize).copied().unwrap_or(0)
    }

    /// A load that served no request of its own (a stale-while-revalidate refresh).
    pub fn background_load(&mut self) {
        self.dc.background_loads += 1;
    }

    /// The mean load time so far, ns (XFetch's delta), 1 ms before any load.
    pub fn mean_load_ns(&self) -> f64 {
        if self.dc.loads == 0 {
            1e6
        } else {
            self.dc.load_ns as f64 / self.dc.loads as f64
        }
    }

    /// A read of `key` returned `version` at `now`: counted, stale or not.
    pub fn read(&mut self, key: u64, version: u64, now: u64) {
        self.dc.reads += 1;
        let latest = self.data.get(key as usize).copied().unwrap_or(0);
        if version < latest {
            self.dc.stale += 1;
            let age = now.saturating_sub(self.written_at[key as usize]);
            self.dc.stale_age_ns += age;
            self.dc.stale_age_max = self.dc.stale_age_max.max(age);
        }
    }

    /// A write of `key` acknowledged at `now`: its new version. `stored`: the store has it
    /// too (not write-behind).
    pub fn write(&mut self, key: u64, now: u64, stored: bool) -> u64 {
        self.dc.writes += 1;
        let k = key as usize;
        if k >= self.data.len() {
            return 0;
        }
        self.data[k] += 1;
        self.written_at[k] = now;
        if stored {
            self.db[k] = self.data[k];
        }
        self.data[k]
    }

    /// A request waits for the load of `key` in flight, if any; else `leader` starts one.
    /// Returns the leader already loading.
    pub fn join_flight(&mut self, key: u64, leader: u32) -> Option<u32> {
        match self.flights.get(&key) {
            Some(&(l, _)) => {
                self.dc.coalesced += 1;
                Some(l)
            }
            None => {
                self.flights.insert(key, (leader, u32::MAX));
                None
            }
        }
    }

    /// Whether a load of `key` is in flight.
    pub fn in_flight(&self, key: u64) -> bool {
        self.flights.contains_key(&key)
    }

    /// The head of the waiters' chain of `key`'s flight; replaced by `head`.
    pub fn swap_waiters(&mut self, key: u64, head: u32) -> u32 {
        match self.flights.get_mut(&key) {
            Some(f) => std::mem::replace(&mut f.1, head),
            None => u32::MAX,
        }
    }

    /// Ends `key`'s flight if `leader` leads it (a load that did not register, because
    /// another was in flight, ends nothing): the head of its waiters' chain.
    pub fn end_flight(&mut self, key: u64, leader: u32) -> u32 {
        match self.flights.get(&key) {
            Some(&(l, head)) if l == leader => {
                self.flights.remove(&key);
                head
            }
            _ => u32::MAX,
        }
    }

    /// Queues a write-behind write on queue `q`; whether a batch is now full.
    pub fn enqueue(&mut self, q: u32, key: u64, version: u64, now: u64) -> bool {
        let q = &mut self.queues[q as usize];
        q.waiting.push_back((key, version, now));
        q.enqueued += 1;
        q.depth_max = q.depth_max.max(q.waiting.len() as u64);
        let batch = q.behind.map_or(1, |b| b.batch) as usize;
        q.waiting.len() >= batch
    }

    /// Takes the next batch of queue `q` for a flush, unless the worker is busy, down or has
    /// nothing to write.
    pub fn start_flush(&mut self, q: u32, now: u64) -> bool {
        let q = &mut self.queues[q as usize];
        if q.busy || now < q.down_until || q.waiting.is_empty() {
            return false;
        }
        let batch = q.behind.map_or(1, |b| b.batch) as usize;
        q.inflight.clear();
        while q.inflight.len() < batch
            && let Some(w) = q.waiting.pop_front()
        {
            q.inflight.push(w);
        }
        q.busy = true;
        q.flushes += 1;
        true
    }

    /// The flush of queue `q` started in `epoch` ended (`ok`: the store has the batch).
    /// Returns whether the worker should flush again at once (a full batch waits).
    pub fn end_flush(&mut self, q: u32, epoch: u64, ok: bool) -> bool {
        let queue = &mut self.queues[q as usize];
        if queue.epoch != epoch {
            return false;
        }
        queue.busy = false;
        if ok {
            queue.flushed += queue.inflight.len() as u64;
            for &(k, v, _) in &queue.inflight {
                if let Some(d) = self.db.get_mut(k as usize) {
                    *d = (*d).max(v);
                }
            }
            queue.inflight.clear();
        } else {
            queue.failed_flushes += 1;
            // Back to the front, in order, for the next flush.
            for &w in queue.inflight.iter().rev() {
                queue.waiting.push_front(w);
            }
            queue.inflight.clear();
        }
        let batch = queue.behind.map_or(1, |b| b.batch) as usize;
        queue.waiting.len() >= batch
    }

    /// The worker of queue `q` crashes at `now` and is back at `until`: the writes it held
    /// (waiting, and the batch being written) are lost, counted.
    pub fn crash(&mut self, q: u32, now: u64, until: u64) {
        let queue = &mut self.queues[q as usize];
        queue.lost += (queue.waiting.len() + queue.inflight.len()) as u64;
        queue.waiting.clear();
        queue.inflight.clear();
        queue.epoch += 1;
        queue.busy = false;
        queue.crashes += 1;
        queue.down_until = until.max(now);
    }

    /// Gauge names, in the order [`Tiers::sample`] pushes values.
    pub fn gauge_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .specs
            .iter()
            .zip(&self.used)
            .filter(|(_, u)| **u)
            .map(|(s, _)| format!("hit_ratio.{}", s.name))
            .collect();
        for q in &self.queues {
            if q.behind.is_some() {
                names.push(format!("queue_depth.{}", q.name));
                names.push(format!("queue_age_ms.{}", q.name));
            }
        }
        names
    }

    /// Each tier's hit ratio since the last sample (0 without lookups), and each write-behind
    /// queue's depth and the age of its oldest write.
    pub fn sample(&mut self, now: u64, out: &mut Vec<f64>) {
        for t in 0..self.specs.len() {
            if !self.used[t] {
                continue;
            }
            let s = self.stats(t);
            let (h, m) = (s.hits + self.counts[t].grace_hits, s.misses);
            let (h0, m0) = self.sampled[t];
            let (dh, dm) = (h.saturating_sub(h0), m.saturating_sub(m0));
            out.push(if dh + dm == 0 {
                0.0
            } else {
                dh as f64 / (dh + dm) as f64
            });
            self.sampled[t] = (h, m);
        }
        for q in &self.queues {
            if q.behind.is_some() {
                out.push(q.waiting.len() as f64);
                out.push(
                    q.waiting
                        .front()
                        .map_or(0.0, |w| now.saturating_sub(w.2) as f64 / 1e6),
                );
            }
        }
    }

    /// Tier `t`'s counters over all its caches (dropped ones included).
    fn stats(&self, t: usize) -> CacheStats {
        let mut s = self.retired[t];
        match &self.shared[t] {
            Some(c) => add_stats(&mut s, &c.stats()),
            None => {
                for l in self.local[t].iter().flatten() {
                    add_stats(&mut s, &l.cache.stats());
                }
            }
        }
        s
    }

    /// Marks the end of the warm-up: metrics count from here.
    pub fn mark_warm(&mut self) {
        self.warm = Some(Box::new(self.snapshot()));
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            stats: (0..self.specs.len()).map(|t| self.stats(t)).collect(),
            counts: self.counts.clone(),
            dc: self.dc,
            queues: self
                .queues
                .iter()
                .map(|q| {
                    (
                        q.lost,
                        q.flushed,
                        q.flushes,
                        q.failed_flushes,
                        q.enqueued,
                        q.crashes,
                    )
                })
                .collect(),
        }
    }

    /// Components: each tier (`kind = "cache"`), the data (`"data"`), each write-behind queue
    /// (`"write_behind"`), with the counts of the measured window.
    pub fn metrics(&self, window_ns: u64) -> Vec<ComponentStats> {
        if self.is_empty() {
            return Vec::new();
        }
        let now = self.snapshot();
        let zero = Snapshot {
            stats: vec![CacheStats::default(); self.specs.len()],
            counts: vec![TierCounts::default(); self.specs.len()],
            dc: DataCounts::default(),
            queues: vec![(0, 0, 0, 0, 0, 0); self.queues.len()],
        };
        let warm = self.warm.as_deref().unwrap_or(&zero);
        let dc = sub_data(&now.dc, &warm.dc);
        let mean_load = if dc.loads == 0 {
            0.0
        } else {
            dc.load_ns as f64 / dc.loads as f64
        };
        let mut out = Vec::new();
        // The time a hit at tier t saves: what the rest would have taken, E_t = L_{t+1} +
        // (1 - h_{t+1}) E_{t+1}, from the deepest tier (E = the mean load) up. Tiers are
        // listed in lookup order only within a read; across reads this uses the order of
        // definition, which the validation keeps consistent.
        let n = self.specs.len();
        let mut below = vec![0.0; n];
        let mut acc = mean_load;
        for t in (0..n).rev() {
            below[t] = acc;
            let c = sub_counts(&now.counts[t], &warm.counts[t]);
            let s = sub_stats(&now.stats[t], &warm.stats[t]);
            let lookup = if c.lookups == 0 {
                0.0
            } else {
                c.lookup_ns as f64 / c.lookups as f64
            };
            let h = ratio(s.hits + c.grace_hits, s.hits + c.grace_hits + s.misses);
            acc = lookup + (1.0 - h) * acc;
        }
        for (t, spec) in self.specs.iter().enumerate() {
            if !self.used[t] {
                continue;
            }
            let c = sub_counts(&now.counts[t], &warm.counts[t]);
            let s = sub_stats(&now.stats[t], &warm.stats[t]);
            let hits = s.hits + c.grace_hits;
            let mut m = vec![
                ("hit_ratio".to_string(), ratio(hits, hits + s.misses)),
                ("hits".into(), hits as f64),
                ("misses".into(), s.misses as f64),
                ("evictions".into(), s.evictions as f64),
                ("expirations".into(), s.expirations as f64),
                ("invalidations".into(), s.invalidations as f64),
                ("entries".into(), now.stats[t].entries as f64),
                ("grace_hits".into(), c.grace_hits as f64),
                ("early_refreshes".into(), c.early_refreshes as f64),
                ("saved_ms_per_hit".into(), below[t] / 1e6),
                ("saved_s".into(), hits as f64 * below[t] / 1e9),
            ];
            if spec.value_size.is_some() {
                let (served, filled) = (c.served_bytes as f64 / 1e9, c.filled_bytes as f64 / 1e9);
                let hours = window_ns.max(1) as f64 / 3.6e12;
                let cost = served * spec.price_gb + filled * spec.fill_price_gb;
                m.push(("served_gb".into(), served));
                m.push(("filled_gb".into(), filled));
                m.push((
                    "byte_hit_ratio".into(),
                    served / (served + filled).max(1e-300),
                ));
                m.push(("egress_cost_per_hour".into(), cost / hours));
            }
            out.push(component(spec.name.clone(), "cache", m));
        }
        let lost: u64 = self
            .queues
            .iter()
            .zip(&now.queues)
            .zip(&warm.queues)
            .map(|((_, a), b)| a.0 - b.0)
            .sum();
        out.push(component(
            "data".to_string(),
            "data",
            vec![
                ("reads".into(), dc.reads as f64),
                ("stale_reads".into(), dc.stale as f64),
                ("stale_read_ratio".into(), ratio(dc.stale, dc.reads)),
                (
                    "stale_age_ms_mean".into(),
                    if dc.stale == 0 {
                        0.0
                    } else {
                        dc.stale_age_ns as f64 / dc.stale as f64 / 1e6
                    },
                ),
                ("stale_age_ms_max".into(), now.dc.stale_age_max as f64 / 1e6),
                ("writes".into(), dc.writes as f64),
                ("loads".into(), dc.loads as f64),
                ("load_ms_mean".into(), mean_load / 1e6),
                ("coalesced".into(), dc.coalesced as f64),
                ("background_loads".into(), dc.background_loads as f64),
                ("writes_lost".into(), lost as f64),
            ],
        ));
        for (k, q) in self.queues.iter().enumerate() {
            if q.behind.is_none() {
                continue;
            }
            let (a, b) = (now.queues[k], warm.queues[k]);
            out.push(component(
                q.name.clone(),
                "write_behind",
                vec![
                    ("enqueued".into(), (a.4 - b.4) as f64),
                    ("flushed".into(), (a.1 - b.1) as f64),
                    ("flushes".into(), (a.2 - b.2) as f64),
                    ("failed_flushes".into(), (a.3 - b.3) as f64),
                    ("writes_lost".into(), (a.0 - b.0) as f64),
                    ("crashes".into(), (a.5 - b.5) as f64),
                    ("queue_depth_max".into(), q.depth_max as f64),
                    ("queue_depth_last".into(), q.waiting.len() as f64),
                    ("inflight_last".into(), q.inflight.len() as f64),
                ],
            ));
        }
        out
    }
}

/// The answer of a tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TierAnswer {
    /// Found: the version; `refresh` when it was served past its expiry and a background load
    /// should refresh it.
    Hit {
        /// Version found.
        version: u64,
        /// Start a background refresh.
        refresh: bool,
    },
    /// Not found (or expired, or refreshed early): look further down.
    Miss,
}

fn component(name: String, kind: &'static str, metrics: Vec<(String, f64)>) -> ComponentStats {
    ComponentStats {
        name,
        kind,
        metrics,
        ..ComponentStats::default()
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

fn add_stats(a: &mut CacheStats, b: &CacheStats) {
    a.hits += b.hits;
    a.misses += b.misses;
    a.evictions += b.evictions;
    a.expirations += b.expirations;
    a.invalidations += b.invalidations;
    a.rejections += b.rejections;
    a.entries += b.entries;
    a.bytes += b.bytes;
}

fn sub_stats(a: &CacheStats, b: &CacheStats) -> CacheStats {
    CacheStats {
        hits: a.hits - b.hits,
        misses: a.misses - b.misses,
        evictions: a.evictions - b.evictions,
        expirations: a.expirations - b.expirations,
        invalidations: a.invalidations - b.invalidations,
        rejections: a.rejections - b.rejections,
        entries: a.entries,
        bytes: a.bytes,
    }
}

fn sub_counts(a: &TierCounts, b: &TierCounts) -> TierCounts {
    TierCounts {
        grace_hits: a.grace_hits - b.grace_hits,
        served_bytes: a.served_bytes - b.served_bytes,
        filled_bytes: a.filled_bytes - b.filled_bytes,
        early_refreshes: a.early_refreshes - b.early_refreshes,
        lookup_ns: a.lookup_ns - b.lookup_ns,
        lookups: a.lookups - b.lookups,
    }
}

fn sub_data(a: &DataCounts, b: &DataCounts) -> DataCounts {
    DataCounts {
        reads: a.reads - b.reads,
        stale: a.stale - b.stale,
        stale_age_ns: a.stale_age_ns - b.stale_age_ns,
        stale_age_max: a.stale_age_max,
        writes: a.writes - b.writes,
        loads: a.loads - b.loads,
        load_ns: a.load_ns - b.load_ns,
        coalesced: a.coalesced - b.coalesced,
        background_loads: a.background_loads - b.background_loads,
    }
}
