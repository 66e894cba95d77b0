//! Real clusters in containers: replication, faults, and clean-up on every way out.
//!
//! These tests need a Docker engine, so they are `#[ignore]`d: a plain `cargo test` reports them
//! as ignored (never as passed), and `scripts/test.sh` runs them with `--ignored` when an engine
//! answers (and says it could not otherwise; under `CI=true` it fails instead). Asked to run
//! without an engine, they fail. Missing images are built once with `scripts/build-images.sh`.
//!
//! All clusters of this process run on one shared runtime (see the "Runtimes" section of
//! `scalesim::real::provision`). One cluster with every kind of node carries the replication
//! and fault checks in sequence, to keep the time down on a small machine. The clean-up tests
//! each run a child process (this same test binary, running the ignored test
//! [`child_process`]), so that "nothing left behind" can be checked by the child's owner label
//! while other tests of this process still have containers up: on an error, a panic, a drop,
//! and on SIGINT, SIGTERM and SIGHUP (exit status 128 + the signal). `scalesim cleanup` is
//! checked on leftovers made to look like those of a process killed with SIGKILL.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use scalesim::real::provision::{
    Cluster, ClusterSpec, Durability, Fault, Limits, OWNER_LABEL, ProvisionError, Topology,
    default_postgres_image, default_redis_image, engine_available, install_ctrl_c_cleanup,
    labelled_resources,
};
use sqlx::{Connection, PgConnection};
use testcontainers::ImageExt;
use testcontainers::runners::AsyncRunner;
use tokio::runtime::Runtime;

type Result<T = ()> = anyhow::Result<T>;

/// How long a write may take to show up where it is expected.
const VISIBLE_WITHIN: Duration = Duration::from_secs(30);
/// The environment variable that tells [`child_process`] what to do.
const CHILD_ENV: &str = "SCALESIM_REAL_INFRA_CHILD";

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime")
    })
}

/// Fails the test without a Docker engine (checked once): these tests run only when asked
/// for, and a test asked for never passes without running. Builds missing images once.
pub(crate) fn require_docker() {
    static READY: OnceLock<bool> = OnceLock::new();
    let ready = *READY.get_or_init(|| {
        if !engine_available() {
            return false;
        }
        build_missing_images();
        true
    });
    assert!(
        ready,
        "no Docker engine is reachable: these tests need one (scripts/test.sh runs them only \
         when `docker info` answers)"
    );
}

fn build_missing_images() {
    let present = |image: String| docker(&["image", "inspect", &image]).is_ok();
    if present(default_postgres_image()) && present(default_redis_image()) {
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/build-images.sh");
    let started = Instant::now();
    let status = Command::new("bash").arg(script).status();
    assert!(
        status.as_ref().is_ok_and(ExitStatus::success),
        "{script} failed: {status:?}"
    );
    eprintln!("images built in {:.0?}", started.elapsed());
}

fn docker(args: &[&str]) -> Result<String> {
    let output = Command::new("docker").args(args).output()?;
    ensure!(
        output.status.success(),
        "docker {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Containers and networks labelled as owned by process `pid`.
fn owned_by(pid: u32) -> Result<Vec<String>> {
    let filter = format!("label={OWNER_LABEL}={pid}");
    let containers = docker(&["ps", "-a", "--filter", &filter, "--format", "{{.Names}}"])?;
    let networks = docker(&[
        "network",
        "ls",
        "--filter",
        &filter,
        "--format",
        "{{.Name}}",
    ])?;
    Ok(containers
        .lines()
        .chain(networks.lines())
        .map(str::to_owned)
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Postgres and Redis helpers

async fn connect(url: &str) -> Result<PgConnection> {
    let conn = tokio::time::timeout(Duration::from_secs(5), PgConnection::connect(url)).await;
    Ok(conn.context("connect timed out")??)
}

async fn execute(url: &str, sql: &'static str) -> Result {
    let mut conn = connect(url).await?;
    sqlx::raw_sql(sql).execute(&mut conn).await?;
    Ok(())
}

async fn scalar<T>(url: &str, sql: &'static str) -> Result<T>
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
{
    let mut conn = connect(url).await?;
    Ok(sqlx::query_scalar(sql).fetch_one(&mut conn).await?)
}

/// The value of `key` in table `kv`, read on a fresh connection.
async fn read_kv(url: &str, key: &str) -> Result<Option<String>> {
    let mut conn = connect(url).await?;
    let sql = "SELECT v FROM kv WHERE k = $1";
    Ok(sqlx::query_scalar(sql)
        .bind(key)
        .fetch_optional(&mut conn)
        .await?)
}

async fn write_kv(conn: &mut PgConnection, key: &str, value: &str) -> Result {
    let sql = "INSERT INTO kv (k, v) VALUES ($1, $2)";
    sqlx::query(sql).bind(key).bind(value).execute(conn).await?;
    Ok(())
}

/// Waits until `url` reads `value` for `key`; returns how long that took.
async fn wait_visible(url: &str, key: &str, value: &str) -> Result<Duration> {
    let started = Instant::now();
    loop {
        let last = read_kv(url, key).await;
        if matches!(&last, Ok(Some(v)) if v == value) {
            return Ok(started.elapsed());
        }
        if started.elapsed() > VISIBLE_WITHIN {
            bail!(
                "{key}={value} not visible on {url} after {VISIBLE_WITHIN:?}: last read {last:?}"
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn redis_connection(url: &str) -> Result<redis::aio::MultiplexedConnection> {
    let client = redis::Client::open(url)?;
    Ok(client.get_multiplexed_async_connection().await?)
}

// ---------------------------------------------------------------------------------------------
// One cluster with every kind of node, through every fault

#[test]
#[ignore = "needs a Docker engine: scripts/test.sh runs it when one answers"]
fn replicated_cluster_under_faults() -> Result {
    require_docker();
    runtime().block_on(async {
        let started = Instant::now();
        let cluster = Cluster::start(&ClusterSpec::new(2, 2, true, true)).await?;
        eprintln!(
            "cluster (primary, 2 replicas, 2 shards, redis + replica) up in {:.1?}",
            started.elapsed()
        );
        let outcome = exercise(&cluster).await;
        let name = cluster.name().to_owned();
        let stopping = Instant::now();
        cluster.shutdown().await?;
        eprintln!("shut down in {:.1?}", stopping.elapsed());
        ensure!(
            labelled_resources(&name)?.is_empty(),
            "left behind: {:?}",
            labelled_resources(&name)?
        );
        outcome
    })
}

async fn exercise(cluster: &Cluster) -> Result {
    let topology = cluster.topology();
    check_shape(topology);
    let mut steps: Vec<(&str, Instant)> = vec![("replication", Instant::now())];
    replication_reaches_every_replica(topology).await?;
    steps.push(("shards", Instant::now()));
    shards_are_independent(topology).await?;
    steps.push(("redis", Instant::now()));
    redis_replica_sees_a_set(topology).await?;
    steps.push(("stop/start replica", Instant::now()));
    stopped_replica_catches_up(cluster).await?;
    steps.push(("pause primary", Instant::now()));
    paused_primary_blocks_writes(cluster).await?;
    steps.push(("disconnect replica", Instant::now()));
    disconnected_replica_goes_stale(cluster).await?;
    steps.push(("end", Instant::now()));
    for pair in steps.windows(2) {
        eprintln!("  {:<20} {:.1?}", pair[0].0, pair[1].1 - pair[0].1);
    }
    Ok(())
}

fn check_shape(topology: &Topology) {
    assert_eq!(topology.replicas.len(), 2);
    assert_eq!(topology.shards.len(), 2);
    assert!(
        topology
            .redis
            .as_deref()
            .is_some_and(|u| u.starts_with("redis://"))
    );
    assert!(
        topology
            .redis_replica
            .as_deref()
            .is_some_and(|u| u.starts_with("redis://"))
    );
    let postgres = std::iter::once(&topology.primary)
        .chain(&topology.replicas)
        .chain(&topology.shards);
    let mut urls: Vec<&String> = postgres.collect();
    assert!(
        urls.iter().all(|u| u.starts_with("postgres://")),
        "{urls:?}"
    );
    urls.dedup();
    assert_eq!(urls.len(), 5, "every node has its own URL");
}

async fn replication_reaches_every_replica(topology: &Topology) -> Result {
    let primary = &topology.primary;
    execute(
        primary,
        "CREATE TABLE kv (k text PRIMARY KEY, v text NOT NULL)",
    )
    .await?;
    write_kv(&mut connect(primary).await?, "a", "1").await?;
    for replica in &topology.replicas {
        let took = wait_visible(replica, "a", "1").await?;
        eprintln!("  write visible on a replica after {took:.1?}");
        ensure!(
            scalar::<bool>(replica, "SELECT pg_is_in_recovery()").await?,
            "replica not in recovery"
        );
    }
    let sql = "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'";
    ensure!(
        scalar::<i64>(primary, sql).await? == 2,
        "the primary does not stream to 2 replicas"
    );
    ensure!(!scalar::<bool>(primary, "SELECT pg_is_in_recovery()").await?);
    Ok(())
}

async fn shards_are_independent(topology: &Topology) -> Result {
    let (shard0, shard1) = (&topology.shards[0], &topology.shards[1]);
    execute(shard0, "CREATE TABLE only_on_shard0 (id int)").await?;
    let sql = "SELECT to_regclass('only_on_shard0') IS NOT NULL";
    ensure!(scalar::<bool>(shard0, sql).await?);
    ensure!(
        !scalar::<bool>(shard1, sql).await?,
        "a table of shard 0 appeared on shard 1"
    );
    ensure!(
        !scalar::<bool>(&topology.primary, sql).await?,
        "a table of shard 0 appeared on the primary"
    );
    let id = "SELECT system_identifier FROM pg_control_system()";
    let ids = [
        scalar::<i64>(&topology.primary, id).await?,
        scalar::<i64>(shard0, id).await?,
        scalar::<i64>(shard1, id).await?,
    ];
    ensure!(
        ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2],
        "shards share a cluster: {ids:?}"
    );
    ensure!(
        !scalar::<bool>(shard1, "SELECT pg_is_in_recovery()").await?,
        "a shard is a standby"
    );
    Ok(())
}

async fn redis_replica_sees_a_set(topology: &Topology) -> Result {
    let (Some(master), Some(replica)) = (&topology.redis, &topology.redis_replica) else {
        bail!("no redis in the topology");
    };
    let mut master = redis_connection(master).await?;
    let mut replica = redis_connection(replica).await?;
    redis::cmd("SET")
        .arg("greeting")
        .arg("hello")
        .query_async::<()>(&mut master)
        .await?;
    let started = Instant::now();
    loop {
        let seen: Option<String> = redis::cmd("GET")
            .arg("greeting")
            .query_async(&mut replica)
            .await?;
        if seen.as_deref() == Some("hello") {
            break;
        }
        ensure!(
            started.elapsed() < VISIBLE_WITHIN,
            "the redis replica never saw the SET"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let info: String = redis::cmd("INFO")
        .arg("replication")
        .query_async(&mut replica)
        .await?;
    ensure!(info.contains("role:slave"), "not a replica: {info}");
    Ok(())
}

async fn stopped_replica_catches_up(cluster: &Cluster) -> Result {
    let topology = cluster.topology();
    cluster.inject(&"stop replica-0".parse()?).await?;
    ensure!(
        connect(&topology.replicas[0]).await.is_err(),
        "a stopped replica answered"
    );
    write_kv(&mut connect(&topology.primary).await?, "b", "2").await?;
    let restarted = Instant::now();
    cluster.inject(&Fault::StartReplica(0)).await?;
    let ready = restarted.elapsed();
    let caught_up = wait_visible(&topology.replicas[0], "b", "2").await?;
    eprintln!("  restarted replica answers after {ready:.1?}, caught up {caught_up:.1?} later");
    Ok(())
}

async fn paused_primary_blocks_writes(cluster: &Cluster) -> Result {
    let topology = cluster.topology();
    let mut conn = connect(&topology.primary).await?;
    cluster.inject(&Fault::PausePrimary).await?;
    let write = tokio::spawn(async move { write_kv(&mut conn, "c", "3").await });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let blocked = !write.is_finished();
    cluster.inject(&Fault::UnpausePrimary).await?;
    ensure!(blocked, "a write to a paused primary finished");
    tokio::time::timeout(Duration::from_secs(15), write)
        .await
        .context("write still blocked")???;
    wait_visible(&topology.replicas[1], "c", "3").await?;
    Ok(())
}

async fn disconnected_replica_goes_stale(cluster: &Cluster) -> Result {
    let topology = cluster.topology();
    let (replica0, replica1) = (&topology.replicas[0], &topology.replicas[1]);
    cluster.inject(&Fault::DisconnectReplica(1)).await?;
    write_kv(&mut connect(&topology.primary).await?, "d", "4").await?;
    wait_visible(replica0, "d", "4").await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let stale = read_kv(replica1, "d")
        .await
        .context("a disconnected replica must still serve reads")?;
    ensure!(stale.is_none(), "a disconnected replica received new data");
    ensure!(
        read_kv(replica1, "a").await? == Some("1".into()),
        "old data gone from the replica"
    );
    let reconnected = Instant::now();
    cluster.inject(&Fault::ReconnectReplica(1)).await?;
    wait_visible(replica1, "d", "4").await?;
    eprintln!(
        "  reconnected replica caught up in {:.1?}",
        reconnected.elapsed()
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The testcontainers modules accept the images (official or built here)

#[test]
#[ignore = "needs a Docker engine: scripts/test.sh runs it when one answers"]
fn testcontainers_modules_start_on_the_images() -> Result {
    require_docker();
    runtime().block_on(async {
        let (pg_name, pg_tag) = split(&default_postgres_image());
        let (redis_name, redis_tag) = split(&default_redis_image());
        let postgres = testcontainers_modules::postgres::Postgres::default()
            .with_name(pg_name)
            .with_tag(pg_tag)
            .start();
        let redis = testcontainers_modules::redis::Redis::default()
            .with_name(redis_name)
            .with_tag(redis_tag)
            .start();
        let (postgres, redis) = tokio::join!(postgres, redis);
        let (postgres, redis) = (postgres?, redis?);
        let (host, port) = (
            postgres.get_host().await?,
            postgres.get_host_port_ipv4(5432).await?,
        );
        let url = format!("postgres://postgres:postgres@{host}:{port}/postgres");
        ensure!(scalar::<i32>(&url, "SELECT 1 + 1").await? == 2);
        let (host, port) = (
            redis.get_host().await?,
            redis.get_host_port_ipv4(6379).await?,
        );
        let mut conn = redis_connection(&format!("redis://{host}:{port}")).await?;
        let pong: String = redis::cmd("PING").query_async(&mut conn).await?;
        ensure!(pong == "PONG");
        postgres.rm().await?;
        redis.rm().await?;
        Ok(())
    })
}

fn split(image: &str) -> (String, String) {
    match image.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name.to_owned(), tag.to_owned()),
        _ => (image.to_owned(), "latest".to_owned()),
    }
}

// ---------------------------------------------------------------------------------------------
// Clean-up on error, on panic and on Ctrl-C, each in a child process

#[test]
#[ignore = "needs a Docker engine: scripts/test.sh runs it when one answers"]
fn failed_start_leaves_nothing() -> Result {
    require_docker();
    let _serial = children_lock().read();
    let (status, output) = ChildRun::spawn("bad-image")?.finish(Duration::from_secs(180))?;
    ensure!(status.success(), "child failed: {status}\n{output}");
    ensure!(output.contains("start failed as expected"), "{output}");
    Ok(())
}

#[test]
#[ignore = "needs a Docker engine: scripts/test.sh runs it when one answers"]
fn panic_with_a_live_cluster_leaves_nothing() -> Result {
    require_docker();
    let _serial = children_lock().read();
    let (status, output) = ChildRun::spawn("panic")?.finish(Duration::from_secs(180))?;
    ensure!(
        !status.success(),
        "the child should have failed by panicking\n{output}"
    );
    ensure!(
        output.contains("deliberate panic with a live cluster"),
        "{output}"
    );
    Ok(())
}

#[test]
#[ignore = "needs a Docker engine: scripts/test.sh runs it when one answers"]
fn dropped_cluster_leaves_nothing() -> Result {
    require_docker();
    let _serial = children_lock().read();
    let (status, output) = ChildRun::spawn("drop")?.finish(Duration::from_secs(180))?;
    ensure!(status.success(), "child failed: {status}\n{output}");
    ensure!(output.contains("READY "), "{output}");
    Ok(())
}

#[test]
#[ignore = "needs a Docker engine: scripts/test.sh runs it when one answers"]
fn ctrl_c_removes_every_cluster() -> Result {
    signal_removes_every_cluster("ctrl-c", "INT", 130)
}

#[test]
#[ignore = "needs a Docker engine: scripts/test.sh runs it when one answers"]
fn sigterm_removes_every_cluster() -> Result {
    signal_removes_every_cluster("lone-primary", "TERM", 143)
}

#[test]
#[ignore = "needs a Docker engine: scripts/test.sh runs it when one answers"]
fn sighup_removes_every_cluster() -> Result {
    signal_removes_every_cluster("lone-primary", "HUP", 129)
}

/// A child with a live cluster gets `signal`: it must remove the cluster and exit with `code`.
fn signal_removes_every_cluster(scenario: &str, signal: &str, code: i32) -> Result {
    require_docker();
    let _serial = children_lock().read();
    let child = ChildRun::spawn(scenario)?;
    let pid = child.child.id();
    let ready = child.ready.recv_timeout(Duration::from_secs(180));
    let cluster = ready.context("the child never printed READY")?;
    let before = owned_by(pid)?;
    ensure!(
        before.iter().any(|r| r.starts_with(&cluster)),
        "no {cluster}: {before:?}"
    );
    if scenario == "lone-primary" {
        check_limits_and_durability(&format!("{cluster}-primary"))?;
    }
    let signalled = Instant::now();
    ensure!(
        Command::new("kill")
            .args([&format!("-{signal}"), &pid.to_string()])
            .status()?
            .success()
    );
    let (status, output) = child.finish(Duration::from_secs(60))?;
    eprintln!("SIG{signal} clean-up took {:.1?}", signalled.elapsed());
    ensure!(
        status.code() == Some(code),
        "exit status {status}, expected {code}\n{output}"
    );
    Ok(())
}

/// The lone primary of [`child_lone_primary`] runs with its limits and `fsync=off`.
fn check_limits_and_durability(container: &str) -> Result {
    let format = "{{.HostConfig.NanoCpus}} {{.HostConfig.Memory}} {{.HostConfig.MemorySwap}}";
    let limits = docker(&["inspect", "--format", format, container])?;
    let memory = LONE_MEMORY.to_string();
    ensure!(
        limits == format!("{LONE_NANO_CPUS} {memory} {memory}"),
        "limits of {container}: {limits}"
    );
    let cmd = docker(&["inspect", "--format", "{{json .Config.Cmd}}", container])?;
    ensure!(
        cmd.contains("fsync=off") && !cmd.contains("fsync=on"),
        "{cmd}"
    );
    Ok(())
}

/// The limits of [`child_lone_primary`]'s container: half a CPU and 512 MiB.
const LONE_NANO_CPUS: i64 = 500_000_000;
const LONE_MEMORY: i64 = 512 << 20;

/// The clean-up tests that run children take this for reading; the `scalesim cleanup` test
/// takes it for writing, so it never removes what a child left before the child's test has
/// looked for leftovers.
fn children_lock() -> &'static std::sync::RwLock<()> {
    static LOCK: std::sync::RwLock<()> = std::sync::RwLock::new(());
    &LOCK
}

/// What a run killed outright would leave: a (created, not started) container, a network and
/// a volume labelled with the owner `pid`. Returns their names.
fn fake_leftovers(pid: u32, tag: &str) -> Result<[String; 3]> {
    let name = format!("scalesim-cleanup-test-{tag}-{}", std::process::id());
    let labels = [
        format!("{OWNER_LABEL}={pid}"),
        format!("scalesim.cluster={name}"),
    ];
    let label_args: Vec<&str> = labels
        .iter()
        .flat_map(|l| ["--label", l.as_str()])
        .collect();
    let image = default_redis_image();
    let container = format!("{name}-redis");
    docker(
        &[
            &["create", "--name", &container][..],
            &label_args,
            &[&image],
        ]
        .concat(),
    )?;
    docker(&[&["network", "create"][..], &label_args, &[&name]].concat())?;
    docker(&[&["volume", "create"][..], &label_args, &[&name]].concat())?;
    Ok([container, name.clone(), name])
}

/// Whether a container, network and volume of these names exist, in that order.
fn exist(names: &[String; 3]) -> [bool; 3] {
    [
        docker(&["container", "inspect", &names[0]]).is_ok(),
        docker(&["network", "inspect", &names[1]]).is_ok(),
        docker(&["volume", "inspect", &names[2]]).is_ok(),
    ]
}

fn scalesim_cleanup(args: &[&str]) -> Result<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_scalesim"))
        .arg("cleanup")
        .args(args)
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    ensure!(
        out.status.code() == Some(0),
        "scalesim cleanup {args:?}: {}\n{text}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(text)
}

#[test]
#[ignore = "needs a Docker engine: scripts/test.sh runs it when one answers"]
fn cleanup_removes_what_dead_owners_left_and_keeps_the_rest() -> Result {
    require_docker();
    let _serial = children_lock().write();
    let mut dead = Command::new("true").spawn()?;
    let dead_pid = dead.id();
    dead.wait()?;
    let mut live = Command::new("sleep").arg("600").spawn()?;
    let result = (|| {
        let orphans = fake_leftovers(dead_pid, "dead")?;
        let owned = fake_leftovers(live.id(), "live")?;
        let listed = scalesim_cleanup(&["--dry-run"])?;
        ensure!(
            listed.contains(&format!("would remove container {}", orphans[0])),
            "{listed}"
        );
        ensure!(exist(&orphans) == [true; 3], "--dry-run removed something");
        let removed = scalesim_cleanup(&[])?;
        for (kind, name) in ["container", "network", "volume"].iter().zip(&orphans) {
            ensure!(
                removed.contains(&format!("removed {kind} {name} ")),
                "{removed}"
            );
        }
        ensure!(exist(&orphans) == [false; 3], "left: {:?}", exist(&orphans));
        ensure!(
            removed.contains(&format!("kept container {}: owner process", owned[0])),
            "{removed}"
        );
        ensure!(exist(&owned) == [true; 3], "a live owner's resources went");
        Ok(())
    })();
    let _ = live.kill();
    let _ = live.wait();
    let cleared = scalesim_cleanup(&[])?;
    ensure!(
        !cleared.contains("kept container scalesim-cleanup-test"),
        "{cleared}"
    );
    result
}

/// This test binary running [`child_process`] with a scenario.
struct ChildRun {
    child: Child,
    /// The cluster's name, once the child prints its `READY` line.
    ready: mpsc::Receiver<String>,
    /// Threads that echo the child's stdout and stderr and return them.
    readers: Vec<std::thread::JoinHandle<String>>,
}

impl ChildRun {
    fn spawn(scenario: &str) -> Result<ChildRun> {
        let mut child = Command::new(std::env::current_exe()?)
            .args([
                "--exact",
                "real_infra::child_process",
                "--ignored",
                "--nocapture",
            ])
            .env(CHILD_ENV, scenario)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let (ready_tx, ready) = mpsc::channel();
        let stdout = child.stdout.take().context("no stdout")?;
        let stderr = child.stderr.take().context("no stderr")?;
        let readers = vec![
            std::thread::spawn(move || collect(stdout, Some(ready_tx))),
            std::thread::spawn(move || collect(stderr, None)),
        ];
        Ok(ChildRun {
            child,
            ready,
            readers,
        })
    }

    /// Waits for the child (killing it after `timeout`), then checks that nothing it owned is
    /// left. Returns its exit status and output.
    fn finish(mut self, timeout: Duration) -> Result<(ExitStatus, String)> {
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait()? {
                break status;
            }
            if started.elapsed() > timeout {
                self.child.kill()?;
                bail!("the child did not finish within {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let output: String = self
            .readers
            .into_iter()
            .filter_map(|r| r.join().ok())
            .collect();
        let left = owned_by(self.child.id())?;
        ensure!(left.is_empty(), "the child left behind: {left:?}\n{output}");
        Ok((status, output))
    }
}

/// Echoes a child's stream line by line, reports its `READY` line, and returns all of it.
fn collect(stream: impl std::io::Read, ready: Option<mpsc::Sender<String>>) -> String {
    let mut all = String::new();
    for line in BufReader::new(stream)
        .lines()
        .map_while(std::result::Result::ok)
    {
        if let (Some(name), Some(ready)) = (line.strip_prefix("READY "), &ready) {
            let _ = ready.send(name.to_owned());
        }
        eprintln!("  child| {line}");
        all.push_str(&line);
        all.push('\n');
    }
    all
}

/// Not a test on its own: the clean-up tests run it in a child process, selected by
/// `SCALESIM_REAL_INFRA_CHILD`.
#[test]
#[ignore = "run by the clean-up tests in a child process"]
fn child_process() -> Result {
    let Ok(scenario) = std::env::var(CHILD_ENV) else {
        return Ok(());
    };
    if scenario == "drop" {
        return child_drop_outside_runtime();
    }
    runtime().block_on(async {
        match scenario.as_str() {
            "bad-image" => child_bad_image().await,
            "panic" => child_panic().await,
            "ctrl-c" => child_ctrl_c().await,
            "lone-primary" => child_lone_primary().await,
            other => bail!("unknown child scenario {other}"),
        }
    })
}

/// The primary starts, Redis cannot (no such image, no registry): the start fails and must
/// take the primary and the network with it.
async fn child_bad_image() -> Result {
    let spec = ClusterSpec {
        redis: true,
        redis_image: "scalesim-no-such-image:0".into(),
        ..ClusterSpec::new(0, 1, true, false)
    };
    match Cluster::start(&spec).await {
        Err(ProvisionError::Container { node, .. }) if node.ends_with("-redis") => {
            println!("start failed as expected");
            Ok(())
        }
        Err(other) => bail!("unexpected error: {other}"),
        Ok(_) => bail!("a cluster with a missing image started"),
    }
}

/// A cluster dropped, not shut down, where no runtime is running: `Drop` must remove it
/// with blocking commands.
fn child_drop_outside_runtime() -> Result {
    let cluster = runtime().block_on(Cluster::start(&ClusterSpec::new(0, 1, false, false)))?;
    println!("READY {}", cluster.name());
    drop(cluster);
    Ok(())
}

async fn child_panic() -> Result {
    let cluster = Cluster::start(&ClusterSpec::new(1, 0, false, false)).await?;
    println!("READY {}", cluster.name());
    panic!("deliberate panic with a live cluster");
}

/// A cluster with a paused primary (which must be removable too), then Ctrl-C.
async fn child_ctrl_c() -> Result {
    install_ctrl_c_cleanup()?;
    let cluster = Cluster::start(&ClusterSpec::new(1, 0, true, false)).await?;
    cluster.inject(&Fault::PausePrimary).await?;
    println!("READY {}", cluster.name());
    tokio::time::sleep(Duration::from_secs(300)).await;
    cluster.shutdown().await?;
    bail!("no Ctrl-C arrived")
}

/// A lone primary with limits and `fast` durability, then a signal (SIGTERM or SIGHUP).
async fn child_lone_primary() -> Result {
    install_ctrl_c_cleanup()?;
    let spec = ClusterSpec {
        durability: Durability::Fast,
        limits: Limits {
            nano_cpus: Some(LONE_NANO_CPUS),
            memory_bytes: Some(LONE_MEMORY),
        },
        ..ClusterSpec::default()
    };
    let cluster = Cluster::start(&spec).await?;
    println!("READY {}", cluster.name());
    tokio::time::sleep(Duration::from_secs(300)).await;
    cluster.shutdown().await?;
    bail!("no signal arrived")
}
