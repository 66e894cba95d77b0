//! A lean connection pool: at most `size` Postgres connections to one server.
//!
//! Why not `sqlx::PgPool`: its checkout pings the connection before use and its release pings
//! it again (a Sync round trip each), so one point query costs two or three round trips.
//! That doubles the client overhead the driver-overhead benchmark measures. This pool keeps
//! connections in a stack behind a semaphore; a connection goes back only when its last use
//! finished cleanly (success or an SQL error), otherwise it is dropped and the next checkout
//! connects anew, which is how the pool recovers after a fault.

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};
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
        })
    }

    /// Makes the server end a statement that runs longer than `t` (`statement_timeout`, set
    /// at connection start), as an application's own setting would. The statement of a
    /// request that timed out finishes on its connection (see the load generator's
    /// `request`); this bound keeps it from holding that connection for long. A connection
    /// lost in mid-statement (a fault) also frees its server backend within `t`: until then
    /// the server counts it while the pool has opened another in its place.
    pub(crate) fn statement_timeout(mut self, t: std::time::Duration) -> Self {
        let ms = t.as_millis().max(1).to_string();
        self.options = self.options.options([("statement_timeout", ms.as_str())]);
        self
    }

    /// Opens `n` connections now, so the run does not pay for them. A server that refuses
    /// connections (a restart in progress) is retried for up to [`REFUSED_RETRY`], with a
    /// warning: a strategy's run then starts late rather than fails.
    pub(crate) async fn prewarm(&self, n: usize) -> Result<(), RealError> {
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
        }
        self.lock_idle().extend(idle);
        Ok(())
    }

    /// Checks out a connection, waiting for a free slot, connecting if none is idle.
    pub(crate) async fn acquire(&self) -> Result<PooledConn<'_>, ErrorKind> {
        let permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| ErrorKind::Connection)?;
        if GAVE_UP
            .try_with(|g| g.load(Ordering::Acquire))
            .unwrap_or(false)
        {
            return Err(ErrorKind::Timeout);
        }
        let idle = self.lock_idle().pop();
        let conn = match idle {
            Some(c) => c,
            None => self.options.connect().await.map_err(|e| classify(&e))?,
        };
        Ok(PooledConn {
            server: self,
            conn: Some(conn),
            reusable: false,
            _permit: permit,
        })
    }

    fn lock_idle(&self) -> std::sync::MutexGuard<'_, Vec<PgConnection>> {
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Closes idle connections politely.
    pub(crate) async fn close(&self) {
        let idle: Vec<PgConnection> = std::mem::take(&mut *self.lock_idle());
        for c in idle {
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
        }
    }
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
    fn bad_urls_are_invalid_not_panics() {
        assert!(matches!(
            PgServer::new("p", "nonsense", 1),
            Err(RealError::InvalidUrl(_))
        ));
    }
}
