//! The `docker` command line, the registry of live clusters, and the clean-up paths that must
//! work where testcontainers' handles cannot: in `Drop` outside a runtime, on Ctrl-C, SIGTERM
//! and SIGHUP, for containers that were created but never handed back (a start that failed
//! half-way), and for what a process killed outright left behind ([`cleanup_orphans`]).
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

use super::{CLUSTER_LABEL, HOST_LABEL, OWNER_LABEL, ProvisionError};

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

/// Records a cluster before anything of it is created, so a signal finds it.
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
    let host = format!("{HOST_LABEL}={}", this_host());
    #[rustfmt::skip]
    run(&[
        "network", "create", "--label", &owner, "--label", &name, "--label", &host, cluster,
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

/// Runs `docker args...` and blocks; for `Drop`, the signal path and `scalesim cleanup`.
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

/// Makes Ctrl-C (SIGINT), SIGTERM and SIGHUP remove every registered cluster and then exit
/// the process with status 128 + the signal's number (130, 143, 129), the shell's convention
/// for "killed by a signal". Call it once, early, inside the tokio runtime that runs the
/// clusters; later calls do nothing. Without it, any of these signals kills the process before
/// any destructor runs and the containers stay behind. Nothing can catch SIGKILL: what such a
/// process leaves is removed by [`cleanup_orphans`] (`scalesim cleanup`).
pub fn install_ctrl_c_cleanup() -> Result<(), ProvisionError> {
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    let runtime = tokio::runtime::Handle::try_current().map_err(|_| ProvisionError::NoRuntime)?;
    if INSTALLED.swap(true, Ordering::SeqCst) {
        return Ok(());
    }
    let signalled = signal_listener()?;
    runtime.spawn(async move {
        if let Some((name, number)) = signalled.await {
            eprintln!("scalesim: {name}, removing containers");
            if let Err(e) = cleanup_registered() {
                eprintln!("scalesim: clean-up failed: {e}");
            }
            std::process::exit(128 + number);
        }
    });
    Ok(())
}

/// A future that resolves to the name and number of the first of SIGINT, SIGTERM and SIGHUP
/// to arrive. On Unix the handlers are installed right here, not at the first poll, so a
/// signal that arrives before the task runs is not lost.
#[cfg(unix)]
fn signal_listener() -> Result<impl Future<Output = Option<(&'static str, i32)>>, ProvisionError> {
    use tokio::signal::unix::{SignalKind, signal};
    let listen = |kind: SignalKind| signal(kind).map_err(ProvisionError::Signal);
    let mut int = listen(SignalKind::interrupt())?;
    let mut term = listen(SignalKind::terminate())?;
    let mut hup = listen(SignalKind::hangup())?;
    Ok(async move {
        tokio::select! {
            Some(()) = int.recv() => Some(("interrupted", libc::SIGINT)),
            Some(()) = term.recv() => Some(("terminated", libc::SIGTERM)),
            Some(()) = hup.recv() => Some(("hung up", libc::SIGHUP)),
            else => None,
        }
    })
}

#[cfg(not(unix))]
fn signal_listener() -> Result<impl Future<Output = Option<(&'static str, i32)>>, ProvisionError> {
    Ok(async {
        let interrupted = tokio::signal::ctrl_c().await.is_ok();
        interrupted.then_some(("interrupted", 2))
    })
}

/// One scalesim-labelled container, network or volume, and what [`cleanup_orphans`] made of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    /// `container`, `network` or `volume`.
    pub kind: &'static str,
    /// Its name.
    pub name: String,
    /// The process id in its [`OWNER_LABEL`] (`None` when the label is not a number).
    pub owner: Option<u32>,
    /// Why it was kept, or `None` when it was removed (or would be, with a dry run).
    pub kept: Option<String>,
}

/// Removes every scalesim-labelled container (with its anonymous volumes), network and volume
/// whose owner process is gone, and returns all of them with what was done: a process killed
/// by SIGKILL (or a machine that lost power) leaves its clusters behind, and this is what
/// `scalesim cleanup` runs. With `dry_run` nothing is removed.
///
/// The owner is the process id in [`OWNER_LABEL`], looked up on this machine; resources that
/// another machine made on a shared engine ([`HOST_LABEL`] names another host) are kept, as
/// are those of live processes. A process id the system gave to a new process since keeps its
/// leftovers until that process ends too.
pub fn cleanup_orphans(dry_run: bool) -> Result<Vec<Leftover>, ProvisionError> {
    let mut found = Vec::new();
    for kind in ["container", "network", "volume"] {
        for (name, owner, host) in labelled(kind)? {
            let kept = keep_reason(owner.as_deref(), host.as_deref());
            found.push(Leftover {
                kind,
                name,
                owner: owner.and_then(|o| o.parse().ok()),
                kept,
            });
        }
    }
    if !dry_run {
        remove_leftovers(&found)?;
    }
    Ok(found)
}

/// A resource's name, owner label and host label.
type Labelled = (String, Option<String>, Option<String>);

/// Every resource of `kind` with an owner label.
fn labelled(kind: &str) -> Result<Vec<Labelled>, ProvisionError> {
    // `docker ps` calls the name field `Names`; networks and volumes call it `Name`.
    let (list, name) = match kind {
        "container" => (vec!["ps", "-a"], "Names"),
        "network" => (vec!["network", "ls"], "Name"),
        _ => (vec!["volume", "ls"], "Name"),
    };
    let format = format!(
        "{{{{.{name}}}}}\t{{{{.Label \"{OWNER_LABEL}\"}}}}\t{{{{.Label \"{HOST_LABEL}\"}}}}"
    );
    let filter = format!("label={OWNER_LABEL}");
    let out = run_blocking(&[&list[..], &["--filter", &filter, "--format", &format]].concat())?;
    let field = |f: Option<&str>| {
        f.map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    Ok(out
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let mut parts = line.split('\t');
            let name = parts.next().unwrap_or_default().to_owned();
            (name, field(parts.next()), field(parts.next()))
        })
        .collect())
}

/// Why a resource with these labels must stay, or `None` when its owner is gone.
fn keep_reason(owner: Option<&str>, host: Option<&str>) -> Option<String> {
    let here = this_host();
    if let Some(host) = host.filter(|h| *h != here) {
        return Some(format!("made on host {host}, not this one ({here})"));
    }
    match owner.map(str::parse::<u32>) {
        Some(Ok(pid)) if process_alive(pid) => Some(format!("owner process {pid} is alive")),
        Some(Ok(_)) => None,
        _ => Some(format!("owner label {owner:?} is not a process id")),
    }
}

/// Containers first (a network or volume in use cannot be removed), then networks, volumes.
fn remove_leftovers(found: &[Leftover]) -> Result<(), ProvisionError> {
    for (kind, rm) in [
        ("container", &["rm", "-f", "-v"][..]),
        ("network", &["network", "rm"][..]),
        ("volume", &["volume", "rm", "-f"][..]),
    ] {
        let names: Vec<&str> = found
            .iter()
            .filter(|l| l.kind == kind && l.kept.is_none())
            .map(|l| l.name.as_str())
            .collect();
        if !names.is_empty() {
            run_blocking(&[rm, &names[..]].concat())?;
        }
    }
    Ok(())
}

/// Whether process `pid` exists on this machine (signal 0 checks without sending anything;
/// `EPERM` means it exists but belongs to another user).
#[cfg(unix)]
pub(super) fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill with signal 0 sends nothing; it only checks that the process exists.
    let status = unsafe { libc::kill(pid, 0) };
    status == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(not(unix))]
pub(super) fn process_alive(_pid: u32) -> bool {
    true
}

/// This machine's name, as [`HOST_LABEL`] records it.
pub(super) fn this_host() -> String {
    static HOST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HOST.get_or_init(|| {
        let from_file = std::fs::read_to_string("/etc/hostname").ok();
        from_file
            .or_else(|| std::env::var("HOSTNAME").ok())
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "unknown".to_owned())
    })
    .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_resources_of_dead_owners_on_this_host_go() {
        let me = std::process::id().to_string();
        let here = this_host();
        assert!(keep_reason(Some(&me), None).is_some_and(|r| r.contains("alive")));
        assert!(keep_reason(Some(&me), Some(&here)).is_some());
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id().to_string();
        child.wait().unwrap();
        assert_eq!(keep_reason(Some(&dead), None), None);
        assert_eq!(keep_reason(Some(&dead), Some(&here)), None);
        let elsewhere = keep_reason(Some(&dead), Some("another-host"));
        assert!(elsewhere.is_some_and(|r| r.contains("another-host")));
        assert!(keep_reason(Some("x"), None).is_some());
        assert!(keep_reason(None, None).is_some());
    }
}
