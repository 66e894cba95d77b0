//! Replication lag and replica probes, sampled beside the load.
//!
//! Both use their own single connection per server (reconnected after failures), so they
//! never queue behind the load generator's pools.
//!
//! **Lag** (once per bucket). `now() - pg_last_xact_replay_timestamp()` on a
//! replica grows while the primary is idle, and `pg_stat_replication` loses a replica's row
//! while it is disconnected, so neither is used alone. Instead each sample writes a heartbeat
//! row on the primary, reads the primary's WAL insert position, then polls every replica for
//! `pg_last_wal_replay_lsn()`:
//!
//! - once a replica has replayed past the heartbeat's position, its lag is the time from the
//!   heartbeat's commit to that observation (an upper bound, within a poll period of 2 ms);
//! - if it has not within a quarter bucket (at most 100 ms), its lag is
//!   `now() - pg_last_xact_replay_timestamp()` on the replica (at least the time waited):
//!   the age of the newest commit it has replayed, accurate while writes flow (the
//!   heartbeats are writes too) and growing for as long as it is cut off;
//! - an unreachable replica gives no number (`lag_ms: None`);
//! - when the primary cannot write the heartbeat (paused, down) no lag is sampled.
//!
//! `lag_bytes` is the WAL distance from the heartbeat's position to the replica's replay
//! position (0 once caught up).
//!
//! **Replica probe** (every `stale_probe_interval`): increment a counter row on the primary,
//! then read it on every replica at once; a replica that returns an older value was *behind*
//! the write just committed. Asynchronous replication makes even a healthy replica behind for
//! the moment the WAL takes to arrive and replay, so a probe that finds it behind is not a
//! stale read any strategy served (that is `stale_read_ratio`, measured on the strategy's own
//! reads): it is reported as `probe_behind_ratio` (see [`crate::real::measure`]).

use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Row};

use super::plan::RealError;

/// One replication-lag observation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LagSample {
    /// When the heartbeat was written, from the start of the run.
    pub t: Duration,
    /// Replica index.
    pub replica: usize,
    /// Lag in milliseconds; `None` when the replica could not be asked.
    pub lag_ms: Option<f64>,
    /// WAL bytes the replica had still to replay; `None` when unknown.
    pub lag_bytes: Option<i64>,
}

/// What one probe read saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeOutcome {
    /// The replica returned the value just written.
    Current,
    /// The replica returned an older value: it had not yet replayed the write.
    Behind,
    /// The replica could not be read.
    Error,
}

/// One probe of one replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeSample {
    /// When the probe value was written, from the start of the run.
    pub t: Duration,
    /// Replica index.
    pub replica: usize,
    /// Outcome.
    pub outcome: ProbeOutcome,
}

/// How long one monitor statement may take.
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(1);
const POLL: Duration = Duration::from_millis(2);

const HEARTBEAT: &str = "UPDATE scalesim_heartbeat SET ts = clock_timestamp(), seq = seq + 1 \
                         WHERE id = 1 RETURNING seq";
const INSERT_LSN: &str = "SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::int8";
const REPLICA_VIEW: &str = "SELECT (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::int8, \
    (extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()) * 1000)::float8";
const PROBE_WRITE: &str = "UPDATE scalesim_probe SET v = v + 1 WHERE id = 1 RETURNING v";
const PROBE_READ: &str = "SELECT v FROM scalesim_probe WHERE id = 1";

/// A single monitoring connection that reconnects on demand.
#[derive(Debug)]
pub(crate) struct MonitorConn {
    options: PgConnectOptions,
    conn: Option<PgConnection>,
}

impl MonitorConn {
    pub(crate) fn new(url: &str) -> Result<Self, RealError> {
        Ok(MonitorConn {
            options: super::pgpool::connect_options(url)?,
            conn: None,
        })
    }

    async fn conn(&mut self) -> Option<&mut PgConnection> {
        if self.conn.is_none() {
            let c = tokio::time::timeout(STATEMENT_TIMEOUT, self.options.connect()).await;
            self.conn = c.ok().and_then(Result::ok);
        }
        self.conn.as_mut()
    }

    /// Runs `sql` and returns its first row, or `None` (and drops the connection) on failure.
    async fn row(&mut self, sql: &'static str) -> Option<sqlx::postgres::PgRow> {
        let conn = self.conn().await?;
        let res = tokio::time::timeout(STATEMENT_TIMEOUT, sqlx::query(sql).fetch_one(conn)).await;
        match res {
            Ok(Ok(row)) => Some(row),
            _ => {
                self.conn = None;
                None
            }
        }
    }
}

/// Writes a heartbeat on the primary and measures every replica's lag against it.
pub(crate) async fn sample_lag(
    primary: &mut MonitorConn,
    replicas: &mut [MonitorConn],
    run_start: Instant,
    max_wait: Duration,
) -> Vec<LagSample> {
    let Some(written) = write_heartbeat(primary).await else {
        return Vec::new();
    };
    let t = written.at.saturating_duration_since(run_start);
    let polls = replicas
        .iter_mut()
        .map(|r| poll_replica(r, &written, max_wait));
    let results = join_all(polls).await;
    results
        .into_iter()
        .enumerate()
        .map(|(replica, (lag_ms, lag_bytes))| LagSample {
            t,
            replica,
            lag_ms,
            lag_bytes,
        })
        .collect()
}

struct Heartbeat {
    at: Instant,
    lsn: i64,
}

async fn write_heartbeat(primary: &mut MonitorConn) -> Option<Heartbeat> {
    primary.row(HEARTBEAT).await?;
    let at = Instant::now();
    let lsn: i64 = primary.row(INSERT_LSN).await?.try_get(0).ok()?;
    Some(Heartbeat { at, lsn })
}

async fn poll_replica(
    replica: &mut MonitorConn,
    hb: &Heartbeat,
    max_wait: Duration,
) -> (Option<f64>, Option<i64>) {
    loop {
        let Some(row) = replica.row(REPLICA_VIEW).await else {
            return (None, None);
        };
        let replay: Option<i64> = row.try_get(0).ok().flatten();
        let age_ms: f64 = row
            .try_get::<Option<f64>, _>(1)
            .ok()
            .flatten()
            .unwrap_or(0.0);
        let waited = hb.at.elapsed();
        match lag_verdict(replay, hb.lsn, waited, age_ms, max_wait) {
            Some(v) => return v,
            None => tokio::time::sleep(POLL).await,
        }
    }
}

/// The lag of a replica that reports `replay` (its replay position, `None` if it is not in
/// recovery) `waited` after a heartbeat at position `target`, whose newest replayed commit is
/// `age_ms` old; `None` while it is worth polling again.
pub(crate) fn lag_verdict(
    replay: Option<i64>,
    target: i64,
    waited: Duration,
    age_ms: f64,
    max_wait: Duration,
) -> Option<(Option<f64>, Option<i64>)> {
    let waited_ms = waited.as_secs_f64() * 1_000.0;
    match replay {
        None => Some((Some(0.0), Some(0))),
        Some(r) if r >= target => Some((Some(waited_ms), Some(0))),
        Some(r) if waited >= max_wait => Some((Some(age_ms.max(waited_ms)), Some(target - r))),
        Some(_) => None,
    }
}

/// Writes a new probe value on the primary and reads it back from every replica.
pub(crate) async fn probe(
    primary: &mut MonitorConn,
    replicas: &mut [MonitorConn],
    run_start: Instant,
) -> Vec<ProbeSample> {
    let Some(row) = primary.row(PROBE_WRITE).await else {
        return Vec::new();
    };
    let t = Instant::now().saturating_duration_since(run_start);
    let Ok(written) = row.try_get::<i64, _>(0) else {
        return Vec::new();
    };
    let reads = replicas.iter_mut().map(|r| async move {
        let v = r
            .row(PROBE_READ)
            .await
            .and_then(|row| row.try_get::<i64, _>(0).ok());
        probe_outcome(v, written)
    });
    join_all(reads)
        .await
        .into_iter()
        .enumerate()
        .map(|(replica, outcome)| ProbeSample {
            t,
            replica,
            outcome,
        })
        .collect()
}

/// Behind when the replica's value is older than the one written.
pub(crate) fn probe_outcome(read: Option<i64>, written: i64) -> ProbeOutcome {
    match read {
        None => ProbeOutcome::Error,
        Some(v) if v < written => ProbeOutcome::Behind,
        Some(_) => ProbeOutcome::Current,
    }
}

/// Runs futures concurrently on the current task and collects their outputs in order.
pub(crate) async fn join_all<F: Future>(futs: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futs.into_iter().map(|f| Some(Box::pin(f))).collect();
    let mut out: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (slot, fut) in out.iter_mut().zip(pinned.iter_mut()) {
            if let Some(f) = fut {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        *slot = Some(v);
                        *fut = None;
                    }
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: Duration = Duration::from_millis(500);

    #[test]
    fn caught_up_replica_lags_by_the_wait() {
        let v = lag_verdict(Some(100), 100, Duration::from_millis(3), 800.0, MAX);
        assert_eq!(v, Some((Some(3.0), Some(0))));
    }

    #[test]
    fn behind_replica_is_polled_again_until_the_deadline() {
        assert_eq!(
            lag_verdict(Some(90), 100, Duration::from_millis(10), 5.0, MAX),
            None
        );
    }

    #[test]
    fn cut_off_replica_reports_the_age_of_its_view() {
        let v = lag_verdict(Some(90), 100, Duration::from_millis(501), 4_200.0, MAX);
        assert_eq!(v, Some((Some(4_200.0), Some(10))));
        // An idle primary's old heartbeat cannot make the lag smaller than the wait.
        let v = lag_verdict(Some(90), 100, Duration::from_millis(600), 1.0, MAX);
        assert_eq!(v.unwrap().0, Some(600.0));
    }

    #[test]
    fn a_primary_given_as_replica_has_no_lag() {
        assert_eq!(
            lag_verdict(None, 100, Duration::ZERO, 0.0, MAX),
            Some((Some(0.0), Some(0)))
        );
    }

    #[test]
    fn probe_outcomes() {
        assert_eq!(probe_outcome(Some(4), 5), ProbeOutcome::Behind);
        assert_eq!(probe_outcome(Some(5), 5), ProbeOutcome::Current);
        assert_eq!(probe_outcome(None, 5), ProbeOutcome::Error);
    }

    #[test]
    fn join_all_keeps_order() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let out = rt.block_on(join_all((0..5u64).map(|i| async move {
            tokio::time::sleep(Duration::from_millis(10 - 2 * i)).await;
            i
        })));
        assert_eq!(out, vec![0, 1, 2, 3, 4]);
    }
}
