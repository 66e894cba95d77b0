//! What the servers of a real run were: durability settings as the primary reports them, the
//! CPU and memory limits of the containers, and the images they ran (name, id, and whether it
//! is the official image or the Debian look-alike of `scripts/build-images.sh`). Written into
//! each strategy's summary as `servers` ([`ServersSummary`]).

use std::collections::BTreeMap;
use std::time::Duration;

use sqlx::{ConnectOptions, Connection, PgConnection, Row};

use super::plan::{Endpoints, RealError};
use super::provision::{ClusterSpec, PgBouncerSpec};
use crate::report::summary::{ImageSummary, Report, ServersSummary};

/// The label `scripts/build-images.sh` puts on its look-alike images.
const LOOKALIKE_LABEL: &str = "org.scalesim.image";
/// The settings read back from the primary, with their queries.
const SETTINGS: [(&str, &str); 4] = [
    ("fsync", "SHOW fsync"),
    ("full_page_writes", "SHOW full_page_writes"),
    ("synchronous_commit", "SHOW synchronous_commit"),
    ("max_connections", "SHOW max_connections"),
];

/// Servers scalesim did not start (`--target`) cannot be given the settings the scenario
/// asks for, so they must already have them: the primary's `max_connections`, and, when a
/// PgBouncer is given, its `pool_mode`, `default_pool_size` and `max_client_conn` (read from
/// its admin console, `SHOW CONFIG`; a PgBouncer whose console cannot be asked is used with a
/// warning). A difference is an error naming both values.
pub(crate) async fn check_external(spec: &ClusterSpec, ep: &Endpoints) -> Result<(), RealError> {
    if let Some(want) = spec.max_connections {
        let mut conn = PgConnection::connect(&ep.primary)
            .await
            .map_err(|e| RealError::pg("primary", e))?;
        let have: String = sqlx::query_scalar("SHOW max_connections")
            .fetch_one(&mut conn)
            .await
            .map_err(|e| RealError::pg("primary", e))?;
        let _ = conn.close().await;
        if have.trim() != want.to_string() {
            return Err(RealError::InvalidPlan(format!(
                "the scenario sets `max_connections = {want}` but the --target primary has \
                 {have}: scalesim cannot change it on a server it did not start (restart the \
                 server with max_connections = {want}; scripts/real-dev-cluster.sh takes \
                 MAX_CONNECTIONS={want})"
            )));
        }
    }
    if let (Some(want), Some(url)) = (&spec.pgbouncer, &ep.pgbouncer) {
        match pgbouncer_config(url).await {
            Ok(have) => compare_pgbouncer(want, &have)?,
            Err(e) => eprintln!(
                "scalesim real: warning: cannot read PgBouncer's settings from its admin \
                 console ({e}); using it as it is"
            ),
        }
    }
    Ok(())
}

/// PgBouncer's `SHOW CONFIG`, as key and value.
async fn pgbouncer_config(url: &str) -> Result<BTreeMap<String, String>, sqlx::Error> {
    let options = super::pgpool::connect_options(url)
        .map_err(|e| sqlx::Error::Configuration(e.to_string().into()))?
        .database("pgbouncer")
        .extra_float_digits(None);
    let ask = async {
        let mut conn = options.connect().await?;
        let rows = sqlx::raw_sql("SHOW CONFIG").fetch_all(&mut conn).await?;
        let _ = conn.close().await;
        rows.iter()
            .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<String, _>(1)?)))
            .collect()
    };
    tokio::time::timeout(Duration::from_secs(10), ask)
        .await
        .unwrap_or(Err(sqlx::Error::PoolTimedOut))
}

fn compare_pgbouncer(
    want: &PgBouncerSpec,
    have: &BTreeMap<String, String>,
) -> Result<(), RealError> {
    let wanted = [
        ("pool_mode", want.pool_mode.name().to_owned()),
        ("default_pool_size", want.default_pool_size.to_string()),
        ("max_client_conn", want.max_client_conn.to_string()),
    ];
    for (key, value) in wanted {
        let got = have.get(key).map_or("(not reported)", String::as_str);
        if got != value {
            return Err(RealError::InvalidPlan(format!(
                "the scenario sets PgBouncer's `{key} = {value}` but the --target pgbouncer has \
                 {got}: scalesim cannot change it on a PgBouncer it did not start"
            )));
        }
    }
    Ok(())
}

/// Describes the servers: those of `cluster` when scalesim started them from it, else
/// external ones; `primary` is the primary's URL. Never fails: what cannot be asked is left
/// empty.
pub(crate) async fn describe(cluster: Option<&ClusterSpec>, primary: &str) -> ServersSummary {
    let postgres_settings = settings(primary).await.unwrap_or_default();
    let Some(c) = cluster else {
        return ServersSummary {
            source: "external".into(),
            postgres_settings,
            ..ServersSummary::default()
        };
    };
    let mut images = vec![image("postgres", &c.postgres_image).await];
    if c.redis {
        images.push(image("redis", &c.redis_image).await);
    }
    ServersSummary {
        source: "containers".into(),
        durability: Some(c.durability.name().to_owned()),
        postgres_settings,
        cpus: c.limits.nano_cpus.map(|n| n as f64 / 1e9),
        memory_bytes: c.limits.memory_bytes,
        images,
    }
}

/// Puts `servers` into every strategy of the report (base point, sweep points, named loads).
pub(crate) fn stamp(report: &mut Report, servers: &ServersSummary) {
    let s = &mut report.summary;
    let points = s.points.iter_mut().flat_map(|p| p.strategies.iter_mut());
    let loads = s.loads.iter_mut().flat_map(|l| l.strategies.iter_mut());
    for strategy in s.strategies.iter_mut().chain(points).chain(loads) {
        strategy.servers = Some(servers.clone());
    }
}

async fn settings(url: &str) -> Result<BTreeMap<String, String>, sqlx::Error> {
    let ask = async {
        let mut conn = PgConnection::connect(url).await?;
        let mut out = BTreeMap::new();
        for (name, sql) in SETTINGS {
            let value: String = sqlx::query_scalar(sql).fetch_one(&mut conn).await?;
            out.insert(name.to_owned(), value);
        }
        conn.close().await?;
        Ok(out)
    };
    tokio::time::timeout(Duration::from_secs(10), ask)
        .await
        .unwrap_or(Err(sqlx::Error::PoolTimedOut))
}

async fn image(role: &str, name: &str) -> ImageSummary {
    let format = format!(
        "{{{{.Id}}}}\t{{{{index .Config.Labels \"{LOOKALIKE_LABEL}\"}}}}\t{{{{json .RepoDigests}}}}"
    );
    let out = tokio::process::Command::new("docker")
        .args(["image", "inspect", "--format", &format, name])
        .output()
        .await;
    let text = match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_owned(),
        _ => String::new(),
    };
    let mut parts = text.split('\t');
    let id = parts.next().unwrap_or_default().to_owned();
    let label = parts.next().unwrap_or_default();
    let digests = parts.next().unwrap_or_default();
    ImageSummary {
        role: role.to_owned(),
        name: name.to_owned(),
        kind: image_kind(role, label, digests).to_owned(),
        id,
    }
}

/// `debian-lookalike` when the look-alike label is set, `official` when the image came from
/// Docker Hub's official repository of `role` (a repo digest `postgres@sha256:...` or
/// `docker.io/library/postgres@...`), else `other`.
fn image_kind(role: &str, label: &str, repo_digests: &str) -> &'static str {
    if !label.is_empty() && label != "<no value>" {
        return "debian-lookalike";
    }
    let official = [format!("\"{role}@"), format!("\"docker.io/library/{role}@")];
    if official.iter().any(|p| repo_digests.contains(p.as_str())) {
        "official"
    } else {
        "other"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::summary::{StrategySummary, Summary};

    #[test]
    fn images_are_told_apart_by_label_and_digest() {
        assert_eq!(
            image_kind("postgres", "debian-lookalike", "[]"),
            "debian-lookalike"
        );
        let pulled = r#"["postgres@sha256:abc"]"#;
        assert_eq!(image_kind("postgres", "<no value>", pulled), "official");
        let hub = r#"["docker.io/library/redis@sha256:abc"]"#;
        assert_eq!(image_kind("redis", "", hub), "official");
        assert_eq!(image_kind("redis", "", pulled), "other");
        assert_eq!(image_kind("postgres", "", "[]"), "other");
    }

    #[test]
    fn pgbouncer_settings_must_match_the_scenario() {
        let want = PgBouncerSpec {
            pool_mode: crate::real::provision::PoolMode::Transaction,
            default_pool_size: 20,
            max_client_conn: 1000,
        };
        let mut have: BTreeMap<String, String> = [
            ("pool_mode", "transaction"),
            ("default_pool_size", "20"),
            ("max_client_conn", "1000"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        assert!(compare_pgbouncer(&want, &have).is_ok());
        have.insert("pool_mode".into(), "session".into());
        let err = compare_pgbouncer(&want, &have).unwrap_err().to_string();
        assert!(
            err.contains("pool_mode = transaction") && err.contains("session"),
            "{err}"
        );
        have.remove("pool_mode");
        assert!(compare_pgbouncer(&want, &have).is_err());
    }

    #[test]
    fn every_strategy_gets_the_servers() {
        let summary: Summary = serde_json::from_value(serde_json::json!({
            "schema": 1, "scenario": "s", "scenario_hash": "h", "seed": 1, "replications": 1,
            "mode": "real", "horizon_s": 1.0, "strategies": [],
        }))
        .unwrap();
        let mut report = Report {
            summary,
            timeseries: Vec::new(),
            cdfs: Vec::new(),
            description: String::new(),
            scenario_text: String::new(),
        };
        report.summary.strategies = vec![StrategySummary::default(); 2];
        let servers = ServersSummary {
            durability: Some("durable".into()),
            ..ServersSummary::default()
        };
        stamp(&mut report, &servers);
        assert!(
            report
                .summary
                .strategies
                .iter()
                .all(|s| s.servers.as_ref() == Some(&servers))
        );
    }
}
