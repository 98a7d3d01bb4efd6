//! Which places of a River schema the JSON codec cannot carry.
//!
//! The reference's JSON codec (`NaiveJsonCodec`) writes a `Date` as `{}` (it is an
//! object without enumerable properties), which no `Type.Date()` schema accepts, so a
//! schema with a `Date` anywhere in a payload only works over msgpack
//! ([`Codec::Msgpack`](super::Codec::Msgpack)). `Uint8Array` (`{"$t": base64}`) and
//! `bigint` (`{"$b": "<decimal>"}`) do travel over JSON and are not reported.
//!
//! [`binary_codec_fields`] lists those places as readable strings: `chat.post init:
//! sentAt`, `chat.history output: messages[].sentAt`, `handshake: issuedAt`. Builders
//! declared with them ([`ClientBuilder::require_binary_codec`](crate::ClientBuilder::require_binary_codec),
//! [`Router::schema`](crate::Router::schema)) refuse the JSON codec with
//! [`binary_codec_error`].

use std::collections::HashMap;

use serde_json::Value as Json;

use crate::error::Error;

/// The name a single-service document (`{"procedures": …}`) gives its service.
const DEFAULT_SERVICE_NAME: &str = "service";

/// The payload positions of a procedure, in the order they are reported.
const POSITIONS: [&str; 4] = ["init", "input", "output", "errors"];

/// Every place of a River schema document (as `serializeSchema` writes it, or a
/// generated crate's `SCHEMA_JSON`) whose values the JSON codec cannot carry: the `Date`
/// fields of every procedure's `init`, `input`, `output` and `errors` (v1 and v2
/// naming) and of the handshake metadata (`handshakeSchema`). The order does not
/// depend on serde_json's features: services, procedures and properties by name,
/// positions in the order above, the handshake last.
///
/// Each entry reads `service.procedure position: path`, the path joining property
/// names with `.`, with `[]` for array items, `{}` for record values and `[i]` for
/// tuple members; a payload that is itself a `Date` has no path
/// (`clock.now output`). `$ref`s are followed (a recursive type is walked once),
/// union members are all walked. Fails only when `schema_json` is not JSON.
///
/// ```
/// let schema = r#"{"services":{"chat":{"procedures":{"post":{"type":"rpc",
///     "init":{"type":"object","properties":{"text":{"type":"string"},"sentAt":{"type":"Date"}}},
///     "output":{"type":"object","properties":{}}}}}}}"#;
/// let fields = river_runtime::codec::binary_codec_fields(schema)?;
/// assert_eq!(fields, ["chat.post init: sentAt"]);
/// # Ok::<(), river_runtime::Error>(())
/// ```
pub fn binary_codec_fields(schema_json: &str) -> Result<Vec<String>, Error> {
    let doc: Json = serde_json::from_str(schema_json)
        .map_err(|e| Error::config("the schema is not valid JSON").with_source(e))?;
    Ok(binary_codec_fields_of(&doc))
}

/// [`binary_codec_fields`] of an already parsed schema document.
pub fn binary_codec_fields_of(doc: &Json) -> Vec<String> {
    let mut out = Vec::new();
    for service in service_names(doc) {
        out.extend(service_binary_codec_fields(doc, &service));
    }
    if let Some(handshake) = doc.get("handshakeSchema") {
        out.extend(payload_fields("handshake", handshake));
    }
    dedup(out)
}

/// The entries of [`binary_codec_fields`] for one service of `doc` (without the
/// handshake's); empty when the document has no such service.
pub fn service_binary_codec_fields(doc: &Json, service: &str) -> Vec<String> {
    let procedures = match doc.get("services") {
        Some(services) => services.get(service).and_then(|s| s.get("procedures")),
        None if service == DEFAULT_SERVICE_NAME => doc.get("procedures"),
        None => None,
    };
    let Some(Json::Object(procedures)) = procedures else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, procedure) in sorted(procedures) {
        for position in POSITIONS {
            if let Some(schema) = procedure.get(position) {
                out.extend(payload_fields(
                    &format!("{service}.{name} {position}"),
                    schema,
                ));
            }
        }
    }
    dedup(out)
}

/// The handshake's entries of [`binary_codec_fields`] (`handshake: …`).
pub(crate) fn handshake_binary_codec_fields(doc: &Json) -> Vec<String> {
    doc.get("handshakeSchema")
        .map(|h| payload_fields("handshake", h))
        .unwrap_or_default()
}

/// The error for a JSON codec chosen for a schema with these `fields` (see
/// [`binary_codec_fields`]): [`Error::is_config`], one line naming the fields and the
/// fix; `setter` is the builder method that picks the codec (`ClientBuilder::codec`).
///
/// ```
/// let e = river_runtime::codec::binary_codec_error(
///     &["chat.post init: sentAt"],
///     "ClientBuilder::codec",
/// );
/// assert!(e.is_config());
/// assert_eq!(
///     e.to_string(),
///     "the JSON codec cannot carry `chat.post init: sentAt` (a Date; the reference's JSON \
///      codec sends {}): use Codec::Msgpack on both sides (ClientBuilder::codec)"
/// );
/// ```
pub fn binary_codec_error<S: AsRef<str>>(fields: &[S], setter: &str) -> Error {
    const SHOWN: usize = 3;
    let quoted: Vec<String> = fields
        .iter()
        .take(SHOWN)
        .map(|f| format!("`{}`", f.as_ref()))
        .collect();
    let list = match (quoted.as_slice(), fields.len()) {
        ([one], 1) => one.clone(),
        (shown, n) if n <= SHOWN => match shown.split_last() {
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            None => String::new(),
        },
        (shown, n) => format!("{} and {} more", shown.join(", "), n - SHOWN),
    };
    let what = if fields.len() == 1 { "a Date" } else { "Dates" };
    Error::config(format!(
        "the JSON codec cannot carry {list} ({what}; the reference's JSON codec sends {{}}): \
         use Codec::Msgpack on both sides ({setter})"
    ))
}

fn service_names(doc: &Json) -> Vec<String> {
    match doc.get("services").and_then(Json::as_object) {
        Some(services) => sorted(services)
            .into_iter()
            .map(|(k, _)| k.clone())
            .collect(),
        None if doc.get("procedures").is_some() => vec![DEFAULT_SERVICE_NAME.to_string()],
        None => Vec::new(),
    }
}

/// Keeps the first of equal entries (union members often share a path).
fn dedup(list: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for item in list {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// The places of one payload schema, each prefixed with `label`.
fn payload_fields(label: &str, schema: &Json) -> Vec<String> {
    let mut walker = Walker {
        root: schema,
        targets: HashMap::new(),
        active: Vec::new(),
        found: Vec::new(),
    };
    walker.index(schema);
    walker.walk(schema, String::new());
    dedup(walker.found)
        .into_iter()
        .map(|path| {
            if path.is_empty() {
                label.to_string()
            } else {
                format!("{label}: {path}")
            }
        })
        .collect()
}

/// Walks one payload schema, following `$ref`s.
struct Walker<'a> {
    /// The payload schema (`$ref: "#"`).
    root: &'a Json,
    /// `$id`s and `$defs`/`definitions` entries (by name and by pointer).
    targets: HashMap<String, &'a Json>,
    /// The schemas being walked, outermost first: a `$ref` back into one of them is a
    /// cycle and is not walked again.
    active: Vec<&'a Json>,
    /// Paths of `Date`s found.
    found: Vec<String>,
}

impl<'a> Walker<'a> {
    /// Collects every reference target of the payload schema.
    fn index(&mut self, schema: &'a Json) {
        match schema {
            Json::Object(map) => {
                if let Some(Json::String(id)) = map.get("$id") {
                    self.targets.entry(id.clone()).or_insert(schema);
                }
                for defs in ["$defs", "definitions"] {
                    if let Some(Json::Object(entries)) = map.get(defs) {
                        for (name, def) in entries {
                            self.targets
                                .entry(format!("#/{defs}/{}", escape_pointer(name)))
                                .or_insert(def);
                            self.targets
                                .entry(format!("#/{defs}/{name}"))
                                .or_insert(def);
                            self.targets.entry(name.clone()).or_insert(def);
                        }
                    }
                }
                for value in map.values() {
                    self.index(value);
                }
            }
            Json::Array(items) => {
                for item in items {
                    self.index(item);
                }
            }
            _ => {}
        }
    }

    fn walk(&mut self, schema: &'a Json, path: String) {
        let Json::Object(map) = schema else { return };
        if self.active.iter().any(|s| std::ptr::eq(*s, schema)) {
            return; // a recursive type: its fields were (or are being) reported
        }
        self.active.push(schema);
        if is_date(map.get("type")) {
            self.found.push(path.clone());
        }
        if let Some(Json::String(target)) = map.get("$ref") {
            let resolved = if target == "#" {
                Some(self.root)
            } else {
                self.targets.get(target.as_str()).copied()
            };
            if let Some(resolved) = resolved {
                self.walk(resolved, path.clone());
            }
        }
        for key in ["anyOf", "oneOf", "allOf"] {
            if let Some(Json::Array(members)) = map.get(key) {
                for member in members {
                    self.walk(member, path.clone());
                }
            }
        }
        if let Some(Json::Object(props)) = map.get("properties") {
            for (name, prop) in sorted(props) {
                self.walk(prop, join_property(&path, name));
            }
        }
        if let Some(Json::Object(patterns)) = map.get("patternProperties") {
            for (_, value) in sorted(patterns) {
                self.walk(value, format!("{path}{{}}"));
            }
        }
        if let Some(additional @ Json::Object(_)) = map.get("additionalProperties") {
            self.walk(additional, format!("{path}{{}}"));
        }
        let tuple = match (map.get("prefixItems"), map.get("items")) {
            (Some(Json::Array(list)), _) | (None, Some(Json::Array(list))) => Some(list),
            _ => None,
        };
        if let Some(list) = tuple {
            for (i, member) in list.iter().enumerate() {
                self.walk(member, format!("{path}[{i}]"));
            }
        }
        let rest = match (map.get("prefixItems"), map.get("items")) {
            (Some(_), items) => items,
            (None, Some(Json::Array(_))) => map.get("additionalItems"),
            (None, items) => items,
        };
        if let Some(rest @ Json::Object(_)) = rest {
            self.walk(rest, format!("{path}[]"));
        }
        self.active.pop();
    }
}

/// The entries of a JSON object by key (whatever order serde_json keeps).
fn sorted(map: &serde_json::Map<String, Json>) -> Vec<(&String, &Json)> {
    let mut entries: Vec<_> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries
}

/// Whether a `type` keyword names `Date` (alone or among other types).
fn is_date(ty: Option<&Json>) -> bool {
    match ty {
        Some(Json::String(t)) => t == "Date",
        Some(Json::Array(types)) => types.iter().any(|t| t.as_str() == Some("Date")),
        _ => false,
    }
}

/// `path.name`, or `path["name"]` when the name is not a plain identifier.
fn join_property(path: &str, name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '$' || c == '-');
    if !plain {
        return format!("{path}[{}]", quote(name));
    }
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// `"name"` with `"`, `\\`, control and text-direction characters escaped (`\u{202e}`),
/// so the entry is safe in generated source and docs.
fn quote(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push('"');
    for c in name.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control()
                || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') =>
            {
                out.push_str(&format!("\\u{{{:04x}}}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON-pointer token: `~` as `~0`, `/` as `~1`.
fn escape_pointer(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}
