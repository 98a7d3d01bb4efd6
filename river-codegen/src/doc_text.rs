//! Schema text (descriptions) made safe for rustdoc, so that generated crates pass
//! `cargo doc` with `-D warnings` and `cargo test --doc`: a description is prose, not
//! markdown that rustdoc may turn into broken links, HTML or doctests.

use serde_json::Value;

use crate::schema::Schema;

/// Rewrites every description of `schema` (procedures and every `description` string
/// inside payload, error and handshake schemas) with [`rustdoc_safe`].
pub(crate) fn make_descriptions_doc_safe(schema: &mut Schema) {
    for service in schema.services.values_mut() {
        for procedure in service.procedures.values_mut() {
            if let Some(d) = &mut procedure.description {
                *d = rustdoc_safe(d);
            }
            walk(&mut procedure.init);
            walk(&mut procedure.output);
            if let Some(v) = &mut procedure.input {
                walk(v);
            }
            if let Some(v) = &mut procedure.errors {
                walk(v);
            }
        }
    }
    if let Some(v) = &mut schema.handshake_schema {
        walk(v);
    }
}

fn walk(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match v {
                    Value::String(s) if key == "description" => *s = rustdoc_safe(s),
                    _ => walk(v),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(walk),
        _ => {}
    }
}

/// Makes description text inert for rustdoc while keeping it readable:
///
/// - leading indentation is dropped (an indented block would be a doctest);
/// - fenced blocks become ```` ```text ```` blocks (not doctests), closed if left open;
/// - outside code, `[`, `]` and `<` are escaped (no intra-doc links, no HTML tags);
/// - bare `http(s)://` URLs are wrapped in `<…>` (rustdoc's `bare_urls`).
pub fn rustdoc_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut fence: Option<&str> = None;
    for (i, line) in text.lines().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let line = line.trim();
        let marker = ["```", "~~~"].into_iter().find(|m| line.starts_with(m));
        match (fence, marker) {
            (None, Some(m)) => {
                fence = Some(m);
                out.push_str(m);
                out.push_str("text");
            }
            (Some(open), Some(m)) if m == open => {
                fence = None;
                out.push_str(m);
            }
            (Some(_), _) => out.push_str(line),
            (None, None) => escape_prose(line, &mut out),
        }
    }
    if let Some(open) = fence {
        out.push('\n');
        out.push_str(open);
    }
    out
}

/// `text` as an inline code span that rustdoc shows as it is: `` `text` `` when that is
/// one plain span, else the JSON string form of `text` (quoted, control characters and
/// line breaks escaped, so a value cannot end the span or start a block) between more
/// backticks than it contains in a row (`` `"a`b"` `` is ``` ``"a`b"`` ```).
pub(crate) fn code_span(text: &str) -> String {
    let plain = !text.is_empty()
        && !text.contains('`')
        && !text.starts_with(' ')
        && !text.ends_with(' ')
        && !text.chars().any(char::is_control);
    if plain {
        return format!("`{text}`");
    }
    let quoted = Value::String(text.to_string()).to_string();
    let mut longest = 0;
    let mut run = 0;
    for c in quoted.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    format!("{fence}{quoted}{fence}")
}

/// Escapes one line of prose; text between backticks is left alone.
fn escape_prose(line: &str, out: &mut String) {
    let mut in_code = false;
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        if c == '`' {
            in_code = !in_code;
        } else if !in_code {
            if let Some(len) = url_len(rest) {
                out.push('<');
                out.push_str(&rest[..len]);
                out.push('>');
                rest = &rest[len..];
                continue;
            }
            if matches!(c, '[' | ']' | '<') {
                out.push('\\');
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
}

/// The length of a URL starting at the beginning of `text`, if one does.
fn url_len(text: &str) -> Option<usize> {
    if !(text.starts_with("http://") || text.starts_with("https://")) {
        return None;
    }
    let len = text
        .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '`'))
        .unwrap_or(text.len());
    // Trailing punctuation belongs to the sentence.
    let url = text[..len].trim_end_matches(['.', ',', ';', ':', ')', '!', '?', '\'']);
    Some(url.len())
}

#[cfg(test)]
mod tests {
    use super::{code_span, rustdoc_safe};

    #[test]
    fn code_spans_hold_any_value() {
        assert_eq!(code_span("a-b"), "`a-b`");
        assert_eq!(code_span("[x](y) <T>"), "`[x](y) <T>`");
        assert_eq!(code_span(""), "`\"\"`");
        assert_eq!(code_span(" a"), "`\" a\"`");
        assert_eq!(code_span("a`b"), "``\"a`b\"``");
        assert_eq!(code_span("``"), "```\"``\"```");
        assert_eq!(code_span("a\n# b"), "`\"a\\n# b\"`");
        assert_eq!(code_span("\u{0}"), "`\"\\u0000\"`");
    }

    #[test]
    fn prose_is_escaped_and_code_is_fenced() {
        assert_eq!(rustdoc_safe("see [x] and <T>"), "see \\[x\\] and \\<T>");
        assert_eq!(rustdoc_safe("`a[0]` [b]"), "`a[0]` \\[b\\]");
        assert_eq!(
            rustdoc_safe("docs: https://example.com/a."),
            "docs: <https://example.com/a>."
        );
        assert_eq!(rustdoc_safe("    let x = 1;"), "let x = 1;");
        assert_eq!(rustdoc_safe("```\nfoo()\n```"), "```text\nfoo()\n```");
        assert_eq!(rustdoc_safe("```js\n[1]"), "```text\n[1]\n```");
    }
}
