//! Rust types for every payload of a River schema.
//!
//! Pipeline: raw payload JSON → [`crate::normalize`] → schemars 0.8 `Schema` → typify
//! `TypeSpace` (`with_type_mod("types")`, `Clone`/`Debug`/`PartialEq` derives) → tokens,
//! post-processed on the syn level so that the generated code depends on
//! `river-runtime` alone (`::serde` → `::river_runtime::__private::serde`, plus
//! `#[serde(crate = "...")]`). Service errors are not left to typify: each procedure gets
//! a hand-generated enum `{Service}{Procedure}Error` (see [`generate_types`]).

use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};

use indexmap::IndexMap;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;
use typify::{TypeSpace, TypeSpaceImpl, TypeSpaceSettings};

use crate::crate_paths::outside;
pub use crate::crate_paths::rewrite_crate_paths;
use crate::diagnostic::{join, Diagnostic};
use crate::error_types::{
    collect_error_members, doc_attrs, error_enum_tokens, literal_codes, ErrorEnum, ErrorVariant,
};
use crate::names::{type_name, NameRegistry, SYNTHETIC_DEFS};
use crate::normalize::{self, Context, Position};
use crate::schema::{Procedure, Schema};
use crate::shapes::Shapes;

/// Error codes River reserves; the runtime handles them, so generated enums leave them
/// out.
pub const RESERVED_ERROR_CODES: [&str; 4] = [
    "UNCAUGHT_ERROR",
    "UNEXPECTED_DISCONNECT",
    "INVALID_REQUEST",
    "CANCEL",
];

/// All generated types of a schema.
#[derive(Clone, Debug)]
pub struct TypeSet {
    /// The body of `pub mod types { ... }`: every type of every procedure, the error
    /// enums and the handshake metadata type.
    pub tokens: TokenStream,
    /// Per procedure, keyed by `(service, procedure)` as spelled in the schema, in
    /// schema order.
    pub procedures: IndexMap<(String, String), ProcedureTypes>,
    /// The handshake metadata type (for example `types::HandshakeMetadata`), if the
    /// schema has a `handshakeSchema`.
    pub handshake: Option<TokenStream>,
    /// The names of all items defined in the `types` module, sorted.
    pub type_names: Vec<String>,
    /// One line per property (or enum value) whose Rust field (or variant) name was
    /// changed to keep it apart from another's (the wire name stays), for warnings.
    pub renamed_fields: Vec<String>,
    /// The items of `tokens`, placed per service (for crates of their own).
    pub(crate) split: crate::split::Split,
}

/// The Rust types of one procedure. Paths are relative to the generated file's root
/// (`types::TestAddInit`, `f64`, `::river_runtime::Bytes`, …).
#[derive(Clone, Debug)]
pub struct ProcedureTypes {
    /// The init (first request) type.
    pub init: TokenStream,
    /// The request data type (upload and stream only).
    pub input: Option<TokenStream>,
    /// The response data type.
    pub output: TokenStream,
    /// The service-error enum (`types::{Service}{Procedure}Error`), which implements
    /// `::river_runtime::ServiceError`.
    pub error: TokenStream,
    /// The procedure's description, if any (also in the types' doc comments).
    pub description: Option<String>,
    /// The service error codes the error enum knows, in schema order (reserved protocol
    /// codes excluded).
    pub error_codes: Vec<String>,
}

/// Generates the types of every procedure (and the handshake metadata) of `schema`.
///
/// Type names are `{Service}{Procedure}{Init|Input|Output|Error}` in `UpperCamelCase`,
/// disambiguated with a numeric suffix in schema order when two procedures produce the
/// same name; nested types are named after their path (`{Parent}{Property}`,
/// `{Parent}Item`, union variants after their literal). The handshake type is
/// `HandshakeMetadata`.
///
/// Error enums: for each procedure, the `errors` union minus River's four reserved
/// codes ([`RESERVED_ERROR_CODES`]) becomes `enum {Service}{Procedure}Error` with one
/// struct variant per code (`TOO_SMALL` → `TooSmall { message, extras }`, `extras`
/// optional when the schema says so, absent when the schema has none) plus
/// `Unknown { code, message, extras }`. It serializes as the wire shape
/// `{code, message, extras?}`, deserializes known codes only, and implements
/// `::river_runtime::ServiceError`, `Display` and `std::error::Error`.
pub fn generate_types(schema: &Schema) -> Result<TypeSet, Diagnostic> {
    Generator::new()?.run(schema).map(|(types, _)| types)
}

struct Plan<'a> {
    service: &'a str,
    procedure: &'a str,
    proc_: &'a Procedure,
    path: String,
    init: String,
    input: Option<String>,
    output: String,
    error: String,
}

/// A normalized payload waiting for typify.
struct Job {
    path: String,
    name: String,
    doc: String,
    normalized: normalize::Normalized,
}

struct Generator {
    space: TypeSpace,
    names: NameRegistry,
    shapes: Shapes,
    jobs: Vec<Job>,
    /// `(payload name, shared type, doc)`: payloads emitted as `pub type` aliases.
    aliases: Vec<(String, String, String)>,
    open_empty: BTreeSet<String>,
    /// Every name the normalizer gave a schema (titles and definitions).
    titles: BTreeSet<String>,
}

impl Generator {
    fn new() -> Result<Self, Diagnostic> {
        let mut settings = TypeSpaceSettings::default();
        settings
            .with_type_mod("types")
            .with_derive("PartialEq".to_string());
        let map: typify::MapType = "::std::collections::BTreeMap"
            .parse()
            .map_err(|e: String| Diagnostic::new("", format!("internal: {e}")))?;
        settings.with_map_type(map);
        for (def, path) in SYNTHETIC_DEFS {
            settings.with_replacement(def, path, [TypeSpaceImpl::Default].into_iter());
        }
        let mut space = TypeSpace::new(&settings);
        let defs: Vec<(String, schemars::schema::Schema)> = SYNTHETIC_DEFS
            .iter()
            .map(|(d, _)| (d.to_string(), schemars::schema::Schema::Bool(true)))
            .collect();
        guarded("", || space.add_ref_types(defs))?
            .map_err(|e| Diagnostic::new("", format!("internal: {e}")))?;
        Ok(Generator {
            space,
            names: NameRegistry::new(),
            shapes: Shapes::new(),
            jobs: Vec::new(),
            aliases: Vec::new(),
            open_empty: BTreeSet::new(),
            titles: BTreeSet::new(),
        })
    }

    /// Generates the types; also returns every name the normalizer assigned.
    fn run(mut self, schema: &Schema) -> Result<(TypeSet, BTreeSet<String>), Diagnostic> {
        // Claim the top-level names first, so they win over nested ones.
        let mut plans = Vec::new();
        for (svc, service) in &schema.services {
            for (proc_name, proc_) in &service.procedures {
                let n = &mut self.names;
                let mut claim = |role: &str| n.claim(&type_name(&[svc, proc_name, role]));
                let init = claim("Init");
                let input = proc_.input.as_ref().map(|_| claim("Input"));
                let output = claim("Output");
                let error = claim("Error");
                plans.push(Plan {
                    service: svc,
                    procedure: proc_name,
                    proc_,
                    path: join(&join(&join("services", svc), "procedures"), proc_name),
                    init,
                    input,
                    output,
                    error,
                });
            }
        }
        let handshake_name = schema
            .handshake_schema
            .as_ref()
            .map(|_| self.names.claim("HandshakeMetadata"));

        // Normalize every payload first: shared shapes are named once all are known.
        let normalize_start = std::time::Instant::now();
        let mut jobs = Vec::new();
        let mut error_enums = Vec::new();
        for plan in &plans {
            let kind = plan.proc_.kind.as_str();
            let what = format!("`{}.{}` ({kind})", plan.service, plan.procedure);
            let with_desc = |role: &str| match &plan.proc_.description {
                Some(d) => format!("{role} of {what}.\n\n{d}"),
                None => format!("{role} of {what}."),
            };
            let init = self.payload(
                &plan.proc_.init,
                &join(&plan.path, "init"),
                &plan.init,
                Position::Request,
                &with_desc("Init (first request)"),
            )?;
            let input = match (&plan.proc_.input, &plan.input) {
                (Some(schema), Some(name)) => Some(self.payload(
                    schema,
                    &join(&plan.path, "input"),
                    name,
                    Position::Request,
                    &with_desc("Request data"),
                )?),
                _ => None,
            };
            let output = self.payload(
                &plan.proc_.output,
                &join(&plan.path, "output"),
                &plan.output,
                Position::Response,
                &with_desc("Response data"),
            )?;
            let error_enum = self.error_enum(plan, &format!("Service errors of {what}."))?;
            jobs.push((init, input, output, error_enums.len()));
            error_enums.push(error_enum);
        }
        let handshake = match (&schema.handshake_schema, &handshake_name) {
            (Some(hs), Some(name)) => Some(self.payload(
                hs,
                "handshakeSchema",
                name,
                Position::Response,
                "Handshake metadata: sent by the client when it connects.",
            )?),
            _ => None,
        };

        crate::timings::report("types: normalize", normalize_start);
        let idents = crate::timings::phase("types: typify", || self.add_to_type_space())?;
        let mut procedures = IndexMap::new();
        for (plan, (init, input, output, e)) in plans.iter().zip(jobs) {
            let error_enum = &error_enums[e];
            let error_codes = error_enum.variants.iter().map(|v| v.code.clone()).collect();
            let error_ident = format_ident!("{}", error_enum.name);
            procedures.insert(
                (plan.service.to_string(), plan.procedure.to_string()),
                ProcedureTypes {
                    init: outside(&idents[init]),
                    input: input.map(|i| outside(&idents[i])),
                    output: outside(&idents[output]),
                    error: quote!(types::#error_ident),
                    description: plan.proc_.description.clone(),
                    error_codes,
                },
            );
        }
        let handshake = handshake.map(|h| outside(&idents[h]));

        let stream = crate::timings::phase("types: to_stream", || {
            guarded("", || self.space.to_stream())
        })?;
        let stream = crate::timings::phase("types: crate paths", || rewrite_crate_paths(stream));
        let mut file: syn::File = crate::timings::phase("types: parse", || syn::parse2(stream))
            .map_err(|e| {
                Diagnostic::new("", format!("internal: typify output does not parse: {e}"))
            })?;
        let renamed_fields = crate::timings::phase("types: tidy", || {
            crate::tidy::tidy_typify_items(&mut file, &self.open_empty)
        })
        .into_iter()
        .map(|r| r.to_string())
        .collect();
        let mut type_names: BTreeSet<String> = BTreeSet::new();
        for item in &file.items {
            match item {
                syn::Item::Struct(s) => {
                    type_names.insert(s.ident.to_string());
                }
                syn::Item::Enum(e) => {
                    type_names.insert(e.ident.to_string());
                }
                syn::Item::Type(t) => {
                    type_names.insert(t.ident.to_string());
                }
                _ => {}
            }
        }
        let mut extra = TokenStream::new();
        for (name, target, doc) in &self.aliases {
            type_names.insert(name.clone());
            let (name, target) = (format_ident!("{}", name), format_ident!("{}", target));
            let doc = doc_attrs(doc);
            extra.extend(quote! {
                #doc
                pub type #name = #target;
            });
        }
        for e in &error_enums {
            type_names.insert(e.name.clone());
            extra.extend(error_enum_tokens(e, &idents));
        }
        let extra: syn::File = syn::parse2(extra)
            .map_err(|e| Diagnostic::new("", format!("internal: error types do not parse: {e}")))?;
        let mut items = file.items;
        items.extend(extra.items);
        let mut services: Vec<crate::split::ServiceRoots> = Vec::new();
        for plan in &plans {
            if services.last().is_none_or(|s| s.service != plan.service) {
                services.push(crate::split::ServiceRoots {
                    service: plan.service.to_string(),
                    roots: Vec::new(),
                });
            }
            if let Some(s) = services.last_mut() {
                s.roots.extend(
                    [
                        Some(&plan.init),
                        plan.input.as_ref(),
                        Some(&plan.output),
                        Some(&plan.error),
                    ]
                    .into_iter()
                    .flatten()
                    .cloned(),
                );
            }
        }
        let split = crate::timings::phase("types: split", || {
            crate::split::split_by_service(items, &services)
        });
        let tokens = split.module_tokens();
        let types = TypeSet {
            tokens,
            procedures,
            handshake,
            type_names: type_names.into_iter().collect(),
            renamed_fields,
            split,
        };
        Ok((types, self.titles))
    }

    /// Normalizes a payload; returns its index in `self.jobs`.
    fn payload(
        &mut self,
        raw: &Value,
        path: &str,
        name: &str,
        position: Position,
        doc: &str,
    ) -> Result<usize, Diagnostic> {
        let ctx = Context {
            path,
            name,
            position,
            doc: Some(doc),
        };
        let n = normalize::normalize(raw, &ctx, &mut self.names, &mut self.shapes)?;
        self.jobs.push(Job {
            path: path.to_string(),
            name: name.to_string(),
            doc: doc.to_string(),
            normalized: n,
        });
        Ok(self.jobs.len() - 1)
    }

    /// Names the shared shapes, registers every definition with typify in one batch,
    /// then adds each payload; returns each payload's type tokens as typify spells them
    /// (`types::X`, `f64`, …), by job index.
    fn add_to_type_space(&mut self) -> Result<Vec<TokenStream>, Diagnostic> {
        let shared = std::mem::take(&mut self.shapes).finish(&mut self.names);
        let to_schema = |v: &Value, path: &str| -> Result<schemars::schema::Schema, Diagnostic> {
            serde_json::from_value(v.clone()).map_err(|e| {
                Diagnostic::new(
                    path,
                    format!("schema not understood after normalization: {e}"),
                )
            })
        };
        // A shared type named after a payload carries that payload's documentation.
        let docs: std::collections::HashMap<&str, &str> = self
            .jobs
            .iter()
            .map(|j| (j.name.as_str(), j.doc.as_str()))
            .collect();
        let mut defs = Vec::new();
        for (name, v) in &shared.definitions {
            let mut v = v.clone();
            if let (Some(doc), Value::Object(o)) = (docs.get(name.as_str()), &mut v) {
                let d = match o.get("description").and_then(Value::as_str) {
                    Some(existing) => format!("{doc}\n\n{existing}"),
                    None => doc.to_string(),
                };
                o.insert("description".into(), d.into());
            }
            defs.push((name.clone(), to_schema(&v, "")?));
            self.titles.insert(name.clone());
        }
        self.open_empty
            .extend(shared.open_empty_structs.iter().cloned());
        let mut jobs = std::mem::take(&mut self.jobs);
        for job in &mut jobs {
            let n = &mut job.normalized;
            shared.apply(&mut n.root);
            for (name, v) in &mut n.definitions {
                shared.apply(v);
                defs.push((name.clone(), to_schema(v, &job.path)?));
                self.titles.insert(name.clone());
            }
            self.open_empty.extend(n.open_empty_structs.iter().cloned());
            self.titles.extend(n.titles.iter().cloned());
        }
        let mut checked: Vec<crate::recursion::Def<'_>> = shared
            .definitions
            .iter()
            .map(|(name, schema)| crate::recursion::Def {
                name,
                schema,
                path: "",
            })
            .collect();
        for job in &jobs {
            checked.extend(job.normalized.definitions.iter().map(|(name, schema)| {
                crate::recursion::Def {
                    name,
                    schema,
                    path: &job.path,
                }
            }));
            checked.push(crate::recursion::Def {
                name: &job.name,
                schema: &job.normalized.root,
                path: &job.path,
            });
        }
        crate::recursion::check_intersections(&checked)?;
        drop(checked);
        let space = &mut self.space;
        if !defs.is_empty() {
            guarded("", || space.add_ref_types(defs))?
                .map_err(|e| Diagnostic::new("", format!("cannot generate a type: {e}")))?;
        }
        let mut idents = Vec::new();
        for job in &jobs {
            if let Some(shared_name) = shared.root_type(&job.name) {
                // The payload is a shared type: its own name, or an alias of it.
                self.titles.insert(job.name.clone());
                if shared_name != job.name {
                    self.aliases
                        .push((job.name.clone(), shared_name.to_string(), job.doc.clone()));
                }
                let ident = format_ident!("{}", job.name);
                idents.push(quote!(types::#ident));
                continue;
            }
            let path = job.path.as_str();
            let root = to_schema(&job.normalized.root, path)?;
            let name = job.name.clone();
            let id = guarded(path, || space.add_type_with_name(&root, Some(name)))?
                .map_err(|e| Diagnostic::new(path, format!("cannot generate a type: {e}")))?;
            let ty = space
                .get_type(&id)
                .map_err(|e| Diagnostic::new(path, format!("internal: {e}")))?;
            idents.push(ty.ident());
        }
        Ok(idents)
    }

    fn error_enum(&mut self, plan: &Plan<'_>, doc: &str) -> Result<ErrorEnum, Diagnostic> {
        let path = join(&plan.path, "errors");
        let mut members = Vec::new();
        if let Some(errors) = &plan.proc_.errors {
            collect_error_members(errors, &path, &mut members)?;
        }
        let mut taken: BTreeSet<String> = ["Unknown".to_string()].into_iter().collect();
        let mut seen_codes = BTreeSet::new();
        let mut variants = Vec::new();
        for (mpath, member) in members {
            let props = member.get("properties").and_then(Value::as_object);
            let code_schema = props.and_then(|p| p.get("code")).ok_or_else(|| {
                Diagnostic::new(
                    &mpath,
                    "an error variant must be an object with a `code` property",
                )
            })?;
            let codes = literal_codes(code_schema).ok_or_else(|| {
                Diagnostic::new(
                    join(&join(&mpath, "properties"), "code"),
                    "an error `code` must be a string literal (`const`) or a string `enum`",
                )
            })?;
            let codes: Vec<String> = codes
                .into_iter()
                .filter(|c| !RESERVED_ERROR_CODES.contains(&c.as_str()))
                .filter(|c| seen_codes.insert(c.clone()))
                .collect();
            if codes.is_empty() {
                continue;
            }
            let required = member
                .get("required")
                .and_then(Value::as_array)
                .is_some_and(|r| r.iter().any(|x| x == "extras"));
            let extras = match props.and_then(|p| p.get("extras")) {
                None => None,
                Some(schema) => {
                    let name = self
                        .names
                        .claim(&type_name(&[&plan.error, &codes[0], "Extras"]));
                    let epath = join(&join(&mpath, "properties"), "extras");
                    let edoc = format!(
                        "Extras of the `{}` error of `{}.{}`.",
                        codes.join("`/`"),
                        plan.service,
                        plan.procedure
                    );
                    let job = self.payload(schema, &epath, &name, Position::Response, &edoc)?;
                    Some((job, required))
                }
            };
            let doc = member
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_string);
            for code in codes {
                let mut ident = crate::names::to_pascal_ident(&code);
                if !taken.insert(ident.clone()) {
                    let mut n = 2;
                    while !taken.insert(format!("{ident}{n}")) {
                        n += 1;
                    }
                    ident = format!("{ident}{n}");
                }
                variants.push(ErrorVariant {
                    code,
                    ident: format_ident!("{}", ident),
                    doc: doc.clone(),
                    extras,
                });
            }
        }
        Ok(ErrorEnum {
            name: plan.error.clone(),
            doc: doc.to_string(),
            variants,
        })
    }
}

/// Runs a typify call, turning a panic into a [`Diagnostic`] at `path` (the default
/// panic message is silenced meanwhile).
fn guarded<T>(path: &str, f: impl FnOnce() -> T) -> Result<T, Diagnostic> {
    // The panic hook is process-wide: swap it under a lock so that concurrent
    // generations always restore the original hook.
    static HOOK_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _lock = HOOK_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = catch_unwind(AssertUnwindSafe(f));
    std::panic::set_hook(previous);
    result.map_err(|payload| {
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        Diagnostic::new(path, format!("typify failed on this schema: {msg}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::parse_schema;

    /// Every type typify emits carries a name the normalizer chose (so typify never named
    /// a type on its own, which is what makes its silent same-name reuse possible).
    fn assert_all_titled(json: &str, what: &str) {
        let schema = parse_schema(json).unwrap();
        let (types, titles) = Generator::new().unwrap().run(&schema).unwrap();
        let errors: BTreeSet<String> = types
            .procedures
            .values()
            .map(|p| p.error.to_string().replace("types :: ", ""))
            .collect();
        for name in &types.type_names {
            assert!(
                titles.contains(name) || errors.contains(name),
                "{what}: typify named `{name}` by itself"
            );
        }
    }

    #[test]
    fn corpus_types_all_have_normalizer_names() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared");
        if !root.is_dir() {
            println!("skipping: {} is absent", root.display());
            return;
        }
        let mut n = 0;
        for dir in [
            "schemas/river-python",
            "schemas/typebox",
            "schemas/reference-snapshots",
            "conformance",
        ] {
            for e in std::fs::read_dir(root.join(dir)).unwrap() {
                let p = e.unwrap().path();
                let name = p.file_name().unwrap().to_string_lossy().to_string();
                if !name.ends_with(".json") || name == "v1-rpc-invalid-schema.json" {
                    continue;
                }
                assert_all_titled(&std::fs::read_to_string(&p).unwrap(), &name);
                n += 1;
            }
        }
        assert!(n >= 19, "{n}");
    }

    #[test]
    fn typify_panics_become_diagnostics() {
        let e = guarded("services.a.procedures.b.init", || -> () { panic!("boom") }).unwrap_err();
        assert_eq!(e.path, "services.a.procedures.b.init");
        assert!(e.message.contains("boom"), "{e}");
        assert_eq!(guarded("", || 3).unwrap(), 3);
    }

    #[test]
    fn crate_paths_are_rewritten_on_the_token_level() {
        let ts = quote! {
            #[derive(::serde::Serialize)]
            impl<'de> ::serde::Deserialize<'de> for X where D: ::serde::Deserializer<'de> {
                fn f() { ::serde_json::to_string(&1); a::serde::b(); }
            }
            #[serde(skip_serializing_if = "::serde_json::Map::is_empty")]
            struct Y;
        };
        let out = rewrite_crate_paths(ts).to_string();
        assert!(
            !out.contains(" :: serde ::") || out.contains("a :: serde :: b"),
            "{out}"
        );
        assert_eq!(
            out.matches(":: river_runtime :: __private :: serde ::")
                .count(),
            3,
            "{out}"
        );
        assert_eq!(
            out.matches(":: river_runtime :: __private :: serde_json ::")
                .count(),
            1,
            "{out}"
        );
        assert!(
            out.contains("\"::river_runtime::__private::serde_json::Map::is_empty\""),
            "{out}"
        );
        assert!(out.contains("a :: serde :: b"), "{out}");
    }
}
