//! Helpers that reproduce the JavaScript conversions the reference JSON reviver relies
//! on: `atob(String(x))` for `{"$t": x}` and `BigInt(x)` for `{"$b": x}`.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use super::{BigInt, Value};

/// A primitive that `$t` / `$b` may hold. Strings are borrowed from the input when the
/// deserializer allows it.
pub(crate) enum JsPrim<'a> {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(Cow<'a, str>),
    BigInt(BigInt),
    /// An object, array or `Uint8Array`.
    Other,
}

impl<'a> JsPrim<'a> {
    /// From an already decoded value.
    pub(crate) fn from_value(v: &'a Value) -> Self {
        match v {
            Value::Null => JsPrim::Null,
            Value::Bool(b) => JsPrim::Bool(*b),
            Value::Int(i) => JsPrim::Int(*i),
            Value::UInt(u) => JsPrim::UInt(*u),
            Value::Float(f) => JsPrim::Float(*f),
            Value::String(s) => JsPrim::Str(Cow::Borrowed(s)),
            Value::BigInt(b) => JsPrim::BigInt(b.clone()),
            Value::Bytes(_) | Value::Date(_) | Value::Array(_) | Value::Object(_) => JsPrim::Other,
        }
    }

    /// `String(x)` for primitives; `None` for objects (whose string forms never decode).
    pub(crate) fn js_string(&self) -> Option<Cow<'_, str>> {
        Some(match self {
            JsPrim::Null => Cow::Borrowed("null"),
            JsPrim::Bool(true) => Cow::Borrowed("true"),
            JsPrim::Bool(false) => Cow::Borrowed("false"),
            JsPrim::Int(i) => Cow::Owned(i.to_string()),
            JsPrim::UInt(u) => Cow::Owned(u.to_string()),
            JsPrim::Float(f) => super::js_number_to_string(*f),
            JsPrim::Str(s) => Cow::Borrowed(s.as_ref()),
            JsPrim::BigInt(b) => Cow::Owned(b.to_string()),
            JsPrim::Other => return None,
        })
    }
}

impl<'de> Deserialize<'de> for JsPrim<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let human_readable = d.is_human_readable();
        d.deserialize_any(JsPrimVisitor { human_readable })
    }
}

struct JsPrimVisitor {
    human_readable: bool,
}

impl<'de> Visitor<'de> for JsPrimVisitor {
    type Value = JsPrim<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(JsPrim::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(JsPrim::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(JsPrim::UInt(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(JsPrim::Float(v))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(JsPrim::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(JsPrim::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(JsPrim::Str(Cow::Owned(v)))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(JsPrim::Null)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(JsPrim::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        JsPrim::deserialize(d)
    }
    fn visit_bytes<E>(self, _: &[u8]) -> Result<Self::Value, E> {
        Ok(JsPrim::Other)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        let v = super::ValueVisitor {
            human_readable: self.human_readable,
        }
        .visit_newtype_struct(d)?;
        Ok(match v {
            Value::BigInt(b) => JsPrim::BigInt(b),
            _ => JsPrim::Other,
        })
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        // Decoded (and so validated) like any nested value, then treated as an object.
        super::ValueVisitor {
            human_readable: self.human_readable,
        }
        .visit_seq(seq)?;
        Ok(JsPrim::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let v = super::ValueVisitor {
            human_readable: self.human_readable,
        }
        .visit_map(map)?;
        Ok(match v {
            Value::BigInt(b) => JsPrim::BigInt(b),
            _ => JsPrim::Other,
        })
    }
}

/// The keys the JSON reviver looks at.
pub(crate) enum MarkerKey {
    /// `$t`: a `Uint8Array`.
    T,
    /// `$b`: a `bigint`.
    B,
    /// Anything else.
    Other,
}

impl<'de> Deserialize<'de> for MarkerKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(MarkerKeyVisitor)
    }
}

struct MarkerKeyVisitor;

impl Visitor<'_> for MarkerKeyVisitor {
    type Value = MarkerKey;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map key")
    }
    fn visit_str<E>(self, v: &str) -> Result<MarkerKey, E> {
        Ok(match v {
            "$t" => MarkerKey::T,
            "$b" => MarkerKey::B,
            _ => MarkerKey::Other,
        })
    }
    fn visit_i64<E>(self, _: i64) -> Result<MarkerKey, E> {
        Ok(MarkerKey::Other)
    }
    fn visit_u64<E>(self, _: u64) -> Result<MarkerKey, E> {
        Ok(MarkerKey::Other)
    }
    fn visit_f64<E>(self, _: f64) -> Result<MarkerKey, E> {
        Ok(MarkerKey::Other)
    }
    fn visit_bytes<E>(self, _: &[u8]) -> Result<MarkerKey, E> {
        Ok(MarkerKey::Other)
    }
}
