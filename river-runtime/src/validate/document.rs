//! The payload schemas of a River schema document (what `serializeSchema` writes, and
//! what generated code embeds as `SCHEMA_JSON`), compiled per procedure: the server
//! validates inits and request data with them, a client (when asked) its own requests
//! and the server's responses.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value as Json;

use super::{SchemaError, Validator};

/// The name a single-service document (`{"procedures": …}`) gives its service, as
/// river-codegen does.
const DEFAULT_SERVICE_NAME: &str = "service";

/// The compiled schemas of one procedure.
#[derive(Clone, Debug, Default)]
pub struct ProcedureValidators {
    /// The init (`None`: not checked, e.g. a v1 upload without one).
    pub init: Option<Validator>,
    /// Each request data item (upload, stream).
    pub input: Option<Validator>,
    /// Each `Ok` response.
    pub output: Option<Validator>,
}

/// Every procedure's validators of a schema document, by service and procedure.
/// Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct SchemaValidators {
    /// Service → procedure → validators (nested, so lookups need no allocation).
    procedures: Arc<HashMap<String, HashMap<String, ProcedureValidators>>>,
}

impl SchemaValidators {
    /// Compiles every procedure of every service of a schema document.
    pub fn compile(schema_json: &str) -> Result<SchemaValidators, SchemaError> {
        let doc = parse(schema_json)?;
        let mut procedures = HashMap::new();
        for service in service_names(&doc) {
            let procs = service_validators(&doc, &service)?.into_iter().collect();
            procedures.insert(service, procs);
        }
        Ok(SchemaValidators {
            procedures: Arc::new(procedures),
        })
    }

    /// The validators of `service.procedure`, if the document has it.
    pub fn get(&self, service: &str, procedure: &str) -> Option<&ProcedureValidators> {
        self.procedures.get(service)?.get(procedure)
    }
}

pub(crate) fn parse(schema_json: &str) -> Result<Json, SchemaError> {
    serde_json::from_str(schema_json).map_err(|e| SchemaError {
        path: String::new(),
        message: format!("the schema is not valid JSON: {e}"),
    })
}

fn service_names(doc: &Json) -> Vec<String> {
    match doc.get("services").and_then(Json::as_object) {
        Some(services) => services.keys().cloned().collect(),
        None if doc.get("procedures").is_some() => vec![DEFAULT_SERVICE_NAME.to_string()],
        None => Vec::new(),
    }
}

/// The compiled schemas of every procedure of `service` in `doc`.
pub(crate) fn service_validators(
    doc: &Json,
    service: &str,
) -> Result<Vec<(String, ProcedureValidators)>, SchemaError> {
    let procedures = match doc.get("services") {
        Some(services) => services.get(service).and_then(|s| s.get("procedures")),
        None if service == DEFAULT_SERVICE_NAME => doc.get("procedures"),
        None => None,
    };
    let Some(Json::Object(procedures)) = procedures else {
        return Err(SchemaError {
            path: format!("/services/{service}"),
            message: format!("the schema has no service `{service}` with procedures"),
        });
    };
    let mut out = Vec::with_capacity(procedures.len());
    for (name, p) in procedures {
        let path = format!("/services/{service}/procedures/{name}");
        let compile = |key: &str, schema: &Json| {
            Validator::compile(schema).map_err(|e| SchemaError {
                path: format!("{path}/{key}{}", e.path),
                message: e.message,
            })
        };
        let kind = p.get("type").and_then(Json::as_str).unwrap_or_default();
        let has_input = matches!(kind, "upload" | "stream");
        let (init, input) = match (p.get("init"), p.get("input")) {
            (Some(init), input) => (
                Some(compile("init", init)?),
                match input {
                    Some(i) if has_input => Some(compile("input", i)?),
                    _ => None,
                },
            ),
            // v1: `input` is the init of an rpc/subscription, the requests of an
            // upload/stream (whose init is then an empty object, left unchecked).
            (None, Some(input)) if has_input => (None, Some(compile("input", input)?)),
            (None, Some(input)) => (Some(compile("input", input)?), None),
            (None, None) => (None, None),
        };
        let output = match p.get("output") {
            Some(o) => Some(compile("output", o)?),
            None => None,
        };
        out.push((
            name.clone(),
            ProcedureValidators {
                init,
                input,
                output,
            },
        ));
    }
    Ok(out)
}
