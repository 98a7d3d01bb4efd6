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
        // `A & A` is `A`: repeated parts are dropped, the first of each kept (with its
        // index, so diagnostics still point at the schema as written).
        let mut unique: Vec<(usize, &Value)> = Vec::new();
        for (i, p) in parts.iter().enumerate() {
            if !unique.iter().any(|(_, seen)| *seen == p) {
                unique.push((i, p));
            }
        }
        if let [(i, only)] = unique.as_slice() {
            return self.norm(only, &join(path, &i.to_string()), t);
        }
        if let Some(alternatives) = distribute(unique.iter().map(|(_, p)| *p)) {
            return match alternatives {
                Distributed::Union(members) => {
                    let mut u = Map::new();
                    if let Some(d) = desc {
                        u.insert("description".into(), d.into());
                    }
                    u.insert("anyOf".into(), Value::Array(members));
                    self.norm(&Value::Object(u), path, t)
                }
                Distributed::TooMany(n) => {
                    let why = format!(
                        "Untyped: this intersection of unions has {n} alternatives, more than \
                         the {MAX_ALTERNATIVES} the generator writes out."
                    );
                    let d = match desc {
                        Some(d) => format!("{d}\n\n{why}"),
                        None => why,
                    };
                    let mut any = ref_to(VALUE_DEF);
                    any["description"] = d.into();
                    Ok(any)
                }
            };
        }
        let mut out = Vec::new();
        for (i, p) in unique {
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
        // Mixed or non-string values: a union of literals, each value once.
        let mut members: Vec<Value> = Vec::new();
        for v in values {
            let member = json!({ "const": v });
            if !members.contains(&member) {
                members.push(member);
            }
        }
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
            // `A | A` is `A`: a repeated member adds nothing but typify's work, which
            // multiplies with every copy when the union sits inside an intersection.
            _ if out.iter().any(|(_, seen)| *seen == v) => {}
            _ => out.push((p, v)),
        }
    }
}

/// The most alternatives an intersection of unions is written out as: each one is a type
/// of its own in the generated code. Beyond it the intersection is an untyped value
/// (lossless on the wire, documented as such).
pub(super) const MAX_ALTERNATIVES: usize = 64;

/// An intersection with union parts, distributed: `(A | B) & C` as `(A & C) | (B & C)`.
pub(super) enum Distributed {
    /// One intersection per combination of the unions' members, the other parts in each.
    Union(Vec<Value>),
    /// More combinations than [`MAX_ALTERNATIVES`].
    TooMany(u128),
}

/// Distributes an intersection over the unions among its parts, or `None` when no part
/// is a union. typify 0.8 does this itself, but its work grows faster than exponentially
/// with the unions' sizes (two unions of six open objects take 14 s; four unions of two
/// exhaust memory), so the normalizer hands it a union of plain intersections instead,
/// which the object merge usually turns into plain objects.
pub(super) fn distribute<'v>(parts: impl Iterator<Item = &'v Value>) -> Option<Distributed> {
    let mut plain: Vec<&Value> = Vec::new();
    let mut unions: Vec<Vec<&Value>> = Vec::new();
    let mut stack: Vec<&Value> = parts.collect();
    stack.reverse();
    while let Some(part) = stack.pop() {
        // A nested bare intersection is the same intersection.
        if let Some(Value::Array(inner)) = bare(part, "allOf") {
            stack.extend(inner.iter().rev());
            continue;
        }
        match bare(part, "anyOf").or_else(|| bare(part, "oneOf")) {
            Some(Value::Array(members)) => {
                let mut flat = Vec::new();
                flatten_union(members, "", &mut flat);
                unions.push(flat.into_iter().map(|(_, v)| v).collect());
            }
            _ => {
                if !plain.contains(&part) {
                    plain.push(part);
                }
            }
        }
    }
    if unions.is_empty() {
        return None;
    }
    let total = unions
        .iter()
        .fold(1u128, |n, u| n.saturating_mul(u.len() as u128));
    if total > MAX_ALTERNATIVES as u128 {
        return Some(Distributed::TooMany(total));
    }
    let mut combos: Vec<Vec<&Value>> = vec![plain];
    for members in &unions {
        combos = combos
            .iter()
            .flat_map(|combo| {
                members.iter().map(move |m| {
                    let mut c = combo.clone();
                    if !c.contains(m) {
                        c.push(m);
                    }
                    c
                })
            })
            .collect();
    }
    let members = combos
        .into_iter()
        .map(|parts| match parts.as_slice() {
            [only] => (*only).clone(),
            _ => json!({ "allOf": parts }),
        })
        .collect();
    Some(Distributed::Union(members))
}

/// `key`'s value when it is the node's only key but for a description or title.
fn bare<'v>(node: &'v Value, key: &str) -> Option<&'v Value> {
    let o = node.as_object()?;
    let only = o
        .keys()
        .all(|k| k == key || k == "description" || k == "title");
    if only {
        o.get(key)
    } else {
        None
    }
}
