//! `[databases.NAME]` (a primary and its read replicas) and the `db_read` / `db_write` steps
//! that use them.

use super::{Paths, Res, V, dist, service_index};
use crate::model::databases::{DbSpec, Failover, Outage};
use crate::model::dist::Dist;
use crate::model::program::Step;
use crate::model::replication::{ReplicationSpec, Routing};
use crate::scenario::raw::{
    RawCommit, RawDatabase, RawOutage, RawReplicaRef, RawScenario, RawSpecialStep,
};

/// Lag samples every 10 ms unless `lag_sample` says otherwise.
const LAG_SAMPLE_NS: u64 = 10_000_000;

/// `[databases]`, in name order (their index is their place in that order). `readers`: the
/// most closed-loop users, or the key space for an open workload (read-your-writes state).
pub(in crate::scenario::valid) fn databases(
    v: &V<'_>,
    raw: &RawScenario,
    services: &[String],
    key_space: u64,
    readers: u64,
) -> Res<Vec<DbSpec>> {
    let mut taken: Vec<(u32, &str)> = Vec::new();
    let mut out = Vec::new();
    for (name, d) in &raw.databases {
        let spec = database(v, name, d, services, key_space, readers)?;
        for (i, &s) in std::iter::once(&spec.primary)
            .chain(&spec.replicas)
            .enumerate()
        {
            let field = if i == 0 {
                format!("databases.{name}.primary")
            } else {
                format!("databases.{name}.replicas.{}", i - 1)
            };
            if let Some((_, other)) = taken.iter().find(|t| t.0 == s) {
                return Err(v.err(
                    field,
                    format!(
                        "`{}` is already a node of database `{other}`: each database node is a \
                         service of its own",
                        services[s as usize]
                    ),
                ));
            }
            taken.push((s, name));
        }
        out.push(spec);
    }
    Ok(out)
}

fn database(
    v: &V<'_>,
    name: &str,
    d: &RawDatabase,
    services: &[String],
    key_space: u64,
    readers: u64,
) -> Res<DbSpec> {
    let f = |k: &str| format!("databases.{name}.{k}");
    let service = |field: &str, s: &str| service_index(v, field, s, services);
    if key_space == 0 {
        return Err(v.err(
            format!("databases.{name}"),
            "a database needs request keys (a read is stale per key): set `workload.keys`",
        ));
    }
    let primary = service(&f("primary"), &d.primary)?;
    let mut replicas = Vec::new();
    for (i, r) in d.replicas.iter().enumerate() {
        let s = service(&f(&format!("replicas.{i}")), r)?;
        if s == primary || replicas.contains(&s) {
            return Err(v.err(
                f(&format!("replicas.{i}")),
                format!("`{r}` is listed twice: each node is a service of its own"),
            ));
        }
        replicas.push(s);
    }
    let quorum = match &d.commit {
        None => 0,
        Some(RawCommit::Mode(m)) => match m.as_str() {
            "async" => 0,
            "sync" => 1,
            other => {
                return Err(v
                    .err(
                        f("commit"),
                        format!(
                            "unknown commit `{other}` (`async`, `sync`, or `{{ quorum = k }}`)"
                        ),
                    )
                    .suggest(other, ["async", "sync"]));
            }
        },
        Some(RawCommit::Quorum(q)) if q.quorum < 1 => {
            return Err(v.err(
                f("commit.quorum"),
                format!(
                    "must be at least 1 (use `commit = \"async\"` for none), got {}",
                    q.quorum
                ),
            ));
        }
        Some(RawCommit::Quorum(q)) => q.quorum as usize,
    };
    let repl = ReplicationSpec {
        replicas: replicas.len(),
        quorum,
    };
    repl.check(key_space).map_err(|m| {
        let at = if m.starts_with("quorum") {
            "commit"
        } else if m.starts_with("replicas") {
            "replicas"
        } else {
            "workload.keys.n"
        };
        v.err(
            if at.contains('.') {
                at.to_string()
            } else {
                f(at)
            },
            m,
        )
    })?;
    let routing = routing(v, name, d, replicas.len(), readers)?;
    let opt_dist = |k: &str, x: &Option<crate::scenario::raw::RawDist>, default: Dist| {
        x.as_ref().map_or(Ok(default), |x| dist(v, &f(k), x))
    };
    let failover = match &d.failover {
        None => None,
        Some(_) if replicas.is_empty() => {
            return Err(v.err(
                f("failover"),
                "a failover promotes a replica, but there are none",
            ));
        }
        Some(x) => Some(Failover {
            at: v.ns(&f("failover.at"), &x.at)?,
            detect: v.ns(&f("failover.detect"), &x.detect)?,
            promote: v.ns(&f("failover.promote"), &x.promote)?,
        }),
    };
    let outage = |key: &str, o: &Option<RawOutage>| -> Res<Option<Outage>> {
        let Some(o) = o else {
            return Ok(None);
        };
        let slot = match &o.replica {
            RawReplicaRef::Slot(i) if (0..replicas.len() as i64).contains(i) => *i as usize,
            RawReplicaRef::Slot(i) => {
                return Err(v.err(
                    f(&format!("{key}.replica")),
                    format!(
                        "replica slots are 0 to {} (or name the replica's service), got {i}",
                        replicas.len() as i64 - 1
                    ),
                ));
            }
            RawReplicaRef::Service(s) => {
                d.replicas.iter().position(|r| r == s).ok_or_else(|| {
                    v.err(
                        f(&format!("{key}.replica")),
                        format!("`{s}` is not a replica of `{name}`"),
                    )
                    .suggest(s, d.replicas.iter().map(String::as_str))
                })?
            }
        };
        Ok(Some(Outage {
            replica: slot,
            at: v.ns(&f(&format!("{key}.at")), &o.at)?,
            duration: v.ns(&f(&format!("{key}.for")), &o.duration)?,
        }))
    };
    let cut = outage("replica_cut", &d.replica_cut)?;
    let outage = outage("replica_down", &d.replica_down)?;
    let lag_sample = v
        .opt_ns(&f("lag_sample"), &d.lag_sample)?
        .unwrap_or(LAG_SAMPLE_NS);
    if lag_sample == 0 {
        return Err(v.err(f("lag_sample"), "must be longer than zero"));
    }
    Ok(DbSpec {
        name: name.to_string(),
        primary,
        replicas,
        ship: opt_dist("ship", &d.ship, Dist::Constant(0.001))?,
        replay: opt_dist("replay", &d.replay, Dist::Constant(0.0))?,
        quorum,
        routing,
        failover,
        outage,
        cut,
        lag_sample,
    })
}

/// `routing` with its `window` or `max_lag`; by default `round_robin` over replicas, or
/// `primary` without any.
fn routing(v: &V<'_>, name: &str, d: &RawDatabase, replicas: usize, readers: u64) -> Res<Routing> {
    let f = |k: &str| format!("databases.{name}.{k}");
    let default = if replicas == 0 {
        "primary"
    } else {
        "round_robin"
    };
    let r = d.routing.as_deref().unwrap_or(default);
    let routing = match r {
        "primary" => Routing::Primary,
        "round_robin" => Routing::RoundRobin,
        "least_loaded" => Routing::LeastLoaded,
        "read_your_writes" => Routing::ReadYourWrites {
            window: match &d.window {
                Some(w) => v.ns(&f("window"), w)?,
                None => {
                    return Err(v.err(
                        f("window"),
                        "`read_your_writes` needs `window`: how long after a user's write its \
                         reads go to the primary",
                    ));
                }
            },
        },
        "read_your_writes_lsn" => Routing::ReadYourWritesLsn,
        "lag_aware" => Routing::LagAware {
            max_lag: match &d.max_lag {
                Some(w) => v.ns(&f("max_lag"), w)?,
                None => {
                    return Err(v.err(
                        f("max_lag"),
                        "`lag_aware` needs `max_lag`: the most lag a replica may have to serve",
                    ));
                }
            },
        },
        other => {
            return Err(v
                .err(f("routing"), format!("unknown routing `{other}`"))
                .suggest(other, Routing::NAMES));
        }
    };
    for (k, set, owner) in [
        ("window", d.window.is_some(), "read_your_writes"),
        ("max_lag", d.max_lag.is_some(), "lag_aware"),
    ] {
        if set && routing.name() != owner {
            return Err(v.err(f(k), format!("belongs to `routing = \"{owner}\"`")));
        }
    }
    let readers = usize::try_from(readers).unwrap_or(usize::MAX);
    routing
        .check(replicas, readers)
        .map_err(|m| v.err(f("routing"), m))?;
    Ok(routing)
}

impl Paths<'_> {
    /// `{ db_read = "NAME" }` or `{ db_write = "NAME" }`.
    pub(super) fn db_step(&self, field: &str, t: &RawSpecialStep) -> Res<Step> {
        let (k, name, write) = match (&t.db_read, &t.db_write) {
            (Some(n), _) => ("db_read", n, false),
            (None, Some(n)) => ("db_write", n, true),
            (None, None) => unreachable!("a database step names its database"),
        };
        let d = self
            .databases
            .iter()
            .position(|x| x == name)
            .ok_or_else(|| {
                self.v
                    .err(
                        format!("{field}.{k}"),
                        format!(
                            "no database named `{name}` (define it under `[databases.{name}]`)"
                        ),
                    )
                    .suggest(name, self.databases.iter().map(String::as_str))
            })? as u32;
        Ok(if write {
            Step::DbWrite(d)
        } else {
            Step::DbRead(d)
        })
    }
}
