//! The scenario as an editable TOML document: `--set` and strategy overrides, `$param`
//! references, and mapping field paths back to line and column.
//!
//! Edits go through `toml_edit`, which keeps the file's layout, so a value replaced in place
//! stays on its line and errors found after editing still point into the user's file.

use toml_edit::{DocumentMut, Item, Value};

/// Parses `text` as an editable document; the error is `(byte span, message)`.
pub fn parse(text: &str) -> Result<DocumentMut, (Option<std::ops::Range<usize>>, String)> {
    text.parse::<DocumentMut>()
        .map_err(|e| (e.span(), e.message().to_string()))
}

/// Parses a `--set` value: TOML syntax when it parses (`4`, `0.5`, `true`, `"x"`, `[1, 2]`),
/// else the raw text as a string (`2h`).
pub fn parse_value(text: &str) -> Value {
    text.parse::<Value>().unwrap_or_else(|_| Value::from(text))
}

/// Splits a field path `a.b.0.c` into segments.
pub fn segments(path: &str) -> Vec<&str> {
    path.split('.').collect()
}

/// Sets `path` to `value`, creating intermediate tables. Fails when the path crosses a value
/// that is not a table or array.
pub fn set_path(doc: &mut DocumentMut, path: &str, value: Value) -> Result<(), String> {
    let segs = segments(path);
    let (last, parents) = segs.split_last().ok_or("empty path")?;
    let mut item: &mut Item = doc.as_item_mut();
    for seg in parents {
        item = child_mut(item, seg).ok_or_else(|| format!("`{seg}` in `{path}` is not a table"))?;
    }
    let formatted = value.decorated(" ", "");
    match item {
        Item::Table(t) => {
            t.insert(last, Item::Value(formatted));
        }
        Item::Value(Value::InlineTable(t)) => {
            t.insert(*last, formatted);
        }
        Item::Value(Value::Array(a)) => {
            let i: usize = last
                .parse()
                .map_err(|_| format!("`{last}` is not an index"))?;
            if i >= a.len() {
                return Err(format!(
                    "cannot set `{path}`: index {i} is out of range (the array has {} elements)",
                    a.len()
                ));
            }
            a.replace(i, formatted);
        }
        _ => return Err(format!("cannot set `{path}`: its parent is not a table")),
    }
    Ok(())
}

fn child_mut<'a>(item: &'a mut Item, seg: &str) -> Option<&'a mut Item> {
    match item {
        Item::Table(t) => Some(t.entry(seg).or_insert_with(toml_edit::table)),
        Item::Value(Value::InlineTable(_)) | Item::Value(Value::Array(_)) => item.get_mut(seg),
        _ => None,
    }
}

/// Replaces every string `"$name"` outside `[params]` by the parameter's value. Returns the
/// paths of references to unknown parameters.
///
/// A strategy's `set` is left as written: its values are substituted once applied, with the
/// parameters of that strategy and sweep point (`set = { scan = "$scan" }` at a point of a
/// sweep over `scan` takes the point's value, not the file's).
pub fn substitute_params(doc: &mut DocumentMut) -> Vec<(String, String)> {
    substitute(doc, false)
}

/// Every `"$name"` reference (strategies' `set` included), as [`substitute_params`] reports
/// unknown ones, with `[params]` removed: the parameters the file uses.
pub fn param_refs(doc: &DocumentMut) -> Vec<String> {
    let mut d = doc.clone();
    d.remove("params");
    substitute(&mut d, true)
        .into_iter()
        .map(|(_, name)| name)
        .collect()
}

fn substitute(doc: &mut DocumentMut, strategy_sets: bool) -> Vec<(String, String)> {
    let params: Vec<(String, Value)> = doc
        .get("params")
        .and_then(Item::as_table_like)
        .map(|t| {
            t.iter()
                .filter_map(|(k, v)| v.as_value().map(|v| (k.to_string(), v.clone())))
                .collect()
        })
        .unwrap_or_default();
    let mut dangling = Vec::new();
    for (key, item) in doc.as_table_mut().iter_mut() {
        match (key.get(), item) {
            ("params", _) => {}
            ("strategies", Item::ArrayOfTables(a)) if !strategy_sets => {
                for (i, t) in a.iter_mut().enumerate() {
                    for (k, it) in t.iter_mut().filter(|(k, _)| k.get() != "set") {
                        let path = format!("strategies.{i}.{}", k.get());
                        walk_item(it, path, &params, &mut dangling);
                    }
                }
            }
            (key, item) => walk_item(item, key.to_string(), &params, &mut dangling),
        }
    }
    dangling
}

fn walk_item(
    item: &mut Item,
    path: String,
    params: &[(String, Value)],
    dangling: &mut Vec<(String, String)>,
) {
    match item {
        Item::Value(v) => walk_value(v, path, params, dangling),
        Item::Table(t) => {
            for (k, it) in t.iter_mut() {
                walk_item(it, format!("{path}.{}", k.get()), params, dangling);
            }
        }
        Item::ArrayOfTables(a) => {
            for (i, t) in a.iter_mut().enumerate() {
                for (k, it) in t.iter_mut() {
                    walk_item(it, format!("{path}.{i}.{}", k.get()), params, dangling);
                }
            }
        }
        Item::None => {}
    }
}

fn walk_value(
    v: &mut Value,
    path: String,
    params: &[(String, Value)],
    dangling: &mut Vec<(String, String)>,
) {
    match v {
        Value::String(s) if s.value().starts_with('$') => {
            let name = &s.value()[1..];
            match params.iter().find(|(k, _)| k == name) {
                Some((_, p)) => {
                    let decor = v.decor().clone();
                    *v = p.clone();
                    *v.decor_mut() = decor;
                }
                None => dangling.push((path, name.to_string())),
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter_mut().enumerate() {
                walk_value(x, format!("{path}.{i}"), params, dangling);
            }
        }
        Value::InlineTable(t) => {
            for (k, x) in t.iter_mut() {
                walk_value(x, format!("{path}.{}", k.get()), params, dangling);
            }
        }
        _ => {}
    }
}

/// Names of the `[params]` table.
pub fn param_names(doc: &DocumentMut) -> Vec<String> {
    doc.get("params")
        .and_then(Item::as_table_like)
        .map(|t| t.iter().map(|(k, _)| k.to_string()).collect())
        .unwrap_or_default()
}

/// The 1-based (line, column) of `path` in `text` (the deepest existing prefix of the path).
pub fn locate(text: &str, path: &str) -> Option<(usize, usize)> {
    let doc = toml_edit::Document::parse(text).ok()?;
    let mut item: &Item = doc.as_item();
    let mut span = None;
    for seg in segments(path) {
        let next = match item {
            Item::ArrayOfTables(a) => seg
                .parse()
                .ok()
                .and_then(|i: usize| a.get(i))
                .map(|t| (t.span(), None)),
            _ => item
                .as_table_like()
                .and_then(|t| t.get_key_value(seg))
                .map(|(k, v)| (k.span(), Some(v))),
        };
        let Some((s, v)) = next else { break };
        span = s.or(span);
        match v {
            Some(v) => item = v,
            None => {
                let Item::ArrayOfTables(a) = item else { break };
                let Some(t) = seg.parse().ok().and_then(|i: usize| a.get(i)) else {
                    break;
                };
                span = t.span().or(span);
                break;
            }
        }
    }
    span.map(|s| line_col(text, s.start))
}

/// 1-based (line, column) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map_or(before.len(), |i| before.len() - i - 1)
        + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "name = \"x\"\n[params]\nrate = 4\n\n[stations.db]\nworkers = \"$rate\"\nservice = \"5ms\"\n";

    #[test]
    fn substitute_and_locate() {
        let mut doc = parse(TEXT).unwrap();
        assert!(substitute_params(&mut doc).is_empty());
        let out = doc.to_string();
        assert!(out.contains("workers = 4"), "{out}");
        assert_eq!(locate(&out, "stations.db.workers"), Some((6, 1)));
        assert_eq!(locate(TEXT, "stations.db.service"), Some((7, 1)));
    }

    #[test]
    fn set_existing_keeps_line() {
        let mut doc = parse(TEXT).unwrap();
        set_path(&mut doc, "stations.db.service", parse_value("10ms")).unwrap();
        let out = doc.to_string();
        assert_eq!(out.lines().nth(6), Some("service = \"10ms\""));
    }

    #[test]
    fn dangling_reference_is_reported() {
        let mut doc = parse("[a]\nx = \"$nope\"\n").unwrap();
        assert_eq!(
            substitute_params(&mut doc),
            vec![("a.x".to_string(), "nope".to_string())]
        );
    }
}
