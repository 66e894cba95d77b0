//! `[sessions]`: the Customer Behavior Model Graph of a shopper ([`crate::model::sessions`]).

use super::{Res, V, dist};
use crate::model::dist::Dist;
use crate::model::sessions::{EXIT, SessionsSpec, StateSpec};
use crate::scenario::raw::RawScenario;

/// Probabilities out of a state add up to 1 within this.
const SUM_TOLERANCE: f64 = 1e-6;

/// `[sessions]`, or `None`; `classes` are the class names in index order.
pub(super) fn sessions(
    v: &V<'_>,
    raw: &RawScenario,
    classes: &[String],
) -> Res<Option<SessionsSpec>> {
    let Some(r) = &raw.sessions else {
        return Ok(None);
    };
    let names: Vec<&String> = r.states.keys().collect();
    if names.is_empty() {
        return Err(v.err(
            "sessions.states",
            "needs at least one state: `[sessions.states.NAME]`",
        ));
    }
    let state = |field: &str, s: &str| -> Res<u16> {
        names
            .iter()
            .position(|n| *n == s)
            .map(|i| i as u16)
            .ok_or_else(|| {
                v.err(field, format!("no state named `{s}`"))
                    .suggest(s, names.iter().map(|n| n.as_str()))
            })
    };
    let start = state("sessions.start", &r.start)?;
    let converts = state("sessions.converts", &r.converts)?;
    let mut states = Vec::new();
    for (name, s) in &r.states {
        let f = |k: &str| format!("sessions.states.{name}.{k}");
        let class = classes.iter().position(|c| *c == s.class).ok_or_else(|| {
            v.err(f("class"), format!("no class named `{}`", s.class))
                .suggest(&s.class, classes.iter().map(String::as_str))
        })? as u16;
        let think = match &s.think {
            Some(d) => dist(v, &f("think"), d)?,
            None => Dist::Constant(0.0),
        };
        let patience = s
            .patience
            .as_ref()
            .map(|d| dist(v, &f("patience"), d))
            .transpose()?;
        let mut next = Vec::new();
        let mut total = 0.0;
        for (to, p) in &s.next {
            let fp = format!("sessions.states.{name}.next.{to}");
            let p = v.fraction(&fp, *p)?;
            let target = if to == "exit" { EXIT } else { state(&fp, to)? };
            total += p;
            next.push((p, target));
        }
        if (total - 1.0).abs() > SUM_TOLERANCE {
            return Err(v.err(
                f("next"),
                format!(
                    "the probabilities out of `{name}` add up to {}, not 1 (name `exit` to \
                     end the session)",
                    (total * 1e6).round() / 1e6
                ),
            ));
        }
        states.push(StateSpec {
            name: name.clone(),
            class,
            think,
            patience,
            next,
        });
    }
    // Every state a session can reach must be able to end it.
    let mut ends = vec![false; states.len()];
    loop {
        let mut changed = false;
        for (s, st) in states.iter().enumerate() {
            if !ends[s]
                && st
                    .next
                    .iter()
                    .any(|(p, t)| *p > 0.0 && (*t == EXIT || ends[*t as usize]))
            {
                ends[s] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    if let Some(s) = ends.iter().position(|e| !e) {
        return Err(v.err(
            format!("sessions.states.{}.next", names[s]),
            format!(
                "a session at `{}` can never exit: give a path to `exit`",
                names[s]
            ),
        ));
    }
    let spec = SessionsSpec {
        states,
        start,
        converts,
        revenue: v.non_negative("sessions.revenue", r.revenue.unwrap_or(0.0))?,
    };
    if spec.conversion_probabilities()[start as usize] <= 0.0 {
        return Err(v.err(
            "sessions.converts",
            format!("`{}` cannot be reached from `{}`", r.converts, r.start),
        ));
    }
    Ok(Some(spec))
}
