//! Rust names from schema names: sanitized, cased with heck, keyword-safe.

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
