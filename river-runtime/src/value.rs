//! Runtime value types that generated code uses: [`Bytes`] (`Uint8Array`), [`BigInt`]
//! (`bigint`), [`Date`] (`Date`), and the dynamic [`Value`] (`Type.Unknown()`/`Any`).
//!
//! Every type here serializes differently per codec, chosen with
//! `Serializer::is_human_readable()` (`serde_json`: `true`, `rmp_serde`: `false`):
//!
//! | type | JSON codec | msgpack codec |
//! |---|---|---|
//! | [`Bytes`] | `{"$t": "<padded standard base64>"}` | `bin` |
//! | [`BigInt`] | `{"$b": "<decimal>"}` | extension 0 whose data is a msgpack int (for \|v\| ≤ 2^53−1) or the decimal as a msgpack str |
//! | [`Date`] | not representable (encoding fails; the reference sends `{}`) | timestamp extension −1 |
//!
//! Decoding accepts every representation regardless of the flag, because serde's
//! buffering of untagged and internally tagged enums always reports human-readable.

mod base64;
mod bigint;
mod bytes;
mod date;
mod de;
mod ext;
mod js;
mod ser;

use std::borrow::Cow;
use std::fmt;

use indexmap::IndexMap;
use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use self::bigint::BigInt;
pub use self::bytes::Bytes;
pub use self::date::Date;

/// A dynamic value that survives both codecs, including bytes, bigints and dates.
///
/// Objects keep their insertion order. Integers are [`Value::Int`] when they fit in an
/// `i64` and [`Value::UInt`] only above `i64::MAX`.
///
/// Decoding follows the reference codecs: over JSON, any object with a `$t` key becomes
/// [`Value::Bytes`] and any other object with a `$b` key becomes [`Value::BigInt`]
/// (sibling keys are discarded, as the reference's reviver does); over msgpack, `bin`
/// becomes bytes, extension 0 a bigint and extension −1 a date, and any other extension
/// type is an error.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    /// `null` (and `undefined` inside arrays).
    #[default]
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer that fits in an `i64`.
    Int(i64),
    /// An integer above `i64::MAX`.
    UInt(u64),
    /// A float. Over msgpack an integral float within ±(2^53−1) encodes as an int, as
    /// JavaScript numbers do.
    Float(f64),
    /// A string.
    String(String),
    /// A `Uint8Array`.
    Bytes(Bytes),
    /// A `bigint`.
    BigInt(BigInt),
    /// A `Date` (msgpack only).
    Date(Date),
    /// An array.
    Array(Vec<Value>),
    /// An object, in insertion order.
    Object(IndexMap<String, Value>),
}

impl Value {
    /// Converts into a typed value. Bytes, bigints and dates inside the value reach
    /// fields of type [`Bytes`], [`BigInt`] and [`Date`]; an integral [`Value::Float`]
    /// is accepted by integer fields.
    pub fn deserialize_into<T: serde::de::DeserializeOwned>(&self) -> Result<T, crate::Error> {
        T::deserialize(de::ValueDeserializer::new(self))
            .map_err(|e| crate::Error::decode(format!("value does not match the type: {e}")))
    }

    /// Converts any serializable value into a [`Value`] (as the msgpack codec sees it:
    /// bytes stay bytes, bigints and dates keep their types).
    pub fn from_serialize<T: Serialize + ?Sized>(value: &T) -> Result<Value, crate::Error> {
        value
            .serialize(ser::ValueSerializer)
            .map_err(|e| crate::Error::encode(format!("cannot convert to a Value: {e}")))
    }

    /// The member `key` of an object; `None` for a missing key or a non-object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(map) => map.get(key),
            _ => None,
        }
    }

    /// Element `index` of an array; `None` when out of range or not an array.
    pub fn get_index(&self, index: usize) -> Option<&Value> {
        match self {
            Value::Array(items) => items.get(index),
            _ => None,
        }
    }

    /// Whether this is [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number as an `i64`: an [`Value::Int`], a [`Value::UInt`] that fits, or an
    /// integral [`Value::Float`] in range.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::UInt(u) => i64::try_from(*u).ok(),
            Value::Float(f) => float_to_i64(*f),
            _ => None,
        }
    }

    /// The number as a `u64`: a non-negative integer, or an integral non-negative float in
    /// range.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Int(i) => u64::try_from(*i).ok(),
            Value::UInt(u) => Some(*u),
            Value::Float(f)
                if *f >= 0.0 && f.fract() == 0.0 && *f < 18_446_744_073_709_551_616.0 =>
            {
                Some(*f as u64)
            }
            _ => None,
        }
    }

    /// Any number as an `f64` (possibly rounded).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::UInt(u) => Some(*u as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The bytes, if this is a `Uint8Array`.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The bigint, if this is one.
    pub fn as_bigint(&self) -> Option<&BigInt> {
        match self {
            Value::BigInt(b) => Some(b),
            _ => None,
        }
    }

    /// The date, if this is one.
    pub fn as_date(&self) -> Option<Date> {
        match self {
            Value::Date(d) => Some(*d),
            _ => None,
        }
    }

    /// The elements, if this is an array.
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The members, if this is an object.
    pub fn as_object(&self) -> Option<&IndexMap<String, Value>> {
        match self {
            Value::Object(map) => Some(map),
            _ => None,
        }
    }

    /// The members, mutably, if this is an object.
    pub fn as_object_mut(&mut self) -> Option<&mut IndexMap<String, Value>> {
        match self {
            Value::Object(map) => Some(map),
            _ => None,
        }
    }
}

/// An integral float within the i64 range, as an i64.
pub(crate) fn float_to_i64(f: f64) -> Option<i64> {
    if f.fract() == 0.0 && (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f)
    {
        Some(f as i64)
    } else {
        None
    }
}

/// An integral float as a bigint (`BigInt(1e20)` is `100000000000000000000n`).
pub(crate) fn bigint_from_f64(f: f64) -> Option<BigInt> {
    if !f.is_finite() || f.fract() != 0.0 {
        return None;
    }
    if let Some(i) = float_to_i64(f) {
        return Some(BigInt::from(i));
    }
    // |f| ≥ 2^63: an exact integer mantissa times a power of two.
    let bits = f.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i64 - 1075;
    let mantissa = (bits & ((1u64 << 52) - 1)) | (1u64 << 52);
    let shift = usize::try_from(exponent).ok()?;
    let magnitude = num_bigint::BigInt::from(mantissa) << shift;
    Some(BigInt(if f < 0.0 { -magnitude } else { magnitude }))
}

/// 2^53 − 1, JavaScript's `Number.MAX_SAFE_INTEGER`.
pub(crate) const MAX_SAFE_INTEGER: i64 = 9_007_199_254_740_991;

impl std::ops::Index<&str> for Value {
    type Output = Value;
    /// The member `key`, or [`Value::Null`] when missing (like `serde_json::Value`).
    fn index(&self, key: &str) -> &Value {
        static NULL: Value = Value::Null;
        self.get(key).unwrap_or(&NULL)
    }
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Value::Int(i64::from(v))
            }
        }
    )*};
}
from_int!(i8, i16, i32, i64, u8, u16, u32);

impl From<u64> for Value {
    fn from(v: u64) -> Self {
        match i64::try_from(v) {
            Ok(i) => Value::Int(i),
            Err(_) => Value::UInt(v),
        }
    }
}

impl From<usize> for Value {
    fn from(v: usize) -> Self {
        Value::from(v as u64)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}

impl From<f32> for Value {
    fn from(v: f32) -> Self {
        Value::Float(f64::from(v))
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::String(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::String(v.to_owned())
    }
}

impl From<Bytes> for Value {
    fn from(v: Bytes) -> Self {
        Value::Bytes(v)
    }
}

impl From<BigInt> for Value {
    fn from(v: BigInt) -> Self {
        Value::BigInt(v)
    }
}

impl From<Date> for Value {
    fn from(v: Date) -> Self {
        Value::Date(v)
    }
}

impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Value::Array(v)
    }
}

impl From<IndexMap<String, Value>> for Value {
    fn from(v: IndexMap<String, Value>) -> Self {
        Value::Object(v)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

impl<K: Into<String>, V: Into<Value>> FromIterator<(K, V)> for Value {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Value::Object(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::UInt(u) => s.serialize_u64(*u),
            Value::Float(f) => {
                // JavaScript numbers that are safe integers travel as ints in msgpack and
                // print without a fraction in JSON.
                match float_to_i64(*f) {
                    Some(i) if (-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&i) => {
                        s.serialize_i64(i)
                    }
                    _ => s.serialize_f64(*f),
                }
            }
            Value::String(v) => s.serialize_str(v),
            Value::Bytes(b) => b.serialize(s),
            Value::BigInt(b) => b.serialize(s),
            Value::Date(d) => d.serialize(s),
            Value::Array(items) => s.collect_seq(items),
            Value::Object(map) => s.collect_map(map),
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let human_readable = d.is_human_readable();
        d.deserialize_any(ValueVisitor { human_readable })
    }
}

struct ValueVisitor {
    human_readable: bool,
}

/// Upper bound on pre-allocation from untrusted length hints.
const MAX_PREALLOC: usize = 1024;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_i128<E: serde::de::Error>(self, v: i128) -> Result<Value, E> {
        if let Ok(i) = i64::try_from(v) {
            Ok(Value::Int(i))
        } else if let Ok(u) = u64::try_from(v) {
            Ok(Value::UInt(u))
        } else {
            Ok(Value::BigInt(BigInt::from(v)))
        }
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Bytes(Bytes(v.to_vec())))
    }
    fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Value, E> {
        Ok(Value::Bytes(Bytes(v)))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        // rmp_serde reports a msgpack extension as a newtype struct of (type, data).
        match ext::deserialize_ext(d)? {
            ext::ExtValue::BigInt(b) => Ok(Value::BigInt(b)),
            ext::ExtValue::Date(d) => Ok(Value::Date(d)),
        }
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(MAX_PREALLOC));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = IndexMap::with_capacity(map.size_hint().unwrap_or(0).min(MAX_PREALLOC));
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let value: Value = map.next_value()?;
            // Duplicate keys: the last one wins, as in JavaScript.
            out.insert(key, value);
        }
        if self.human_readable {
            // The reference's JSON reviver: `$t` → Uint8Array, else `$b` → bigint.
            if let Some(t) = out.get("$t") {
                return bytes::atob_prim(&js::JsPrim::from_value(t))
                    .map(Value::Bytes)
                    .map_err(serde::de::Error::custom);
            }
            if let Some(b) = out.get("$b") {
                return bigint::js_bigint(js::JsPrim::from_value(b))
                    .map(Value::BigInt)
                    .map_err(serde::de::Error::custom);
            }
        }
        Ok(Value::Object(out))
    }
}

/// Map keys: strings, or numbers (which the msgpack decoder of the reference accepts and
/// JavaScript turns into their decimal string).
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = String;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_any(KeyVisitor)
    }
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string or number map key")
    }
    fn visit_str<E>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }
    fn visit_string<E>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
    fn visit_i64<E>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E>(self, v: f64) -> Result<String, E> {
        Ok(js_number_to_string(v).into_owned())
    }
}

/// JavaScript's `String(number)` for the cases that matter here: integral values print
/// without a fraction; others use Rust's shortest round-trip form (which matches
/// JavaScript for ordinary magnitudes).
pub(crate) fn js_number_to_string(v: f64) -> Cow<'static, str> {
    if v.is_nan() {
        Cow::Borrowed("NaN")
    } else if v.is_infinite() {
        Cow::Borrowed(if v > 0.0 { "Infinity" } else { "-Infinity" })
    } else if let Some(i) = float_to_i64(v) {
        Cow::Owned(i.to_string())
    } else {
        Cow::Owned(v.to_string())
    }
}

#[cfg(test)]
mod tests;
