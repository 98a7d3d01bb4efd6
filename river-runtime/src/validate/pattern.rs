//! ECMAScript regular expressions (as JSON Schema's `pattern` and TypeBox use them:
//! `new RegExp(source).test(value)`, unanchored, no flags) on the `regex` crate.
//!
//! The translation keeps JavaScript's meaning where the two differ: `\d`, `\w` and
//! `\b` are ASCII-only in JavaScript, `.` does not match `\r`, `\u2028` or `\u2029`,
//! a `\u` escape with four hex digits is a code unit and `[^]` matches anything. What the `regex` crate
//! cannot express (lookaround, backreferences) is an error naming the construct, so a
//! schema that uses it fails when it is compiled, not when a request arrives.

use std::fmt;

/// A compiled pattern and its source.
#[derive(Clone)]
pub struct Pattern {
    source: String,
    regex: regex::Regex,
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pattern({:?})", self.source)
    }
}

impl Pattern {
    /// The ECMAScript source.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the pattern matches somewhere in `text` (JavaScript's `RegExp.test`).
    pub fn is_match(&self, text: &str) -> bool {
        self.regex.is_match(text)
    }
}

/// Compiles an ECMAScript pattern; the error says what is not supported.
pub fn compile(source: &str) -> Result<Pattern, String> {
    let translated = translate(source)?;
    let regex = regex::RegexBuilder::new(&translated)
        .size_limit(1 << 22)
        .build()
        .map_err(|e| {
            format!("the pattern `{source}` is not a regular expression this runtime supports: {e}")
        })?;
    Ok(Pattern {
        source: source.to_string(),
        regex,
    })
}

/// Rewrites ECMAScript syntax into `regex` crate syntax.
pub fn translate(source: &str) -> Result<String, String> {
    let unsupported = |what: &str| {
        Err(format!(
            "the pattern `{source}` uses {what}, which this runtime cannot evaluate (the \
             `regex` crate has no lookaround or backreferences); rewrite the pattern"
        ))
    };
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len() + 16);
    let mut in_class = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                let Some(&next) = chars.get(i + 1) else {
                    return Err(format!("the pattern `{source}` ends with a lone `\\`"));
                };
                i += 2;
                match next {
                    // JavaScript's \s also has U+FEFF, which Unicode's White_Space lacks.
                    's' if in_class => out.push_str("\\s\\x{FEFF}"),
                    's' => out.push_str("[\\s\\x{FEFF}]"),
                    'S' if !in_class => out.push_str("[^\\s\\x{FEFF}]"),
                    'd' => out.push_str("[0-9]"),
                    'D' => out.push_str("[^0-9]"),
                    'w' => out.push_str("[0-9A-Za-z_]"),
                    'W' => out.push_str("[^0-9A-Za-z_]"),
                    'b' if in_class => out.push_str("\\x08"),
                    'b' => out.push_str("(?-u:\\b)"),
                    'B' => out.push_str("(?-u:\\B)"),
                    '1'..='9' if !in_class => return unsupported("a backreference"),
                    'k' if chars.get(i) == Some(&'<') => {
                        return unsupported("a named backreference")
                    }
                    'u' => {
                        let hex: String = chars.iter().skip(i).take(4).collect();
                        if hex.len() == 4 && hex.chars().all(|h| h.is_ascii_hexdigit()) {
                            out.push_str(&format!("\\x{{{hex}}}"));
                            i += 4;
                        } else {
                            out.push('u');
                        }
                    }
                    'c' => match chars.get(i) {
                        Some(l) if l.is_ascii_alphabetic() => {
                            out.push_str(&format!("\\x{{{:x}}}", (*l as u32) % 32));
                            i += 1;
                        }
                        _ => out.push_str("\\\\c"),
                    },
                    '0' => out.push_str("\\x00"),
                    c if c.is_ascii_alphanumeric() => {
                        // \s \S \n \r \t \v \f \x.. keep their meaning.
                        if c == 'v' {
                            out.push_str("\\x0B");
                        } else {
                            out.push('\\');
                            out.push(c);
                        }
                    }
                    c => {
                        // An escaped symbol is that symbol.
                        if needs_escape(c) {
                            out.push('\\');
                        }
                        out.push(c);
                    }
                }
                continue;
            }
            '[' if !in_class => {
                if chars.get(i + 1) == Some(&'^') && chars.get(i + 2) == Some(&']') {
                    out.push_str("(?s:.)");
                    i += 3;
                    continue;
                }
                if chars.get(i + 1) == Some(&']') {
                    // `[]` matches nothing.
                    out.push_str("[^\\x00-\\x{10FFFF}]");
                    i += 2;
                    continue;
                }
                in_class = true;
                out.push('[');
                if chars.get(i + 1) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                i += 1;
                continue;
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '[' if in_class => out.push_str("\\["),
            '&' | '~' | '-' if in_class => {
                // `&&`, `~~` and `--` are set operators in `regex`; escape the pair.
                if c != '-' && chars.get(i + 1) == Some(&c) {
                    out.push('\\');
                }
                out.push(c);
            }
            '(' if !in_class && chars.get(i + 1) == Some(&'?') => {
                match (chars.get(i + 2), chars.get(i + 3)) {
                    (Some('='), _) | (Some('!'), _) => return unsupported("a lookahead"),
                    (Some('<'), Some('=')) | (Some('<'), Some('!')) => {
                        return unsupported("a lookbehind")
                    }
                    _ => out.push('('),
                }
            }
            '.' if !in_class => out.push_str("[^\\n\\r\\x{2028}\\x{2029}]"),
            c => out.push(c),
        }
        i += 1;
    }
    Ok(out)
}

/// Characters the `regex` crate needs escaped to be literal.
fn needs_escape(c: char) -> bool {
    matches!(
        c,
        '\\' | '.'
            | '+'
            | '*'
            | '?'
            | '('
            | ')'
            | '|'
            | '['
            | ']'
            | '{'
            | '}'
            | '^'
            | '$'
            | '#'
            | '&'
            | '-'
            | '~'
            | '/'
    )
}
