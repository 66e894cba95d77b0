//! `[pools.NAME]` (a connection pool in each instance of a service), the `pool` step that
//! holds one of its connections, and the `query` step whose cost grows with the rows it reads.

use super::{Paths, Res, V, dist, service_index};
use crate::model::dist::Dist;
use crate::model::pools::PoolSpec;
use crate::model::program::{Count, QuerySpec, Scan, Step};
use crate::scenario::raw::{RawCount, RawPool, RawScenario, RawSpecialStep, RawStation};

/// A pool looks at its idle connections every second unless `evict` says otherwise
/// (Sequelize's default eviction interval, which the guide's pool options set).
const EVICT_NS: u64 = 1_000_000_000;

/// Opening a Postgres connection over a local network: TCP, authentication and the fork of a
/// backend, about 3 ms.
const CONNECT_S: f64 = 3.0e-3;

/// Cost of reading one row, ns, by scan, when `row_cost` is not given: measured on
/// PostgreSQL 15 on the project's 2-core machine by `scripts/measure-query-costs.sh` (the
/// slope of `EXPLAIN (ANALYZE)` execution time against rows read, 1,000,000 products, all in
/// shared buffers): an index range scan 192 ns per row, `LIMIT 20 OFFSET o` 346 ns per row
/// skipped, a sequential scan with a filter 243 ns per row. A cursor page reads its rows
/// through the index like a range scan.
pub(in crate::scenario::valid) const ROW_NS: [(Scan, f64); 4] = [
    (Scan::Index, 192.0),
    (Scan::Offset, 346.0),
    (Scan::Cursor, 192.0),
    (Scan::Seq, 243.0),
];

/// `[pools]`, in name order (their index is their place in that order).
pub(in crate::scenario::valid) fn pools(
    v: &V<'_>,
    raw: &RawScenario,
    services: &[String],
) -> Res<Vec<PoolSpec>> {
    raw.pools
        .iter()
        .map(|(name, p)| pool(v, raw, name, p, services))
        .collect()
}

fn pool(
    v: &V<'_>,
    raw: &RawScenario,
    name: &str,
    p: &RawPool,
    services: &[String],
) -> Res<PoolSpec> {
    let f = |k: &str| format!("pools.{name}.{k}");
    let service = |k: &str, s: &str| service_index(v, &f(k), s, services);
    let host = service("per_instance", &p.per_instance)?;
    let server = service("server", &p.server)?;
    if host == server {
        return Err(v.err(
            f("server"),
            "a pool's connections lead to another service than the one that holds it",
        ));
    }
    if !(1..=100_000).contains(&p.max) {
        return Err(v.err(
            f("max"),
            format!("must be between 1 and 100000, got {}", p.max),
        ));
    }
    if p.min < 0 || p.min > p.max {
        return Err(v.err(
            f("min"),
            format!(
                "must be between 0 and `max` ({}), got {}: `max` below `min` leaves no valid pool",
                p.max, p.min
            ),
        ));
    }
    let evict = v.opt_ns(&f("evict"), &p.evict)?.unwrap_or(EVICT_NS);
    if evict == 0 {
        return Err(v.err(f("evict"), "must be longer than zero"));
    }
    let connect = match &p.connect {
        Some(d) => dist(v, &f("connect"), d)?,
        None => Dist::Constant(CONNECT_S),
    };
    let station = raw
        .services
        .get(&p.server)
        .or_else(|| raw.stations.get(&p.server))
        .expect("the server is a service");
    let max_connections = max_connections(v, &p.server, station)?;
    Ok(PoolSpec {
        name: name.to_string(),
        host,
        server,
        max_connections,
        min: p.min as u32,
        max: p.max as u32,
        acquire_timeout: v.opt_ns(&f("acquire_timeout"), &p.acquire_timeout)?,
        idle_timeout: v.opt_ns(&f("idle_timeout"), &p.idle_timeout)?,
        evict,
        connect,
    })
}

/// A service's `max_connections`, checked.
fn max_connections(v: &V<'_>, name: &str, s: &RawStation) -> Res<Option<u32>> {
    match s.max_connections {
        None => Ok(None),
        Some(m) if (1..=i64::from(u32::MAX)).contains(&m) => Ok(Some(m as u32)),
        Some(m) => Err(v.err(
            format!("services.{name}.max_connections"),
            format!("must be at least 1, got {m}"),
        )),
    }
}

/// Services with a `max_connections` that no pool leads to: it limits nothing.
pub(in crate::scenario::valid) fn unused_limits(
    v: &V<'_>,
    raw: &RawScenario,
) -> Vec<crate::scenario::ScenarioError> {
    raw.services
        .iter()
        .chain(&raw.stations)
        .filter(|(n, s)| {
            s.max_connections.is_some() && !raw.pools.values().any(|p| &p.server == *n)
        })
        .map(|(n, _)| {
            v.err(
                format!("services.{n}.max_connections"),
                "no pool leads to this service, so nothing opens connections to it: add a \
                 `[pools.NAME]` with `server = \"...\"` and a `pool` step, or remove the limit",
            )
        })
        .collect()
}

impl Paths<'_> {
    /// `{ pool = "NAME", path = [...] }`.
    pub(super) fn pool_step(&mut self, field: &str, t: &RawSpecialStep, depth: usize) -> Res<Step> {
        let name = t.pool.as_deref().expect("present");
        let p = self
            .pools
            .iter()
            .position(|x| x.name == name)
            .ok_or_else(|| {
                self.v
                    .err(
                        format!("{field}.pool"),
                        format!("no pool named `{name}` (define it under `[pools.{name}]`)"),
                    )
                    .suggest(name, self.pools.iter().map(|p| p.name.as_str()))
            })?;
        let host = self.pools[p].host;
        if !self.visited.contains(&host) {
            return Err(self.v.err(
                format!("{field}.pool"),
                format!(
                    "pool `{name}` lives in each instance of `{}`: visit that service earlier \
                     on the path, so the request is at one of its instances",
                    self.services[host as usize]
                ),
            ));
        }
        let body = t.path.as_deref().filter(|b| !b.is_empty()).ok_or_else(|| {
            self.v.err(
                format!("{field}.path"),
                "a pool step needs a non-empty `path`: what runs holding the connection",
            )
        })?;
        let body = self.path(&format!("{field}.path"), body, depth + 1)?;
        Ok(Step::Pool(p as u32, body))
    }

    /// `{ query = "SERVICE", scan, rows, page, table, row_cost }`.
    pub(super) fn query_step(&mut self, field: &str, t: &RawSpecialStep) -> Res<Step> {
        let f = |k: &str| format!("{field}.{k}");
        let node = self.service(&f("query"), t.query.as_deref().expect("present"))?;
        self.visited.push(node);
        let s = t.scan.as_deref().unwrap_or("index");
        let scan = Scan::ALL
            .iter()
            .find(|x| x.0 == s)
            .map(|x| x.1)
            .ok_or_else(|| {
                self.v
                    .err(f("scan"), format!("unknown scan `{s}`"))
                    .suggest(s, Scan::ALL.iter().map(|x| x.0))
            })?;
        let count = |k: &str, c: &Option<RawCount>, default: u32| -> Res<Count> {
            match c {
                None => Ok(Count::Fixed(default)),
                Some(RawCount::Fixed(n)) if (0..=10_000_000).contains(n) => {
                    Ok(Count::Fixed(*n as u32))
                }
                Some(RawCount::Fixed(n)) => Err(self
                    .v
                    .err(f(k), format!("must be between 0 and 10000000, got {n}"))),
                Some(RawCount::Dist(d)) => self.count(&f(k), d),
            }
        };
        let rows = count("rows", &t.rows, 1)?;
        if t.page.is_some() && scan != Scan::Offset && scan != Scan::Cursor {
            return Err(self.v.err(
                f("page"),
                "a page number belongs to a paginated scan: `scan = \"offset\"` or `\"cursor\"`",
            ));
        }
        let page = count("page", &t.page, 0)?;
        let table = match (scan, t.table) {
            (Scan::Seq, Some(n)) if n >= 1 => n as u64,
            (Scan::Seq, Some(n)) => {
                return Err(self
                    .v
                    .err(f("table"), format!("must be at least 1 row, got {n}")));
            }
            (Scan::Seq, None) => {
                return Err(self.v.err(
                    f("table"),
                    "a sequential scan reads the whole table: give its rows (`table = 1000000`)",
                ));
            }
            (_, Some(_)) => {
                return Err(self.v.err(
                    f("table"),
                    "only a sequential scan (`scan = \"seq\"`) reads by table size; an index \
                     reads the rows it returns",
                ));
            }
            (_, None) => 0,
        };
        let row_ns = match &t.row_cost {
            Some(d) => self.v.dur(&f("row_cost"), d)? * 1e9,
            None => ROW_NS.iter().find(|x| x.0 == scan).expect("every scan").1,
        };
        Ok(Step::Query(Box::new(QuerySpec {
            node,
            scan,
            rows,
            page,
            table,
            row_ns,
        })))
    }
}
