//! Rust names from schema names: sanitized, cased with heck, keyword-safe; the
//! registry of type names (unique after typify's casing) and the synthetic definitions'
//! names.

use std::collections::BTreeSet;

use heck::{ToSnakeCase, ToUpperCamelCase};

/// Rust keywords (strict and reserved, 2021 edition) that cannot be used as identifiers.
const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// Whether `s` is a Rust keyword.
pub fn is_keyword(s: &str) -> bool {
    KEYWORDS.contains(&s)
}

/// Replaces every character that cannot appear in an identifier with a word break.
fn words(raw: &str) -> String {
    raw.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
        .collect()
}

fn finish(mut s: String, empty: &str) -> String {
    if s.is_empty() {
        s = empty.to_string();
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    if is_keyword(&s) {
        s.push('_');
    }
    s
}

/// `snake_case`, sanitized and keyword-safe: `"stream-method"` → `stream_method`,
/// `"type"` → `type_`, `"2fa"` → `_2fa`, `""` → `x`.
pub fn to_snake_ident(raw: &str) -> String {
    finish(words(raw).to_snake_case(), "x")
}

/// `UpperCamelCase`, sanitized and keyword-safe: `"test_service"` → `TestService`,
/// `"self"` → `Self_`.
pub fn to_pascal_ident(raw: &str) -> String {
    finish(words(raw).to_upper_camel_case(), "X")
}

/// Makes `name` unique among `taken` by appending `_2`, `_3`, … (`2`, `3`, … after a
/// trailing `_`, so `self_` gives `self_2`, not the non-snake-case `self__2`) and
/// records it.
pub fn unique(name: String, taken: &mut std::collections::BTreeSet<String>) -> String {
    if taken.insert(name.clone()) {
        return name;
    }
    let sep = if name.ends_with('_') { "" } else { "_" };
    let mut n = 2;
    loop {
        let candidate = format!("{name}{sep}{n}");
        if taken.insert(candidate.clone()) {
            return candidate;
        }
        n += 1;
    }
}

// Type names: the names typify will print, unique across a generated file.

/// Synthetic definition replaced by `::river_runtime::Bytes` (`Uint8Array`).
pub const BYTES_DEF: &str = "RiverRuntimeBytes";
/// Synthetic definition replaced by `::river_runtime::Date` (`Date`).
pub const DATE_DEF: &str = "RiverRuntimeDate";
/// Synthetic definition replaced by `::river_runtime::BigInt` (`bigint`).
pub const BIGINT_DEF: &str = "RiverRuntimeBigInt";
/// Synthetic definition replaced by `::river_runtime::Value` (`Unknown`/`Any`).
pub const VALUE_DEF: &str = "RiverRuntimeValue";

/// The synthetic definitions and the runtime types that replace them.
pub const SYNTHETIC_DEFS: [(&str, &str); 4] = [
    (BYTES_DEF, "::river_runtime::Bytes"),
    (DATE_DEF, "::river_runtime::Date"),
    (BIGINT_DEF, "::river_runtime::BigInt"),
    (VALUE_DEF, "::river_runtime::Value"),
];

/// The set of Rust type names in use, so that every generated name is unique after
/// typify's casing.
#[derive(Clone, Debug)]
pub struct NameRegistry {
    taken: BTreeSet<String>,
}

impl Default for NameRegistry {
    fn default() -> Self {
        Self::new()
    }
}

impl NameRegistry {
    /// A registry with the synthetic definitions and `Self` already taken.
    pub fn new() -> Self {
        let mut taken: BTreeSet<String> =
            SYNTHETIC_DEFS.iter().map(|(n, _)| n.to_string()).collect();
        taken.insert("Self".to_string());
        NameRegistry { taken }
    }

    /// Claims `base` (a name made by [`type_name`]), or `base2`, `base3`, … if taken.
    pub fn claim(&mut self, base: &str) -> String {
        let base = canonical(base);
        if self.taken.insert(base.clone()) {
            return base;
        }
        let mut n = 2u32;
        loop {
            let candidate = format!("{base}{n}");
            if self.taken.insert(candidate.clone()) {
                return candidate;
            }
            n += 1;
        }
    }

    /// Whether `name` is taken.
    pub fn is_taken(&self, name: &str) -> bool {
        self.taken.contains(name)
    }
}

/// Makes `s` a fixed point of typify's type-name sanitizer (heck `PascalCase`, an `X`
/// prefix when it does not start with a letter).
fn canonical(s: &str) -> String {
    let mut out = s.to_upper_camel_case();
    for _ in 0..4 {
        if !out.starts_with(|c: char| c.is_ascii_alphabetic()) {
            out.insert(0, 'X');
        }
        let again = out.to_upper_camel_case();
        if again == out {
            break;
        }
        out = again;
    }
    out
}

/// An `UpperCamelCase` type name from schema words: `type_name(&["test", "add", "Init"])`
/// is `TestAddInit`; non-alphanumeric characters separate words (`"first.inner"` gives
/// `FirstInner`); a leading digit gets an `X` prefix, as typify does.
pub fn type_name(parts: &[&str]) -> String {
    let joined = parts
        .iter()
        .map(|p| {
            p.chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join(" ");
    let out = canonical(&joined);
    if out.is_empty() {
        "X".to_string()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitizes_and_avoids_keywords() {
        assert_eq!(to_snake_ident("streamMethod"), "stream_method");
        assert_eq!(to_snake_ident("type"), "type_");
        assert_eq!(to_snake_ident("2fa"), "_2fa");
        assert_eq!(to_snake_ident("a.b-c:d"), "a_b_c_d");
        assert_eq!(to_snake_ident(""), "x");
        assert_eq!(to_pascal_ident("test_service"), "TestService");
        assert_eq!(to_pascal_ident("self"), "Self_");
        let mut taken = Default::default();
        assert_eq!(unique("a".into(), &mut taken), "a");
        assert_eq!(unique("a".into(), &mut taken), "a_2");
    }
}
