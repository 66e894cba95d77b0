//! Real clusters in containers: a Postgres primary with streaming replicas, independent
//! Postgres shards, and Redis with an optional replica, started with testcontainers on one
//! Docker network; the faults of [`Fault`]; and a clean-up that holds on every way out.
//!
//! ```text
//!                       host: 127.0.0.1:<port> per node (Topology URLs)
//!        ┌───────────┬────────────┬───────────┬────────────┬──────────┬───────────────┐
//!     primary     replica-0 … replica-N     shard-0 … shard-K       redis    redis-replica
//!        │ WAL stream  ▲            ▲                                  │ replication ▲
//!        └─────────────┴────────────┘                                  └─────────────┘
//!      network `scalesim-<pid>-<n>-<nonce>`: containers reach each other by container name
//! ```
//!
//! [`Cluster::start`] takes a [`ClusterSpec`] and returns when everything is ready: each node
//! printed its ready line, every replica streams WAL (the primary's `pg_stat_replication` lists
//! it as `streaming`) and answers `pg_is_in_recovery()` with true. [`Cluster::topology`] gives
//! the URLs, [`Cluster::inject`] applies a [`Fault`], [`Cluster::shutdown`] removes it all.
//! [`Topology::external`] describes servers that scalesim did not start, so the drivers work
//! against either.
//!
//! # Images
//!
//! The same container commands run on the official `postgres:15` / `redis:7` images and on the
//! look-alikes that `scripts/build-images.sh` builds where no registry can be reached:
//! - primary and shards: the image's entrypoint with `-c` arguments (the
//!   [`Durability`] settings, `fsync=on` by default; on the primary also WAL settings); an
//!   init script in `/docker-entrypoint-initdb.d` adds
//!   `host replication all all trust` to `pg_hba.conf`. Clients log in with
//!   `postgres`/`postgres` (scram-sha-256, as the official image does by default).
//! - replicas: run as user `postgres` with `bash -c`: on first start `pg_basebackup -R -X
//!   stream` from the primary (retried until the primary answers), then `exec postgres` with
//!   the same durability settings. A
//!   restarted replica keeps its data directory and resumes streaming; the primary keeps
//!   256 MB of WAL (`wal_keep_size`) so it can.
//! - Redis: `redis-server --save "" --appendonly no --protected-mode no`, plus `--replicaof`.
//!
//! Every container gets the spec's [`Limits`] (Docker's `NanoCpus`, `Memory`, and no swap
//! beyond it) when it is created, before anything runs in it.
//!
//! Image names come from the spec; [`ClusterSpec::new`] and `Default` fill them from the
//! environment (`SCALESIM_PG_IMAGE`, `SCALESIM_REDIS_IMAGE`), else the official names.
//!
//! # Clean-up
//!
//! Every container and the network carry the labels [`OWNER_LABEL`] (process id),
//! [`CLUSTER_LABEL`] (cluster name) and [`HOST_LABEL`] (the machine of that process), and each
//! cluster is listed in a process-wide registry from before its first container exists. Removal
//! is by label, so it finds containers that a failed start created but never handed back. It
//! happens on [`Cluster::shutdown`]; when [`Cluster::start`] fails; in `Drop` (a panic, or a
//! cluster simply dropped), synchronously with the `docker` CLI; and on Ctrl-C, SIGTERM and
//! SIGHUP once [`install_ctrl_c_cleanup`] is called, which removes every registered cluster and
//! exits with status 128 + the signal's number (130, 143, 129). [`labelled_resources`] lists
//! what is left. A process killed by SIGKILL runs none of this: [`cleanup_orphans`]
//! (`scalesim cleanup`) removes every labelled container, network and volume whose owner
//! process is gone.
//!
//! # Runtimes
//!
//! testcontainers shares one Docker API client across the process while any container handle
//! lives, and the client's connections belong to the runtime that opened them. Start and use
//! all the clusters of a process from one tokio runtime (in tests: one shared runtime rather than
//! a `#[tokio::test]` runtime per test); otherwise a client kept alive past its runtime fails
//! with "runtime dropped the dispatch task".

mod docker;
mod nodes;
mod spec;

use std::time::Duration;

use sqlx::{Connection, PgConnection};
use tokio::task::JoinSet;

pub use super::faults::{Fault, FaultParseError};
pub use docker::{
    Leftover, cleanup_orphans, cleanup_registered, engine_available, install_ctrl_c_cleanup,
    labelled_resources,
};
pub use spec::{
    ClusterSpec, Durability, Limits, MAX_NODES, MIN_MEMORY_BYTES, MIN_NANO_CPUS, PGBOUNCER_IMAGE,
    POSTGRES_IMAGE, PgBouncerSpec, PoolMode, REDIS_IMAGE, Topology, default_pgbouncer_image,
    default_postgres_image, default_redis_image,
};

use nodes::{
    Node, NodePlan, Role, container_name, free_ports, local_engine, role_order, start_node,
};

/// Label on every container and network of a cluster: the id of the process that made it.
pub const OWNER_LABEL: &str = "scalesim.owner";
/// Label on every container and network of a cluster: the cluster's name.
pub const CLUSTER_LABEL: &str = "scalesim.cluster";
/// Label on every container and network of a cluster: the name of the machine whose process
/// made it, so that [`cleanup_orphans`] never judges a process id of another machine.
pub const HOST_LABEL: &str = "scalesim.host";

/// Postgres user, password and database of every Postgres node.
const PG_CREDENTIALS: &str = "postgres";
/// How long replicas may take to show up as streaming, or a restarted one to answer.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a stopped replica may take to shut down before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// Why provisioning, a fault or the clean-up failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProvisionError {
    /// The spec cannot be provisioned; nothing was started. Fix the spec.
    #[error("invalid cluster spec: {0}")]
    InvalidSpec(String),
    /// No Docker engine answered, or the `docker` command is missing. Real runs cannot go on.
    #[error("no Docker engine: {0}")]
    NoEngine(String),
    /// testcontainers could not create or start a container, or it never printed its ready
    /// line (unknown image and no registry, startup timeout, the server exited). The cluster
    /// was removed.
    #[error("container {node} did not start: {source}")]
    Container {
        /// The container's name.
        node: String,
        /// What testcontainers reported.
        #[source]
        source: testcontainers::TestcontainersError,
    },
    /// A `docker` command failed (e.g. pausing a primary that is already paused). The cluster
    /// is unchanged as far as Docker could tell; the run may go on.
    #[error("`docker {command}` failed: {detail}")]
    Docker {
        /// The arguments after `docker`.
        command: String,
        /// Its standard error.
        detail: String,
    },
    /// A node did not reach the expected state in time (replicas not streaming, a restarted
    /// replica not answering). During start the cluster was removed.
    #[error("{node} not ready after {waited:?}: {detail}")]
    NotReady {
        /// The container's name.
        node: String,
        /// How long it was given.
        waited: Duration,
        /// The last thing that went wrong.
        detail: String,
    },
    /// A fault names a node that the cluster does not have; nothing was done.
    #[error("cannot inject \"{fault}\": the cluster has no {node}")]
    NoSuchNode {
        /// The fault.
        fault: Fault,
        /// The missing node.
        node: String,
    },
    /// Start failed, and removing what it had created failed too: containers may be left.
    #[error("{original}; removing the cluster failed as well: {cleanup}")]
    Cleanup {
        /// Why start failed.
        original: Box<ProvisionError>,
        /// Why removal failed.
        cleanup: Box<ProvisionError>,
    },
    /// [`install_ctrl_c_cleanup`] was called outside a tokio runtime; nothing was installed.
    #[error("install_ctrl_c_cleanup must be called inside a tokio runtime")]
    NoRuntime,
    /// A task that started a container or removed the cluster panicked or was cancelled.
    #[error("provisioning task failed: {0}")]
    Task(String),
    /// No free local port could be found for a container; nothing was started for it.
    #[error("no free local port: {0}")]
    Port(#[source] std::io::Error),
    /// The SIGINT, SIGTERM or SIGHUP handler could not be installed.
    #[error("cannot listen for signals: {0}")]
    Signal(#[source] std::io::Error),
}

/// A running cluster. Remove it with [`Cluster::shutdown`]; dropping it removes it too, with
/// blocking `docker` commands.
#[derive(Debug)]
pub struct Cluster {
    name: String,
    host: String,
    nodes: Vec<Node>,
    topology: Topology,
    removed: bool,
}

impl Cluster {
    /// Starts everything in `spec` and returns when all of it is ready (see the module docs).
    /// On error nothing of the cluster is left.
    pub async fn start(spec: &ClusterSpec) -> Result<Cluster, ProvisionError> {
        spec.validate()?;
        docker::check_engine().await?;
        let name = docker::new_cluster_name();
        docker::register(&name);
        let mut cluster = Cluster {
            host: "127.0.0.1".to_owned(),
            nodes: Vec::new(),
            topology: Topology::external("", &[], &[], None),
            removed: false,
            name,
        };
        match cluster.launch(spec).await {
            Ok(()) => Ok(cluster),
            Err(original) => match cluster.remove().await {
                Ok(()) => Err(original),
                Err(cleanup) => Err(ProvisionError::Cleanup {
                    original: Box::new(original),
                    cleanup: Box::new(cleanup),
                }),
            },
        }
    }

    /// The URLs of the servers.
    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// The cluster's name: its network's name, the prefix of its containers' names, and the
    /// value of their [`CLUSTER_LABEL`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Applies a fault. Returns when Docker has done it; for [`Fault::StartReplica`], when the
    /// replica accepts connections again (it may still be catching up).
    pub async fn inject(&self, fault: &Fault) -> Result<(), ProvisionError> {
        match *fault {
            Fault::StopReplica(i) => self.stop_replica(self.replica(fault, i)?).await,
            Fault::StartReplica(i) => self.start_replica(fault, i).await,
            Fault::PausePrimary => docker::run(&["pause", &self.primary_container()])
                .await
                .map(drop),
            Fault::UnpausePrimary => docker::run(&["unpause", &self.primary_container()])
                .await
                .map(drop),
            Fault::DisconnectReplica(i) => self.cut_off(self.replica(fault, i)?, true).await,
            Fault::ReconnectReplica(i) => self.cut_off(self.replica(fault, i)?, false).await,
        }
    }

    /// Removes every container and the network, and waits until Docker has done so.
    pub async fn shutdown(mut self) -> Result<(), ProvisionError> {
        self.remove().await
    }

    async fn launch(&mut self, spec: &ClusterSpec) -> Result<(), ProvisionError> {
        docker::create_network(&self.name).await?;
        let local = local_engine();
        let [servers, replicas] = stages(spec);
        self.start_nodes(spec, &servers, local).await?;
        if !local {
            self.host = self.primary_host().await?;
        }
        self.start_nodes(spec, &replicas, local).await?;
        self.topology = self.build_topology();
        self.wait_streaming(spec.replicas).await
    }

    /// Starts containers side by side and keeps every one that comes up. After a failure it
    /// still waits for the others instead of aborting them: an aborted start could leave a
    /// container whose creation Docker completes after the clean-up has looked. Host ports are
    /// picked here, just before use, to leave other programs little time to take them.
    async fn start_nodes(
        &mut self,
        spec: &ClusterSpec,
        roles: &[Role],
        local_engine: bool,
    ) -> Result<(), ProvisionError> {
        let ports = free_ports(roles.len())?;
        let mut tasks = JoinSet::new();
        for (&role, host_port) in roles.iter().zip(ports) {
            let image = match role {
                Role::Redis | Role::RedisReplica => spec.redis_image.clone(),
                _ => spec.postgres_image.clone(),
            };
            let cluster = self.name.clone();
            tasks.spawn(start_node(NodePlan {
                role,
                cluster,
                image,
                host_port,
                local_engine,
                durability: spec.durability,
                limits: spec.limits,
                max_connections: spec.max_connections,
            }));
        }
        let mut first_error = None;
        while let Some(joined) = tasks.join_next().await {
            match joined.map_err(|e| ProvisionError::Task(e.to_string())) {
                Ok(Ok(node)) => self.nodes.push(node),
                Ok(Err(e)) | Err(e) => first_error = first_error.or(Some(e)),
            }
        }
        self.nodes.sort_by_key(|n| role_order(n.role));
        first_error.map_or(Ok(()), Err)
    }

    /// The host that published ports are on, for an engine on another machine.
    async fn primary_host(&self) -> Result<String, ProvisionError> {
        let container = self.primary_container();
        let handle = self
            .nodes
            .iter()
            .find(|n| n.role == Role::Primary)
            .and_then(|n| n.handle.as_ref());
        let Some(handle) = handle else {
            let detail = "no container handle".to_owned();
            return Err(ProvisionError::NotReady {
                node: container,
                waited: Duration::ZERO,
                detail,
            });
        };
        let host = handle
            .get_host()
            .await
            .map_err(|source| ProvisionError::Container {
                node: container,
                source,
            })?;
        Ok(host.to_string())
    }

    fn build_topology(&self) -> Topology {
        let url = |node: &Node| match node.role {
            Role::Redis | Role::RedisReplica => format!("redis://{}:{}", self.host, node.host_port),
            _ => format!(
                "postgres://{PG_CREDENTIALS}:{PG_CREDENTIALS}@{}:{}/{PG_CREDENTIALS}",
                self.host, node.host_port
            ),
        };
        let urls = |keep: fn(Role) -> bool| -> Vec<String> {
            self.nodes
                .iter()
                .filter(|n| keep(n.role))
                .map(url)
                .collect()
        };
        Topology {
            primary: urls(|r| r == Role::Primary).concat(),
            replicas: urls(|r| matches!(r, Role::Replica(_))),
            shards: urls(|r| matches!(r, Role::Shard(_))),
            redis: urls(|r| r == Role::Redis).pop(),
            redis_replica: urls(|r| r == Role::RedisReplica).pop(),
            pgbouncer: None,
        }
    }

    /// Waits until the primary lists `replicas` streaming standbys and each replica is in
    /// recovery: WAL really flows, not just "the containers are up".
    async fn wait_streaming(&self, replicas: usize) -> Result<(), ProvisionError> {
        if replicas == 0 {
            return Ok(());
        }
        let primary = self.primary_container();
        let sql = "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'";
        let url = self.topology.primary.clone();
        poll_until(&primary, READY_TIMEOUT, || async {
            let streaming: i64 = query_scalar(&url, sql).await?;
            match usize::try_from(streaming) {
                Ok(n) if n >= replicas => Ok(()),
                _ => Err(format!("{streaming} of {replicas} replicas streaming")),
            }
        })
        .await?;
        for (i, url) in self.topology.replicas.iter().enumerate() {
            let name = container_name(&self.name, Role::Replica(i));
            poll_until(&name, READY_TIMEOUT, || in_recovery(url)).await?;
        }
        Ok(())
    }

    fn primary_container(&self) -> String {
        container_name(&self.name, Role::Primary)
    }

    fn replica(&self, fault: &Fault, i: usize) -> Result<&Node, ProvisionError> {
        self.nodes
            .iter()
            .find(|n| n.role == Role::Replica(i))
            .ok_or_else(|| ProvisionError::NoSuchNode {
                fault: *fault,
                node: Role::Replica(i).to_string(),
            })
    }

    /// Fast shutdown (SIGINT, the official image's stop signal), killed if it takes too long.
    async fn stop_replica(&self, node: &Node) -> Result<(), ProvisionError> {
        docker::run(&["kill", "--signal", "SIGINT", &node.container]).await?;
        let wait = ["wait", node.container.as_str()];
        match tokio::time::timeout(STOP_TIMEOUT, docker::run(&wait)).await {
            Ok(result) => result.map(drop),
            Err(_) => docker::run(&["kill", &node.container]).await.map(drop),
        }
    }

    async fn start_replica(&self, fault: &Fault, i: usize) -> Result<(), ProvisionError> {
        let node = self.replica(fault, i)?;
        docker::run(&["start", &node.container]).await?;
        let url = self.topology.replicas.get(i).map_or("", String::as_str);
        poll_until(&node.container, READY_TIMEOUT, || in_recovery(url)).await
    }

    /// Moves a replica between the cluster network and Docker's default `bridge` network.
    /// On `bridge` its published port keeps working, so it still serves reads from the host,
    /// but it can resolve no other node: replication stops and its data goes stale.
    async fn cut_off(&self, node: &Node, cut: bool) -> Result<(), ProvisionError> {
        let (join, leave) = if cut {
            ("bridge", self.name.as_str())
        } else {
            (self.name.as_str(), "bridge")
        };
        docker::run(&["network", "connect", join, &node.container]).await?;
        docker::run(&["network", "disconnect", leave, &node.container])
            .await
            .map(drop)
    }

    /// Removes the containers (through their testcontainers handles, then by label for
    /// anything else) and the network. Idempotent.
    async fn remove(&mut self) -> Result<(), ProvisionError> {
        let mut removals = JoinSet::new();
        for handle in self.nodes.iter_mut().filter_map(|n| n.handle.take()) {
            removals.spawn(handle.rm());
        }
        while removals.join_next().await.is_some() {}
        docker::remove_cluster(&self.name).await?;
        docker::deregister(&self.name);
        self.removed = true;
        Ok(())
    }
}

impl Drop for Cluster {
    /// Removes the cluster with blocking `docker` commands unless it was shut down. The
    /// testcontainers handles then have nothing left to remove; outside a runtime they are
    /// forgotten, since their own drop needs one.
    fn drop(&mut self) {
        if self.removed {
            return;
        }
        if let Err(e) = docker::remove_cluster_blocking(&self.name) {
            eprintln!("scalesim: could not remove cluster {}: {e}", self.name);
        }
        docker::deregister(&self.name);
        let handles: Vec<_> = self
            .nodes
            .iter_mut()
            .filter_map(|n| n.handle.take())
            .collect();
        if tokio::runtime::Handle::try_current().is_err() {
            std::mem::forget(handles);
        }
    }
}

/// The two start stages: servers (primary, shards, Redis), then what replicates from them.
fn stages(spec: &ClusterSpec) -> [Vec<Role>; 2] {
    let mut servers = vec![Role::Primary];
    servers.extend((0..spec.shards).map(Role::Shard));
    servers.extend(spec.redis.then_some(Role::Redis));
    let mut replicas: Vec<Role> = (0..spec.replicas).map(Role::Replica).collect();
    replicas.extend(spec.redis_replica.then_some(Role::RedisReplica));
    [servers, replicas]
}

/// Retries `check` every 200 ms until it succeeds or `timeout` passes.
async fn poll_until<F, Fut>(
    node: &str,
    timeout: Duration,
    mut check: F,
) -> Result<(), ProvisionError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let start = tokio::time::Instant::now();
    loop {
        let detail = match check().await {
            Ok(()) => return Ok(()),
            Err(detail) => detail,
        };
        if start.elapsed() >= timeout {
            return Err(ProvisionError::NotReady {
                node: node.to_owned(),
                waited: timeout,
                detail,
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn in_recovery(url: &str) -> Result<(), String> {
    match query_scalar::<bool>(url, "SELECT pg_is_in_recovery()").await? {
        true => Ok(()),
        false => Err("not in recovery: not a standby".into()),
    }
}

/// One query on a fresh connection, each attempt bounded to 5 s (a paused or cut-off server
/// must not hang the poll).
async fn query_scalar<T>(url: &str, sql: &'static str) -> Result<T, String>
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
{
    let attempt = async {
        let mut conn = PgConnection::connect(url).await?;
        let value = sqlx::query_scalar::<_, T>(sql).fetch_one(&mut conn).await?;
        conn.close().await?;
        Ok::<T, sqlx::Error>(value)
    };
    match tokio::time::timeout(Duration::from_secs(5), attempt).await {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(_) => Err("no answer within 5 s".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_start_before_what_replicates_from_them() {
        let [servers, replicas] = stages(&ClusterSpec::new(2, 1, true, true));
        assert_eq!(servers, [Role::Primary, Role::Shard(0), Role::Redis]);
        assert_eq!(
            replicas,
            [Role::Replica(0), Role::Replica(1), Role::RedisReplica]
        );
        let [servers, replicas] = stages(&ClusterSpec::default());
        assert_eq!((servers, replicas), (vec![Role::Primary], vec![]));
    }
}
