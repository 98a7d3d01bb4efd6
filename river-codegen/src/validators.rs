//! Generation-time check that every payload schema compiles into a runtime validator.
//!
//! Generated servers validate requests (and clients, when asked, responses) with
//! `river_runtime::validate`, compiling the embedded `SCHEMA_JSON` at startup. A
//! schema the validator cannot compile (for example an ECMAScript `pattern` with a
//! lookahead) is reported here, with its place in the schema, instead of at startup.

use river_runtime::validate::Validator;
use serde_json::Value;

use crate::diagnostic::Diagnostic;
use crate::schema::Schema;

/// Compiles every init, input, output and errors schema of `schema`.
pub(crate) fn check_validators(schema: &Schema) -> Result<(), Diagnostic> {
    for (svc, service) in &schema.services {
        for (name, p) in &service.procedures {
            let base = format!("services.{svc}.procedures.{name}");
            let parts: [(&str, Option<&Value>); 4] = [
                ("init", Some(&p.init)),
                ("input", p.input.as_ref()),
                ("output", Some(&p.output)),
                ("errors", p.errors.as_ref()),
            ];
            for (key, value) in parts {
                let Some(value) = value else { continue };
                Validator::compile(value).map_err(|e| {
                    let inner = e.path.trim_start_matches('/').replace('/', ".");
                    let path = if inner.is_empty() {
                        format!("{base}.{key}")
                    } else {
                        format!("{base}.{key}.{inner}")
                    };
                    Diagnostic::new(path, e.message)
                })?;
            }
        }
    }
    Ok(())
}
