//! [`Bytes`]: a `Uint8Array`.

use std::fmt;
use std::ops::{Deref, DerefMut};

use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::base64::{atob, Base64Display};
use super::js::{JsPrim, MarkerKey};

/// A `Uint8Array`: msgpack `bin`, or `{"$t": "<padded standard base64>"}` in JSON.
///
/// Decoding follows the reference: over JSON any object with a `$t` key is a
/// `Uint8Array` (sibling keys are ignored) and its value goes through `atob(String(x))`,
/// so unpadded base64 is accepted, URL-safe characters are rejected, and `{"$t": null}`
/// decodes as `atob("null")`, the three bytes `9e e9 65`. Over msgpack only `bin` is
/// accepted; a `str` where bytes are expected is an error.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bytes(pub Vec<u8>);

impl Bytes {
    /// An empty buffer.
    pub fn new() -> Self {
        Bytes(Vec::new())
    }

    /// The bytes as a slice.
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    /// The underlying vector.
    pub fn into_vec(self) -> Vec<u8> {
        self.0
    }
}

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bytes({:02x?})", self.0)
    }
}

impl Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl DerefMut for Bytes {
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.0
    }
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Self {
        Bytes(v)
    }
}

impl From<&[u8]> for Bytes {
    fn from(v: &[u8]) -> Self {
        Bytes(v.to_vec())
    }
}

impl<const N: usize> From<[u8; N]> for Bytes {
    fn from(v: [u8; N]) -> Self {
        Bytes(v.to_vec())
    }
}

impl From<bytes::Bytes> for Bytes {
    fn from(v: bytes::Bytes) -> Self {
        Bytes(v.into())
    }
}

impl From<Bytes> for Vec<u8> {
    fn from(v: Bytes) -> Self {
        v.0
    }
}

impl From<Bytes> for bytes::Bytes {
    fn from(v: Bytes) -> Self {
        bytes::Bytes::from(v.0)
    }
}

impl FromIterator<u8> for Bytes {
    fn from_iter<I: IntoIterator<Item = u8>>(iter: I) -> Self {
        Bytes(iter.into_iter().collect())
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_bytes(&self.0, s)
    }
}

/// Serializes a byte slice the way [`Bytes`] does.
pub(crate) fn serialize_bytes<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    if s.is_human_readable() {
        let mut map = s.serialize_map(Some(1))?;
        map.serialize_entry("$t", &Base64Display(bytes))?;
        map.end()
    } else {
        s.serialize_bytes(bytes)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(BytesVisitor)
    }
}

/// `atob(String(x))` of a `$t` value.
pub(crate) fn atob_prim(p: &JsPrim<'_>) -> Result<Bytes, String> {
    match p.js_string() {
        Some(s) => atob(&s).map(Bytes).map_err(|e| e.to_string()),
        None => Err("invalid {\"$t\": ...} Uint8Array: the value is not a base64 string".into()),
    }
}

struct BytesVisitor;

impl<'de> Visitor<'de> for BytesVisitor {
    type Value = Bytes;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Uint8Array (msgpack bin, or {\"$t\": base64} in JSON)")
    }

    fn visit_bytes<E>(self, v: &[u8]) -> Result<Bytes, E> {
        Ok(Bytes(v.to_vec()))
    }

    fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Bytes, E> {
        Ok(Bytes(v))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Bytes, A::Error> {
        let mut t: Option<JsPrim<'de>> = None;
        let mut has_b = false;
        while let Some(key) = map.next_key::<MarkerKey>()? {
            match key {
                MarkerKey::T => t = Some(map.next_value()?),
                MarkerKey::B => {
                    has_b = true;
                    map.next_value::<IgnoredAny>()?;
                }
                MarkerKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        match t {
            Some(p) => atob_prim(&p).map_err(serde::de::Error::custom),
            None if has_b => Err(serde::de::Error::custom(
                "expected a Uint8Array, found a bigint ({\"$b\": ...})",
            )),
            None => Err(serde::de::Error::custom(
                "expected a Uint8Array ({\"$t\": base64}), found an object without \"$t\"",
            )),
        }
    }
}
