//! Unions, intersections and enums: how the normalizer turns `anyOf`/`oneOf`, `allOf`
//! and `enum` into what typify 0.8 generates well.

use super::*;

impl Normalizer<'_, '_> {
    pub(super) fn union(
        &mut self,
        members: &[Value],
        path: &str,
        t: Title,
        desc: Option<&str>,
    ) -> Result<Value, Diagnostic> {
        // Flatten nested plain unions.
        let mut flat: Vec<(String, &Value)> = Vec::new();
        flatten_union(members, path, &mut flat);
        if flat.is_empty() {
            return Ok(self.never(&t, desc));
        }
        if flat.len() == 1 {
            let (p, v) = flat[0].clone();
            let mut v = v.clone();
            if let (Some(d), Value::Object(o)) = (desc, &mut v) {
                o.entry("description").or_insert_with(|| d.into());
            }
            return self.norm(&v, &p, t);
        }
        // Literal unions of numbers or booleans.
        let consts: Option<Vec<&Value>> = flat.iter().map(|(_, v)| v.get("const")).collect();
        if let Some(consts) = &consts {
            let list = consts
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            let d = match desc {
                Some(d) => format!("{d}\n\nOne of: {list}."),
                None => format!("One of: {list}."),
            };
            if consts.iter().all(|c| c.is_boolean()) {
                return Ok(json!({"type": "boolean", "description": d}));
            }
            if consts.iter().all(|c| c.is_number()) {
                let int = flat
                    .iter()
                    .all(|(_, v)| v.get("type").and_then(Value::as_str) == Some("integer"));
                let ty = if int { "integer" } else { "number" };
                return Ok(json!({"type": ty, "description": d}));
            }
        }
        // String literals typify cannot name apart would make it panic: they stand in
        // for themselves as placeholders (see [`placeholder`]), the first of each value
        // kept.
        let renamed: Vec<(String, Value)>;
        let flat: Vec<(String, &Value)> = match &consts {
            Some(consts) if !typify_can_name_variants(consts) => {
                let mut seen = HashSet::new();
                renamed = flat
                    .iter()
                    .filter_map(|(p, v)| {
                        let wire = v.get("const").and_then(Value::as_str)?;
                        if !seen.insert(wire) {
                            return None;
                        }
                        let mut v = (*v).clone();
                        v["const"] = placeholder(wire).into();
                        Some((p.clone(), v))
                    })
                    .collect();
                renamed.iter().map(|(p, v)| (p.clone(), v)).collect()
            }
            _ => flat,
        };
        let mut out = Vec::new();
        let mut used_words = HashSet::new();
        for (i, (p, v)) in flat.iter().enumerate() {
            let mut word = variant_word(v).unwrap_or_else(|| format!("Variant{i}"));
            if !used_words.insert(type_name(&[&word])) {
                word = format!("{word} Variant{i}");
            }
            let mut ct = self.child(&t, &word);
            ct.inline = true;
            out.push(self.norm(v, p, ct)?);
        }
        let mut u = Map::new();
        if let Some(d) = desc {
            u.insert("description".into(), d.into());
        }
        let nullable = out.len() == 2 && out.iter().any(|v| *v == json!({"type": "null"}));
        u.insert("anyOf".into(), Value::Array(out));
        if nullable && (t.claimed.is_none() || t.root) {
            // `T | null` is `Option<T>`, not a type of its own (a payload too).
            return Ok(Value::Object(u));
        }
        Ok(self.named(u, &t, false))
    }

    /// `type: [..]`: a union of the node with each type. JSON Schema's `type` array is a
    /// set, so a repeated entry adds nothing (each copy used to multiply typify's work,
    /// exponentially, when the union sat inside other unions and intersections).
    pub(super) fn type_union(
        &mut self,
        m: &Map<String, Value>,
        types: &[Value],
        path: &str,
        t: Title,
        desc: Option<&str>,
    ) -> Result<Value, Diagnostic> {
        let mut unique: Vec<&Value> = Vec::new();
        for ty in types {
            if !unique.contains(&ty) {
                unique.push(ty);
            }
        }
        let with_type = |ty: &Value| {
            let mut v = m.clone();
            v.insert("type".into(), ty.clone());
            Value::Object(v)
        };
        if let [only] = unique.as_slice() {
            return self.norm(&with_type(only), path, t);
        }
        let mut u = Map::new();
        u.insert(
            "anyOf".into(),
            Value::Array(unique.into_iter().map(with_type).collect()),
        );
        if let Some(d) = desc {
            u.insert("description".into(), d.into());
        }
        self.norm(&Value::Object(u), path, t)
    }

    pub(super) fn intersection(
        &mut self,
        parts: &[Value],
        path: &str,
        t: Title,
        desc: Option<&str>,
    ) -> Result<Value, Diagnostic> {
        if parts.is_empty() {
            return Ok(ref_to(VALUE_DEF));
        }
        if parts.len() == 1 {
            return self.norm(&parts[0], &join(path, "0"), t);
        }
        let mut out = Vec::new();
        for (i, p) in parts.iter().enumerate() {
            let mut ct = self.child(&t, &format!("Part{i}"));
            ct.inline = true;
            out.push(self.norm(p, &join(path, &i.to_string()), ct)?);
        }
        let mut u = Map::new();
        if let Some(d) = desc {
            u.insert("description".into(), d.into());
        }
        u.insert("allOf".into(), Value::Array(out));
        Ok(self.named(u, &t, false))
    }

    pub(super) fn enumeration(
        &mut self,
        values: &[Value],
        path: &str,
        t: Title,
        desc: Option<&str>,
    ) -> Result<Value, Diagnostic> {
        if values.is_empty() {
            return Ok(self.never(&t, desc));
        }
        if values.iter().all(Value::is_string) {
            let mut seen = HashSet::new();
            let values: Vec<Value> = values
                .iter()
                .filter(|v| seen.insert(v.as_str().unwrap_or_default().to_string()))
                .cloned()
                .collect();
            // typify would panic naming the variants: every value stands in for itself
            // as a placeholder that typify names apart; the tidy pass restores them.
            let values = if typify_can_name_variants(&values) {
                values
            } else {
                values
                    .iter()
                    .map(|v| placeholder(v.as_str().unwrap_or_default()).into())
                    .collect()
            };
            let mut m = Map::new();
            m.insert("type".into(), "string".into());
            m.insert("enum".into(), Value::Array(values));
            if let Some(d) = desc {
                m.insert("description".into(), d.into());
            }
            return Ok(self.named(m, &t, false));
        }
        // Mixed or non-string values: a union of literals.
        let members: Vec<Value> = values.iter().map(|v| json!({ "const": v })).collect();
        let mut u = Map::new();
        u.insert("anyOf".into(), Value::Array(members));
        if let Some(d) = desc {
            u.insert("description".into(), d.into());
        }
        self.norm(&Value::Object(u), path, t)
    }
}

/// An intersection of plain objects as one object (`Type.Intersect` of `Type.Object`s):
/// every part's properties and required keys, closed when the intersection is.
/// `None` when a part is anything else or two parts give one property different schemas.
pub(super) fn merge_objects(m: &Map<String, Value>, parts: &[Value]) -> Option<Map<String, Value>> {
    const PLAIN: &[&str] = &[
        "type",
        "properties",
        "required",
        "description",
        "title",
        "additionalProperties",
    ];
    let mut props = Map::new();
    let mut required: Vec<Value> = Vec::new();
    let own = m.get("properties").map(|_| m);
    for part in parts.iter().filter_map(Value::as_object).chain(own) {
        let plain_part = std::ptr::eq(part, m) || part.keys().all(|k| PLAIN.contains(&k.as_str()));
        let is_object = part.get("type").is_none_or(|t| t == "object")
            && part.get("properties").is_some_and(Value::is_object)
            && !matches!(part.get("additionalProperties"), Some(Value::Object(_)));
        if !plain_part || !is_object {
            return None;
        }
        for (k, v) in part.get("properties")?.as_object()? {
            match props.get(k) {
                Some(existing) if existing != v => return None,
                Some(_) => {}
                None => {
                    props.insert(k.clone(), v.clone());
                }
            }
        }
        for r in part
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if !required.contains(r) {
                required.push(r.clone());
            }
        }
    }
    if parts.len() != parts.iter().filter(|p| p.is_object()).count() {
        return None;
    }
    let mut out = Map::new();
    out.insert("type".into(), "object".into());
    if let Some(d) = m.get("description") {
        out.insert("description".into(), d.clone());
    }
    out.insert("properties".into(), Value::Object(props));
    out.insert("required".into(), Value::Array(required));
    let closed = m.get("unevaluatedProperties") == Some(&Value::Bool(false))
        || m.get("additionalProperties") == Some(&Value::Bool(false));
    if closed {
        out.insert("additionalProperties".into(), Value::Bool(false));
    }
    Some(out)
}

fn flatten_union<'v>(members: &'v [Value], path: &str, out: &mut Vec<(String, &'v Value)>) {
    for (i, v) in members.iter().enumerate() {
        let p = join(path, &i.to_string());
        match v.as_object() {
            Some(o) if o.len() == 1 && (o.contains_key("anyOf") || o.contains_key("oneOf")) => {
                if let Some(Value::Array(inner)) = o.get("anyOf").or_else(|| o.get("oneOf")) {
                    let key = if o.contains_key("anyOf") {
                        "anyOf"
                    } else {
                        "oneOf"
                    };
                    flatten_union(inner, &join(&p, key), out);
                }
            }
            _ => out.push((p, v)),
        }
    }
}
