//! Real runs: Postgres and Redis in containers (feature `real`).
//!
//! - [`provision`]: start a cluster described by a [`provision::ClusterSpec`] (a primary with
//!   streaming replicas, shards, Redis with a replica) with testcontainers, get its
//!   [`provision::Topology`] of URLs, inject [`provision::Fault`]s, and remove it on every way
//!   out (shutdown, error, panic, Ctrl-C).
//! - [`faults`]: the faults and their text form (`"stop replica-1"`, `"pause primary"`).
//!
//! The images are the official `postgres:15` and `redis:7`, or look-alikes built from Debian
//! packages by `scripts/build-images.sh` where no registry can be reached.

pub mod faults;
pub mod provision;
