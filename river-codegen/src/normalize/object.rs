//! Objects, records and arrays: properties with their Rust field names, open and closed
//! objects, `patternProperties`, tuples.

use super::*;

impl Normalizer<'_, '_> {
    pub(super) fn object(
        &mut self,
        m: &Map<String, Value>,
        path: &str,
        t: Title,
        desc: Option<&str>,
    ) -> Result<Value, Diagnostic> {
        let mut props = Map::new();
        let props_path = join(path, "properties");
        if let Some(p) = m.get("properties") {
            let p = p
                .as_object()
                .ok_or_else(|| Diagnostic::new(&props_path, "`properties` must be an object"))?;
            for (k, v) in p {
                let ct = self.child(&t, k);
                let mut child = self.norm(v, &join(&props_path, k), ct)?;
                // A shared type's doc is the type's; the field keeps its own.
                if let (Some(d), Value::Object(c)) =
                    (v.get("description").and_then(Value::as_str), &mut child)
                {
                    if c.len() == 1 && c.contains_key("$ref") {
                        c.insert("description".into(), d.into());
                    }
                }
                props.insert(k.clone(), child);
            }
        }
        let required: Vec<Value> = match m.get("required") {
            Some(Value::Array(r)) => {
                let mut seen = HashSet::new();
                r.iter()
                    .filter_map(Value::as_str)
                    .filter(|k| props.contains_key(*k) && seen.insert(*k))
                    .map(|k| Value::String(k.to_string()))
                    .collect()
            }
            _ => Vec::new(),
        };
        // Records: patternProperties (any key pattern) → String-keyed map values.
        let mut value_schemas = Vec::new();
        if let Some(Value::Object(pp)) = m.get("patternProperties") {
            let base = join(path, "patternProperties");
            for (pat, v) in pp {
                value_schemas.push((join(&base, pat), v.clone()));
            }
        }
        let additional = m.get("additionalProperties");
        let closed = matches!(additional, Some(Value::Bool(false)));
        match additional {
            Some(v @ Value::Object(_)) => {
                value_schemas.push((join(path, "additionalProperties"), v.clone()))
            }
            Some(Value::Bool(true)) if value_schemas.is_empty() && !props.is_empty() => {
                value_schemas.push((join(path, "additionalProperties"), json!({})))
            }
            _ => {}
        }
        let value_schema = match value_schemas.len() {
            0 => None,
            1 => {
                let (p, v) = &value_schemas[0];
                let ct = self.child(&t, "Value");
                Some(self.norm(v, p, ct)?)
            }
            _ => {
                let members: Vec<Value> = value_schemas.iter().map(|(_, v)| v.clone()).collect();
                let ct = self.child(&t, "Value");
                Some(self.norm(&json!({ "anyOf": members }), path, ct)?)
            }
        };
        let is_map = props.is_empty() && value_schema.is_some();
        if is_map {
            // `Record<string, T>`: a map with String keys; typify names no type.
            let mut out = Map::new();
            out.insert("type".into(), "object".into());
            out.insert(
                "additionalProperties".into(),
                value_schema.unwrap_or(Value::Bool(true)),
            );
            return Ok(with_desc(Value::Object(out), desc));
        }
        let mut out = Map::new();
        out.insert("type".into(), "object".into());
        if let Some(d) = desc {
            out.insert("description".into(), d.into());
        }
        if !required.is_empty() {
            out.insert("required".into(), Value::Array(required));
        }
        let empty = props.is_empty();
        out.insert("properties".into(), Value::Object(props));
        let mut open_empty = false;
        if let Some(vs) = value_schema {
            out.insert("additionalProperties".into(), vs);
        } else if closed || empty {
            // An empty object must be closed for typify to emit `struct X {}`; unless the
            // schema asked for that, the struct is reopened after generation.
            out.insert("additionalProperties".into(), Value::Bool(false));
            open_empty = empty && !closed;
        }
        Ok(self.named(out, &t, open_empty))
    }

    pub(super) fn array(
        &mut self,
        m: &Map<String, Value>,
        path: &str,
        t: Title,
        desc: Option<&str>,
    ) -> Result<Value, Diagnostic> {
        let tuple = match (m.get("items"), m.get("prefixItems")) {
            (Some(Value::Array(items)), _) => Some(("items", items)),
            (_, Some(Value::Array(items))) => Some(("prefixItems", items)),
            _ => None,
        };
        if let Some((key, items)) = tuple {
            if items.is_empty() {
                return Ok(with_desc(
                    json!({"type": "array", "items": ref_to(VALUE_DEF), "maxItems": 0}),
                    desc,
                ));
            }
            let base = join(path, key);
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let ct = self.child(&t, &format!("Item{i}"));
                out.push(self.norm(item, &join(&base, &i.to_string()), ct)?);
            }
            let n = out.len();
            return Ok(with_desc(
                json!({"type": "array", "items": out, "minItems": n, "maxItems": n, "additionalItems": false}),
                desc,
            ));
        }
        let items = match m.get("items") {
            Some(items @ (Value::Object(_) | Value::Bool(_))) => {
                let ct = self.child(&t, "Item");
                self.norm(items, &join(path, "items"), ct)?
            }
            _ => ref_to(VALUE_DEF),
        };
        Ok(with_desc(json!({"type": "array", "items": items}), desc))
    }
}
