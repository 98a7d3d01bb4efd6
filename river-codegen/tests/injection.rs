//! Code injection through schema strings: service, procedure, property and definition
//! names, titles, descriptions, error codes and enum values that contain quotes,
//! backslashes, comment delimiters, newlines, attributes, item syntax, raw identifiers,
//! keywords, unicode, leading digits and empty strings must come out as escaped string
//! literals, doc attributes or sanitized identifiers, and the generated code must compile
//! without warnings.
//!
//! - `hostile_strings_stay_inert`: every schema generates; the token stream of the output
//!   has no identifier `evil` (every hostile text carries one, so any text that escaped
//!   its literal would show up as one), no `cfg` and no inner attribute; every attribute
//!   is one the generator writes; every wire name survives verbatim as a string literal.
//! - `hostile_schemas_compile`: all the generated modules in one scratch crate
//!   (`target/codegen-tests/codegen-injection`), built with one `cargo clippy -- -D
//!   warnings` under `#![deny(warnings)]`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use river_codegen::builder::write_if_changed;
use river_codegen::normalize::field_name;
use river_codegen::{generate, generate_with_warnings, Options};
use serde_json::{json, Map, Value};

/// Texts for descriptions, titles, error codes and enum values. Each one carries the
/// word `evil` so that a text that leaked out of its literal shows up as an identifier.
const TEXTS: &[&str] = &[
    "\"; fn evil() {} //",
    "\\\"); fn evil() { (\"",
    "*/ fn evil() {} /*",
    "/* fn evil() {} */",
    "line one\nfn evil() {}\n#[cfg(any())]\nline four",
    "cr\r\nfn evil() {}\r\n",
    "#[cfg(any())] fn evil() {}",
    "#![allow(warnings)] fn evil() {}",
    "}; fn evil() {",
    "} } } mod evil { {",
    "r#evil r#type",
    "`evil` [evil](x) <evil> {evil} $evil 'evil'",
    "\u{0} evil \\u{0} \t \u{202e} evil",
    "日本語 evil é 🦀",
    "/// evil\n//! evil",
    "\"#; fn evil() {} r#\"",
    "\"##; fn evil() {} r##\"",
];

/// Names for services, procedures, properties and definitions. Their sanitized forms
/// never are the bare word `evil`.
const NAMES: &[&str] = &[
    "\"",
    "\\",
    "a\"b\\c",
    "*/",
    "/*",
    "*/ fn evil() {} /*",
    "\n",
    "line1\nfn evil() {}\nline3",
    "#[cfg(any())]",
    "#![allow(warnings)]",
    "}; fn evil() {",
    "\"); fn evil() { (\"",
    "r#type",
    "r#evil_x",
    "type",
    "self",
    "Self",
    "super",
    "crate",
    "fn",
    "async",
    "_",
    "__",
    "",
    "0",
    "1abc",
    "日本語",
    "é",
    "🦀",
    "a b",
    "a-b",
    "a_b",
    "aB",
    "new",
    "inner",
    "types",
    "client",
    "server",
    "river_runtime",
    "Result",
    "Option",
    "String",
];

fn text(i: usize) -> &'static str {
    TEXTS[i % TEXTS.len()]
}

/// An object whose properties are every hostile name, each with a hostile description
/// and title, half of them required; one property is a string enum of hostile texts,
/// one a hostile const, one a nested object with hostile names.
///
/// Names that collide as Rust fields are disambiguated in request positions (init,
/// input) but are an error in response positions (output, errors, handshake), so
/// `distinct` keeps only the first name of each field name.
fn hostile_object(seed: usize, distinct: bool) -> Value {
    let mut props = Map::new();
    let mut required = Vec::new();
    let mut fields = BTreeSet::new();
    for (i, name) in NAMES.iter().enumerate() {
        if distinct && !fields.insert(field_name(name)) {
            continue;
        }
        let ty = ["string", "number", "boolean", "integer"][i % 4];
        props.insert(
            name.to_string(),
            json!({"type": ty, "description": text(seed + i), "title": text(seed + i + 1)}),
        );
        if i % 2 == 0 {
            required.push(name.to_string());
        }
    }
    props.insert(
        "mode".to_string(),
        json!({"type": "string", "enum": TEXTS, "description": text(seed)}),
    );
    props.insert(
        "lits".to_string(),
        json!({"anyOf": TEXTS.iter().map(|t| json!({"type": "string", "const": t})).collect::<Vec<_>>()}),
    );
    props.insert(
        "distinct".to_string(),
        json!({"type": "string", "enum": ["a\"b", "c*/d", "e\nf", "r#type", "", "1x"]}),
    );
    props.insert(
        "fixed".to_string(),
        json!({"type": "string", "const": text(seed + 2)}),
    );
    props.insert(
        "nested".to_string(),
        json!({
            "type": "object",
            "title": text(seed + 3),
            "description": text(seed + 4),
            "properties": {
                "}; fn evil() {": {"type": "string"},
                "*/": {"type": "array", "items": {"type": "string", "description": text(seed + 5)}},
            },
            "required": ["*/"],
        }),
    );
    json!({"type": "object", "properties": props, "required": required, "description": text(seed + 6)})
}

/// An error union whose codes are hostile texts, with hostile extras.
fn hostile_errors(seed: usize) -> Value {
    let variants: Vec<Value> = (0..4)
        .map(|i| {
            json!({
                "type": "object",
                "description": text(seed + i + 7),
                "required": ["code", "message", "extras"],
                "properties": {
                    "code": {"type": "string", "const": text(seed + i)},
                    "message": {"type": "string"},
                    "extras": {"type": "object", "required": [NAMES[(seed + i) % NAMES.len()]],
                        "properties": {NAMES[(seed + i) % NAMES.len()]: {"type": "string"}}},
                },
            })
        })
        .collect();
    json!({ "anyOf": variants })
}

fn procedure(kind: &str, seed: usize) -> Value {
    let mut p = json!({
        "type": kind,
        "init": hostile_object(seed, false),
        "output": {"type": "object", "properties": {"\"": {"type": "string", "description": text(seed + 1)}}, "required": ["\""]},
        "errors": hostile_errors(seed),
        "description": text(seed),
    });
    if kind == "upload" || kind == "stream" {
        p["input"] = json!({"type": "string", "enum": ["}; fn evil() {", "*/", "\""]});
    }
    p
}

/// The schemas under test, by module name.
fn schemas() -> Vec<(&'static str, Value)> {
    let kinds = ["rpc", "upload", "subscription", "stream"];
    // 1. Every hostile name as a service, each with one procedure named after it.
    let mut services = Map::new();
    for (i, name) in NAMES.iter().enumerate() {
        let mut procs = Map::new();
        procs.insert(name.to_string(), procedure(kinds[i % 4], i));
        services.insert(name.to_string(), json!({ "procedures": procs }));
    }
    let names_as_services = json!({ "services": services });

    // 2. Every hostile name as a procedure of one service.
    let mut procs = Map::new();
    for (i, name) in NAMES.iter().enumerate() {
        let mut p = procedure(kinds[i % 4], i);
        // Keep this one small: the payloads are covered above.
        p["init"] = json!({"type": "object", "properties": {}});
        procs.insert(name.to_string(), p);
    }
    let names_as_procedures = json!({
        "services": {"}; fn evil() {": {"procedures": procs}},
        "handshakeSchema": hostile_object(3, true),
    });

    // 3. Definitions and references with hostile names and titles.
    let mut defs = Map::new();
    for (i, name) in NAMES.iter().enumerate().take(12) {
        defs.insert(
            name.to_string(),
            json!({"type": "object", "title": text(i), "description": text(i + 1),
                   "properties": {"x": {"type": "string"}}, "required": ["x"]}),
        );
    }
    let mut props = Map::new();
    for (i, name) in NAMES.iter().enumerate().take(12) {
        props.insert(format!("p{i}"), json!({"$ref": format!("#/$defs/{name}")}));
    }
    let definitions = json!({
        "services": {"defs": {"procedures": {"r#type": {
            "type": "rpc",
            "init": {"type": "object", "properties": props, "$defs": defs},
            "output": {"anyOf": [
                {"type": "object", "title": "}; fn evil() {", "properties": {"kind": {"const": "*/ fn evil() {} /*"}}, "required": ["kind"]},
                {"type": "object", "title": "\"", "properties": {"kind": {"const": "\"); fn evil() { (\""}}, "required": ["kind"]},
            ]},
            "description": "/*",
        }}}},
    });
    vec![
        ("names_as_services", names_as_services),
        ("names_as_procedures", names_as_procedures),
        ("definitions", definitions),
    ]
}

fn generate_all() -> Vec<(&'static str, Value, String)> {
    schemas()
        .into_iter()
        .map(|(module, schema)| {
            let code = generate(&schema.to_string(), &Options::both())
                .unwrap_or_else(|d| panic!("{module}: the hostile schema did not generate: {d}"));
            (module, schema, code)
        })
        .collect()
}

/// The attributes the generator writes.
const ALLOWED_ATTRIBUTES: &[&str] = &["doc", "derive", "serde", "allow", "must_use", "rustfmt"];

/// What the token walk found.
#[derive(Default)]
struct Found {
    strings: BTreeSet<String>,
    problems: Vec<String>,
}

fn walk(ts: TokenStream, found: &mut Found) {
    let tokens: Vec<TokenTree> = ts.into_iter().collect();
    for (i, tt) in tokens.iter().enumerate() {
        match tt {
            TokenTree::Ident(id) => {
                let s = id.to_string();
                let bare = s.strip_prefix("r#").unwrap_or(&s);
                if bare == "evil" || bare == "cfg" {
                    found
                        .problems
                        .push(format!("identifier `{s}` in the output"));
                }
            }
            TokenTree::Punct(p) if p.as_char() == '#' => match tokens.get(i + 1) {
                Some(TokenTree::Punct(bang)) if bang.as_char() == '!' => {
                    found
                        .problems
                        .push("an inner attribute in the output".into());
                }
                Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Bracket => {
                    let name = g.stream().into_iter().next().map(|t| t.to_string());
                    match name {
                        Some(n) if ALLOWED_ATTRIBUTES.contains(&n.as_str()) => {}
                        other => found
                            .problems
                            .push(format!("unexpected attribute `{other:?}`: #{g}")),
                    }
                }
                _ => {}
            },
            TokenTree::Literal(lit) => {
                if let Ok(s) = syn::parse_str::<syn::LitStr>(&lit.to_string()) {
                    found.strings.insert(s.value());
                }
            }
            TokenTree::Group(g) => walk(g.stream(), found),
            TokenTree::Punct(_) => {}
        }
    }
}

/// The wire names of a schema: services and procedures.
fn wire_names(schema: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(services) = schema["services"].as_object() {
        for (s, svc) in services {
            out.push(s.clone());
            if let Some(procs) = svc["procedures"].as_object() {
                out.extend(procs.keys().cloned());
            }
        }
    }
    out
}

#[test]
fn hostile_strings_stay_inert() {
    for (module, schema, code) in generate_all() {
        let ts: TokenStream = code
            .parse()
            .unwrap_or_else(|e| panic!("{module}: the output does not tokenize: {e}"));
        let mut found = Found::default();
        walk(ts, &mut found);
        assert!(
            found.problems.is_empty(),
            "{module}: injected tokens in the generated code: {:#?}",
            found.problems
        );
        for name in wire_names(&schema) {
            assert!(
                found.strings.contains(&name),
                "{module}: the wire name {name:?} is not a string literal of the output"
            );
        }
        // The hostile texts as an `enum` and as a union of `const`s (their variant names
        // collide): enums whose variants keep the texts as their values.
        if module != "definitions" {
            let file = syn::parse_file(&code).expect("the output parses");
            let texts: BTreeSet<String> = TEXTS.iter().map(|t| t.to_string()).collect();
            let enums = string_enums(&file);
            let matching = enums
                .iter()
                .filter(|(_, variants)| {
                    variants
                        .iter()
                        .map(|(_, w)| w.clone())
                        .collect::<BTreeSet<_>>()
                        == texts
                })
                .count();
            assert!(
                matching >= 2,
                "{module}: no enums of the texts in {enums:#?}"
            );
        }
        // Comments in the file are the header and doc comments: a line comment anywhere
        // else would be text that escaped a literal.
        for line in code.lines().skip(1) {
            let t = line.trim_start();
            if t.starts_with("//") && !t.starts_with("///") && !t.starts_with("//!") {
                panic!("{module}: unexpected comment line {line:?}");
            }
        }
    }
}

/// String literals that typify 0.8 cannot name apart (`a-b` and `a_b` are both `AB`,
/// and both `AXB` on its second try) made it panic; they become enums all the same, in
/// `enum` and in `anyOf` of `const`s alike: every variant keeps its value with
/// `#[serde(rename)]` (`Display` and `FromStr` too), the colliding ones get a numeric
/// suffix and a warning, and values without a letter or digit are typify's `X`.
#[test]
fn colliding_string_literals_generate() {
    let schema = json!({"services": {"s": {"procedures": {"p": {
        "type": "rpc",
        "init": {"type": "object", "required": ["e", "u"], "properties": {
            "e": {"type": "string", "enum": ["a-b", "a_b"]},
            "u": {"anyOf": [{"type": "string", "const": "x y"}, {"type": "string", "const": "x_y"}]},
        }},
        "output": {"type": "string", "enum": ["*/", "/*"]},
    }}}}});
    let generated = generate_with_warnings(&schema.to_string(), &Options::both())
        .unwrap_or_else(|d| panic!("colliding literals did not generate: {d}"));
    let code = &generated.code;
    assert!(code.contains("pub e: SpInitE,"), "{code}");
    assert!(code.contains("pub u: SpInitU,"), "{code}");
    let file = syn::parse_file(code).expect("the output parses");
    let enums = string_enums(&file);
    let expect = |name: &str, variants: &[(&str, &str)]| {
        let got = enums
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no enum `{name}` in {enums:?}"));
        let want: Vec<(String, String)> = variants
            .iter()
            .map(|(i, w)| (i.to_string(), w.to_string()))
            .collect();
        assert_eq!(got.1, want, "{name}");
        for (ident, wire) in variants {
            let display = format!("Self::{ident} => f.write_str({wire:?}),");
            assert!(code.contains(&display), "{display}\n{code}");
            let from_str = format!("{wire:?} => Ok(Self::{ident}),");
            assert!(code.contains(&from_str), "{from_str}\n{code}");
        }
    };
    expect("SpInitE", &[("AB", "a-b"), ("AB2", "a_b")]);
    expect("SpInitU", &[("XY", "x y"), ("XY2", "x_y")]);
    expect("SpOutput", &[("X", "*/"), ("X2", "/*")]);
    assert!(!code.contains("river-codegen-value"), "{code}");
    assert_eq!(
        generated.warnings,
        [
            "value `a_b` of `types::SpInitE` is variant `AB2` (another value has the plain name)",
            "value `x_y` of `types::SpInitU` is variant `XY2` (another value has the plain name)",
            "value `/*` of `types::SpOutput` is variant `X2` (another value has the plain name)",
        ]
    );
}

/// Every enum of unit variants in `file` (at any depth): its name, and per variant its
/// identifier and `#[serde(rename)]` (the identifier when it has none).
fn string_enums(file: &syn::File) -> Vec<(String, Vec<(String, String)>)> {
    fn walk(items: &[syn::Item], out: &mut Vec<(String, Vec<(String, String)>)>) {
        for item in items {
            match item {
                syn::Item::Mod(m) => walk(m.content.as_ref().map_or(&[], |c| &c.1), out),
                syn::Item::Enum(e)
                    if e.variants
                        .iter()
                        .all(|v| matches!(v.fields, syn::Fields::Unit)) =>
                {
                    let variants = e
                        .variants
                        .iter()
                        .map(|v| {
                            let mut wire = v.ident.to_string();
                            for a in v.attrs.iter().filter(|a| a.path().is_ident("serde")) {
                                let _ = a.parse_nested_meta(|m| {
                                    if m.path.is_ident("rename") {
                                        wire = m.value()?.parse::<syn::LitStr>()?.value();
                                    }
                                    Ok(())
                                });
                            }
                            (v.ident.to_string(), wire)
                        })
                        .collect();
                    out.push((e.ident.to_string(), variants));
                }
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(&file.items, &mut out);
    out
}

/// The workspace root.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The target directory the outer build uses (`CARGO_TARGET_DIR` or `<workspace>/target`).
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if Path::new(&dir).is_absolute() => PathBuf::from(dir),
        Some(dir) => workspace().join(dir),
        None => workspace().join("target"),
    }
}

#[test]
fn hostile_schemas_compile() {
    // Shares its target directory with the golden and types_compile check crates.
    let base = target_dir().join("codegen-tests");
    let krate = base.join("codegen-injection");
    let src = krate.join("src");
    std::fs::create_dir_all(&src).expect("create the scratch crate");
    let runtime = workspace().join("river-runtime");
    let manifest = format!(
        "[package]\nname = \"river-codegen-injection\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [dependencies]\nriver-runtime = {{ path = {:?} }}\n\n[workspace]\n",
        runtime.canonicalize().unwrap_or(runtime).display().to_string()
    );
    write_if_changed(&krate.join("Cargo.toml"), &manifest).expect("write Cargo.toml");
    if let Ok(lock) = std::fs::read_to_string(workspace().join("Cargo.lock")) {
        if !krate.join("Cargo.lock").exists() {
            write_if_changed(&krate.join("Cargo.lock"), &lock).expect("write Cargo.lock");
        }
    }
    let mut lib = String::from("//! Generated from hostile schemas.\n#![deny(warnings)]\n");
    for (module, _, code) in generate_all() {
        write_if_changed(&src.join(format!("{module}.rs")), &code).expect("write module");
        lib.push_str(&format!("pub mod {module};\n"));
    }
    write_if_changed(&src.join("lib.rs"), &lib).expect("write lib.rs");

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["clippy", "--quiet", "--manifest-path"])
        .arg(krate.join("Cargo.toml"))
        .args(["--", "-D", "warnings"])
        .env("CARGO_TARGET_DIR", base.join("target"))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .expect("run cargo clippy");
    assert!(
        output.status.success(),
        "code generated from hostile schemas does not build cleanly ({}):\n{}",
        krate.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}
