//! Payload validation with TypeBox's semantics: what the reference server's
//! `Value.Check(schema, payload)` accepts, this accepts.
//!
//! A [`Validator`] is compiled once from a payload's JSON Schema (as River's
//! `serializeSchema` writes it, TypeBox's non-standard `Uint8Array`, `Date`, `bigint`
//! and `void` types included) and checks decoded [`Value`]s:
//!
//! - strings: `minLength`/`maxLength` in UTF-16 code units (as JavaScript counts),
//!   `pattern` (ECMAScript syntax, see [`pattern`]), `format`;
//! - numbers: `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`,
//!   `multipleOf`; `integer` means integral;
//! - arrays: `items` (or tuples), `minItems`, `maxItems`, `uniqueItems` (deep equality);
//! - objects: `properties`, `required`, `additionalProperties`, `patternProperties`
//!   (TypeBox records), `minProperties`, `maxProperties`. An optional property that is
//!   present must match its schema: `null` is not "absent";
//! - `const`, `enum`, `anyOf`, `oneOf`, `allOf`, `not`, `$ref`/`$id` (recursive types);
//! - `Uint8Array` byte lengths, `Date` timestamp bounds.
//!
//! Errors come as [`ValidationErrors`]: the total count and the first
//! [`MAX_REPORTED`] as JSON-pointer paths with messages, the shape of River's
//! `INVALID_REQUEST` extras.

mod check;
mod compile;
mod document;
mod format;
pub mod pattern;
mod stream;

pub(crate) use self::document::{parse as parse_document, service_validators};
pub use self::document::{ProcedureValidators, SchemaValidators};

use std::fmt;
use std::sync::Arc;

use crate::codec::Codec;
use crate::message::Payload;
use crate::value::Value;

use self::compile::Node;

/// How many errors [`ValidationErrors::first`] keeps (River sends the first 5).
pub const MAX_REPORTED: usize = 5;

/// A compiled payload schema. Cheap to clone.
#[derive(Clone)]
pub struct Validator {
    nodes: Arc<[Node]>,
}

impl fmt::Debug for Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Validator")
            .field("nodes", &self.nodes.len())
            .finish()
    }
}

/// A schema this module cannot compile, with the place in the schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaError {
    /// A JSON pointer into the schema, e.g. `/properties/name/pattern`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for SchemaError {}

/// One reason a value does not match, as River reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidationIssue {
    /// A JSON pointer to the offending value (`~` as `~0`, `/` as `~1`); for a missing or
    /// extra property, the property's own path.
    pub path: String,
    /// What is wrong, e.g. `must be string`.
    pub message: String,
}

/// Why a value does not match: how many problems, and the first few.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidationErrors {
    /// Every problem found.
    pub total: usize,
    /// The first [`MAX_REPORTED`] problems.
    pub first: Vec<ValidationIssue>,
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, issue) in self.first.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            let path = if issue.path.is_empty() {
                "/"
            } else {
                &issue.path
            };
            write!(f, "{path}: {}", issue.message)?;
        }
        if self.total > self.first.len() {
            write!(f, " (and {} more)", self.total - self.first.len())?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

impl Validator {
    /// Compiles a payload schema.
    pub fn compile(schema: &serde_json::Value) -> Result<Validator, SchemaError> {
        Ok(Validator {
            nodes: compile::compile(schema)?.into(),
        })
    }

    /// A validator that accepts everything (`{}`).
    pub fn any() -> Validator {
        Validator {
            nodes: vec![Node::default()].into(),
        }
    }

    /// Whether `value` matches. Faster than [`Validator::validate`]: it stops at the
    /// first problem.
    pub fn is_valid(&self, value: &Value) -> bool {
        check::Checker::new(&self.nodes, false).run(value).is_ok()
    }

    /// Whether an encoded payload matches, decided while parsing it (no [`Value`] is
    /// built for what the walker understands): `None` when it cannot decide, for
    /// example for the JSON codec's `Uint8Array` objects; decode and use
    /// [`Validator::validate`] then. A `Some(false)` also calls for `validate` to
    /// learn why.
    pub fn check_encoded(&self, codec: Codec, payload: &Payload) -> Option<bool> {
        let bytes = payload.as_bytes();
        let walk = match codec {
            Codec::Json => {
                let mut de = serde_json::Deserializer::from_slice(bytes);
                match stream::walk(&self.nodes, &mut de) {
                    stream::Walk::Valid if de.end().is_err() => stream::Walk::GiveUp,
                    w => w,
                }
            }
            Codec::Msgpack => {
                let mut de = rmp_serde::Deserializer::from_read_ref(bytes);
                de.set_max_depth(crate::codec::MAX_DEPTH);
                stream::walk(&self.nodes, &mut de)
            }
        };
        match walk {
            stream::Walk::Valid => Some(true),
            stream::Walk::Invalid => Some(false),
            stream::Walk::GiveUp => None,
        }
    }

    /// Checks `value`, reporting every problem.
    pub fn validate(&self, value: &Value) -> Result<(), ValidationErrors> {
        if self.is_valid(value) {
            return Ok(());
        }
        check::Checker::new(&self.nodes, true).run(value)
    }
}

#[cfg(test)]
mod tests;
