//! A study in the report: the objectives' verdicts first, then every strategy at every named
//! load, where latency and cost come from, and the checklist (see [`crate::run::study`]).
//!
//! The same content in three forms: terminal tables ([`terminal`]), HTML sections
//! ([`html_top`] opens the page, [`html_bottom`] closes it) and `objectives.csv`
//! ([`super::tidy::objectives_csv`], tidy: one row per number).

use std::fmt::Write;

use super::format::{figure, fixed, money, percent};
use super::html::escape;
use super::summary::{LoadPoint, StudySummary, Summary, Verdict};
use super::table::{Cell, Paint, Style, Table};

/// `PASS` or `FAIL`, with `*` when the 95 % interval crosses the threshold.
fn word(v: &Verdict) -> String {
    let w = if v.passed { "PASS" } else { "FAIL" };
    if v.confident {
        w.into()
    } else {
        format!("{w}*")
    }
}

/// The figure of a verdict, as a cell shows it.
fn value(metric: &str, v: &Verdict) -> String {
    match metric {
        "slo.passed" => String::new(),
        "capacity.max_load_scale" => format!("{}x", fixed(v.value, 1)),
        "cost_growth.ratio" => format!("{}x", fixed(v.value, 2)),
        m => figure(m, v.value, v.ci95),
    }
}

/// The terminal tables: objectives, then loads. Empty without a study or loads.
pub(super) fn terminal(s: &Summary, paint: Paint) -> String {
    let mut out = String::new();
    if let Some(study) = &s.study
        && !study.objectives.is_empty()
    {
        let _ = writeln!(
            out,
            "\n{}",
            paint.bold("Objectives: PASS or FAIL per strategy (* = the 95 % interval crosses the threshold)")
        );
        let mut header = vec!["Objective"];
        header.extend(s.strategies.iter().map(|x| x.name.as_str()));
        let mut t = Table::new(&header);
        for o in &study.objectives {
            let mut row = vec![Cell::plain(&format!("{}: {}", o.name, o.goal))];
            for v in &o.verdicts {
                row.push(Cell {
                    text: format!("{} {}", word(v), value(&o.metric, v))
                        .trim_end()
                        .into(),
                    style: if v.passed { Style::Good } else { Style::Bad },
                });
            }
            t.rows.push(row);
        }
        out += &t.render(paint);
    }
    if !s.loads.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            paint.bold("Loads: p99 ms, errors % and cost per million requests of each strategy")
        );
        out += &loads_table(&s.loads).render(paint);
    }
    out
}

fn loads_table(loads: &[LoadPoint]) -> Table {
    let mut header = vec!["Load"];
    header.extend(loads[0].strategies.iter().map(|x| x.name.as_str()));
    let mut t = Table::new(&header);
    for l in loads {
        let mut row = vec![Cell::plain(&l.name)];
        for x in &l.strategies {
            let slo = !x.slo.checks.is_empty();
            row.push(Cell {
                text: format!(
                    "{} · {} · ${}",
                    figure("p99", x.latency_ms.p99, 0.0),
                    percent(x.error_rate),
                    money(x.cost.per_million_requests)
                ),
                style: match (slo, x.slo.passed) {
                    (false, _) => Style::Plain,
                    (true, true) => Style::Good,
                    (true, false) => Style::Bad,
                },
            });
        }
        t.rows.push(row);
    }
    t
}

/// The checklist's one-line summary under the terminal tables.
pub fn checklist_line(s: &Summary) -> String {
    match &s.study {
        Some(study) if !study.checklist.is_empty() => {
            let covered = study.checklist.iter().filter(|c| c.covered).count();
            format!(
                "\nChecklist: {covered} of {} items have evidence from this run (report.html lists each with its figures).\n",
                study.checklist.len()
            )
        }
        _ => String::new(),
    }
}

/// The sections that open the HTML page: objectives and loads.
pub fn html_top(s: &Summary) -> String {
    let mut out = String::new();
    if let Some(study) = &s.study
        && !study.objectives.is_empty()
    {
        out += &section("Objectives", &objectives_html(s, study));
    }
    if !s.loads.is_empty() {
        out += &section("Loads", &loads_html(&s.loads));
    }
    if let Some(study) = &s.study
        && !study.breakdown.is_empty()
    {
        out += &section("Where latency and cost come from", &breakdown_html(study));
    }
    out
}

/// The section that ends the HTML page's results: the checklist.
pub fn html_bottom(s: &Summary) -> String {
    match &s.study {
        Some(study) if !study.checklist.is_empty() => section("Checklist", &checklist_html(study)),
        _ => String::new(),
    }
}

fn section(title: &str, body: &str) -> String {
    format!("<section>\n<h2>{}</h2>\n{body}</section>\n", escape(title))
}

fn class(passed: bool) -> &'static str {
    if passed { "pass" } else { "fail" }
}

fn objectives_html(s: &Summary, study: &StudySummary) -> String {
    let mut out = String::from(
        "<p class=\"muted\">Each objective judged per strategy on the mean over replications, \
         with its 95 % interval; * marks a verdict whose interval crosses the threshold. The \
         figures behind each are in the sections below.</p>\n<table class=\"matrix\">\n<thead><tr><th>Objective</th><th>Judged on</th>",
    );
    for x in &s.strategies {
        let _ = write!(out, "<th>{}</th>", escape(&x.name));
    }
    out += "</tr></thead>\n<tbody>\n";
    for o in &study.objectives {
        let on = match (&o.load, o.kind.as_str()) {
            (Some(l), "metric") => {
                format!(
                    "{} {} {} at load {}",
                    o.metric,
                    o.op,
                    figure(&o.metric, o.threshold, 0.0),
                    l
                )
            }
            (Some(l), _) => format!("every SLO at load {l}"),
            (None, "capacity") => {
                format!("the capacity search reaches {}x the base load", o.threshold)
            }
            (None, _) => format!(
                "cost per million requests, last sweep point over first, {} {} with every SLO met",
                o.op, o.threshold
            ),
        };
        let _ = write!(
            out,
            "<tr><th scope=\"row\">{}<br><small>{}</small></th><td>{}</td>",
            escape(&o.name),
            escape(&o.goal),
            escape(&on)
        );
        for v in &o.verdicts {
            let _ = write!(
                out,
                "<td class=\"{}\"><strong>{}</strong> {}<br><small>{}</small></td>",
                class(v.passed),
                word(v),
                escape(&value(&o.metric, v)),
                escape(&v.detail)
            );
        }
        out += "</tr>\n";
    }
    out + "</tbody>\n</table>\n"
}

fn loads_html(loads: &[LoadPoint]) -> String {
    let mut out = String::from(
        "<p class=\"muted\">Every strategy at every named load: p99 (±95 % CI), error rate, \
         cost per hour and per million requests; green when every SLO held.</p>\n<table class=\"matrix\">\n<thead><tr><th>Load</th>",
    );
    for x in &loads[0].strategies {
        let _ = write!(out, "<th>{}</th>", escape(&x.name));
    }
    out += "</tr></thead>\n<tbody>\n";
    for l in loads {
        let _ = write!(
            out,
            "<tr><th scope=\"row\">{}<br><small>{}</small></th>",
            escape(&l.name),
            escape(&l.description)
        );
        for x in &l.strategies {
            let c = if x.slo.checks.is_empty() {
                ""
            } else {
                class(x.slo.passed)
            };
            let _ = write!(
                out,
                "<td class=\"{c}\">p99 {}<br>errors {} %<br>${}/h · ${}/M</td>",
                escape(&figure("p99", x.latency_ms.p99, x.latency_ms_ci95.p99)),
                percent(x.error_rate),
                money(x.cost.per_hour),
                money(x.cost.per_million_requests)
            );
        }
        out += "</tr>\n";
    }
    out + "</tbody>\n</table>\n"
}

fn breakdown_html(study: &StudySummary) -> String {
    let mut out = String::from(
        "<p class=\"muted\">Per load and strategy, each component's share of the mean response \
         time (Little's law: mean requests present there over the request rate, every visit \
         counted) and of the bill. <em>network and delays</em> is the time no component holds. \
         The tier holding the most time is the one whose queue drives the p99 when a tier \
         saturates.</p>\n",
    );
    let mut loads: Vec<&str> = Vec::new();
    for b in &study.breakdown {
        if !loads.contains(&b.load.as_str()) {
            loads.push(&b.load);
        }
    }
    for l in loads {
        let _ = writeln!(out, "<h3>Load {}</h3>\n<div class=\"cards\">", escape(l));
        for b in study.breakdown.iter().filter(|b| b.load == l) {
            let _ = writeln!(
                out,
                "<div class=\"card\"><h3>{}</h3><p class=\"muted\">mean {} · p99 {} · ${}/h · ${}/M</p>\n<table>\n<thead><tr><th>Component</th><th>ms per request</th><th>share</th><th>$/h</th><th>share</th></tr></thead>\n<tbody>",
                escape(&b.strategy),
                escape(&figure("mean", b.mean_ms, 0.0)),
                escape(&figure("p99", b.p99_ms, 0.0)),
                money(b.cost_per_hour),
                money(b.cost_per_million)
            );
            let time: f64 = b.components.iter().map(|c| c.residence_ms).sum();
            for c in &b.components {
                let share = |x: f64, of: f64| {
                    if of > 0.0 {
                        format!("{:.0} %", x / of * 100.0)
                    } else {
                        "–".into()
                    }
                };
                let _ = writeln!(
                    out,
                    "<tr><th scope=\"row\">{}</th><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                    escape(&c.name),
                    fixed(c.residence_ms, 2),
                    share(c.residence_ms, time),
                    money(c.cost_per_hour),
                    share(c.cost_per_hour, b.cost_per_hour)
                );
            }
            out += "</tbody>\n</table>\n</div>\n";
        }
        out += "</div>\n";
    }
    out
}

fn checklist_html(study: &StudySummary) -> String {
    let covered = study.checklist.iter().filter(|c| c.covered).count();
    let mut out = format!(
        "<p class=\"muted\">{covered} of {} items have evidence from this run; the others are \
         not covered by the scenario.</p>\n",
        study.checklist.len()
    );
    let mut section: Option<&str> = None;
    for c in &study.checklist {
        if section != Some(c.section.as_str()) {
            if section.is_some() {
                out += "</ul>\n";
            }
            let _ = writeln!(
                out,
                "<h3>{}</h3>\n<ul class=\"checks\">",
                escape(&c.section)
            );
            section = Some(&c.section);
        }
        let (cls, mark) = if c.covered {
            ("ok", "✓")
        } else {
            ("bad", "–")
        };
        let _ = write!(
            out,
            "<li class=\"{cls}\"><span class=\"mark\">{mark}</span> <strong>{}</strong>",
            escape(&c.item)
        );
        if !c.covered {
            out += " <small>not covered by this scenario</small>";
        }
        if !c.note.is_empty() {
            let _ = write!(out, "<br><small>{}</small>", escape(&c.note));
        }
        for e in &c.evidence {
            let _ = write!(out, "<br><small>{}</small>", escape(e));
        }
        out += "</li>\n";
    }
    if section.is_some() {
        out += "</ul>\n";
    }
    out
}
