//! The serialized River schema (`serializeSchema` / `serializeSchemaV1Compat` output),
//! parsed into services and procedures. Payload schemas stay raw JSON here; the
//! [`crate::normalize`] module turns them into something typify accepts.

use indexmap::IndexMap;
use serde_json::{Map, Value};

use crate::diagnostic::{join, Diagnostic};

/// Name given to the single service of a document that is one service's serialization
/// (`{"procedures": {...}}`, as written by `service.serialize()`).
pub const DEFAULT_SERVICE_NAME: &str = "service";

/// A whole River schema: its services and the optional handshake metadata schema.
#[derive(Clone, Debug, PartialEq)]
pub struct Schema {
    /// Services by name, in document order.
    pub services: IndexMap<String, Service>,
    /// The JSON schema of the handshake metadata (`handshakeSchema`), if any.
    pub handshake_schema: Option<Value>,
}

/// One service: its procedures.
#[derive(Clone, Debug, PartialEq)]
pub struct Service {
    /// Procedures by name, in document order.
    pub procedures: IndexMap<String, Procedure>,
}

/// The four River procedure kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProcedureKind {
    /// One request, one response.
    Rpc,
    /// Many requests, one response.
    Upload,
    /// One request, many responses.
    Subscription,
    /// Many requests, many responses.
    Stream,
}

impl ProcedureKind {
    /// The schema spelling: `"rpc"`, `"upload"`, `"subscription"` or `"stream"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProcedureKind::Rpc => "rpc",
            ProcedureKind::Upload => "upload",
            ProcedureKind::Subscription => "subscription",
            ProcedureKind::Stream => "stream",
        }
    }

    /// Whether the client sends a stream of requests after the init (upload, stream).
    pub fn has_input(self) -> bool {
        matches!(self, ProcedureKind::Upload | ProcedureKind::Stream)
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "rpc" => ProcedureKind::Rpc,
            "upload" => ProcedureKind::Upload,
            "subscription" => ProcedureKind::Subscription,
            "stream" => ProcedureKind::Stream,
            _ => return None,
        })
    }
}

/// One procedure, with raw (not yet normalized) payload schemas.
#[derive(Clone, Debug, PartialEq)]
pub struct Procedure {
    /// The procedure kind.
    pub kind: ProcedureKind,
    /// The init (first request) schema.
    pub init: Value,
    /// The request data schema: upload and stream only.
    pub input: Option<Value>,
    /// The response data schema.
    pub output: Value,
    /// The error union schema (user errors followed by River's reserved ones), if any.
    pub errors: Option<Value>,
    /// The procedure description, if any (empty strings are dropped).
    pub description: Option<String>,
}

/// The schema of an empty object: the init of a v1 upload/stream that has none.
pub fn empty_object_schema() -> Value {
    serde_json::json!({"type": "object", "properties": {}})
}

/// Parses a serialized River schema.
///
/// Accepts the v2 serialization (`init`, plus `input` for upload/stream), the
/// v1-compatible one (rpc/subscription with `input` and no `init`: the `input` becomes
/// the init; an upload/stream without `init` gets an empty-object init), and a single
/// service's serialization (`{"procedures": ...}`), which becomes a service named
/// [`DEFAULT_SERVICE_NAME`].
pub fn parse_schema(json: &str) -> Result<Schema, Diagnostic> {
    let doc: Value = serde_json::from_str(json)
        .map_err(|e| Diagnostic::new("", format!("schema is not valid JSON: {e}")))?;
    let mut schema = schema_from_value(&doc)?;
    // `serde_json::Value` sorts object keys; services and procedures keep the document
    // order (which decides generated names on collisions and the order of the output).
    if let Ok(order) = serde_json::from_str::<KeyOrder>(json) {
        order.apply(&mut schema);
    }
    Ok(schema)
}

/// The document order of services and procedures.
#[derive(serde::Deserialize)]
struct KeyOrder {
    #[serde(default)]
    services: Option<IndexMap<String, ServiceOrder>>,
    #[serde(default)]
    procedures: Option<IndexMap<String, serde::de::IgnoredAny>>,
}

#[derive(serde::Deserialize)]
struct ServiceOrder {
    #[serde(default)]
    procedures: Option<IndexMap<String, serde::de::IgnoredAny>>,
}

impl KeyOrder {
    fn apply(self, schema: &mut Schema) {
        let services: Vec<(String, Option<Vec<String>>)> = match (self.services, self.procedures) {
            (Some(svcs), _) => svcs
                .into_iter()
                .map(|(k, s)| (k, s.procedures.map(|p| p.into_keys().collect())))
                .collect(),
            (None, Some(procs)) => vec![(
                DEFAULT_SERVICE_NAME.to_string(),
                Some(procs.into_keys().collect()),
            )],
            (None, None) => return,
        };
        for (i, (name, procs)) in services.iter().enumerate() {
            let Some(from) = schema.services.get_index_of(name) else {
                continue;
            };
            if from != i && i < schema.services.len() {
                schema.services.move_index(from, i);
            }
            let (Some(procs), Some(service)) = (procs, schema.services.get_mut(name)) else {
                continue;
            };
            for (j, p) in procs.iter().enumerate() {
                if let Some(from) = service.procedures.get_index_of(p) {
                    if from != j && j < service.procedures.len() {
                        service.procedures.move_index(from, j);
                    }
                }
            }
        }
    }
}

/// Like [`parse_schema`], from an already parsed JSON document.
pub fn schema_from_value(doc: &Value) -> Result<Schema, Diagnostic> {
    let top = doc
        .as_object()
        .ok_or_else(|| Diagnostic::new("", "schema must be a JSON object"))?;
    let mut services = IndexMap::new();
    match (top.get("services"), top.get("procedures")) {
        (Some(svcs), _) => {
            let svcs = svcs.as_object().ok_or_else(|| {
                Diagnostic::new("services", "`services` must be an object of services")
            })?;
            for (name, svc) in svcs {
                let path = join("services", name);
                services.insert(name.clone(), parse_service(&path, svc)?);
            }
        }
        (None, Some(_)) => {
            let path = join("services", DEFAULT_SERVICE_NAME);
            services.insert(DEFAULT_SERVICE_NAME.to_string(), parse_service(&path, doc)?);
        }
        (None, None) => {
            return Err(Diagnostic::new(
                "",
                "schema has no `services` (expected the output of River's serializeSchema)",
            ))
        }
    }
    let handshake_schema = match top.get("handshakeSchema") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.clone()),
    };
    Ok(Schema {
        services,
        handshake_schema,
    })
}

fn parse_service(path: &str, svc: &Value) -> Result<Service, Diagnostic> {
    let obj = svc
        .as_object()
        .ok_or_else(|| Diagnostic::new(path, "a service must be an object"))?;
    let procs_path = join(path, "procedures");
    let procs = obj
        .get("procedures")
        .ok_or_else(|| Diagnostic::new(path, "service has no `procedures`"))?
        .as_object()
        .ok_or_else(|| Diagnostic::new(&procs_path, "`procedures` must be an object"))?;
    let mut procedures = IndexMap::new();
    for (name, proc_) in procs {
        let p = join(&procs_path, name);
        procedures.insert(name.clone(), parse_procedure(&p, proc_)?);
    }
    Ok(Service { procedures })
}

fn schema_field(
    path: &str,
    obj: &Map<String, Value>,
    key: &str,
) -> Result<Option<Value>, Diagnostic> {
    match obj.get(key) {
        None => Ok(None),
        Some(v @ (Value::Object(_) | Value::Bool(_))) => Ok(Some(v.clone())),
        Some(_) => Err(Diagnostic::new(
            join(path, key),
            format!("`{key}` must be a JSON schema object"),
        )),
    }
}

fn parse_procedure(path: &str, proc_: &Value) -> Result<Procedure, Diagnostic> {
    let obj = proc_
        .as_object()
        .ok_or_else(|| Diagnostic::new(path, "a procedure must be an object"))?;
    let type_path = join(path, "type");
    let kind = match obj.get("type") {
        None => return Err(Diagnostic::new(path, "procedure has no `type`")),
        Some(Value::String(s)) => ProcedureKind::parse(s).ok_or_else(|| {
            Diagnostic::new(
                &type_path,
                format!(
                    "unknown procedure type `{s}` (expected rpc, upload, subscription or stream)"
                ),
            )
        })?,
        Some(other) => {
            return Err(Diagnostic::new(
                &type_path,
                format!("procedure `type` must be a string, found {other}"),
            ))
        }
    };
    let init = schema_field(path, obj, "init")?;
    let input = schema_field(path, obj, "input")?;
    let output = schema_field(path, obj, "output")?
        .ok_or_else(|| Diagnostic::new(path, "procedure has no `output` schema"))?;
    let errors = schema_field(path, obj, "errors")?;
    let description = match obj.get("description") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            return Err(Diagnostic::new(
                join(path, "description"),
                "`description` must be a string",
            ))
        }
    };
    let (init, input) = if kind.has_input() {
        let input = input.ok_or_else(|| {
            Diagnostic::new(
                path,
                format!(
                    "{} procedure has no `input` (request data) schema",
                    kind.as_str()
                ),
            )
        })?;
        (init.unwrap_or_else(empty_object_schema), Some(input))
    } else {
        // v2: `init`; v1-compatible: `input` stands for the init.
        let init = init.or(input).ok_or_else(|| {
            Diagnostic::new(
                path,
                format!("{} procedure has neither `init` nor `input`", kind.as_str()),
            )
        })?;
        (init, None)
    };
    Ok(Procedure {
        kind,
        init,
        input,
        output,
        errors,
        description,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_v2_and_v1_compat() {
        let s = parse_schema(
            r#"{"services":{"s":{"procedures":{
              "a":{"init":{"type":"number"},"output":{"type":"string"},"errors":{"not":{}},"type":"rpc","description":"adds"},
              "b":{"input":{"type":"boolean"},"output":{"type":"string"},"type":"subscription"},
              "c":{"input":{"type":"boolean"},"output":{"type":"string"},"type":"upload"},
              "d":{"init":{"type":"null"},"input":{"type":"boolean"},"output":{"type":"string"},"type":"stream"}
            }}},"handshakeSchema":{"type":"object","properties":{}}}"#,
        )
        .unwrap();
        let s0 = &s.services["s"];
        let a = &s0.procedures["a"];
        assert_eq!(a.kind, ProcedureKind::Rpc);
        assert_eq!(a.init, serde_json::json!({"type":"number"}));
        assert_eq!(a.input, None);
        assert_eq!(a.description.as_deref(), Some("adds"));
        let b = &s0.procedures["b"];
        assert_eq!(b.init, serde_json::json!({"type":"boolean"}));
        assert_eq!(b.input, None);
        let c = &s0.procedures["c"];
        assert_eq!(c.init, empty_object_schema());
        assert_eq!(c.input, Some(serde_json::json!({"type":"boolean"})));
        let d = &s0.procedures["d"];
        assert_eq!(d.init, serde_json::json!({"type":"null"}));
        assert!(s.handshake_schema.is_some());
        assert_eq!(
            s0.procedures.keys().collect::<Vec<_>>(),
            ["a", "b", "c", "d"]
        );
    }

    #[test]
    fn single_service_document() {
        let s =
            parse_schema(r#"{"procedures":{"a":{"init":{},"output":{},"type":"rpc"}}}"#).unwrap();
        assert!(s.services[DEFAULT_SERVICE_NAME]
            .procedures
            .contains_key("a"));
    }

    #[test]
    fn bad_input_names_the_place() {
        let e = parse_schema(
            r#"{"services":{"s":{"procedures":{"p":{"init":{},"output":{},"type":"bidi"}}}}}"#,
        )
        .unwrap_err();
        assert_eq!(e.path, "services.s.procedures.p.type");
        assert!(e.message.contains("bidi"), "{e}");
        let e = parse_schema(r#"{"services":{"s":{"procedures":{"p":{"init":{},"type":"rpc"}}}}}"#)
            .unwrap_err();
        assert_eq!(e.path, "services.s.procedures.p");
        let e = parse_schema(
            r#"{"services":{"s":{"procedures":{"p":{"init":{},"output":{},"type":"stream"}}}}}"#,
        )
        .unwrap_err();
        assert!(e.message.contains("input"), "{e}");
        assert!(parse_schema("[").unwrap_err().message.contains("JSON"));
        assert!(parse_schema("{}").is_err());
    }
}
