//! The discrete-event engine: time, the event calendar, random streams and the component contract.
//!
//! Design:
//! - Time is [`SimTime`], an integer count of nanoseconds; no floating-point clock ever drifts.
//! - The [`Calendar`] pops events in `(time, insertion sequence)` order, so events scheduled for
//!   the same instant run first-in first-out and a run is a pure function of its inputs.
//! - Randomness comes from [`Rng`] (xoshiro256++), one stream per component, seeded from
//!   `(replication seed, component name)` by [`stream_seed`]. A component's draws therefore do not
//!   depend on what other components do, which gives common random numbers across strategies.
//!   There is no OS entropy anywhere.
//! - Components never touch the calendar or the clock directly: they get a [`Ctx`] that can read
//!   the time and schedule events addressed to a component. Events are small `Copy` values
//!   ([`Event`]) and the owner of the components dispatches them with a `match`, so there is no
//!   dynamic dispatch and no allocation per event.

mod calendar;
mod rng;
mod time;

pub use calendar::{Calendar, Event};
pub use rng::{Rng, mix64, stream_seed};
pub use time::SimTime;

/// What a component handler may do: read the clock and schedule events.
///
/// The contract of every handler: given the same state, event and clock, it schedules the same
/// events in the same order and draws the same numbers from its own stream.
#[derive(Debug)]
pub struct Ctx<'a> {
    now: SimTime,
    calendar: &'a mut Calendar,
}

impl<'a> Ctx<'a> {
    /// A context at `now` over `calendar`.
    pub fn new(now: SimTime, calendar: &'a mut Calendar) -> Self {
        Ctx { now, calendar }
    }

    /// The current simulated time.
    #[inline]
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Schedules `event` after `delay` nanoseconds.
    #[inline]
    pub fn schedule_in(&mut self, delay: u64, event: Event) {
        self.calendar.push(self.now.0.saturating_add(delay), event);
    }

    /// Schedules `event` at the absolute time `at` (not before now).
    #[inline]
    pub fn schedule_at(&mut self, at: SimTime, event: Event) {
        self.calendar.push(at.0.max(self.now.0), event);
    }
}

/// A simulated component: reacts to the events addressed to it through a [`Ctx`].
///
/// The contract: a handler reads the clock and schedules events only through `ctx`, draws
/// randomness only from its own stream, and reports what happened to its owner by pushing
/// [`Component::Output`] values into `out` (for a station: "request 7 finished its visit").
/// Given the same state, event and clock it must schedule the same events in the same order and
/// push the same outputs: that is what makes a run a pure function of (scenario, seed). The
/// owner dispatches events to components with a `match` on the event's target, so calling a
/// handler costs no dynamic dispatch.
pub trait Component {
    /// What the handler reports to its owner.
    type Output;
    /// Handles one event addressed to this component.
    fn handle(&mut self, event: Event, ctx: &mut Ctx<'_>, out: &mut Vec<Self::Output>);
}
