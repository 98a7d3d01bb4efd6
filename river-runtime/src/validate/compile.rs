//! From a JSON Schema (TypeBox's dialect) to a flat list of [`Node`]s; references
//! (`$ref` to an `$id`, `#`, `#/$defs/…` or `#/definitions/…`) become indices, so
//! recursive schemas compile to cycles.

use std::collections::HashMap;

use serde_json::{Map, Value as Json};

use super::format::Format;
use super::pattern::{self, Pattern};
use super::SchemaError;
use crate::value::Value;

/// The kinds of value a node accepts (a bit set).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Kinds(pub u16);

impl Kinds {
    pub const NULL: u16 = 1;
    pub const BOOL: u16 = 2;
    pub const INTEGER: u16 = 4;
    pub const NUMBER: u16 = 8;
    pub const STRING: u16 = 16;
    pub const ARRAY: u16 = 32;
    pub const OBJECT: u16 = 64;
    pub const BYTES: u16 = 128;
    pub const BIGINT: u16 = 256;
    pub const DATE: u16 = 512;
    pub const UNDEFINED: u16 = 1024;

    fn from_name(name: &str) -> Option<u16> {
        Some(match name {
            "null" => Kinds::NULL,
            // JavaScript's `undefined`, which no wire value is (not even `null`).
            "void" | "undefined" => Kinds::UNDEFINED,
            "boolean" => Kinds::BOOL,
            "integer" => Kinds::INTEGER,
            "number" => Kinds::NUMBER,
            "string" => Kinds::STRING,
            "array" => Kinds::ARRAY,
            "object" => Kinds::OBJECT,
            "Uint8Array" | "uint8array" => Kinds::BYTES,
            "bigint" => Kinds::BIGINT,
            "Date" => Kinds::DATE,
            _ => return None,
        })
    }
}

/// What a value must be besides its kind.
#[derive(Clone, Debug)]
pub(super) enum Keyword {
    Const(Value),
    Enum(Vec<Value>),
    AnyOf(Vec<usize>),
    OneOf(Vec<usize>),
    AllOf(Vec<usize>),
    Not(usize),
    Ref(usize),
    MinLength(u64),
    MaxLength(u64),
    Pattern(Box<Pattern>),
    Format(Format),
    Minimum(f64),
    Maximum(f64),
    ExclusiveMinimum(f64),
    ExclusiveMaximum(f64),
    MultipleOf(f64),
    MinItems(u64),
    MaxItems(u64),
    UniqueItems,
    /// Every item (after the tuple prefix, if any).
    Items(usize),
    /// A tuple: one schema per position; `rest` for later items (`None`: not allowed).
    Tuple {
        prefix: Vec<usize>,
        rest: Option<Option<usize>>,
    },
    Properties(Box<Properties>),
    /// Every key must match this schema (as a string).
    PropertyNames(usize),
    /// `unevaluatedProperties: false`: keys no `properties`/`patternProperties` of this
    /// node or its `allOf` members declares are not allowed.
    Unevaluated {
        known: Vec<String>,
        patterns: Vec<Pattern>,
    },
    MinProperties(u64),
    MaxProperties(u64),
    MinByteLength(u64),
    MaxByteLength(u64),
    MinimumTimestamp(i64),
    MaximumTimestamp(i64),
    ExclusiveMinimumTimestamp(i64),
    ExclusiveMaximumTimestamp(i64),
    MultipleOfTimestamp(i64),
}

/// What `additionalProperties` says.
#[derive(Clone, Debug)]
pub(super) enum Additional {
    Allow,
    Deny,
    Schema(usize),
}

/// The object keywords of a node.
#[derive(Clone, Debug)]
pub(super) struct Properties {
    pub props: Vec<(String, usize)>,
    pub required: Vec<String>,
    pub patterns: Vec<(Pattern, usize)>,
    pub additional: Additional,
    /// For the one-pass check (at most 64 properties): bit `i` set when `props[i]` is
    /// required; `None` when there are more properties than bits.
    pub required_mask: Option<u64>,
    /// Required names that `props` does not declare.
    pub required_undeclared: Vec<String>,
}

/// One schema: the kinds it accepts (`None`: any) and its other keywords.
#[derive(Clone, Debug, Default)]
pub(super) struct Node {
    pub kinds: Option<Kinds>,
    pub kind_names: String,
    pub never: bool,
    pub keywords: Vec<Keyword>,
}

struct Compiler {
    nodes: Vec<Node>,
    ids: HashMap<String, usize>,
    /// `(node, keyword index, reference, schema path)` to resolve at the end.
    refs: Vec<(usize, usize, String, String)>,
}

/// Compiles `schema`; node 0 is the root.
pub(super) fn compile(schema: &Json) -> Result<Vec<Node>, SchemaError> {
    let mut c = Compiler {
        nodes: Vec::new(),
        ids: HashMap::new(),
        refs: Vec::new(),
    };
    let root = c.node(schema, "")?;
    c.ids.insert("#".to_string(), root);
    for (node, kw, target, path) in std::mem::take(&mut c.refs) {
        let idx = c.ids.get(&target).copied().ok_or_else(|| SchemaError {
            path,
            message: format!("`$ref` to `{target}`, which the schema does not define"),
        })?;
        c.nodes[node].keywords[kw] = Keyword::Ref(idx);
    }
    Ok(c.nodes)
}

/// JSON-pointer escaping of one segment.
pub(super) fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn err(path: &str, key: &str, message: impl Into<String>) -> SchemaError {
    SchemaError {
        path: format!("{path}/{key}"),
        message: message.into(),
    }
}

fn count(map: &Map<String, Json>, key: &str, path: &str) -> Result<Option<u64>, SchemaError> {
    match map.get(key) {
        None => Ok(None),
        Some(v) => match v.as_u64() {
            Some(n) => Ok(Some(n)),
            None => match v.as_f64() {
                Some(f) if f >= 0.0 && f.fract() == 0.0 && f <= u64::MAX as f64 => {
                    Ok(Some(f as u64))
                }
                _ => Err(err(path, key, "must be a non-negative integer")),
            },
        },
    }
}

fn number(map: &Map<String, Json>, key: &str, path: &str) -> Result<Option<f64>, SchemaError> {
    match map.get(key) {
        None => Ok(None),
        Some(v) => v
            .as_f64()
            .map(Some)
            .ok_or_else(|| err(path, key, "must be a number")),
    }
}

fn timestamp(map: &Map<String, Json>, key: &str, path: &str) -> Result<Option<i64>, SchemaError> {
    match number(map, key, path)? {
        None => Ok(None),
        Some(f) if f.is_finite() => Ok(Some(f as i64)),
        Some(_) => Err(err(path, key, "must be a finite number")),
    }
}

fn to_value(json: &Json) -> Value {
    // Plain JSON always converts.
    Value::from_serialize(json).unwrap_or(Value::Null)
}

impl Compiler {
    fn node(&mut self, schema: &Json, path: &str) -> Result<usize, SchemaError> {
        let idx = self.nodes.len();
        self.nodes.push(Node::default());
        let map = match schema {
            Json::Bool(true) => return Ok(idx),
            Json::Bool(false) => {
                self.nodes[idx].never = true;
                return Ok(idx);
            }
            Json::Object(map) => map,
            // Not a schema (samples put placeholder text where TypeBox could not
            // express a type): nothing to check, as the code generator treats it.
            _ => return Ok(idx),
        };
        if let Some(Json::String(id)) = map.get("$id") {
            self.ids.insert(id.clone(), idx);
        }
        // Definitions (TypeBox 1.x `Type.Cyclic` puts them beside its `$ref`, at any
        // depth): reachable by name, `#/$defs/name` and their own `$id`.
        for defs in ["$defs", "definitions"] {
            if let Some(Json::Object(entries)) = map.get(defs) {
                for (name, def) in entries {
                    let dpath = format!("{path}/{defs}/{}", escape(name));
                    let d = self.node(def, &dpath)?;
                    self.ids.insert(format!("#/{defs}/{}", escape(name)), d);
                    // Writers do not always escape the pointer; accept the raw name too.
                    self.ids.entry(format!("#/{defs}/{name}")).or_insert(d);
                    self.ids.entry(name.clone()).or_insert(d);
                }
            }
        }
        let mut node = Node::default();
        let mut kw = Vec::new();
        if let Some(t) = map.get("type") {
            let names: Vec<&str> = match t {
                Json::String(s) => vec![s.as_str()],
                Json::Array(items) => items.iter().filter_map(Json::as_str).collect(),
                _ => return Err(err(path, "type", "must be a string or an array of strings")),
            };
            let mut bits = 0;
            for name in &names {
                bits |= Kinds::from_name(name)
                    .ok_or_else(|| err(path, "type", format!("unknown type `{name}`")))?;
            }
            // An integer is a number too.
            if bits & Kinds::NUMBER != 0 {
                bits |= Kinds::INTEGER;
            }
            node.kinds = Some(Kinds(bits));
            node.kind_names = names.join(",");
        }
        if let Some(Json::String(r)) = map.get("$ref") {
            self.refs
                .push((idx, kw.len(), r.clone(), format!("{path}/$ref")));
            kw.push(Keyword::Ref(0));
        }
        if let Some(c) = map.get("const") {
            kw.push(Keyword::Const(to_value(c)));
        }
        if let Some(e) = map.get("enum") {
            let items = e
                .as_array()
                .ok_or_else(|| err(path, "enum", "must be an array"))?;
            kw.push(Keyword::Enum(items.iter().map(to_value).collect()));
        }
        for (key, make) in [
            ("anyOf", Keyword::AnyOf as fn(Vec<usize>) -> Keyword),
            ("oneOf", Keyword::OneOf),
            ("allOf", Keyword::AllOf),
        ] {
            if let Some(list) = map.get(key) {
                let list = list
                    .as_array()
                    .ok_or_else(|| err(path, key, "must be an array of schemas"))?;
                let mut subs = Vec::with_capacity(list.len());
                for (i, s) in list.iter().enumerate() {
                    subs.push(self.node(s, &format!("{path}/{key}/{i}"))?);
                }
                kw.push(make(subs));
            }
        }
        if let Some(n) = map.get("not") {
            let sub = self.node(n, &format!("{path}/not"))?;
            kw.push(Keyword::Not(sub));
        }
        // Strings.
        if let Some(n) = count(map, "minLength", path)? {
            kw.push(Keyword::MinLength(n));
        }
        if let Some(n) = count(map, "maxLength", path)? {
            kw.push(Keyword::MaxLength(n));
        }
        if let Some(p) = map.get("pattern") {
            let p = p
                .as_str()
                .ok_or_else(|| err(path, "pattern", "must be a string"))?;
            let compiled = pattern::compile(p).map_err(|m| err(path, "pattern", m))?;
            kw.push(Keyword::Pattern(Box::new(compiled)));
        }
        if let Some(f) = map.get("format") {
            let f = f
                .as_str()
                .ok_or_else(|| err(path, "format", "must be a string"))?;
            kw.push(Keyword::Format(Format::new(f)));
        }
        // Numbers.
        for (key, make) in [
            ("minimum", Keyword::Minimum as fn(f64) -> Keyword),
            ("maximum", Keyword::Maximum),
            ("exclusiveMinimum", Keyword::ExclusiveMinimum),
            ("exclusiveMaximum", Keyword::ExclusiveMaximum),
        ] {
            // Draft 4's boolean `exclusiveMinimum` is not TypeBox's; only numbers count.
            if map.get(key).is_some_and(Json::is_number) {
                if let Some(n) = number(map, key, path)? {
                    kw.push(make(n));
                }
            }
        }
        if let Some(m) = number(map, "multipleOf", path)? {
            if m <= 0.0 {
                return Err(err(path, "multipleOf", "must be greater than 0"));
            }
            kw.push(Keyword::MultipleOf(m));
        }
        // Arrays.
        if let Some(n) = count(map, "minItems", path)? {
            kw.push(Keyword::MinItems(n));
        }
        if let Some(n) = count(map, "maxItems", path)? {
            kw.push(Keyword::MaxItems(n));
        }
        if map.get("uniqueItems") == Some(&Json::Bool(true)) {
            kw.push(Keyword::UniqueItems);
        }
        self.items(map, path, &mut kw)?;
        // Objects.
        self.properties(map, path, &mut kw)?;
        if let Some(names) = map.get("propertyNames") {
            let sub = self.node(names, &format!("{path}/propertyNames"))?;
            kw.push(Keyword::PropertyNames(sub));
        }
        if map.get("unevaluatedProperties") == Some(&Json::Bool(false)) {
            let mut known = Vec::new();
            let mut patterns = Vec::new();
            let mut members: Vec<&Json> = vec![schema];
            if let Some(Json::Array(all)) = map.get("allOf") {
                members.extend(all.iter());
            }
            for m in members {
                if let Some(Json::Object(props)) = m.get("properties") {
                    known.extend(props.keys().cloned());
                }
                if let Some(Json::Object(pp)) = m.get("patternProperties") {
                    for source in pp.keys() {
                        if let Ok(p) = pattern::compile(source) {
                            patterns.push(p);
                        }
                    }
                }
            }
            kw.push(Keyword::Unevaluated { known, patterns });
        }
        if let Some(n) = count(map, "minProperties", path)? {
            kw.push(Keyword::MinProperties(n));
        }
        if let Some(n) = count(map, "maxProperties", path)? {
            kw.push(Keyword::MaxProperties(n));
        }
        // Uint8Array and Date.
        if let Some(n) = count(map, "minByteLength", path)? {
            kw.push(Keyword::MinByteLength(n));
        }
        if let Some(n) = count(map, "maxByteLength", path)? {
            kw.push(Keyword::MaxByteLength(n));
        }
        for (key, make) in [
            (
                "minimumTimestamp",
                Keyword::MinimumTimestamp as fn(i64) -> Keyword,
            ),
            ("maximumTimestamp", Keyword::MaximumTimestamp),
            (
                "exclusiveMinimumTimestamp",
                Keyword::ExclusiveMinimumTimestamp,
            ),
            (
                "exclusiveMaximumTimestamp",
                Keyword::ExclusiveMaximumTimestamp,
            ),
        ] {
            if let Some(t) = timestamp(map, key, path)? {
                kw.push(make(t));
            }
        }
        if let Some(t) = timestamp(map, "multipleOfTimestamp", path)? {
            if t <= 0 {
                return Err(err(path, "multipleOfTimestamp", "must be greater than 0"));
            }
            kw.push(Keyword::MultipleOfTimestamp(t));
        }
        node.keywords = kw;
        self.nodes[idx] = node;
        Ok(idx)
    }

    fn items(
        &mut self,
        map: &Map<String, Json>,
        path: &str,
        kw: &mut Vec<Keyword>,
    ) -> Result<(), SchemaError> {
        let prefix_list = match (map.get("prefixItems"), map.get("items")) {
            (Some(Json::Array(list)), _) => Some(("prefixItems", list)),
            (None, Some(Json::Array(list))) => Some(("items", list)),
            _ => None,
        };
        let Some((key, list)) = prefix_list else {
            if let Some(items) = map.get("items") {
                let sub = self.node(items, &format!("{path}/items"))?;
                kw.push(Keyword::Items(sub));
            }
            return Ok(());
        };
        let mut prefix = Vec::with_capacity(list.len());
        for (i, s) in list.iter().enumerate() {
            prefix.push(self.node(s, &format!("{path}/{key}/{i}"))?);
        }
        // After the prefix: `items` (2020-12) or `additionalItems` (draft 7).
        let rest_key = if key == "prefixItems" {
            "items"
        } else {
            "additionalItems"
        };
        let rest = match map.get(rest_key) {
            None | Some(Json::Bool(true)) => Some(None),
            Some(Json::Bool(false)) => None,
            Some(s) => Some(Some(self.node(s, &format!("{path}/{rest_key}"))?)),
        };
        kw.push(Keyword::Tuple { prefix, rest });
        Ok(())
    }

    fn properties(
        &mut self,
        map: &Map<String, Json>,
        path: &str,
        kw: &mut Vec<Keyword>,
    ) -> Result<(), SchemaError> {
        let has_any = [
            "properties",
            "required",
            "patternProperties",
            "additionalProperties",
        ]
        .iter()
        .any(|k| map.contains_key(*k));
        if !has_any {
            return Ok(());
        }
        let mut props = Vec::new();
        if let Some(p) = map.get("properties") {
            let p = p
                .as_object()
                .ok_or_else(|| err(path, "properties", "must be an object"))?;
            for (name, s) in p {
                let sub = self.node(s, &format!("{path}/properties/{}", escape(name)))?;
                props.push((name.clone(), sub));
            }
        }
        let mut required = Vec::new();
        if let Some(r) = map.get("required") {
            let r = r
                .as_array()
                .ok_or_else(|| err(path, "required", "must be an array of strings"))?;
            for name in r {
                let name = name
                    .as_str()
                    .ok_or_else(|| err(path, "required", "must be an array of strings"))?;
                required.push(name.to_string());
            }
        }
        let mut patterns = Vec::new();
        if let Some(p) = map.get("patternProperties") {
            let p = p
                .as_object()
                .ok_or_else(|| err(path, "patternProperties", "must be an object"))?;
            for (source, s) in p {
                let compiled = pattern::compile(source)
                    .map_err(|m| err(&format!("{path}/patternProperties"), &escape(source), m))?;
                let sub = self.node(s, &format!("{path}/patternProperties/{}", escape(source)))?;
                patterns.push((compiled, sub));
            }
        }
        let additional = match map.get("additionalProperties") {
            None | Some(Json::Bool(true)) => Additional::Allow,
            Some(Json::Bool(false)) => Additional::Deny,
            Some(s) => Additional::Schema(self.node(s, &format!("{path}/additionalProperties"))?),
        };
        let required_mask = (props.len() <= 64).then(|| {
            props
                .iter()
                .enumerate()
                .filter(|(_, (name, _))| required.contains(name))
                .fold(0u64, |mask, (i, _)| mask | (1 << i))
        });
        let required_undeclared = required
            .iter()
            .filter(|r| !props.iter().any(|(n, _)| n == *r))
            .cloned()
            .collect();
        kw.push(Keyword::Properties(Box::new(Properties {
            props,
            required,
            patterns,
            additional,
            required_mask,
            required_undeclared,
        })));
        Ok(())
    }
}
