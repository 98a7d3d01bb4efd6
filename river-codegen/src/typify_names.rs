//! The names typify 0.8 gives (fields, enum variants), and placeholders for enum values
//! it cannot name apart: the normalizer writes them, `tidy.rs` turns them back into the
//! wire values.

use std::collections::HashSet;

use heck::{ToSnakeCase, ToUpperCamelCase};
use serde_json::Value;

/// The Rust field name typify 0.8 derives from a property name (its `sanitize` in snake
/// case): `"data-3"` → `data_3`, `"type"` → `type_`, `"0abc"` → `x0abc`.
pub fn field_name(prop: &str) -> String {
    let out = match prop {
        "+1" => "plus1".to_string(),
        "-1" => "minus1".to_string(),
        _ => prop
            .replace('\'', "")
            .replace(|c: char| !unicode_ident::is_xid_continue(c), "-")
            .to_snake_case(),
    };
    let out = match out.chars().next() {
        None => "x".to_string(),
        Some(c) if unicode_ident::is_xid_start(c) => out,
        Some(_) => format!("x{out}"),
    };
    if crate::names::is_keyword(&out) || out == "_" {
        format!("{out}_")
    } else {
        out
    }
}

/// Starts every [`placeholder`]: a NUL, which typify drops from names, and a marker.
pub(crate) const PLACEHOLDER_PREFIX: &str = "\u{0}river-codegen-value-";

/// The string that stands in for the string literal `wire` in an `enum` or a union of
/// `const`s whose values typify 0.8 cannot name apart (it would panic): the marker and
/// the hex digits of `wire`'s UTF-8 bytes, so distinct values give distinct placeholders
/// and typify distinct variant names. The tidy pass turns every placeholder back into
/// its value ([`placeholder_value`]) and names the variants itself.
pub(crate) fn placeholder(wire: &str) -> String {
    let mut out = String::with_capacity(PLACEHOLDER_PREFIX.len() + 2 * wire.len());
    out.push_str(PLACEHOLDER_PREFIX);
    for b in wire.bytes() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// The value a [`placeholder`] stands for; `None` for any other string.
pub(crate) fn placeholder_value(s: &str) -> Option<String> {
    let hex = s.strip_prefix(PLACEHOLDER_PREFIX)?.as_bytes();
    let digit = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    };
    if hex.len() % 2 != 0 {
        return None;
    }
    let bytes = hex
        .chunks(2)
        .map(|pair| Some((digit(pair[0])? << 4) | digit(pair[1])?))
        .collect::<Option<Vec<u8>>>()?;
    String::from_utf8(bytes).ok()
}

/// The variant identifier typify 0.8 gives the string literal `raw` when the names of
/// its enum's literals are distinct (its `sanitize` in Pascal case): `"a-b"` → `AB`,
/// `"*/"` → `X`, `"self"` → `Self_`.
pub(crate) fn typify_variant_ident(raw: &str) -> String {
    let out = typify_variant_name(raw);
    if out == "_" || crate::names::is_keyword(&out) {
        format!("{out}_")
    } else {
        out
    }
}

/// The variant name typify 0.8 derives from a string literal (its `sanitize` in Pascal
/// case, without the keyword suffix, which cannot make two names equal).
pub(crate) fn typify_variant_name(raw: &str) -> String {
    let out = match raw {
        "+1" => "plus1".to_string(),
        "-1" => "minus1".to_string(),
        _ => raw
            .replace('\'', "")
            .replace(|c: char| !unicode_ident::is_xid_continue(c), "-")
            .to_upper_camel_case(),
    };
    match out.chars().next() {
        None => "X".to_string(),
        Some(c) if unicode_ident::is_xid_start(c) => out,
        Some(_) => format!("X{out}"),
    }
}

/// Whether typify 0.8 can give these literals distinct variant names: it panics when
/// neither the plain sanitized names nor those with `_` and non-identifier characters
/// turned into `X` are unique. Non-string literals are left to typify.
pub(crate) fn typify_can_name_variants<V: std::borrow::Borrow<Value>>(values: &[V]) -> bool {
    let Some(strings) = values
        .iter()
        .map(|v| v.borrow().as_str())
        .collect::<Option<Vec<&str>>>()
    else {
        return true;
    };
    let unique = |f: &dyn Fn(&str) -> String| {
        let mut seen = HashSet::new();
        strings.iter().all(|s| seen.insert(f(s)))
    };
    unique(&|s| typify_variant_name(s))
        || unique(&|s| {
            typify_variant_name(&s.replace(
                |c: char| c == '_' || !unicode_ident::is_xid_continue(c),
                "X",
            ))
        })
}

/// The word naming a union member: its own literal, or the literal of its first
/// discriminating property (`kind`, `type`, `code`, … with a string `const`).
pub(crate) fn variant_word(v: &Value) -> Option<String> {
    if let Some(Value::String(c)) = v.get("const") {
        return Some(c.clone());
    }
    let props = v.get("properties")?.as_object()?;
    let preferred = ["kind", "type", "code", "$kind", "tag"];
    let lit = |p: &Value| match p.get("const") {
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    for key in preferred {
        if let Some(s) = props.get(key).and_then(lit) {
            return Some(s);
        }
    }
    props.values().find_map(lit)
}
