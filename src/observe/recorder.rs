//! The recorder and the per-replication statistics it produces.

use hdrhistogram::Histogram;

pub use super::error::ErrorKind;

/// A latency histogram in nanoseconds: 1 µs to 10^15 ns, with `sigfig` significant digits.
pub fn new_histogram(sigfig: u8) -> Histogram<u64> {
    Histogram::new_with_bounds(1_000, 1_000_000_000_000_000, sigfig).expect("valid static bounds")
}

/// Counts and latencies of one request class (or of all classes).
#[derive(Debug, Clone)]
pub struct ClassStats {
    /// Arrivals in the measured window.
    pub arrived: u64,
    /// Successful completions of those arrivals.
    pub completed: u64,
    /// Failures by [`ErrorKind`] index.
    pub failed: [u64; ErrorKind::COUNT],
    /// Latency of successful completions, ns.
    pub latency: Histogram<u64>,
    /// Sum of latencies, ns (exact mean).
    pub latency_sum: f64,
}

impl ClassStats {
    fn new() -> ClassStats {
        ClassStats {
            arrived: 0,
            completed: 0,
            failed: [0; ErrorKind::COUNT],
            latency: new_histogram(3),
            latency_sum: 0.0,
        }
    }

    /// Total failures.
    pub fn failed_total(&self) -> u64 {
        self.failed.iter().sum()
    }

    /// Mean latency, ns.
    pub fn mean_ns(&self) -> f64 {
        if self.completed == 0 {
            0.0
        } else {
            self.latency_sum / self.completed as f64
        }
    }

    fn merge(&mut self, o: &ClassStats) {
        self.arrived += o.arrived;
        self.completed += o.completed;
        for i in 0..ErrorKind::COUNT {
            self.failed[i] += o.failed[i];
        }
        self.latency.add(&o.latency).expect("same bounds");
        self.latency_sum += o.latency_sum;
    }
}

/// One time bucket of the whole run (warm-up included, so transients are visible).
#[derive(Debug, Clone, Default)]
pub struct BucketStats {
    /// Arrivals.
    pub arrivals: u64,
    /// Successful completions.
    pub completed: u64,
    /// Failures.
    pub errors: u64,
    /// Latencies of completions in this bucket (2 significant digits), created on first use.
    pub latency: Option<Histogram<u64>>,
    /// Component gauges over the bucket, in the order of [`RepStats::gauge_names`].
    pub gauges: Vec<f64>,
}

/// Figures of one component over the measured window: the queueing figures every service has,
/// and named metrics (`instances_mean`, `hit_ratio`, `lag_ms_p99`, ...) for the rest.
#[derive(Debug, Clone, Default)]
pub struct ComponentStats {
    /// Component name.
    pub name: String,
    /// What it is: `service`, `controller` or `scope`.
    pub kind: &'static str,
    /// Busy fraction of the provisioned workers.
    pub utilization: f64,
    /// Mean number waiting.
    pub mean_queue: f64,
    /// Mean number of workers provisioned.
    pub workers: f64,
    /// Visits arriving in the measured window.
    pub arrivals: u64,
    /// Of those, visits that waited for a worker.
    pub waited: u64,
    /// Of those, visits rejected by a full queue.
    pub rejected: u64,
    /// Visits dropped because their deadline passed while at the component.
    pub expired: u64,
    /// Named metrics, snake_case with the unit in the name.
    pub metrics: Vec<(String, f64)>,
}

/// Everything one replication measured.
#[derive(Debug, Clone)]
pub struct RepStats {
    /// Per class.
    pub classes: Vec<ClassStats>,
    /// All classes together.
    pub total: ClassStats,
    /// Per component (services first, then controllers and scopes).
    pub components: Vec<ComponentStats>,
    /// Names of the per-bucket gauges (`busy.app`, `instances.app`, ...).
    pub gauge_names: Vec<String>,
    /// Time buckets.
    pub buckets: Vec<BucketStats>,
    /// Bucket width, ns.
    pub bucket_ns: u64,
    /// End of the run, ns (the last bucket may be shorter than `bucket_ns`).
    pub end_ns: u64,
    /// Length of the measured window, ns.
    pub window_ns: u64,
    /// Measured arrivals still in flight at the end.
    pub in_flight: u64,
    /// Time-average number of measured requests in the system (for Little's law).
    pub mean_in_system: f64,
    /// Events processed (engine work, for benchmarks).
    pub events: u64,
    /// The latency series `warmup = "auto"` truncates: per slot of [`RepStats::slot_ns`], by
    /// completion time and warm-up included, the sum of the latencies (ns) of the successful
    /// completions and their count. Finer than the buckets (512 to 1024 slots over the
    /// horizon, whatever `bucket` is), so the truncation point does not depend on the width
    /// chosen for the plots.
    pub latency_slots: Vec<(f64, u64)>,
    /// Width of a slot of [`RepStats::latency_slots`], ns (a power of two).
    pub slot_ns: u64,
}

/// Records arrivals, completions and failures as they happen.
#[derive(Debug)]
pub struct Recorder {
    warmup: u64,
    bucket: u64,
    classes: Vec<ClassStats>,
    buckets: Vec<BucketStats>,
    in_system: u64,
    in_system_area: f64,
    last: u64,
    slots: Vec<(f64, u64)>,
    slot_shift: u32,
}

/// Fewest slots of the latency series over a horizon (at most twice as many).
const MIN_SLOTS: u64 = 512;

/// The slot width of the latency series over `horizon` ns, as a shift: the largest power of
/// two giving at least [`MIN_SLOTS`] slots (a shift, so recording costs no division).
fn slot_shift(horizon: u64) -> u32 {
    (horizon / MIN_SLOTS).max(1).ilog2()
}

impl Recorder {
    /// A recorder for `n_classes`, measuring from `warmup` ns, over `horizon` ns in buckets of
    /// `bucket` ns.
    pub fn new(n_classes: usize, warmup: u64, horizon: u64, bucket: u64) -> Recorder {
        let n_buckets = horizon.div_ceil(bucket.max(1)) as usize;
        let slot_shift = slot_shift(horizon);
        let n_slots = (horizon >> slot_shift) as usize + 1;
        Recorder {
            warmup,
            bucket: bucket.max(1),
            classes: (0..n_classes).map(|_| ClassStats::new()).collect(),
            buckets: vec![BucketStats::default(); n_buckets.max(1)],
            in_system: 0,
            in_system_area: 0.0,
            last: warmup,
            slots: vec![(0.0, 0); n_slots],
            slot_shift,
        }
    }

    #[inline]
    fn bucket_mut(&mut self, now: u64) -> &mut BucketStats {
        let i = ((now / self.bucket) as usize).min(self.buckets.len() - 1);
        &mut self.buckets[i]
    }

    #[inline]
    fn track(&mut self, now: u64, delta: i64) {
        if now > self.last {
            self.in_system_area += (now - self.last) as f64 * self.in_system as f64;
            self.last = now;
        }
        self.in_system = self.in_system.wrapping_add_signed(delta);
    }

    /// A request of `class` arrived at `now`. Returns whether it is measured.
    #[inline]
    pub fn arrive(&mut self, class: u16, now: u64) -> bool {
        self.bucket_mut(now).arrivals += 1;
        if now < self.warmup {
            return false;
        }
        self.classes[class as usize].arrived += 1;
        self.track(now, 1);
        true
    }

    /// A request created at `created` completed successfully at `now`.
    #[inline]
    pub fn complete(&mut self, class: u16, created: u64, now: u64) {
        let latency = now - created;
        let b = self.bucket_mut(now);
        b.completed += 1;
        b.latency
            .get_or_insert_with(|| new_histogram(2))
            .saturating_record(latency);
        let i = ((now >> self.slot_shift) as usize).min(self.slots.len() - 1);
        self.slots[i].0 += latency as f64;
        self.slots[i].1 += 1;
        if created < self.warmup {
            return;
        }
        let c = &mut self.classes[class as usize];
        c.completed += 1;
        c.latency.saturating_record(latency);
        c.latency_sum += latency as f64;
        self.track(now, -1);
    }

    /// A request created at `created` failed at `now`.
    #[inline]
    pub fn fail(&mut self, class: u16, kind: ErrorKind, created: u64, now: u64) {
        self.bucket_mut(now).errors += 1;
        if created < self.warmup {
            return;
        }
        self.classes[class as usize].failed[kind.index()] += 1;
        self.track(now, -1);
    }

    /// Stores the component gauges of the bucket that ends at `bucket_end`.
    pub fn sample_gauges(&mut self, bucket_end: u64, gauges: Vec<f64>) {
        self.bucket_mut(bucket_end.saturating_sub(1)).gauges = gauges;
    }

    /// Ends the run at `end` ns; `components` are the measured-window component figures and
    /// `gauge_names` name the gauges of the buckets.
    pub fn finish(
        mut self,
        end: u64,
        components: Vec<ComponentStats>,
        gauge_names: Vec<String>,
        events: u64,
    ) -> RepStats {
        self.track(end, 0);
        let mut total = ClassStats::new();
        for c in &self.classes {
            total.merge(c);
        }
        let window_ns = end.saturating_sub(self.warmup).max(1);
        RepStats {
            in_flight: total.arrived - total.completed - total.failed_total(),
            mean_in_system: self.in_system_area / window_ns as f64,
            classes: self.classes,
            total,
            components,
            gauge_names,
            buckets: self.buckets,
            bucket_ns: self.bucket,
            end_ns: end,
            window_ns,
            events,
            latency_slots: self.slots,
            slot_ns: 1 << self.slot_shift,
        }
    }
}
