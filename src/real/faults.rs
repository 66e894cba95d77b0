//! Faults that can be injected into a running [`Cluster`](super::provision::Cluster).
//!
//! A [`Fault`] is plain data with a short text form, so scenario files and the command line can
//! name it the same way (`"stop replica-1"`, `"pause primary"`, `"disconnect replica-0"`). The
//! text form is also its serde form. Applying a fault is
//! [`Cluster::inject`](super::provision::Cluster::inject)'s job; this module only describes
//! and parses them.
//!
//! | text                   | what happens to the container                                    |
//! |------------------------|------------------------------------------------------------------|
//! | `stop replica-N`       | fast shutdown (SIGINT), as `docker stop` does with the official image |
//! | `start replica-N`      | `docker start`; the replica resumes streaming from where it stopped |
//! | `pause primary`        | `docker pause`: every process frozen, connections hang           |
//! | `unpause primary`      | `docker unpause`                                                 |
//! | `disconnect replica-N` | cut from the cluster network: it still serves (stale) reads from the host, but no longer receives WAL |
//! | `reconnect replica-N`  | back on the cluster network; it catches up                       |

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A fault to inject into a running cluster. Replicas are numbered from 0, in the order of
/// [`Topology::replicas`](super::provision::Topology::replicas).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Fault {
    /// Shut replica N down (fast shutdown, as `docker stop` does with the official image).
    StopReplica(usize),
    /// Start replica N again after a stop; it resumes streaming from its last position.
    StartReplica(usize),
    /// Freeze the primary (`docker pause`); queries to it block.
    PausePrimary,
    /// Resume a paused primary.
    UnpausePrimary,
    /// Cut replica N from the cluster network: it stops receiving WAL but stays reachable from
    /// the host, so reads from it go stale.
    DisconnectReplica(usize),
    /// Put replica N back on the cluster network.
    ReconnectReplica(usize),
}

impl Fault {
    /// The replica a fault targets, or `None` for faults of the primary.
    pub fn replica(&self) -> Option<usize> {
        match *self {
            Fault::StopReplica(i)
            | Fault::StartReplica(i)
            | Fault::DisconnectReplica(i)
            | Fault::ReconnectReplica(i) => Some(i),
            Fault::PausePrimary | Fault::UnpausePrimary => None,
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::StopReplica(i) => write!(f, "stop replica-{i}"),
            Fault::StartReplica(i) => write!(f, "start replica-{i}"),
            Fault::PausePrimary => f.write_str("pause primary"),
            Fault::UnpausePrimary => f.write_str("unpause primary"),
            Fault::DisconnectReplica(i) => write!(f, "disconnect replica-{i}"),
            Fault::ReconnectReplica(i) => write!(f, "reconnect replica-{i}"),
        }
    }
}

/// A fault's text could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown fault {text:?}: expected one of \"stop replica-N\", \"start replica-N\", \
     \"pause primary\", \"unpause primary\", \"disconnect replica-N\", \"reconnect replica-N\""
)]
pub struct FaultParseError {
    /// The text that was given.
    pub text: String,
}

impl FromStr for Fault {
    type Err = FaultParseError;

    /// Parses `"<action> <target>"`, case-insensitively, with any whitespace between the words.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || FaultParseError {
            text: text.to_owned(),
        };
        let lower = text.to_ascii_lowercase();
        let mut words = lower.split_whitespace();
        let (Some(action), Some(target), None) = (words.next(), words.next(), words.next()) else {
            return Err(error());
        };
        match (action, target) {
            ("pause", "primary") => Ok(Fault::PausePrimary),
            ("unpause", "primary") => Ok(Fault::UnpausePrimary),
            (action, target) => {
                let replica = parse_replica(target).ok_or_else(error)?;
                replica_fault(action, replica).ok_or_else(error)
            }
        }
    }
}

/// `replica-N` to `N`.
fn parse_replica(target: &str) -> Option<usize> {
    target.strip_prefix("replica-")?.parse().ok()
}

fn replica_fault(action: &str, replica: usize) -> Option<Fault> {
    match action {
        "stop" => Some(Fault::StopReplica(replica)),
        "start" => Some(Fault::StartReplica(replica)),
        "disconnect" => Some(Fault::DisconnectReplica(replica)),
        "reconnect" => Some(Fault::ReconnectReplica(replica)),
        _ => None,
    }
}

impl TryFrom<String> for Fault {
    type Error = FaultParseError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<Fault> for String {
    fn from(fault: Fault) -> String {
        fault.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Fault; 6] = [
        Fault::StopReplica(1),
        Fault::StartReplica(0),
        Fault::PausePrimary,
        Fault::UnpausePrimary,
        Fault::DisconnectReplica(12),
        Fault::ReconnectReplica(3),
    ];

    #[test]
    fn text_form_round_trips() {
        for fault in ALL {
            assert_eq!(fault.to_string().parse::<Fault>(), Ok(fault));
        }
    }

    #[test]
    fn parsing_ignores_case_and_spacing() {
        assert_eq!("  Stop   REPLICA-1 ".parse(), Ok(Fault::StopReplica(1)));
        assert_eq!("pause\tprimary".parse(), Ok(Fault::PausePrimary));
    }

    #[test]
    fn bad_text_is_an_error_not_a_panic() {
        for text in [
            "",
            "stop",
            "stop primary",
            "pause replica-0",
            "stop replica-",
            "stop replica-x",
            "stop replica-1 now",
            "explode replica-1",
            "stop replica--1",
        ] {
            let err = text.parse::<Fault>().unwrap_err();
            assert_eq!(err.text, text);
            assert!(err.to_string().contains("stop replica-N"));
        }
    }

    #[test]
    fn serde_uses_the_text_form() {
        let json = serde_json::to_string(&ALL).unwrap();
        assert!(json.contains("\"disconnect replica-12\""), "{json}");
        let back: Vec<Fault> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, ALL);
        assert!(serde_json::from_str::<Fault>("\"stop everything\"").is_err());
    }

    #[test]
    fn replica_names_the_target() {
        assert_eq!(Fault::StopReplica(4).replica(), Some(4));
        assert_eq!(Fault::PausePrimary.replica(), None);
    }
}
