//! Upstream's `util/histogram_options.go`, `util/histogram.go` and
//! `util/decaying_histogram.go`: bucketed weights with a percentile query, and the variant
//! whose samples gain weight exponentially with time, so old samples fade.

use super::config::{Buckets, Millis, log};

/// Validated bucket options with their bucket count (upstream's `HistogramOptions`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Scheme {
    buckets: Buckets,
    num_buckets: usize,
}

impl Scheme {
    /// Validates `buckets` (`field` names it in the error) and counts the buckets.
    pub(super) fn new(buckets: Buckets, field: &str) -> Result<Scheme, String> {
        buckets.validate(field)?;
        // Validation bounds the count to [1, 1e6], so the conversion is exact.
        let num_buckets = buckets.count_f64() as usize;
        Ok(Scheme {
            buckets,
            num_buckets,
        })
    }

    pub(super) fn num_buckets(&self) -> usize {
        self.num_buckets
    }

    pub(super) fn epsilon(&self) -> f64 {
        match self.buckets {
            Buckets::Linear { epsilon, .. } | Buckets::Exponential { epsilon, .. } => epsilon,
        }
    }

    /// The bucket holding `value`; out-of-range values go to the first or last bucket.
    pub(super) fn find_bucket(&self, value: f64) -> usize {
        let raw = match self.buckets {
            Buckets::Linear { bucket_size, .. } => value / bucket_size,
            Buckets::Exponential {
                first_bucket_size,
                ratio,
                ..
            } => {
                if value < first_bucket_size {
                    return 0;
                }
                log(ratio, value * (ratio - 1.0) / first_bucket_size + 1.0)
            }
        };
        // Go's int() truncates toward zero; negative values land in bucket 0.
        let bucket = raw.trunc();
        if bucket < 0.0 || bucket.is_nan() {
            0
        } else {
            (bucket as usize).min(self.num_buckets - 1)
        }
    }

    /// The smallest value bucket `bucket` holds (callers pass `bucket < num_buckets`).
    pub(super) fn bucket_start(&self, bucket: usize) -> f64 {
        match self.buckets {
            Buckets::Linear { bucket_size, .. } => bucket as f64 * bucket_size,
            Buckets::Exponential { .. } if bucket == 0 => 0.0,
            Buckets::Exponential {
                first_bucket_size,
                ratio,
                ..
            } => first_bucket_size * (go_powi(ratio, bucket as i64) - 1.0) / (ratio - 1.0),
        }
    }
}

/// `x^n` as Go's `math.Pow` computes it for an integral exponent: repeated squaring from the
/// lowest bit, then the reciprocal for a negative exponent. (Go also normalizes the mantissa
/// at each step, which changes nothing unless an intermediate overflows.)
pub(super) fn go_powi(x: f64, n: i64) -> f64 {
    if n == 0 || x == 1.0 {
        return 1.0;
    }
    let (mut acc, mut square, mut bits) = (1.0, x, n.unsigned_abs());
    while bits != 0 {
        if bits & 1 == 1 {
            acc *= square;
        }
        square *= square;
        bits >>= 1;
    }
    if n < 0 { 1.0 / acc } else { acc }
}

/// `2^exponent`, exact, as Go's `math.Ldexp(1, exponent)`.
fn ldexp1(exponent: i64) -> f64 {
    match exponent {
        e if e > 1023 => f64::INFINITY,
        e if e >= -1022 => f64::from_bits(((e + 1023) as u64) << 52),
        e if e >= -1074 => f64::from_bits(1u64 << (e + 1074)),
        _ => 0.0,
    }
}

/// Upstream's `round(x)`: `floor(x + 0.5)`.
fn go_round(x: f64) -> i64 {
    (x + 0.5).floor() as i64
}

/// Weights per bucket; `min_bucket..=max_bucket` spans the buckets holding at least epsilon.
#[derive(Clone, Debug)]
pub(super) struct Histogram {
    pub(super) scheme: Scheme,
    pub(super) weights: Vec<f64>,
    pub(super) total: f64,
    pub(super) min_bucket: usize,
    pub(super) max_bucket: usize,
}

impl Histogram {
    pub(super) fn new(scheme: Scheme) -> Histogram {
        let n = scheme.num_buckets();
        Histogram {
            scheme,
            weights: vec![0.0; n],
            total: 0.0,
            min_bucket: n - 1,
            max_bucket: 0,
        }
    }

    /// Adds `weight` to the bucket of `value`. Upstream panics on a negative weight; no caller
    /// here can produce one, and it is ignored.
    pub(super) fn add_sample(&mut self, value: f64, weight: f64) {
        if weight.is_nan() || weight < 0.0 {
            return;
        }
        let bucket = self.scheme.find_bucket(value);
        self.weights[bucket] += weight;
        self.total += weight;
        let heavy = self.weights[bucket] >= self.scheme.epsilon();
        if bucket < self.min_bucket && heavy {
            self.min_bucket = bucket;
        }
        if bucket > self.max_bucket && heavy {
            self.max_bucket = bucket;
        }
    }

    /// Removes `weight` from the bucket of `value`; weights that fall below epsilon become 0.
    pub(super) fn subtract_sample(&mut self, value: f64, weight: f64) {
        if weight.is_nan() || weight < 0.0 {
            return;
        }
        let bucket = self.scheme.find_bucket(value);
        let epsilon = self.scheme.epsilon();
        self.total = safe_subtract(self.total, weight, epsilon);
        self.weights[bucket] = safe_subtract(self.weights[bucket], weight, epsilon);
        self.update_min_and_max_bucket();
    }

    /// The start of the bucket after the one where the cumulative weight first reaches
    /// `percentile` of the total (the last bucket's own start); 0 when empty.
    pub(super) fn percentile(&self, percentile: f64) -> f64 {
        if self.is_empty() {
            return 0.0;
        }
        let threshold = percentile * self.total;
        let mut partial = 0.0;
        let mut bucket = self.min_bucket;
        while bucket < self.max_bucket {
            partial += self.weights[bucket];
            if partial >= threshold {
                break;
            }
            bucket += 1;
        }
        if bucket < self.scheme.num_buckets() - 1 {
            self.scheme.bucket_start(bucket + 1)
        } else {
            self.scheme.bucket_start(bucket)
        }
    }

    /// Empty when the lowest tracked bucket holds less than epsilon.
    pub(super) fn is_empty(&self) -> bool {
        self.weights[self.min_bucket] < self.scheme.epsilon()
    }

    fn update_min_and_max_bucket(&mut self) {
        let epsilon = self.scheme.epsilon();
        let last = self.scheme.num_buckets() - 1;
        while self.weights[self.min_bucket] < epsilon && self.min_bucket < last {
            self.min_bucket += 1;
        }
        while self.weights[self.max_bucket] < epsilon && self.max_bucket > 0 {
            self.max_bucket -= 1;
        }
    }

    /// Multiplies every tracked weight by `factor` (non-negative).
    fn scale(&mut self, factor: f64) {
        if self.min_bucket <= self.max_bucket {
            for w in &mut self.weights[self.min_bucket..=self.max_bucket] {
                *w *= factor;
            }
        }
        self.total *= factor;
        self.update_min_and_max_bucket();
    }
}

fn safe_subtract(value: f64, sub: f64, epsilon: f64) -> f64 {
    let v = value - sub;
    if v < epsilon { 0.0 } else { v }
}

/// Upstream's `maxDecayExponent`: the reference time moves when a sample's factor would
/// exceed `2^100`.
const MAX_DECAY_EXPONENT: i64 = 100;

/// Go's zero `time.Time` (1 Jan of year 1, UTC) in Unix milliseconds: `Time.Round` rounds to
/// multiples counted from there.
const GO_ZERO_TIME: Millis = -62_135_596_800_000;

/// A histogram whose sample at time `t` weighs `weight * 2^((t - reference) / half_life)`.
#[derive(Clone, Debug)]
pub(super) struct DecayingHistogram {
    pub(super) histogram: Histogram,
    pub(super) half_life: Millis,
    /// `None` until the first sample: upstream's zero time, far in the past.
    pub(super) reference: Option<Millis>,
}

impl DecayingHistogram {
    pub(super) fn new(scheme: Scheme, half_life: Millis) -> DecayingHistogram {
        DecayingHistogram {
            histogram: Histogram::new(scheme),
            half_life,
            reference: None,
        }
    }

    pub(super) fn add_sample(&mut self, value: f64, weight: f64, at: Millis) {
        let factor = self.decay_factor(at);
        self.histogram.add_sample(value, weight * factor);
    }

    pub(super) fn subtract_sample(&mut self, value: f64, weight: f64, at: Millis) {
        let factor = self.decay_factor(at);
        self.histogram.subtract_sample(value, weight * factor);
    }

    pub(super) fn percentile(&self, percentile: f64) -> f64 {
        self.histogram.percentile(percentile)
    }

    /// `2^((at - reference) / half_life)`, first moving the reference up to `at` (rounded to a
    /// half-life) when `at` is more than 100 half-lives past it.
    fn decay_factor(&mut self, at: Millis) -> f64 {
        let reference = match self.reference {
            Some(r) if at <= r.saturating_add(self.half_life * MAX_DECAY_EXPONENT) => r,
            _ => self.shift_reference(at),
        };
        (ns(at.saturating_sub(reference)) / ns(self.half_life)).exp2()
    }

    /// Moves the reference to `at` rounded to the nearest half-life (halfway rounds up, counted
    /// from Go's zero time) and rescales the weights to match. From the zero time the factor
    /// underflows to 0 on an empty histogram, so the first shift only sets the reference.
    fn shift_reference(&mut self, at: Millis) -> Millis {
        let since_zero = at as i128 - GO_ZERO_TIME as i128;
        let rem = since_zero.rem_euclid(self.half_life as i128) as i64;
        let rounded = if rem + rem < self.half_life {
            at.saturating_sub(rem)
        } else {
            at.saturating_add(self.half_life - rem)
        };
        if let Some(old) = self.reference {
            let exponent = go_round(ns(old.saturating_sub(rounded)) / ns(self.half_life));
            self.histogram.scale(ldexp1(exponent));
        }
        self.reference = Some(rounded);
        rounded
    }
}

/// A duration in milliseconds as Go's `float64(time.Duration)`: nanoseconds.
pub(super) fn ns(ms: Millis) -> f64 {
    (ms as i128 * 1_000_000) as f64
}
