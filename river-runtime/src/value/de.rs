//! A serde `Deserializer` over a borrowed [`Value`], for [`Value::deserialize_into`].
//!
//! It is not human-readable: bytes are visited as bytes, and bigints and dates as the
//! msgpack extension newtype `rmp_serde` produces, so [`Bytes`], [`BigInt`], [`Date`] and
//! [`Value`] fields decode exactly as they do from msgpack.
//!
//! [`Bytes`]: super::Bytes
//! [`BigInt`]: super::BigInt
//! [`Date`]: super::Date

use std::fmt;

use serde::de::value::BytesDeserializer;
use serde::de::{
    self, DeserializeSeed, EnumAccess, IntoDeserializer, MapAccess, SeqAccess, VariantAccess,
    Visitor,
};
use serde::forward_to_deserialize_any;

use super::{ext, Value};

/// Errors of [`ValueDeserializer`] and of the value serializer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ValueError(pub(crate) String);

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ValueError {}

impl de::Error for ValueError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ValueError(msg.to_string())
    }
}

impl serde::ser::Error for ValueError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ValueError(msg.to_string())
    }
}

/// Deserializes from a borrowed [`Value`].
pub(crate) struct ValueDeserializer<'de> {
    value: &'de Value,
}

impl<'de> ValueDeserializer<'de> {
    pub(crate) fn new(value: &'de Value) -> Self {
        ValueDeserializer { value }
    }

    fn integral(&self) -> Option<i64> {
        match self.value {
            Value::Float(f) => super::float_to_i64(*f),
            _ => None,
        }
    }

    fn visit_integer<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self.integral() {
            Some(i) => visitor.visit_i64(i),
            None => self.deserialize_any_inner(visitor),
        }
    }

    fn deserialize_any_inner<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(i) => visitor.visit_i64(*i),
            Value::UInt(u) => visitor.visit_u64(*u),
            Value::Float(f) => visitor.visit_f64(*f),
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Bytes(b) => visitor.visit_borrowed_bytes(b),
            Value::BigInt(b) => {
                let mut data = Vec::new();
                ext::encode_bigint_body(&b.0, &mut data);
                visitor.visit_newtype_struct(ExtDeserializer {
                    tag: ext::EXT_BIGINT,
                    data: &data,
                })
            }
            Value::Date(d) => {
                let mut buf = [0u8; 12];
                let len = d.timestamp_data(&mut buf);
                let data = buf.get(..len).unwrap_or(&buf);
                visitor.visit_newtype_struct(ExtDeserializer {
                    tag: ext::EXT_TIMESTAMP,
                    data,
                })
            }
            Value::Array(items) => {
                let mut seq = SeqDeserializer { iter: items.iter() };
                let out = visitor.visit_seq(&mut seq)?;
                if seq.iter.len() == 0 {
                    Ok(out)
                } else {
                    Err(de::Error::invalid_length(
                        items.len(),
                        &"fewer elements in array",
                    ))
                }
            }
            Value::Object(map) => visitor.visit_map(MapDeserializer {
                iter: map.iter(),
                value: None,
            }),
        }
    }
}

impl<'de> de::Deserializer<'de> for ValueDeserializer<'de> {
    type Error = ValueError;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        self.deserialize_any_inner(visitor)
    }

    fn deserialize_i8<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ValueError> {
        self.visit_integer(v)
    }
    fn deserialize_i16<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ValueError> {
        self.visit_integer(v)
    }
    fn deserialize_i32<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ValueError> {
        self.visit_integer(v)
    }
    fn deserialize_i64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ValueError> {
        self.visit_integer(v)
    }
    fn deserialize_i128<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ValueError> {
        self.visit_integer(v)
    }
    fn deserialize_u8<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ValueError> {
        self.visit_integer(v)
    }
    fn deserialize_u16<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ValueError> {
        self.visit_integer(v)
    }
    fn deserialize_u32<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ValueError> {
        self.visit_integer(v)
    }
    fn deserialize_u64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ValueError> {
        match self.value {
            Value::Float(f)
                if *f >= 0.0 && f.fract() == 0.0 && *f < 18_446_744_073_709_551_616.0 =>
            {
                v.visit_u64(*f as u64)
            }
            _ => self.deserialize_any_inner(v),
        }
    }
    fn deserialize_u128<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ValueError> {
        self.deserialize_u64(v)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        match self.value {
            Value::BigInt(_) | Value::Date(_) if name == rmp_serde::MSGPACK_EXT_STRUCT_NAME => {
                self.deserialize_any_inner(visitor)
            }
            _ => visitor.visit_newtype_struct(self),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        match self.value {
            Value::String(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            Value::Object(map) if map.len() == 1 => match map.first() {
                Some((variant, value)) => visitor.visit_enum(EnumDeserializer { variant, value }),
                None => Err(de::Error::custom("expected an enum")),
            },
            _ => Err(de::Error::custom(
                "expected an enum: a string or a map with a single key",
            )),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Array(a) if a.is_empty() => visitor.visit_unit(),
            _ => self.deserialize_any_inner(visitor),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        self.deserialize_unit(visitor)
    }

    forward_to_deserialize_any! {
        bool f32 f64 char str string bytes byte_buf seq tuple tuple_struct map struct
        identifier ignored_any
    }
}

impl<'de> IntoDeserializer<'de, ValueError> for &'de Value {
    type Deserializer = ValueDeserializer<'de>;
    fn into_deserializer(self) -> ValueDeserializer<'de> {
        ValueDeserializer::new(self)
    }
}

struct SeqDeserializer<'de> {
    iter: std::slice::Iter<'de, Value>,
}

impl<'de> SeqAccess<'de> for SeqDeserializer<'de> {
    type Error = ValueError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, ValueError> {
        match self.iter.next() {
            Some(v) => seed.deserialize(ValueDeserializer::new(v)).map(Some),
            None => Ok(None),
        }
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

struct MapDeserializer<'de> {
    iter: indexmap::map::Iter<'de, String, Value>,
    value: Option<&'de Value>,
}

impl<'de> MapAccess<'de> for MapDeserializer<'de> {
    type Error = ValueError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ValueError> {
        match self.iter.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(de::value::BorrowedStrDeserializer::new(k))
                    .map(Some)
            }
            None => Ok(None),
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, ValueError> {
        match self.value.take() {
            Some(v) => seed.deserialize(ValueDeserializer::new(v)),
            None => Err(de::Error::custom("map value requested before its key")),
        }
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

struct EnumDeserializer<'de> {
    variant: &'de str,
    value: &'de Value,
}

impl<'de> EnumAccess<'de> for EnumDeserializer<'de> {
    type Error = ValueError;
    type Variant = ValueDeserializer<'de>;
    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), ValueError> {
        let v = seed.deserialize(de::value::BorrowedStrDeserializer::new(self.variant))?;
        Ok((v, ValueDeserializer::new(self.value)))
    }
}

impl<'de> VariantAccess<'de> for ValueDeserializer<'de> {
    type Error = ValueError;
    fn unit_variant(self) -> Result<(), ValueError> {
        match self.value {
            Value::Null => Ok(()),
            _ => Err(de::Error::custom("expected a unit variant")),
        }
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, ValueError> {
        seed.deserialize(self)
    }
    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        de::Deserializer::deserialize_seq(self, visitor)
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        de::Deserializer::deserialize_map(self, visitor)
    }
}

/// The `(type, data)` inside an extension newtype, as `rmp_serde` presents it.
struct ExtDeserializer<'b> {
    tag: i8,
    data: &'b [u8],
}

impl<'de> de::Deserializer<'de> for ExtDeserializer<'_> {
    type Error = ValueError;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        visitor.visit_seq(ExtSeq {
            tag: Some(self.tag),
            data: Some(self.data),
        })
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

struct ExtSeq<'b> {
    tag: Option<i8>,
    data: Option<&'b [u8]>,
}

impl<'de> SeqAccess<'de> for ExtSeq<'_> {
    type Error = ValueError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, ValueError> {
        if let Some(tag) = self.tag.take() {
            return seed.deserialize(tag.into_deserializer()).map(Some);
        }
        match self.data.take() {
            Some(data) => seed.deserialize(BytesDeserializer::new(data)).map(Some),
            None => Ok(None),
        }
    }
}
