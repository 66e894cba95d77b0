//! Upstream's `model/aggregate_container_state.go` (the histograms and history shared by every
//! container of one workload) and `logic/recommender.go` (the recommendation built from them).

use super::config::{MIN_SAMPLE_WEIGHT, Millis, VpaConfig};
use super::estimator::{
    Bounds, Chain, History, amount_from_float, confidence, cores_from_cpu, cpu_from_cores,
    min_resources,
};
use super::histogram::{DecayingHistogram, Scheme};

/// A recommendation for one container: CPU in millicores, memory in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Recommendation {
    /// CPU bounds, millicores.
    pub cpu: Bounds,
    /// Memory bounds, bytes.
    pub memory: Bounds,
}

/// The usage history of every container of one workload (upstream's
/// `AggregateContainerState`): a decaying histogram of CPU usage, one of memory peaks, and the
/// span and count of CPU samples. Fed through [`ContainerTracker`](super::ContainerTracker)s.
#[derive(Clone, Debug)]
pub struct Aggregate {
    pub(super) config: VpaConfig,
    pub(super) cpu: DecayingHistogram,
    pub(super) memory: DecayingHistogram,
    pub(super) history: History,
}

impl Aggregate {
    /// An empty aggregate; fails (naming the field) when `config` is invalid.
    pub fn new(config: &VpaConfig) -> Result<Aggregate, String> {
        config.validate()?;
        let cpu = Scheme::new(config.cpu_buckets, "cpu_buckets")?;
        let memory = Scheme::new(config.memory_buckets, "memory_buckets")?;
        Ok(Aggregate {
            config: config.clone(),
            cpu: DecayingHistogram::new(cpu, config.cpu_half_life),
            memory: DecayingHistogram::new(memory, config.memory_half_life),
            history: History::default(),
        })
    }

    /// The configuration this aggregate was built with.
    pub fn config(&self) -> &VpaConfig {
        &self.config
    }

    /// How many CPU samples were aggregated (memory peaks are not counted, as upstream).
    pub fn cpu_samples(&self) -> u64 {
        self.history.count
    }

    /// The recommendation for one container of a one-container pod (upstream's
    /// `GetRecommendedPodResources` for a single container name).
    pub fn recommend(&self) -> Recommendation {
        let c = &self.config;
        let (min_cpu, min_memory) = min_resources(c.pod_min_cpu_millicores, c.pod_min_memory_mb, 1);
        let cpu = Chain {
            percentiles: [
                c.lower_bound_cpu_percentile,
                c.target_cpu_percentile,
                c.upper_bound_cpu_percentile,
            ],
            margin: c.safety_margin_fraction,
            confidence: confidence(&self.history, c.confidence_interval_cpu),
            min: min_cpu,
        };
        let memory = Chain {
            percentiles: [
                c.lower_bound_memory_percentile,
                c.target_memory_percentile,
                c.upper_bound_memory_percentile,
            ],
            margin: c.safety_margin_fraction,
            confidence: confidence(&self.history, c.confidence_interval_memory),
            min: min_memory,
        };
        Recommendation {
            cpu: cpu.bounds(|p| cpu_from_cores(self.cpu.percentile(p))),
            memory: memory.bounds(|p| amount_from_float(self.memory.percentile(p))),
        }
    }

    /// Upstream's weight of a CPU sample: 0.1, or `max(request cores, 0.1)` when
    /// [`VpaConfig::cpu_weight_by_request`] is set.
    pub(super) fn cpu_weight(&self, request_millicores: i64) -> f64 {
        if self.config.cpu_weight_by_request {
            cores_from_cpu(request_millicores).max(MIN_SAMPLE_WEIGHT)
        } else {
            MIN_SAMPLE_WEIGHT
        }
    }

    /// `addCPUSample`: the usage in cores into the CPU histogram; the history's span and count.
    pub(super) fn add_cpu(&mut self, at: Millis, usage_millicores: i64, request_millicores: i64) {
        let weight = self.cpu_weight(request_millicores);
        self.cpu
            .add_sample(cores_from_cpu(usage_millicores), weight, at);
        let h = &mut self.history;
        if h.last.is_none_or(|last| at > last) {
            h.last = Some(at);
        }
        if h.first.is_none_or(|first| at < first) {
            h.first = Some(at);
        }
        h.count += 1;
    }

    /// A memory peak of `bytes`, weight 1, stamped with its window's end.
    pub(super) fn add_memory_peak(&mut self, at: Millis, bytes: i64) {
        self.memory.add_sample(bytes as f64, 1.0, at);
    }

    /// Removes a memory peak added before with the same arguments.
    pub(super) fn subtract_memory_peak(&mut self, at: Millis, bytes: i64) {
        self.memory.subtract_sample(bytes as f64, 1.0, at);
    }
}
