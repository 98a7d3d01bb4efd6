//! The normalizer's read-only first pass over a payload: which references exist, where
//! `$id`s and `$defs` are.

use super::*;

/// Read-only first pass: which references exist, where `$id`s and `$defs` are.
#[derive(Default)]
pub(super) struct Scan {
    pub(super) refs: HashSet<String>,
    /// `$id` nodes that are not `$defs` entries: (id, words of the path, is_root).
    pub(super) ids: Vec<(String, Vec<String>, bool)>,
    /// `$defs`/`definitions` entries: (key, `$id` of the entry).
    pub(super) defs: Vec<(String, Option<String>)>,
}

impl Scan {
    pub(super) fn walk(
        &mut self,
        node: &Value,
        path: &str,
        words: &mut Vec<String>,
        is_root: bool,
    ) {
        let Some(m) = node.as_object() else { return };
        if let Some(Value::String(r)) = m.get("$ref") {
            self.refs.insert(r.clone());
        }
        if let Some(Value::String(id)) = m.get("$id") {
            self.ids.push((id.clone(), words.clone(), is_root));
        }
        for key in ["$defs", "definitions"] {
            if let Some(Value::Object(defs)) = m.get(key) {
                for (k, v) in defs {
                    let id = v.get("$id").and_then(Value::as_str).map(str::to_string);
                    self.defs.push((k.clone(), id));
                    words.push(k.clone());
                    // The entry's own `$id` is the entry itself: scan inside it only.
                    self.walk(&strip_id(v), &join(path, k), words, false);
                    words.pop();
                }
            }
        }
        for (word, child) in children(m) {
            words.push(word);
            self.walk(child, path, words, false);
            words.pop();
        }
    }
}

/// Sub-schemas of a node (not `$defs`), with the word used for naming.
pub(super) fn children(m: &Map<String, Value>) -> Vec<(String, &Value)> {
    let mut out = Vec::new();
    for key in ["properties", "patternProperties"] {
        if let Some(Value::Object(props)) = m.get(key) {
            out.extend(props.iter().map(|(k, v)| (k.clone(), v)));
        }
    }
    for key in ["additionalProperties", "additionalItems", "not"] {
        if let Some(v @ Value::Object(_)) = m.get(key) {
            out.push((key.to_string(), v));
        }
    }
    match m.get("items") {
        Some(v @ Value::Object(_)) => out.push(("Item".to_string(), v)),
        Some(Value::Array(items)) => out.extend(items.iter().map(|v| ("Item".to_string(), v))),
        _ => {}
    }
    for key in ["anyOf", "oneOf", "allOf", "prefixItems"] {
        if let Some(Value::Array(items)) = m.get(key) {
            out.extend(items.iter().map(|v| ("Variant".to_string(), v)));
        }
    }
    out
}

pub(super) fn strip_id(v: &Value) -> Value {
    let mut v = v.clone();
    if let Value::Object(m) = &mut v {
        m.remove("$id");
    }
    v
}

pub(super) fn ref_to(name: &str) -> Value {
    json!({ "$ref": format!("#/definitions/{name}") })
}
