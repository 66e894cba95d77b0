//! Closed-form queueing theory, to check the simulator against.
//!
//! # Conventions
//!
//! `lambda` is the arrival rate, `mu` the service rate of one server, `c` the number of
//! servers, `k` the capacity (customers in the system, waiting plus in service). Times come
//! out in the unit of `1 / mu` (or of `d`, the deterministic service time of M/D/1). "Wait" is
//! the time in queue before service starts; "response" is wait plus service. All disciplines
//! are FCFS. A parameter set that is invalid (negative or non-finite rates, `c = 0`, `k < c`)
//! or unstable (`lambda >= c * mu` for an infinite queue) gives NaN; nothing panics. A
//! quantile takes `p` in `[0, 1]`: `p = 0` gives 0, `p = 1` gives infinity.
//!
//! # Models and sources
//!
//! - **M/M/1**: `Wq = rho / (mu - lambda)`, `W = 1 / (mu - lambda)`; the response time is
//!   `Exp(mu - lambda)`; the wait is 0 with probability `1 - rho`, else `Exp(mu - lambda)`
//!   (Kleinrock, *Queueing Systems* vol. 1, 1975, §3.2; Gross et al., *Fundamentals of
//!   Queueing Theory*, 4th ed., §2.2).
//! - **Erlang B** by the recursion `B(0) = 1`, `B(k) = a B(k-1) / (k + a B(k-1))`, which never
//!   forms `a^c / c!` and is stable for thousands of servers; **Erlang C** from it,
//!   `C = c B / (c - a (1 - B))` (Iversen, *Teletraffic Engineering and Network Planning*,
//!   DTU 2015, §4.3 and §9.2).
//! - **M/M/c**: `P(wait > 0) = C(c, a)` with `a = lambda / mu`; the wait is 0 with probability
//!   `1 - C`, else `Exp(c mu - lambda)` (Gross et al. §2.3). The response time is that wait plus
//!   an independent `Exp(mu)` service. With `theta = c mu - lambda`, the sum `X + S` of
//!   `X ~ Exp(theta)` and `S ~ Exp(mu)` has survival
//!   `(theta e^{-mu t} - mu e^{-theta t}) / (theta - mu)`, which tends to the Erlang-2
//!   survival `(1 + mu t) e^{-mu t}` as `theta -> mu`. It is evaluated as
//!   `e^{-m t} (1 + m t phi((M - m) t))` with `m = min(theta, mu)`, `M = max(theta, mu)` and
//!   `phi(z) = (1 - e^{-z}) / z`, which has no cancellation near `theta = mu` and no special
//!   case. Quantiles invert the survival by bisection to 1e-12 relative.
//! - **M/M/c/K**: birth-death stationary distribution `p_n ∝ a^n / n!` (`n <= c`),
//!   `a^c / c! (a/c)^{n-c}` (`n > c`), built in logarithms and normalized from the largest
//!   term, so `k` can be thousands and the load any size. Arrivals that find `k` customers are
//!   lost (PASTA: with probability `p_K`); Little's law with the admitted rate
//!   `lambda (1 - p_K)` gives the waits of admitted customers (Gross et al. §2.5).
//! - **M/D/1**: Pollaczek-Khinchine `Wq = rho D / (2 (1 - rho))`. The waiting-time CDF is
//!   Erlang's (1909) formula, as written by Crommelin (1932) and Franx (2001), in units of
//!   `D` with `tau = t / D`:
//!   `P(W <= t) = (1 - rho) sum_{k=0}^{floor(tau)} (rho (k - tau))^k / k! e^{-rho (k - tau)}`.
//!   Its terms alternate in sign and grow like `e^{c tau}`, so double precision loses about
//!   `log10(sum |terms|)` digits. Elsewhere the tail is the dominant-pole asymptote
//!   `P(W > t) ≈ (1 - rho) / (z + rho - 1) · e^{-z tau}`, where `z > 0` solves
//!   `rho (e^z - 1) = z` (Cramér-Lundberg; the constant is the residue of the
//!   Pollaczek-Khinchine transform at `-z / D`). The series is used while the asymptotic tail
//!   is at least 1e-13 and the sum of absolute terms stays below 1e5 (absolute error about
//!   1e-16 times that sum); the asymptote everywhere else. Checked against 400-digit
//!   evaluations of the series for `rho` from 1e-4 to 0.999: at the switch the asymptote's
//!   relative error is below 1e-10 (where the tail matters) and the series' absolute error
//!   below 2e-11, so the CDF is accurate to about 2e-11 absolute everywhere, and the tail
//!   `1 - F` to about 1e-9 relative wherever `1 - F >= 1e-5`. Low loads are where the
//!   asymptote is poor (relative error up to 2 at `rho = 1e-3`), but only where the tail is
//!   already below 1e-13.
//! - **M/G/1**: Pollaczek-Khinchine `Wq = lambda E[S^2] / (2 (1 - rho))`, with lognormal
//!   service moments `E[S] = e^{m + s^2/2}`, `E[S^2] = e^{2m + 2 s^2}`.
//! - **Little's law** `L = lambda W`.

/// Largest capacity `k` the M/M/c/K functions accept (their distribution has `k + 1` entries).
pub const MMCK_MAX_K: usize = 1 << 24;

// ---------------------------------------------------------------------------------------------
// Shared helpers.

/// Whether `lambda` and `mu` are valid rates (`lambda >= 0`, `mu > 0`, both finite).
fn valid_rates(lambda: f64, mu: f64) -> bool {
    lambda.is_finite() && mu.is_finite() && lambda >= 0.0 && mu > 0.0
}

/// Whether `p` is a probability.
fn valid_p(p: f64) -> bool {
    (0.0..=1.0).contains(&p)
}

/// `(1 - e^{-z}) / z` for `z >= 0`, equal to 1 at 0.
fn phi(z: f64) -> f64 {
    if z == 0.0 { 1.0 } else { -(-z).exp_m1() / z }
}

/// Survival `P(X + S > t)` of the sum of independent `Exp(r1)` and `Exp(r2)`.
fn hypoexp_survival(r1: f64, r2: f64, t: f64) -> f64 {
    let (m, big) = if r1 <= r2 { (r1, r2) } else { (r2, r1) };
    (-m * t).exp() * (1.0 + m * t * phi((big - m) * t))
}

/// The smallest `t >= 0` with `survival(t) <= target`, for a decreasing `survival` with
/// `survival(0) >= target`, by bracketing from `scale` and bisection to 1e-12 relative.
fn invert_survival(survival: impl Fn(f64) -> f64, target: f64, scale: f64) -> f64 {
    if survival(0.0) <= target {
        return 0.0;
    }
    let mut hi = scale;
    for _ in 0..2100 {
        if survival(hi) <= target {
            break;
        }
        hi *= 2.0;
    }
    let mut lo = 0.0;
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if survival(mid) > target {
            lo = mid
        } else {
            hi = mid
        }
        if hi - lo <= 1e-12 * hi {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// Quantile of a waiting time that is 0 with probability `1 - pw`, else `Exp(rate)`.
fn atom_exp_quantile(pw: f64, rate: f64, p: f64) -> f64 {
    if p.is_nan() || pw.is_nan() || !valid_p(p) {
        return f64::NAN;
    }
    if 1.0 - p >= pw {
        0.0
    } else {
        (pw / (1.0 - p)).ln() / rate
    }
}

/// CDF of a waiting time that is 0 with probability `1 - pw`, else `Exp(rate)`.
fn atom_exp_cdf(pw: f64, rate: f64, t: f64) -> f64 {
    if t.is_nan() || pw.is_nan() {
        f64::NAN
    } else if t < 0.0 {
        0.0
    } else {
        1.0 - pw * (-rate * t).exp()
    }
}

// ---------------------------------------------------------------------------------------------
// M/M/1.

/// `mu - lambda` if M/M/1 is stable, else NaN.
fn mm1_gap(lambda: f64, mu: f64) -> f64 {
    if valid_rates(lambda, mu) && lambda < mu {
        mu - lambda
    } else {
        f64::NAN
    }
}

/// M/M/1 mean wait in queue `Wq = rho / (mu - lambda)`.
pub fn mm1_mean_wait(lambda: f64, mu: f64) -> f64 {
    (lambda / mu) / mm1_gap(lambda, mu)
}

/// M/M/1 mean response time `W = 1 / (mu - lambda)`.
pub fn mm1_mean_response(lambda: f64, mu: f64) -> f64 {
    1.0 / mm1_gap(lambda, mu)
}

/// M/M/1 probability that an arrival waits, `rho`.
pub fn mm1_p_wait(lambda: f64, mu: f64) -> f64 {
    if mm1_gap(lambda, mu).is_nan() {
        f64::NAN
    } else {
        lambda / mu
    }
}

/// M/M/1 waiting-time CDF `1 - rho e^{-(mu - lambda) t}` (0 for `t < 0`).
pub fn mm1_wait_cdf(lambda: f64, mu: f64, t: f64) -> f64 {
    atom_exp_cdf(mm1_p_wait(lambda, mu), mm1_gap(lambda, mu), t)
}

/// M/M/1 waiting-time quantile: 0 if `p <= 1 - rho`, else `ln(rho / (1 - p)) / (mu - lambda)`.
pub fn mm1_wait_quantile(lambda: f64, mu: f64, p: f64) -> f64 {
    atom_exp_quantile(mm1_p_wait(lambda, mu), mm1_gap(lambda, mu), p)
}

/// M/M/1 response-time CDF `1 - e^{-(mu - lambda) t}` (0 for `t < 0`).
pub fn mm1_response_cdf(lambda: f64, mu: f64, t: f64) -> f64 {
    atom_exp_cdf(1.0, mm1_gap(lambda, mu), t)
}

/// M/M/1 response-time quantile `-ln(1 - p) / (mu - lambda)`.
pub fn mm1_response_quantile(lambda: f64, mu: f64, p: f64) -> f64 {
    atom_exp_quantile(1.0, mm1_gap(lambda, mu), p)
}

// ---------------------------------------------------------------------------------------------
// Erlang B and C, M/M/c.

/// Erlang B: blocking probability of M/M/c/c with offered load `a = lambda / mu` erlangs.
///
/// `c = 0` gives 1 (every arrival is lost); NaN for negative or non-finite `a`.
pub fn erlang_b(c: usize, a: f64) -> f64 {
    if !a.is_finite() || a < 0.0 {
        return f64::NAN;
    }
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (k as f64 + a * b);
        if b == 0.0 {
            break; // The recursion keeps 0 at 0; stopping bounds the loop for huge `c`.
        }
    }
    b
}

/// Erlang C: probability that an M/M/c arrival waits, offered load `a` erlangs.
///
/// NaN unless `c >= 1` and `0 <= a < c`.
pub fn erlang_c(c: usize, a: f64) -> f64 {
    let cf = c as f64;
    if c == 0 || a.is_nan() || a >= cf {
        return f64::NAN;
    }
    let b = erlang_b(c, a);
    cf * b / (cf - a * (1.0 - b))
}

/// `(C, c mu - lambda)` if M/M/c is stable, else NaNs.
fn mmc_parts(c: usize, lambda: f64, mu: f64) -> (f64, f64) {
    let theta = c as f64 * mu - lambda;
    if valid_rates(lambda, mu) && c > 0 && theta > 0.0 {
        (erlang_c(c, lambda / mu), theta)
    } else {
        (f64::NAN, f64::NAN)
    }
}

/// M/M/c mean wait in queue `C / (c mu - lambda)`.
pub fn mmc_mean_wait(c: usize, lambda: f64, mu: f64) -> f64 {
    let (pw, theta) = mmc_parts(c, lambda, mu);
    pw / theta
}

/// M/M/c mean response time `Wq + 1 / mu`.
pub fn mmc_mean_response(c: usize, lambda: f64, mu: f64) -> f64 {
    mmc_mean_wait(c, lambda, mu) + 1.0 / mu
}

/// M/M/c probability that an arrival waits (Erlang C).
pub fn mmc_p_wait(c: usize, lambda: f64, mu: f64) -> f64 {
    mmc_parts(c, lambda, mu).0
}

/// M/M/c waiting-time CDF `1 - C e^{-(c mu - lambda) t}` (0 for `t < 0`).
pub fn mmc_wait_cdf(c: usize, lambda: f64, mu: f64, t: f64) -> f64 {
    let (pw, theta) = mmc_parts(c, lambda, mu);
    atom_exp_cdf(pw, theta, t)
}

/// M/M/c waiting-time quantile: 0 if `p <= 1 - C`, else `ln(C / (1 - p)) / (c mu - lambda)`.
pub fn mmc_wait_quantile(c: usize, lambda: f64, mu: f64, p: f64) -> f64 {
    let (pw, theta) = mmc_parts(c, lambda, mu);
    atom_exp_quantile(pw, theta, p)
}

/// M/M/c response-time survival `P(T > t)` for `t >= 0`, given `(C, theta)`.
fn mmc_response_survival(pw: f64, theta: f64, mu: f64, t: f64) -> f64 {
    (1.0 - pw) * (-mu * t).exp() + pw * hypoexp_survival(theta, mu, t)
}

/// M/M/c response-time CDF (wait plus `Exp(mu)` service; 0 for `t < 0`).
pub fn mmc_response_cdf(c: usize, lambda: f64, mu: f64, t: f64) -> f64 {
    let (pw, theta) = mmc_parts(c, lambda, mu);
    if t.is_nan() || pw.is_nan() {
        return f64::NAN;
    }
    if t < 0.0 {
        0.0
    } else {
        1.0 - mmc_response_survival(pw, theta, mu, t)
    }
}

/// M/M/c response-time quantile, by bisection on the closed-form CDF (1e-12 relative).
pub fn mmc_response_quantile(c: usize, lambda: f64, mu: f64, p: f64) -> f64 {
    let (pw, theta) = mmc_parts(c, lambda, mu);
    if p.is_nan() || pw.is_nan() || !valid_p(p) {
        return f64::NAN;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    let survival = |t: f64| mmc_response_survival(pw, theta, mu, t);
    invert_survival(survival, 1.0 - p, 1.0 / theta.min(mu))
}

// ---------------------------------------------------------------------------------------------
// M/M/c/K.

/// Stationary distribution `p_0..=p_k` of M/M/c/K (`k` = total capacity, `k >= c >= 1`).
///
/// `None` for invalid parameters or `k > MMCK_MAX_K`. Any load is allowed (the system is
/// finite). Computed in logarithms and normalized from the largest term.
pub fn mmck_distribution(c: usize, k: usize, lambda: f64, mu: f64) -> Option<Vec<f64>> {
    if c == 0 || k < c || k > MMCK_MAX_K || !valid_rates(lambda, mu) {
        return None;
    }
    let ln_a = (lambda / mu).ln();
    let mut ln_w = Vec::with_capacity(k + 1);
    ln_w.push(0.0);
    for n in 1..=k {
        ln_w.push(ln_w[n - 1] + ln_a - (n.min(c) as f64).ln());
    }
    let top = ln_w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let w: Vec<f64> = ln_w.iter().map(|&l| (l - top).exp()).collect();
    let total: f64 = w.iter().sum();
    Some(w.into_iter().map(|x| x / total).collect())
}

/// Applies `f` to the M/M/c/K distribution, or NaN when the parameters are invalid.
fn with_mmck(c: usize, k: usize, lambda: f64, mu: f64, f: impl Fn(&[f64]) -> f64) -> f64 {
    mmck_distribution(c, k, lambda, mu).map_or(f64::NAN, |p| f(&p))
}

/// M/M/c/K blocking probability `p_K` (fraction of arrivals lost).
pub fn mmck_blocking(c: usize, k: usize, lambda: f64, mu: f64) -> f64 {
    with_mmck(c, k, lambda, mu, |p| p[k])
}

/// M/M/c/K mean number waiting in queue, `sum_{n > c} (n - c) p_n`.
pub fn mmck_mean_queue_len(c: usize, k: usize, lambda: f64, mu: f64) -> f64 {
    with_mmck(c, k, lambda, mu, |p| queue_len(p, c))
}

fn queue_len(p: &[f64], c: usize) -> f64 {
    p.iter()
        .enumerate()
        .skip(c + 1)
        .map(|(n, x)| (n - c) as f64 * x)
        .sum()
}

/// M/M/c/K mean number in the system, `sum_n n p_n`.
pub fn mmck_mean_in_system(c: usize, k: usize, lambda: f64, mu: f64) -> f64 {
    with_mmck(c, k, lambda, mu, |p| {
        p.iter().enumerate().map(|(n, x)| n as f64 * x).sum()
    })
}

/// M/M/c/K admitted rate (throughput) `lambda (1 - p_K)`.
pub fn mmck_throughput(c: usize, k: usize, lambda: f64, mu: f64) -> f64 {
    // Summing p_0..p_{K-1} keeps 1 - p_K accurate when p_K is close to 1.
    with_mmck(c, k, lambda, mu, |p| lambda * p[..k].iter().sum::<f64>())
}

/// M/M/c/K mean wait of admitted customers, `Lq / (lambda (1 - p_K))` (0 when `lambda = 0`).
pub fn mmck_mean_wait(c: usize, k: usize, lambda: f64, mu: f64) -> f64 {
    with_mmck(c, k, lambda, mu, |p| {
        let lq = queue_len(p, c);
        if lq == 0.0 {
            0.0
        } else {
            lq / (lambda * p[..k].iter().sum::<f64>())
        }
    })
}

/// M/M/c/K mean response time of admitted customers, `Wq + 1 / mu`.
pub fn mmck_mean_response(c: usize, k: usize, lambda: f64, mu: f64) -> f64 {
    mmck_mean_wait(c, k, lambda, mu) + 1.0 / mu
}

/// M/M/c/K probability that an admitted customer waits, `sum_{c <= n < K} p_n / (1 - p_K)`.
pub fn mmck_p_wait(c: usize, k: usize, lambda: f64, mu: f64) -> f64 {
    with_mmck(c, k, lambda, mu, |p| {
        p[c..k].iter().sum::<f64>() / p[..k].iter().sum::<f64>()
    })
}

// ---------------------------------------------------------------------------------------------
// M/D/1.

/// Above this sum of absolute series terms, the M/D/1 CDF switches to the asymptote.
const MD1_SERIES_MAX_ABS: f64 = 1e5;
/// Where the asymptotic tail is below this, the CDF is `1 - tail`: the true tail is then below
/// it too, within a factor of 3 at the lowest loads (checked against mpmath for `rho` down to
/// 1e-4), so the absolute error is below 1e-13.
const MD1_NEGLIGIBLE_TAIL: f64 = 1e-13;
/// Beyond this many service times, the M/D/1 CDF always uses the asymptote.
const MD1_SERIES_MAX_TAU: f64 = 200.0;

/// `rho = lambda d` if M/D/1 is stable, else NaN.
fn md1_rho(lambda: f64, d: f64) -> f64 {
    let rho = lambda * d;
    if valid_rates(lambda, d) && rho < 1.0 {
        rho
    } else {
        f64::NAN
    }
}

/// M/D/1 mean wait in queue (Pollaczek-Khinchine) `rho d / (2 (1 - rho))`.
pub fn md1_mean_wait(lambda: f64, d: f64) -> f64 {
    let rho = md1_rho(lambda, d);
    rho * d / (2.0 * (1.0 - rho))
}

/// M/D/1 mean response time `Wq + d`.
pub fn md1_mean_response(lambda: f64, d: f64) -> f64 {
    md1_mean_wait(lambda, d) + d
}

/// M/D/1 waiting-time CDF `P(W <= t)` (Erlang's formula, asymptotic tail; see module docs).
pub fn md1_wait_cdf(lambda: f64, d: f64, t: f64) -> f64 {
    let rho = md1_rho(lambda, d);
    if t.is_nan() || rho.is_nan() {
        return f64::NAN;
    }
    if t < 0.0 {
        return 0.0;
    }
    md1_cdf_tau(rho, t / d)
}

/// M/D/1 waiting-time CDF in units of `d`, for `tau >= 0`.
fn md1_cdf_tau(rho: f64, tau: f64) -> f64 {
    if rho == 0.0 {
        return 1.0;
    }
    let tail = md1_asymptotic_tail(rho, tau);
    if tail < MD1_NEGLIGIBLE_TAIL {
        return 1.0 - tail;
    }
    md1_series(rho, tau).map_or(1.0 - tail, |f| f.min(1.0))
}

/// Erlang's alternating series, or `None` where it would lose too many digits.
fn md1_series(rho: f64, tau: f64) -> Option<f64> {
    if tau > MD1_SERIES_MAX_TAU {
        return None;
    }
    let (mut sum, mut abs_sum, mut ln_fact) = (0.0, 0.0, 0.0);
    for k in 0..=(tau.floor() as u32) {
        let kf = f64::from(k);
        ln_fact += if k > 0 { kf.ln() } else { 0.0 };
        let term = md1_term(rho * (tau - kf), kf, ln_fact);
        sum += if k % 2 == 0 { term } else { -term };
        abs_sum += term;
        if abs_sum > MD1_SERIES_MAX_ABS {
            return None;
        }
    }
    Some((1.0 - rho) * sum)
}

/// `|term_k| = y^k / k! e^y` with `y = rho (tau - k) >= 0`, in logarithms.
fn md1_term(y: f64, k: f64, ln_fact: f64) -> f64 {
    if k == 0.0 {
        y.exp()
    } else if y <= 0.0 {
        0.0
    } else {
        (y + k * y.ln() - ln_fact).exp()
    }
}

/// Dominant-pole asymptote of `P(W > tau d)`: `(1 - rho) / (z + rho - 1) e^{-z tau}`.
fn md1_asymptotic_tail(rho: f64, tau: f64) -> f64 {
    let z = md1_decay_rate(rho);
    (1.0 - rho) / (z + rho - 1.0) * (-z * tau).exp()
}

/// The root `z > 0` of `rho (e^z - 1) = z` (decay rate of the tail, per service time).
///
/// Newton from the right of the root, where the convex function is positive: the iterates
/// decrease monotonically to the root. `z0 = -2 ln rho` lies to the right (module tests).
fn md1_decay_rate(rho: f64) -> f64 {
    let mut z = -2.0 * rho.ln();
    for _ in 0..200 {
        let f = rho * z.exp_m1() - z;
        let step = f / (rho * z.exp() - 1.0);
        z -= step;
        if step.is_nan() || step.abs() <= 1e-15 * z {
            break;
        }
    }
    z
}

/// M/D/1 waiting-time quantile (0 when `p <= 1 - rho`), by bisection on the CDF.
pub fn md1_wait_quantile(lambda: f64, d: f64, p: f64) -> f64 {
    let rho = md1_rho(lambda, d);
    if p.is_nan() || rho.is_nan() || !valid_p(p) {
        return f64::NAN;
    }
    if p <= 1.0 - rho {
        return 0.0;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    d * invert_survival(|tau| 1.0 - md1_cdf_tau(rho, tau), 1.0 - p, 1.0)
}

/// M/D/1 response-time CDF `P(W + d <= t)`.
pub fn md1_response_cdf(lambda: f64, d: f64, t: f64) -> f64 {
    md1_wait_cdf(lambda, d, t - d)
}

/// M/D/1 response-time quantile: the wait quantile plus `d`.
pub fn md1_response_quantile(lambda: f64, d: f64, p: f64) -> f64 {
    md1_wait_quantile(lambda, d, p) + d
}

// ---------------------------------------------------------------------------------------------
// M/G/1, lognormal service, Little.

/// M/G/1 mean wait (Pollaczek-Khinchine) from the service moments `es = E[S]`,
/// `es2 = E[S^2]`: `lambda es2 / (2 (1 - lambda es))`.
///
/// NaN unless `lambda >= 0`, `es > 0`, `es2 >= es^2` (within rounding) and `lambda es < 1`.
pub fn mg1_mean_wait(lambda: f64, es: f64, es2: f64) -> f64 {
    let rho = lambda * es;
    let moments_ok = es2.is_finite() && es2 >= es * es * (1.0 - 1e-12);
    if !valid_rates(lambda, es) || !moments_ok || rho >= 1.0 {
        return f64::NAN;
    }
    lambda * es2 / (2.0 * (1.0 - rho))
}

/// M/G/1 mean response time `Wq + E[S]`.
pub fn mg1_mean_response(lambda: f64, es: f64, es2: f64) -> f64 {
    mg1_mean_wait(lambda, es, es2) + es
}

/// `(E[S], E[S^2])` of a lognormal whose log has mean `mu` and standard deviation `sigma`.
///
/// NaNs unless `mu` is finite and `sigma >= 0` is finite.
pub fn lognormal_moments(mu: f64, sigma: f64) -> (f64, f64) {
    if !mu.is_finite() || !sigma.is_finite() || sigma < 0.0 {
        return (f64::NAN, f64::NAN);
    }
    let s2 = sigma * sigma;
    ((mu + 0.5 * s2).exp(), (2.0 * mu + 2.0 * s2).exp())
}

/// `(E[S], E[S^2])` of a lognormal given its median (`e^mu`, > 0) and log-sd `sigma`.
pub fn lognormal_moments_from_median(median: f64, sigma: f64) -> (f64, f64) {
    if median > 0.0 {
        lognormal_moments(median.ln(), sigma)
    } else {
        (f64::NAN, f64::NAN)
    }
}

/// Little's law: mean number in the system `L = lambda W`.
pub fn little_l(lambda: f64, w: f64) -> f64 {
    lambda * w
}

/// Little's law solved for the mean time in the system, `W = L / lambda`.
pub fn little_w(l: f64, lambda: f64) -> f64 {
    l / lambda
}

#[cfg(test)]
#[allow(clippy::excessive_precision)] // reference values keep all their printed digits
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn assert_rel(got: f64, want: f64, tol: f64) {
        let err = ((got - want) / want).abs();
        assert!(
            err <= tol,
            "got {got}, want {want}, rel err {err:e} > {tol:e}"
        );
    }

    // ---- M/M/1 ---------------------------------------------------------------------------

    #[test]
    fn mm1_textbook_values() {
        // rho = 0.5, mu = 2: W = 2 / mu = 1, Wq = rho / (mu - lambda) = 0.5.
        assert_rel(mm1_mean_response(1.0, 2.0), 1.0, 1e-15);
        assert_rel(mm1_mean_wait(1.0, 2.0), 0.5, 1e-15);
        assert_rel(mm1_p_wait(1.0, 2.0), 0.5, 1e-15);
        // Median response: ln 2 / (mu - lambda).
        assert_rel(
            mm1_response_quantile(1.0, 2.0, 0.5),
            std::f64::consts::LN_2,
            1e-15,
        );
        // Wait: 0 up to p = 1 - rho, then ln(rho / (1 - p)) / (mu - lambda).
        assert_eq!(mm1_wait_quantile(1.0, 2.0, 0.5), 0.0);
        assert_rel(
            mm1_wait_quantile(1.0, 2.0, 0.99),
            (0.5f64 / 0.01).ln(),
            1e-14,
        );
    }

    #[test]
    fn mm1_invalid_and_edges() {
        for (l, m) in [
            (2.0, 2.0),
            (3.0, 2.0),
            (-1.0, 2.0),
            (1.0, 0.0),
            (f64::NAN, 1.0),
        ] {
            assert!(mm1_mean_wait(l, m).is_nan() && mm1_mean_response(l, m).is_nan());
            assert!(mm1_p_wait(l, m).is_nan() && mm1_response_quantile(l, m, 0.5).is_nan());
        }
        assert_eq!(mm1_mean_wait(0.0, 1.0), 0.0);
        assert_eq!(mm1_response_quantile(0.5, 1.0, 0.0), 0.0);
        assert_eq!(mm1_response_quantile(0.5, 1.0, 1.0), f64::INFINITY);
        assert!(mm1_response_quantile(0.5, 1.0, 1.1).is_nan());
        assert_eq!(mm1_wait_cdf(0.5, 1.0, -1.0), 0.0);
        assert_rel(mm1_wait_cdf(0.5, 1.0, 0.0), 0.5, 1e-15);
    }

    #[test]
    fn mm1_quantiles_invert_cdfs() {
        for p in [0.6, 0.9, 0.99, 0.999999] {
            let t = mm1_response_quantile(0.7, 1.0, p);
            assert_rel(mm1_response_cdf(0.7, 1.0, t), p, 1e-13);
            let w = mm1_wait_quantile(0.7, 1.0, p);
            assert_rel(mm1_wait_cdf(0.7, 1.0, w), p, 1e-13);
        }
    }

    // ---- Erlang B / C ----------------------------------------------------------------------

    /// (c, a, value) from mpmath, summing `a^k / k!` at 60 digits.
    const ERLANG_B_REF: [(usize, f64, f64); 3] = [
        (1, 1.0, 0.5),
        (10, 5.0, 0.018384570336648133),
        (100, 80.0, 0.0039920286045531975),
    ];
    const ERLANG_C_REF: [(usize, f64, f64); 5] = [
        (2, 1.0, 1.0 / 3.0),
        (4, 3.2, 0.59643247178740452),
        (100, 95.0, 0.50645685391302059),
        (1000, 990.0, 0.65908042188085444),
        (1000, 500.0, 3.3048302555026836e-86),
    ];

    #[test]
    fn erlang_b_and_c_match_direct_sums() {
        for (c, a, want) in ERLANG_B_REF {
            assert_rel(erlang_b(c, a), want, 1e-13);
        }
        for (c, a, want) in ERLANG_C_REF {
            assert_rel(erlang_c(c, a), want, 1e-11);
        }
    }

    #[test]
    fn erlang_edges() {
        assert_eq!(erlang_b(0, 3.0), 1.0);
        assert_eq!(erlang_b(5, 0.0), 0.0);
        assert_eq!(erlang_c(5, 0.0), 0.0);
        assert!(erlang_b(3, -1.0).is_nan() && erlang_b(3, f64::INFINITY).is_nan());
        assert!(
            erlang_c(0, 0.5).is_nan() && erlang_c(3, 3.0).is_nan() && erlang_c(3, 4.0).is_nan()
        );
        assert!(erlang_c(3, f64::NAN).is_nan());
        assert!(erlang_b(usize::MAX, 1.0) == 0.0, "underflow ends the loop");
    }

    // ---- M/M/c -----------------------------------------------------------------------------

    #[test]
    fn mmc_reference_numbers() {
        // c = 4, mu = 1, lambda = 3.2: W = 1.7455, p99 response = 6.893 (brief), mpmath digits.
        assert_rel(mmc_mean_response(4, 3.2, 1.0), 1.7455405897342556, 1e-13);
        let want = [(0.5, 1.3461990538193103), (0.9, 3.7759602497672087)];
        let want = want
            .into_iter()
            .chain([(0.99, 6.8932037488830008), (0.999999, 18.614961667886255)]);
        for (p, q) in want {
            assert_rel(mmc_response_quantile(4, 3.2, 1.0, p), q, 1e-10);
        }
        assert!((mmc_mean_response(4, 3.2, 1.0) - 1.7455).abs() < 1e-4);
        assert!((mmc_response_quantile(4, 3.2, 1.0, 0.99) - 6.893).abs() < 1e-3);
    }

    #[test]
    fn mmc_response_quantile_at_and_near_theta_equal_mu() {
        // c = 2, lambda = 1, mu = 1: theta = c mu - lambda = mu exactly (Erlang-2 branch).
        assert_rel(
            mmc_response_quantile(2, 1.0, 1.0, 0.95),
            3.8164603051678294,
            1e-10,
        );
        // Continuity across theta = mu.
        let at = mmc_response_cdf(2, 1.0, 1.0, 2.5);
        for eps in [1e-12, 1e-9, 1e-6] {
            assert!((mmc_response_cdf(2, 1.0 + eps, 1.0, 2.5) - at).abs() < 10.0 * eps);
            assert!((mmc_response_cdf(2, 1.0 - eps, 1.0, 2.5) - at).abs() < 10.0 * eps);
        }
        assert_rel(
            mmc_response_quantile(3, 2.5, 1.0, 0.99),
            9.8855813149350728,
            1e-10,
        );
    }

    #[test]
    fn mmc_with_one_server_is_mm1() {
        for (l, m) in [(0.5, 1.0), (0.9, 1.0), (3.0, 4.0), (0.01, 2.0)] {
            assert_rel(mmc_mean_wait(1, l, m), mm1_mean_wait(l, m), 1e-13);
            assert_rel(mmc_mean_response(1, l, m), mm1_mean_response(l, m), 1e-13);
            assert_rel(mmc_p_wait(1, l, m), mm1_p_wait(l, m), 1e-13);
            for p in [0.3, 0.95, 0.999] {
                assert_rel(
                    mmc_response_quantile(1, l, m, p),
                    mm1_response_quantile(l, m, p),
                    1e-10,
                );
                let (w1, w) = (mmc_wait_quantile(1, l, m, p), mm1_wait_quantile(l, m, p));
                assert!((w1 - w).abs() <= 1e-12 * w.max(1.0));
            }
        }
    }

    #[test]
    fn mmc_large_systems_are_finite_and_sane() {
        let c = 1000;
        let lambda = 990.0; // rho = 0.99
        let pw = mmc_p_wait(c, lambda, 1.0);
        assert_rel(pw, 0.65908042188085444, 1e-11);
        assert_rel(mmc_mean_wait(c, lambda, 1.0), pw / 10.0, 1e-12);
        let q = mmc_response_quantile(c, lambda, 1.0, 0.99);
        assert!(q.is_finite() && q > mmc_mean_response(c, lambda, 1.0));
        assert_rel(mmc_response_cdf(c, lambda, 1.0, q), 0.99, 1e-10);
    }

    #[test]
    fn mmc_quantiles_invert_cdfs() {
        for (c, l) in [(2, 1.5), (8, 7.9), (50, 20.0)] {
            for p in [0.1, 0.5, 0.9, 0.999] {
                let t = mmc_response_quantile(c, l, 1.0, p);
                assert_rel(mmc_response_cdf(c, l, 1.0, t), p, 1e-10);
                let w = mmc_wait_quantile(c, l, 1.0, p);
                if w > 0.0 {
                    assert_rel(mmc_wait_cdf(c, l, 1.0, w), p, 1e-12);
                } else {
                    assert!(mmc_wait_cdf(c, l, 1.0, 0.0) >= p);
                }
            }
        }
    }

    #[test]
    fn mmc_invalid() {
        assert!(mmc_mean_wait(0, 0.5, 1.0).is_nan());
        assert!(mmc_mean_wait(2, 2.0, 1.0).is_nan());
        assert!(mmc_response_quantile(2, 1.0, 1.0, -0.5).is_nan());
        assert!(mmc_response_cdf(2, 3.0, 1.0, 1.0).is_nan());
        assert_eq!(mmc_response_quantile(2, 1.0, 1.0, 1.0), f64::INFINITY);
        assert_eq!(mmc_response_quantile(2, 1.0, 1.0, 0.0), 0.0);
        assert_eq!(mmc_response_cdf(2, 1.0, 1.0, -2.0), 0.0);
    }

    // ---- M/M/c/K ---------------------------------------------------------------------------

    #[test]
    fn mmck_matches_exact_rationals() {
        // c = 2, K = 5, lambda = 3, mu = 2, with Python fractions.
        let p = mmck_distribution(2, 5, 3.0, 2.0).unwrap();
        let want = [
            0.17933450087565675,
            0.26900175131348514,
            0.20175131348511383,
        ];
        let want = want
            .into_iter()
            .chain([0.15131348511383538, 0.11348511383537653]);
        for (got, want) in p.iter().zip(want.chain([0.0851138353765324])) {
            assert_rel(*got, want, 1e-14);
        }
        assert_rel(mmck_blocking(2, 5, 3.0, 2.0), 0.0851138353765324, 1e-14);
        assert_rel(
            mmck_mean_queue_len(2, 5, 3.0, 2.0),
            0.6336252189141857,
            1e-14,
        );
        assert_rel(
            mmck_mean_in_system(2, 5, 3.0, 2.0),
            2.005954465849387,
            1e-14,
        );
        assert_rel(mmck_mean_wait(2, 5, 3.0, 2.0), 0.23085758039816232, 1e-14);
        assert_rel(
            mmck_mean_response(2, 5, 3.0, 2.0),
            0.7308575803981623,
            1e-14,
        );
        assert_rel(mmck_p_wait(2, 5, 3.0, 2.0), 0.5099540581929556, 1e-14);
    }

    #[test]
    fn mmck_overloaded_and_large() {
        // rho = 1.5 (fractions), then K in the thousands (mpmath, 60 digits).
        assert_rel(mmck_blocking(3, 10, 4.5, 1.0), 0.3397710526399913, 1e-13);
        assert_rel(mmck_mean_wait(3, 10, 4.5, 1.0), 1.755580173413875, 1e-13);
        assert_rel(mmck_p_wait(3, 10, 4.5, 1.0), 0.9690124860314098, 1e-13);
        assert_rel(
            mmck_blocking(500, 3000, 495.0, 1.0),
            9.1720151160370022e-14,
            1e-9,
        );
        assert_rel(
            mmck_mean_queue_len(500, 3000, 495.0, 1.0),
            74.150393894370372,
            1e-10,
        );
        assert_rel(
            mmck_mean_wait(500, 3000, 495.0, 1.0),
            0.14979877554419631,
            1e-10,
        );
        assert_rel(
            mmck_p_wait(500, 3000, 495.0, 1.0),
            0.74899387795028192,
            1e-10,
        );
        assert_rel(mmck_blocking(1000, 1500, 1100.0, 1.0), 1.0 / 11.0, 1e-10);
        assert_rel(mmck_mean_wait(1000, 1500, 1100.0, 1.0), 0.49, 1e-10);
    }

    #[test]
    fn mmck_with_k_equal_c_is_erlang_b() {
        for (c, a) in [(1, 1.0), (10, 5.0), (100, 80.0), (1000, 1200.0)] {
            assert_rel(mmck_blocking(c, c, a, 1.0), erlang_b(c, a), 1e-11);
            assert_eq!(mmck_mean_wait(c, c, a, 1.0), 0.0);
            assert_eq!(mmck_p_wait(c, c, a, 1.0), 0.0);
        }
    }

    #[test]
    fn mmck_with_large_k_approaches_mmc() {
        for (c, l) in [(1, 0.8), (4, 3.2), (50, 45.0)] {
            let k = 4000;
            assert!(mmck_blocking(c, k, l, 1.0) < 1e-100);
            assert_rel(
                mmck_mean_wait(c, k, l, 1.0),
                mmc_mean_wait(c, l, 1.0),
                1e-11,
            );
            assert_rel(
                mmck_mean_response(c, k, l, 1.0),
                mmc_mean_response(c, l, 1.0),
                1e-12,
            );
            assert_rel(mmck_p_wait(c, k, l, 1.0), mmc_p_wait(c, l, 1.0), 1e-11);
        }
    }

    #[test]
    fn mmck_littles_law_and_invalid() {
        let (c, k, l) = (3, 12, 2.7);
        let lhs = mmck_mean_in_system(c, k, l, 1.0);
        let rhs = little_l(
            mmck_throughput(c, k, l, 1.0),
            mmck_mean_response(c, k, l, 1.0),
        );
        assert_rel(lhs, rhs, 1e-13);
        assert!(mmck_distribution(0, 5, 1.0, 1.0).is_none());
        assert!(mmck_distribution(3, 2, 1.0, 1.0).is_none());
        assert!(mmck_distribution(1, MMCK_MAX_K + 1, 1.0, 1.0).is_none());
        assert!(mmck_blocking(2, 5, -1.0, 1.0).is_nan() && mmck_mean_wait(2, 5, 1.0, 0.0).is_nan());
        let idle = mmck_distribution(2, 4, 0.0, 1.0).unwrap();
        assert_eq!(idle, vec![1.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(mmck_mean_wait(2, 4, 0.0, 1.0), 0.0);
    }

    // ---- M/D/1 -----------------------------------------------------------------------------

    /// (rho, tau, F, 1 - F): Erlang's series at 400 digits with mpmath.
    const MD1_REF: [(f64, f64, f64, f64); 9] = [
        (0.5, 2.5, 0.97135936963691365, 0.028640630363086352),
        (0.9, 7.3, 0.79427117485393162, 0.20572882514606838),
        (0.8, 30.0, 0.99999788970609683, 2.1102939031734304e-6),
        (0.99, 100.0, 0.86646617438008019, 0.13353382561991981),
        (0.3, 0.7, 0.86357464196972028, 0.13642535803027972),
        (0.05, 3.2, 0.99999984964925045, 1.5035074955006675e-7),
        (0.7, 12.6, 0.99983919890850001, 0.00016080109149998999),
        (0.95, 55.5, 0.99658509822722908, 0.0034149017727709197),
        (0.6, 14.0, 0.99999873114102966, 1.2688589703445271e-6),
    ];

    #[test]
    fn md1_cdf_matches_high_precision_series() {
        for (rho, tau, f, tail) in MD1_REF {
            // Scale time: d = 2, lambda = rho / 2.
            let got = md1_wait_cdf(rho / 2.0, 2.0, 2.0 * tau);
            assert!((got - f).abs() < 1e-11, "rho {rho} tau {tau}: {got} vs {f}");
            let tol = if tail > 1e-5 { 1e-9 } else { 1e-5 };
            assert_rel(1.0 - got, tail, tol);
        }
    }

    #[test]
    fn md1_quantiles_match_high_precision() {
        let cases = [
            (0.8, 0.99, 10.355886791994953),
            (0.5, 0.999, 5.1683850309617037),
        ];
        let cases = cases.into_iter().chain([
            (0.9, 0.5, 3.0130475193115586),
            (0.3, 0.9999, 4.1386642482801705),
        ]);
        for (rho, p, want) in cases {
            assert_rel(md1_wait_quantile(rho, 1.0, p), want, 1e-8);
            assert_rel(
                md1_response_quantile(rho / 4.0, 4.0, p),
                4.0 * want + 4.0,
                1e-8,
            );
        }
    }

    #[test]
    fn md1_cdf_is_monotone_and_tends_to_one() {
        for rho in [0.05, 0.3, 0.5, 0.8, 0.95, 0.99] {
            let mut last = md1_wait_cdf(rho, 1.0, 0.0);
            assert_rel(last, 1.0 - rho, 1e-15);
            for i in 1..=4000 {
                let f = md1_wait_cdf(rho, 1.0, f64::from(i) * 0.05);
                assert!(
                    f >= last - 2e-11,
                    "rho {rho} t {}: {f} < {last}",
                    f64::from(i) * 0.05
                );
                assert!(f <= 1.0);
                last = f;
            }
            assert!(md1_wait_cdf(rho, 1.0, 5000.0) > 1.0 - 1e-12);
        }
    }

    /// Composite Simpson of `1 - F` on a grid aligned with the kinks at multiples of `d`,
    /// plus the exact integral of the exponential tail beyond `t_max`.
    fn md1_mean_by_integration(rho: f64, t_max: f64) -> f64 {
        let steps = (t_max * 64.0) as u32;
        let h = t_max / f64::from(steps);
        let g = |i: u32| 1.0 - md1_wait_cdf(rho, 1.0, f64::from(i) * h);
        let inner: f64 = (1..steps)
            .map(|i| if i % 2 == 1 { 4.0 * g(i) } else { 2.0 * g(i) })
            .sum();
        let body = h / 3.0 * (g(0) + inner + g(steps));
        body + g(steps) / md1_decay_rate(rho)
    }

    #[test]
    fn md1_cdf_integrates_to_the_pk_mean() {
        for (rho, t_max) in [(0.2, 20.0), (0.5, 40.0), (0.8, 60.0), (0.95, 120.0)] {
            let want = md1_mean_wait(rho, 1.0);
            assert_rel(md1_mean_by_integration(rho, t_max), want, 1e-8);
        }
    }

    #[test]
    fn md1_quantile_round_trips() {
        for rho in [0.1, 0.5, 0.9, 0.99] {
            for p in [0.95, 0.99, 0.9999] {
                let t = md1_wait_quantile(rho, 1.0, p);
                assert!(
                    (md1_wait_cdf(rho, 1.0, t) - p).abs() < 1e-10,
                    "rho {rho} p {p}"
                );
                let r = md1_response_quantile(rho, 1.0, p);
                assert!((md1_response_cdf(rho, 1.0, r) - p).abs() < 1e-10);
            }
        }
    }

    #[test]
    fn md1_decay_rate_solves_its_equation() {
        for rho in [1e-6, 0.01, 0.3, 0.7, 0.99, 0.999999] {
            let z = md1_decay_rate(rho);
            assert!(z > 0.0);
            // Start point -2 ln rho lies right of the root: f(z0) > 0.
            let z0 = -2.0 * f64::ln(rho);
            assert!(rho * z0.exp_m1() - z0 > 0.0);
            assert!((rho * z.exp_m1() - z).abs() <= 1e-13 * z);
        }
    }

    #[test]
    fn md1_textbook_and_invalid() {
        // Half the M/M/1 wait at the same load and mean service time.
        assert_rel(
            md1_mean_wait(0.5, 1.0),
            0.5 * mm1_mean_wait(0.5, 1.0),
            1e-15,
        );
        assert_rel(md1_mean_response(0.8, 1.0), 3.0, 1e-15);
        assert_eq!(md1_wait_quantile(0.5, 1.0, 0.4), 0.0);
        assert_eq!(md1_wait_quantile(0.5, 1.0, 1.0), f64::INFINITY);
        assert_eq!(md1_wait_cdf(0.0, 1.0, 0.0), 1.0);
        assert_eq!(md1_wait_cdf(0.5, 1.0, -0.1), 0.0);
        assert!(md1_mean_wait(1.0, 1.0).is_nan() && md1_wait_cdf(2.0, 1.0, 1.0).is_nan());
        assert!(
            md1_wait_quantile(0.5, 0.0, 0.9).is_nan() && md1_wait_quantile(0.5, 1.0, 2.0).is_nan()
        );
    }

    // ---- M/G/1, lognormal, Little ----------------------------------------------------------

    #[test]
    fn mg1_reduces_to_mm1_and_md1() {
        for (l, m) in [(0.5, 1.0), (3.0, 4.0), (0.99, 1.0)] {
            let es = 1.0 / m;
            assert_rel(
                mg1_mean_wait(l, es, 2.0 * es * es),
                mm1_mean_wait(l, m),
                1e-13,
            );
            assert_rel(
                mg1_mean_response(l, es, 2.0 * es * es),
                mm1_mean_response(l, m),
                1e-13,
            );
            assert_rel(mg1_mean_wait(l, es, es * es), md1_mean_wait(l, es), 1e-13);
        }
        assert!(mg1_mean_wait(1.0, 1.0, 2.0).is_nan());
        assert!(mg1_mean_wait(0.5, 1.0, 0.5).is_nan(), "E[S^2] < E[S]^2");
        assert!(mg1_mean_wait(0.5, -1.0, 1.0).is_nan());
    }

    #[test]
    fn lognormal_moments_known_values() {
        // mu = 0, sigma = 1: E[S] = e^{1/2}, E[S^2] = e^2.
        let (m1, m2) = lognormal_moments(0.0, 1.0);
        assert_rel(m1, 0.5f64.exp(), 1e-15);
        assert_rel(m2, 2.0f64.exp(), 1e-15);
        let (a1, a2) = lognormal_moments_from_median(10.0, 0.5);
        assert_rel(a1, 10.0 * 0.125f64.exp(), 1e-15);
        assert_rel(a2, 100.0 * 0.5f64.exp(), 1e-15);
        // sigma = 0 is deterministic service.
        assert_eq!(lognormal_moments_from_median(2.0, 0.0), (2.0, 4.0));
        assert!(lognormal_moments(0.0, -1.0).0.is_nan());
        assert!(lognormal_moments_from_median(0.0, 1.0).1.is_nan());
        // Squared coefficient of variation e^{sigma^2} - 1.
        let (b1, b2) = lognormal_moments(1.3, 0.8);
        assert_rel(b2 / (b1 * b1) - 1.0, 0.64f64.exp_m1(), 1e-13);
    }

    #[test]
    fn little() {
        assert_eq!(little_l(2.0, 3.0), 6.0);
        assert_eq!(little_w(6.0, 2.0), 3.0);
        assert_rel(little_l(0.5, mm1_mean_response(0.5, 1.0)), 1.0, 1e-15); // L = rho / (1 - rho)
    }

    proptest! {
        #[test]
        fn erlang_c_is_a_probability_increasing_in_load(c in 1usize..300, u in 0.0f64..0.995) {
            let a = u * c as f64;
            let pw = erlang_c(c, a);
            prop_assert!((0.0..=1.0).contains(&pw));
            prop_assert!(erlang_b(c, a) <= pw + 1e-15, "C >= B");
            let higher = erlang_c(c, a + 0.004 * c as f64);
            prop_assert!(higher >= pw);
        }

        #[test]
        fn more_servers_never_raise_the_wait(c in 1usize..200, u in 0.01f64..0.99, extra in 1usize..20) {
            let lambda = u * c as f64;
            // Same total load on more servers.
            prop_assert!(mmc_mean_wait(c + extra, lambda, 1.0) <= mmc_mean_wait(c, lambda, 1.0));
            // Same utilization per server on more servers (economies of scale).
            let scaled = u * (c + extra) as f64;
            prop_assert!(mmc_mean_wait(c + extra, scaled, 1.0) <= mmc_mean_wait(c, lambda, 1.0) * (1.0 + 1e-12));
        }

        #[test]
        fn mmc_response_quantile_round_trips(c in 1usize..100, u in 0.01f64..0.99, p in 0.001f64..0.9999) {
            let lambda = u * c as f64;
            let t = mmc_response_quantile(c, lambda, 1.0, p);
            prop_assert!((mmc_response_cdf(c, lambda, 1.0, t) - p).abs() <= 1e-10);
        }

        #[test]
        fn mmck_distribution_sums_to_one(c in 1usize..50, extra in 0usize..300, a in 0.0f64..200.0) {
            let p = mmck_distribution(c, c + extra, a, 1.0).unwrap();
            let total: f64 = p.iter().sum();
            prop_assert!((total - 1.0).abs() < 1e-12);
            prop_assert!(p.iter().all(|x| (0.0..=1.0).contains(x)));
        }

        #[test]
        fn md1_waits_less_than_mm1(rho in 0.01f64..0.99, p in 0.5f64..0.999) {
            prop_assert!(md1_mean_wait(rho, 1.0) <= mm1_mean_wait(rho, 1.0));
            let t = md1_wait_quantile(rho, 1.0, p);
            prop_assert!((md1_wait_cdf(rho, 1.0, t) - p).abs() < 1e-9 || t == 0.0);
        }
    }
}
