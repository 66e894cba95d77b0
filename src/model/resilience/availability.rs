//! Steady-state availability from failure and repair times, and its composition.
//!
//! A component that fails after `MTBF` on average and is repaired in `MTTR` is up a fraction
//! `MTBF / (MTBF + MTTR)` of the time (alternating renewal process: any distributions, only
//! their means matter). Independent components in series are up when all are; `k` of `n`
//! identical replicas in parallel are up when at least `k` are.

/// Minutes in a year of 365.25 days.
pub const MINUTES_PER_YEAR: f64 = 365.25 * 24.0 * 60.0;

/// The availability targets reports compare against.
pub const TARGETS: [f64; 3] = [0.999, 0.9995, 0.9999];

/// Availability of one component with mean time between failures `mtbf` and mean time to
/// repair `mttr` (same unit).
pub fn component(mtbf: f64, mttr: f64) -> f64 {
    if mtbf + mttr <= 0.0 {
        return 1.0;
    }
    mtbf / (mtbf + mttr)
}

/// Independent components in series: all must be up.
pub fn series(parts: &[f64]) -> f64 {
    parts.iter().product()
}

/// Independent components in parallel: at least one must be up.
pub fn parallel(parts: &[f64]) -> f64 {
    1.0 - parts.iter().map(|a| 1.0 - a).product::<f64>()
}

/// At least `k` of `n` independent replicas, each up with probability `a`.
pub fn k_of_n(k: u32, n: u32, a: f64) -> f64 {
    (k..=n)
        .map(|i| binomial(n, i) * a.powi(i as i32) * (1.0 - a).powi((n - i) as i32))
        .sum()
}

fn binomial(n: u32, k: u32) -> f64 {
    (0..k).fold(1.0, |acc, i| acc * f64::from(n - i) / f64::from(i + 1))
}

/// The analytic availability of a system whose services fail as their `failures`
/// controllers say: a service with `n` instances, each up `MTBF / (MTBF + MTTR)` of the time,
/// is available while one is up; a class is available when every service its path visits is
/// (series); the system's availability is the class mix's average. Services without a failure
/// model count as always up. `None` when no service has one, or when a path holds a construct
/// whose availability is not a product over the services it visits (a try scope, whose
/// fallback answers for a failed dependency).
pub fn of_system(spec: &crate::model::SystemSpec) -> Option<f64> {
    use crate::model::controller::ControllerSpec;
    use crate::model::program::Step;
    let mut per_service = vec![1.0; spec.services.len()];
    let mut any = false;
    for c in &spec.controllers {
        if let ControllerSpec::Failures {
            service,
            mtbf,
            mttr,
            ..
        } = c
        {
            let a = component(mtbf.mean(), mttr.mean());
            let n = spec.services[*service as usize].instances;
            per_service[*service as usize] *= k_of_n(1, n, a);
            any = true;
        }
    }
    if !any {
        return None;
    }
    fn visits(path: &[Step], out: &mut Vec<u32>) -> bool {
        path.iter().all(|s| match s {
            Step::Visit(n) => {
                if !out.contains(n) {
                    out.push(*n);
                }
                true
            }
            Step::Delay(_) | Step::ReadVersion(_) | Step::WriteIf(_) | Step::Publish(_) => true,
            Step::Fork(arms) => arms.iter().all(|a| visits(a, out)),
            Step::Repeat(_, b) | Step::Pool(_, b) => visits(b, out),
            Step::Query(q) => {
                if !out.contains(&q.node) {
                    out.push(q.node);
                }
                true
            }
            Step::Branch(_)
            | Step::ByKey(..)
            | Step::Try(_)
            | Step::CacheRead(_)
            | Step::CacheWrite(_)
            | Step::DbRead(_)
            | Step::DbWrite(_)
            | Step::Saga(..)
            | Step::Geo(..)
            | Step::Rtt(..) => false,
        })
    }
    let mut total = 0.0;
    let mut previous = 0.0;
    for (class, cum) in spec.classes.iter().zip(&spec.mix.cumulative) {
        let mut seen = Vec::new();
        if !visits(&class.path, &mut seen) {
            return None;
        }
        let a: f64 = seen.iter().map(|s| per_service[*s as usize]).product();
        total += (cum - previous) * a;
        previous = *cum;
    }
    Some(total)
}

/// Expected downtime in minutes per year at availability `a`.
pub fn downtime_minutes_per_year(a: f64) -> f64 {
    (1.0 - a).max(0.0) * MINUTES_PER_YEAR
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nines() {
        // 99.99 % is 52.6 minutes a year; 99.9 % is 8.77 hours.
        assert!((downtime_minutes_per_year(0.9999) - 52.596).abs() < 0.01);
        assert!((downtime_minutes_per_year(0.999) / 60.0 - 8.766).abs() < 0.001);
    }

    #[test]
    fn composition() {
        let a = component(999.0, 1.0);
        assert!((a - 0.999).abs() < 1e-12);
        assert!((series(&[a, a]) - 0.998001).abs() < 1e-12);
        assert!((parallel(&[a, a]) - 0.999999).abs() < 1e-12);
        // 1 of n is parallel, n of n is series.
        assert!((k_of_n(1, 3, a) - parallel(&[a, a, a])).abs() < 1e-12);
        assert!((k_of_n(3, 3, a) - series(&[a, a, a])).abs() < 1e-12);
        // 2 of 3: 3a^2(1-a) + a^3.
        let want = 3.0 * a * a * (1.0 - a) + a * a * a;
        assert!((k_of_n(2, 3, a) - want).abs() < 1e-12);
    }
}
