//! `scalesim calibrate`: the simulator's service times and the database's
//! throughput-against-concurrency curve, measured on real servers.
//!
//! The design, in three steps:
//!
//! 1. **Probes at low load.** Each operation the scenario's strategies send (`read_product`,
//!    `place_order`, ...) runs alone through the real runs' own load generator, open loop at
//!    [`Probes::rate`] requests per second (so almost nothing queues) until about
//!    [`Probes::samples`] have completed (or [`MAX_PROBE`] has passed). A heavy operation would
//!    queue at that rate, so a pilot first times a few requests one after another on one
//!    connection and the probe's rate is lowered to keep one connection 10 % busy: on the primary, each read also on the replicas
//!    (round robin), and cache hits (one Redis GET each) when the scenario has Redis. A
//!    probe's latency is what a simulated station's service time stands for in these
//!    scenarios: the server's work plus the loopback round trip, the driver and the pacer,
//!    measured the way a real run measures it (from the intended start).
//! 2. **Fits.** Each operation's latency distribution gets the lognormal through its median
//!    and 99th percentile (the two numbers the scenario format takes), with the fit's quality:
//!    the Kolmogorov-Smirnov distance between the measured distribution and the fitted law
//!    (over the histogram's points), and the measured median and p99.
//! 3. **The concurrency curve.** `read_product` from `n` connections at once (closed loop, no
//!    think time) for each `n` of [`Probes::levels`]; the throughputs `X(n)` are fitted by the
//!    universal scalability law `X(n) = λ n / (1 + σ (n - 1) + κ n (n - 1))` (Gunther), the
//!    same law a station's `contention = { sigma, kappa }` applies, by least squares on the
//!    linearised form `n X(1) / X(n) - 1 = σ (n - 1) + κ n (n - 1)` with σ, κ >= 0; R² says how
//!    well it fits.
//!
//! A scenario whose database has no pool in front of it models it as a FIFO station of
//! `db_workers` servers instead: the highest measured throughput over `X(1)` ([`Usl::workers`]).
//!
//! The result is a parameters file (`[params]`, read by `--params`) that records the machine,
//! the date and the scenario it came from, and every fit's quality in `[fits]`. Parameter names:
//! `<node>_<op>_median` and `_p99` (node `primary` or `replica`), `redis_get_median`/`_p99`,
//! and `db_sigma`, `db_kappa`, `db_throughput_1` (X(1), requests per second), `db_workers`. A scenario uses a
//! value by declaring the name in its own `[params]` (its default for when it is not calibrated)
//! and referring to it as `"$name"`.

use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::loadgen::execute;
use super::plan::{
    CacheMode, ClassPlan, Endpoints, Load, NoFaults, Op, ReadRouting, RealError, RealPlan,
    StrategyPlan,
};
use super::schema::ensure_data;
use super::session::{Running, Servers, SessionError, specs, union_cluster};
use super::strategy::Backend;
use super::workload::poisson_arrivals;
use crate::engine::{Rng, mix64};
use crate::model::workload::KeyDist;
use crate::scenario::Loaded;

/// How much to measure.
#[derive(Debug, Clone, PartialEq)]
pub struct Probes {
    /// Completed requests to aim for per operation and node (after a warm-up of a second).
    pub samples: usize,
    /// Open-loop arrival rate of the probes, requests per second.
    pub rate: f64,
    /// Connections of the concurrency curve.
    pub levels: Vec<u32>,
    /// How long each level runs.
    pub level_time: Duration,
}

impl Default for Probes {
    fn default() -> Self {
        Probes {
            samples: 400,
            rate: 100.0,
            levels: vec![1, 2, 4, 8, 16],
            level_time: Duration::from_secs(3),
        }
    }
}

/// A lognormal fitted to one operation's times.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    /// Parameter stem, e.g. `primary_read_product`.
    pub name: String,
    /// Timed samples.
    pub samples: usize,
    /// The median, ms: measured, and the fitted law's (the law goes through it).
    pub median_ms: f64,
    /// The 99th percentile, ms: measured, and the fitted law's.
    pub p99_ms: f64,
    /// Kolmogorov-Smirnov distance between the measured distribution and the fitted law (0:
    /// identical).
    pub ks: f64,
}

/// The universal scalability law fitted to measured throughputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Usl {
    /// `X(1)`, requests per second.
    pub throughput_1: f64,
    /// σ (contention).
    pub sigma: f64,
    /// κ (coherency).
    pub kappa: f64,
    /// Coefficient of determination of the fitted throughputs.
    pub r2: f64,
    /// The measured `(connections, requests per second)`.
    pub points: Vec<(u32, f64)>,
}

impl Usl {
    /// The servers of a FIFO station with the same single-request rate that reaches the
    /// highest measured throughput: `max X(n) / X(1)`, rounded, at least 1. The model for a
    /// scenario without a pool in front of the database, where a processor-sharing station's
    /// contention would also slow the requests that in reality wait for a connection.
    pub fn workers(&self) -> u32 {
        let best = self.points.iter().map(|p| p.1).fold(0.0, f64::max);
        ((best / self.throughput_1).round() as u32).max(1)
    }
}

/// Everything a calibration measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    /// The scenario it was measured for.
    pub scenario: String,
    /// CPU model and core count.
    pub machine: String,
    /// UTC date, `YYYY-MM-DD`.
    pub date: String,
    /// One fit per operation and node.
    pub fits: Vec<Fit>,
    /// The concurrency curve of `read_product` on the primary.
    pub usl: Option<Usl>,
}

/// z of the standard normal's 99th percentile.
const Z99: f64 = 2.326_347_874_040_841;

/// The lognormal through the median and 99th percentile of a measured latency distribution
/// (`(ms, cumulative fraction)` points, increasing, as [`crate::report::summary::Cdf`] holds
/// them) of `samples` requests, named `name`; `None` without at least two distinct points.
pub fn fit_cdf(name: &str, points: &[(f64, f64)], samples: usize) -> Option<Fit> {
    let at = |q: f64| -> Option<f64> {
        let i = points.iter().position(|p| p.1 >= q)?;
        if i == 0 {
            return Some(points[0].0);
        }
        let ((x0, f0), (x1, f1)) = (points[i - 1], points[i]);
        Some(if f1 > f0 {
            x0 + (x1 - x0) * (q - f0) / (f1 - f0)
        } else {
            x1
        })
    };
    if points.len() < 2 {
        return None;
    }
    let (median, p99) = (at(0.5)?, at(0.99)?);
    if !(median > 0.0 && p99 >= median) {
        return None;
    }
    let mu = median.ln();
    let sigma = (p99.ln() - mu) / Z99;
    let cdf = |x: f64| {
        if sigma <= 0.0 {
            f64::from(u8::from(x >= median))
        } else {
            normal_cdf((x.ln() - mu) / sigma)
        }
    };
    // Against a step function, the largest gap is at a step: just before it or at it.
    let mut ks: f64 = 0.0;
    let mut below = 0.0;
    for &(x, f) in points.iter().filter(|p| p.0 > 0.0) {
        let g = cdf(x);
        ks = ks.max((g - f).abs()).max((g - below).abs());
        below = f;
    }
    Some(Fit {
        name: name.to_string(),
        samples,
        median_ms: median,
        p99_ms: p99,
        ks,
    })
}

/// The standard normal CDF (Abramowitz and Stegun 7.1.26 for erf, error below 1.5e-7).
fn normal_cdf(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-x * x).exp();
    if z >= 0.0 {
        0.5 * (1.0 + erf)
    } else {
        0.5 * (1.0 - erf)
    }
}

/// The universal scalability law through measured `(n, X(n))` (the first at `n = 1`).
pub fn fit_usl(points: &[(u32, f64)]) -> Option<Usl> {
    let &(n1, x1) = points.first()?;
    if n1 != 1 || x1 <= 0.0 || points.len() < 3 {
        return None;
    }
    // y = n X(1) / X(n) - 1 = σ a + κ b, a = n - 1, b = n (n - 1); least squares, σ, κ >= 0.
    let rows: Vec<(f64, f64, f64)> = points[1..]
        .iter()
        .filter(|p| p.1 > 0.0)
        .map(|&(n, x)| {
            let n = f64::from(n);
            (n - 1.0, n * (n - 1.0), n * x1 / x - 1.0)
        })
        .collect();
    let (saa, sab, sbb, say, sby) = rows
        .iter()
        .fold((0.0, 0.0, 0.0, 0.0, 0.0), |s, &(a, b, y)| {
            (
                s.0 + a * a,
                s.1 + a * b,
                s.2 + b * b,
                s.3 + a * y,
                s.4 + b * y,
            )
        });
    let det = saa * sbb - sab * sab;
    let (mut sigma, mut kappa) = if det.abs() > 1e-12 {
        ((say * sbb - sby * sab) / det, (sby * saa - say * sab) / det)
    } else {
        (0.0, 0.0)
    };
    if sigma < 0.0 || kappa < 0.0 {
        // The best fit with one coefficient at zero, whichever leaves the smaller residual.
        let only_sigma = if saa > 0.0 { (say / saa).max(0.0) } else { 0.0 };
        let only_kappa = if sbb > 0.0 { (sby / sbb).max(0.0) } else { 0.0 };
        let residual = |s: f64, k: f64| {
            rows.iter()
                .map(|&(a, b, y)| (y - s * a - k * b).powi(2))
                .sum::<f64>()
        };
        (sigma, kappa) = if residual(only_sigma, 0.0) <= residual(0.0, only_kappa) {
            (only_sigma, 0.0)
        } else {
            (0.0, only_kappa)
        };
    }
    let model = |n: f64| x1 * n / (1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0));
    let mean = points.iter().map(|p| p.1).sum::<f64>() / points.len() as f64;
    let ss_tot: f64 = points.iter().map(|p| (p.1 - mean).powi(2)).sum();
    let ss_res: f64 = points
        .iter()
        .map(|&(n, x)| (x - model(f64::from(n))).powi(2))
        .sum();
    Some(Usl {
        throughput_1: x1,
        sigma,
        kappa,
        r2: if ss_tot > 0.0 {
            1.0 - ss_res / ss_tot
        } else {
            1.0
        },
        points: points.to_vec(),
    })
}

/// A duration in ms as the scenario format writes it, 3 significant digits: `"0.412ms"`.
fn ms(x: f64) -> String {
    let digits = (2 - x.abs().log10().floor() as i32).max(0) as usize;
    let text = format!("{x:.digits$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    format!("\"{text}ms\"")
}

impl Calibration {
    /// The parameters file: `[calibration]` facts, `[params]`, and the fits' quality.
    pub fn to_toml(&self) -> String {
        let mut out = format!(
            "# Written by `scalesim calibrate` for scenario \"{}\". Use with \
             `--params FILE`:\n# each value replaces the scenario's own [params] entry of the \
             same name.\n\n[calibration]\nscenario = \"{}\"\nmachine = \"{}\"\ndate = \"{}\"\n\n\
             [params]\n",
            self.scenario, self.scenario, self.machine, self.date
        );
        for f in &self.fits {
            let _ = writeln!(out, "{}_median = {}", f.name, ms(f.median_ms));
            let _ = writeln!(out, "{}_p99 = {}", f.name, ms(f.p99_ms));
        }
        if let Some(u) = &self.usl {
            let _ = writeln!(out, "db_throughput_1 = {:.1}", u.throughput_1);
            let _ = writeln!(out, "db_workers = {}", u.workers());
            let _ = writeln!(out, "db_sigma = {:.5}", u.sigma);
            let _ = writeln!(out, "db_kappa = {:.6}", u.kappa);
        }
        out += "\n# How well each lognormal fits its samples (KS: Kolmogorov-Smirnov distance).\n";
        for f in &self.fits {
            let _ = writeln!(
                out,
                "[fits.{}]\nsamples = {}\nks_distance = {:.3}\nmedian_ms = {:.3}\np99_ms = {:.3}\n",
                f.name, f.samples, f.ks, f.median_ms, f.p99_ms
            );
        }
        if let Some(u) = &self.usl {
            let pts: Vec<String> = u
                .points
                .iter()
                .map(|(n, x)| format!("[{n}, {x:.1}]"))
                .collect();
            let _ = writeln!(
                out,
                "[fits.db_concurrency]\n# (connections, read_product requests per second), \
                 closed loop on the primary\npoints = [{}]\nr2 = {:.4}",
                pts.join(", "),
                u.r2
            );
        }
        out
    }
}

/// The machine's CPU model and core count, as a calibration records it.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    format!("{model}, {cores} cores").replace('"', "'")
}

/// Today's UTC date, `YYYY-MM-DD` (civil from days, Hinnant's algorithm).
pub fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Calibrates for `loaded` on `servers`: the operations of its first strategy's `[real]`
/// classes, on the nodes its cluster has.
pub fn calibrate(
    loaded: &Loaded,
    servers: &Servers,
    seed: Option<u64>,
    probes: &Probes,
) -> Result<Calibration, SessionError> {
    let specs = specs(loaded)?;
    let spec = &specs[0];
    let seed = seed.unwrap_or(loaded.base.seed);
    let mut ops: Vec<Op> = Vec::new();
    for s in &specs {
        for c in &s.classes {
            if !ops.contains(&c.op) {
                ops.push(c.op);
            }
        }
    }
    let cluster = union_cluster(&specs);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let running = Running::start(servers, &cluster).await?;
        let ep = running.endpoints.clone();
        let result = async {
            ensure_data(&ep, spec.products, spec.users, seed).await?;
            measure(&ep, &ops, spec.products, spec.users, seed, probes).await
        }
        .await;
        let down = running.shutdown().await;
        let (fits, usl) = result?;
        down?;
        Ok(Calibration {
            scenario: loaded.base.name.clone(),
            machine: machine(),
            date: today(),
            fits,
            usl,
        })
    })
}

fn plan(name: &str, routing: ReadRouting, cache: CacheMode, pool: u32) -> StrategyPlan {
    StrategyPlan {
        name: name.to_string(),
        routing,
        cache,
        pool_size: pool,
        app: super::plan::AppPools::default(),
        sharding: None,
    }
}

async fn measure(
    ep: &Endpoints,
    ops: &[Op],
    products: u64,
    users: u64,
    seed: u64,
    probes: &Probes,
) -> Result<(Vec<Fit>, Option<Usl>), RealError> {
    let uniform = KeyDist::Uniform {
        n: products.max(users),
    };
    let mut runs: Vec<(String, Op, ReadRouting, CacheMode, KeyDist)> = Vec::new();
    for &op in ops {
        let name = format!("primary_{}", op.name());
        runs.push((
            name,
            op,
            ReadRouting::Primary,
            CacheMode::None,
            uniform.clone(),
        ));
    }
    if !ep.replicas.is_empty() {
        for &op in ops.iter().filter(|op| !op.is_write()) {
            let name = format!("replica_{}", op.name());
            runs.push((
                name,
                op,
                ReadRouting::RoundRobin,
                CacheMode::None,
                uniform.clone(),
            ));
        }
    }
    if ep.redis.is_some() {
        // One key: the first read misses and fills it, every later one is a single GET.
        let cache = CacheMode::CacheAside {
            ttl: Duration::from_secs(3600),
            single_flight: false,
        };
        let one = KeyDist::Uniform { n: 1 };
        runs.push((
            "redis_get".into(),
            Op::ReadProduct,
            ReadRouting::Primary,
            cache,
            one,
        ));
    }
    let mut fits = Vec::new();
    for (name, op, routing, cache, keys) in runs {
        let rate = if cache == CacheMode::None {
            let one = pilot_time(ep, op, products, users, seed).await?;
            probes.rate.min(0.1 / one.as_secs_f64().max(1e-6))
        } else {
            probes.rate
        };
        eprintln!("scalesim calibrate: {name} at {rate:.3} req/s…");
        let plan = RealPlan {
            duration: Duration::from_secs_f64(probes.samples as f64 / rate).min(MAX_PROBE),
            warmup: Duration::from_secs(1),
            seed,
            classes: vec![ClassPlan {
                name: name.clone(),
                op,
            }],
            strategy: plan(&name, routing, cache, 4),
            products,
            users,
            bucket: Duration::from_secs(1),
            ..RealPlan::default()
        };
        let arrivals = poisson_arrivals(rate, plan.total(), &[1.0], &keys, mix64(seed ^ 0xca1b))?;
        let outcome = execute(plan, Load::Open(Box::new(arrivals)), ep, &NoFaults).await?;
        let cdf = outcome.cdf();
        let done = usize::try_from(outcome.completed()).unwrap_or(usize::MAX);
        fits.extend(fit_cdf(&name, &cdf.points, done));
    }
    let mut points = Vec::new();
    for &n in &probes.levels {
        eprintln!("scalesim calibrate: read_product from {n} connection(s)…");
        points.push((
            n,
            throughput(ep, n, products, users, seed, probes.level_time).await?,
        ));
    }
    Ok((fits, fit_usl(&points)))
}

/// Requests per second of `read_product` on the primary from `n` connections at once.
/// Longest a probe runs (a heavy operation gets fewer samples than [`Probes::samples`]).
pub const MAX_PROBE: Duration = Duration::from_secs(60);

/// The mean time of `op` alone: requests one after another on one primary connection, after
/// one to warm up, for up to 2 s or 20 requests (at least 3).
async fn pilot_time(
    ep: &Endpoints,
    op: Op,
    products: u64,
    users: u64,
    seed: u64,
) -> Result<Duration, RealError> {
    let backend = Backend::connect(
        ep,
        &plan("pilot", ReadRouting::Primary, CacheMode::None, 1),
        products,
        users,
        Duration::from_secs(30),
    )
    .await?;
    let mut rng = Rng::seed_from(mix64(seed ^ 0x9170));
    let _ = backend.run(op, rng.next_u64()).await;
    let start = Instant::now();
    let mut n = 0u32;
    while n < 3 || (n < 20 && start.elapsed() < Duration::from_secs(2)) {
        // A failed request still took its time; the probe reports failures itself.
        let _ = backend.run(op, rng.next_u64()).await;
        n += 1;
    }
    let mean = start.elapsed() / n;
    backend.close().await;
    Ok(mean)
}

async fn throughput(
    ep: &Endpoints,
    n: u32,
    products: u64,
    users: u64,
    seed: u64,
    time: Duration,
) -> Result<f64, RealError> {
    let backend = Arc::new(
        Backend::connect(
            ep,
            &plan("curve", ReadRouting::Primary, CacheMode::None, n),
            products,
            users,
            Duration::from_secs(5),
        )
        .await?,
    );
    let done = Arc::new(AtomicU64::new(0));
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for i in 0..n {
        let (backend, done, measuring, stop) = (
            Arc::clone(&backend),
            Arc::clone(&done),
            Arc::clone(&measuring),
            Arc::clone(&stop),
        );
        let mut rng = Rng::seed_from(mix64(seed ^ u64::from(i) ^ 0xc0de));
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let ok = backend.run(Op::ReadProduct, rng.next_u64()).await.is_ok();
                if ok && measuring.load(Ordering::Relaxed) {
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    // A quarter of the time to settle, then the measured span.
    tokio::time::sleep(time / 4).await;
    measuring.store(true, Ordering::Relaxed);
    let start = Instant::now();
    tokio::time::sleep(time).await;
    let count = done.load(Ordering::Relaxed);
    let span = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    backend.close().await;
    Ok(count as f64 / span)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_distr::{Distribution, LogNormal};

    /// The empirical CDF of `xs` as `(x, fraction)` steps.
    fn ecdf(mut xs: Vec<f64>) -> Vec<(f64, f64)> {
        xs.sort_by(f64::total_cmp);
        let n = xs.len() as f64;
        xs.iter()
            .enumerate()
            .map(|(i, &x)| (x, (i + 1) as f64 / n))
            .collect()
    }

    #[test]
    fn a_lognormal_fit_recovers_its_law_and_an_exponential_fits_worse() {
        let mut rng = Rng::seed_from(7);
        let law = LogNormal::new(0.5f64.ln(), 0.6).unwrap();
        let xs: Vec<f64> = (0..20_000).map(|_| law.sample(&mut rng)).collect();
        let f = fit_cdf("x", &ecdf(xs), 20_000).unwrap();
        assert!((f.median_ms / 0.5 - 1.0).abs() < 0.03, "{f:?}");
        let p99 = 0.5 * (Z99 * 0.6f64).exp();
        assert!((f.p99_ms / p99 - 1.0).abs() < 0.06, "{f:?}");
        // Kolmogorov-Smirnov: 1.36 / sqrt(n) is the 5 % critical value (a fit through two
        // quantiles rather than by maximum likelihood may sit a little above it).
        assert!(f.ks < 2.0 * 1.36 / 20_000f64.sqrt(), "{f:?}");
        let exp = rand_distr::Exp::new(1.0).unwrap();
        let ys: Vec<f64> = (0..20_000).map(|_| exp.sample(&mut rng)).collect();
        let g = fit_cdf("y", &ecdf(ys), 20_000).unwrap();
        assert!(g.ks > 3.0 * f.ks, "{g:?} against {f:?}");
        assert!(fit_cdf("z", &[(1.0, 1.0)], 1).is_none());
    }

    #[test]
    fn the_usl_fit_recovers_known_coefficients() {
        let (l, s, k) = (2000.0, 0.05, 0.002);
        let x = |n: u32| {
            let n = f64::from(n);
            l * n / (1.0 + s * (n - 1.0) + k * n * (n - 1.0))
        };
        let points: Vec<(u32, f64)> = [1, 2, 4, 8, 16, 32].iter().map(|&n| (n, x(n))).collect();
        let u = fit_usl(&points).unwrap();
        assert!(
            (u.sigma - s).abs() < 1e-9 && (u.kappa - k).abs() < 1e-9,
            "{u:?}"
        );
        assert!(u.r2 > 0.999_999);
        // Linear scaling (no contention) must not come out negative.
        let linear: Vec<(u32, f64)> = [1, 2, 4, 8]
            .iter()
            .map(|&n| (n, 100.0 * f64::from(n) * 1.01))
            .collect();
        let u = fit_usl(&linear).unwrap();
        assert!(u.sigma >= 0.0 && u.kappa >= 0.0, "{u:?}");
        assert!(fit_usl(&points[1..]).is_none(), "needs X(1)");
    }

    #[test]
    fn the_file_reads_back_as_parameters() {
        let c = Calibration {
            scenario: "s".into(),
            machine: "cpu, 2 cores".into(),
            date: "2026-12-03".into(),
            fits: vec![
                fit_cdf(
                    "primary_read_product",
                    &[(0.3, 0.25), (0.4, 0.5), (0.5, 1.0)],
                    4,
                )
                .unwrap(),
            ],
            usl: fit_usl(&[(1, 1000.0), (2, 1900.0), (4, 3000.0)]),
        };
        let text = c.to_toml();
        let scenario =
            "name = \"s\"\n[params]\nprimary_read_product_median = \"1ms\"\ndb_sigma = 0\n";
        let p =
            crate::scenario::params_file::read_str(&text, std::path::Path::new("c.toml"), scenario)
                .unwrap();
        assert_eq!(p.sets.len(), 2, "{p:?}");
        assert!(
            p.sets[0].starts_with("primary_read_product_median=\"0.4"),
            "{p:?}"
        );
        assert!(p.unused.contains(&"db_kappa".to_string()));
        // 3000 / 1000: three FIFO servers reach the best measured throughput.
        assert_eq!(c.usl.as_ref().unwrap().workers(), 3);
        assert!(text.contains("db_workers = 3"));
        assert_eq!(p.about, "c.toml (calibrated on cpu, 2 cores, 2026-12-03)");
        assert_eq!(ms(0.41234), "\"0.412ms\"");
        assert_eq!(ms(12.345), "\"12.3ms\"");
        assert_eq!(ms(150.0), "\"150ms\"");
        assert_eq!(today().len(), 10);
    }
}
