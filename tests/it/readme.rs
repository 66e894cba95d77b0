//! The README tells the truth: its table of shipped scenarios lists exactly the files of
//! `sims/`, and every `scalesim` command it shows runs (on a short horizon), with the error it
//! shows where it shows one.
//!
//! Commands are read from inline code spans, from `sh` blocks, and from `$ ` lines of `text`
//! blocks; `cargo run --release -- ` reads as `scalesim `. A command with a placeholder
//! (`FILE`, `NAME`, `DIR`...) is a pattern, not an example, and is skipped. `run` gets a short
//! horizon and one replication (the commands, files and overrides are under test, not the
//! statistics); `real` is checked with `check` (it needs servers); `validate` runs with fewer
//! customers.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::{self, Scratch};

fn readme() -> String {
    std::fs::read_to_string(common::root().join("README.md")).expect("README.md")
}

/// One command the README shows, with the lines it shows after it (text blocks only).
#[derive(Debug)]
struct Shown {
    words: Vec<String>,
    output: Vec<String>,
}

/// The `scalesim` command in `snippet`, if any: its words after `scalesim`, comments cut.
fn command_in(snippet: &str) -> Option<Vec<String>> {
    let snippet = snippet.replace("cargo run --release -- ", "scalesim ");
    let start = snippet.find("scalesim ")?;
    let rest = &snippet[start + "scalesim ".len()..];
    let rest = rest.split(" #").next().unwrap_or(rest);
    let words: Vec<String> = rest.split_whitespace().map(str::to_string).collect();
    let placeholder = |w: &String| {
        w.chars().any(|c| c.is_ascii_uppercase()) || ["*", "…", "..."].iter().any(|p| w.contains(p))
    };
    (!words.is_empty() && !words.iter().any(placeholder)).then_some(words)
}

/// Every command of the README, in order.
fn commands(text: &str) -> Vec<Shown> {
    let mut found = Vec::new();
    let mut fence: Option<String> = None;
    let mut prose = String::new();
    let mut pending = String::new();
    for line in text.lines() {
        if let Some(lang) = line.trim_start().strip_prefix("```") {
            fence = match fence {
                None => {
                    spans(&prose, &mut found);
                    prose.clear();
                    Some(lang.trim().to_string())
                }
                Some(_) => None,
            };
            continue;
        }
        match fence.as_deref() {
            None => {
                prose.push_str(line);
                prose.push('\n');
            }
            Some("sh") => {
                pending.push_str(line.trim_end_matches('\\'));
                if !line.ends_with('\\') {
                    if !pending.trim_start().starts_with('#') {
                        found.extend(command_in(&pending).map(|words| Shown {
                            words,
                            output: vec![],
                        }));
                    }
                    pending.clear();
                }
            }
            Some(_) => match line.strip_prefix("$ ") {
                Some(cmd) => found.extend(command_in(cmd).map(|words| Shown {
                    words,
                    output: vec![],
                })),
                None => {
                    if let Some(last) = found.last_mut() {
                        last.output.push(line.to_string());
                    }
                }
            },
        }
    }
    spans(&prose, &mut found);
    found
}

/// The commands in the inline code spans of `prose` (a span may wrap onto the next line).
fn spans(prose: &str, found: &mut Vec<Shown>) {
    for span in prose.split('`').skip(1).step_by(2) {
        if let Some(words) = command_in(&span.replace('\n', " ")) {
            found.push(Shown {
                words,
                output: vec![],
            });
        }
    }
}

/// `words` without `flag VALUE` pairs of the given flags.
fn without(words: &[String], flags: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let mut skip = false;
    for w in words {
        if std::mem::take(&mut skip) {
            continue;
        }
        if flags.contains(&w.as_str()) {
            skip = true;
        } else {
            out.push(w.clone());
        }
    }
    out
}

fn scalesim(words: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scalesim"))
        .args(words)
        .current_dir(common::root())
        .output()
        .expect("the binary runs")
}

/// What the test runs for the README's `words`, and the exit statuses it accepts.
fn runnable(words: &[String], out: &Path, error_shown: bool) -> Option<(Vec<String>, Vec<i32>)> {
    let out = out.to_str().expect("utf-8").to_string();
    let mut w = without(words, &["--out", "--replications"]);
    let ok = if error_shown { vec![2] } else { vec![0] };
    let needs_file = ["run", "check", "real", "calibrate"].contains(&w.first()?.as_str());
    if needs_file && !w.iter().any(|x| x.ends_with(".toml")) {
        return None;
    }
    match w.first()?.as_str() {
        "run" if error_shown => w.extend(["--out".into(), out]),
        "run" => w.extend(
            [
                "--set",
                "duration=2m",
                "--set",
                "warmup=10s",
                "--replications",
                "1",
                "--quiet",
                "--out",
            ]
            .map(String::from)
            .into_iter()
            .chain([out]),
        ),
        // Real runs and calibrations need servers: their scenario (and `--params`) is checked.
        "real" | "calibrate" => {
            w[0] = "check".into();
            w.retain(|x| x != "--compare");
            w = without(&w, &["--target", "--samples", "--level-seconds", "--seed"]);
        }
        "check" | "list" => {}
        "validate" => {
            w.extend(["--customers", "20000", "--replications", "2"].map(String::from));
            return Some((w, vec![0, 1]));
        }
        "hpa-dry-run" if w.len() < 3 => return None,
        "hpa-dry-run" => w.extend(["--out".into(), format!("{out}.csv")]),
        _ => return None,
    }
    Some((w, ok))
}

#[test]
fn every_readme_command_runs() {
    let dir = Scratch::new("readme");
    let shown = commands(&readme());
    let mut ran = 0;
    for (i, s) in shown.iter().enumerate() {
        let error = s.output.first().filter(|l| l.starts_with("error:"));
        let out = dir.join(&format!("out-{i}"));
        let Some((words, ok)) = runnable(&s.words, &out, error.is_some()) else {
            continue;
        };
        let o = scalesim(&words);
        let stderr = String::from_utf8_lossy(&o.stderr);
        let code = o.status.code().expect("exited normally");
        assert!(
            ok.contains(&code),
            "README command `scalesim {}` (run as `scalesim {}`) exited {code}:\n{stderr}",
            s.words.join(" "),
            words.join(" ")
        );
        if let Some(shown_error) = error {
            assert!(
                stderr.lines().any(|l| l == shown_error),
                "README shows, for `scalesim {}`:\n{shown_error}\nthe command prints:\n{stderr}",
                s.words.join(" ")
            );
        }
        ran += 1;
    }
    assert!(ran >= 10, "only {ran} README commands found: {shown:?}");
}

#[test]
fn readme_lists_every_shipped_scenario() {
    let text = readme();
    let rows: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("| `sims/"))
        .filter_map(|l| l.split('`').next())
        .collect();
    let mut missing = Vec::new();
    for path in common::all_sims() {
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .to_string();
        if !rows.contains(&name.as_str()) {
            let description = scalesim::scenario::load(&path, &[])
                .map(|l| l.base.description.lines().next().unwrap_or("").to_string())
                .unwrap_or_default();
            missing.push(format!(
                "| `sims/{name}` | {description} |   (say what its strategies compare)"
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "README.md's table under \"### Shipped scenarios\" has no row for some files of sims/; \
         add these rows to it:\n{}",
        missing.join("\n")
    );
    for row in rows {
        assert!(
            common::sim(row).is_file(),
            "README.md's table of shipped scenarios lists sims/{row}, which does not exist: \
             remove or rename its row"
        );
    }
}

#[test]
fn readme_commands_are_found() {
    let shown = commands(
        "Run `scalesim run sims/mmc.toml --set rate=4` or `scalesim run FILE`.\n\n\
         ```sh\ncargo run --release -- run sims/load-peak.toml   # main\n```\n\n\
         ```text\n$ scalesim run x.toml\nerror: x\n```\n",
    );
    let words: Vec<String> = shown.iter().map(|s| s.words.join(" ")).collect();
    assert_eq!(
        words,
        [
            "run sims/mmc.toml --set rate=4",
            "run sims/load-peak.toml",
            "run x.toml"
        ]
    );
    assert_eq!(shown[2].output, ["error: x"]);
}
