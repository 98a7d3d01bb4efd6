//! [`BigInt`]: a JavaScript `bigint`.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::str::FromStr;

use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::bigint_from_f64;
use super::ext::{self, ExtValue};
use super::js::{JsPrim, MarkerKey};

/// A JavaScript `bigint`, of any size.
///
/// - JSON: `{"$b": "<decimal>"}`. Decoding applies JavaScript's `BigInt(x)` to the `$b`
///   value: a string (surrounding whitespace allowed; empty means 0; decimal with an
///   optional sign, or `0x`/`0o`/`0b` literals), an integral number, or a boolean.
/// - msgpack: extension type 0 whose data is itself msgpack: the smallest int encoding
///   when |v| ≤ 2^53−1 (so `5n` is `d4 00 05`), otherwise the decimal as a str
///   (`12345678901234567890n` is `c7 15 00 b4 <20 digits>`). Decoding accepts an int of
///   any width, an integral float, or a str.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BigInt(pub num_bigint::BigInt);

impl BigInt {
    /// Wraps a `num_bigint::BigInt`.
    pub fn new(v: num_bigint::BigInt) -> Self {
        BigInt(v)
    }

    /// The inner `num_bigint::BigInt`.
    pub fn into_inner(self) -> num_bigint::BigInt {
        self.0
    }

    /// The value as an `i64`, if it fits.
    pub fn to_i64(&self) -> Option<i64> {
        i64::try_from(&self.0).ok()
    }

    /// The value as a `u64`, if it fits.
    pub fn to_u64(&self) -> Option<u64> {
        u64::try_from(&self.0).ok()
    }

    /// The value as an `i128`, if it fits.
    pub fn to_i128(&self) -> Option<i128> {
        i128::try_from(&self.0).ok()
    }
}

impl fmt::Debug for BigInt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BigInt({})", self.0)
    }
}

impl fmt::Display for BigInt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Deref for BigInt {
    type Target = num_bigint::BigInt;
    fn deref(&self) -> &num_bigint::BigInt {
        &self.0
    }
}

impl DerefMut for BigInt {
    fn deref_mut(&mut self) -> &mut num_bigint::BigInt {
        &mut self.0
    }
}

macro_rules! from_prim {
    ($($t:ty),*) => {$(
        impl From<$t> for BigInt {
            fn from(v: $t) -> Self {
                BigInt(num_bigint::BigInt::from(v))
            }
        }
    )*};
}
from_prim!(i8, i16, i32, i64, i128, u8, u16, u32, u64, u128, isize, usize);

impl From<num_bigint::BigInt> for BigInt {
    fn from(v: num_bigint::BigInt) -> Self {
        BigInt(v)
    }
}

impl From<BigInt> for num_bigint::BigInt {
    fn from(v: BigInt) -> Self {
        v.0
    }
}

/// Why a string is not a bigint literal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseBigIntError(String);

impl fmt::Display for ParseBigIntError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot convert {:?} to a BigInt", self.0)
    }
}

impl std::error::Error for ParseBigIntError {}

impl FromStr for BigInt {
    type Err = ParseBigIntError;

    /// Parses like JavaScript's `BigInt(string)`.
    fn from_str(s: &str) -> Result<Self, ParseBigIntError> {
        parse_js_bigint(s).ok_or_else(|| ParseBigIntError(s.chars().take(64).collect()))
    }
}

fn is_js_whitespace(c: char) -> bool {
    c.is_whitespace() || c == '\u{feff}'
}

/// JavaScript's `StringToBigInt`.
fn parse_js_bigint(s: &str) -> Option<BigInt> {
    let s = s.trim_matches(is_js_whitespace);
    if s.is_empty() {
        return Some(BigInt::default());
    }
    let bytes = s.as_bytes();
    let (radix, digits, negative) = match bytes {
        [b'0', b'x' | b'X', rest @ ..] => (16, rest, false),
        [b'0', b'o' | b'O', rest @ ..] => (8, rest, false),
        [b'0', b'b' | b'B', rest @ ..] => (2, rest, false),
        [b'-', rest @ ..] => (10, rest, true),
        [b'+', rest @ ..] => (10, rest, false),
        _ => (10, bytes, false),
    };
    if digits.is_empty() || !digits.iter().all(|b| (*b as char).is_digit(radix)) {
        return None;
    }
    let magnitude = num_bigint::BigInt::parse_bytes(digits, radix)?;
    Some(BigInt(if negative { -magnitude } else { magnitude }))
}

/// `BigInt(x)` of a `$b` value.
pub(crate) fn js_bigint(p: JsPrim<'_>) -> Result<BigInt, String> {
    match p {
        JsPrim::Str(s) => s.parse::<BigInt>().map_err(|e| e.to_string()),
        JsPrim::Int(i) => Ok(BigInt::from(i)),
        JsPrim::UInt(u) => Ok(BigInt::from(u)),
        JsPrim::Float(f) => bigint_from_f64(f)
            .ok_or_else(|| format!("the number {f} cannot be converted to a BigInt")),
        JsPrim::Bool(b) => Ok(BigInt::from(u8::from(b))),
        JsPrim::BigInt(b) => Ok(b),
        JsPrim::Null => Err("cannot convert null to a BigInt".into()),
        JsPrim::Other => Err("cannot convert an object to a BigInt".into()),
    }
}

impl Serialize for BigInt {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            let mut map = s.serialize_map(Some(1))?;
            map.serialize_entry("$b", &Decimal(&self.0))?;
            map.end()
        } else {
            let mut body = Vec::new();
            ext::encode_bigint_body(&self.0, &mut body);
            ext::Ext {
                tag: ext::EXT_BIGINT,
                data: &body,
            }
            .serialize(s)
        }
    }
}

/// Writes a number through `collect_str` (no intermediate `String` in serde_json).
struct Decimal<'a>(&'a num_bigint::BigInt);

impl Serialize for Decimal<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self.0)
    }
}

impl<'de> Deserialize<'de> for BigInt {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(BigIntVisitor)
    }
}

struct BigIntVisitor;

impl<'de> Visitor<'de> for BigIntVisitor {
    type Value = BigInt;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a bigint (msgpack extension 0, or {\"$b\": \"<decimal>\"} in JSON)")
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<BigInt, D::Error> {
        match ext::deserialize_ext(d)? {
            ExtValue::BigInt(b) => Ok(b),
            ExtValue::Date(_) => Err(serde::de::Error::custom("expected a bigint, found a Date")),
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<BigInt, A::Error> {
        let mut b: Option<JsPrim<'de>> = None;
        let mut has_t = false;
        while let Some(key) = map.next_key::<MarkerKey>()? {
            match key {
                MarkerKey::B => b = Some(map.next_value()?),
                MarkerKey::T => {
                    has_t = true;
                    map.next_value::<IgnoredAny>()?;
                }
                MarkerKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        match b {
            // The reviver tests `$t` first.
            _ if has_t => Err(serde::de::Error::custom(
                "expected a bigint, found a Uint8Array ({\"$t\": ...})",
            )),
            Some(p) => js_bigint(p).map_err(serde::de::Error::custom),
            None => Err(serde::de::Error::custom(
                "expected a bigint ({\"$b\": \"<decimal>\"}), found an object without \"$b\"",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_javascript() {
        let p = |s: &str| s.parse::<BigInt>().ok().map(|b| b.to_string());
        assert_eq!(p("42").as_deref(), Some("42"));
        assert_eq!(p("-42").as_deref(), Some("-42"));
        assert_eq!(p("+42").as_deref(), Some("42"));
        assert_eq!(p("  7 \n").as_deref(), Some("7"));
        assert_eq!(p("").as_deref(), Some("0"));
        assert_eq!(p("0x1f").as_deref(), Some("31"));
        assert_eq!(p("0b101").as_deref(), Some("5"));
        assert_eq!(p("0o17").as_deref(), Some("15"));
        assert_eq!(
            p("123456789012345678901234567890").as_deref(),
            Some("123456789012345678901234567890")
        );
        assert_eq!(p("1.5"), None);
        assert_eq!(p("1e3"), None);
        assert_eq!(p("-0x10"), None);
        assert_eq!(p("--1"), None);
        assert_eq!(p("-"), None);
        assert_eq!(p("abc"), None);
        assert_eq!(p("1_000"), None);
    }

    #[test]
    fn from_f64_is_exact() {
        assert_eq!(
            bigint_from_f64(1e20).unwrap().to_string(),
            "100000000000000000000"
        );
        assert_eq!(bigint_from_f64(-3.0).unwrap().to_string(), "-3");
        assert_eq!(
            bigint_from_f64(-9.223372036854776e18).unwrap().to_string(),
            "-9223372036854775808"
        );
        assert!(bigint_from_f64(1.5).is_none());
        assert!(bigint_from_f64(f64::NAN).is_none());
        assert!(bigint_from_f64(f64::INFINITY).is_none());
    }
}
