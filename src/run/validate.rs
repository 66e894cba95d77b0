//! `scalesim validate`: the simulator against closed-form queueing theory.
//!
//! Each model is one station fed by Poisson arrivals, built directly as a [`SystemSpec`] and
//! run for several independent replications. Every figure is measured, not derived from the
//! model's parameters: mean response from the recorded latencies, mean wait from the
//! time-averaged queue length by Little's law (`Wq = Lq / lambda`), P(wait) and blocking from
//! the station's visit counters, p99 from the latency histogram. A figure agrees with theory
//! when the theory lies within two 95 % half-widths of the replication mean (about four
//! standard errors, so a correct model fails by chance far less than once in a thousand
//! checks), widened by 0.2 % of the value for the histogram's three-significant-digit
//! resolution.

use rayon::prelude::*;

use super::replication_seed;
use crate::engine::SimTime;
use crate::model::dist::Dist;
use crate::model::program::Step;
use crate::model::service::ServiceSpec;
use crate::model::station::{Discipline, StationSpec};
use crate::model::workload::{Arrivals, KeyDist, Load, Mix, RateProfile, Stages};
use crate::model::{ClassSpec, System, SystemSpec};
use crate::observe::RepStats;
use crate::stats::ci::t_interval;
use crate::stats::theory as th;

/// One compared figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Model, like `M/M/4 rho=0.80`.
    pub model: String,
    /// Figure: `mean wait`, `mean response`, `P(wait)`, `blocking`, `p99 response`.
    pub metric: &'static str,
    /// Closed form.
    pub theory: f64,
    /// Simulated mean over replications.
    pub sim: f64,
    /// 95 % half-width of the simulated mean.
    pub half_width: f64,
}

impl Row {
    /// Relative error of the simulation.
    pub fn rel_error(&self) -> f64 {
        if self.theory == 0.0 {
            self.sim.abs()
        } else {
            (self.sim - self.theory) / self.theory
        }
    }

    /// Whether theory lies within the tolerance described in the module docs.
    pub fn within_tolerance(&self) -> bool {
        (self.sim - self.theory).abs() <= 2.0 * self.half_width + 0.002 * self.theory.abs() + 1e-9
    }
}

/// A validation model: c servers, service distribution, arrival rate, capacity K (total).
#[derive(Debug, Clone)]
pub struct Model {
    /// Display name.
    pub name: String,
    /// Servers.
    pub c: u32,
    /// Arrival rate (per second).
    pub lambda: f64,
    /// Service time.
    pub service: Dist,
    /// Total capacity (in service + waiting), if finite.
    pub k: Option<u32>,
    /// Processor sharing instead of FIFO.
    pub ps: bool,
}

impl Model {
    /// The system: Poisson arrivals for about `customers` customers into one station.
    pub fn spec(&self, customers: u64) -> SystemSpec {
        let duration = SimTime::from_secs_f64(customers as f64 / self.lambda).0;
        SystemSpec {
            services: vec![ServiceSpec::plain(
                StationSpec {
                    name: "station".into(),
                    workers: self.c,
                    discipline: if self.ps {
                        Discipline::ProcessorSharing
                    } else {
                        Discipline::Fifo
                    },
                    queue_capacity: self.k.map(|k| k - self.c),
                    shed: Default::default(),
                    service: vec![self.service.clone()],
                    contention: Default::default(),
                },
                1,
            )],
            controllers: Vec::new(),
            classes: vec![ClassSpec {
                name: "job".into(),
                path: vec![Step::Visit(0)],
                deadline: None,
            }],
            load: Load::Open(Arrivals::Poisson(RateProfile::Stages(Stages {
                start: self.lambda,
                points: vec![],
            }))),
            mix: Mix {
                cumulative: vec![1.0],
                keys: KeyDist::None,
            },
            duration,
            warmup: duration / 20,
            bucket: duration / 10,
            shared: Default::default(),
        }
    }
}

/// The models `scalesim validate` checks.
pub fn models() -> Vec<Model> {
    let exp = Dist::Exponential { mean: 1.0 };
    let mut m = Vec::new();
    let mut add = |name: String, c: u32, lambda: f64, service: Dist, k: Option<u32>| {
        m.push(Model {
            name,
            c,
            lambda,
            service,
            k,
            ps: false,
        })
    };
    for rho in [0.5, 0.9] {
        add(format!("M/M/1 rho={rho:.2}"), 1, rho, exp.clone(), None);
    }
    for (c, rho) in [(2, 0.7), (4, 0.8), (8, 0.9), (16, 0.95)] {
        add(
            format!("M/M/{c} rho={rho:.2}"),
            c,
            rho * f64::from(c),
            exp.clone(),
            None,
        );
    }
    add("M/D/1 rho=0.80".into(), 1, 0.8, Dist::Constant(1.0), None);
    let ln = Dist::lognormal(-0.5, 1.0).expect("valid lognormal"); // mean exp(-0.5 + 0.5) = 1
    add("M/G/1 lognormal(s=1) rho=0.70".into(), 1, 0.7, ln, None);
    add("M/M/2/6 rho=0.90".into(), 2, 1.8, exp.clone(), Some(6));
    add("M/M/4/8 rho=1.20".into(), 4, 4.8, exp.clone(), Some(8));
    // Processor sharing: the mean response is insensitive to the service distribution.
    let ln = Dist::lognormal(-0.5, 1.0).expect("valid lognormal");
    m.push(Model {
        name: "M/G/1-PS lognormal rho=0.70".into(),
        c: 1,
        lambda: 0.7,
        service: ln,
        k: None,
        ps: true,
    });
    m.push(Model {
        name: "M/M/4-PS rho=0.80".into(),
        c: 4,
        lambda: 3.2,
        service: exp,
        k: None,
        ps: true,
    });
    m
}

struct Measured {
    wait: f64,
    response: f64,
    p_wait: f64,
    blocking: f64,
    p99: f64,
}

fn measure(s: &RepStats) -> Measured {
    let st = &s.components[0];
    let window = s.window_ns as f64 / 1e9;
    let admitted = (st.arrivals - st.rejected) as f64;
    Measured {
        wait: st.mean_queue / (admitted / window),
        response: s.total.mean_ns() / 1e9,
        p_wait: st.waited as f64 / admitted,
        blocking: st.rejected as f64 / st.arrivals as f64,
        p99: s.total.latency.value_at_quantile(0.99) as f64 / 1e9,
    }
}

fn theory(m: &Model) -> Vec<(&'static str, f64)> {
    let (c, l) = (m.c as usize, m.lambda);
    let es = m.service.mean();
    let mu = 1.0 / es;
    if m.ps {
        // M/G/1-PS: E[S] / (1 - rho). M/M/c-PS: the number in system is that of M/M/c-FCFS.
        let w = if c == 1 {
            es / (1.0 - l * es)
        } else {
            th::mmc_mean_response(c, l, mu)
        };
        return vec![("mean response", w)];
    }
    if let Some(k) = m.k {
        let k = k as usize;
        return vec![
            ("mean wait", th::mmck_mean_wait(c, k, l, mu)),
            ("mean response", th::mmck_mean_response(c, k, l, mu)),
            ("P(wait)", th::mmck_p_wait(c, k, l, mu)),
            ("blocking", th::mmck_blocking(c, k, l, mu)),
        ];
    }
    match &m.service {
        Dist::Exponential { .. } => vec![
            ("mean wait", th::mmc_mean_wait(c, l, mu)),
            ("mean response", th::mmc_mean_response(c, l, mu)),
            ("P(wait)", th::mmc_p_wait(c, l, mu)),
            ("p99 response", th::mmc_response_quantile(c, l, mu, 0.99)),
        ],
        Dist::Constant(d) => vec![
            ("mean wait", th::md1_mean_wait(l, *d)),
            ("mean response", th::md1_mean_response(l, *d)),
            ("P(wait)", l * d),
            ("p99 response", th::md1_response_quantile(l, *d, 0.99)),
        ],
        other => vec![
            (
                "mean wait",
                th::mg1_mean_wait(l, other.mean(), other.moment(2)),
            ),
            (
                "mean response",
                th::mg1_mean_response(l, other.mean(), other.moment(2)),
            ),
            ("P(wait)", l * other.mean()),
        ],
    }
}

fn pick(m: &Measured, metric: &str) -> f64 {
    match metric {
        "mean wait" => m.wait,
        "mean response" => m.response,
        "P(wait)" => m.p_wait,
        "blocking" => m.blocking,
        _ => m.p99,
    }
}

/// Validates one model.
pub fn validate_model(m: &Model, customers: u64, reps: u32, seed: u64) -> Vec<Row> {
    let spec = m.spec(customers);
    let measured: Vec<Measured> = (0..reps)
        .into_par_iter()
        .map(|r| measure(&System::new(&spec, replication_seed(seed, r)).run()))
        .collect();
    theory(m)
        .into_iter()
        .map(|(metric, t)| {
            let xs: Vec<f64> = measured.iter().map(|x| pick(x, metric)).collect();
            let iv = t_interval(&xs, 0.95);
            Row {
                model: m.name.clone(),
                metric,
                theory: t,
                sim: iv.mean,
                half_width: iv.half_width,
            }
        })
        .collect()
}

/// Validates every model.
pub fn validate_all(customers: u64, reps: u32, seed: u64) -> Vec<Row> {
    models()
        .iter()
        .flat_map(|m| validate_model(m, customers, reps.max(2), seed))
        .collect()
}

/// A plain-text table of rows.
pub fn render(rows: &[Row]) -> String {
    let mut s = format!(
        "{:<30} {:<14} {:>11} {:>11} {:>10} {:>8}  {}\n",
        "model", "metric", "theory", "simulated", "±95% CI", "error", "verdict"
    );
    for r in rows {
        s += &format!(
            "{:<30} {:<14} {:>11.5} {:>11.5} {:>10.5} {:>7.2}%  {}\n",
            r.model,
            r.metric,
            r.theory,
            r.sim,
            r.half_width,
            100.0 * r.rel_error(),
            if r.within_tolerance() {
                "ok"
            } else {
                "DISAGREES"
            }
        );
    }
    let ok = rows.iter().filter(|r| r.within_tolerance()).count();
    s += &format!(
        "{ok}/{} figures agree with theory (within two 95% half-widths + 0.2%)\n",
        rows.len()
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every model agrees with its closed form (short horizons; the CLI runs longer ones).
    #[test]
    fn simulator_agrees_with_theory() {
        let rows = validate_all(200_000, 6, 11);
        let bad: Vec<&Row> = rows.iter().filter(|r| !r.within_tolerance()).collect();
        println!("{}", render(&rows));
        assert!(bad.is_empty(), "{}", render(&rows));
    }
}
