//! Invariants of the simulator over random small systems (proptest), built directly as
//! [`SystemSpec`]s: one to three stations (FIFO or processor sharing, bounded queues or not),
//! one or two request classes whose paths visit stations, fork/join over several, and pause in
//! delays, with or without client deadlines; open (Poisson, replayed) or closed (users) load.
//!
//! - Conservation: with a finite arrival list and a horizon long enough to drain the system,
//!   every arrival completes or fails, exactly; on an open-ended run the in-flight count never
//!   exceeds what the system can hold. Failures have only the kinds the system can produce.
//! - Determinism: the same seed gives bit-identical statistics.
//! - Little's law: time-average number in system = throughput x mean response, up to end
//!   effects.
//! - Monotonicity: FIFO M/M/c with one more server never has a higher mean response under
//!   common random numbers.
//! - Time never runs backwards: the calendar pops in (time, insertion) order, and no latency
//!   exceeds the horizon nor any utilization 1.

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::sample::Index;

use scalesim::engine::{Calendar, Event, SimTime};
use scalesim::model::dist::Dist;
use scalesim::model::program::Step;
use scalesim::model::service::ServiceSpec;
use scalesim::model::station::{Discipline, StationSpec};
use scalesim::model::workload::{
    ArrivalIter, Arrivals, KeyDist, Load, Mix, RateProfile, Stages, Users,
};
use scalesim::model::{ClassSpec, System, SystemSpec};
use scalesim::observe::{ErrorKind, RepStats};

const MS: f64 = 1e-3;
const SEC: u64 = 1_000_000_000;

// ---------------------------------------------------------------------------------------------
// Random systems

#[derive(Debug, Clone)]
struct StationShape {
    workers: u32,
    ps: bool,
    cap: Option<u32>,
    /// 0 constant, 1 uniform on [0, 2 mean], 2 exponential.
    kind: u8,
    mean_ms: f64,
}

#[derive(Debug, Clone)]
enum StepShape {
    Visit(Index),
    Fork(Vec<Index>),
    /// Uniform delay on [0, max ms].
    Delay(f64),
}

#[derive(Debug, Clone)]
struct ClassShape {
    weight: f64,
    steps: Vec<StepShape>,
    deadline_ms: Option<u64>,
}

#[derive(Debug, Clone)]
struct Shape {
    stations: Vec<StationShape>,
    classes: Vec<ClassShape>,
}

/// What a property allows the random system to have.
#[derive(Debug, Clone, Copy)]
struct Allow {
    caps: bool,
    deadlines: bool,
    /// Service times with an upper bound (exponential becomes uniform), for drain bounds.
    bounded: bool,
}

fn station() -> impl Strategy<Value = StationShape> {
    (
        1u32..=4,
        any::<bool>(),
        prop::option::of(0u32..=4),
        0u8..3,
        1.0f64..20.0,
    )
        .prop_map(|(workers, ps, cap, kind, mean_ms)| StationShape {
            workers,
            ps,
            cap,
            kind,
            mean_ms,
        })
}

fn step() -> impl Strategy<Value = StepShape> {
    prop_oneof![
        4 => any::<Index>().prop_map(StepShape::Visit),
        2 => prop::collection::vec(any::<Index>(), 2..=3).prop_map(StepShape::Fork),
        1 => (0.0f64..10.0).prop_map(StepShape::Delay),
    ]
}

fn class() -> impl Strategy<Value = ClassShape> {
    (
        1u32..=3,
        prop::collection::vec(step(), 1..=3),
        prop::option::of(5u64..=200),
    )
        .prop_map(|(w, steps, deadline_ms)| ClassShape {
            weight: f64::from(w),
            steps,
            deadline_ms,
        })
}

fn shape() -> impl Strategy<Value = Shape> {
    (
        prop::collection::vec(station(), 1..=3),
        prop::collection::vec(class(), 1..=2),
    )
        .prop_map(|(stations, classes)| Shape { stations, classes })
}

impl StationShape {
    fn dist(&self, allow: Allow) -> Dist {
        let m = self.mean_ms * MS;
        match (self.kind, allow.bounded) {
            (0, _) => Dist::Constant(m),
            (1, _) | (_, true) => Dist::Uniform {
                lo: 0.0,
                hi: 2.0 * m,
            },
            _ => Dist::Exponential { mean: m },
        }
    }

    /// Longest service time (for bounded distributions).
    fn max_s(&self) -> f64 {
        if self.kind == 0 {
            self.mean_ms * MS
        } else {
            2.0 * self.mean_ms * MS
        }
    }
}

impl Shape {
    fn station(&self, i: &Index) -> usize {
        i.index(self.stations.len())
    }

    fn step(&self, s: &StepShape) -> Step {
        match s {
            StepShape::Visit(i) => Step::Visit(self.station(i) as u32),
            StepShape::Fork(b) => Step::Fork(
                b.iter()
                    .map(|i| vec![Step::Visit(self.station(i) as u32)])
                    .collect(),
            ),
            StepShape::Delay(ms) => Step::Delay(Dist::Uniform {
                lo: 0.0,
                hi: ms * MS,
            }),
        }
    }

    fn spec(&self, allow: Allow, load: Load, duration: u64, warmup: u64) -> SystemSpec {
        let n = self.classes.len();
        let stations = self
            .stations
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let station = StationSpec {
                    name: format!("s{i}"),
                    workers: s.workers,
                    discipline: if s.ps {
                        Discipline::ProcessorSharing
                    } else {
                        Discipline::Fifo
                    },
                    queue_capacity: s.cap.filter(|_| allow.caps),
                    shed: Default::default(),
                    service: vec![s.dist(allow); n],
                    contention: Default::default(),
                };
                ServiceSpec::plain(station, 1)
            })
            .collect();
        let classes = self
            .classes
            .iter()
            .enumerate()
            .map(|(i, c)| ClassSpec {
                name: format!("c{i}"),
                path: c.steps.iter().map(|s| self.step(s)).collect(),
                deadline: c
                    .deadline_ms
                    .filter(|_| allow.deadlines)
                    .map(|ms| ms * 1_000_000),
            })
            .collect();
        let total: f64 = self.classes.iter().map(|c| c.weight).sum();
        let mut acc = 0.0;
        let mut cumulative: Vec<f64> = self
            .classes
            .iter()
            .map(|c| {
                acc += c.weight / total;
                acc
            })
            .collect();
        *cumulative.last_mut().expect("a class") = 1.0;
        SystemSpec {
            services: stations,
            classes,
            controllers: Vec::new(),
            load,
            mix: Mix {
                cumulative,
                keys: KeyDist::None,
            },
            duration,
            warmup,
            bucket: (duration / 10).max(1),
            shared: Default::default(),
        }
    }

    /// The busiest station's utilization per unit arrival rate (1/s).
    fn load_per_rate(&self) -> f64 {
        let total: f64 = self.classes.iter().map(|c| c.weight).sum();
        let mut visits = vec![0.0; self.stations.len()];
        for c in &self.classes {
            for s in &c.steps {
                let hit: Vec<usize> = match s {
                    StepShape::Visit(i) => vec![self.station(i)],
                    StepShape::Fork(b) => b.iter().map(|i| self.station(i)).collect(),
                    StepShape::Delay(_) => vec![],
                };
                hit.into_iter().for_each(|i| visits[i] += c.weight / total);
            }
        }
        self.stations
            .iter()
            .zip(&visits)
            .map(|(s, v)| v * s.mean_ms * MS / f64::from(s.workers))
            .fold(0.0, f64::max)
    }

    /// An upper bound of the work (service plus delay, seconds) one request brings.
    fn max_work_s(&self) -> f64 {
        let step = |s: &StepShape| match s {
            StepShape::Visit(i) => self.stations[self.station(i)].max_s(),
            StepShape::Fork(b) => b
                .iter()
                .map(|i| self.stations[self.station(i)].max_s())
                .sum(),
            StepShape::Delay(ms) => ms * MS,
        };
        self.classes
            .iter()
            .map(|c| c.steps.iter().map(step).sum::<f64>())
            .fold(0.0, f64::max)
    }

    fn has_delays(&self) -> bool {
        self.classes
            .iter()
            .any(|c| c.steps.iter().any(|s| matches!(s, StepShape::Delay(_))))
    }
}

/// Poisson arrivals that load the busiest station to `rho` (100/s when no class visits one).
fn poisson_at(shape: &Shape, rho: f64) -> Load {
    let per_rate = shape.load_per_rate();
    poisson(if per_rate > 0.0 {
        rho / per_rate
    } else {
        100.0
    })
}

fn poisson(rate: f64) -> Load {
    Load::Open(Arrivals::Poisson(RateProfile::Stages(Stages {
        start: rate,
        points: vec![],
    })))
}

fn users(n: u32, think_ms: f64) -> Load {
    Load::Closed(Users {
        target: Stages {
            start: f64::from(n),
            points: vec![],
        },
        think: Dist::Exponential {
            mean: think_ms * MS,
        },
    })
}

fn secs(s: f64) -> u64 {
    SimTime::from_secs_f64(s).0
}

fn failed(s: &RepStats, k: ErrorKind) -> u64 {
    s.total.failed[k as usize]
}

// ---------------------------------------------------------------------------------------------
// Invariants of every run

/// Conservation and physical bounds that hold for any run.
fn check_run(s: &RepStats, spec: &SystemSpec) {
    let t = &s.total;
    // The in-flight count is derived as arrived - completed - failed: what can go wrong is
    // finishing a request twice, which this catches (and the callers bound in-flight counts).
    assert!(
        t.completed + t.failed_total() <= t.arrived,
        "finished {} + {} of {} arrivals",
        t.completed,
        t.failed_total(),
        t.arrived
    );
    assert_eq!(s.classes.iter().map(|c| c.arrived).sum::<u64>(), t.arrived);
    assert_eq!(
        s.classes.iter().map(|c| c.completed).sum::<u64>(),
        t.completed
    );
    let horizon = spec.duration - spec.warmup;
    if t.completed > 0 {
        assert!(
            t.latency_sum / t.completed as f64 <= horizon as f64,
            "mean latency beyond the horizon: time ran backwards"
        );
        assert!(
            t.latency.max() as f64 <= horizon as f64 * 1.001 + 1e3,
            "a latency of {} ns in a {horizon} ns window",
            t.latency.max()
        );
    }
    assert!(s.mean_in_system.is_finite() && s.mean_in_system >= 0.0);
    for st in &s.components {
        assert!(
            (0.0..=1.0 + 1e-9).contains(&st.utilization),
            "{}: utilization {}",
            st.name,
            st.utilization
        );
        assert!(
            st.mean_queue.is_finite() && st.mean_queue >= 0.0,
            "{}: mean queue {}",
            st.name,
            st.mean_queue
        );
        assert!(
            st.waited + st.rejected <= st.arrivals,
            "{}: waited + rejected > arrivals",
            st.name
        );
    }
    if spec
        .services
        .iter()
        .all(|sv| sv.station.queue_capacity.is_none())
    {
        assert_eq!(
            failed(s, ErrorKind::Rejected),
            0,
            "rejections without a bounded queue"
        );
    }
    if spec.classes.iter().all(|c| c.deadline.is_none()) {
        assert_eq!(
            failed(s, ErrorKind::Timeout),
            0,
            "timeouts without deadlines"
        );
    }
    assert_eq!(
        failed(s, ErrorKind::Failed),
        0,
        "no component injects failures"
    );
}

/// Everything a run measured, as integers (floats by their bits), for exact comparison.
fn fingerprint(s: &RepStats) -> Vec<u64> {
    let mut v = vec![
        s.in_flight,
        s.mean_in_system.to_bits(),
        s.events,
        s.window_ns,
    ];
    for c in s.classes.iter().chain([&s.total]) {
        v.extend([
            c.arrived,
            c.completed,
            c.latency_sum.to_bits(),
            c.latency.len(),
            c.latency.max(),
        ]);
        v.extend(c.failed);
    }
    for st in &s.components {
        v.extend([
            st.arrivals,
            st.waited,
            st.rejected,
            st.utilization.to_bits(),
            st.mean_queue.to_bits(),
        ]);
    }
    for b in &s.buckets {
        v.extend([b.arrivals, b.completed, b.errors]);
        v.extend(b.gauges.iter().map(|x| x.to_bits()));
    }
    v
}

// ---------------------------------------------------------------------------------------------
// Properties

proptest! {
    #![proptest_config(crate::common::proptest_config(512))]

    /// A finite list of arrivals into a system with queue bounds, deadlines, forks and delays:
    /// after a horizon longer than all the work could take, each arrival has completed or
    /// failed, exactly once, and nothing is left in flight.
    #[test]
    fn every_arrival_completes_or_fails_once_drained(
        shape in shape(),
        gaps in prop::collection::vec(0u64..20_000_000, 1..300),
        caps: bool,
        deadlines: bool,
        seed: u64,
    ) {
        let allow = Allow { caps, deadlines, bounded: true };
        let mut t = 0;
        let times: Vec<u64> = gaps.iter().map(|g| { t += g; t }).collect();
        // While anything is in the system a server is working or a delay running, so the
        // system is empty once all the work there is could have been done, one piece at a time.
        let drain = secs(shape.max_work_s() * times.len() as f64 + 1.0);
        let spec = shape.spec(allow, Load::Open(Arrivals::Replay(times.clone().into())), t + drain, 0);
        let s = System::new(&spec, seed).run();
        check_run(&s, &spec);
        prop_assert_eq!(s.total.arrived, times.len() as u64);
        prop_assert_eq!(s.in_flight, 0);
        prop_assert_eq!(s.total.completed + s.total.failed_total(), times.len() as u64);
        prop_assert_eq!(s.components.iter().map(|x| x.rejected).sum::<u64>() > 0, failed(&s, ErrorKind::Rejected) > 0);
    }

    /// Open-ended runs (Poisson or closed users, warm-up included) conserve requests, and the
    /// in-flight count stays within what the system can hold: one request per user; for open
    /// load with every queue bounded and no delays, the stations' workers plus queue slots.
    #[test]
    fn in_flight_never_exceeds_what_the_system_holds(
        shape in shape(),
        closed: bool,
        n_users in 1u32..40,
        think_ms in 1.0f64..200.0,
        rho in 0.2f64..1.6,
        caps: bool,
        deadlines: bool,
        seed: u64,
    ) {
        let allow = Allow { caps, deadlines, bounded: false };
        let load = if closed { users(n_users, think_ms) } else { poisson_at(&shape, rho) };
        let spec = shape.spec(allow, load, 20 * SEC, 2 * SEC);
        let s = System::new(&spec, seed).run();
        check_run(&s, &spec);
        let all_bounded = spec.services.iter().all(|sv| sv.station.queue_capacity.is_some());
        let bound = if closed {
            Some(u64::from(n_users))
        } else if all_bounded && !shape.has_delays() {
            Some(spec.services.iter().map(|sv| u64::from(sv.station.workers + sv.station.queue_capacity.unwrap_or(0))).sum())
        } else {
            None
        };
        if let Some(b) = bound {
            prop_assert!(s.in_flight <= b, "{} in flight, the system holds at most {}", s.in_flight, b);
        }
    }

    /// The same system and seed give bit-identical statistics.
    #[test]
    fn same_seed_same_statistics(shape in shape(), closed: bool, seed: u64, caps: bool, deadlines: bool) {
        let allow = Allow { caps, deadlines, bounded: false };
        let load = if closed { users(10, 50.0) } else { poisson_at(&shape, 0.7) };
        let spec = shape.spec(allow, load, 5 * SEC, SEC);
        let a = System::new(&spec, seed).run();
        let b = System::new(&spec, seed).run();
        prop_assert!(a.total.arrived > 0);
        prop_assert_eq!(fingerprint(&a), fingerprint(&b));
    }

    /// Little's law, L = X W, over stable systems without failures (no deadlines, no bounds).
    ///
    /// Tolerance: the area under the number in system counts every measured request's whole
    /// time in system, except that requests still in flight at the end contribute only their
    /// age so far and none of them enter W. So L - X W = (sum of in-flight ages) / window,
    /// which is never negative (checked up to float rounding) and, with the busiest station
    /// at most 80 % busy, about L W / window: below 0.1 % here for roughly 20 000 arrivals. The
    /// 1 % allowance leaves room for unlucky ends and still catches an L or W that leaves out
    /// a part of the time in system (a queue, a delay, a fork branch).
    #[test]
    fn littles_law_holds(shape in shape(), rho in 0.1f64..0.8, seed: u64) {
        let allow = Allow { caps: false, deadlines: false, bounded: false };
        let per_rate = shape.load_per_rate();
        let rate = if per_rate > 0.0 { rho / per_rate } else { 100.0 };
        let window = 20_000.0 / rate;
        let spec = shape.spec(allow, poisson(rate), secs(window * 1.05), secs(window * 0.05));
        let s = System::new(&spec, seed).run();
        check_run(&s, &spec);
        let l = s.mean_in_system;
        let x = s.total.completed as f64 / (s.window_ns as f64 / 1e9);
        let w = s.total.mean_ns() / 1e9;
        prop_assert!(s.total.completed > 10_000, "too few completions: {}", s.total.completed);
        prop_assert!(l >= x * w * (1.0 - 1e-9), "L = {} < X W = {}", l, x * w);
        prop_assert!(l - x * w <= 0.01 * l, "L = {}, X W = {} ({} in flight)", l, x * w, s.in_flight);
    }

    /// FIFO M/M/c: with the same arrivals and the same service times (drawn in service-start
    /// order, which is arrival order), one more server never makes any customer leave later,
    /// so neither the mean nor the maximum response can grow. The arrival list is finite and
    /// the horizon long, so both systems serve exactly the same customers.
    #[test]
    fn one_more_server_never_raises_the_mean_response(c in 1u32..=4, rho in 0.3f64..0.98, mean_ms in 1.0f64..50.0, seed: u64) {
        let rate = rho * f64::from(c) / (mean_ms * MS);
        let end = secs(2000.0 / rate);
        let process = Arrivals::Poisson(RateProfile::Stages(Stages { start: rate, points: vec![] }));
        let mix = Mix { cumulative: vec![1.0], keys: KeyDist::None };
        let times: Vec<u64> = ArrivalIter::new(process, mix, seed, end).map(|a| a.at_ns).collect();
        let run = |workers: u32| {
            let spec = SystemSpec {
                services: vec![ServiceSpec::plain(StationSpec { name: "server".into(), workers, discipline: Discipline::Fifo, queue_capacity: None, shed: Default::default(), service: vec![Dist::Exponential { mean: mean_ms * MS }], contention: Default::default() }, 1)],
                controllers: Vec::new(),
                classes: vec![ClassSpec { name: "job".into(), path: vec![Step::Visit(0)], deadline: None }],
                load: Load::Open(Arrivals::Replay(times.clone().into())),
                mix: Mix { cumulative: vec![1.0], keys: KeyDist::None },
                duration: end + 3600 * SEC,
                warmup: 0,
                bucket: end,
                shared: Default::default(),
            };
            let s = System::new(&spec, seed).run();
            check_run(&s, &spec);
            assert_eq!(s.in_flight, 0, "not drained");
            assert_eq!(s.total.completed, times.len() as u64);
            s
        };
        let (few, more) = (run(c), run(c + 1));
        prop_assert!(more.total.latency_sum <= few.total.latency_sum, "c = {}: {} vs c + 1: {}", c, few.total.mean_ns(), more.total.mean_ns());
        prop_assert!(more.total.latency.max() <= few.total.latency.max());
    }

    /// The calendar pops events in time order, ties first-in first-out, whatever the mix of
    /// pushes and pops (a BTreeMap keyed by (time, insertion) is the oracle).
    #[test]
    fn calendar_pops_in_time_then_insertion_order(ops in prop::collection::vec(prop::option::of(0u64..1 << 36), 1..2000)) {
        let mut cal = Calendar::new();
        let mut oracle = BTreeMap::new();
        let (mut now, mut seq) = (0u64, 0u64);
        for op in ops {
            match op {
                Some(dt) => {
                    cal.push(now + dt, Event { target: 0, kind: 0, data: seq });
                    oracle.insert((now + dt, seq), seq);
                    seq += 1;
                }
                None => {
                    let got = cal.pop().map(|(t, e)| (t.0, e.data));
                    let want = oracle.pop_first().map(|((t, _), d)| (t, d));
                    prop_assert_eq!(got, want);
                    if let Some((t, _)) = got {
                        prop_assert!(t >= now, "time went back from {} to {}", now, t);
                        now = t;
                    }
                }
            }
        }
        prop_assert_eq!(cal.len(), oracle.len());
    }
}

// ---------------------------------------------------------------------------------------------
// Regressions

fn one_station(load: Load, duration: u64) -> SystemSpec {
    SystemSpec {
        services: vec![ServiceSpec::plain(
            StationSpec {
                name: "server".into(),
                workers: 2,
                discipline: Discipline::Fifo,
                queue_capacity: None,
                shed: Default::default(),
                service: vec![Dist::Exponential { mean: 0.01 }],
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
        load,
        mix: Mix {
            cumulative: vec![1.0],
            keys: KeyDist::None,
        },
        duration,
        warmup: 0,
        bucket: duration / 10,
        shared: Default::default(),
    }
}

/// Regression: a rate profile whose last stage ends at zero (the usual k6 ramp-down) hung:
/// thinning drew candidates at the peak rate until the clock saturated, hundreds of years of
/// simulated time later. Arrivals now end with the profile.
#[test]
fn r_rate_dropping_to_zero_ends_arrivals() {
    // Up from 0 to 100/s over 1 s, down to 0 over the next second: 100 arrivals expected.
    let ramp = Stages {
        start: 0.0,
        points: vec![(SEC, 100.0), (2 * SEC, 0.0)],
    };
    let spec = one_station(
        Load::Open(Arrivals::Poisson(RateProfile::Stages(ramp))),
        10 * SEC,
    );
    let s = crate::common::within(20, "a ramp down to zero", move || {
        System::new(&spec, 5).run()
    });
    assert!(
        (60..=140).contains(&s.total.arrived),
        "{} arrivals, about 100 expected",
        s.total.arrived
    );
    assert_eq!(s.in_flight, 0);
}

/// Regression: an MMPP state with an (effectively) endless sojourn overflowed the switch time
/// (`now + u64::MAX`), which wrapped to just before now: the state ended at once instead of
/// never, so the process flipped back to the other state (a wrong arrival stream in release
/// builds, an overflow panic in debug builds).
#[test]
fn r_mmpp_endless_sojourn() {
    // Silent for about 10 ms, then 1000/s for ever.
    let mmpp = Arrivals::Mmpp {
        rates: [0.0, 1000.0],
        sojourn: [0.01, 1e300],
    };
    let s = System::new(&one_station(Load::Open(mmpp), SEC), 9).run();
    assert!(
        (850..=1150).contains(&s.total.arrived),
        "{} arrivals, about 990 expected",
        s.total.arrived
    );
}

/// Regression: a user target so small that the ramp's value underflowed to zero (here
/// 5e-324 users) made the first user wake up every nanosecond to find itself still
/// inactive: billions of events for a few simulated seconds (a hang). The wake-up now goes
/// straight to the first instant the user is active.
#[test]
fn r_tiny_user_target_does_not_step_every_nanosecond() {
    let target = Stages {
        start: 0.0,
        points: vec![(300 * SEC, 5e-324), (600 * SEC, 5e-324)],
    };
    let load = Load::Closed(Users {
        target,
        think: Dist::Exponential { mean: 1.0 },
    });
    let spec = one_station(load, 10 * SEC);
    let s = crate::common::within(20, "a tiny user target", move || {
        System::new(&spec, 3).run()
    });
    assert_eq!(
        s.total.arrived, 0,
        "the user becomes active only after 150 s"
    );
    assert!(s.events < 1_000, "{} events", s.events);
}

/// Regression: a spike whose hold never ends (a duration that saturated to u64::MAX) computed
/// its ramp-down start as `up_end + hold`, which wrapped to just before `up_end`: the rate came
/// back down one ramp after the peak instead of holding it (and debug builds panicked).
#[test]
fn r_spike_endless_hold_keeps_the_peak() {
    let spike = RateProfile::Spike {
        base: 100.0,
        multiplier: 10.0,
        at: SEC,
        ramp: SEC,
        hold: u64::MAX,
    };
    assert_eq!(spike.at(SEC / 2), 100.0);
    assert_eq!(spike.at(3 * SEC / 2), 550.0);
    for t in [2 * SEC, 5 * SEC, 1_000_000 * SEC] {
        assert_eq!(
            spike.at(t),
            1000.0,
            "at {t} ns the spike must still hold its peak"
        );
    }
}
