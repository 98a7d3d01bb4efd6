//! The plan of a generated file: every service and procedure with the Rust names the
//! emitters use (client methods, service traits, registration functions) and the
//! paths of their types, decided once so that client and server agree.

use std::collections::BTreeSet;

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use crate::diagnostic::Diagnostic;
use crate::names::{to_pascal_ident, to_snake_ident, unique};
use crate::schema::{ProcedureKind, Schema};
use crate::types::TypeSet;

/// A procedure as the emitters see it: wire names, the Rust method name and the types.
pub(crate) struct ProcPlan {
    /// The procedure name on the wire, exactly as in the schema.
    pub wire: String,
    /// The Rust method name (client method and trait method alike).
    pub method: Ident,
    /// rpc, upload, subscription or stream.
    pub kind: ProcedureKind,
    /// The schema's description, if any.
    pub description: Option<String>,
    /// Path of the init type, e.g. `types::TestAddInit`.
    pub init: TokenStream,
    /// Path of the request type (upload and stream).
    pub input: TokenStream,
    /// Path of the output type.
    pub output: TokenStream,
    /// Path of the error type.
    pub error: TokenStream,
}

/// A service as the emitters see it.
pub(crate) struct ServicePlan {
    /// The service name on the wire.
    pub wire: String,
    /// `snake_case` base: accessor on `Client`, `register_{snake}`.
    pub snake: Ident,
    /// `{Pascal}Client`.
    pub client_struct: Ident,
    /// `{Pascal}Service`.
    pub trait_name: Ident,
    /// `register_{snake}`.
    pub register_fn: Ident,
    /// Its procedures, in schema order.
    pub procedures: Vec<ProcPlan>,
    /// Attributes put on each of its items in `client` and `server`: empty, or
    /// `#[cfg(feature = "service-…")]` in a crate with a crate per service.
    pub gate: TokenStream,
    /// The feature in `gate`, if any.
    pub feature: Option<String>,
}

/// Every name the emitters need, decided once so that client and server agree.
pub(crate) struct Plan {
    /// Services in schema order.
    pub services: Vec<ServicePlan>,
    /// Path of the handshake metadata type, if the schema has one.
    pub handshake: Option<TokenStream>,
    /// One line per service or procedure whose Rust name got a suffix to keep it apart
    /// from another's (`get_x_2`), for warnings.
    pub renames: Vec<String>,
}

/// Method names that the generated structs define themselves.
const RESERVED_METHODS: &[&str] = &["new", "inner", "into_inner", "clone", "fmt"];

/// Parses a generated name as an identifier, reporting (rather than panicking on) a
/// name that is not one.
fn ident(name: &str, path: &str) -> Result<Ident, Diagnostic> {
    syn::parse_str::<Ident>(name).map_err(|_| Diagnostic {
        path: path.to_string(),
        message: format!("`{name}` is not a usable Rust identifier"),
    })
}

/// Makes a PascalCase name unique by appending `2`, `3`, … (an `_N` suffix would not be
/// UpperCamelCase once `Client`/`Service` is appended).
fn unique_pascal(name: String, taken: &mut BTreeSet<String>) -> String {
    if taken.insert(name.clone()) {
        return name;
    }
    let mut n = 2;
    loop {
        let candidate = format!("{name}{n}");
        if taken.insert(candidate.clone()) {
            return candidate;
        }
        n += 1;
    }
}

impl Plan {
    pub(crate) fn new(schema: &Schema, types: &TypeSet) -> Result<Plan, Diagnostic> {
        let mut snakes: BTreeSet<String> = RESERVED_METHODS.iter().map(|s| s.to_string()).collect();
        let mut pascals = BTreeSet::new();
        let mut services = Vec::new();
        let mut renames = Vec::new();
        for (svc_name, service) in &schema.services {
            let svc_path = format!("services.{svc_name}");
            let plain = to_snake_ident(svc_name);
            let snake = unique(plain.clone(), &mut snakes);
            // The keyword guard's `_` (`Self_`) is not needed before `Client`/`Service`.
            let plain_pascal = to_pascal_ident(svc_name).trim_end_matches('_').to_string();
            let pascal = unique_pascal(plain_pascal.clone(), &mut pascals);
            if snake != plain || pascal != plain_pascal {
                renames.push(format!(
                    "service `{svc_name}` is `Client::{snake}()`, `{pascal}Client` and `{pascal}Service` (`{plain}` / `{plain_pascal}` is taken)"
                ));
            }
            let mut methods: BTreeSet<String> =
                RESERVED_METHODS.iter().map(|s| s.to_string()).collect();
            let mut procedures = Vec::new();
            for (proc_name, procedure) in &service.procedures {
                let path = format!("{svc_path}.procedures.{proc_name}");
                let key = (svc_name.clone(), proc_name.clone());
                let Some(pt) = types.procedures.get(&key) else {
                    return Err(Diagnostic {
                        path,
                        message: "no types were generated for this procedure".to_string(),
                    });
                };
                let plain = to_snake_ident(proc_name);
                let method = unique(plain.clone(), &mut methods);
                if method != plain {
                    renames.push(format!(
                        "procedure `{svc_name}.{proc_name}` is method `{method}` (`{plain}` is taken)"
                    ));
                }
                let input = match (&pt.input, procedure.kind) {
                    (Some(input), _) => input.clone(),
                    (None, ProcedureKind::Upload | ProcedureKind::Stream) => {
                        return Err(Diagnostic {
                            path: format!("{path}.input"),
                            message: "an upload or stream procedure needs an `input` schema"
                                .to_string(),
                        })
                    }
                    (None, _) => TokenStream::new(),
                };
                procedures.push(ProcPlan {
                    wire: proc_name.clone(),
                    method: ident(&method, &path)?,
                    kind: procedure.kind,
                    description: procedure
                        .description
                        .clone()
                        .filter(|d| !d.trim().is_empty()),
                    init: pt.init.clone(),
                    input,
                    output: pt.output.clone(),
                    error: pt.error.clone(),
                });
            }
            services.push(ServicePlan {
                wire: svc_name.clone(),
                snake: ident(&snake, &svc_path)?,
                client_struct: ident(&format!("{pascal}Client"), &svc_path)?,
                trait_name: ident(&format!("{pascal}Service"), &svc_path)?,
                // `_2fa` gives `register_2fa`, not the non-snake-case `register__2fa`.
                register_fn: ident(
                    &format!("register_{}", snake.trim_start_matches('_')),
                    &svc_path,
                )?,
                procedures,
                gate: TokenStream::new(),
                feature: None,
            });
        }
        Ok(Plan {
            services,
            renames,
            handshake: types.handshake.clone(),
        })
    }
}

impl Plan {
    /// `use super::types;` when some type path starts at `types` (an unused import would
    /// be a warning).
    pub(crate) fn use_types(&self) -> TokenStream {
        let mentions = |ts: &TokenStream| {
            ts.clone()
                .into_iter()
                .next()
                .is_some_and(|t| matches!(&t, proc_macro2::TokenTree::Ident(i) if i == "types"))
        };
        let used = self.handshake.as_ref().is_some_and(mentions)
            || self.services.iter().flat_map(|s| &s.procedures).any(|p| {
                [&p.init, &p.input, &p.output, &p.error]
                    .into_iter()
                    .any(mentions)
            });
        let gated = self.services.iter().any(|s| !s.gate.is_empty());
        if used && gated {
            // Every service can be switched off.
            quote! { #[allow(unused_imports)] use super::types; }
        } else if used {
            quote! { use super::types; }
        } else {
            TokenStream::new()
        }
    }
}

/// Doc lines for a procedure: its description, then what it calls on the wire.
pub(crate) fn procedure_docs(
    service: &ServicePlan,
    procedure: &ProcPlan,
    tail: &str,
) -> TokenStream {
    let mut docs = Vec::new();
    if let Some(desc) = &procedure.description {
        // Already made safe for rustdoc (see `doc_text`).
        for line in desc.lines() {
            docs.push(format!(" {}", line.trim_end()));
        }
        docs.push(String::new());
    }
    docs.push(format!(
        " {tail} `{}.{}` ({}).",
        service.wire,
        procedure.wire,
        procedure.kind.as_str()
    ));
    quote! { #( #[doc = #docs] )* }
}
