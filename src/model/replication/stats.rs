//! Counters and lag statistics, named as a real run reports them (`src/real/measure.rs`):
//! component `db` for the whole database and `db.replica-N` per replica slot.
//!
//! One difference: a real run's `stale_read_ratio` on `db` counts only reads it could judge
//! (the key had an acknowledged write before the read); here every read is judged, so it is
//! stale reads over all reads.

use hdrhistogram::Histogram;

use super::{Node, Read};

/// The lag histogram's range, ns: values below its first bucket (1 µs) share it, values
/// above about 19.5 h are recorded as the top.
const LAG_LOW: u64 = 1_000;
const LAG_HIGH: u64 = 1 << 46;

/// Lag samples (ns): count, mean, max and p99 (2 significant digits).
#[derive(Debug, Clone)]
pub struct LagStats {
    n: u64,
    sum: u128,
    max: u64,
    hist: Histogram<u64>,
}

impl Default for LagStats {
    fn default() -> LagStats {
        LagStats {
            n: 0,
            sum: 0,
            max: 0,
            hist: Histogram::new_with_bounds(LAG_LOW, LAG_HIGH, 2).expect("valid static bounds"),
        }
    }
}

impl LagStats {
    /// Adds one sample, ns.
    #[inline]
    pub fn record(&mut self, lag_ns: u64) {
        self.n += 1;
        self.sum += u128::from(lag_ns);
        self.max = self.max.max(lag_ns);
        self.hist.saturating_record(lag_ns);
    }

    /// Samples taken.
    pub fn count(&self) -> u64 {
        self.n
    }

    /// The mean, ms (0 without samples).
    pub fn mean_ms(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.sum as f64 / self.n as f64 / 1e6
        }
    }

    /// The largest sample, ms (exact).
    pub fn max_ms(&self) -> f64 {
        self.max as f64 / 1e6
    }

    /// The 99th percentile, ms, within 1 % (0 without samples).
    pub fn p99_ms(&self) -> f64 {
        self.quantile_ms(0.99)
    }

    /// The `q` quantile, ms, within 1 % (0 without samples).
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.hist.value_at_quantile(q).min(self.max) as f64 / 1e6
        }
    }

    fn reset(&mut self) {
        (self.n, self.sum, self.max) = (0, 0, 0);
        self.hist.reset();
    }

    /// `lag_ms_mean`, `lag_ms_p99`, `lag_ms_max`, `lag_samples`.
    fn metrics(&self, out: &mut Vec<(&'static str, f64)>) {
        out.push(("lag_ms_mean", self.mean_ms()));
        out.push(("lag_ms_p99", self.p99_ms()));
        out.push(("lag_ms_max", self.max_ms()));
        out.push(("lag_samples", self.n as f64));
    }
}

/// One replica slot's counters.
#[derive(Debug, Clone, Default)]
pub struct ReplicaStats {
    /// Reads served (fresh or stale).
    pub reads: u64,
    /// Reads that were stale.
    pub stale_reads: u64,
    /// Its lag samples while up.
    pub lag: LagStats,
    /// Lag samples taken while it was down.
    pub lag_unavailable: u64,
}

/// Counters since construction (or the last reset) and the lag statistics.
#[derive(Debug, Clone)]
pub struct ReplStats {
    /// Writes committed.
    pub writes: u64,
    /// Writes refused (primary down, key out of range).
    pub writes_failed: u64,
    /// Committed writes lost at failovers.
    pub writes_lost: u64,
    /// Of those, writes already acknowledged to their writer.
    pub acked_writes_lost: u64,
    /// Promotions.
    pub failovers: u64,
    /// Reads served by the primary.
    pub reads_primary: u64,
    /// Reads that found their node down.
    pub reads_failed: u64,
    /// Per replica slot.
    pub replicas: Vec<ReplicaStats>,
    /// Lag samples of every replica together.
    pub lag: LagStats,
    /// Lag samples taken while a replica was down, all replicas.
    pub lag_unavailable: u64,
}

impl ReplStats {
    pub(super) fn new(replicas: usize) -> ReplStats {
        ReplStats {
            writes: 0,
            writes_failed: 0,
            writes_lost: 0,
            acked_writes_lost: 0,
            failovers: 0,
            reads_primary: 0,
            reads_failed: 0,
            replicas: vec![ReplicaStats::default(); replicas],
            lag: LagStats::default(),
            lag_unavailable: 0,
        }
    }

    #[inline]
    pub(super) fn count_read(&mut self, node: Node, outcome: Read) {
        match (node, outcome) {
            (_, Read::Unavailable) => self.reads_failed += 1,
            (Node::Primary, _) => self.reads_primary += 1,
            (Node::Replica(r), _) => {
                let s = &mut self.replicas[r];
                s.reads += 1;
                s.stale_reads += u64::from(outcome == Read::Stale);
            }
        }
    }

    /// A lag sample of replica `r` (`None`: it was down).
    pub(super) fn record_lag(&mut self, r: usize, lag_ns: Option<u64>) {
        let s = &mut self.replicas[r];
        match lag_ns {
            Some(ns) => {
                s.lag.record(ns);
                self.lag.record(ns);
            }
            None => {
                s.lag_unavailable += 1;
                self.lag_unavailable += 1;
            }
        }
    }

    pub(super) fn reset(&mut self) {
        let replicas = std::mem::take(&mut self.replicas);
        let mut lag = std::mem::take(&mut self.lag);
        lag.reset();
        *self = ReplStats {
            replicas,
            lag,
            ..ReplStats::new(0)
        };
        for s in &mut self.replicas {
            (s.reads, s.stale_reads, s.lag_unavailable) = (0, 0, 0);
            s.lag.reset();
        }
    }

    /// Reads served by replicas.
    pub fn reads_replicas(&self) -> u64 {
        self.replicas.iter().map(|s| s.reads).sum()
    }

    /// Stale reads, all replicas.
    pub fn stale_reads(&self) -> u64 {
        self.replicas.iter().map(|s| s.stale_reads).sum()
    }

    /// Stale reads over reads served (primary and replicas), 0 before any.
    pub fn stale_read_ratio(&self) -> f64 {
        ratio(
            self.stale_reads(),
            self.reads_primary + self.reads_replicas(),
        )
    }

    /// Named metrics per component: `db` first, then `db.replica-N` for each slot.
    pub fn metrics(&self) -> Vec<(String, Vec<(&'static str, f64)>)> {
        let mut db = vec![
            ("reads_primary", self.reads_primary as f64),
            ("reads_replicas", self.reads_replicas() as f64),
            ("reads_failed", self.reads_failed as f64),
            ("writes", self.writes as f64),
            ("writes_failed", self.writes_failed as f64),
            ("writes_lost", self.writes_lost as f64),
            ("acked_writes_lost", self.acked_writes_lost as f64),
            ("failovers", self.failovers as f64),
            ("stale_reads", self.stale_reads() as f64),
            ("stale_read_ratio", self.stale_read_ratio()),
            ("lag_unavailable", self.lag_unavailable as f64),
        ];
        self.lag.metrics(&mut db);
        let mut out = vec![("db".to_string(), db)];
        for (i, s) in self.replicas.iter().enumerate() {
            let mut m = vec![
                ("reads", s.reads as f64),
                ("stale_reads", s.stale_reads as f64),
                ("stale_read_ratio", ratio(s.stale_reads, s.reads)),
                ("lag_unavailable", s.lag_unavailable as f64),
            ];
            s.lag.metrics(&mut m);
            out.push((format!("db.replica-{i}"), m));
        }
        out
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}
