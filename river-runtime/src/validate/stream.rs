//! Checking an encoded payload without building a [`Value`]: a serde `DeserializeSeed`
//! per schema node walks the JSON or msgpack bytes and applies the keywords as values
//! go by, skipping what no schema constrains. Strings are borrowed where the codec
//! allows, so a valid payload costs one parse and no allocation.
//!
//! Only the answer (valid or not) comes out; the caller decodes again, on the
//! [`Value`] path, to report errors. Subtrees whose keywords need the whole value
//! (unions, `const`, `enum`, `uniqueItems`, tuples, `Uint8Array`/`bigint`/`Date`, …)
//! are decoded into a [`Value`] and handed to the tree checker; shapes this walker does
//! not interpret (the JSON codec's `$t`/`$b` objects, msgpack extensions, binary) make
//! it give up, and the caller takes the [`Value`] path for the whole payload.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::check::{is_multiple, text_len, tree_matches};
use super::compile::{Additional, Keyword, Kinds, Node};
use crate::value::Value;

/// The error text that means "the value does not match".
const INVALID: &str = "\u{0}river-validate:invalid";
/// The error text that means "this walker cannot decide; use the Value path".
const GIVE_UP: &str = "\u{0}river-validate:give-up";

/// What the walk concluded.
pub(super) enum Walk {
    Valid,
    Invalid,
    /// Undecided (or the bytes do not parse): check the decoded value instead.
    GiveUp,
}

/// Walks a deserializer; maps the walker's error texts back to [`Walk`].
pub(super) fn walk<'de, D>(nodes: &[Node], deserializer: D) -> Walk
where
    D: de::Deserializer<'de>,
    D::Error: fmt::Display,
{
    match (Seed { nodes, idx: 0 }).deserialize(deserializer) {
        Ok(_) => Walk::Valid,
        Err(e) => {
            let text = e.to_string();
            if text.starts_with(INVALID) {
                Walk::Invalid
            } else {
                Walk::GiveUp
            }
        }
    }
}

fn invalid<E: de::Error>() -> E {
    E::custom(INVALID)
}

fn give_up<E: de::Error>() -> E {
    E::custom(GIVE_UP)
}

/// What `uniqueItems` compares: a scalar item, or `Other` for anything else (an
/// array whose items are not all scalars is left to the Value path).
#[derive(Clone, Debug)]
enum Scalar<'de> {
    Null,
    Bool(bool),
    Num(f64),
    Str(Cow<'de, str>),
    Other,
}

impl Scalar<'_> {
    fn same(&self, other: &Scalar<'_>) -> bool {
        match (self, other) {
            (Scalar::Null, Scalar::Null) => true,
            (Scalar::Bool(a), Scalar::Bool(b)) => a == b,
            (Scalar::Num(a), Scalar::Num(b)) => a == b,
            (Scalar::Str(a), Scalar::Str(b)) => a == b,
            _ => false,
        }
    }
}

/// Whether this walker applies `kw` itself (else the node is checked on a `Value`).
fn streamable(kw: &Keyword) -> bool {
    match kw {
        Keyword::MinLength(_)
        | Keyword::MaxLength(_)
        | Keyword::Pattern(_)
        | Keyword::Format(_)
        | Keyword::Minimum(_)
        | Keyword::Maximum(_)
        | Keyword::ExclusiveMinimum(_)
        | Keyword::ExclusiveMaximum(_)
        | Keyword::MultipleOf(_)
        | Keyword::MinItems(_)
        | Keyword::MaxItems(_)
        | Keyword::UniqueItems
        | Keyword::Items(_)
        | Keyword::MinProperties(_)
        | Keyword::MaxProperties(_) => true,
        Keyword::Properties(p) => p.required_mask.is_some() && p.required_undeclared.is_empty(),
        _ => false,
    }
}

fn needs_value(node: &Node) -> bool {
    let special = Kinds::BYTES | Kinds::BIGINT | Kinds::DATE;
    node.kinds.is_some_and(|Kinds(k)| k & special != 0) || !node.keywords.iter().all(streamable)
}

/// Checks the next value against node `idx`.
struct Seed<'a> {
    nodes: &'a [Node],
    idx: usize,
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Scalar<'de>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Scalar<'de>, D::Error> {
        // Follow plain references (`{"$ref": …}` alone).
        let mut idx = self.idx;
        for _ in 0..64 {
            match self.nodes.get(idx) {
                Some(n) if n.kinds.is_none() && !n.never => match n.keywords.as_slice() {
                    [Keyword::Ref(t)] => idx = *t,
                    _ => break,
                },
                _ => break,
            }
        }
        let Some(node) = self.nodes.get(idx) else {
            return Err(give_up());
        };
        if node.never {
            return Err(invalid());
        }
        if node.kinds.is_none() && node.keywords.is_empty() {
            return deserializer.deserialize_any(AnyScalar);
        }
        if needs_value(node) {
            let value = Value::deserialize(deserializer)?;
            if !tree_matches(self.nodes, idx, &value) {
                return Err(invalid());
            }
            return Ok(match value {
                Value::Null => Scalar::Null,
                Value::Bool(b) => Scalar::Bool(b),
                Value::Int(i) => Scalar::Num(i as f64),
                Value::UInt(u) => Scalar::Num(u as f64),
                Value::Float(f) => Scalar::Num(f),
                Value::String(s) => Scalar::Str(Cow::Owned(s)),
                _ => Scalar::Other,
            });
        }
        deserializer.deserialize_any(NodeVisitor {
            nodes: self.nodes,
            node,
        })
    }
}

struct NodeVisitor<'a> {
    nodes: &'a [Node],
    node: &'a Node,
}

impl NodeVisitor<'_> {
    fn kind<E: de::Error>(&self, kind: u16) -> Result<(), E> {
        match self.node.kinds {
            Some(Kinds(allowed)) if allowed & kind == 0 => Err(invalid()),
            _ => Ok(()),
        }
    }

    fn number<E: de::Error>(&self, v: f64, kind: u16) -> Result<(), E> {
        self.kind(kind)?;
        for kw in &self.node.keywords {
            let ok = match kw {
                Keyword::Minimum(m) => v >= *m,
                Keyword::Maximum(m) => v <= *m,
                Keyword::ExclusiveMinimum(m) => v > *m,
                Keyword::ExclusiveMaximum(m) => v < *m,
                Keyword::MultipleOf(m) => is_multiple(v, *m),
                _ => true,
            };
            if !ok {
                return Err(invalid());
            }
        }
        Ok(())
    }

    fn string<E: de::Error>(&self, s: &str) -> Result<(), E> {
        self.kind(Kinds::STRING)?;
        for kw in &self.node.keywords {
            let ok = match kw {
                Keyword::MinLength(n) => text_len(s) >= *n,
                Keyword::MaxLength(n) => text_len(s) <= *n,
                Keyword::Pattern(p) => p.is_match(s),
                Keyword::Format(f) => f.matches(s),
                _ => true,
            };
            if !ok {
                return Err(invalid());
            }
        }
        Ok(())
    }
}

fn int_kind(v: f64) -> u16 {
    if v.is_finite() && v.fract() == 0.0 {
        Kinds::INTEGER
    } else if v.is_finite() {
        Kinds::NUMBER
    } else {
        0
    }
}

impl<'de> Visitor<'de> for NodeVisitor<'_> {
    type Value = Scalar<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a payload value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar<'de>, E> {
        self.kind(Kinds::BOOL)?;
        Ok(Scalar::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar<'de>, E> {
        self.number(v as f64, Kinds::INTEGER)?;
        Ok(Scalar::Num(v as f64))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar<'de>, E> {
        self.number(v as f64, Kinds::INTEGER)?;
        Ok(Scalar::Num(v as f64))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar<'de>, E> {
        self.number(v, int_kind(v))?;
        Ok(Scalar::Num(v))
    }

    fn visit_i128<E: de::Error>(self, _: i128) -> Result<Scalar<'de>, E> {
        Err(give_up())
    }

    fn visit_u128<E: de::Error>(self, _: u128) -> Result<Scalar<'de>, E> {
        Err(give_up())
    }

    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Scalar<'de>, E> {
        self.string(s)?;
        Ok(Scalar::Str(Cow::Borrowed(s)))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Scalar<'de>, E> {
        self.string(s)?;
        Ok(Scalar::Str(Cow::Owned(s.to_string())))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Scalar<'de>, E> {
        self.kind(Kinds::NULL)?;
        Ok(Scalar::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Scalar<'de>, E> {
        self.kind(Kinds::NULL)?;
        Ok(Scalar::Null)
    }

    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Scalar<'de>, E> {
        Err(give_up())
    }

    fn visit_newtype_struct<D: de::Deserializer<'de>>(self, _: D) -> Result<Scalar<'de>, D::Error> {
        // A msgpack extension (bigint, Date).
        Err(give_up())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar<'de>, A::Error> {
        self.kind(Kinds::ARRAY)?;
        let items = self.node.keywords.iter().find_map(|k| match k {
            Keyword::Items(sub) => Some(*sub),
            _ => None,
        });
        let unique = self
            .node
            .keywords
            .iter()
            .any(|k| matches!(k, Keyword::UniqueItems));
        let mut seen: Vec<Scalar<'de>> = Vec::new();
        let mut n: u64 = 0;
        loop {
            let item = match items {
                Some(idx) => seq.next_element_seed(Seed {
                    nodes: self.nodes,
                    idx,
                })?,
                None if unique => seq.next_element_seed(AnySeed)?,
                None => seq.next_element::<IgnoredAny>()?.map(|_| Scalar::Other),
            };
            let Some(item) = item else { break };
            n += 1;
            if unique {
                if matches!(item, Scalar::Other) {
                    // Deep equality of containers: the Value path does it.
                    return Err(give_up());
                }
                if seen.iter().any(|s| s.same(&item)) {
                    return Err(invalid());
                }
                seen.push(item);
            }
        }
        for kw in &self.node.keywords {
            let ok = match kw {
                Keyword::MinItems(m) => n >= *m,
                Keyword::MaxItems(m) => n <= *m,
                _ => true,
            };
            if !ok {
                return Err(invalid());
            }
        }
        Ok(Scalar::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar<'de>, A::Error> {
        self.kind(Kinds::OBJECT)?;
        let props = self.node.keywords.iter().find_map(|k| match k {
            Keyword::Properties(p) => Some(p),
            _ => None,
        });
        let mut seen = 0u64;
        let mut n: u64 = 0;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            n += 1;
            if key == "$t" || key == "$b" {
                // The JSON codec's bytes / bigint objects: the Value path knows them.
                return Err(give_up());
            }
            let Some(p) = props else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            let declared = p.props.iter().position(|(name, _)| name == key.as_ref());
            let mut matching = p.patterns.iter().filter(|(pat, _)| pat.is_match(&key));
            let first_pattern = matching.next().map(|(_, sub)| *sub);
            if matching.next().is_some() || (declared.is_some() && first_pattern.is_some()) {
                // One value, several schemas: not something a single pass can do.
                return Err(give_up());
            }
            let target = match (declared, first_pattern) {
                (Some(i), _) => {
                    seen |= 1 << i;
                    Some(p.props[i].1)
                }
                (None, Some(sub)) => Some(sub),
                (None, None) => match p.additional {
                    Additional::Allow => None,
                    Additional::Deny => return Err(invalid()),
                    Additional::Schema(sub) => Some(sub),
                },
            };
            match target {
                Some(idx) => {
                    map.next_value_seed(Seed {
                        nodes: self.nodes,
                        idx,
                    })?;
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if let Some(p) = props {
            let mask = p.required_mask.unwrap_or(0);
            if seen & mask != mask {
                return Err(invalid());
            }
        }
        for kw in &self.node.keywords {
            let ok = match kw {
                Keyword::MinProperties(m) => n >= *m,
                Keyword::MaxProperties(m) => n <= *m,
                _ => true,
            };
            if !ok {
                return Err(invalid());
            }
        }
        Ok(Scalar::Other)
    }
}

/// Any value: a scalar is kept (for `uniqueItems`), anything else skipped as `Other`.
struct AnySeed;

impl<'de> DeserializeSeed<'de> for AnySeed {
    type Value = Scalar<'de>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Scalar<'de>, D::Error> {
        d.deserialize_any(AnyScalar)
    }
}

struct AnyScalar;

impl<'de> Visitor<'de> for AnyScalar {
    type Value = Scalar<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Num(v as f64))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Num(v as f64))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Num(v))
    }

    fn visit_i128<E: de::Error>(self, _: i128) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Other)
    }

    fn visit_u128<E: de::Error>(self, _: u128) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Other)
    }

    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Str(Cow::Borrowed(s)))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Str(Cow::Owned(s.to_string())))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Null)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Scalar<'de>, D::Error> {
        d.deserialize_any(AnyScalar)
    }

    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Other)
    }

    fn visit_newtype_struct<D: de::Deserializer<'de>>(self, d: D) -> Result<Scalar<'de>, D::Error> {
        IgnoredAny::deserialize(d)?;
        Ok(Scalar::Other)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar<'de>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Scalar<'de>, A::Error> {
        IgnoredAny.visit_enum(data)?;
        Ok(Scalar::Other)
    }
}

/// A map key, borrowed from the input when the codec allows.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Err(give_up())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Err(give_up())
    }

    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Self::Value, E> {
        Err(give_up())
    }
}
