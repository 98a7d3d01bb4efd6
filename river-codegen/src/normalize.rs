//! The TypeBox normalizer: rewrites a payload schema as serialized by River (TypeBox 0.34
//! or 1.x JSON) into plain JSON Schema that schemars 0.8 parses and typify 0.8 turns into
//! correct Rust, without panics and without silent type reuse.
//!
//! What it does, node by node:
//!
//! - River custom types: `{"type":"Uint8Array"}`, `{"type":"Date"}` and
//!   `{"type":"bigint"}` become `$ref`s to synthetic definitions ([`BYTES_DEF`],
//!   [`DATE_DEF`], [`BIGINT_DEF`]) that the type generator replaces with
//!   `::river_runtime::{Bytes, Date, BigInt}`; `Type.Unknown()`/`Type.Any()` (`{}`, or a
//!   schema with only annotations) becomes a `$ref` to [`VALUE_DEF`]
//!   (`::river_runtime::Value`). `void`/`undefined` become `{"type":"null"}` (unit).
//! - Recursion: `$defs` entries (TypeBox 1.x `Type.Cyclic`) and referenced `$id` nodes
//!   (TypeBox 0.34 `Type.Recursive`, `T0` ids) are hoisted into named definitions, and
//!   bare `$ref`s (`"Node"`, `"T0"`, `"#"`, `"#/$defs/Node"`) point to them. A definition
//!   that is the payload itself takes the payload's name; others are named
//!   `{Payload}{Id}`. Unresolvable references are a [`Diagnostic`].
//! - Records: `patternProperties` (`^(.*)$`, `^.*$`, the numeric-key pattern or any other
//!   key pattern) become `additionalProperties`, i.e. a map with `String` keys.
//! - `Type.Object({})` becomes an empty struct that accepts (and ignores) any object.
//! - Tuples get `maxItems`, so typify emits a Rust tuple.
//! - Literal unions of numbers or booleans become `number`/`integer`/`boolean` (typify
//!   would otherwise produce a lossy untagged enum); string literal unions and `enum`s
//!   stay enums. String literals whose variant names collide (`a-b` and `a_b` are both
//!   `AB`; typify would panic) are replaced with placeholder strings that typify names
//!   apart; the post-processing of typify's items puts the values back and names the
//!   variants (`AB`, `AB2`), reporting the renamed ones.
//! - Validation keywords that would make typify emit code needing `regress`, `chrono` or
//!   `uuid` (or a validated newtype): string `pattern`, `format`, `minLength`,
//!   `maxLength`, plus `default`, `uniqueItems` and unknown extension keywords, are
//!   dropped. Generated code depends on `river-runtime` alone; it does not validate these
//!   constraints.
//! - Every schema that becomes a named Rust type (objects, unions, enums, intersections,
//!   `Never`) gets a unique, path-based `title` (`{Parent}{Property}`, `{Parent}Item`,
//!   union variants named after their discriminating literal), unique after typify's
//!   casing, so typify's silent same-name type reuse cannot happen.
//! - Property names that collide after conversion to Rust field names (`data-3` and
//!   `data:3` both become `data_3`) are left as they are: the post-processing of
//!   typify's items gives the fields distinct names (`data_3`, `data_3_2`) with
//!   `#[serde(rename)]` keeping the wire names, and reports them. (river-python calls
//!   such a schema invalid; the reference serves it.)

use std::collections::{HashMap, HashSet, VecDeque};

use serde_json::{json, Map, Value};

use crate::diagnostic::{join, Diagnostic};
pub use crate::names::{
    type_name, NameRegistry, BIGINT_DEF, BYTES_DEF, DATE_DEF, SYNTHETIC_DEFS, VALUE_DEF,
};
use crate::shapes::{Anchor, NodeId, Place, ShapeKind, Shapes, Word};
pub use crate::typify_names::field_name;
use crate::typify_names::placeholder;
use crate::typify_names::{typify_can_name_variants, variant_word};

mod compound;
mod object;
mod scan;

use compound::merge_objects;
use scan::{ref_to, strip_id, Scan};

/// Whether a payload is sent by the client (init, input) or by the server (output,
/// errors, handshake metadata is treated as a response too).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position {
    /// Init or request data.
    Request,
    /// Output, error extras, handshake metadata.
    Response,
}

/// What a payload is, for naming and diagnostics.
#[derive(Clone, Debug)]
pub struct Context<'a> {
    /// Diagnostic path of the payload, e.g. `services.test.procedures.add.init`.
    pub path: &'a str,
    /// The payload's type name, already claimed in the [`NameRegistry`].
    pub name: &'a str,
    /// Request or response (sent by the client or by the server).
    pub position: Position,
    /// Documentation for the payload's type (prepended to the schema's description).
    pub doc: Option<&'a str>,
}

/// A normalized payload: the root schema and the definitions it refers to.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Normalized {
    /// The payload schema (possibly just a `$ref` to one of `definitions`).
    pub root: Value,
    /// Named definitions (hoisted recursive schemas), to register with typify's
    /// `add_ref_types` before the root. Keys are the final Rust type names.
    pub definitions: Vec<(String, Value)>,
    /// Types generated for `Type.Object({})`: empty structs that must accept unknown
    /// fields (the type generator removes typify's `deny_unknown_fields` from them).
    pub open_empty_structs: Vec<String>,
    /// Every title assigned (each becomes a Rust type name if typify names the schema).
    pub titles: Vec<String>,
}

/// Normalizes one payload schema; see the module documentation.
///
/// Named types below the root go to `shapes` and appear here as `$ref`s to placeholder
/// names until [`Shapes::finish`] names them; apply its [`crate::shapes::SharedTypes`] to
/// the result.
pub fn normalize(
    schema: &Value,
    ctx: &Context<'_>,
    names: &mut NameRegistry,
    shapes: &mut Shapes,
) -> Result<Normalized, Diagnostic> {
    let mut scan = Scan::default();
    scan.walk(schema, ctx.path, &mut Vec::new(), true);
    let mut n = Normalizer {
        ctx,
        names,
        shapes,
        preferred: HashMap::new(),
        refs: HashMap::new(),
        hoisted_ids: HashMap::new(),
        queued: HashSet::new(),
        queue: VecDeque::new(),
        out: Normalized::default(),
    };
    n.plan(schema, &scan);
    // A root that is only a `$ref` to one of its own definitions gave that definition the
    // payload's name (see `plan`): `#` then means that definition, not a hoisted copy of
    // the root (which would be a reference to itself).
    let root_is_a_def = schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| n.refs.get(r))
        .is_some_and(|name| name == ctx.name);
    if root_is_a_def {
        n.refs
            .entry("#".to_string())
            .or_insert_with(|| ctx.name.to_string());
    }
    let root = if scan.refs.contains("#")
        && !root_is_a_def
        && !n.hoisted_ids.values().any(|v| v == ctx.name)
    {
        // The root refers to itself with `#` but has no `$id`: hoist it.
        n.refs
            .entry("#".to_string())
            .or_insert_with(|| ctx.name.to_string());
        n.queue_def(ctx.name.to_string(), strip_id(schema), ctx.path.to_string());
        ref_to(ctx.name)
    } else {
        let mut t = n.claimed(ctx.name);
        t.root = true;
        n.norm(schema, ctx.path, t)?
    };
    while let Some((name, raw, path)) = n.queue.pop_front() {
        let t = n.claimed(&name);
        let v = n.norm(&raw, &path, t)?;
        n.out.definitions.push((name, v));
    }
    n.out.root = root;
    if let Some(doc) = ctx.doc {
        n.add_doc(doc);
    }
    Ok(n.out)
}

/// How a node is named: payload roots and definitions have a claimed name; any other
/// node that becomes a named type is a shared shape named after its place.
#[derive(Clone, Debug)]
struct Title {
    node: NodeId,
    claimed: Option<String>,
    /// The payload itself (not a definition hoisted out of it).
    root: bool,
    /// A union member or intersection part: named, but written inline.
    inline: bool,
    place: Place,
}

struct Normalizer<'a, 'c> {
    ctx: &'a Context<'c>,
    names: &'a mut NameRegistry,
    shapes: &'a mut Shapes,
    /// The schema's own `title` (or `$id`) of nodes being normalized.
    preferred: HashMap<NodeId, String>,
    /// Reference string → definition name.
    refs: HashMap<String, String>,
    /// Hoisted `$id` → definition name.
    hoisted_ids: HashMap<String, String>,
    queued: HashSet<String>,
    queue: VecDeque<(String, Value, String)>,
    out: Normalized,
}

/// Keys that carry no type information: a schema with only these is `Unknown`.
const ANNOTATIONS: &[&str] = &[
    "description",
    "title",
    "$id",
    "$schema",
    "$comment",
    "examples",
    "default",
    "readOnly",
    "writeOnly",
    "deprecated",
    "$defs",
    "definitions",
];

const INT_FORMATS: &[&str] = &[
    "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
];

fn is_t_id(id: &str) -> bool {
    id.len() > 1 && id.starts_with('T') && id[1..].bytes().all(|b| b.is_ascii_digit())
}

impl Normalizer<'_, '_> {
    /// Names the definitions that references need.
    fn plan(&mut self, root: &Value, scan: &Scan) {
        let root_ref = root.get("$ref").and_then(Value::as_str).map(str::to_string);
        let mut root_taken = false;
        for (key, id) in &scan.defs {
            let mut aliases = vec![
                key.clone(),
                format!("#/$defs/{key}"),
                format!("#/definitions/{key}"),
            ];
            aliases.extend(id.iter().cloned());
            if !aliases.iter().any(|a| scan.refs.contains(a)) || self.refs.contains_key(key) {
                continue;
            }
            let name = if !root_taken && root_ref.as_ref().is_some_and(|r| aliases.contains(r)) {
                root_taken = true;
                self.ctx.name.to_string()
            } else {
                self.names.claim(&type_name(&[self.ctx.name, key]))
            };
            for a in aliases {
                self.refs.entry(a).or_insert_with(|| name.clone());
            }
        }
        for (id, words, is_root) in &scan.ids {
            let referenced = scan.refs.contains(id) || (*is_root && scan.refs.contains("#"));
            if !referenced || self.hoisted_ids.contains_key(id) {
                continue;
            }
            let name = if *is_root && !root_taken {
                root_taken = true;
                self.ctx.name.to_string()
            } else if is_t_id(id) {
                let mut parts: Vec<&str> = vec![self.ctx.name];
                parts.extend(words.iter().map(String::as_str));
                self.names.claim(&type_name(&parts))
            } else {
                self.names.claim(&type_name(&[self.ctx.name, id]))
            };
            if *is_root {
                self.refs
                    .entry("#".to_string())
                    .or_insert_with(|| name.clone());
            }
            self.refs.entry(id.clone()).or_insert_with(|| name.clone());
            self.hoisted_ids.insert(id.clone(), name);
        }
    }

    fn queue_def(&mut self, name: String, raw: Value, path: String) {
        if self.queued.insert(name.clone()) {
            self.queue.push_back((name, raw, path));
        }
    }

    fn resolve(&self, r: &str) -> Option<&String> {
        if let Some(n) = self.refs.get(r) {
            return Some(n);
        }
        for prefix in ["#/$defs/", "#/definitions/", "#"] {
            if let Some(rest) = r.strip_prefix(prefix) {
                if let Some(n) = self.refs.get(rest) {
                    return Some(n);
                }
            }
        }
        None
    }

    /// The title of a payload root or definition named `name`.
    fn claimed(&mut self, name: &str) -> Title {
        let node = self.shapes.node();
        self.shapes.resolve_named(node, name);
        Title {
            node,
            claimed: Some(name.to_string()),
            root: false,
            inline: false,
            place: Place {
                anchor: Anchor::Named(name.to_string()),
                words: Vec::new(),
            },
        }
    }

    /// The title of a child of `t`, reached through `word`.
    fn child(&mut self, t: &Title, word: &str) -> Title {
        let structural = word == "Value"
            || ["Item", "Part", "Variant"].iter().any(|p| {
                word.strip_prefix(p)
                    .is_some_and(|rest| rest.bytes().all(|b| b.is_ascii_digit()))
            });
        Title {
            node: self.shapes.node(),
            claimed: None,
            root: false,
            inline: false,
            place: Place {
                anchor: Anchor::Node(t.node),
                words: vec![Word {
                    text: word.to_string(),
                    structural,
                }],
            },
        }
    }

    /// Names a node that becomes a Rust type: a claimed title stays inline; any other
    /// node becomes (or reuses) a shared shape and is replaced by a `$ref` to it.
    fn named(&mut self, mut node: Map<String, Value>, t: &Title, open_empty: bool) -> Value {
        match &t.claimed {
            Some(_) if t.root => {
                // A payload root is shared too: identical payloads become one type, and
                // the payload's name an alias of it when the type is named otherwise.
                let kind = ShapeKind {
                    preferred: self.preferred.remove(&t.node),
                    open_empty,
                    inline: false,
                };
                self.shapes.intern(t.node, &t.place, node, kind)
            }
            Some(name) => {
                let mut out = Map::new();
                out.insert("title".into(), name.clone().into());
                out.append(&mut node);
                self.out.titles.push(name.clone());
                if open_empty {
                    self.out.open_empty_structs.push(name.clone());
                }
                Value::Object(out)
            }
            None => {
                let kind = ShapeKind {
                    preferred: self.preferred.remove(&t.node),
                    open_empty,
                    inline: t.inline,
                };
                self.shapes.intern(t.node, &t.place, node, kind)
            }
        }
    }

    fn norm(&mut self, node: &Value, path: &str, t: Title) -> Result<Value, Diagnostic> {
        let (id, place) = (t.node, t.place.clone());
        if let Some(p) = node
            .get("title")
            .or_else(|| {
                node.get("$id")
                    .filter(|id| id.as_str().is_some_and(|s| !is_t_id(s)))
            })
            .and_then(Value::as_str)
            .filter(|p| p.chars().any(|c| c.is_ascii_alphabetic()))
        {
            self.preferred.entry(id).or_insert_with(|| p.to_string());
        }
        let out = self.norm_node(node, path, t);
        self.preferred.remove(&id);
        self.shapes.resolve_path(id, &place);
        out
    }

    fn norm_node(&mut self, node: &Value, path: &str, t: Title) -> Result<Value, Diagnostic> {
        let m = match node {
            Value::Object(m) => m,
            Value::Bool(true) => return Ok(ref_to(VALUE_DEF)),
            Value::Bool(false) => return Ok(self.never(&t, None)),
            // Not a JSON schema at all (the TypeBox shape corpus has placeholder
            // strings): nothing is known about the value, so accept any.
            _ => return Ok(ref_to(VALUE_DEF)),
        };
        // Hoisted recursive node: refer to its definition.
        if let Some(Value::String(id)) = m.get("$id") {
            if let Some(name) = self.hoisted_ids.get(id).cloned() {
                self.queue_def(name.clone(), strip_id(node), path.to_string());
                return Ok(ref_to(&name));
            }
        }
        for key in ["$defs", "definitions"] {
            if let Some(Value::Object(defs)) = m.get(key) {
                for (k, v) in defs {
                    if let Some(name) = self.refs.get(k).cloned() {
                        let p = join(&join(path, key), k);
                        self.queue_def(name, strip_id(v), p);
                    }
                }
            }
        }
        if let Some(r) = m.get("$ref") {
            let p = join(path, "$ref");
            let r = r
                .as_str()
                .ok_or_else(|| Diagnostic::new(&p, "`$ref` must be a string"))?;
            let name = self.resolve(r).cloned().ok_or_else(|| {
                Diagnostic::new(
                    &p,
                    format!("unresolved reference `{r}` (no `$id` or `$defs` entry with that name in this schema)"),
                )
            })?;
            return Ok(ref_to(&name));
        }
        let desc = m.get("description").and_then(Value::as_str);

        // `type`: River custom types, arrays of types.
        match m.get("type") {
            None => {}
            Some(Value::String(ty)) => match ty.as_str() {
                "Uint8Array" => return Ok(ref_to(BYTES_DEF)),
                "Date" => return Ok(ref_to(DATE_DEF)),
                "bigint" => return Ok(ref_to(BIGINT_DEF)),
                "void" | "undefined" | "null" => {
                    return Ok(with_desc(json!({"type": "null"}), desc))
                }
                "string" | "number" | "integer" | "boolean" | "object" | "array" => {}
                other => {
                    return Err(Diagnostic::new(
                        join(path, "type"),
                        format!("unsupported schema type `{other}`"),
                    ))
                }
            },
            Some(Value::Array(types)) => return self.type_union(m, types, path, t, desc),
            Some(other) => {
                return Err(Diagnostic::new(
                    join(path, "type"),
                    format!("`type` must be a string or an array of strings, found `{other}`"),
                ))
            }
        }
        let ty = m.get("type").and_then(Value::as_str);

        if let Some(Value::Array(members)) = m.get("anyOf").or_else(|| m.get("oneOf")) {
            let key = if m.contains_key("anyOf") {
                "anyOf"
            } else {
                "oneOf"
            };
            return self.union(members, &join(path, key), t, desc);
        }
        if let Some(Value::Array(parts)) = m.get("allOf") {
            if let Some(merged) = merge_objects(m, parts) {
                // One struct with every part's fields: no `Part0`/`Part1` types.
                return self.object(&merged, path, t, desc);
            }
            return self.intersection(parts, &join(path, "allOf"), t, desc);
        }
        if let Some(values) = m.get("enum") {
            let values = values
                .as_array()
                .ok_or_else(|| Diagnostic::new(join(path, "enum"), "`enum` must be an array"))?;
            return self.enumeration(values, path, t, desc);
        }
        if let Some(c) = m.get("const") {
            return Ok(self.literal(c, ty, desc));
        }
        if let Some(not) = m.get("not") {
            let empty = match not {
                Value::Bool(b) => *b,
                Value::Object(o) => o.keys().all(|k| ANNOTATIONS.contains(&k.as_str())),
                _ => false,
            };
            return Ok(if empty {
                self.never(&t, desc)
            } else {
                // Negations other than `Never` cannot be expressed: accept any value.
                ref_to(VALUE_DEF)
            });
        }
        let is_object = ty == Some("object")
            || (ty.is_none()
                && ["properties", "patternProperties", "additionalProperties"]
                    .iter()
                    .any(|k| m.contains_key(*k)));
        if is_object {
            return self.object(m, path, t, desc);
        }
        if ty == Some("array")
            || (ty.is_none() && (m.contains_key("items") || m.contains_key("prefixItems")))
        {
            return self.array(m, path, t, desc);
        }
        Ok(match ty {
            Some("string") | Some("boolean") => with_desc(json!({"type": ty}), desc),
            Some("number") => with_desc(json!({"type": "number"}), desc),
            Some("integer") => {
                let mut out = Map::new();
                out.insert("type".into(), "integer".into());
                for k in ["minimum", "maximum"] {
                    if let Some(v @ Value::Number(_)) = m.get(k) {
                        out.insert(k.into(), v.clone());
                    }
                }
                if let Some(Value::String(f)) = m.get("format") {
                    if INT_FORMATS.contains(&f.as_str()) {
                        out.insert("format".into(), f.clone().into());
                    }
                }
                with_desc(Value::Object(out), desc)
            }
            _ => {
                // No type information: `Type.Unknown()` / `Type.Any()`.
                ref_to(VALUE_DEF)
            }
        })
    }

    fn never(&mut self, t: &Title, desc: Option<&str>) -> Value {
        let mut m = Map::new();
        m.insert("not".into(), json!({}));
        if let Some(d) = desc {
            m.insert("description".into(), d.into());
        }
        self.named(m, t, false)
    }

    fn literal(&mut self, c: &Value, ty: Option<&str>, desc: Option<&str>) -> Value {
        let ty = match (ty, c) {
            (Some(t), _) if t != "object" && t != "array" => t,
            (_, Value::String(_)) => "string",
            (_, Value::Bool(_)) => "boolean",
            (_, Value::Number(n)) if n.is_i64() || n.is_u64() => "integer",
            (_, Value::Number(_)) => "number",
            (_, Value::Null) => "null",
            _ => return ref_to(VALUE_DEF),
        };
        // typify uses string literals to tag unions but otherwise keeps only the type of
        // a literal; the value is documented.
        if ty == "string" && c.is_string() {
            return with_desc(json!({"type": ty, "const": c}), desc);
        }
        let lit = format!("Always `{c}`.");
        let d = match desc {
            Some(d) => format!("{d}\n\n{lit}"),
            None => lit,
        };
        json!({"type": ty, "description": d})
    }

    /// Prepends `doc` to the description of the payload's own type.
    fn add_doc(&mut self, doc: &str) {
        let name = self.ctx.name;
        let target = if self.out.root.get("title").and_then(Value::as_str) == Some(name) {
            Some(&mut self.out.root)
        } else {
            self.out
                .definitions
                .iter_mut()
                .find(|(n, v)| n == name && v.get("title").is_some())
                .map(|(_, v)| v)
        };
        if let Some(Value::Object(o)) = target {
            let d = match o.get("description").and_then(Value::as_str) {
                Some(existing) => format!("{doc}\n\n{existing}"),
                None => doc.to_string(),
            };
            o.insert("description".into(), d.into());
        }
    }
}

fn with_desc(mut v: Value, desc: Option<&str>) -> Value {
    if let (Some(d), Value::Object(o)) = (desc, &mut v) {
        o.insert("description".into(), d.into());
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::typify_names::{placeholder_value, typify_variant_ident, PLACEHOLDER_PREFIX};

    /// Normalizes one payload, names its shapes and puts them back inline, so that
    /// tests see one tree with every title.
    fn run(schema: Value, position: Position) -> Result<Normalized, Diagnostic> {
        let mut names = NameRegistry::new();
        let mut shapes = Shapes::new();
        let name = names.claim("SvcProcInit");
        let mut n = normalize(
            &schema,
            &Context {
                path: "services.svc.procedures.proc.init",
                name: &name,
                position,
                doc: None,
            },
            &mut names,
            &mut shapes,
        )?;
        let shared = shapes.finish(&mut names);
        let defs: HashMap<String, Value> = shared.definitions.iter().cloned().collect();
        fn inline(v: &mut Value, defs: &HashMap<String, Value>) {
            if let Some(Value::String(r)) = v.get("$ref") {
                if let Some(d) = r.strip_prefix("#/definitions/").and_then(|n| defs.get(n)) {
                    *v = d.clone();
                }
            }
            match v {
                Value::Object(m) => m.values_mut().for_each(|c| inline(c, defs)),
                Value::Array(a) => a.iter_mut().for_each(|c| inline(c, defs)),
                _ => {}
            }
        }
        shared.apply(&mut n.root);
        inline(&mut n.root, &defs);
        for (_, d) in &mut n.definitions {
            shared.apply(d);
            inline(d, &defs);
        }
        n.titles
            .extend(shared.definitions.iter().map(|(k, _)| k.clone()));
        n.open_empty_structs.extend(shared.open_empty_structs);
        Ok(n)
    }

    fn root(schema: Value) -> Value {
        run(schema, Position::Request).unwrap().root
    }

    #[test]
    fn names_are_typify_fixed_points() {
        assert_eq!(type_name(&["test", "add", "Init"]), "TestAddInit");
        assert_eq!(
            type_name(&["Collision2", "first.inner"]),
            "Collision2FirstInner"
        );
        assert_eq!(type_name(&["2fa"]), "X2fa");
        assert_eq!(type_name(&["", ""]), "X");
        let mut n = NameRegistry::new();
        assert_eq!(n.claim("A"), "A");
        assert_eq!(n.claim("A"), "A2");
        assert_eq!(n.claim("Self"), "Self2");
        assert_eq!(field_name("data-3"), "data_3");
        assert_eq!(field_name("data:3"), "data_3");
        assert_eq!(field_name("type"), "type_");
        assert_eq!(field_name("0abc"), "x0abc");
        assert_eq!(
            field_name("firstValidationErrors"),
            "first_validation_errors"
        );
    }

    #[test]
    fn custom_types_become_runtime_refs() {
        assert_eq!(
            root(json!({"type":"Uint8Array","minByteLength":1})),
            ref_to(BYTES_DEF)
        );
        assert_eq!(root(json!({"type":"Date"})), ref_to(DATE_DEF));
        assert_eq!(root(json!({"type":"bigint"})), ref_to(BIGINT_DEF));
        assert_eq!(root(json!({})), ref_to(VALUE_DEF));
        assert_eq!(root(json!({"description":"anything"})), ref_to(VALUE_DEF));
        assert_eq!(root(json!({"type":"void"})), json!({"type":"null"}));
        assert_eq!(root(json!({"type":"undefined"})), json!({"type":"null"}));
        let e = run(
            json!({"type":"object","properties":{"x":{"type":"Symbol"}}}),
            Position::Request,
        )
        .unwrap_err();
        assert_eq!(
            e.path,
            "services.svc.procedures.proc.init.properties.x.type"
        );
    }

    #[test]
    fn objects_get_unique_path_titles() {
        // The property-path collision of codegen-notes §2.5.
        let r = root(
            json!({"type":"object","required":["first","second"],"properties":{
              "first":{"type":"object","required":["inner"],"properties":{"inner":{"type":"object","required":["a"],"properties":{"a":{"type":"string"}}}}},
              "second":{"type":"object","required":["inner"],"properties":{"inner":{"type":"object","required":["b"],"properties":{"b":{"type":"number"}}}}},
              "first_inner":{"type":"object","required":["c"],"properties":{"c":{"type":"boolean"}}}
            }}),
        );
        assert_eq!(r["title"], "SvcProcInit");
        let t1 = r["properties"]["first"]["properties"]["inner"]["title"]
            .as_str()
            .unwrap();
        let t2 = r["properties"]["first_inner"]["title"].as_str().unwrap();
        let t3 = r["properties"]["second"]["properties"]["inner"]["title"]
            .as_str()
            .unwrap();
        assert_eq!(t1, "SvcProcInitFirstInner");
        assert_ne!(t1, t2);
        assert_eq!(t3, "SvcProcInitSecondInner");
    }

    #[test]
    fn records_of_all_patterns_become_string_maps() {
        for pat in [
            "^(.*)$",
            "^.*$",
            "^-?(?:0|[1-9][0-9]*)(?:\\.[0-9]+)?$",
            "^-?(?:0|[1-9][0-9]*)(?:.[0-9]+)?$",
        ] {
            let r = root(json!({"type":"object","patternProperties":{pat:{"type":"number"}}}));
            assert_eq!(
                r,
                json!({"type":"object","additionalProperties":{"type":"number"}}),
                "{pat}"
            );
        }
    }

    #[test]
    fn strings_lose_validation_keywords() {
        assert_eq!(
            root(json!({"type":"string","format":"date-time","pattern":"^a","minLength":1})),
            json!({"type":"string"})
        );
        assert_eq!(
            root(json!({"type":"integer","minimum":0,"maximum":255,"multipleOf":2})),
            json!({"type":"integer","minimum":0,"maximum":255})
        );
    }

    #[test]
    fn tuples_get_max_items() {
        let r = root(
            json!({"type":"array","additionalItems":false,"items":[{"type":"string"},{"type":"number"}],"minItems":2}),
        );
        assert_eq!(r["maxItems"], 2);
        assert_eq!(r["items"][1], json!({"type":"number"}));
    }

    #[test]
    fn literal_unions() {
        let r =
            root(json!({"anyOf":[{"type":"string","const":"a"},{"type":"string","const":"c-d"}]}));
        assert_eq!(r["title"], "SvcProcInit");
        assert_eq!(r["anyOf"][0]["type"], "string");
        let r = root(json!({"anyOf":[{"type":"number","const":1},{"type":"number","const":2}]}));
        assert_eq!(r["type"], "number");
        let r = root(json!({"enum":["a","b","a"]}));
        assert_eq!(r["enum"], json!(["a", "b"]));
        assert_eq!(r["title"], "SvcProcInit");
    }

    #[test]
    fn recursion_v1_cyclic_and_v034_recursive() {
        // TypeBox 1.x Type.Cyclic.
        let n = run(
            json!({"$defs":{"Node":{"type":"object","required":["n"],"properties":{"n":{"type":"number"},"next":{"$ref":"Node"}},"$id":"Node"}},"$ref":"Node"}),
            Position::Request,
        )
        .unwrap();
        assert_eq!(n.root, ref_to("SvcProcInit"));
        assert_eq!(n.definitions.len(), 1);
        let (name, def) = &n.definitions[0];
        assert_eq!(name, "SvcProcInit");
        assert_eq!(def["properties"]["next"], ref_to("SvcProcInit"));
        assert!(def.get("$id").is_none());
        // TypeBox 0.34 Type.Recursive with a `T0` id.
        let n = run(
            json!({"$id":"T0","type":"object","required":["id","children"],"properties":{"id":{"type":"string"},"children":{"type":"array","items":{"$ref":"T0"}}}}),
            Position::Request,
        )
        .unwrap();
        assert_eq!(n.root, ref_to("SvcProcInit"));
        assert_eq!(
            n.definitions[0].1["properties"]["children"]["items"],
            ref_to("SvcProcInit")
        );
        // A nested recursive type keeps the id as its name.
        let n = run(
            json!({"type":"object","properties":{"tree":{"$defs":{"Tree":{"$id":"Tree","type":"object","properties":{"kids":{"type":"array","items":{"$ref":"Tree"}}}}},"$ref":"Tree"}}}),
            Position::Request,
        )
        .unwrap();
        assert_eq!(n.root["properties"]["tree"], ref_to("SvcProcInitTree"));
        assert_eq!(n.definitions[0].0, "SvcProcInitTree");
        // Unresolved references name the place.
        let e = run(
            json!({"type":"object","properties":{"x":{"$ref":"Nope"}}}),
            Position::Request,
        )
        .unwrap_err();
        assert_eq!(
            e.path,
            "services.svc.procedures.proc.init.properties.x.$ref"
        );
        // An unreferenced `$id` stays inline.
        let n = run(json!({"$id":"Foo","type":"string"}), Position::Request).unwrap();
        assert_eq!(n.root, json!({"type":"string"}));
    }

    /// Found by the fuzz campaign (a 462-byte input that ran out of memory): a `type`
    /// array is a set, and repeated entries no longer multiply the union.
    #[test]
    fn repeated_entries_of_a_type_array_count_once() {
        assert_eq!(
            root(json!({"type": ["bigint", "bigint", "bigint"]})),
            ref_to(BIGINT_DEF)
        );
        let r = root(json!({"type": ["string", "null", "string", "null"]}));
        assert_eq!(r["anyOf"].as_array().map(Vec::len), Some(2), "{r}");
    }

    /// Found by river-codegen/tests/normalize_properties.rs: a root that is a `$ref` to one
    /// of its definitions, with `#` used elsewhere, became a definition of itself.
    #[test]
    fn hash_means_the_definition_a_ref_root_names() {
        let n = run(
            json!({"$defs":{"A":{"type":"string"},"B":{"type":"object","properties":{"p":{"$ref":"#"}}}},"$ref":"#/$defs/A"}),
            Position::Request,
        )
        .unwrap();
        assert_eq!(n.root, ref_to("SvcProcInit"));
        let defs: Vec<(&str, &Value)> =
            n.definitions.iter().map(|(k, v)| (k.as_str(), v)).collect();
        assert_eq!(defs, vec![("SvcProcInit", &json!({"type": "string"}))]);
    }

    #[test]
    fn intersections_and_never() {
        let r = root(
            json!({"type":"object","allOf":[{"type":"object","required":["a"],"properties":{"a":{"type":"string"}}},{"type":"object","required":["b"],"properties":{"b":{"type":"number"}}}]}),
        );
        // Plain objects merge into one struct: no `Part` types.
        assert_eq!(r["title"], "SvcProcInit");
        assert!(r.get("allOf").is_none(), "{r}");
        assert_eq!(r["required"], json!(["a", "b"]));
        assert_eq!(r["properties"]["b"], json!({"type": "number"}));
        // An intersection with a union is distributed over it: a union of merged objects.
        let r = root(
            json!({"allOf":[{"type":"object","required":["a"],"properties":{"a":{"type":"string"}}},{"anyOf":[{"type":"object","properties":{"k":{"type":"string","const":"x"}}},{"type":"object","properties":{"k":{"type":"string","const":"y"}}}]}]}),
        );
        let members = r["anyOf"].as_array().expect("a union");
        assert_eq!(members.len(), 2, "{r}");
        for (m, k) in members.iter().zip(["x", "y"]) {
            assert_eq!(m["type"], "object", "{m}");
            assert_eq!(m["required"], json!(["a"]));
            assert_eq!(m["properties"]["a"], json!({"type": "string"}));
            assert_eq!(m["properties"]["k"]["const"], k);
        }
        // Two parts giving one property different schemas do not merge.
        let r = root(
            json!({"allOf":[{"type":"object","properties":{"a":{"type":"string"}}},{"type":"object","properties":{"a":{"type":"number"}}}]}),
        );
        assert_eq!(r["allOf"][0]["title"], "SvcProcInitPart0");
        assert_eq!(
            root(json!({"not":{}})),
            json!({"not":{},"title":"SvcProcInit"})
        );
    }

    #[test]
    fn repeated_alternatives_and_parts_count_once() {
        // `A | A`, `A & A` and a repeated `enum` value add nothing.
        let obj =
            |k: &str| json!({"type":"object","required":[k],"properties":{k:{"type":"string"}}});
        let r = root(json!({"anyOf":[obj("a"), obj("b"), obj("a")]}));
        assert_eq!(r["anyOf"].as_array().map(Vec::len), Some(2), "{r}");
        let r = root(json!({"allOf":[obj("a"), obj("a")]}));
        assert_eq!(r["required"], json!(["a"]), "{r}");
        let r = root(json!({"enum":["", "", 1, "", 1, null]}));
        assert_eq!(r["anyOf"].as_array().map(Vec::len), Some(3), "{r}");
    }

    #[test]
    fn intersections_of_unions_are_distributed_up_to_a_bound() {
        // Two unions of three objects: nine merged objects, each with both fields.
        let union = |p: &str| {
            json!({"anyOf": (0..3).map(|i| {
                let k = format!("{p}{i}");
                json!({"type":"object","required":[k.clone()],"properties":{k:{"type":"string"}}})
            }).collect::<Vec<_>>()})
        };
        let r = root(json!({"allOf":[union("a"), union("b")]}));
        let members = r["anyOf"].as_array().expect("a union");
        assert_eq!(members.len(), 9, "{r}");
        assert!(
            members.contains(&json!({
                "type":"object","required":["a1","b2"],"title":"SvcProcInitVariant5",
                "properties":{"a1":{"type":"string"},"b2":{"type":"string"}}
            })),
            "{r}"
        );
        // Nested bare intersections are one intersection.
        let r = root(json!({"allOf":[{"allOf":[union("a"), union("b")]}, obj_c()]}));
        let members = r["anyOf"].as_array().expect("a union");
        assert_eq!(members.len(), 9, "{r}");
        assert!(
            members.iter().all(|m| m["properties"]["c"].is_object()),
            "{r}"
        );
        // More than MAX_ALTERNATIVES combinations: an untyped value that says why.
        let r = root(json!({"allOf":[union("a"), union("b"), union("c"), union("d")]}));
        assert_eq!(r["$ref"], ref_to(VALUE_DEF)["$ref"], "{r}");
        let why = r["description"].as_str().unwrap_or_default();
        assert!(why.contains("81 alternatives"), "{why}");
    }

    fn obj_c() -> Value {
        json!({"type":"object","required":["c"],"properties":{"c":{"type":"number"}}})
    }

    #[test]
    fn identical_shapes_share_one_type_named_after_their_places() {
        let status = json!({"type":"string","enum":["online","away"]});
        let content = json!({"anyOf":[
            {"type":"object","required":["kind","text"],"properties":{"kind":{"type":"string","const":"text"},"text":{"type":"string"}}},
            {"type":"object","required":["kind","url"],"properties":{"kind":{"type":"string","const":"image"},"url":{"type":"string"}}}
        ]});
        let msg = json!({"type":"object","required":["content"],"properties":{"content":content}});
        let r = root(json!({"type":"object","properties":{
            "status": status, "me": {"type":"object","properties":{"status": status}},
            "last": msg, "history": {"type":"array","items": msg},
            "other": {"type":"object","required":["content"],"properties":{"content": content, "id": {"type":"number"}}},
            "titled": {"title":"Point","type":"object","properties":{"x":{"type":"number"}}},
            "described": {"type":"string","enum":["online","away"],"description":"differs"}
        }}));
        let p = &r["properties"];
        // Same words everywhere: the shared word.
        assert_eq!(p["status"]["title"], "Status");
        assert_eq!(p["me"]["properties"]["status"]["title"], "Status");
        assert_eq!(p["last"]["properties"]["content"]["title"], "Content");
        assert_eq!(p["other"]["properties"]["content"]["title"], "Content");
        // Union members after their discriminant, below the shared union's name.
        assert_eq!(
            p["last"]["properties"]["content"]["anyOf"][0]["title"],
            "ContentText"
        );
        // Places with nothing in common keep the first place's path name (properties
        // are visited in key order here).
        assert_eq!(p["last"]["title"], "SvcProcInitHistoryItem");
        assert_eq!(p["history"]["items"]["title"], "SvcProcInitHistoryItem");
        // The schema's own title wins; a different description is a different type.
        assert_eq!(p["titled"]["title"], "Point");
        assert_eq!(p["described"]["title"], "SvcProcInitDescribed");
    }

    #[test]
    fn empty_objects_are_open_structs() {
        let n = run(json!({"type":"object","properties":{}}), Position::Request).unwrap();
        assert_eq!(n.root["additionalProperties"], false);
        assert_eq!(n.open_empty_structs, ["SvcProcInit"]);
        let n = run(
            json!({"type":"object","properties":{},"additionalProperties":false}),
            Position::Request,
        )
        .unwrap();
        assert!(n.open_empty_structs.is_empty());
    }

    #[test]
    fn colliding_property_names_are_kept_for_the_type_generator() {
        let s = json!({"type":"object","properties":{"data:3":{"type":"Date"},"data-3":{"type":"boolean"}},"required":["data:3"]});
        for position in [Position::Request, Position::Response] {
            let r = run(s.clone(), position).unwrap().root;
            let props = r["properties"].as_object().unwrap();
            assert!(props.contains_key("data:3") && props.contains_key("data-3"));
        }
    }

    #[test]
    fn placeholders_stand_for_any_string() {
        for wire in ["", "a-b", "a_b", "*/", "\u{0}x\n", "日本語 🦀", "\"#"] {
            let p = placeholder(wire);
            assert_eq!(placeholder_value(&p).as_deref(), Some(wire), "{p:?}");
        }
        for other in ["a-b", "", "river-codegen-value-61"] {
            assert_eq!(placeholder_value(other), None, "{other:?}");
        }
        // Odd, upper-case or signed hex digits, or bytes that are not UTF-8.
        for hex in ["6", "4A", "+6", "ff", "c3"] {
            let s = format!("{PLACEHOLDER_PREFIX}{hex}");
            assert_eq!(placeholder_value(&s), None, "{hex}");
        }
        // typify names distinct placeholders apart, whatever their values.
        let values: Vec<Value> = ["a-b", "a_b", "*/", "/*", "", "fooBar", "FooBar"]
            .iter()
            .map(|w| Value::String(placeholder(w)))
            .collect();
        assert!(typify_can_name_variants(&values));
        assert_eq!(typify_variant_ident("a-b"), "AB");
        assert_eq!(typify_variant_ident("*/"), "X");
        assert_eq!(typify_variant_ident("self"), "Self_");
        assert_eq!(typify_variant_ident("v_1"), "V1");
    }

    #[test]
    fn colliding_string_literals_become_placeholders() {
        // `enum`: every value, duplicates dropped, in schema order.
        let r = root(json!({"type":"string","enum":["a-b","a_b","a-b","c"]}));
        assert_eq!(r["title"], "SvcProcInit");
        assert_eq!(
            r["enum"],
            json!([placeholder("a-b"), placeholder("a_b"), placeholder("c")])
        );
        // A union of `const`s: the members keep their descriptions.
        let r = root(json!({"anyOf":[
            {"type":"string","const":"x y","description":"d"},
            {"type":"string","const":"x_y"},
            {"type":"string","const":"x y"}
        ]}));
        assert_eq!(r["title"], "SvcProcInit");
        assert_eq!(
            r["anyOf"],
            json!([
                {"type":"string","const":placeholder("x y"),"description":"d"},
                {"type":"string","const":placeholder("x_y")}
            ])
        );
        // Values without a letter or digit collide too (typify names them all `X`).
        let r = root(json!({"enum":["*/","/*"]}));
        assert_eq!(r["enum"], json!([placeholder("*/"), placeholder("/*")]));
        // Literals typify names apart are left to it.
        let r = root(json!({"type":"string","enum":["a-b","c"]}));
        assert_eq!(r["enum"], json!(["a-b", "c"]));
        let r = root(json!({"anyOf":[{"const":"a_b"},{"const":"aB"}]}));
        assert_eq!(r["anyOf"][0]["const"], "a_b");
    }

    #[test]
    fn union_variants_are_named_after_their_literal() {
        let r = root(json!({"anyOf":[
            {"type":"object","required":["kind","c"],"properties":{"kind":{"type":"string","const":"circle"},"c":{"type":"object","properties":{"x":{"type":"number"}}}}},
            {"type":"object","required":["kind"],"properties":{"kind":{"type":"string","const":"rect"}}}
        ]}));
        assert_eq!(r["anyOf"][0]["title"], "SvcProcInitCircle");
        assert_eq!(
            r["anyOf"][0]["properties"]["c"]["title"],
            "SvcProcInitCircleC"
        );
        assert_eq!(r["anyOf"][1]["title"], "SvcProcInitRect");
    }
}
