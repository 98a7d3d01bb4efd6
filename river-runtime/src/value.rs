//! Runtime value types that generated code uses: [`Bytes`] (`Uint8Array`), [`BigInt`]
//! (`bigint`), [`Date`] (`Date`), and the dynamic [`Value`] (`Type.Unknown()`/`Any`).
//! Owned by the codec work; skeleton for now.

use serde::{Deserialize, Serialize};

/// A dynamic value that survives both codecs, including bytes, bigints and dates.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    /// `null`
    #[default]
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    String(String),
    /// An ordered map.
    Object(indexmap::IndexMap<String, Value>),
    /// An array.
    Array(Vec<Value>),
}

impl Value {
    /// Converts into a typed value.
    pub fn deserialize_into<T: serde::de::DeserializeOwned>(&self) -> Result<T, crate::Error> {
        Err(crate::Error::decode("Value not implemented yet"))
    }
}

impl Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_unit()
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(d)?;
        Ok(Value::Null)
    }
}

/// A `Uint8Array`: `bin` in msgpack, `{"$t": base64}` in JSON. (Placeholder.)
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Bytes(pub Vec<u8>);

/// A JavaScript `bigint`: extension 0 in msgpack, `{"$b": "<decimal>"}` in JSON. (Placeholder.)
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BigInt(pub num_bigint::BigInt);

/// A JavaScript `Date`: timestamp extension −1 in msgpack; not representable in JSON. (Placeholder.)
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Date {
    /// Milliseconds since the Unix epoch.
    pub millis: i64,
}
