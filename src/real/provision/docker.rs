//! The `docker` command line, the registry of live clusters, and the clean-up paths that must
//! work where testcontainers' handles cannot: in `Drop` outside a runtime, on Ctrl-C, and for
//! containers that were created but never handed back (a start that failed half-way).
//!
//! Everything a cluster creates carries two labels, [`OWNER_LABEL`] (the process id) and
//! [`CLUSTER_LABEL`] (the cluster's name, which is also its network's name), so removal is a
//! label query followed by `docker rm -f -v` and `docker network rm`: it needs no handle and no
//! runtime, and it also finds what a failed start left behind.

use std::collections::BTreeSet;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use super::{CLUSTER_LABEL, OWNER_LABEL, ProvisionError};

/// Names of the clusters of this process that are not removed yet.
static LIVE: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// A name no other cluster on this engine has: process id, a counter, and a time-based nonce
/// (against a recycled process id meeting leftovers of a killed run).
pub(super) fn new_cluster_name() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nonce = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() & 0xffff);
    format!("scalesim-{}-{n}-{nonce:04x}", std::process::id())
}

/// Records a cluster before anything of it is created, so Ctrl-C finds it.
pub(super) fn register(cluster: &str) {
    live().insert(cluster.to_owned());
}

pub(super) fn deregister(cluster: &str) {
    live().remove(cluster);
}

fn live() -> std::sync::MutexGuard<'static, BTreeSet<String>> {
    LIVE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The label filters that select a cluster's resources.
fn labels(cluster: &str) -> [String; 2] {
    [
        format!("{OWNER_LABEL}={}", std::process::id()),
        format!("{CLUSTER_LABEL}={cluster}"),
    ]
}

/// Creates the cluster's user-defined network, labelled like its containers.
pub(super) async fn create_network(cluster: &str) -> Result<(), ProvisionError> {
    let [owner, name] = labels(cluster);
    run(&[
        "network", "create", "--label", &owner, "--label", &name, cluster,
    ])
    .await?;
    Ok(())
}

/// Runs `docker args...` without blocking the runtime; returns its trimmed stdout.
pub(super) async fn run(args: &[&str]) -> Result<String, ProvisionError> {
    let output = tokio::process::Command::new("docker")
        .args(args)
        .output()
        .await;
    check(args, output)
}

/// Runs `docker args...` and blocks; for `Drop` and the Ctrl-C path.
pub(super) fn run_blocking(args: &[&str]) -> Result<String, ProvisionError> {
    check(args, Command::new("docker").args(args).output())
}

fn check(args: &[&str], output: std::io::Result<Output>) -> Result<String, ProvisionError> {
    let output = output
        .map_err(|e| ProvisionError::NoEngine(format!("cannot run the docker command: {e}")))?;
    if output.status.success() {
        return Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned());
    }
    Err(ProvisionError::Docker {
        command: args.join(" "),
        detail: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
    })
}

/// Fails with [`ProvisionError::NoEngine`] unless `docker version` reaches a server.
pub(super) async fn check_engine() -> Result<(), ProvisionError> {
    match run(&["version", "--format", "{{.Server.Version}}"]).await {
        Ok(version) if !version.is_empty() => Ok(()),
        Ok(_) => Err(ProvisionError::NoEngine(
            "`docker version` names no server".into(),
        )),
        Err(ProvisionError::Docker { detail, .. }) => Err(ProvisionError::NoEngine(detail)),
        Err(e) => Err(e),
    }
}

/// Whether a Docker engine answers (`docker version` reaches the server).
pub fn engine_available() -> bool {
    run_blocking(&["version", "--format", "{{.Server.Version}}"]).is_ok_and(|v| !v.is_empty())
}

/// Containers (`container NAME`) and networks (`network NAME`) that carry the label of
/// `cluster` and this process's owner label. Empty once the cluster is removed.
pub fn labelled_resources(cluster: &str) -> Result<Vec<String>, ProvisionError> {
    let [owner, name] = labels(cluster);
    let filters = [
        "--filter",
        &format!("label={owner}"),
        "--filter",
        &format!("label={name}"),
    ];
    let containers =
        run_blocking(&[&["ps", "-a", "--format", "{{.Names}}"][..], &filters].concat())?;
    let networks =
        run_blocking(&[&["network", "ls", "--format", "{{.Name}}"][..], &filters].concat())?;
    let tagged = |kind: &str, list: &str| -> Vec<String> {
        list.lines().map(|n| format!("{kind} {n}")).collect()
    };
    Ok([
        tagged("container", &containers),
        tagged("network", &networks),
    ]
    .concat())
}

/// Removes every container and network labelled for `cluster`, blocking. Idempotent.
pub(super) fn remove_cluster_blocking(cluster: &str) -> Result<(), ProvisionError> {
    let [owner, name] = labels(cluster);
    let filters = [
        "--filter",
        &format!("label={owner}"),
        "--filter",
        &format!("label={name}"),
    ];
    let ids = run_blocking(&[&["ps", "-aq"][..], &filters].concat())?;
    if !ids.is_empty() {
        let ids: Vec<&str> = ids.lines().collect();
        run_blocking(&[&["rm", "-f", "-v"][..], &ids].concat())?;
    }
    let networks = run_blocking(&[&["network", "ls", "-q"][..], &filters].concat())?;
    if !networks.is_empty() {
        let networks: Vec<&str> = networks.lines().collect();
        run_blocking(&[&["network", "rm"][..], &networks].concat())?;
    }
    Ok(())
}

/// [`remove_cluster_blocking`] on the blocking pool.
pub(super) async fn remove_cluster(cluster: &str) -> Result<(), ProvisionError> {
    let cluster = cluster.to_owned();
    tokio::task::spawn_blocking(move || remove_cluster_blocking(&cluster))
        .await
        .unwrap_or_else(|join| Err(ProvisionError::Task(join.to_string())))
}

/// Removes the containers and networks of every cluster of this process that is still
/// registered (started and neither shut down nor dropped). Blocking. Returns the first error
/// but tries every cluster.
pub fn cleanup_registered() -> Result<(), ProvisionError> {
    let clusters: Vec<String> = live().iter().cloned().collect();
    let mut first_error = None;
    for cluster in clusters {
        match remove_cluster_blocking(&cluster) {
            Ok(()) => deregister(&cluster),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// Makes Ctrl-C (SIGINT) remove every registered cluster and then exit the process with
/// status 130, the shell's code for "interrupted". Call it once, early, inside the tokio
/// runtime that runs the clusters; later calls do nothing. Without it, Ctrl-C kills the
/// process before any destructor runs and the containers stay behind.
pub fn install_ctrl_c_cleanup() -> Result<(), ProvisionError> {
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    let runtime = tokio::runtime::Handle::try_current().map_err(|_| ProvisionError::NoRuntime)?;
    if INSTALLED.swap(true, Ordering::SeqCst) {
        return Ok(());
    }
    let interrupted = interrupt_listener()?;
    runtime.spawn(async move {
        if interrupted.await {
            eprintln!("scalesim: interrupted, removing containers");
            if let Err(e) = cleanup_registered() {
                eprintln!("scalesim: clean-up failed: {e}");
            }
            std::process::exit(130);
        }
    });
    Ok(())
}

/// A future that resolves (to true) on SIGINT. On Unix the handler is installed right here,
/// not at the first poll, so a signal that arrives before the task runs is not lost.
#[cfg(unix)]
fn interrupt_listener() -> Result<impl Future<Output = bool>, ProvisionError> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut sigint = signal(SignalKind::interrupt()).map_err(ProvisionError::Signal)?;
    Ok(async move { sigint.recv().await.is_some() })
}

#[cfg(not(unix))]
fn interrupt_listener() -> Result<impl Future<Output = bool>, ProvisionError> {
    Ok(async { tokio::signal::ctrl_c().await.is_ok() })
}
