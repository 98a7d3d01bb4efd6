//! A generated crate: what `river-codegen generate SCHEMA --crate DIR` writes.
//!
//! - `Cargo.toml`: the package, `river-runtime` as its only dependency, features
//!   `client` (default) and `server`;
//! - `src/lib.rs`: crate docs listing every service and procedure, a `no_run` example,
//!   `#![deny(missing_docs)]`, then the generated modules;
//! - `README.md`: the same overview for people browsing the repository;
//! - `schema.json`: the schema, byte for byte (`SCHEMA_JSON` includes it).
//!
//! Every file but `schema.json` starts with an `@generated` line; see
//! [`crate::crate_dir`] for how the directory is written and checked.

use std::fmt::Write as _;

use crate::diagnostic::Diagnostic;
use crate::generate::{header, render, Layout, Options, Part, Rendered};
use crate::plan::{Plan, ProcPlan, ServicePlan};
use crate::schema::ProcedureKind;

mod parts;
use parts::*;

/// Where the generated crate gets `river-runtime` from.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuntimeDependency {
    /// A version requirement on crates.io, e.g. `"0.1.0"` or `"^0.1"`.
    Version(String),
    /// A path, as written into `Cargo.toml` (relative to the crate directory).
    Path(String),
}

impl Default for RuntimeDependency {
    /// The version of the runtime this generator belongs to (they are released together).
    fn default() -> Self {
        RuntimeDependency::Version(env!("CARGO_PKG_VERSION").to_string())
    }
}

/// Settings of a generated crate. Built with [`CrateOptions::new`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CrateOptions {
    /// The package name (`chat-api`); the library is its snake-case form (`chat_api`).
    pub name: String,
    /// The package version. Default `0.1.0`.
    pub version: String,
    /// The `river-runtime` dependency. Default: [`RuntimeDependency::default`].
    pub runtime: RuntimeDependency,
    /// The schema's file name, mentioned in docs (`chat.json`).
    pub schema_file: String,
    /// Put the types of each service in a crate of its own under `parts/` (and the
    /// shared ones in `parts/types`), behind a feature `service-{name}` each (all on by
    /// default). cargo compiles the crates in parallel and each rustc holds one
    /// service, which is what makes schemas of hundreds of procedures build in
    /// minutes; an app that calls a few services turns the others off. Default: off.
    pub service_crates: bool,
}

impl CrateOptions {
    /// Options for a crate named `name`, generated from the schema file `schema_file`
    /// (a file name for the docs, such as `chat.json`). Fails on a name cargo rejects.
    pub fn new(name: &str, schema_file: &str) -> Result<Self, String> {
        validate_package_name(name)?;
        Ok(CrateOptions {
            name: name.to_string(),
            version: "0.1.0".to_string(),
            runtime: RuntimeDependency::default(),
            schema_file: schema_file.to_string(),
            service_crates: false,
        })
    }

    /// Sets [`CrateOptions::service_crates`].
    pub fn service_crates(mut self, on: bool) -> Self {
        self.service_crates = on;
        self
    }

    /// Sets the package version (`X.Y.Z`, optionally with a pre-release or build tag).
    pub fn version(mut self, version: &str) -> Result<Self, String> {
        validate_version(version)?;
        self.version = version.to_string();
        Ok(self)
    }

    /// Sets where `river-runtime` comes from.
    pub fn runtime(mut self, runtime: RuntimeDependency) -> Self {
        self.runtime = runtime;
        self
    }

    /// The library name: the package name with `-` as `_`.
    pub fn lib_name(&self) -> String {
        self.name.replace('-', "_")
    }
}

/// One file of a generated crate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedFile {
    /// The path inside the crate directory, `/`-separated (`src/lib.rs`,
    /// `parts/types/Cargo.toml`).
    pub path: String,
    /// The contents.
    pub contents: String,
}

/// The package name for a schema file stem when `--name` is not given: the stem in
/// lowercase with anything but letters, digits, `-` and `_` turned into `-`.
pub fn default_package_name(stem: &str) -> String {
    let mut name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    name = name.trim_matches('-').to_string();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert_str(0, "river-");
    }
    name
}

/// Checks a package name the way cargo does (ASCII letters, digits, `-`, `_`; not
/// starting with a digit; not a Rust keyword).
pub fn validate_package_name(name: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("`{name}` is not a valid package name: {why}"));
    if name.is_empty() {
        return bad("it is empty");
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return bad(&format!(
            "`{c}` is not allowed (use ASCII letters, digits, `-` and `_`)"
        ));
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        return bad("it starts with a digit");
    }
    if syn::parse_str::<syn::Ident>(&name.replace('-', "_")).is_err() {
        return bad("it is a Rust keyword");
    }
    Ok(())
}

/// Checks a semver version `X.Y.Z[-pre][+build]`.
pub fn validate_version(version: &str) -> Result<(), String> {
    let core = version.split(['-', '+']).next().unwrap_or_default();
    let parts: Vec<&str> = core.split('.').collect();
    let numeric = |p: &&str| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit());
    if parts.len() == 3 && parts.iter().all(numeric) {
        Ok(())
    } else {
        Err(format!(
            "`{version}` is not a version of the form X.Y.Z (for example 0.1.0)"
        ))
    }
}

/// Generates every file of a crate for `schema_json`.
pub fn generate_crate(
    schema_json: &str,
    options: &CrateOptions,
) -> Result<Vec<GeneratedFile>, Diagnostic> {
    generate_crate_with_warnings(schema_json, options).map(|(files, _)| files)
}

/// [`generate_crate`], also returning the warnings of
/// [`Generated::warnings`](crate::generate::Generated::warnings).
pub fn generate_crate_with_warnings(
    schema_json: &str,
    options: &CrateOptions,
) -> Result<(Vec<GeneratedFile>, Vec<String>), Diagnostic> {
    let lib_name = options.lib_name();
    let layout = if options.service_crates {
        Layout::ServiceCrates(&lib_name)
    } else {
        Layout::Crate
    };
    let rendered = render(schema_json, &Options::both(), layout)?;
    let overview = overview(&rendered.plan);
    let codec = codec_section(&rendered.binary_fields);
    let mut lib = format!("{}\n", header());
    for line in crate_docs(options, &overview, &codec).lines() {
        lib.push_str(if line.is_empty() { "//!" } else { "//! " });
        lib.push_str(line);
        lib.push('\n');
    }
    lib.push_str(&example_attr(options, &rendered));
    lib.push_str("#![deny(missing_docs)]\n\n");
    lib.push_str(&rendered.text);
    let mut files = vec![
        GeneratedFile {
            path: "Cargo.toml".to_string(),
            contents: cargo_toml(options, &rendered.parts),
        },
        GeneratedFile {
            path: "README.md".to_string(),
            contents: readme(options, &overview, &codec, &rendered),
        },
        GeneratedFile {
            path: "schema.json".to_string(),
            contents: schema_json.to_string(),
        },
        GeneratedFile {
            path: "src/lib.rs".to_string(),
            contents: lib,
        },
    ];
    for part in &rendered.parts {
        files.push(GeneratedFile {
            path: format!("parts/{}/Cargo.toml", part.module),
            contents: part_cargo_toml(options, part),
        });
        files.push(GeneratedFile {
            path: format!("parts/{}/src/lib.rs", part.module),
            contents: part_lib(options, part),
        });
    }
    Ok((files, rendered.warnings))
}

/// The `river-runtime = …` value of a manifest `up` directories below the crate's own.
fn runtime_dep(o: &CrateOptions, up: usize) -> String {
    match &o.runtime {
        RuntimeDependency::Version(v) => format!("{{ version = {} }}", toml_string(v)),
        RuntimeDependency::Path(p) if up == 0 || std::path::Path::new(p).is_absolute() => {
            format!("{{ path = {} }}", toml_string(p))
        }
        RuntimeDependency::Path(p) => {
            format!(
                "{{ path = {} }}",
                toml_string(&format!("{}{p}", "../".repeat(up)))
            )
        }
    }
}

/// Quotes a TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn cargo_toml(o: &CrateOptions, parts: &[Part]) -> String {
    let runtime = runtime_dep(o, 0);
    let text = format!(
        "# {header}\n\
         # Regenerate with `river-codegen generate {schema} --crate <this directory>`.\n\
         [package]\n\
         name = {name}\n\
         version = {version}\n\
         edition = \"2021\"\n\
         description = {description}\n\
         readme = \"README.md\"\n\
         \n\
         [dependencies]\n\
         river-runtime = {runtime}\n\
         \n\
         [features]\n\
         default = [\"client\"]\n\
         # The typed client: the `client` module.\n\
         client = []\n\
         # The server traits and their `register_*` functions: the `server` module.\n\
         server = []\n\
         \n\
         [package.metadata.docs.rs]\n\
         all-features = true\n",
        header = header().trim_start_matches("// "),
        schema = o.schema_file,
        name = toml_string(&o.name),
        version = toml_string(&o.version),
        description = toml_string(&format!(
            "Typed River client and server for the services of {}",
            o.schema_file
        )),
    );
    if !o.service_crates {
        return text;
    }
    // The crates of types: the shared one always, each service's behind its feature.
    let version = toml_string(&format!("={}", o.version));
    let mut deps = String::new();
    let mut features = String::new();
    let mut all = Vec::new();
    for part in parts {
        let package = part_package(o, part);
        let path = toml_string(&format!("parts/{}", part.module));
        match &part.feature {
            None => {
                let _ = writeln!(deps, "{package} = {{ path = {path}, version = {version} }}");
            }
            Some(feature) => {
                let _ = writeln!(
                    deps,
                    "{package} = {{ path = {path}, version = {version}, optional = true }}"
                );
                let _ = writeln!(features, "{feature} = [\"dep:{package}\"]");
                all.push(format!("\"{feature}\""));
            }
        }
    }
    text.replace(
        "\n[features]\ndefault = [\"client\"]\n",
        &format!(
            "{deps}\n[features]\ndefault = [\"client\", \"all-services\"]\n\
             # Every service (`service-…`: its types, its client, its server trait).\n\
             all-services = [{all}]\n{features}",
            all = all.join(", "),
        ),
    )
}

/// The services and procedures, as markdown lines.
fn overview(plan: &Plan) -> String {
    let mut out = String::new();
    if plan.services.is_empty() {
        out.push_str("The schema has no services.\n");
    }
    for svc in &plan.services {
        let _ = writeln!(out, "### `{}`\n", svc.wire);
        if svc.procedures.is_empty() {
            out.push_str("No procedures.\n");
        }
        for p in &svc.procedures {
            let desc = p
                .description
                .as_deref()
                .map(|d| {
                    let joined = d.split_whitespace().collect::<Vec<_>>().join(" ");
                    format!(": {joined}")
                })
                .unwrap_or_default();
            let _ = writeln!(out, "- `{}` ({}){desc}", p.wire, p.kind.as_str());
        }
        out.push('\n');
    }
    out
}

/// The `## Codec` section of the crate docs and README: empty when the JSON codec
/// carries the whole schema, otherwise which fields need `Codec::Msgpack`.
fn codec_section(binary_fields: &[String]) -> String {
    if binary_fields.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "## Codec\n\n\
         This schema needs `river_runtime::Codec::Msgpack` on both sides (`ClientBuilder::codec`, \
         `ServerBuilder::codec`): the JSON codec, River's default, cannot carry these `Date` \
         fields (the reference's JSON codec sends a `Date` as `{}`):\n\n",
    );
    for field in binary_fields {
        let code = if field.contains('`') {
            format!("`` {field} ``")
        } else {
            format!("`{field}`")
        };
        let _ = writeln!(out, "- {code}");
    }
    out.push_str(
        "\nWith `Codec::Json`, `client::Client::try_new` fails and the server's `bind` fails, \
         naming these fields (`BINARY_CODEC_FIELDS`).\n\n",
    );
    out
}

fn crate_docs(o: &CrateOptions, overview: &str, codec: &str) -> String {
    format!(
        "Typed [River](https://github.com/replit/river) client and server for the services \
         of `{schema}`, generated by river-codegen.\n\
         \n\
         - [`types`]: the payload and error types of every procedure;\n\
         - `client` (feature `client`, on by default): `client::Client` and one client per \
         service, one method per procedure;\n\
         - `server` (feature `server`): one trait per service and a `register_…` function \
         that adds an implementation to a `river_runtime::Router`.\n\
         \n\
         [`SCHEMA_JSON`] holds the schema this crate was generated from.\n\
         \n\
         {codec}\
         ## Services\n\
         \n\
         {overview}",
        schema = o.schema_file,
    )
}

/// The Rust type of a plan path, as the user of the crate writes it.
fn user_type(lib: &str, ty: &proc_macro2::TokenStream) -> String {
    let text = crate::format::type_tokens_text(ty);
    match text.strip_prefix("types::") {
        Some(rest) => format!("{lib}::types::{rest}"),
        None => text,
    }
}

/// The procedure the example calls: the first rpc, else the first subscription, …
fn example_call(plan: &Plan) -> Option<(&ServicePlan, &ProcPlan)> {
    plan.services
        .iter()
        .flat_map(|s| s.procedures.iter().map(move |p| (s, p)))
        .min_by_key(|(_, p)| match p.kind {
            ProcedureKind::Rpc => 0,
            ProcedureKind::Subscription => 1,
            ProcedureKind::Upload => 2,
            ProcedureKind::Stream => 3,
        })
}

/// The example's code: a client and one call (an rpc when the schema has one).
fn example_code(o: &CrateOptions, plan: &Plan, binary: bool) -> String {
    let lib = o.lib_name();
    let mut code = format!(
        "use {lib}::client::Client;\n\n\
         # #[allow(dead_code)]\n"
    );
    let call = example_call(plan);
    let connect = if binary {
        "    let client = Client::new(\n        \
         river_runtime::Client::builder(\"ws://localhost:8080\")\n            \
         .codec(river_runtime::Codec::Msgpack) // the schema has Date fields\n            \
         .build(),\n    );\n"
    } else {
        "    let client = Client::new(river_runtime::Client::builder(\"ws://localhost:8080\").build());\n"
    };
    let Some((svc, p)) = call else {
        let _ = write!(
            code,
            "async fn example() {{\n{connect}    client.inner().close().await;\n}}\n"
        );
        return code;
    };
    let init = user_type(&lib, &p.init);
    let (svc_m, m) = (&svc.snake, &p.method);
    let body = match p.kind {
        ProcedureKind::Rpc => format!(
            "    let output = client.{svc_m}().{m}(&init).await?;\n    println!(\"{{output:?}}\");\n"
        ),
        ProcedureKind::Upload => format!(
            "    let (mut requests, response) = client.{svc_m}().{m}(&init);\n    \
             // requests.send(…).await?; for each request, then:\n    \
             requests.close().await;\n    \
             println!(\"{{:?}}\", response.await?);\n"
        ),
        ProcedureKind::Subscription => format!(
            "    let mut results = client.{svc_m}().{m}(&init);\n    \
             while let Some(result) = results.next().await {{\n        \
             println!(\"{{:?}}\", result?);\n    }}\n"
        ),
        ProcedureKind::Stream => format!(
            "    let (requests, mut results) = client.{svc_m}().{m}(&init);\n    \
             drop(requests); // or send requests with it\n    \
             while let Some(result) = results.next().await {{\n        \
             println!(\"{{:?}}\", result?);\n    }}\n"
        ),
    };
    let _ = write!(
        code,
        "async fn call(init: {init}) -> Result<(), Box<dyn std::error::Error>> {{\n\
         {connect}{body}    client.inner().close().await;\n    Ok(())\n}}\n"
    );
    code
}

/// The crate docs' example, shown when the `client` feature is on (and the feature of
/// the service it calls, with crates per service).
fn example_attr(o: &CrateOptions, rendered: &Rendered) -> String {
    let service_feature = example_call(&rendered.plan).and_then(|(s, _)| s.feature.as_deref());
    let condition = match service_feature {
        Some(f) => format!("all(feature = \"client\", feature = \"{f}\")"),
        None => "feature = \"client\"".to_string(),
    };
    format!(
        "#![cfg_attr(\n    {condition},\n    doc = r##\"\n## Example\n\n```no_run\n{}```\n\"##\n)]\n",
        example_code(o, &rendered.plan, !rendered.binary_fields.is_empty())
    )
}

fn readme(o: &CrateOptions, overview: &str, codec: &str, rendered: &Rendered) -> String {
    let example: String = example_code(o, &rendered.plan, !rendered.binary_fields.is_empty())
        .lines()
        .filter(|l| !l.starts_with("# "))
        .map(|l| format!("{l}\n"))
        .collect();
    let runtime = match &o.runtime {
        RuntimeDependency::Version(v) => format!("river-runtime = \"{v}\""),
        RuntimeDependency::Path(_) => "river-runtime = { path = \"…\" }".to_string(),
    };
    format!(
        "<!-- {header} -->\n\
         # {name}\n\
         \n\
         Typed [River](https://github.com/replit/river) client and server for the services \
         of `{schema}`, generated by [river-codegen](https://crates.io/crates/river-codegen). \
         Do not edit: regenerate with\n\
         \n\
         ```sh\n\
         river-codegen generate {schema} --crate <this directory>\n\
         ```\n\
         \n\
         ## Use\n\
         \n\
         ```toml\n\
         [dependencies]\n\
         {name} = {{ version = \"{version}\" }}   # add features = [\"server\"] to implement the services\n\
         {runtime}\n\
         ```\n\
         \n\
         ```rust\n\
         {example}```\n\
         \n\
         Features: `client` (default) generates `client::Client`; `server` generates one \
         trait per service and a `register_…` function for a `river_runtime::Router`.\n\
         \n\
         {codec}\
         ## Services\n\
         \n\
         {overview}",
        header = header().trim_start_matches("// "),
        name = o.name,
        version = o.version,
        schema = o.schema_file,
    )
    .trim_end()
    .to_string()
        + "\n"
}
