//! What each container of a cluster runs: image, command, environment, the log lines that
//! mean "ready", its name, network, labels and host port. The commands are the same for the
//! official images and for the look-alikes of `scripts/build-images.sh`.

use std::fmt;
use std::time::Duration;

use testcontainers::bollard::models::HostConfig;
use testcontainers::core::{IntoContainerPort, WaitFor};
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, ContainerRequest, GenericImage, ImageExt};

use super::spec::{Durability, Limits, split_image};
use super::{CLUSTER_LABEL, HOST_LABEL, OWNER_LABEL, PG_CREDENTIALS, ProvisionError, docker};

const PG_PORT: u16 = 5432;
const REDIS_PORT: u16 = 6379;
/// How long one container may take from creation to its ready line.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(120);

const PG_READY: &str = "database system is ready to accept connections";
const REPLICA_READY: &str = "database system is ready to accept read-only connections";
const REDIS_READY: &str = "Ready to accept connections";
const REDIS_SYNCED: &str = "MASTER <-> REPLICA sync: Finished with success";
/// Redis as a cache: no snapshots, no append-only file; reachable from other containers (the
/// official image also turns protected mode off).
#[rustfmt::skip]
const REDIS_ARGS: &[&str] =
    &["redis-server", "--save", "", "--appendonly", "no", "--protected-mode", "no"];

/// Appended to the primary's `pg_hba.conf` by the image's entrypoint on first start.
const HBA_INIT_SCRIPT: &str = "echo 'host replication all all trust' >> \"$PGDATA/pg_hba.conf\"\n";

/// What a container is in the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    Primary,
    Replica(usize),
    Shard(usize),
    Redis,
    RedisReplica,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Role::Primary => f.write_str("primary"),
            Role::Replica(i) => write!(f, "replica-{i}"),
            Role::Shard(i) => write!(f, "shard-{i}"),
            Role::Redis => f.write_str("redis"),
            Role::RedisReplica => f.write_str("redis-replica"),
        }
    }
}

/// Everything needed to start one container, owned so it can move into a task.
#[derive(Debug, Clone)]
pub(super) struct NodePlan {
    pub(super) role: Role,
    pub(super) cluster: String,
    pub(super) image: String,
    pub(super) host_port: u16,
    pub(super) local_engine: bool,
    pub(super) durability: Durability,
    pub(super) limits: Limits,
    pub(super) max_connections: Option<u32>,
}

impl NodePlan {
    fn container_name(&self) -> String {
        container_name(&self.cluster, self.role)
    }

    fn container_port(&self) -> u16 {
        match self.role {
            Role::Redis | Role::RedisReplica => REDIS_PORT,
            _ => PG_PORT,
        }
    }

    /// The testcontainers request: image, command, waits, name, network, labels, port.
    fn request(&self) -> Result<ContainerRequest<GenericImage>, ProvisionError> {
        let (name, tag) = split_image(&self.image)?;
        let image = GenericImage::new(name, tag);
        let request = match self.role {
            Role::Primary => postgres_server(image, self.settings(PRIMARY_SETTINGS)).with_copy_to(
                "/docker-entrypoint-initdb.d/10-scalesim-replication.sh",
                HBA_INIT_SCRIPT.as_bytes().to_vec(),
            ),
            Role::Shard(_) => postgres_server(image, self.settings(&[])),
            Role::Replica(_) => postgres_replica(
                image,
                &container_name(&self.cluster, Role::Primary),
                &self.settings(REPLICA_SETTINGS),
            ),
            Role::Redis => redis_server(image, &[]),
            Role::RedisReplica => {
                let master = container_name(&self.cluster, Role::Redis);
                redis_server(image, &["--replicaof", &master, &REDIS_PORT.to_string()])
            }
        };
        Ok(self.place(request))
    }

    /// The durability settings, `max_connections` when set (on every node: a hot standby
    /// may not have fewer than its primary), then the role's, as `-c` arguments of
    /// `postgres`.
    fn settings(&self, role: &[&'static str]) -> Vec<String> {
        let limit = self.max_connections.map(|n| format!("max_connections={n}"));
        let all: Vec<String> = self
            .durability
            .settings()
            .iter()
            .map(|s| (*s).to_owned())
            .chain(limit)
            .chain(role.iter().map(|s| (*s).to_owned()))
            .collect();
        setting_args(&all)
    }

    /// Name, network, labels, startup timeout, limits and the host port (on 127.0.0.1 when
    /// the engine is on this machine). The port is fixed, not left to Docker, so it survives a
    /// stop and start of the container.
    fn place(&self, request: ContainerRequest<GenericImage>) -> ContainerRequest<GenericImage> {
        let (local, limits) = (self.local_engine, self.limits);
        request
            .with_container_name(self.container_name())
            .with_network(self.cluster.as_str())
            .with_label(OWNER_LABEL, std::process::id().to_string())
            .with_label(CLUSTER_LABEL, self.cluster.as_str())
            .with_label(HOST_LABEL, docker::this_host())
            .with_startup_timeout(STARTUP_TIMEOUT)
            .with_mapped_port(self.host_port, self.container_port().tcp())
            .with_host_config_modifier(move |config| {
                bind_loopback(config, local);
                apply_limits(config, limits);
            })
    }
}

/// Docker's CPU and memory limits; swap is capped at the memory limit (no swap).
fn apply_limits(config: &mut HostConfig, limits: Limits) {
    if let Some(n) = limits.nano_cpus {
        config.nano_cpus = Some(n);
    }
    if let Some(m) = limits.memory_bytes {
        config.memory = Some(m);
        config.memory_swap = Some(m);
    }
}

fn bind_loopback(config: &mut HostConfig, local_engine: bool) {
    if !local_engine {
        return;
    }
    for binding in config
        .port_bindings
        .iter_mut()
        .flat_map(|m| m.values_mut())
        .flatten()
        .flatten()
    {
        binding.host_ip = Some("127.0.0.1".to_owned());
    }
}

pub(super) fn container_name(cluster: &str, role: Role) -> String {
    format!("{cluster}-{role}")
}

/// Primary settings: WAL for streaming replicas, kept long enough for a replica that was
/// stopped or cut off to resume, and a short sender timeout so a vanished replica is noticed.
/// Each replica takes up to two WAL senders while it clones the primary (`-X stream`).
const PRIMARY_SETTINGS: &[&str] = &[
    "wal_level=replica",
    "max_wal_senders=40",
    "wal_keep_size=256MB",
    "wal_sender_timeout=5s",
];
/// Replica settings: a standby may not have fewer WAL senders than its primary; the short
/// receiver timeout and retry interval make it notice a lost primary and reconnect within
/// seconds.
const REPLICA_SETTINGS: &[&str] = &[
    "max_wal_senders=40",
    "wal_receiver_timeout=5s",
    "wal_retrieve_retry_interval=1s",
];

/// `["a=1", "b=2"]` to `["-c", "a=1", "-c", "b=2"]`, arguments of `postgres`.
fn setting_args(settings: &[String]) -> Vec<String> {
    settings
        .iter()
        .flat_map(|s| ["-c".to_owned(), s.clone()])
        .collect()
}

/// `/dev/shm` of a Postgres container: Docker's default of 64 MiB is too small for parallel
/// queries (their hash tables live in dynamic shared memory), and a server that runs out of it
/// can crash and restart, refusing connections meanwhile; the official image's documentation
/// suggests 256 MB.
const PG_SHM_BYTES: u64 = 256 << 20;

/// A Postgres server initialised by the image's entrypoint; ready once the temporary init
/// server (stdout) and the final server (stderr) have both said so, as testcontainers'
/// Postgres module waits.
fn postgres_server(image: GenericImage, args: Vec<String>) -> ContainerRequest<GenericImage> {
    image
        .with_wait_for(WaitFor::message_on_stderr(PG_READY))
        .with_wait_for(WaitFor::message_on_stdout(PG_READY))
        .with_shm_size(PG_SHM_BYTES)
        .with_env_var("POSTGRES_USER", PG_CREDENTIALS)
        .with_env_var("POSTGRES_PASSWORD", PG_CREDENTIALS)
        .with_env_var("POSTGRES_DB", PG_CREDENTIALS)
        .with_cmd(args)
}

/// A streaming replica of `primary`: clone it once (retrying until it answers), then run as a
/// hot standby.
fn postgres_replica(
    image: GenericImage,
    primary: &str,
    settings: &[String],
) -> ContainerRequest<GenericImage> {
    let settings = settings.join(" ");
    let script = format!(
        r#"set -e
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_basebackup -h {primary} -p {PG_PORT} -U postgres -D "$PGDATA" -R -X stream -c fast; do
    echo "replica: waiting for {primary}"; rm -rf "$PGDATA"/*; sleep 1
  done
  chmod 0700 "$PGDATA"
fi
exec postgres {settings}"#
    );
    image
        .with_wait_for(WaitFor::message_on_stderr(REPLICA_READY))
        .with_shm_size(PG_SHM_BYTES)
        .with_user("postgres")
        .with_cmd(["bash", "-c", script.as_str()])
}

fn redis_server(image: GenericImage, extra: &[&str]) -> ContainerRequest<GenericImage> {
    let mut image = image.with_wait_for(WaitFor::message_on_stdout(REDIS_READY));
    if !extra.is_empty() {
        image = image.with_wait_for(WaitFor::message_on_stdout(REDIS_SYNCED));
    }
    image.with_cmd(REDIS_ARGS.iter().chain(extra).copied())
}

/// One started container.
#[derive(Debug)]
pub(super) struct Node {
    pub(super) role: Role,
    pub(super) container: String,
    pub(super) host_port: u16,
    /// testcontainers' handle; `None` once it is given up (removal then goes by label).
    pub(super) handle: Option<ContainerAsync<GenericImage>>,
}

/// Starts one container. If its host port was taken meanwhile (by another program or another
/// cluster), it retries with a new port a few times.
pub(super) async fn start_node(mut plan: NodePlan) -> Result<Node, ProvisionError> {
    let container = plan.container_name();
    let mut retries = 3;
    loop {
        match plan.request()?.start().await {
            Ok(handle) => {
                return Ok(Node {
                    role: plan.role,
                    container,
                    host_port: plan.host_port,
                    handle: Some(handle),
                });
            }
            Err(source) if retries > 0 && port_taken(&source) => {
                retries -= 1;
                docker::run(&["rm", "-f", "-v", &container]).await?;
                plan.host_port = free_ports(1)?.pop().unwrap_or(plan.host_port);
            }
            Err(source) => {
                return Err(ProvisionError::Container {
                    node: container,
                    source,
                });
            }
        }
    }
}

fn port_taken(error: &testcontainers::TestcontainersError) -> bool {
    let text = error.to_string();
    text.contains("port is already allocated") || text.contains("address already in use")
}

pub(super) fn role_order(role: Role) -> (u8, usize) {
    match role {
        Role::Primary => (0, 0),
        Role::Replica(i) => (1, i),
        Role::Shard(i) => (2, i),
        Role::Redis => (3, 0),
        Role::RedisReplica => (4, 0),
    }
}

/// Whether published ports are on this machine's loopback: a Unix-socket engine, and this
/// process not itself in a container.
pub(super) fn local_engine() -> bool {
    let socket =
        std::env::var("DOCKER_HOST").map_or(true, |h| h.is_empty() || h.starts_with("unix://"));
    socket && !std::path::Path::new("/.dockerenv").exists()
}

/// `n` distinct TCP ports that are free on 127.0.0.1 right now (the OS picks them; all are
/// held until all are picked, so none repeats).
pub(super) fn free_ports(n: usize) -> Result<Vec<u16>, ProvisionError> {
    let listeners = (0..n)
        .map(|_| std::net::TcpListener::bind(("127.0.0.1", 0)))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(ProvisionError::Port)?;
    listeners
        .iter()
        .map(|l| Ok(l.local_addr().map_err(ProvisionError::Port)?.port()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_names_follow_roles() {
        assert_eq!(container_name("c", Role::Replica(2)), "c-replica-2");
        assert_eq!(container_name("c", Role::RedisReplica), "c-redis-replica");
        let mut roles = [Role::Redis, Role::Shard(1), Role::Replica(1), Role::Primary];
        roles.sort_by_key(|r| role_order(*r));
        assert_eq!(
            roles,
            [Role::Primary, Role::Replica(1), Role::Shard(1), Role::Redis]
        );
    }

    #[test]
    fn free_ports_are_distinct() {
        let mut ports = free_ports(20).unwrap();
        ports.sort_unstable();
        ports.dedup();
        assert_eq!(ports.len(), 20);
        assert!(ports.iter().all(|&p| p > 0));
    }

    #[test]
    fn settings_become_dash_c_arguments() {
        let settings = ["a=1".to_owned(), "b=2".to_owned()];
        assert_eq!(setting_args(&settings), ["-c", "a=1", "-c", "b=2"]);
    }

    fn plan(role: Role, durability: Durability) -> NodePlan {
        NodePlan {
            role,
            cluster: "c".into(),
            image: "postgres:15".into(),
            host_port: 5555,
            local_engine: true,
            durability,
            limits: Limits::default(),
            max_connections: None,
        }
    }

    #[test]
    fn every_postgres_node_gets_the_durability_settings_first() {
        for role in [Role::Primary, Role::Replica(0), Role::Shard(1)] {
            let durable = plan(role, Durability::Durable).settings(&["x=1"]);
            assert_eq!(&durable[..2], ["-c", "fsync=on"], "{role}");
            assert_eq!(durable[durable.len() - 1], "x=1");
            let fast = plan(role, Durability::Fast).settings(&[]);
            assert!(fast.iter().any(|s| s == "fsync=off") && !fast.iter().any(|s| s == "fsync=on"));
        }
        let limited = NodePlan {
            max_connections: Some(40),
            ..plan(Role::Replica(0), Durability::Durable)
        };
        let args = limited.settings(&[]);
        assert!(args.iter().any(|s| s == "max_connections=40"), "{args:?}");
    }

    #[test]
    fn limits_go_into_the_host_config_only_when_set() {
        let mut config = HostConfig::default();
        apply_limits(&mut config, Limits::default());
        assert_eq!((config.nano_cpus, config.memory), (None, None));
        let limits = Limits {
            nano_cpus: Some(1_500_000_000),
            memory_bytes: Some(1 << 30),
        };
        apply_limits(&mut config, limits);
        assert_eq!(config.nano_cpus, Some(1_500_000_000));
        assert_eq!(
            (config.memory, config.memory_swap),
            (Some(1 << 30), Some(1 << 30))
        );
    }

    #[test]
    fn loopback_binding_only_for_a_local_engine() {
        use testcontainers::bollard::models::PortBinding;
        let binding = PortBinding {
            host_ip: None,
            host_port: Some("5555".into()),
        };
        let mut config = HostConfig {
            port_bindings: Some([("5432/tcp".to_owned(), Some(vec![binding]))].into()),
            ..HostConfig::default()
        };
        let ip = |c: &HostConfig| {
            let bindings = c.port_bindings.as_ref().and_then(|m| m["5432/tcp"].clone());
            bindings.and_then(|b| b[0].host_ip.clone())
        };
        bind_loopback(&mut config, false);
        assert_eq!(ip(&config), None);
        bind_loopback(&mut config, true);
        assert_eq!(ip(&config).as_deref(), Some("127.0.0.1"));
    }
}
