//! What to start ([`ClusterSpec`]) and where it runs ([`Topology`]): plain data, checked
//! before any container is created.

use serde::{Deserialize, Serialize};

use super::ProvisionError;

/// Official name of the Postgres image, used when `SCALESIM_PG_IMAGE` is not set.
pub const POSTGRES_IMAGE: &str = "postgres:15";
/// Official name of the Redis image, used when `SCALESIM_REDIS_IMAGE` is not set.
pub const REDIS_IMAGE: &str = "redis:7";
/// Name of the PgBouncer image, used when `SCALESIM_PGBOUNCER_IMAGE` is not set. PgBouncer has
/// no official Docker Hub image: this is the name `scripts/build-images.sh` gives the one it
/// builds from Debian's package (`pgbouncer` on the path, configured by its arguments).
pub const PGBOUNCER_IMAGE: &str = "scalesim-pgbouncer:1.18";

/// Most replicas or shards one spec may ask for (each is a container on a small machine).
pub const MAX_NODES: usize = 16;

/// How every Postgres node trades crash safety for speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Durability {
    /// A production server's settings (Postgres' defaults, set explicitly): `fsync`,
    /// `full_page_writes` and `synchronous_commit` on, so an acknowledged commit is on disk.
    #[default]
    Durable,
    /// `fsync=off` and `full_page_writes=off`: commits skip the disk flush, and a crash of the
    /// machine can lose or corrupt data. `synchronous_commit` stays on: off, the WAL writer
    /// would hold commits back from the replicas for up to `wal_writer_delay` (200 ms), which
    /// would change replica lag, not just speed.
    Fast,
}

impl Durability {
    /// The names in `[real] durability`, in order.
    pub const NAMES: [&'static str; 2] = ["durable", "fast"];

    /// `durable` or `fast`.
    pub fn name(self) -> &'static str {
        match self {
            Durability::Durable => Self::NAMES[0],
            Durability::Fast => Self::NAMES[1],
        }
    }

    /// From its name.
    pub fn from_name(name: &str) -> Option<Durability> {
        match name {
            "durable" => Some(Durability::Durable),
            "fast" => Some(Durability::Fast),
            _ => None,
        }
    }

    /// The server settings (`name=value`) every Postgres node gets.
    pub fn settings(self) -> &'static [&'static str] {
        match self {
            Durability::Durable => &["fsync=on", "full_page_writes=on", "synchronous_commit=on"],
            Durability::Fast => &["fsync=off", "full_page_writes=off", "synchronous_commit=on"],
        }
    }
}

/// CPU and memory limits of every container (Docker's `NanoCpus` and `Memory`); `None` is no
/// limit. Swap is not allowed beyond the memory limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Limits {
    /// CPUs per container, in billionths of a CPU (1.5 CPUs = 1_500_000_000).
    pub nano_cpus: Option<i64>,
    /// Memory per container, bytes.
    pub memory_bytes: Option<i64>,
}

/// Smallest CPU limit Docker accepts, in billionths of a CPU (0.01 CPU).
pub const MIN_NANO_CPUS: i64 = 10_000_000;
/// Smallest memory limit scalesim accepts: 64 MiB (Postgres needs more than Docker's 6 MiB).
pub const MIN_MEMORY_BYTES: i64 = 64 << 20;

impl Limits {
    fn validate(&self) -> Result<(), ProvisionError> {
        let invalid = |why: &str| Err(ProvisionError::InvalidSpec(why.to_owned()));
        if self.nano_cpus.is_some_and(|n| n < MIN_NANO_CPUS) {
            return invalid("a CPU limit must be at least 0.01 CPU");
        }
        if self.memory_bytes.is_some_and(|m| m < MIN_MEMORY_BYTES) {
            return invalid("a memory limit must be at least 64 MiB");
        }
        Ok(())
    }
}

/// PgBouncer's `pool_mode`: when a client's server connection goes back to PgBouncer's pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PoolMode {
    /// When the client disconnects (PgBouncer's default).
    #[default]
    Session,
    /// At the end of each transaction.
    Transaction,
    /// After each statement (multi-statement transactions are refused).
    Statement,
}

impl PoolMode {
    /// The names, as PgBouncer spells them.
    pub const NAMES: [&'static str; 3] = ["session", "transaction", "statement"];

    /// As PgBouncer spells it.
    pub fn name(self) -> &'static str {
        match self {
            PoolMode::Session => Self::NAMES[0],
            PoolMode::Transaction => Self::NAMES[1],
            PoolMode::Statement => Self::NAMES[2],
        }
    }

    /// From PgBouncer's name.
    pub fn from_name(name: &str) -> Option<PoolMode> {
        Self::NAMES.iter().position(|n| *n == name).map(|i| {
            [
                PoolMode::Session,
                PoolMode::Transaction,
                PoolMode::Statement,
            ][i]
        })
    }
}

/// A PgBouncer in front of the primary, with PgBouncer's own setting names and defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PgBouncerSpec {
    /// `pool_mode`.
    pub pool_mode: PoolMode,
    /// `default_pool_size`: server connections per database and user.
    pub default_pool_size: u32,
    /// `max_client_conn`: client connections PgBouncer accepts at most.
    pub max_client_conn: u32,
}

impl Default for PgBouncerSpec {
    /// PgBouncer's defaults: session mode, 20 server connections, 100 clients.
    fn default() -> Self {
        PgBouncerSpec {
            pool_mode: PoolMode::Session,
            default_pool_size: 20,
            max_client_conn: 100,
        }
    }
}

/// What to start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterSpec {
    /// Postgres image, `name:tag` (e.g. `postgres:15`).
    pub postgres_image: String,
    /// Redis image, `name:tag` (e.g. `redis:7`).
    pub redis_image: String,
    /// Streaming replicas of the primary.
    pub replicas: usize,
    /// Independent Postgres servers besides the primary.
    pub shards: usize,
    /// Start a Redis server.
    pub redis: bool,
    /// Start a Redis replica of it (needs `redis`).
    pub redis_replica: bool,
    /// Postgres durability settings of every node.
    #[serde(default)]
    pub durability: Durability,
    /// CPU and memory limits of every container.
    #[serde(default)]
    pub limits: Limits,
    /// The primary's `max_connections` (`None`: the image's default, 100).
    #[serde(default)]
    pub max_connections: Option<u32>,
    /// A PgBouncer in front of the primary.
    #[serde(default)]
    pub pgbouncer: Option<PgBouncerSpec>,
    /// PgBouncer image, `name:tag`.
    #[serde(default = "default_pgbouncer_image")]
    pub pgbouncer_image: String,
}

impl ClusterSpec {
    /// A spec with the default image names ([`default_postgres_image`],
    /// [`default_redis_image`]).
    pub fn new(replicas: usize, shards: usize, redis: bool, redis_replica: bool) -> ClusterSpec {
        ClusterSpec {
            postgres_image: default_postgres_image(),
            redis_image: default_redis_image(),
            replicas,
            shards,
            redis,
            redis_replica,
            durability: Durability::default(),
            limits: Limits::default(),
            max_connections: None,
            pgbouncer: None,
            pgbouncer_image: default_pgbouncer_image(),
        }
    }

    pub(super) fn validate(&self) -> Result<(), ProvisionError> {
        let invalid = |why: String| Err(ProvisionError::InvalidSpec(why));
        if self.redis_replica && !self.redis {
            return invalid("redis_replica needs redis".into());
        }
        if self.replicas > MAX_NODES || self.shards > MAX_NODES {
            return invalid(format!(
                "at most {MAX_NODES} replicas and {MAX_NODES} shards"
            ));
        }
        self.limits.validate()?;
        split_image(&self.postgres_image)?;
        if self.redis {
            split_image(&self.redis_image)?;
        }
        if self.pgbouncer.is_some() {
            split_image(&self.pgbouncer_image)?;
            return invalid(
                "a PgBouncer container is not provisioned yet: run against existing servers \
                 (--target pgbouncer=URL, e.g. scripts/real-dev-cluster.sh's)"
                    .into(),
            );
        }
        Ok(())
    }
}

impl Default for ClusterSpec {
    /// A lone primary with the default image names.
    fn default() -> ClusterSpec {
        ClusterSpec::new(0, 0, false, false)
    }
}

/// `SCALESIM_PG_IMAGE` if set and not empty, else [`POSTGRES_IMAGE`].
pub fn default_postgres_image() -> String {
    image_from_env("SCALESIM_PG_IMAGE", POSTGRES_IMAGE)
}

/// `SCALESIM_REDIS_IMAGE` if set and not empty, else [`REDIS_IMAGE`].
pub fn default_redis_image() -> String {
    image_from_env("SCALESIM_REDIS_IMAGE", REDIS_IMAGE)
}

/// `SCALESIM_PGBOUNCER_IMAGE` if set and not empty, else [`PGBOUNCER_IMAGE`].
pub fn default_pgbouncer_image() -> String {
    image_from_env("SCALESIM_PGBOUNCER_IMAGE", PGBOUNCER_IMAGE)
}

fn image_from_env(var: &str, default: &str) -> String {
    std::env::var(var)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// `name:tag` into its parts; the tag defaults to `latest`. A `:` before the last `/` belongs
/// to a registry host (`host:5000/postgres`).
pub(super) fn split_image(image: &str) -> Result<(&str, &str), ProvisionError> {
    let bad = || ProvisionError::InvalidSpec(format!("bad image name {image:?}"));
    if image.is_empty() || image.contains(char::is_whitespace) || image.contains('@') {
        return Err(bad());
    }
    let (name, tag) = match image.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, tag),
        _ => (image, "latest"),
    };
    if name.is_empty() || tag.is_empty() {
        return Err(bad());
    }
    Ok((name, tag))
}

/// Where the servers are, as URLs reachable from the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Topology {
    /// `postgres://` URL of the primary.
    pub primary: String,
    /// `postgres://` URLs of the streaming replicas, replica 0 first.
    pub replicas: Vec<String>,
    /// `postgres://` URLs of the independent shards, shard 0 first.
    pub shards: Vec<String>,
    /// `redis://` URL of the Redis server, if any.
    pub redis: Option<String>,
    /// `redis://` URL of the Redis replica, if any.
    pub redis_replica: Option<String>,
    /// `postgres://` URL of PgBouncer in front of the primary, if any.
    #[serde(default)]
    pub pgbouncer: Option<String>,
}

impl Topology {
    /// Servers that scalesim did not start (no Redis replica).
    pub fn external(
        primary: &str,
        replicas: &[String],
        shards: &[String],
        redis: Option<&str>,
    ) -> Topology {
        Topology {
            primary: primary.to_owned(),
            replicas: replicas.to_vec(),
            shards: shards.to_vec(),
            redis: redis.map(str::to_owned),
            redis_replica: None,
            pgbouncer: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durable_is_the_default_and_fast_turns_fsync_off() {
        assert_eq!(ClusterSpec::default().durability, Durability::Durable);
        assert!(Durability::Durable.settings().contains(&"fsync=on"));
        assert!(Durability::Fast.settings().contains(&"fsync=off"));
        for d in [Durability::Durable, Durability::Fast] {
            assert_eq!(Durability::from_name(d.name()), Some(d));
            assert!(d.settings().contains(&"synchronous_commit=on"));
        }
        assert_eq!(Durability::from_name("Fast"), None);
    }

    #[test]
    fn image_names_split_like_docker() {
        assert_eq!(split_image("postgres:15").unwrap(), ("postgres", "15"));
        assert_eq!(split_image("redis").unwrap(), ("redis", "latest"));
        assert_eq!(
            split_image("host:5000/pg").unwrap(),
            ("host:5000/pg", "latest")
        );
        assert_eq!(
            split_image("host:5000/pg:15").unwrap(),
            ("host:5000/pg", "15")
        );
        for bad in ["", ":15", "pg:", "pg 15", "pg@sha256:abc"] {
            assert!(
                matches!(split_image(bad), Err(ProvisionError::InvalidSpec(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn specs_are_checked_before_anything_starts() {
        let invalid =
            |spec: ClusterSpec| matches!(spec.validate(), Err(ProvisionError::InvalidSpec(_)));
        assert!(invalid(ClusterSpec {
            redis_replica: true,
            ..ClusterSpec::default()
        }));
        assert!(invalid(ClusterSpec {
            replicas: MAX_NODES + 1,
            ..ClusterSpec::default()
        }));
        assert!(invalid(ClusterSpec {
            postgres_image: "no such".into(),
            ..ClusterSpec::default()
        }));
        assert!(invalid(ClusterSpec {
            limits: Limits {
                nano_cpus: Some(MIN_NANO_CPUS - 1),
                memory_bytes: None
            },
            ..ClusterSpec::default()
        }));
        assert!(invalid(ClusterSpec {
            limits: Limits {
                nano_cpus: None,
                memory_bytes: Some(MIN_MEMORY_BYTES - 1)
            },
            ..ClusterSpec::default()
        }));
        assert!(ClusterSpec::new(2, 3, true, true).validate().is_ok());
    }

    #[test]
    fn external_topology_has_no_redis_replica() {
        let replicas = ["postgres://r".to_owned()];
        let t = Topology::external("postgres://p", &replicas, &[], Some("redis://x"));
        assert_eq!(t.replicas, ["postgres://r"]);
        assert_eq!(t.redis.as_deref(), Some("redis://x"));
        assert_eq!(t.redis_replica, None);
    }
}
