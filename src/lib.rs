//! scalesim: compare scalability strategies for web and e-commerce systems before building them.
//!
//! A scenario file (`sims/*.toml`) describes a system (clients, stations such as a load
//! balancer, app instances, caches, databases) and its traffic, and names strategies to compare.
//! scalesim simulates every strategy with a deterministic discrete-event engine, runs the same
//! workload for real against Postgres and Redis in containers, and reports both side by side.
//!
//! # Architecture
//!
//! ```text
//!  sims/*.toml ──► scenario ──► run ──► engine + model ──► observe ──► stats ──► report
//!                 (raw → valid) (reps, sweeps,  (calendar,   (histograms, (CIs,    (table, CSV,
//!                                SLOs, rayon)    components)  counters)    theory)  JSON, plots, HTML)
//!                                 └──────────► real (tokio drivers: Postgres, Redis) ──┘
//! ```
//!
//! - [`engine`]: integer-nanosecond [`engine::SimTime`], the event calendar ordered by
//!   (time, insertion sequence), per-component random streams, and the [`engine::Component`]
//!   contract. Nothing else schedules events or reads the clock.
//! - [`model`]: the components (workload sources, stations, fork/join routing).
//! - [`observe`]: the recorder shared by the simulator and the real drivers.
//! - [`stats`]: pure math: Student-t intervals, paired differences, queueing-theory formulas.
//! - [`scenario`]: the scenario file format, loaded in two stages (raw, then validated).
//! - [`run`]: replications and sweeps in parallel, SLO checks, capacity search.
//! - [`report`]: the result schema, terminal table, CSV/JSON, plots and the HTML page.
//! - `real` (feature `real`): testcontainers provisioning and tokio load drivers.
//!
//! # Example
//!
//! A two-station scenario (an app tier in front of a database), two strategies, run and
//! summarized; the same as `scalesim run` does with a file:
//!
//! ```
//! use std::path::Path;
//! use scalesim::run::{RunOptions, run};
//! use scalesim::scenario::load_str;
//!
//! let text = r#"
//! name = "two-tier"
//! duration = "10m"
//! warmup = "1m"
//! replications = 2
//!
//! [workload]
//! type = "poisson"
//! rate = 150
//!
//! [classes.page]
//! path = ["app", "db"]
//!
//! [stations.app]
//! workers = 4
//! service = { dist = "exponential", mean = "10ms" }
//!
//! [stations.db]
//! workers = 2
//! service = { dist = "lognormal", median = "4ms", p99 = "20ms" }
//!
//! [[strategies]]
//! name = "2 db workers"
//!
//! [[strategies]]
//! name = "4 db workers"
//! set = { "stations.db.workers" = 4 }
//! "#;
//! let loaded = load_str(text, Path::new("two-tier.toml"), &[]).expect("valid scenario");
//! let report = run(&loaded, &RunOptions::default());
//! let [two, four] = &report.summary.strategies[..] else { panic!("two strategies") };
//! // Same arrivals for both (common random numbers): more database workers, lower latency.
//! assert!(four.latency_ms.mean < two.latency_ms.mean);
//! assert!((two.throughput_rps - 150.0).abs() < 5.0);
//! ```
//!
//! # Features
//!
//! - `plot` (default): PNG/SVG charts with plotters.
//! - `real` (default): real runs against Postgres and Redis (tokio, sqlx, redis, testcontainers).
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]
// `ScenarioError` carries the file, position, field path and a suggestion; it only travels the
// cold error path, so boxing it would buy nothing.
#![allow(clippy::result_large_err)]

pub mod engine;
pub mod model;
pub mod observe;
#[cfg(feature = "real")]
pub mod real;
pub mod report;
pub mod run;
pub mod scenario;
pub mod stats;
