//! The CI recipe `deploy/github-actions.yml` stays valid: it parses as YAML with the shape of
//! a workflow (jobs of steps, each with `uses` or `run`), every `scalesim` command in its
//! scripts is a real subcommand given only flags that subcommand has (per its `--help`), and
//! every `cargo bench --bench NAME` names a benchmark of `Cargo.toml`.

use std::process::Command;

use saphyr::{LoadableYamlNode, Yaml};

use crate::common;

const RECIPE: &str = "deploy/github-actions.yml";

/// The recipe's `run:` scripts, in order; asserts the workflow's shape on the way.
fn scripts() -> Vec<String> {
    let path = common::root().join(RECIPE);
    let text = std::fs::read_to_string(&path).expect("the recipe exists");
    let docs = Yaml::load_from_str(&text).unwrap_or_else(|e| panic!("{RECIPE}: {e}"));
    let [doc] = &docs[..] else {
        panic!("{RECIPE}: one YAML document expected")
    };
    assert!(
        doc.as_mapping_get("on").is_some(),
        "{RECIPE}: no `on` triggers"
    );
    let jobs = doc
        .as_mapping_get("jobs")
        .and_then(Yaml::as_mapping)
        .expect("a `jobs` mapping");
    assert!(!jobs.is_empty(), "{RECIPE}: no jobs");
    let mut out = Vec::new();
    for (name, job) in jobs {
        let steps = job
            .as_mapping_get("steps")
            .and_then(Yaml::as_sequence)
            .unwrap_or_else(|| panic!("{RECIPE}: job {name:?} has no steps"));
        assert!(
            job.as_mapping_get("runs-on").is_some(),
            "{RECIPE}: job {name:?} has no runs-on"
        );
        for step in steps {
            let run = step.as_mapping_get("run").and_then(Yaml::as_str);
            let uses = step.as_mapping_get("uses").and_then(Yaml::as_str);
            assert!(
                run.is_some() != uses.is_some(),
                "{RECIPE}: a step needs `run` or `uses`: {step:?}"
            );
            out.extend(run.map(str::to_string));
        }
    }
    out
}

/// The words of each shell command in `script`: split at newlines (after joining `\`
/// continuations), `;`, `&&`, `||` and `|`; quotes removed.
fn commands(script: &str) -> Vec<Vec<String>> {
    let joined = script.replace("\\\n", " ");
    let mut out = Vec::new();
    for line in joined.lines() {
        let line = line.split(" #").next().unwrap_or("");
        let line = line.replace("&&", ";").replace("||", ";").replace('|', ";");
        for part in line.split(';') {
            let words: Vec<String> = part
                .split_whitespace()
                .map(|w| w.trim_matches(|c| c == '"' || c == '\'').to_string())
                .collect();
            if !words.is_empty() {
                out.push(words);
            }
        }
    }
    out
}

fn help(subcommand: &str) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_scalesim"))
        .args([subcommand, "--help"])
        .output()
        .expect("the binary runs");
    assert!(
        o.status.success(),
        "{RECIPE}: `scalesim {subcommand}` is not a subcommand: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Checks one `scalesim SUB ARGS...` command; returns the subcommand.
fn check_scalesim(words: &[String]) -> String {
    let sub = words.get(1).expect("a subcommand after scalesim");
    let text = help(sub);
    for flag in words[2..].iter().filter(|w| w.starts_with("--")) {
        let name = flag.split('=').next().unwrap_or(flag);
        let listed = text
            .split(|c: char| c.is_whitespace() || c == ',')
            .any(|w| w == name);
        assert!(listed, "{RECIPE}: `scalesim {sub}` has no flag {name}");
    }
    sub.clone()
}

fn bench_names() -> Vec<String> {
    let text = std::fs::read_to_string(common::root().join("Cargo.toml")).expect("Cargo.toml");
    let manifest: toml::Table = text.parse().expect("Cargo.toml parses");
    manifest["bench"]
        .as_array()
        .expect("[[bench]] entries")
        .iter()
        .filter_map(|b| b.get("name")?.as_str().map(str::to_string))
        .collect()
}

fn check_cargo_bench(words: &[String]) -> usize {
    let benches = bench_names();
    let named: Vec<&String> = words
        .windows(2)
        .filter(|w| w[0] == "--bench")
        .map(|w| &w[1])
        .collect();
    for n in &named {
        assert!(
            benches.contains(n),
            "{RECIPE}: no bench `{n}` in Cargo.toml ({benches:?})"
        );
    }
    named.len()
}

#[test]
fn the_ci_recipe_parses_and_runs_real_commands() {
    let mut subcommands = Vec::new();
    let mut benches = 0;
    let mut baselines = Vec::new();
    for script in scripts() {
        for words in commands(&script) {
            match words[0].as_str() {
                "scalesim" => subcommands.push(check_scalesim(&words)),
                "cargo" if words.get(1).is_some_and(|w| w == "bench") => {
                    benches += check_cargo_bench(&words);
                    baselines.extend(words.iter().filter(|w| w.contains("baseline")).cloned());
                }
                _ => {}
            }
        }
    }
    for needed in ["run", "diff"] {
        assert!(
            subcommands.iter().any(|s| s == needed),
            "{RECIPE}: never runs `scalesim {needed}`"
        );
    }
    assert!(benches > 0, "{RECIPE}: runs no benchmark");
    assert!(
        baselines.iter().any(|b| b == "--save-baseline")
            && baselines.iter().any(|b| b.starts_with("--baseline")),
        "{RECIPE}: saves and compares a criterion baseline: {baselines:?}"
    );
    let text = std::fs::read_to_string(common::root().join(RECIPE)).expect("recipe");
    assert!(text.contains("--fail-on-slo"), "{RECIPE}: the SLO gate");
}

#[test]
fn command_splitting_follows_the_shell() {
    let c = commands("a b && c \"d e\" || f | g; h \\\n  i # note\n");
    let firsts: Vec<&str> = c.iter().map(|w| w[0].as_str()).collect();
    assert_eq!(firsts, ["a", "c", "f", "g", "h"]);
    assert_eq!(c[4], ["h", "i"]);
}
