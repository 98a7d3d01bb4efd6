//! Errors reported by the code generator: every failure names the place in the schema.

use std::fmt;

/// A code generation failure, tied to a place in the schema.
///
/// `path` is a dotted path from the schema root, for example
/// `services.foo.procedures.bar.init.properties.x`; it is empty for the document itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where in the schema the problem is, for example
    /// `services.foo.procedures.bar.init.properties.x`.
    pub path: String,
    /// What is wrong there.
    pub message: String,
}

impl Diagnostic {
    /// A diagnostic at `path` with `message`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "<schema root>: {}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for Diagnostic {}

/// Appends a segment to a dotted schema path (`join("a.b", "c")` is `"a.b.c"`).
pub fn join(path: &str, segment: &str) -> String {
    if path.is_empty() {
        segment.to_string()
    } else {
        format!("{path}.{segment}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_path_and_message() {
        let d = Diagnostic::new("services.a.procedures.b.type", "unknown procedure type `x`");
        assert_eq!(
            d.to_string(),
            "services.a.procedures.b.type: unknown procedure type `x`"
        );
        assert_eq!(Diagnostic::new("", "bad").to_string(), "<schema root>: bad");
        assert_eq!(join("", "a"), "a");
        assert_eq!(join("a", "b"), "a.b");
    }
}
