//! Real runs: the same workload driven against real Postgres and Redis servers (feature `real`).
//!
//! The pieces, in the order a session uses them:
//!
//! - [`session`]: `scalesim real`: validate every strategy's `[real]` table ([`spec`]), start
//!   one cluster for all strategies (or use `--target` servers), load the data, run each
//!   strategy, shut down, and return the same report the simulator writes (`mode = "real"`).
//! - [`provision`]: start a cluster described by a [`provision::ClusterSpec`] (a primary with
//!   streaming replicas, shards, Redis with a replica) with testcontainers, get its
//!   [`provision::Topology`] of URLs, inject [`provision::Fault`]s, and remove it on every way
//!   out (shutdown, error, panic, Ctrl-C). [`faults`]: the faults and their text form
//!   (`"stop replica-1"`, `"pause primary"`).
//! - [`plan`]: what to run ([`plan::RealPlan`], [`plan::Load`], [`plan::StrategyPlan`]), where
//!   ([`plan::Endpoints`], loopback or explicitly allowed hosts only) and how faults are injected
//!   ([`plan::FaultInjector`]).
//! - [`workload`]: the simulator's class and key mix ([`crate::model::workload::Mix`]) from
//!   relative weights, its open-loop Poisson arrivals, and the seeded streams of a run.
//! - [`schema`]: the e-commerce schema and its seeded bulk load with `COPY`.
//! - [`strategy`]: the read strategies (primary only, round robin over replicas,
//!   read-your-writes) and the Redis cache-aside path.
//! - [`sharded`]: users sharded over Postgres shards by the simulator's routers, and a
//!   resharding that moves their rows for real during the run.
//! - [`loadgen`]: [`loadgen::execute`], the open- and closed-loop load generator, free of
//!   coordinated omission (latency from each request's intended start).
//! - [`shoppers`]: closed-loop shoppers walking the scenario's `[sessions]` graph (the
//!   simulator's session state machine, one per shopper), for conversions measured for real.
//! - [`monitor`]: replication lag and stale-read probes sampled during a run.
//! - `setup`: what the servers were (durability as the primary reports it, container limits,
//!   images with their ids), written into each strategy's summary as `servers`.
//! - [`measure`]: histograms and counters, and [`measure::RealOutcome`], which the simulator's
//!   own reduction turns into the report schema beside simulated results.
//!
//! Shared with the simulator rather than copied: the failure kinds
//! ([`crate::observe::ErrorKind`]), the workload generator and key samplers
//! ([`crate::model::workload`]), the hash that derives seeds ([`crate::engine::mix64`]), the
//! histogram reduction ([`crate::observe::latency_stats`]) and the summary of one replication
//! ([`crate::run::summarize_strategy`], SLOs and cost included).
//! - [`calibrate`]: `scalesim calibrate`: service times and the database's concurrency curve
//!   measured at low load and fitted (lognormal, universal scalability law), written as a
//!   parameters file that `--params` reads, so a scenario's prediction starts from
//!   measurements (`scalesim real --compare` then shows how far it lands).
//! - [`sql_faults`]: a fault injector that cuts a replica's WAL stream with SQL alone (for
//!   servers scalesim did not start).
//!
//! The images are the official `postgres:15` and `redis:7`, or look-alikes built from Debian
//! packages by `scripts/build-images.sh` where no registry can be reached; the summary says
//! which, with the image id. `scalesim cleanup` removes what a killed run left behind
//! ([`provision::cleanup_orphans`]).

pub mod calibrate;
pub mod faults;
pub mod loadgen;
pub mod measure;
pub mod monitor;
mod pgpool;
pub mod plan;
pub mod provision;
pub mod schema;
pub mod session;
mod setup;
pub mod sharded;
pub mod shoppers;
pub mod spec;
pub mod sql_faults;
pub mod strategy;
pub mod workload;
