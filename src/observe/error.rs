//! Why a request failed: one list of kinds for the simulator and the real drivers, so an error
//! count means the same thing on both sides of a comparison.

/// Why a request failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The client's deadline passed (or, for real runs, no pooled connection came in time).
    Timeout,
    /// Turned away: a bounded queue was full, or the in-flight bound was reached.
    Rejected,
    /// The connection broke or could not be opened (an instance crashed under the request).
    Connection,
    /// The server answered with an error, or the answer was unusable.
    Failed,
}

impl ErrorKind {
    /// All kinds, in report order.
    pub const ALL: [ErrorKind; 4] = [
        ErrorKind::Timeout,
        ErrorKind::Rejected,
        ErrorKind::Connection,
        ErrorKind::Failed,
    ];

    /// How many kinds there are (the length of per-kind counter arrays).
    pub const COUNT: usize = Self::ALL.len();

    /// Stable name used in reports (`summary.json` `errors`, CSV rows).
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Timeout => "timeout",
            ErrorKind::Rejected => "rejected",
            ErrorKind::Connection => "connection",
            ErrorKind::Failed => "failed",
        }
    }

    /// Position in [`ErrorKind::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// A set of error kinds (which errors a retry policy retries).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorSet(u8);

impl ErrorSet {
    /// Every kind.
    pub const ALL: ErrorSet = ErrorSet((1 << ErrorKind::COUNT) - 1);
    /// No kind.
    pub const EMPTY: ErrorSet = ErrorSet(0);

    /// The set with `kind` added.
    pub fn with(self, kind: ErrorKind) -> ErrorSet {
        ErrorSet(self.0 | 1 << kind.index())
    }

    /// Whether `kind` is in the set.
    pub fn contains(self, kind: ErrorKind) -> bool {
        self.0 & (1 << kind.index()) != 0
    }

    /// The kind named `name` (as [`ErrorKind::name`] spells it).
    pub fn parse_kind(name: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|k| k.name() == name)
    }
}
