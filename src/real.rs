//! Real runs: the same workload driven against real Postgres and Redis servers.
//!
//! The pieces, in the order a run uses them:
//!
//! - [`plan`]: what to run ([`plan::RealPlan`], [`plan::Load`], [`plan::StrategyPlan`]), where
//!   ([`plan::Endpoints`], loopback or explicitly allowed hosts only) and how faults are injected
//!   ([`plan::FaultInjector`]).
//! - [`workload`]: key popularity ([`workload::KeyDist`]), class choice, open-loop arrivals.
//! - [`schema`]: the e-commerce schema and its seeded bulk load with `COPY`.
//! - [`strategy`]: the read strategies (primary only, round robin over replicas,
//!   read-your-writes) and the Redis cache-aside path.
//! - [`loadgen`]: [`loadgen::execute`], the open- and closed-loop load generator.
//! - [`monitor`]: replication lag and stale-read probes sampled during a run.
//! - [`measure`]: histograms and counters, and [`measure::RealOutcome`], which converts into
//!   the report schema beside simulated results.
//! - [`sql_faults`]: a fault injector that cuts a replica's WAL stream with SQL alone.

pub mod loadgen;
pub mod measure;
pub mod monitor;
mod pgpool;
pub mod plan;
pub mod schema;
pub mod sql_faults;
pub mod strategy;
pub mod workload;
