//! Checking a [`Value`] against compiled [`Node`]s. The fast mode stops at the first
//! problem; the collecting mode walks on to count and report every one (a union, `not`
//! and `oneOf` look at their members in the fast mode and report one problem).

use super::compile::{escape, Additional, Keyword, Kinds, Node};
use super::{ValidationErrors, ValidationIssue, MAX_REPORTED};
use crate::value::Value;

pub(super) struct Checker<'a> {
    nodes: &'a [Node],
    collect: bool,
    path: String,
    total: usize,
    first: Vec<ValidationIssue>,
}

/// The kind bit of a value (numbers: `INTEGER` when integral, else `NUMBER`).
fn kind_of(v: &Value) -> u16 {
    match v {
        Value::Null => Kinds::NULL,
        Value::Bool(_) => Kinds::BOOL,
        Value::Int(_) | Value::UInt(_) => Kinds::INTEGER,
        Value::Float(f) if f.is_finite() && f.fract() == 0.0 => Kinds::INTEGER,
        Value::Float(f) if f.is_finite() => Kinds::NUMBER,
        // NaN and ±Infinity are not numbers to TypeBox.
        Value::Float(_) => 0,
        Value::String(_) => Kinds::STRING,
        Value::Array(_) => Kinds::ARRAY,
        Value::Object(_) => Kinds::OBJECT,
        Value::Bytes(_) => Kinds::BYTES,
        Value::BigInt(_) => Kinds::BIGINT,
        Value::Date(_) => Kinds::DATE,
    }
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::UInt(u) => Some(*u as f64),
        Value::Float(f) => Some(*f),
        Value::BigInt(b) => b.to_i128().map(|i| i as f64),
        _ => None,
    }
}

/// JavaScript deep equality of decoded values (numbers by value: `1` equals `1.0`;
/// objects regardless of key order).
pub(super) fn deep_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Int(_) | Value::UInt(_) | Value::Float(_), _)
        | (_, Value::Int(_) | Value::UInt(_) | Value::Float(_)) => match (a, b) {
            (Value::Int(x), Value::Int(y)) => x == y,
            (Value::UInt(x), Value::UInt(y)) => x == y,
            (Value::BigInt(_), _) | (_, Value::BigInt(_)) => false,
            _ => match (as_f64(a), as_f64(b)) {
                (Some(x), Some(y)) => x == y,
                _ => false,
            },
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| deep_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| deep_eq(v, w)))
        }
        _ => a == b,
    }
}

/// A string's length as the reference's TypeBox (1.1.38) measures it: in extended
/// grapheme clusters (`"😀"`, `"e\u{301}"` and `"🇺🇸"` are each 1).
pub(super) fn text_len(s: &str) -> u64 {
    if s.is_ascii() {
        // No combining characters: one cluster per byte, except CR LF.
        if !s.as_bytes().contains(&b'\r') {
            return s.len() as u64;
        }
        return (s.len() - s.matches("\r\n").count()) as u64;
    }
    unicode_segmentation::UnicodeSegmentation::graphemes(s, true).count() as u64
}

/// JavaScript's number formatting for the bounds in messages (`3`, `0.5`).
fn num(n: f64) -> String {
    format!("{n}")
}

/// Whether `value` is a multiple of `m`, tolerating binary rounding as TypeBox does
/// (the quotient within 1e-10 of an integer: `0.3` is a multiple of `0.1`,
/// `123456789.1` is not).
pub(super) fn is_multiple(value: f64, m: f64) -> bool {
    let q = value / m;
    q.is_finite() && (q - q.round()).abs() < 1e-10
}

/// Whether `value` matches node `idx` (the fast mode, nothing recorded).
pub(super) fn tree_matches(nodes: &[Node], idx: usize, value: &Value) -> bool {
    Checker::new(nodes, false).visit(idx, value)
}

impl<'a> Checker<'a> {
    pub(super) fn new(nodes: &'a [Node], collect: bool) -> Self {
        Checker {
            nodes,
            collect,
            path: String::new(),
            total: 0,
            first: Vec::new(),
        }
    }

    pub(super) fn run(mut self, value: &Value) -> Result<(), ValidationErrors> {
        let ok = self.visit(0, value);
        if ok && self.total == 0 {
            return Ok(());
        }
        if self.total == 0 {
            // Should not happen; report the root rather than nothing.
            self.fail("must match the schema");
        }
        Err(ValidationErrors {
            total: self.total,
            first: self.first,
        })
    }

    fn fail(&mut self, message: impl Into<String>) {
        self.fail_at(None, message);
    }

    /// Records a problem at the current path, or at the current path plus `key`.
    fn fail_at(&mut self, key: Option<&str>, message: impl Into<String>) {
        self.total += 1;
        if self.collect && self.first.len() < MAX_REPORTED {
            let path = match key {
                Some(k) => format!("{}/{}", self.path, escape(k)),
                None => self.path.clone(),
            };
            self.first.push(ValidationIssue {
                path,
                message: message.into(),
            });
        }
    }

    /// Whether `value` matches node `idx`, checked on the side (no problems recorded).
    fn probe(&self, idx: usize, value: &Value) -> bool {
        let mut c = Checker::new(self.nodes, false);
        c.visit(idx, value)
    }

    fn child(&mut self, segment: &str, idx: usize, value: &Value) -> bool {
        if !self.collect {
            // Paths are only reported when collecting.
            return self.visit(idx, value);
        }
        let len = self.path.len();
        // TypeBox does not escape the instance path (River escapes only the property
        // names it appends; see `fail_at`).
        self.path.push('/');
        self.path.push_str(segment);
        let ok = self.visit(idx, value);
        self.path.truncate(len);
        ok
    }

    fn visit(&mut self, idx: usize, value: &Value) -> bool {
        let nodes = self.nodes;
        let Some(node) = nodes.get(idx) else {
            return true;
        };
        if node.never {
            self.fail("must not be present");
            return false;
        }
        let kind = kind_of(value);
        if let Some(Kinds(allowed)) = node.kinds {
            // A Uint8Array and a Date are objects to JavaScript.
            let object_like =
                kind & (Kinds::BYTES | Kinds::DATE) != 0 && allowed & Kinds::OBJECT != 0;
            if allowed & kind == 0 && !object_like {
                self.fail(format!("must be {}", node.kind_names));
                return false;
            }
        }
        let mut ok = true;
        for kw in &node.keywords {
            if !self.keyword(kw, value) {
                ok = false;
                if !self.collect {
                    return false;
                }
            }
        }
        ok
    }

    fn keyword(&mut self, kw: &Keyword, value: &Value) -> bool {
        match kw {
            Keyword::Ref(target) => self.visit(*target, value),
            Keyword::Const(c) => self.expect(deep_eq(value, c), || "must be equal to constant"),
            Keyword::Enum(items) => self.expect(items.iter().any(|c| deep_eq(value, c)), || {
                "must be equal to one of the allowed values"
            }),
            Keyword::AnyOf(subs) => {
                let ok = subs.iter().any(|s| self.probe(*s, value));
                if !ok && self.collect {
                    // Like TypeBox: what each member found, then the union's own error.
                    for s in subs {
                        self.visit(*s, value);
                    }
                }
                self.expect(ok, || "must match a schema in anyOf")
            }
            Keyword::OneOf(subs) => {
                let n = subs.iter().filter(|s| self.probe(**s, value)).count();
                self.expect(n == 1, || "must match exactly one schema in oneOf")
            }
            Keyword::AllOf(subs) => {
                let mut ok = true;
                for s in subs {
                    if !self.visit(*s, value) {
                        ok = false;
                        if !self.collect {
                            break;
                        }
                    }
                }
                ok
            }
            Keyword::Not(sub) => {
                let matched = self.probe(*sub, value);
                self.expect(!matched, || "must NOT be valid")
            }
            Keyword::MinLength(n) => match value {
                Value::String(s) => self.expect(text_len(s) >= *n, || {
                    format!("must NOT have fewer than {n} characters")
                }),
                _ => true,
            },
            Keyword::MaxLength(n) => match value {
                Value::String(s) => self.expect(text_len(s) <= *n, || {
                    format!("must NOT have more than {n} characters")
                }),
                _ => true,
            },
            Keyword::Pattern(p) => match value {
                Value::String(s) => self.expect(p.is_match(s), || {
                    format!("must match pattern \"{}\"", p.source())
                }),
                _ => true,
            },
            Keyword::Format(f) => match value {
                Value::String(s) => self.expect(f.matches(s), || {
                    format!("must match format \"{}\"", f.name())
                }),
                _ => true,
            },
            Keyword::Minimum(m) => {
                self.bound(value, |v| v >= *m, || format!("must be >= {}", num(*m)))
            }
            Keyword::Maximum(m) => {
                self.bound(value, |v| v <= *m, || format!("must be <= {}", num(*m)))
            }
            Keyword::ExclusiveMinimum(m) => {
                self.bound(value, |v| v > *m, || format!("must be > {}", num(*m)))
            }
            Keyword::ExclusiveMaximum(m) => {
                self.bound(value, |v| v < *m, || format!("must be < {}", num(*m)))
            }
            Keyword::MultipleOf(m) => self.bound(
                value,
                |v| is_multiple(v, *m),
                || format!("must be multiple of {}", num(*m)),
            ),
            Keyword::MinItems(n) => match value {
                Value::Array(a) => self.expect(a.len() as u64 >= *n, || {
                    format!("must NOT have fewer than {n} items")
                }),
                _ => true,
            },
            Keyword::MaxItems(n) => match value {
                Value::Array(a) => self.expect(a.len() as u64 <= *n, || {
                    format!("must NOT have more than {n} items")
                }),
                _ => true,
            },
            Keyword::UniqueItems => match value {
                Value::Array(a) => {
                    let dup = (0..a.len())
                        .flat_map(|j| (0..j).map(move |i| (i, j)))
                        .find(|&(i, j)| deep_eq(&a[i], &a[j]));
                    match dup {
                        None => true,
                        Some((i, j)) => self.expect(
                            false,
                            || format!("must NOT have duplicate items (items ## {j} and {i} are identical)"),
                        ),
                    }
                }
                _ => true,
            },
            Keyword::Items(sub) => match value {
                Value::Array(a) => self.items(a, 0, *sub),
                _ => true,
            },
            Keyword::Tuple { prefix, rest } => match value {
                Value::Array(a) => {
                    let mut ok = true;
                    for (i, (item, sub)) in a.iter().zip(prefix).enumerate() {
                        if !self.child(&i.to_string(), *sub, item) {
                            ok = false;
                            if !self.collect {
                                return false;
                            }
                        }
                    }
                    match rest {
                        Some(Some(sub)) if a.len() > prefix.len() => {
                            ok &= self.items(a, prefix.len(), *sub);
                        }
                        None if a.len() > prefix.len() => {
                            for i in prefix.len()..a.len() {
                                let len = self.path.len();
                                self.path.push_str(&format!("/{i}"));
                                self.fail("boolean schema is false");
                                self.path.truncate(len);
                            }
                            ok = false;
                        }
                        _ => {}
                    }
                    ok
                }
                _ => true,
            },
            Keyword::Properties(p) => match value {
                Value::Object(obj) => self.properties(p, obj),
                // As JavaScript objects: a Date has no own keys, a Uint8Array its indices.
                Value::Date(_) => self.properties(p, &indexmap::IndexMap::new()),
                Value::Bytes(b) => {
                    let obj = b
                        .as_slice()
                        .iter()
                        .enumerate()
                        .map(|(i, x)| (i.to_string(), Value::Int(i64::from(*x))))
                        .collect();
                    self.properties(p, &obj)
                }
                _ => true,
            },
            Keyword::PropertyNames(sub) => match value {
                Value::Object(obj) => {
                    let bad: Vec<&String> = obj
                        .keys()
                        .filter(|k| !self.probe(*sub, &Value::String((*k).clone())))
                        .collect();
                    if bad.is_empty() {
                        return true;
                    }
                    let names = bad
                        .iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(", ");
                    for k in &bad {
                        self.fail_at(Some(k), format!("property names {names} are invalid"));
                    }
                    false
                }
                _ => true,
            },
            Keyword::Unevaluated { known, patterns } => match value {
                Value::Object(obj) => {
                    let mut ok = true;
                    for key in obj.keys() {
                        let evaluated = known.iter().any(|k| k == key)
                            || patterns.iter().any(|p| p.is_match(key));
                        if !evaluated {
                            ok = false;
                            self.fail_at(Some(key), "must not have unevaluated properties");
                            if !self.collect {
                                return false;
                            }
                        }
                    }
                    ok
                }
                _ => true,
            },
            Keyword::MinProperties(n) => match value {
                Value::Object(o) => self.expect(o.len() as u64 >= *n, || {
                    format!("must NOT have fewer than {n} properties")
                }),
                _ => true,
            },
            Keyword::MaxProperties(n) => match value {
                Value::Object(o) => self.expect(o.len() as u64 <= *n, || {
                    format!("must NOT have more than {n} properties")
                }),
                _ => true,
            },
            Keyword::MinByteLength(n) => match value {
                Value::Bytes(b) => self.expect(b.as_slice().len() as u64 >= *n, || {
                    format!("must NOT have fewer than {n} bytes")
                }),
                _ => true,
            },
            Keyword::MaxByteLength(n) => match value {
                Value::Bytes(b) => self.expect(b.as_slice().len() as u64 <= *n, || {
                    format!("must NOT have more than {n} bytes")
                }),
                _ => true,
            },
            Keyword::MinimumTimestamp(t) => self.date(value, |ms| ms >= *t, "must be >=", *t),
            Keyword::MaximumTimestamp(t) => self.date(value, |ms| ms <= *t, "must be <=", *t),
            Keyword::ExclusiveMinimumTimestamp(t) => {
                self.date(value, |ms| ms > *t, "must be >", *t)
            }
            Keyword::ExclusiveMaximumTimestamp(t) => {
                self.date(value, |ms| ms < *t, "must be <", *t)
            }
            Keyword::MultipleOfTimestamp(t) => {
                self.date(value, |ms| ms % *t == 0, "must be a multiple of", *t)
            }
        }
    }

    /// Records `message()` when `ok` is false (the message is only built then).
    fn expect<M: Into<String>>(&mut self, ok: bool, message: impl FnOnce() -> M) -> bool {
        if !ok {
            self.fail(message());
        }
        ok
    }

    /// A numeric bound: applies to numbers and bigints only.
    fn bound(
        &mut self,
        value: &Value,
        test: impl Fn(f64) -> bool,
        message: impl Fn() -> String,
    ) -> bool {
        match as_f64(value) {
            Some(v) if !matches!(value, Value::Float(f) if !f.is_finite()) => {
                if test(v) {
                    true
                } else {
                    self.fail(message());
                    false
                }
            }
            _ => true,
        }
    }

    fn date(&mut self, value: &Value, test: impl Fn(i64) -> bool, what: &str, t: i64) -> bool {
        match value {
            Value::Date(d) => self.expect(test(d.millis()), || format!("{what} timestamp {t}")),
            _ => true,
        }
    }

    fn items(&mut self, a: &[Value], from: usize, sub: usize) -> bool {
        let mut ok = true;
        for (i, item) in a.iter().enumerate().skip(from) {
            let item_ok = if self.collect {
                self.child(&i.to_string(), sub, item)
            } else {
                self.visit(sub, item)
            };
            if !item_ok {
                ok = false;
                if !self.collect {
                    return false;
                }
            }
        }
        ok
    }

    /// The same answer as [`Checker::properties`] in one pass over the object, without
    /// hashing (objects and schemas are small): each key is looked up in the declared
    /// properties, and required ones are counted.
    fn properties_fast(
        &mut self,
        p: &super::compile::Properties,
        mask: u64,
        obj: &indexmap::IndexMap<String, Value>,
    ) -> bool {
        let mut seen = 0u64;
        for (key, v) in obj {
            let declared = p.props.iter().position(|(n, _)| n == key);
            if let Some(i) = declared {
                seen |= 1 << i;
                if !self.visit(p.props[i].1, v) {
                    return false;
                }
            }
            let mut matched = false;
            for (pattern, sub) in &p.patterns {
                if pattern.is_match(key) {
                    matched = true;
                    if !self.visit(*sub, v) {
                        return false;
                    }
                }
            }
            if declared.is_none() && !matched {
                match p.additional {
                    Additional::Allow => {}
                    Additional::Deny => return false,
                    Additional::Schema(sub) => {
                        if !self.visit(sub, v) {
                            return false;
                        }
                    }
                }
            }
        }
        seen & mask == mask && p.required_undeclared.iter().all(|r| obj.contains_key(r))
    }

    fn properties(
        &mut self,
        p: &super::compile::Properties,
        obj: &indexmap::IndexMap<String, Value>,
    ) -> bool {
        if !self.collect {
            if let Some(mask) = p.required_mask {
                return self.properties_fast(p, mask, obj);
            }
        }
        let mut ok = true;
        for name in &p.required {
            if !obj.contains_key(name) {
                ok = false;
                self.fail_at(Some(name), format!("must have required properties {name}"));
                if !self.collect {
                    return false;
                }
            }
        }
        for (name, sub) in &p.props {
            if let Some(v) = obj.get(name) {
                if !self.child(name, *sub, v) {
                    ok = false;
                    if !self.collect {
                        return false;
                    }
                }
            }
        }
        if p.patterns.is_empty() && matches!(p.additional, Additional::Allow) {
            return ok;
        }
        for (key, v) in obj {
            let declared = p.props.iter().any(|(n, _)| n == key);
            let mut matched = false;
            for (pattern, sub) in &p.patterns {
                if pattern.is_match(key) {
                    matched = true;
                    if !self.child(key, *sub, v) {
                        ok = false;
                        if !self.collect {
                            return false;
                        }
                    }
                }
            }
            if declared || matched {
                continue;
            }
            match p.additional {
                Additional::Allow => {}
                Additional::Deny => {
                    ok = false;
                    self.fail_at(Some(key), "must NOT have additional properties");
                    if !self.collect {
                        return false;
                    }
                }
                Additional::Schema(sub) => {
                    if !self.child(key, sub, v) {
                        ok = false;
                        if !self.collect {
                            return false;
                        }
                    }
                }
            }
        }
        ok
    }
}
