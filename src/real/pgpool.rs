//! A lean connection pool: at most `size` Postgres connections to one server.
//!
//! Why not `sqlx::PgPool`: its checkout pings the connection before use and its release pings
//! it again (a Sync round trip each), so one point query costs two or three round trips.
//! That doubles the client overhead the driver-overhead benchmark measures. This pool keeps
//! connections in a stack behind a semaphore; a connection goes back only when its last use
//! finished cleanly (success or an SQL error), otherwise it is dropped and the next checkout
//! connects anew, which is how the pool recovers after a fault.
//!
//! An app instance's pool, as the simulator's pools model ([`crate::model::pools`]): a
//! checkout takes an idle connection, else opens one (a server at `max_connections` refuses
//! it with SQLSTATE 53300, "too many clients already": the request fails with a connection
//! error, counted as `connect_refused`), else waits for a slot, for at most the pool's acquire
//! timeout (`acquire_timeouts`). The pools of one app-side pool share a [`PoolStats`], which
//! counts what their checkouts found under the simulator's metric names.
//!
//! **Through PgBouncer in transaction mode** a client's statements may run on a different
//! server connection at every transaction. sqlx prepares each statement (Parse, Describe,
//! Sync) before it binds and runs it (Bind, Execute, Sync): named statements cached on one
//! server connection are missing on the next, and even an unnamed one can be lost between the
//! two Syncs. PgBouncer keeps prepared statements across server connections only from 1.21
//! (`max_prepared_statements`); Debian bookworm ships 1.18. A pool made
//! [`PgServer::through_pgbouncer`] therefore sends every statement as one simple query with its
//! integer parameters written in ([`PooledConn::fetch_all`]): one round trip, as a cached
//! prepared statement takes, but parsed and planned by the server every time.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgRow};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection};
use tokio::sync::{Semaphore, SemaphorePermit};

use super::plan::{RealError, redact};
use crate::observe::ErrorKind;

/// One server's pool.
#[derive(Debug)]
pub(crate) struct PgServer {
    name: String,
    options: PgConnectOptions,
    idle: Mutex<Vec<PgConnection>>,
    permits: Semaphore,
    acquire_timeout: Option<Duration>,
    stats: Option<Arc<PoolStats>>,
    simple_protocol: bool,
}

/// SQLSTATE `too_many_connections`: the server is at `max_connections`.
const TOO_MANY_CONNECTIONS: &str = "53300";

/// What the checkouts of the pools of one app-side pool found (all instances), over the
/// measured window: checkouts that started after [`PoolStats::measure_from`].
#[derive(Debug)]
pub(crate) struct PoolStats {
    measure_from: OnceLock<Instant>,
    acquires: AtomicU64,
    acquired: AtomicU64,
    waited: AtomicU64,
    exhausted: AtomicU64,
    timeouts: AtomicU64,
    refused: AtomicU64,
    connect_errors: AtomicU64,
    gave_up: AtomicU64,
    opened: AtomicU64,
    open: AtomicU64,
    open_max: AtomicU64,
    /// Waits of the acquired checkouts, µs (zero for an idle connection at once).
    waits: Mutex<Histogram<u64>>,
}

/// How one checkout ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Checkout {
    Acquired(Duration),
    TimedOut,
    Refused,
    ConnectError,
    GaveUp,
}

impl Default for PoolStats {
    fn default() -> Self {
        PoolStats {
            measure_from: OnceLock::new(),
            acquires: AtomicU64::new(0),
            acquired: AtomicU64::new(0),
            waited: AtomicU64::new(0),
            exhausted: AtomicU64::new(0),
            timeouts: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            connect_errors: AtomicU64::new(0),
            gave_up: AtomicU64::new(0),
            opened: AtomicU64::new(0),
            open: AtomicU64::new(0),
            open_max: AtomicU64::new(0),
            waits: Mutex::new(
                Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds"),
            ),
        }
    }
}

impl PoolStats {
    /// Counts only checkouts that start at `t` or later (the end of the warm-up); set once.
    pub(crate) fn measure_from(&self, t: Instant) {
        let _ = self.measure_from.set(t);
    }

    fn measuring(&self, started: Instant) -> bool {
        self.measure_from.get().is_none_or(|t| started >= *t)
    }

    fn start(&self, started: Instant, no_idle: bool, exhausted: bool) {
        if !self.measuring(started) {
            return;
        }
        self.acquires.fetch_add(1, Ordering::Relaxed);
        if no_idle || exhausted {
            self.waited.fetch_add(1, Ordering::Relaxed);
        }
        if exhausted {
            self.exhausted.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn end(&self, started: Instant, how: Checkout) {
        if !self.measuring(started) {
            return;
        }
        let counter = match how {
            Checkout::Acquired(wait) => {
                let us = u64::try_from(wait.as_micros()).unwrap_or(u64::MAX);
                let _ = lock(&self.waits).record(us.clamp(0, 3_600_000_000));
                &self.acquired
            }
            Checkout::TimedOut => &self.timeouts,
            Checkout::Refused => &self.refused,
            Checkout::ConnectError => &self.connect_errors,
            Checkout::GaveUp => &self.gave_up,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn connection_opened(&self) {
        self.opened.fetch_add(1, Ordering::Relaxed);
        let open = self.open.fetch_add(1, Ordering::Relaxed) + 1;
        self.open_max.fetch_max(open, Ordering::Relaxed);
    }

    fn connection_closed(&self) {
        let _ = self
            .open
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |o| {
                Some(o.saturating_sub(1))
            });
    }

    /// The metrics, under the simulator's pool names (see the module docs of
    /// [`crate::model::pools`]), plus the real pool's own: `connect_errors` (connections that
    /// failed for another reason than the server's limit) and `acquire_gave_up` (checkouts
    /// whose request had timed out when the slot came). `acquires` = `acquired` +
    /// `acquire_timeouts` + `connect_refused` + `connect_errors` + `acquire_gave_up`, once
    /// every checkout has ended. `open_max` counts the pools' connections at most at once,
    /// over the whole run (those opened before the run included).
    pub(crate) fn metrics(&self) -> BTreeMap<String, f64> {
        let n = |a: &AtomicU64| a.load(Ordering::Relaxed) as f64;
        let acquires = n(&self.acquires);
        let ratio = |x: f64| if acquires > 0.0 { x / acquires } else { 0.0 };
        let h = lock(&self.waits);
        let ms = |us: u64| us as f64 / 1e3;
        let (mean, p99, max) = if h.is_empty() {
            (0.0, 0.0, 0.0)
        } else {
            (h.mean() / 1e3, ms(h.value_at_quantile(0.99)), ms(h.max()))
        };
        BTreeMap::from([
            ("acquires".to_owned(), acquires),
            ("acquired".to_owned(), n(&self.acquired)),
            ("acquire_wait_ms_mean".to_owned(), mean),
            ("acquire_wait_ms_p99".to_owned(), p99),
            ("acquire_wait_ms_max".to_owned(), max),
            ("waited_ratio".to_owned(), ratio(n(&self.waited))),
            ("exhausted_ratio".to_owned(), ratio(n(&self.exhausted))),
            ("acquire_timeouts".to_owned(), n(&self.timeouts)),
            ("connect_refused".to_owned(), n(&self.refused)),
            ("connect_errors".to_owned(), n(&self.connect_errors)),
            ("acquire_gave_up".to_owned(), n(&self.gave_up)),
            ("connections_opened".to_owned(), n(&self.opened)),
            ("open_max".to_owned(), n(&self.open_max)),
        ])
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

tokio::task_local! {
    /// Set once the client of the request this task works for has given up (it timed out):
    /// [`PgServer::acquire`] then takes no connection and fails the work as a timeout.
    pub(crate) static GAVE_UP: Arc<AtomicBool>;
}

/// How long [`PgServer::prewarm`] retries a server that refuses connections.
const REFUSED_RETRY: std::time::Duration = std::time::Duration::from_secs(15);

impl PgServer {
    /// A pool of at most `size` connections to `url`; connects lazily.
    pub(crate) fn new(name: &str, url: &str, size: u32) -> Result<Self, RealError> {
        let options = connect_options(url)?;
        Ok(PgServer {
            name: name.to_owned(),
            options,
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(size as usize),
            acquire_timeout: None,
            stats: None,
            simple_protocol: false,
        })
    }

    /// Counts this pool's checkouts and connections in `stats` (shared by the instances of
    /// one app-side pool).
    pub(crate) fn with_stats(mut self, stats: Arc<PoolStats>) -> Self {
        self.stats = Some(stats);
        self
    }

    /// A checkout waits for a slot at most `t` (then fails as a timeout), else until its
    /// request gives up.
    pub(crate) fn acquire_timeout(mut self, t: Option<Duration>) -> Self {
        self.acquire_timeout = t;
        self
    }

    /// The URL leads to PgBouncer in transaction mode: statements go as simple queries (see
    /// the module docs), and the connection sends no startup parameters PgBouncer 1.18 would
    /// refuse (`options`, which carries `statement_timeout`, and `extra_float_digits`).
    pub(crate) fn through_pgbouncer(mut self) -> Self {
        self.simple_protocol = true;
        self.options = self.options.extra_float_digits(None);
        self
    }

    /// Makes the server end a statement that runs longer than `t` (`statement_timeout`, set
    /// at connection start), as an application's own setting would. The statement of a
    /// request that timed out finishes on its connection (see the load generator's
    /// `request`); this bound keeps it from holding that connection for long. A connection
    /// lost in mid-statement (a fault) also frees its server backend within `t`: until then
    /// the server counts it while the pool has opened another in its place.
    pub(crate) fn statement_timeout(mut self, t: std::time::Duration) -> Self {
        if self.simple_protocol {
            return self;
        }
        let ms = t.as_millis().max(1).to_string();
        self.options = self.options.options([("statement_timeout", ms.as_str())]);
        self
    }

    /// Opens `n` connections now, so the run does not pay for them. A server that refuses
    /// connections (a restart in progress) is retried for up to [`REFUSED_RETRY`], with a
    /// warning: a strategy's run then starts late rather than fails.
    pub(crate) async fn prewarm(&self, n: usize) -> Result<(), RealError> {
        self.prewarm_upto(n, false).await.map(|_| ())
    }

    /// Opens up to `n` connections one after another, as far as the server allows: stops at
    /// the first "too many clients" (SQLSTATE 53300), as the simulator's pool opens its
    /// `min`. Returns how many it opened.
    pub(crate) async fn prewarm_within_limit(&self, n: usize) -> Result<usize, RealError> {
        self.prewarm_upto(n, true).await
    }

    async fn prewarm_upto(&self, n: usize, sequential: bool) -> Result<usize, RealError> {
        if sequential {
            let mut opened = 0;
            for _ in 0..n {
                match self.options.connect().await {
                    Ok(c) => {
                        self.note_opened();
                        self.lock_idle().push(c);
                        opened += 1;
                    }
                    Err(e) if is_too_many(&e) => break,
                    Err(e) => return Err(RealError::pg(&self.name, e)),
                }
            }
            return Ok(opened);
        }
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..n {
            let options = self.options.clone();
            let name = self.name.clone();
            set.spawn(async move {
                let start = std::time::Instant::now();
                let mut refused = false;
                loop {
                    match options.connect().await {
                        Err(sqlx::Error::Io(e))
                            if e.kind() == std::io::ErrorKind::ConnectionRefused
                                && start.elapsed() < REFUSED_RETRY =>
                        {
                            refused = true;
                            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
                        }
                        done => {
                            if refused {
                                eprintln!(
                                    "scalesim real: warning: {name} refused connections for {:.1} s before the run",
                                    start.elapsed().as_secs_f64()
                                );
                            }
                            return done;
                        }
                    }
                }
            });
        }
        let mut idle = Vec::with_capacity(n);
        while let Some(joined) = set.join_next().await {
            let conn = joined.map_err(|e| RealError::Internal(e.to_string()))?;
            idle.push(conn.map_err(|e| RealError::pg(&self.name, e))?);
            self.note_opened();
        }
        self.lock_idle().extend(idle);
        Ok(n)
    }

    fn note_opened(&self) {
        if let Some(s) = &self.stats {
            s.connection_opened();
        }
    }

    fn note_closed(&self) {
        if let Some(s) = &self.stats {
            s.connection_closed();
        }
    }

    /// Checks out a connection, waiting for a free slot (at most the acquire timeout),
    /// connecting if none is idle; counted in the pool's [`PoolStats`].
    pub(crate) async fn acquire(&self) -> Result<PooledConn<'_>, ErrorKind> {
        let started = Instant::now();
        if let Some(s) = &self.stats {
            let exhausted = self.permits.available_permits() == 0;
            let no_idle = self.lock_idle().is_empty();
            s.start(started, no_idle, exhausted);
        }
        let result = self.checkout().await;
        if let Some(s) = &self.stats {
            let how = match &result {
                Ok(_) => Checkout::Acquired(started.elapsed()),
                Err((how, _)) => *how,
            };
            s.end(started, how);
        }
        result.map_err(|(_, kind)| kind)
    }

    async fn checkout(&self) -> Result<PooledConn<'_>, (Checkout, ErrorKind)> {
        let timed_out = (Checkout::TimedOut, ErrorKind::Timeout);
        let permit = match self.acquire_timeout {
            Some(t) => tokio::time::timeout(t, self.permits.acquire())
                .await
                .map_err(|_| timed_out)?,
            None => self.permits.acquire().await,
        }
        .map_err(|_| (Checkout::ConnectError, ErrorKind::Connection))?;
        if GAVE_UP
            .try_with(|g| g.load(Ordering::Acquire))
            .unwrap_or(false)
        {
            return Err((Checkout::GaveUp, ErrorKind::Timeout));
        }
        let idle = self.lock_idle().pop();
        let conn = match idle {
            Some(c) => c,
            None => match self.options.connect().await {
                Ok(c) => {
                    self.note_opened();
                    c
                }
                Err(e) if is_too_many(&e) => return Err((Checkout::Refused, classify(&e))),
                Err(e) => return Err((Checkout::ConnectError, classify(&e))),
            },
        };
        Ok(PooledConn {
            server: self,
            conn: Some(conn),
            reusable: false,
            _permit: permit,
        })
    }

    fn lock_idle(&self) -> std::sync::MutexGuard<'_, Vec<PgConnection>> {
        lock(&self.idle)
    }

    /// Closes idle connections politely.
    pub(crate) async fn close(&self) {
        let idle: Vec<PgConnection> = std::mem::take(&mut *self.lock_idle());
        for c in idle {
            self.note_closed();
            let _ = c.close().await;
        }
    }
}

/// A checked-out connection. Dropped without [`PooledConn::release`] (error, timeout,
/// cancellation) it is discarded rather than returned.
#[derive(Debug)]
pub(crate) struct PooledConn<'a> {
    server: &'a PgServer,
    conn: Option<PgConnection>,
    reusable: bool,
    _permit: SemaphorePermit<'a>,
}

impl PooledConn<'_> {
    /// The connection.
    pub(crate) fn conn(&mut self) -> &mut PgConnection {
        // Invariant: `conn` is `Some` until drop.
        self.conn
            .as_mut()
            .expect("pooled connection present until drop")
    }

    /// Runs `sql` with the integer parameters `$1`, `$2`, ... and returns its rows: a
    /// prepared statement, or through PgBouncer one simple query with the parameters written
    /// in (see the module docs).
    pub(crate) async fn fetch_all(
        &mut self,
        sql: &'static str,
        params: &[i64],
    ) -> Result<Vec<PgRow>, sqlx::Error> {
        if self.server.simple_protocol {
            let text = inline_params(sql, params);
            return sqlx::raw_sql(AssertSqlSafe(text))
                .fetch_all(self.conn())
                .await;
        }
        let mut q = sqlx::query(sql);
        for p in params {
            q = q.bind(*p);
        }
        q.fetch_all(self.conn()).await
    }

    /// Marks the connection as clean, so it returns to the pool on drop.
    pub(crate) fn release(mut self) {
        self.reusable = true;
    }

    /// Keeps the connection if `result`'s error leaves it usable, then passes `result` on,
    /// classified.
    pub(crate) fn finish<T>(self, result: Result<T, sqlx::Error>) -> Result<T, ErrorKind> {
        match result {
            Ok(v) => {
                self.release();
                Ok(v)
            }
            Err(e) => Err(self.fail(&e)),
        }
    }

    /// Keeps the connection if `e` leaves it usable and classifies `e`.
    pub(crate) fn fail(self, e: &sqlx::Error) -> ErrorKind {
        if keeps_connection(e) {
            self.release();
        }
        classify(e)
    }
}

impl Drop for PooledConn<'_> {
    fn drop(&mut self) {
        if self.reusable
            && let Some(c) = self.conn.take()
        {
            self.server.lock_idle().push(c);
        } else {
            self.server.note_closed();
        }
    }
}

/// `sql` with `$1`, `$2`, ... replaced by the integers of `params` (highest index first, so
/// `$1` never eats the start of `$12`).
fn inline_params(sql: &str, params: &[i64]) -> String {
    let mut text = sql.to_owned();
    for (i, p) in params.iter().enumerate().rev() {
        text = text.replace(&format!("${}", i + 1), &p.to_string());
    }
    text
}

/// Whether a connection attempt was refused because the server is at `max_connections`.
fn is_too_many(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some(TOO_MANY_CONNECTIONS))
}

/// Connect options from a URL, with statement logging off.
pub(crate) fn connect_options(url: &str) -> Result<PgConnectOptions, RealError> {
    let options =
        PgConnectOptions::from_str(url).map_err(|_| RealError::InvalidUrl(redact(url)))?;
    Ok(options.disable_statement_logging())
}

/// Which kind of request error a driver error is.
pub(crate) fn classify(e: &sqlx::Error) -> ErrorKind {
    match e {
        sqlx::Error::PoolTimedOut => ErrorKind::Timeout,
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => ErrorKind::Timeout,
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => ErrorKind::Connection,
        sqlx::Error::Database(db) if is_connection_state(db.code().as_deref()) => {
            ErrorKind::Connection
        }
        // "too many clients already": the connection was refused.
        sqlx::Error::Database(db) if db.code().as_deref() == Some(TOO_MANY_CONNECTIONS) => {
            ErrorKind::Connection
        }
        // query_canceled: `statement_timeout` ended the statement.
        sqlx::Error::Database(db) if db.code().as_deref() == Some("57014") => ErrorKind::Timeout,
        _ => ErrorKind::Failed,
    }
}

/// SQLSTATE classes 08 (connection exception) and 57P (operator intervention: shutdown,
/// admin shutdown, cannot connect now).
fn is_connection_state(code: Option<&str>) -> bool {
    code.is_some_and(|c| c.starts_with("08") || c.starts_with("57P"))
}

/// Whether the connection is still usable after this error.
fn keeps_connection(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => !is_connection_state(db.code().as_deref()),
        sqlx::Error::RowNotFound | sqlx::Error::ColumnDecode { .. } => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_are_connection_errors_and_drop_the_connection() {
        let e = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert_eq!(classify(&e), ErrorKind::Connection);
        assert!(!keeps_connection(&e));
        let t = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::TimedOut));
        assert_eq!(classify(&t), ErrorKind::Timeout);
        assert!(keeps_connection(&sqlx::Error::RowNotFound));
        assert_eq!(classify(&sqlx::Error::RowNotFound), ErrorKind::Failed);
    }

    #[test]
    fn connection_sqlstates_are_recognised() {
        assert!(is_connection_state(Some("08006")));
        assert!(is_connection_state(Some("57P01")));
        assert!(!is_connection_state(Some("23505")));
        assert!(!is_connection_state(None));
    }

    #[test]
    fn parameters_are_written_in_highest_index_first() {
        assert_eq!(
            inline_params("SELECT $1, $12, $2", &[7, -3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9]),
            "SELECT 7, 9, -3"
        );
        assert_eq!(inline_params("SELECT 1", &[]), "SELECT 1");
    }

    #[test]
    fn pool_stats_add_up_and_skip_the_warm_up() {
        let s = PoolStats::default();
        let t0 = Instant::now();
        s.measure_from(t0 + Duration::from_secs(1));
        s.start(t0, true, false);
        s.end(t0, Checkout::Refused);
        let t1 = t0 + Duration::from_secs(2);
        for how in [
            Checkout::Acquired(Duration::from_millis(3)),
            Checkout::Acquired(Duration::ZERO),
            Checkout::TimedOut,
            Checkout::Refused,
        ] {
            s.start(t1, false, how == Checkout::TimedOut);
            s.end(t1, how);
        }
        s.start(t0, false, false);
        s.end(t0, Checkout::GaveUp);
        let m = s.metrics();
        assert_eq!(m["acquires"], 4.0);
        assert_eq!(
            m["acquired"] + m["acquire_timeouts"] + m["connect_refused"],
            m["acquires"]
        );
        assert_eq!((m["connect_refused"], m["acquire_gave_up"]), (1.0, 0.0));
        assert_eq!(m["exhausted_ratio"], 0.25);
        assert!((m["acquire_wait_ms_max"] - 3.0).abs() < 0.01, "{m:?}");
        assert!((m["acquire_wait_ms_mean"] - 1.5).abs() < 0.01, "{m:?}");
    }

    #[test]
    fn too_many_clients_is_a_refusal_and_a_connection_error() {
        assert!(!is_too_many(&sqlx::Error::RowNotFound));
        assert!(!is_too_many(&sqlx::Error::Io(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused
        ))));
    }

    #[test]
    fn bad_urls_are_invalid_not_panics() {
        assert!(matches!(
            PgServer::new("p", "nonsense", 1),
            Err(RealError::InvalidUrl(_))
        ));
    }
}
