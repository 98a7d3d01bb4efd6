//! msgpack extension types through `rmp_serde`.
//!
//! `rmp_serde` 1.3 exposes an extension as a newtype struct named
//! [`rmp_serde::MSGPACK_EXT_STRUCT_NAME`] (`"_ExtStruct"`) wrapping the tuple
//! `(type: i8, data: bytes)`:
//! - serializing `serialize_newtype_struct("_ExtStruct", &(i8, <serialize_bytes>))` writes
//!   the extension header (fixext1/2/4/8/16 or ext8/16/32, the smallest that fits, the
//!   same choice `@msgpack/msgpack` makes) and the data;
//! - `deserialize_any` on an extension calls `visit_newtype_struct` with a deserializer
//!   whose `deserialize_any` visits a sequence of `i8` then borrowed bytes.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, SeqAccess, Visitor};
use serde::ser::SerializeTuple;
use serde::{Serialize, Serializer};

use super::{BigInt, Date};

/// Extension type of a `bigint` in River's `BinaryCodec`.
pub(crate) const EXT_BIGINT: i8 = 0;
/// The msgpack timestamp extension type.
pub(crate) const EXT_TIMESTAMP: i8 = -1;

/// Serializes as a msgpack extension through `rmp_serde`.
pub(crate) struct Ext<'a> {
    pub(crate) tag: i8,
    pub(crate) data: &'a [u8],
}

struct RawBin<'a>(&'a [u8]);

impl Serialize for RawBin<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

struct ExtTuple<'a>(&'a Ext<'a>);

impl Serialize for ExtTuple<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut t = s.serialize_tuple(2)?;
        t.serialize_element(&self.0.tag)?;
        t.serialize_element(&RawBin(self.0.data))?;
        t.end()
    }
}

impl Serialize for Ext<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_struct(rmp_serde::MSGPACK_EXT_STRUCT_NAME, &ExtTuple(self))
    }
}

/// A decoded extension River knows.
pub(crate) enum ExtValue {
    BigInt(BigInt),
    Date(Date),
}

/// Decodes the `(i8, bytes)` inside an extension newtype.
pub(crate) fn deserialize_ext<'de, D: Deserializer<'de>>(d: D) -> Result<ExtValue, D::Error> {
    d.deserialize_tuple(2, ExtSeqVisitor)
}

struct ExtSeqVisitor;

impl<'de> Visitor<'de> for ExtSeqVisitor {
    type Value = ExtValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a msgpack extension (type, data)")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ExtValue, A::Error> {
        let tag: i8 = seq
            .next_element()?
            .ok_or_else(|| serde::de::Error::custom("msgpack extension without a type"))?;
        seq.next_element_seed(ExtDataSeed { tag })?
            .ok_or_else(|| serde::de::Error::custom("msgpack extension without data"))
    }
}

struct ExtDataSeed {
    tag: i8,
}

impl<'de> DeserializeSeed<'de> for ExtDataSeed {
    type Value = ExtValue;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<ExtValue, D::Error> {
        d.deserialize_bytes(self)
    }
}

impl Visitor<'_> for ExtDataSeed {
    type Value = ExtValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("msgpack extension data")
    }

    fn visit_bytes<E: serde::de::Error>(self, data: &[u8]) -> Result<ExtValue, E> {
        decode_ext(self.tag, data).map_err(E::custom)
    }
}

/// Decodes the data of extension `tag`: 0 is a bigint, −1 a timestamp; anything else is
/// an error (the reference's `BinaryCodec` registers no other type).
pub(crate) fn decode_ext(tag: i8, data: &[u8]) -> Result<ExtValue, String> {
    match tag {
        EXT_BIGINT => decode_bigint_body(data).map(ExtValue::BigInt),
        EXT_TIMESTAMP => Date::from_timestamp_data(data).map(ExtValue::Date),
        other => Err(format!("unsupported msgpack extension type {other}")),
    }
}

/// Encodes a bigint's extension data: the smallest msgpack int for
/// |v| ≤ 2^53−1, else the decimal as a msgpack str.
pub(crate) fn encode_bigint_body(v: &num_bigint::BigInt, out: &mut Vec<u8>) {
    match i64::try_from(v) {
        Ok(i) if (-super::MAX_SAFE_INTEGER..=super::MAX_SAFE_INTEGER).contains(&i) => {
            // Writing to a Vec cannot fail.
            let _ = rmp::encode::write_sint(out, i);
        }
        _ => {
            let _ = rmp::encode::write_str(out, &v.to_string());
        }
    }
}

fn take<const N: usize>(data: &[u8]) -> Option<([u8; N], &[u8])> {
    let head = data.get(..N)?;
    let rest = data.get(N..)?;
    Some((<[u8; N]>::try_from(head).ok()?, rest))
}

/// Decodes a bigint's extension data: one msgpack int (any width), integral float or
/// str, and nothing after it.
pub(crate) fn decode_bigint_body(data: &[u8]) -> Result<BigInt, String> {
    const TRUNCATED: &str = "truncated bigint extension data";
    let (&marker, rest) = data.split_first().ok_or(TRUNCATED)?;
    let (value, rest): (BigInt, &[u8]) = match marker {
        0x00..=0x7f => (BigInt::from(marker), rest),
        0xe0..=0xff => (BigInt::from(marker as i8), rest),
        0xcc => take::<1>(rest)
            .map(|(b, r)| (BigInt::from(b[0]), r))
            .ok_or(TRUNCATED)?,
        0xcd => take::<2>(rest)
            .map(|(b, r)| (BigInt::from(u16::from_be_bytes(b)), r))
            .ok_or(TRUNCATED)?,
        0xce => take::<4>(rest)
            .map(|(b, r)| (BigInt::from(u32::from_be_bytes(b)), r))
            .ok_or(TRUNCATED)?,
        0xcf => take::<8>(rest)
            .map(|(b, r)| (BigInt::from(u64::from_be_bytes(b)), r))
            .ok_or(TRUNCATED)?,
        0xd0 => take::<1>(rest)
            .map(|(b, r)| (BigInt::from(b[0] as i8), r))
            .ok_or(TRUNCATED)?,
        0xd1 => take::<2>(rest)
            .map(|(b, r)| (BigInt::from(i16::from_be_bytes(b)), r))
            .ok_or(TRUNCATED)?,
        0xd2 => take::<4>(rest)
            .map(|(b, r)| (BigInt::from(i32::from_be_bytes(b)), r))
            .ok_or(TRUNCATED)?,
        0xd3 => take::<8>(rest)
            .map(|(b, r)| (BigInt::from(i64::from_be_bytes(b)), r))
            .ok_or(TRUNCATED)?,
        0xca | 0xcb => {
            let (f, r) = if marker == 0xca {
                take::<4>(rest).map(|(b, r)| (f64::from(f32::from_be_bytes(b)), r))
            } else {
                take::<8>(rest).map(|(b, r)| (f64::from_be_bytes(b), r))
            }
            .ok_or(TRUNCATED)?;
            let v = super::bigint_from_f64(f)
                .ok_or_else(|| format!("the number {f} cannot be converted to a BigInt"))?;
            (v, r)
        }
        0xa0..=0xbf | 0xd9 | 0xda | 0xdb => {
            let (len, r) = match marker {
                0xd9 => take::<1>(rest).map(|(b, r)| (usize::from(b[0]), r)),
                0xda => take::<2>(rest).map(|(b, r)| (usize::from(u16::from_be_bytes(b)), r)),
                0xdb => take::<4>(rest).map(|(b, r)| (u32::from_be_bytes(b) as usize, r)),
                _ => Some((usize::from(marker & 0x1f), rest)),
            }
            .ok_or(TRUNCATED)?;
            let s = r.get(..len).ok_or(TRUNCATED)?;
            let s = std::str::from_utf8(s).map_err(|_| "bigint extension string is not UTF-8")?;
            let v = s.parse::<BigInt>().map_err(|e| e.to_string())?;
            (v, r.get(len..).unwrap_or_default())
        }
        other => {
            return Err(format!(
            "bigint extension data must be a msgpack number or string, found marker 0x{other:02x}"
        ))
        }
    };
    if !rest.is_empty() {
        return Err("extra bytes after the bigint in its extension data".into());
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: &BigInt) -> Vec<u8> {
        let mut out = Vec::new();
        encode_bigint_body(v, &mut out);
        out
    }

    #[test]
    fn bigint_bodies() {
        assert_eq!(body(&BigInt::from(5)), vec![0x05]);
        assert_eq!(body(&BigInt::from(-1)), vec![0xff]);
        assert_eq!(body(&BigInt::from(200)), vec![0xcc, 200]);
        assert_eq!(body(&BigInt::from(-200)), vec![0xd1, 0xff, 0x38]);
        assert_eq!(
            body(&BigInt::from(1u64 << 40)),
            vec![0xcf, 0, 0, 1, 0, 0, 0, 0, 0]
        );
        let max = BigInt::from(super::super::MAX_SAFE_INTEGER);
        assert_eq!(body(&max)[0], 0xcf);
        let over = BigInt::from(super::super::MAX_SAFE_INTEGER + 1);
        assert_eq!(body(&over), [&[0xb0][..], b"9007199254740992"].concat());
        let neg_over = BigInt::from(-super::super::MAX_SAFE_INTEGER - 1);
        assert_eq!(
            body(&neg_over),
            [&[0xb1][..], b"-9007199254740992"].concat()
        );
        for v in [
            5i128,
            -1,
            200,
            -200,
            1 << 40,
            1 << 53,
            -(1 << 60),
            12345678901234567890,
            -(1 << 100),
        ] {
            let v = BigInt::from(v);
            assert_eq!(decode_bigint_body(&body(&v)).unwrap(), v);
        }
    }

    #[test]
    fn bigint_body_rejects() {
        assert!(decode_bigint_body(&[]).is_err());
        assert!(decode_bigint_body(&[0xc0]).is_err(), "nil");
        assert!(decode_bigint_body(&[0xc3]).is_err(), "true");
        assert!(decode_bigint_body(&[0xc4, 1, 1]).is_err(), "bin");
        assert!(decode_bigint_body(&[0x90]).is_err(), "array");
        assert!(decode_bigint_body(&[0x05, 0x05]).is_err(), "extra bytes");
        assert!(decode_bigint_body(&[0xcd, 0x01]).is_err(), "truncated");
        assert!(
            decode_bigint_body(&[0xa3, b'1', b'2']).is_err(),
            "truncated str"
        );
        assert!(
            decode_bigint_body(&[0xa3, b'1', b'.', b'5']).is_err(),
            "not an integer"
        );
        let mut f = vec![0xcb];
        f.extend_from_slice(&1.5f64.to_be_bytes());
        assert!(decode_bigint_body(&f).is_err());
        let mut f = vec![0xcb];
        f.extend_from_slice(&1e20f64.to_be_bytes());
        assert_eq!(
            decode_bigint_body(&f).unwrap().to_string(),
            "100000000000000000000"
        );
    }
}
