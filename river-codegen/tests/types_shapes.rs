//! Real TypeBox output (0.34 and 1.x, `reference/data/typebox-shapes.json`) through the
//! whole type pipeline: what each shape becomes in Rust.
use river_codegen::schema::parse_schema;
use river_codegen::types::{generate_types, TypeSet};
use serde_json::{json, Value};

#[path = "../../river-runtime/tests/shared_support/mod.rs"]
mod shared_support;

fn shapes(what: &str) -> Option<Value> {
    let p = shared_support::shared_file(what, "reference/data/typebox-shapes.json")?;
    let text = std::fs::read_to_string(&p).expect("typebox-shapes.json is readable");
    Some(serde_json::from_str(&text).expect("typebox-shapes.json is JSON"))
}

/// Generates a schema with the shape as the output of `s.p`.
fn gen(shape: &Value) -> TypeSet {
    let schema = json!({"services": {"s": {"procedures": {"p": {
        "type": "rpc", "init": {"type": "object", "properties": {}}, "output": shape, "errors": {"not": {}}
    }}}}});
    generate_types(&parse_schema(&schema.to_string()).unwrap()).unwrap()
}

fn output(types: &TypeSet) -> String {
    types.procedures[&("s".to_string(), "p".to_string())]
        .output
        .to_string()
        .replace(' ', "")
}

/// The items of the generated module, those of its per-service submodules included.
fn all_items(items: Vec<syn::Item>) -> Vec<syn::Item> {
    let mut out = Vec::new();
    for i in items {
        match i {
            syn::Item::Mod(m) => out.extend(all_items(m.content.map(|c| c.1).unwrap_or_default())),
            i => out.push(i),
        }
    }
    out
}

/// The pretty-printed item named `name` (struct, enum or alias) in the generated
/// module; for a `service_error!` invocation, its tokens as text.
fn item(types: &TypeSet, name: &str) -> String {
    let mut file: syn::File = syn::parse2(types.tokens.clone()).unwrap();
    file.items = all_items(file.items);
    for i in &file.items {
        if let syn::Item::Macro(m) = i {
            let tokens: Vec<String> = m
                .mac
                .tokens
                .clone()
                .into_iter()
                .map(|t| t.to_string())
                .collect();
            if tokens.iter().any(|t| t == name) {
                return m.mac.tokens.to_string();
            }
        }
    }
    let found = file.items.into_iter().find(|i| match i {
        syn::Item::Struct(s) => s.ident == name,
        syn::Item::Enum(e) => e.ident == name,
        syn::Item::Type(t) => t.ident == name,
        _ => false,
    });
    let found = found.unwrap_or_else(|| panic!("no item {name}"));
    let mut file: syn::File = syn::parse_quote!();
    file.items.push(found);
    prettyplease::unparse(&file)
}

#[test]
fn typebox_1x_shapes() {
    let Some(all) = shapes("typebox_1x_shapes") else {
        return;
    };
    let v1 = &all["v1"];
    let expect_type = [
        (
            "e_record",
            "::std::collections::BTreeMap<::std::string::String,f64>",
        ),
        (
            "e_record_num",
            "::std::collections::BTreeMap<::std::string::String,::std::string::String>",
        ),
        ("i_null", "::std::option::Option<::std::string::String>"),
        ("k_array", "::std::vec::Vec<::std::string::String>"),
        ("l_tuple", "(::std::string::String,f64)"),
        ("m_unknown", "::river_runtime::Value"),
        ("n_any", "::river_runtime::Value"),
        ("o_void", "()"),
        ("p_undefined", "()"),
        ("q_bigint", "::river_runtime::BigInt"),
        ("r_int_range", "u8"),
        ("s_string_fmt", "::std::string::String"),
        ("u_literal_num", "f64"),
        ("v_literal_bool", "bool"),
        ("a_object", "types::SpOutput"),
        ("f_literal_union", "types::SpOutput"),
        ("g_cyclic", "types::SpOutput"),
        ("h_intersect", "types::SpOutput"),
        ("j_enum", "types::SpOutput"),
        ("c_never", "types::SpOutput"),
        ("t_optional_null", "types::SpOutput"),
        ("w_object_additional", "types::SpOutput"),
        ("x_partial", "types::SpOutput"),
        ("y_keyword_names", "types::SpOutput"),
    ];
    for (shape, ty) in expect_type {
        let types = gen(&v1[shape]);
        assert_eq!(output(&types), ty, "{shape}");
    }
    let struct_has = |shape: &str, needles: &[&str]| {
        let text = item(&gen(&v1[shape]), "SpOutput");
        for n in needles {
            assert!(text.contains(n), "{shape}: no `{n}` in\n{text}");
        }
        text
    };
    struct_has(
        "a_object",
        &[
            "pub s: ::std::string::String",
            "pub i: i64",
            "pub on: ::std::option::Option<f64>",
        ],
    );
    struct_has(
        "f_literal_union",
        &["pub enum SpOutput", "#[serde(rename = \"c-d\")]", "CD"],
    );
    struct_has("j_enum", &["pub enum SpOutput", "A,", "B,"]);
    struct_has(
        "g_cyclic",
        &[
            "pub n: f64",
            "pub next: ::std::option::Option<::std::boxed::Box<SpOutput>>",
        ],
    );
    struct_has(
        "h_intersect",
        &["pub a: ::std::string::String", "pub b: f64"],
    );
    struct_has("c_never", &["pub enum SpOutput {}"]);
    struct_has(
        "t_optional_null",
        &["pub x: ::std::option::Option<::std::string::String>"],
    );
    let closed = struct_has("w_object_additional", &["deny_unknown_fields"]);
    assert!(closed.contains("serde(crate = \"::river_runtime::__private::serde\")"));
    struct_has(
        "y_keyword_names",
        &[
            "pub type_:",
            "pub foo_bar:",
            "pub self_: f64",
            "pub x0abc:",
            "rename = \"0abc\"",
        ],
    );
    // `Type.Object({})` (the init here) is an open empty struct.
    let init = item(&gen(&v1["a_object"]), "SpInit");
    assert!(
        init.contains("pub struct SpInit {}") && !init.contains("deny_unknown_fields"),
        "{init}"
    );

    // The error union (b_errors): one variant per code, extras typed per variant.
    let schema = json!({"services": {"s": {"procedures": {"p": {
        "type": "rpc", "init": {"type": "object", "properties": {}}, "output": {"type": "null"}, "errors": v1["b_errors"]
    }}}}});
    let types = generate_types(&parse_schema(&schema.to_string()).unwrap()).unwrap();
    let p = &types.procedures[&("s".to_string(), "p".to_string())];
    assert_eq!(p.error.to_string().replace(' ', ""), "types::SpError");
    assert_eq!(p.error_codes, ["NOT_FOUND", "DIV_BY_ZERO"]);
    let e = item(&types, "SpError");
    assert!(e.contains("NotFound = \"NOT_FOUND\""), "{e}");
    assert!(
        e.contains("DivByZero = \"DIV_BY_ZERO\" { extras : SpErrorDivByZeroExtras }"),
        "{e}"
    );
    let extras = item(&types, "SpErrorDivByZeroExtras");
    assert!(
        extras.contains("pub test: ::std::string::String"),
        "{extras}"
    );
}

#[test]
fn typebox_034_shapes() {
    let Some(all) = shapes("typebox_034_shapes") else {
        return;
    };
    let v034 = &all["v034"];
    for (shape, ty) in [
        ("uint8array", "::river_runtime::Bytes"),
        ("date", "::river_runtime::Date"),
        ("bigint", "::river_runtime::BigInt"),
        ("undef", "()"),
        ("void", "()"),
        (
            "record",
            "::std::collections::BTreeMap<::std::string::String,f64>",
        ),
        ("never", "types::SpOutput"),
        ("recursive", "types::SpOutput"),
        ("literal_union", "types::SpOutput"),
        ("intersect", "types::SpOutput"),
        ("enum", "types::SpOutput"),
        ("optnull", "types::SpOutput"),
    ] {
        assert_eq!(output(&gen(&v034[shape])), ty, "{shape}");
    }
    let rec = item(&gen(&v034["recursive"]), "SpOutput");
    assert!(
        rec.contains("pub children: ::std::vec::Vec<SpOutput>"),
        "{rec}"
    );
    let inter = item(&gen(&v034["intersect"]), "SpOutput");
    assert!(
        inter.contains("pub a:") && inter.contains("pub b: f64"),
        "{inter}"
    );
}

#[test]
fn descriptions_become_docs() {
    let schema = json!({"services": {"svc": {"procedures": {"add": {
        "type": "rpc", "description": "Adds n to the total.",
        "init": {"type": "object", "required": ["n"], "properties": {"n": {"type": "number"}}, "description": "What to add."},
        "output": {"type": "number"},
        "errors": {"anyOf": [{"type":"object","description":"Too small.","required":["code","message"],"properties":{"code":{"const":"TOO_SMALL","type":"string"},"message":{"type":"string"}}}]}
    }}}}});
    let types = generate_types(&parse_schema(&schema.to_string()).unwrap()).unwrap();
    let p = &types.procedures[&("svc".to_string(), "add".to_string())];
    assert_eq!(p.description.as_deref(), Some("Adds n to the total."));
    assert_eq!(p.output.to_string(), "f64");
    let init = item(&types, "SvcAddInit");
    assert!(init.contains("Adds n to the total."), "{init}");
    assert!(init.contains("What to add."), "{init}");
    let err = item(&types, "SvcAddError");
    assert!(err.contains("Service errors of `svc.add` (rpc)."), "{err}");
    assert!(err.contains("`TOO_SMALL`: Too small."), "{err}");
}

#[test]
fn name_collisions_between_procedures_are_disambiguated() {
    // Raw text: `json!` would sort the services.
    let schema = r#"{"services": {
        "a_b": {"procedures": {"c": {"type":"rpc","init":{"type":"object","properties":{"x":{"type":"string"}}},"output":{"type":"object","properties":{}}}}},
        "a": {"procedures": {"b_c": {"type":"rpc","init":{"type":"object","properties":{"y":{"type":"string"}}},"output":{"type":"object","properties":{}}}}}
    }}"#;
    let types = generate_types(&parse_schema(schema).unwrap()).unwrap();
    let first = &types.procedures[&("a_b".to_string(), "c".to_string())];
    let second = &types.procedures[&("a".to_string(), "b_c".to_string())];
    assert_eq!(first.init.to_string().replace(' ', ""), "types::AbcInit");
    assert_eq!(second.init.to_string().replace(' ', ""), "types::AbcInit2");
    assert_eq!(
        second.error.to_string().replace(' ', ""),
        "types::AbcError2"
    );
    assert!(item(&types, "AbcInit2").contains("pub y:"));
}

#[test]
fn diagnostics_name_the_place() {
    let bad_ref = json!({"services": {"s": {"procedures": {"p": {
        "type": "rpc", "init": {"type":"object","properties":{"x":{"$ref":"Missing"}}}, "output": {"type":"null"}
    }}}}});
    let e = generate_types(&parse_schema(&bad_ref.to_string()).unwrap()).unwrap_err();
    assert_eq!(e.path, "services.s.procedures.p.init.properties.x.$ref");
    assert!(e.message.contains("Missing"), "{e}");
    let bad_code = json!({"services": {"s": {"procedures": {"p": {
        "type": "rpc", "init": {"type":"null"}, "output": {"type":"null"},
        "errors": {"anyOf": [{"type":"object","properties":{"code":{"type":"string"},"message":{"type":"string"}}}]}
    }}}}});
    let e = generate_types(&parse_schema(&bad_code.to_string()).unwrap()).unwrap_err();
    assert_eq!(
        e.path,
        "services.s.procedures.p.errors.anyOf.0.properties.code"
    );
    let bad_type = json!({"services": {"s": {"procedures": {"p": {
        "type": "rpc", "init": {"type":"null"}, "output": {"type":"object","properties":{"a":{"type":"Function"}}}
    }}}}});
    let e = generate_types(&parse_schema(&bad_type.to_string()).unwrap()).unwrap_err();
    assert_eq!(e.path, "services.s.procedures.p.output.properties.a.type");
    assert!(e.to_string().contains("Function"), "{e}");
}

#[test]
fn v1_compat_interop_matches_v2_names() {
    let what = "v1_compat_interop_matches_v2_names";
    let Some(root) = shared_support::shared_file(what, "conformance") else {
        return;
    };
    let (Ok(v2), Ok(v1)) = (
        std::fs::read_to_string(root.join("interop-schema.json")),
        std::fs::read_to_string(root.join("interop-schema-v1compat.json")),
    ) else {
        shared_support::skipped(what, "the conformance interop schemas are not readable");
        return;
    };
    let start = std::time::Instant::now();
    let a = generate_types(&parse_schema(&v2).unwrap()).unwrap();
    let elapsed = start.elapsed();
    let b = generate_types(&parse_schema(&v1).unwrap()).unwrap();
    assert_eq!(a.type_names, b.type_names);
    assert_eq!(a.tokens.to_string(), b.tokens.to_string());
    let check = &a.procedures[&("test".to_string(), "checkRange".to_string())];
    assert_eq!(check.error_codes, ["TOO_SMALL", "TOO_BIG"]);
    println!("interop schema: {elapsed:?}");
}

/// `Type.Intersect` of `Type.Union`s: the generator distributes it into a union of
/// merged objects itself. typify 0.8 did this with work that grew faster than
/// exponentially (two unions of six open objects took 14 s; four unions of two, or the
/// fuzzer's nested intersections, exhausted memory); bigger ones become untyped values.
#[test]
fn intersections_of_unions_generate_as_unions_of_merged_objects() {
    let union = |p: &str, n: usize| {
        json!({"anyOf": (0..n).map(|i| json!({
            "type": "object",
            "properties": {"kind": {"type": "string", "const": format!("{p}{i}")}},
            "required": ["kind"]
        })).collect::<Vec<_>>()})
    };
    let open = |p: &str, n: usize| {
        json!({"anyOf": (0..n).map(|i| json!({
            "type": "object", "properties": {format!("{p}{i}"): {"type": "string"}}
        })).collect::<Vec<_>>()})
    };
    let tagged =
        json!({"type": "object", "properties": {"at": {"type": "number"}}, "required": ["at"]});
    // A tagged union intersected with an object: every variant has both fields.
    let types = gen(&json!({"allOf": [union("k", 3), tagged]}));
    let enum_text = item(&types, "SpOutput");
    for k in ["k0", "k1", "k2"] {
        assert!(enum_text.contains(&format!("\"{k}\"")), "{enum_text}");
    }
    // (typify writes a two-field tagged object as an adjacently tagged enum.)
    assert_eq!(enum_text.matches("(f64)").count(), 3, "{enum_text}");
    // The shapes typify could not finish: two unions of six, four unions of two.
    let types = gen(&json!({"allOf": [open("a", 6), open("b", 6)]}));
    assert!(!item(&types, "SpOutput").is_empty());
    let types = gen(&json!({"allOf": [open("a", 2), open("b", 2), open("c", 2), open("d", 2)]}));
    assert!(!item(&types, "SpOutput").is_empty());
    // Over the bound: an untyped value, documented.
    let types = gen(&json!({"allOf": [open("a", 5), open("b", 5), open("c", 5)]}));
    assert!(output(&types).contains("Value"), "{}", output(&types));
}
