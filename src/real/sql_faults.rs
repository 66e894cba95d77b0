//! Fault names, and an injector that cuts a replica off with SQL alone.
//!
//! [`parse_fault`] reads the fault strings of a plan (`stop replica-1`, `pause primary`,
//! `disconnect replica-0`, ...) into a [`FaultAction`] and a [`FaultTarget`], for any injector.
//!
//! [`SqlFaultInjector`] needs no container engine: `disconnect replica-N` stops that replica's
//! WAL receiver by setting its `primary_conninfo` to an empty string (`ALTER SYSTEM`, then
//! `pg_reload_conf()`; reloadable since PostgreSQL 13), and `reconnect replica-N` restores the
//! setting it had. The replica keeps serving reads, ever staler, which is exactly a network
//! cut between primary and replica as clients see it. It needs a superuser on the replica;
//! other faults are refused with an error message.

use std::collections::HashMap;
use std::sync::Mutex;

use sqlx::ConnectOptions;
use sqlx::postgres::PgConnection;

use super::measure::lock;
use super::pgpool::connect_options;
use super::plan::{BoxFuture, Endpoints, FaultInjector, RealError};

/// What a fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultAction {
    /// Stop the server.
    Stop,
    /// Start it again.
    Start,
    /// Freeze it (e.g. `docker pause`).
    Pause,
    /// Unfreeze it.
    Unpause,
    /// Cut its network (for a replica: from its primary).
    Disconnect,
    /// Restore its network.
    Reconnect,
}

/// Which server a fault hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultTarget {
    /// The primary.
    Primary,
    /// Replica `i`.
    Replica(usize),
}

/// Parses `"<action> <target>"`, e.g. `stop replica-1` or `pause primary`.
pub fn parse_fault(fault: &str) -> Result<(FaultAction, FaultTarget), String> {
    let mut words = fault.split_whitespace();
    let (Some(action), Some(target), None) = (words.next(), words.next(), words.next()) else {
        return Err(format!("fault `{fault}`: expected `<action> <target>`"));
    };
    let action = match action.to_ascii_lowercase().as_str() {
        "stop" => FaultAction::Stop,
        "start" => FaultAction::Start,
        "pause" => FaultAction::Pause,
        "unpause" => FaultAction::Unpause,
        "disconnect" => FaultAction::Disconnect,
        "reconnect" => FaultAction::Reconnect,
        other => return Err(format!("fault `{fault}`: unknown action `{other}`")),
    };
    let target = match target.to_ascii_lowercase().as_str() {
        "primary" => FaultTarget::Primary,
        t => t
            .strip_prefix("replica-")
            .and_then(|i| i.parse().ok())
            .map(FaultTarget::Replica)
            .ok_or_else(|| format!("fault `{fault}`: unknown target `{t}`"))?,
    };
    Ok((action, target))
}

/// Disconnects and reconnects replicas by rewriting their `primary_conninfo`.
#[derive(Debug)]
pub struct SqlFaultInjector {
    replicas: Vec<String>,
    saved: Mutex<HashMap<usize, String>>,
}

impl SqlFaultInjector {
    /// An injector for the replicas of `endpoints` (hosts checked as for a run).
    pub fn new(endpoints: &Endpoints) -> Result<Self, RealError> {
        endpoints.check_hosts()?;
        Ok(SqlFaultInjector {
            replicas: endpoints.replicas.clone(),
            saved: Mutex::new(HashMap::new()),
        })
    }

    async fn connect(&self, i: usize) -> Result<PgConnection, String> {
        let url = self
            .replicas
            .get(i)
            .ok_or_else(|| format!("no replica-{i}"))?;
        let options = connect_options(url).map_err(|e| e.to_string())?;
        options
            .connect()
            .await
            .map_err(|e| format!("replica-{i}: {e}"))
    }

    async fn disconnect(&self, i: usize) -> Result<(), String> {
        let mut conn = self.connect(i).await?;
        let current: String = sqlx::query_scalar("SHOW primary_conninfo")
            .fetch_one(&mut conn)
            .await
            .map_err(|e| format!("replica-{i}: {e}"))?;
        if current.is_empty() {
            return Ok(());
        }
        lock(&self.saved).insert(i, current);
        set_conninfo(&mut conn, "")
            .await
            .map_err(|e| format!("replica-{i}: {e}"))
    }

    async fn reconnect(&self, i: usize) -> Result<(), String> {
        let Some(saved) = lock(&self.saved).get(&i).cloned() else {
            return Err(format!("replica-{i} was not disconnected by this injector"));
        };
        let mut conn = self.connect(i).await?;
        set_conninfo(&mut conn, &saved)
            .await
            .map_err(|e| format!("replica-{i}: {e}"))?;
        lock(&self.saved).remove(&i);
        Ok(())
    }
}

impl FaultInjector for SqlFaultInjector {
    fn inject<'a>(&'a self, fault: &'a str) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            match parse_fault(fault)? {
                (FaultAction::Disconnect, FaultTarget::Replica(i)) => self.disconnect(i).await,
                (FaultAction::Reconnect, FaultTarget::Replica(i)) => self.reconnect(i).await,
                _ => Err(format!(
                    "fault `{fault}`: only `disconnect/reconnect replica-N` work over SQL"
                )),
            }
        })
    }
}

async fn set_conninfo(conn: &mut PgConnection, value: &str) -> Result<(), sqlx::Error> {
    let sql = format!(
        "ALTER SYSTEM SET primary_conninfo = {}",
        quote_literal(value)
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut *conn)
        .await?;
    sqlx::query("SELECT pg_reload_conf()")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// An SQL string literal (`ALTER SYSTEM` takes no parameters); with
/// `standard_conforming_strings` (the default) only quotes need doubling.
fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse() {
        assert_eq!(
            parse_fault("stop replica-1"),
            Ok((FaultAction::Stop, FaultTarget::Replica(1)))
        );
        assert_eq!(
            parse_fault("Pause  primary"),
            Ok((FaultAction::Pause, FaultTarget::Primary))
        );
        assert_eq!(
            parse_fault("reconnect replica-0"),
            Ok((FaultAction::Reconnect, FaultTarget::Replica(0)))
        );
        for bad in [
            "",
            "stop",
            "stop replica-x",
            "explode primary",
            "stop primary now",
        ] {
            assert!(parse_fault(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn literals_are_quoted() {
        assert_eq!(quote_literal("a'b"), "'a''b'");
        assert_eq!(quote_literal(""), "''");
    }

    #[test]
    fn unsupported_faults_are_errors_not_panics() {
        let inj = SqlFaultInjector::new(&Endpoints::new("postgres://localhost/x")).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        assert!(rt.block_on(inj.inject("pause primary")).is_err());
        assert!(rt.block_on(inj.inject("reconnect replica-0")).is_err());
        assert!(rt.block_on(inj.inject("nonsense")).is_err());
    }
}
