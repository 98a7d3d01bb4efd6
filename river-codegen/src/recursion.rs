//! Intersections that contain themselves: `A = allOf[A, …]`, directly or through other
//! references and unions, with no object property or array element in between.
//!
//! Such a type has no finite shape (every value of `A` must already be a value of `A`
//! merged with more), and typify's `allOf` merging follows the reference forever and
//! overflows the stack. Recursion *through* a property or an item (`A = allOf[{next: A},
//! …]`) is fine and is not reported.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::diagnostic::Diagnostic;

const DEF_PREFIX: &str = "#/definitions/";

/// One normalized definition: its name, its schema and where in the River schema it
/// came from (for the diagnostic).
pub(crate) struct Def<'a> {
    pub(crate) name: &'a str,
    pub(crate) schema: &'a Value,
    pub(crate) path: &'a str,
}

/// Fails on the first definition that reaches itself through an `allOf` part without an
/// object property or array element on the way.
pub(crate) fn check_intersections(defs: &[Def<'_>]) -> Result<(), Diagnostic> {
    // name → [(target, whether the reference sits inside an `allOf` part)]
    let mut edges: HashMap<&str, Vec<(String, bool)>> = HashMap::new();
    for def in defs {
        let out = edges.entry(def.name).or_default();
        unguarded_refs(def.schema, false, out);
    }
    for def in defs {
        for (target, in_all_of) in edges.get(def.name).into_iter().flatten() {
            if *in_all_of && reaches(&edges, target, def.name) {
                return Err(Diagnostic::new(
                    def.path,
                    format!(
                        "type `{}` is an intersection (`allOf`) that contains itself with no \
                         object property or array item in between, so no value can have its \
                         shape; put the recursion under a property (`{{\"next\": {{\"$ref\": …}}}}`)",
                        def.name
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// References reachable from `node` through unions, intersections and references alone.
fn unguarded_refs(node: &Value, in_all_of: bool, out: &mut Vec<(String, bool)>) {
    let Some(m) = node.as_object() else { return };
    if let Some(target) = m
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix(DEF_PREFIX))
    {
        out.push((target.to_string(), in_all_of));
    }
    for (key, part_in_all_of) in [("allOf", true), ("anyOf", in_all_of), ("oneOf", in_all_of)] {
        if let Some(Value::Array(parts)) = m.get(key) {
            for part in parts {
                unguarded_refs(part, part_in_all_of, out);
            }
        }
    }
}

fn reaches(edges: &HashMap<&str, Vec<(String, bool)>>, from: &str, to: &str) -> bool {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut stack = vec![from];
    while let Some(n) = stack.pop() {
        if n == to {
            return true;
        }
        if !seen.insert(n) {
            continue;
        }
        for (next, _) in edges.get(n).into_iter().flatten() {
            stack.push(next.as_str());
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(defs: &[(&str, Value)]) -> Result<(), Diagnostic> {
        let defs: Vec<Def<'_>> = defs
            .iter()
            .map(|(name, schema)| Def {
                name,
                schema,
                path: "svc.proc.output",
            })
            .collect();
        check_intersections(&defs)
    }

    fn r(name: &str) -> Value {
        json!({ "$ref": format!("#/definitions/{name}") })
    }

    #[test]
    fn an_intersection_with_itself_is_reported() {
        let obj = json!({"type": "object", "properties": {}});
        let d = check(&[("A", json!({"allOf": [r("A"), obj]}))]).unwrap_err();
        assert_eq!(d.path, "svc.proc.output");
        assert!(d.message.contains("type `A` is an intersection"), "{d}");
    }

    #[test]
    fn through_unions_and_other_definitions_too() {
        let obj = json!({"type": "object", "properties": {}});
        assert!(check(&[
            ("A", json!({"allOf": [{"anyOf": [r("B")]}, obj]})),
            ("B", json!({"oneOf": [r("A"), {"type": "null"}]})),
        ])
        .is_err());
    }

    #[test]
    fn recursion_under_a_property_or_item_is_fine() {
        let obj = json!({"type": "object", "properties": {}});
        assert!(check(&[
            (
                "A",
                json!({"allOf": [{"type": "object", "properties": {"next": r("A")}}, obj]})
            ),
            (
                "B",
                json!({"allOf": [{"type": "array", "items": r("B")}, obj]})
            ),
            ("C", json!({"anyOf": [r("C"), obj]})),
        ])
        .is_ok());
    }
}
