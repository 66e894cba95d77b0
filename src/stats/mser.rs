//! Truncating the initial transient: the MSER-5 rule.
//!
//! # Design
//!
//! A simulation started empty (no queue, cold caches, one instance) spends its first minutes
//! away from steady state; averaging those minutes in biases every figure. The Marginal
//! Standard Error Rule (White, "An effective truncation heuristic for bias reduction in
//! simulation output", *Simulation* 69(6), 1997) picks the number `d` of leading observations
//! to delete as the one that minimizes
//!
//! `MSER(d) = 1/(n-d)^2 · Σ_{i>d} (x_i - mean_{d})^2`
//!
//! the squared standard error of the mean of what is kept (up to a factor `(n-d-1)/(n-d)`).
//! Deleting a biased prefix lowers the spread of what is left faster than the loss of data
//! raises it; deleting steady-state data does the opposite. MSER-5 (White, Cobb and Spratt, "A
//! comparison of five steady-state truncation heuristics", WSC 2000) applies the rule to the
//! means of consecutive batches of 5 observations, which smooths the statistic and made it
//! the most robust of the heuristics they and later reviews (Hoad, Robinson and Davies,
//! "Automating warm-up length estimation", JORS 61, 2010) compared. The observations left over
//! after the last full batch are not used.
//!
//! The rule is only trusted when the minimizing `d` lies in the first half of the series
//! (White 1997): a minimum later means the series is still drifting (a ramp, an overloaded
//! queue) and the run is too short to have reached steady state. [`mser`] truncates at the
//! best `d` of the first half, and flags the series as too short when the minimum over every
//! `d` that keeps at least a quarter of the series ([`MIN_TAIL`]) lies beyond the half. The
//! statistic of a short tail is too noisy to compare: its sample variance, from few batches,
//! is small by chance often enough that a stationary but bursty series (a queue at 90 %
//! utilization, whose busy periods make the batch means heavy-tailed and correlated) would be
//! flagged. A series that still drifts has its minimum at the far end of any range, so the
//! quarter costs no power against a ramp.
//!
//! The sums run backwards with Welford's update, so each `MSER(d)` costs O(1) and the whole
//! rule O(n), and it stays accurate when the mean is large next to the spread.

use super::ci::Welford;

/// The batch size of MSER-5.
pub const BATCH: usize = 5;

/// Fewest batches that may be kept when looking for the overall minimum, as a fraction of the
/// series (see the module docs); at least 5 batches.
pub const MIN_TAIL: f64 = 0.25;

/// Fewest batches a series needs to be judged.
pub const MIN_BATCHES: usize = 10;

/// Where to truncate a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Truncation {
    /// Observations to delete from the start (a multiple of the batch size).
    pub index: usize,
    /// The statistic's minimum lies in the second half of the series: the series has not
    /// settled, so the run is too short to reach steady state.
    pub too_short: bool,
}

/// MSER with batches of `batch` observations (MSER-5 with [`BATCH`]) on the series `xs`.
///
/// A series of fewer than [`MIN_BATCHES`] batches is too short to judge: it is not truncated
/// and is flagged. Non-finite observations are a caller error: they make every statistic NaN,
/// and the series is then not truncated.
pub fn mser(xs: &[f64], batch: usize) -> Truncation {
    let batch = batch.max(1);
    let means: Vec<f64> = xs
        .chunks_exact(batch)
        .map(|c| c.iter().sum::<f64>() / batch as f64)
        .collect();
    let k = means.len();
    if k < MIN_BATCHES {
        return Truncation {
            index: 0,
            too_short: true,
        };
    }
    let stats = statistic(&means);
    let half = k / 2;
    let best_in = |range: std::ops::RangeInclusive<usize>| {
        range.min_by(|&a, &b| stats[a].total_cmp(&stats[b]).then(a.cmp(&b)))
    };
    let first = best_in(0..=half).unwrap_or(0);
    let tail = ((k as f64 * MIN_TAIL).ceil() as usize).max(5);
    let overall = best_in(0..=k - tail).unwrap_or(0);
    Truncation {
        index: first * batch,
        too_short: overall > half,
    }
}

/// MSER-5: [`mser`] with batches of 5.
pub fn mser5(xs: &[f64]) -> Truncation {
    mser(xs, BATCH)
}

/// `MSER(d)` for every `d` in `0..k` (the last, one value kept, is 0).
fn statistic(z: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; z.len()];
    let mut w = Welford::new();
    for d in (0..z.len()).rev() {
        w.push(z[d]);
        let m = w.count() as f64;
        // Welford's variance has divisor m - 1; the sum of squares is variance · (m - 1).
        let ss = if m > 1.0 {
            w.variance() * (m - 1.0)
        } else {
            0.0
        };
        out[d] = ss / (m * m);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Rng;

    /// Deterministic noise in [-0.5, 0.5).
    fn noise(seed: u64, n: usize) -> Vec<f64> {
        let mut r = Rng::stream(seed, "mser-test");
        (0..n).map(|_| r.next_f64() - 0.5).collect()
    }

    #[test]
    fn a_constant_tail_after_a_transient_is_cut_where_the_transient_ends() {
        // 100 observations decaying from 10 towards 0, then 900 of noise around 0.
        let e = noise(1, 1000);
        let xs: Vec<f64> = (0..1000)
            .map(|i| {
                e[i] + if i < 100 {
                    10.0 * (1.0 - i as f64 / 100.0)
                } else {
                    0.0
                }
            })
            .collect();
        let t = mser5(&xs);
        assert!(!t.too_short, "{t:?}");
        assert!((80..=130).contains(&t.index), "{t:?}");
        assert_eq!(t.index % BATCH, 0);
    }

    #[test]
    fn a_stationary_series_is_not_truncated_much_and_not_flagged() {
        for seed in 0..20 {
            let t = mser5(&noise(seed, 2000));
            assert!(!t.too_short && t.index < 400, "seed {seed}: {t:?}");
        }
    }

    #[test]
    fn a_pure_ramp_is_flagged_too_short() {
        let e = noise(2, 1000);
        let xs: Vec<f64> = (0..1000).map(|i| i as f64 / 100.0 + e[i]).collect();
        let t = mser5(&xs);
        assert!(t.too_short, "{t:?}");
        // Truncated at the end of the first half, the most the rule may delete.
        assert_eq!(t.index, 500);
    }

    #[test]
    fn a_constant_series_keeps_everything() {
        assert_eq!(
            mser5(&[3.0; 100]),
            Truncation {
                index: 0,
                too_short: false
            }
        );
    }

    #[test]
    fn a_series_of_few_batches_is_too_short_to_judge() {
        let t = mser5(&[1.0; 49]);
        assert!(t.too_short && t.index == 0);
        assert!(!mser5(&[1.0; 50]).too_short);
    }

    #[test]
    fn the_statistic_matches_the_definition() {
        let z = [4.0, 1.0, 3.0, 2.0, 7.0, 5.0];
        let s = statistic(&z);
        for d in 0..z.len() {
            let tail = &z[d..];
            let m = tail.iter().sum::<f64>() / tail.len() as f64;
            let ss: f64 = tail.iter().map(|x| (x - m) * (x - m)).sum();
            let want = ss / (tail.len() * tail.len()) as f64;
            assert!((s[d] - want).abs() < 1e-12, "d = {d}: {} vs {want}", s[d]);
        }
    }
}
