//! Event-driven fan-out: topics with partitions, and consumer groups that read them.
//!
//! ```text
//! [topics.orders]
//! partitions = 12                   a message goes to partition hash(key) mod 12
//! append = "2ms"                    the publisher waits this long for the broker's ack
//!
//! [consumers.email]                 a consumer group: every group gets every message
//! topic = "orders"
//! service = "email-worker"          its consumers are that service's ready instances
//! path = ["smtp"]                   after the processing visit at the consumer itself
//! attempts = 3                      then the message goes to the dead-letter queue
//! poison = 0.001                    share of messages that fail every attempt
//! commit_interval = "5s"            offsets committed this often (0: after each message)
//! poll = "100ms"                    how often idle consumers look for work
//!
//! path = ["app", { publish = "orders" }]
//! ```
//!
//! # Delivery
//!
//! Each group keeps, per partition, the messages not yet processed, in publish order. The
//! partitions are spread over the group's live consumers (the ready instances of `service`,
//! in instance order: partition `p` goes to the `p mod n`-th), so the consumers beyond the
//! partition count idle, as Kafka's do. A consumer processes one message at a time and a
//! partition has at most one message in processing, so messages of one partition are
//! processed in order. Processing is a hidden background request: a visit to the consumer's
//! own instance (its service time is the per-message work), then the group's `path` (calls to
//! other services). It succeeds or fails like any path; a poison message fails after its work.
//! A failed message is retried at once, in place (the partition waits), up to `attempts`; then
//! it goes to the dead-letter queue and the partition moves on.
//!
//! At-least-once: a processed message is acknowledged when its offset is committed, every
//! `commit_interval`. When a consumer's instance crashes, the messages it processed since the
//! last commit, and the one it was processing, go back to the head of their partitions and
//! are delivered again (`redelivered`); a message processed successfully twice counts in
//! `duplicates`. A consumer that leaves gracefully (scaled in) commits first: no duplicates.
//! A group looks for crashed consumers, commits, and hands idle consumers work every `poll`,
//! and also at once whenever a message is published or processed.
//!
//! # Scaling
//!
//! The messages waiting in a group count in its service's queue, so the existing controllers
//! scale consumers on the lag: the guide's rule (queue above 1,000: double the workers) is a
//! `scale` controller rule, and a KEDA-style scaler is an HPA on an External metric measuring
//! `queue` with an `AverageValue` target (lag per consumer), whose `maxReplicas` is the
//! partition count.
//!
//! # Metrics
//!
//! Component `NAME` (kind `consumers`), over the measured window: `published`, `consumed`
//! (processed and not delivered again since), `duplicates`, `redelivered`, `retries`, `dlq`,
//! `in_queue` and `in_flight` (at the end), `lag_mean` and `lag_max` (messages waiting),
//! `oldest_age_ms_max`, `e2e_ms_mean`, `e2e_ms_p99`, `e2e_ms_max` (publish to the first
//! successful processing), `drain_s` (from the largest lag to the first time it is back under
//! 1 % of it; the rest of the run if never), `consumers_mean` (live consumers). Gauges:
//! `lag.NAME`, `oldest_age_ms.NAME`. Component `TOPIC` (kind `topic`): `published`.

use std::collections::VecDeque;

use super::dist::Dist;
use super::program::Step;
use super::replication::LagStats;
use crate::engine::Rng;

/// A topic.
#[derive(Debug, Clone)]
pub struct TopicSpec {
    /// Name.
    pub name: String,
    /// Partitions.
    pub partitions: u32,
    /// Time the publisher waits for the broker's acknowledgement.
    pub append: Dist,
}

/// A consumer group.
#[derive(Debug, Clone)]
pub struct GroupSpec {
    /// Name (its component).
    pub name: String,
    /// The topic it reads (index).
    pub topic: u32,
    /// The service whose ready instances are its consumers.
    pub service: u32,
    /// What processing calls after the consumer's own visit.
    pub path: Vec<Step>,
    /// Processing attempts of a message in all, before the dead-letter queue.
    pub attempts: u32,
    /// Share of messages that fail every attempt.
    pub poison: f64,
    /// Offsets are committed this often, ns (0: after each message).
    pub commit_interval: u64,
    /// Idle consumers look for work this often, ns.
    pub poll: u64,
}

/// A message in a group's partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Msg {
    /// When it was published, ns.
    pub published: u64,
    /// Its key.
    pub key: u64,
    /// Failed processing attempts so far.
    pub attempts: u32,
    /// It was processed successfully before (and is delivered again).
    pub done_before: bool,
    /// It fails every attempt.
    pub poison: bool,
    /// A choreographed saga's event: the saga request's handle, the block its consumer runs,
    /// and whether it is a compensation (run without the client's deadline).
    pub cont: Option<(u64, u32, bool)>,
}

impl Msg {
    /// A message of `key` published at `now`, never processed yet.
    fn new(now: u64, key: u64, poison: bool, cont: Option<(u64, u32, bool)>) -> Msg {
        Msg {
            published: now,
            key,
            attempts: 0,
            done_before: false,
            poison,
            cont,
        }
    }
}

/// A message being processed.
#[derive(Debug, Clone, Copy)]
pub struct InFlight {
    /// The message.
    pub msg: Msg,
    /// Its partition.
    pub partition: u32,
    /// The processing request's handle.
    pub handle: u64,
}

#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    published: u64,
    consumed: u64,
    duplicates: u64,
    redelivered: u64,
    retries: u64,
    dlq: u64,
}

/// One group's state.
#[derive(Debug, Clone)]
pub struct Group {
    /// Configuration.
    pub spec: GroupSpec,
    queues: Vec<VecDeque<Msg>>,
    busy: Vec<bool>,
    uncommitted: Vec<Vec<Msg>>,
    last_owner: Vec<u32>,
    /// Per consumer slot: the message it processes.
    pub inflight: Vec<Option<InFlight>>,
    /// Per consumer slot: the memory epoch it was last seen alive in.
    pub seen: Vec<Option<u32>>,
    queued: u64,
    next_partition: u32,
    last_commit: u64,
    counts: Counts,
    warm: Counts,
    e2e: LagStats,
    lag_area: f64,
    consumers_area: f64,
    last: u64,
    live: u32,
    lag_max: u64,
    oldest_max: u64,
    peak: (u64, u64),
    drained_at: Option<u64>,
    measuring: bool,
    rng: Rng,
}

impl Group {
    fn new(spec: GroupSpec, partitions: u32, rng: Rng) -> Group {
        let p = partitions as usize;
        Group {
            spec,
            queues: vec![VecDeque::new(); p],
            busy: vec![false; p],
            uncommitted: vec![Vec::new(); p],
            last_owner: vec![u32::MAX; p],
            inflight: Vec::new(),
            seen: Vec::new(),
            queued: 0,
            next_partition: 0,
            last_commit: 0,
            counts: Counts::default(),
            warm: Counts::default(),
            e2e: LagStats::default(),
            lag_area: 0.0,
            consumers_area: 0.0,
            last: 0,
            live: 0,
            lag_max: 0,
            oldest_max: 0,
            peak: (0, 0),
            drained_at: None,
            measuring: false,
            rng,
        }
    }

    /// Messages waiting (not in processing).
    #[inline]
    pub fn queued(&self) -> u64 {
        self.queued
    }

    fn account(&mut self, now: u64) {
        if self.measuring {
            let dt = now.saturating_sub(self.last) as f64;
            self.lag_area += dt * self.queued as f64;
            self.consumers_area += dt * f64::from(self.live);
        }
        self.last = now;
    }

    fn lag_changed(&mut self, now: u64) {
        if !self.measuring {
            return;
        }
        self.lag_max = self.lag_max.max(self.queued);
        if self.queued > self.peak.0 {
            self.peak = (self.queued, now);
            self.drained_at = None;
        } else if self.drained_at.is_none() && self.queued * 100 <= self.peak.0 {
            self.drained_at = Some(now);
        }
    }

    fn push(&mut self, now: u64, p: usize, msg: Msg) {
        self.account(now);
        self.queues[p].push_back(msg);
        self.queued += 1;
        self.lag_changed(now);
    }

    /// Sends a choreographed saga's event (`cont`) to this group, in the partition of `key`.
    pub fn send(&mut self, now: u64, key: u64, cont: (u64, u32, bool)) {
        let p = (super::balance::hash64(key) % self.queues.len() as u64) as usize;
        self.counts.published += 1;
        self.push(now, p, Msg::new(now, key, false, Some(cont)));
    }

    /// The live consumers changed to `live`.
    pub fn set_live(&mut self, now: u64, live: u32) {
        if live != self.live {
            self.account(now);
            self.live = live;
        }
    }

    /// The next message for consumer `c`, the `k`-th of `n` live ones: the head of a partition
    /// it owns that is not in processing. Takes it out of its queue.
    pub fn take(&mut self, now: u64, c: u32, k: u32, n: u32) -> Option<(u32, Msg)> {
        if self.queued == 0 {
            // Every queue is empty (`queued` counts them all): no partition to scan.
            return None;
        }
        let parts = self.queues.len() as u32;
        let start = self.next_partition;
        for p in owned(start, parts, k, n) {
            if self.busy[p as usize] {
                continue;
            }
            let Some(msg) = self.queues[p as usize].pop_front() else {
                continue;
            };
            self.account(now);
            self.queued -= 1;
            self.lag_changed(now);
            self.busy[p as usize] = true;
            if self.last_owner[p as usize] != c {
                // The partition moved (a rebalance): its previous owner committed.
                self.uncommitted[p as usize].clear();
                self.last_owner[p as usize] = c;
            }
            self.next_partition = (p + 1) % parts;
            return Some((p, msg));
        }
        None
    }

    /// Whether some partition has a message waiting and no message in processing.
    pub fn has_work(&self) -> bool {
        self.queued > 0
            && self
                .queues
                .iter()
                .zip(&self.busy)
                .any(|(q, b)| !b && !q.is_empty())
    }

    /// Processing of consumer `c`'s message ended (`ok`); `counts_attempt` is false when the
    /// consumer's instance went down under it. Frees the partition.
    pub fn processed(&mut self, now: u64, c: u32, ok: bool, counts_attempt: bool) {
        let Some(f) = self.inflight[c as usize].take() else {
            return;
        };
        let p = f.partition as usize;
        self.busy[p] = false;
        let mut msg = f.msg;
        if ok && !msg.poison {
            if self.measuring && !msg.done_before {
                self.e2e.record(now.saturating_sub(msg.published));
            }
            self.counts.consumed += 1;
            if msg.done_before {
                self.counts.duplicates += 1;
            }
            msg.done_before = true;
            // A saga's event moves the saga on: its offset is committed with the next event.
            if self.spec.commit_interval > 0 && msg.cont.is_none() {
                self.uncommitted[p].push(msg);
            }
            return;
        }
        if counts_attempt {
            msg.attempts += 1;
        } else {
            // Its consumer went down under it: delivered again, not a failed attempt.
            self.counts.redelivered += 1;
        }
        if msg.attempts >= self.spec.attempts {
            self.counts.dlq += 1;
            return;
        }
        self.counts.retries += u64::from(counts_attempt);
        self.account(now);
        self.queues[p].push_front(msg);
        self.queued += 1;
        self.lag_changed(now);
    }

    /// Consumer `c` crashed: what it processed since the last commit, and what it was
    /// processing, go back to the head of their partitions. Returns the handle of the
    /// processing request to abandon.
    pub fn crashed(&mut self, now: u64, c: u32) -> Option<u64> {
        self.account(now);
        let mut abandoned = None;
        if let Some(f) = self.inflight[c as usize].take() {
            let p = f.partition as usize;
            self.busy[p] = false;
            self.queues[p].push_front(f.msg);
            self.queued += 1;
            self.counts.redelivered += 1;
            abandoned = Some(f.handle);
        }
        for p in 0..self.queues.len() {
            if self.last_owner[p] != c {
                continue;
            }
            let back = std::mem::take(&mut self.uncommitted[p]);
            self.counts.redelivered += back.len() as u64;
            self.counts.consumed -= back.len() as u64;
            self.queued += back.len() as u64;
            for m in back.into_iter().rev() {
                self.queues[p].push_front(m);
            }
            self.last_owner[p] = u32::MAX;
        }
        self.lag_changed(now);
        abandoned
    }

    /// Commits every processed offset if the commit interval has passed.
    pub fn maybe_commit(&mut self, now: u64) {
        if now >= self.last_commit + self.spec.commit_interval {
            for u in &mut self.uncommitted {
                u.clear();
            }
            self.last_commit = now;
        }
    }

    /// Commits what consumer `c` processed (it leaves gracefully).
    pub fn commit_of(&mut self, c: u32) {
        for p in 0..self.queues.len() {
            if self.last_owner[p] == c {
                self.uncommitted[p].clear();
                self.last_owner[p] = u32::MAX;
            }
        }
    }

    /// Messages in processing.
    pub fn in_flight(&self) -> u64 {
        self.inflight.iter().filter(|f| f.is_some()).count() as u64
    }

    /// Age of the oldest message waiting at `now`, ns.
    pub fn oldest_age(&self, now: u64) -> u64 {
        self.queues
            .iter()
            .filter_map(|q| q.front())
            .map(|m| now.saturating_sub(m.published))
            .max()
            .unwrap_or(0)
    }

    /// Whole-run totals, for invariants: (published, consumed, dlq, queued, in flight,
    /// duplicates, redelivered).
    pub fn totals(&self) -> [u64; 7] {
        let c = &self.counts;
        [
            c.published,
            c.consumed,
            c.dlq,
            self.queued,
            self.in_flight(),
            c.duplicates,
            c.redelivered,
        ]
    }
}

/// A component's name, kind and named metrics.
pub type Component = (String, &'static str, Vec<(String, f64)>);

/// Every topic and group of a replication.
#[derive(Debug, Clone)]
pub struct Topics {
    /// Topics.
    pub topics: Vec<TopicSpec>,
    /// Groups.
    pub groups: Vec<Group>,
    /// Per topic: its groups.
    subscribers: Vec<Vec<usize>>,
    published: Vec<(u64, u64)>,
    rng: Rng,
}

impl Topics {
    /// The topics and groups, with their random streams seeded from `seed`.
    pub fn new(topics: Vec<TopicSpec>, groups: Vec<GroupSpec>, seed: u64) -> Topics {
        let mut subscribers = vec![Vec::new(); topics.len()];
        for (g, s) in groups.iter().enumerate() {
            subscribers[s.topic as usize].push(g);
        }
        let groups = groups
            .into_iter()
            .map(|s| {
                let parts = topics[s.topic as usize].partitions;
                let rng = Rng::stream(seed, &format!("consumers.{}", s.name));
                Group::new(s, parts, rng)
            })
            .collect();
        Topics {
            published: vec![(0, 0); topics.len()],
            topics,
            groups,
            subscribers,
            rng: Rng::stream(seed, "router.topics"),
        }
    }

    /// Publishes a message of `key` to topic `t` at `now`: every group gets it. Returns the
    /// broker's acknowledgement delay, ns.
    pub fn publish(&mut self, t: usize, key: u64, now: u64) -> u64 {
        let parts = u64::from(self.topics[t].partitions);
        let p = (super::balance::hash64(key) % parts) as usize;
        self.published[t].0 += 1;
        for &g in &self.subscribers[t] {
            let group = &mut self.groups[g];
            let poison = group.spec.poison > 0.0 && group.rng.next_f64() < group.spec.poison;
            group.counts.published += 1;
            group.push(now, p, Msg::new(now, key, poison, None));
        }
        self.topics[t].append.sample_ns(&mut self.rng)
    }

    /// The groups reading topic `t`.
    pub fn subscribers(&self, t: usize) -> &[usize] {
        &self.subscribers[t]
    }

    /// Starts measuring.
    pub fn mark_warm(&mut self, now: u64) {
        for g in &mut self.groups {
            g.account(now);
            g.measuring = true;
            g.warm = g.counts;
            g.lag_max = g.queued;
            g.peak = (g.queued, now);
        }
        for p in &mut self.published {
            p.1 = p.0;
        }
    }

    /// Gauges at `now`: per group, its lag and the age of its oldest message (ms).
    pub fn sample(&mut self, now: u64, out: &mut Vec<f64>) {
        for g in &mut self.groups {
            let age = g.oldest_age(now);
            if g.measuring {
                g.oldest_max = g.oldest_max.max(age);
            }
            out.push(g.queued as f64);
            out.push(age as f64 / 1e6);
        }
    }

    /// The gauge names, in [`Topics::sample`]'s order.
    pub fn gauge_names(&self) -> Vec<String> {
        self.groups
            .iter()
            .flat_map(|g| {
                [
                    format!("lag.{}", g.spec.name),
                    format!("oldest_age_ms.{}", g.spec.name),
                ]
            })
            .collect()
    }

    /// Components: per topic (kind `topic`) and per group (kind `consumers`), over the
    /// measured window that ends at `end`.
    pub fn metrics(&mut self, end: u64, window_ns: f64) -> Vec<Component> {
        let mut out = Vec::new();
        for (t, spec) in self.topics.iter().enumerate() {
            let (n, w) = self.published[t];
            out.push((
                spec.name.clone(),
                "topic",
                vec![("published".to_string(), (n - w) as f64)],
            ));
        }
        for g in &mut self.groups {
            g.account(end);
            g.oldest_max = g.oldest_max.max(g.oldest_age(end));
            let (c, w) = (g.counts, g.warm);
            let per = |a: f64| if window_ns > 0.0 { a / window_ns } else { 0.0 };
            let drain = match (g.peak.0, g.drained_at) {
                (0, _) => 0.0,
                (_, Some(at)) => (at - g.peak.1) as f64 / 1e9,
                (_, None) => (end - g.peak.1) as f64 / 1e9,
            };
            let m = vec![
                ("published".to_string(), (c.published - w.published) as f64),
                ("consumed".into(), c.consumed as f64 - w.consumed as f64),
                ("duplicates".into(), (c.duplicates - w.duplicates) as f64),
                ("redelivered".into(), (c.redelivered - w.redelivered) as f64),
                ("retries".into(), (c.retries - w.retries) as f64),
                ("dlq".into(), (c.dlq - w.dlq) as f64),
                ("in_queue".into(), g.queued as f64),
                ("in_flight".into(), g.in_flight() as f64),
                ("lag_mean".into(), per(g.lag_area)),
                ("lag_max".into(), g.lag_max as f64),
                ("oldest_age_ms_max".into(), g.oldest_max as f64 / 1e6),
                ("e2e_ms_mean".into(), g.e2e.mean_ms()),
                ("e2e_ms_p99".into(), g.e2e.p99_ms()),
                ("e2e_ms_max".into(), g.e2e.max_ms()),
                ("drain_s".into(), drain),
                ("consumers_mean".into(), per(g.consumers_area)),
            ];
            out.push((g.spec.name.clone(), "consumers", m));
        }
        out
    }
}

/// The partitions consumer `k` of `n` owns (`p % n == k`, of `parts`), in round-robin order
/// from `start`: those at or after it, then those before it.
fn owned(start: u32, parts: u32, k: u32, n: u32) -> impl Iterator<Item = u32> {
    let first = start + (k + n - start % n) % n;
    (first..parts)
        .step_by(n as usize)
        .chain((k..start).step_by(n as usize))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The owned partitions in round-robin order: the full scan filtered by ownership.
    #[test]
    fn owned_partitions_are_the_filtered_round_robin_scan() {
        for parts in 1..30u32 {
            for n in 1..=parts + 2 {
                for k in 0..n {
                    for start in 0..parts {
                        let scan: Vec<u32> = (0..parts)
                            .map(|i| (start + i) % parts)
                            .filter(|p| p % n == k)
                            .collect();
                        let got: Vec<u32> = owned(start, parts, k, n).collect();
                        assert_eq!(got, scan, "parts {parts}, {k} of {n}, from {start}");
                    }
                }
            }
        }
    }

    fn topics(commit: u64) -> Topics {
        Topics::new(
            vec![TopicSpec {
                name: "orders".into(),
                partitions: 4,
                append: Dist::Constant(0.0),
            }],
            vec![GroupSpec {
                name: "email".into(),
                topic: 0,
                service: 0,
                path: Vec::new(),
                attempts: 2,
                poison: 0.0,
                commit_interval: commit,
                poll: 1,
            }],
            1,
        )
    }

    fn start(t: &mut Topics, c: u32, n: u32, now: u64) -> Option<u32> {
        let g = &mut t.groups[0];
        if g.inflight.len() <= c as usize {
            g.inflight.resize(c as usize + 1, None);
        }
        let (p, msg) = g.take(now, c, c, n)?;
        g.inflight[c as usize] = Some(InFlight {
            msg,
            partition: p,
            handle: 0,
        });
        Some(p)
    }

    #[test]
    fn a_partition_is_processed_in_order_one_message_at_a_time() {
        let mut t = topics(0);
        for _ in 0..3 {
            t.publish(0, 7, 0);
        }
        let p = start(&mut t, 0, 1, 1).unwrap();
        assert!(start(&mut t, 0, 1, 1).is_none(), "the consumer is busy");
        assert!(!t.groups[0].has_work(), "its partition is in processing");
        t.groups[0].processed(2, 0, true, true);
        assert_eq!(start(&mut t, 0, 1, 3), Some(p));
        assert_eq!(t.groups[0].totals()[..5], [3, 1, 0, 1, 1]);
    }

    #[test]
    fn failures_go_to_the_dead_letter_queue_after_the_attempts() {
        let mut t = topics(0);
        t.publish(0, 1, 0);
        start(&mut t, 0, 1, 0);
        t.groups[0].processed(1, 0, false, true);
        start(&mut t, 0, 1, 1);
        t.groups[0].processed(2, 0, false, true);
        let [published, consumed, dlq, queued, inflight, ..] = t.groups[0].totals();
        assert_eq!(
            (published, consumed, dlq, queued, inflight),
            (1, 0, 1, 0, 0)
        );
    }

    #[test]
    fn a_crash_redelivers_what_was_not_committed() {
        let mut t = topics(1_000);
        for k in 0..2 {
            t.publish(0, k, 0);
        }
        // Two messages processed by the only consumer, not yet committed.
        for now in [1, 2] {
            start(&mut t, 0, 1, now);
            t.groups[0].processed(now, 0, true, true);
        }
        assert_eq!(t.groups[0].crashed(3, 0), None);
        let [published, consumed, _, queued, _, duplicates, redelivered] = t.groups[0].totals();
        assert_eq!((published, consumed, queued, redelivered), (2, 0, 2, 2));
        for now in [4, 5] {
            start(&mut t, 0, 1, now);
            t.groups[0].processed(now, 0, true, true);
        }
        assert_eq!(t.groups[0].totals()[5], 2, "both processed twice");
        assert_eq!(duplicates, 0);
        // Committed: a later crash redelivers nothing.
        t.groups[0].maybe_commit(2_000);
        t.groups[0].crashed(2_001, 0);
        assert_eq!(t.groups[0].totals()[3], 0);
    }
}
