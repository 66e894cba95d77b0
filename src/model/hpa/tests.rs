//! Upstream's unit tests, ported as data: one table per upstream test function (or family),
//! one interpreter per table. Case names are upstream's; inputs and expected outputs are the
//! facts those tests assert, written in this module's types.

mod behavior_cases;
mod calc_cases;
mod controller_cases;
mod properties;
mod scenarios;

use super::{Millis, SECOND};

/// "Now" in every ported case. Go's zero time (an unset start time or sample timestamp in the
/// upstream fixtures) is 0, far before it.
pub(super) const NOW: Millis = 1_000_000 * SECOND;

/// A time `s` seconds before [`NOW`].
pub(super) const fn ago(s: i64) -> Millis {
    NOW - s * SECOND
}

/// A fixture pod's `Ready` status (True unless listed).
#[derive(Clone, Copy, PartialEq)]
pub(super) enum R {
    T,
    F,
}

/// A fixture pod's start: Hot (now, inside the CPU initialization period) or Cool (3 min ago).
#[derive(Clone, Copy)]
pub(super) enum St {
    Hot,
    Cool,
}

/// A fixture pod's phase (Running unless listed).
#[derive(Clone, Copy)]
pub(super) enum Ph {
    Run,
    Pend,
    Fail,
}
