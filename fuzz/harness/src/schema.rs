//! Structure-aware generation of River-schema-like JSON for the codegen target.

use arbitrary::Arbitrary;
use serde_json::{json, Map, Value};

/// A whole input of the codegen target.
#[derive(Arbitrary, Debug)]
pub enum Input {
    /// Any text, parsed as JSON by the generator.
    Raw(String),
    /// A schema-shaped document.
    Doc(Doc),
}

impl Input {
    /// The JSON text handed to the generator.
    pub fn to_json(&self) -> String {
        match self {
            Input::Raw(s) => s.clone(),
            Input::Doc(d) => d.to_value().to_string(),
        }
    }
}

/// A River schema document.
#[derive(Arbitrary, Debug)]
pub struct Doc {
    /// `{"procedures": ...}` (one service) instead of `{"services": ...}`.
    pub single_service: bool,
    /// Services and their procedures.
    pub services: Vec<(Key, Vec<(Key, Proc)>)>,
    /// `handshakeSchema`
    pub handshake: Option<Schema>,
    /// Extra top-level keys.
    pub extra: Vec<(Key, Json)>,
}

/// One procedure.
#[derive(Arbitrary, Debug)]
pub struct Proc {
    /// `type`: rpc, upload, subscription, stream or anything.
    pub kind: Kind,
    /// `init`
    pub init: Option<Schema>,
    /// `input`
    pub input: Option<Schema>,
    /// `output` (`None` leaves it out)
    pub output: Option<Schema>,
    /// `errors`
    pub errors: Option<Errors>,
    /// `description`
    pub description: Option<Text>,
}

/// A procedure kind.
#[derive(Arbitrary, Debug)]
pub enum Kind {
    /// `rpc`
    Rpc,
    /// `upload`
    Upload,
    /// `subscription`
    Subscription,
    /// `stream`
    Stream,
    /// Any JSON.
    Other(Json),
}

/// An `errors` schema.
#[derive(Arbitrary, Debug)]
pub enum Errors {
    /// `anyOf` of `{code: const, message: string, extras?}` objects.
    Union(Vec<(Text, Option<Schema>)>),
    /// Any schema.
    Schema(Schema),
}

/// Property names, service names, and other keys: short ones collide, keywords and odd
/// characters stress identifier generation.
#[derive(Arbitrary, Debug)]
pub enum Key {
    /// `a`..`f`
    Short(u8),
    /// A Rust keyword or reserved name.
    Keyword(u8),
    /// A name with characters that are not identifier characters.
    Odd(u8),
    /// Anything.
    Any(String),
}

const KEYWORDS: &[&str] = &[
    "type",
    "fn",
    "self",
    "Self",
    "super",
    "crate",
    "mod",
    "r#type",
    "async",
    "await",
    "dyn",
    "union",
    "try",
    "gen",
    "_",
    "",
    "Box",
    "Option",
    "String",
    "Result",
    "Vec",
    "std",
    "core",
    "serde",
    "types",
    "client",
    "server",
    "Client",
    "Error",
    "river_runtime",
    "__private",
];

const ODD: &[&str] = &[
    "a-b",
    "a b",
    "a.b",
    "1st",
    "$t",
    "$b",
    "\"",
    "\\",
    "*/",
    "/*",
    "\n",
    "#[cfg(any())]",
    "}; fn evil() {",
    "é",
    "日本",
    "🦀",
    "A_B",
    "aB",
    "a_b",
    "AB",
    "a__b",
    "__",
    "x:y",
    "0",
];

impl Key {
    fn as_string(&self) -> String {
        match self {
            Key::Short(i) => ((b'a' + i % 6) as char).to_string(),
            Key::Keyword(i) => KEYWORDS[usize::from(*i) % KEYWORDS.len()].to_string(),
            Key::Odd(i) => ODD[usize::from(*i) % ODD.len()].to_string(),
            Key::Any(s) => s.clone(),
        }
    }
}

/// A description or code: a string, possibly hostile.
#[derive(Arbitrary, Debug)]
pub enum Text {
    /// A fixed hostile string.
    Odd(u8),
    /// Anything.
    Any(String),
}

impl Text {
    fn as_string(&self) -> String {
        match self {
            Text::Odd(i) => ODD[usize::from(*i) % ODD.len()].to_string(),
            Text::Any(s) => s.clone(),
        }
    }
}

/// A JSON schema, in the subset River (TypeBox) writes plus some of the rest.
#[derive(Arbitrary, Debug)]
pub enum Schema {
    /// `true` / `false`
    Bool(bool),
    /// `{"type": T}`
    Type(TypeName),
    /// `{"type": [T, U]}`
    Types(Vec<TypeName>),
    /// An object.
    Object {
        /// `properties`
        props: Vec<(Key, Schema)>,
        /// `required` (indices into the properties, or other names)
        required: Vec<Key>,
        /// `additionalProperties`
        additional: Option<Box<Schema>>,
        /// `patternProperties`
        pattern: Option<Box<Schema>>,
    },
    /// `{"type":"array","items":...}`
    Array(Box<Schema>, Option<u8>, Option<u8>),
    /// `{"type":"array","prefixItems":[...]}`
    Tuple(Vec<Schema>, Option<Box<Schema>>),
    /// `anyOf`
    AnyOf(Vec<Schema>),
    /// `oneOf`
    OneOf(Vec<Schema>),
    /// `allOf`
    AllOf(Vec<Schema>),
    /// `not`
    Not(Box<Schema>),
    /// `const`
    Const(Json),
    /// `enum`
    Enum(Vec<Json>),
    /// `$ref` to `#/$defs/<key>` (or anything)
    Ref(Key),
    /// `$defs` plus a root
    Defs(Vec<(Key, Schema)>, Box<Schema>),
    /// A schema with extra keywords (`title`, `description`, `$id`, `format`, ...).
    With(Box<Schema>, Vec<(Keyword, Json)>),
    /// Any JSON.
    Raw(Json),
}

/// A schema type name.
#[derive(Arbitrary, Debug)]
pub enum TypeName {
    /// JSON schema and River type names
    Known(u8),
    /// Anything.
    Any(String),
}

const TYPES: &[&str] = &[
    "string",
    "number",
    "integer",
    "boolean",
    "null",
    "object",
    "array",
    "Uint8Array",
    "Date",
    "bigint",
    "undefined",
    "void",
    "symbol",
];

impl TypeName {
    fn as_string(&self) -> String {
        match self {
            TypeName::Known(i) => TYPES[usize::from(*i) % TYPES.len()].to_string(),
            TypeName::Any(s) => s.clone(),
        }
    }
}

/// A schema keyword.
#[derive(Arbitrary, Debug)]
pub enum Keyword {
    /// A keyword the normalizer looks at.
    Known(u8),
    /// Anything.
    Any(String),
}

const KEYWORD_NAMES: &[&str] = &[
    "title",
    "description",
    "$id",
    "$schema",
    "$comment",
    "format",
    "default",
    "examples",
    "minimum",
    "maximum",
    "multipleOf",
    "minLength",
    "pattern",
    "minItems",
    "maxItems",
    "additionalItems",
    "readOnly",
    "writeOnly",
    "deprecated",
    "definitions",
    "$defs",
    "$ref",
    "required",
    "properties",
    "items",
    "const",
    "enum",
    "type",
    "minByteLength",
];

impl Keyword {
    fn as_string(&self) -> String {
        match self {
            Keyword::Known(i) => KEYWORD_NAMES[usize::from(*i) % KEYWORD_NAMES.len()].to_string(),
            Keyword::Any(s) => s.clone(),
        }
    }
}

/// Any JSON value.
#[derive(Arbitrary, Debug)]
pub enum Json {
    /// null
    Null,
    /// boolean
    Bool(bool),
    /// integer
    Int(i64),
    /// float (non-finite becomes null)
    Float(f64),
    /// string
    Str(Text),
    /// array
    Array(Vec<Json>),
    /// object
    Object(Vec<(Key, Json)>),
}

const MAX_DEPTH: usize = 12;

impl Json {
    fn to_value(&self, depth: usize) -> Value {
        if depth > MAX_DEPTH {
            return Value::Null;
        }
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => json!(b),
            Json::Int(i) => json!(i),
            Json::Float(f) => json!(f),
            Json::Str(s) => json!(s.as_string()),
            Json::Array(a) => Value::Array(a.iter().map(|j| j.to_value(depth + 1)).collect()),
            Json::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, v)| (k.as_string(), v.to_value(depth + 1)))
                    .collect(),
            ),
        }
    }
}

impl Schema {
    fn to_value(&self, depth: usize) -> Value {
        if depth > MAX_DEPTH {
            return json!({});
        }
        let d = depth + 1;
        let list = |v: &[Schema]| Value::Array(v.iter().map(|s| s.to_value(d)).collect());
        match self {
            Schema::Bool(b) => json!(b),
            Schema::Type(t) => json!({"type": t.as_string()}),
            Schema::Types(ts) => {
                json!({"type": ts.iter().map(TypeName::as_string).collect::<Vec<_>>()})
            }
            Schema::Object {
                props,
                required,
                additional,
                pattern,
            } => {
                let mut o = Map::new();
                o.insert("type".into(), json!("object"));
                let p: Map<String, Value> = props
                    .iter()
                    .map(|(k, s)| (k.as_string(), s.to_value(d)))
                    .collect();
                o.insert("properties".into(), Value::Object(p));
                let req: Vec<String> = required.iter().map(Key::as_string).collect();
                if !req.is_empty() {
                    o.insert("required".into(), json!(req));
                }
                if let Some(a) = additional {
                    o.insert("additionalProperties".into(), a.to_value(d));
                }
                if let Some(p) = pattern {
                    o.insert("patternProperties".into(), json!({"^.*$": p.to_value(d)}));
                }
                Value::Object(o)
            }
            Schema::Array(items, min, max) => {
                let mut o = Map::new();
                o.insert("type".into(), json!("array"));
                o.insert("items".into(), items.to_value(d));
                if let Some(m) = min {
                    o.insert("minItems".into(), json!(m));
                }
                if let Some(m) = max {
                    o.insert("maxItems".into(), json!(m));
                }
                Value::Object(o)
            }
            Schema::Tuple(items, extra) => {
                let mut o = Map::new();
                o.insert("type".into(), json!("array"));
                o.insert("prefixItems".into(), list(items));
                o.insert("minItems".into(), json!(items.len()));
                match extra {
                    Some(e) => o.insert("additionalItems".into(), e.to_value(d)),
                    None => o.insert("maxItems".into(), json!(items.len())),
                };
                Value::Object(o)
            }
            Schema::AnyOf(v) => json!({"anyOf": list(v)}),
            Schema::OneOf(v) => json!({"oneOf": list(v)}),
            Schema::AllOf(v) => json!({"allOf": list(v)}),
            Schema::Not(s) => json!({"not": s.to_value(d)}),
            Schema::Const(j) => json!({"const": j.to_value(d)}),
            Schema::Enum(v) => {
                json!({"enum": v.iter().map(|j| j.to_value(d)).collect::<Vec<_>>()})
            }
            Schema::Ref(k) => match k {
                Key::Any(s) => json!({"$ref": s}),
                k => json!({"$ref": format!("#/$defs/{}", k.as_string())}),
            },
            Schema::Defs(defs, root) => {
                let mut r = root.to_value(d);
                if let Value::Object(o) = &mut r {
                    let defs: Map<String, Value> = defs
                        .iter()
                        .map(|(k, s)| (k.as_string(), s.to_value(d)))
                        .collect();
                    o.insert("$defs".into(), Value::Object(defs));
                }
                r
            }
            Schema::With(s, kws) => {
                let mut r = s.to_value(d);
                if let Value::Object(o) = &mut r {
                    for (k, v) in kws {
                        o.insert(k.as_string(), v.to_value(d));
                    }
                }
                r
            }
            Schema::Raw(j) => j.to_value(d),
        }
    }
}

impl Doc {
    /// The document as JSON.
    pub fn to_value(&self) -> Value {
        let mut services = Map::new();
        for (name, procs) in &self.services {
            let mut ps = Map::new();
            for (pname, p) in procs {
                ps.insert(pname.as_string(), p.to_value());
            }
            services.insert(name.as_string(), json!({ "procedures": ps }));
        }
        let mut top = Map::new();
        if self.single_service {
            let first = services
                .into_iter()
                .next()
                .map(|(_, v)| v)
                .unwrap_or_else(|| json!({"procedures": {}}));
            if let Value::Object(o) = first {
                top = o;
            }
        } else {
            top.insert("services".into(), Value::Object(services));
        }
        if let Some(h) = &self.handshake {
            top.insert("handshakeSchema".into(), h.to_value(0));
        }
        for (k, v) in &self.extra {
            top.entry(k.as_string()).or_insert_with(|| v.to_value(0));
        }
        Value::Object(top)
    }
}

impl Proc {
    fn to_value(&self) -> Value {
        let mut o = Map::new();
        o.insert(
            "type".into(),
            match &self.kind {
                Kind::Rpc => json!("rpc"),
                Kind::Upload => json!("upload"),
                Kind::Subscription => json!("subscription"),
                Kind::Stream => json!("stream"),
                Kind::Other(j) => j.to_value(0),
            },
        );
        if let Some(s) = &self.init {
            o.insert("init".into(), s.to_value(0));
        }
        if let Some(s) = &self.input {
            o.insert("input".into(), s.to_value(0));
        }
        if let Some(s) = &self.output {
            o.insert("output".into(), s.to_value(0));
        }
        if let Some(e) = &self.errors {
            let v = match e {
                Errors::Union(items) => {
                    let variants: Vec<Value> = items
                        .iter()
                        .map(|(code, extras)| {
                            let mut props = Map::new();
                            props.insert(
                                "code".into(),
                                json!({"type": "string", "const": code.as_string()}),
                            );
                            props.insert("message".into(), json!({"type": "string"}));
                            let mut required = vec!["code", "message"];
                            if let Some(x) = extras {
                                props.insert("extras".into(), x.to_value(1));
                                required.push("extras");
                            }
                            json!({"type": "object", "properties": props, "required": required})
                        })
                        .collect();
                    json!({ "anyOf": variants })
                }
                Errors::Schema(s) => s.to_value(0),
            };
            o.insert("errors".into(), v);
        }
        if let Some(d) = &self.description {
            o.insert("description".into(), json!(d.as_string()));
        }
        Value::Object(o)
    }
}
