//! Upstream's unit tests, ported as data: one table per upstream test function (or family),
//! one interpreter per table. Case names are upstream's; inputs and expected outputs are the
//! facts those tests assert, written in this module's types.

mod behavior_cases;
mod calc_cases;

use super::{Millis, SECOND};

/// "Now" in every ported case. Go's zero time (an unset start time or sample timestamp in the
/// upstream fixtures) is 0, far before it.
pub(super) const NOW: Millis = 1_000_000 * SECOND;

/// A time `s` seconds before [`NOW`].
pub(super) const fn ago(s: i64) -> Millis {
    NOW - s * SECOND
}
