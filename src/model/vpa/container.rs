//! Upstream's `model/container.go`: one running container's sample filter and its memory peak
//! per aggregation interval, feeding an [`Aggregate`].

use super::aggregate::{Aggregate, Recommendation};
use super::config::{Millis, VpaConfig};
use super::estimator::{amount_from_float, scale};

/// What one memory sample does to the aggregate's memory-peak histogram: remove the window's
/// old peak, add the new one (both stamped with the window's end). Data, so the tests can
/// compare it with upstream's mock-histogram expectations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct PeakChange {
    /// `(bytes, window end)` of a peak to subtract.
    pub(super) subtract: Option<(i64, Millis)>,
    /// `(bytes, window end)` of a peak to add.
    pub(super) add: Option<(i64, Millis)>,
}

/// One container instance (upstream's `ContainerState`): drops duplicate and out-of-order
/// samples and keeps one memory peak per aggregation interval. Every instance of a workload
/// feeds the same [`Aggregate`]; give each instance its own tracker.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContainerTracker {
    /// Start of the last CPU sample taken.
    last_cpu: Option<Millis>,
    /// The largest usage sample in the current window.
    memory_peak: i64,
    /// The largest OOM-derived sample in the current window.
    oom_peak: i64,
    /// End (exclusive) of the current memory window; `None` before the first memory sample.
    window_end: Option<Millis>,
    /// Start of the last memory sample taken.
    last_memory: Option<Millis>,
}

impl ContainerTracker {
    /// A tracker that has seen nothing.
    pub fn new() -> ContainerTracker {
        ContainerTracker::default()
    }

    /// A CPU usage sample averaged over a period starting at `at`. Returns `false` (and
    /// changes nothing) for negative usage or a start not after the previous CPU sample's.
    /// `request_millicores` only matters with [`VpaConfig::cpu_weight_by_request`].
    pub fn add_cpu_sample(
        &mut self,
        aggregate: &mut Aggregate,
        at: Millis,
        usage_millicores: i64,
        request_millicores: i64,
    ) -> bool {
        if usage_millicores < 0 || self.last_cpu.is_some_and(|last| at <= last) {
            return false;
        }
        aggregate.add_cpu(at, usage_millicores, request_millicores);
        self.last_cpu = Some(at);
        true
    }

    /// A memory usage sample (working set, bytes) taken at `at`. Returns `false` for negative
    /// usage or a time before the previous memory sample's.
    pub fn add_memory_sample(&mut self, aggregate: &mut Aggregate, at: Millis, bytes: i64) -> bool {
        self.add_memory(aggregate, at, bytes)
    }

    /// An out-of-memory kill at `at` of a container that requested `requested_bytes`: an
    /// artificial peak of `max(used + oom_min_bump_up_bytes, used * oom_bump_up_ratio)` with
    /// `used = max(requested, this window's usage peak)`. Errors when the kill is more than an
    /// aggregation interval older than the last memory sample.
    pub fn record_oom(
        &mut self,
        aggregate: &mut Aggregate,
        at: Millis,
        requested_bytes: i64,
    ) -> Result<(), String> {
        let change = self.oom_step(at, requested_bytes, &aggregate.config)?;
        apply(aggregate, change);
        Ok(())
    }

    fn add_memory(&mut self, aggregate: &mut Aggregate, at: Millis, bytes: i64) -> bool {
        let interval = aggregate.config.memory_aggregation_interval;
        let Some(change) = self.memory_step(at, bytes, false, interval) else {
            return false;
        };
        apply(aggregate, change);
        true
    }

    /// `RecordOOM` without the histogram: the staleness check, the bumped amount, then
    /// [`memory_step`](Self::memory_step) as an OOM sample.
    pub(super) fn oom_step(
        &mut self,
        at: Millis,
        requested_bytes: i64,
        config: &VpaConfig,
    ) -> Result<PeakChange, String> {
        let interval = config.memory_aggregation_interval;
        if let Some(last) = self.last_memory
            && at < last.saturating_sub(interval)
        {
            return Err(format!(
                "OOM event at {at} ms discarded: older than {interval} ms before the last sample"
            ));
        }
        let used = requested_bytes.max(self.memory_peak);
        let bumped = used.saturating_add(amount_from_float(config.oom_min_bump_up_bytes));
        let needed = bumped.max(scale(used, config.oom_bump_up_ratio));
        self.memory_step(at, needed, true, interval)
            .ok_or_else(|| format!("OOM event at {at} ms: adding the sample failed"))
    }

    /// `addMemorySample` without the histogram: a sample inside the current window replaces
    /// a smaller non-zero peak; one at or past the window's end opens the window that holds it
    /// and adds its own peak. OOM samples skip the ordering check. `None` means rejected.
    pub(super) fn memory_step(
        &mut self,
        at: Millis,
        bytes: i64,
        is_oom: bool,
        interval: Millis,
    ) -> Option<PeakChange> {
        if bytes < 0 || (!is_oom && self.last_memory.is_some_and(|last| at < last)) {
            return None;
        }
        self.last_memory = Some(at);
        let window_end = *self.window_end.get_or_insert(at);
        let mut change = PeakChange::default();
        if at < window_end {
            let old = self.memory_peak.max(self.oom_peak);
            if old != 0 && bytes > old {
                change.subtract = Some((old, window_end));
                change.add = Some((bytes, window_end));
            }
        } else {
            let elapsed = at - window_end;
            let end = window_end.saturating_add(elapsed - elapsed % interval + interval);
            self.window_end = Some(end);
            self.memory_peak = 0;
            self.oom_peak = 0;
            change.add = Some((bytes, end));
        }
        if change.add.is_some() {
            if is_oom {
                self.oom_peak = bytes;
            } else {
                self.memory_peak = bytes;
            }
        }
        Some(change)
    }
}

/// Applies a memory step to the aggregate's peak histogram: the subtraction first.
fn apply(aggregate: &mut Aggregate, change: PeakChange) {
    if let Some((old, end)) = change.subtract {
        aggregate.subtract_memory_peak(end, old);
    }
    if let Some((new, end)) = change.add {
        aggregate.add_memory_peak(end, new);
    }
}

/// One container with its own [`Aggregate`]: the whole recommender for a workload of one
/// instance, or for an integrator that keeps one history per workload and feeds it from a
/// single stream of samples. For several instances, use one [`ContainerTracker`] per instance
/// over a shared [`Aggregate`].
#[derive(Clone, Debug)]
pub struct ContainerState {
    aggregate: Aggregate,
    tracker: ContainerTracker,
}

impl ContainerState {
    /// An empty state; fails (naming the field) when `config` is invalid.
    pub fn new(config: &VpaConfig) -> Result<ContainerState, String> {
        Ok(ContainerState {
            aggregate: Aggregate::new(config)?,
            tracker: ContainerTracker::new(),
        })
    }

    /// See [`ContainerTracker::add_cpu_sample`].
    pub fn add_cpu_sample(
        &mut self,
        at: Millis,
        usage_millicores: i64,
        request_millicores: i64,
    ) -> bool {
        self.tracker.add_cpu_sample(
            &mut self.aggregate,
            at,
            usage_millicores,
            request_millicores,
        )
    }

    /// See [`ContainerTracker::add_memory_sample`].
    pub fn add_memory_sample(&mut self, at: Millis, bytes: i64) -> bool {
        self.tracker
            .add_memory_sample(&mut self.aggregate, at, bytes)
    }

    /// See [`ContainerTracker::record_oom`].
    pub fn record_oom(&mut self, at: Millis, requested_bytes: i64) -> Result<(), String> {
        self.tracker
            .record_oom(&mut self.aggregate, at, requested_bytes)
    }

    /// See [`Aggregate::recommend`].
    pub fn recommend(&self) -> Recommendation {
        self.aggregate.recommend()
    }

    /// The aggregate this container feeds.
    pub fn aggregate(&self) -> &Aggregate {
        &self.aggregate
    }
}
