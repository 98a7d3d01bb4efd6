//! Property: the schema front end (parse → normalize → type generation → emitters) never
//! panics on arbitrary JSON. It returns code or a diagnostic, whatever the document holds.
//!
//! The generators build schema-shaped values (JSON Schema and TypeBox nodes nested at
//! random, with arbitrary JSON mixed in at any depth) and place them where the normalizer
//! reads them: a procedure's `init`, `input`, `output` and `errors`, and a `$defs` table;
//! a third property feeds arbitrary JSON as the whole document.

use proptest::prelude::*;
use serde_json::{json, Map, Value};

const KEYWORDS: &[&str] = &[
    "type",
    "properties",
    "required",
    "items",
    "prefixItems",
    "anyOf",
    "oneOf",
    "allOf",
    "not",
    "const",
    "enum",
    "$ref",
    "$id",
    "$defs",
    "definitions",
    "title",
    "description",
    "additionalProperties",
    "patternProperties",
    "minItems",
    "maxItems",
    "minimum",
    "format",
    "pattern",
    "default",
    "Kind",
    "[Kind]",
    "code",
    "message",
    "extras",
];

const TYPES: &[&str] = &[
    "object",
    "array",
    "string",
    "number",
    "integer",
    "boolean",
    "null",
    "Uint8Array",
    "bigint",
    "Date",
    "undefined",
    "void",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(KEYWORDS).prop_map(str::to_string),
        1 => "[a-zA-Z_ $#/-]{0,6}",
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        proptest::sample::select(TYPES).prop_map(Value::from),
        "#(/[a-zA-Z$]{0,5}){0,3}".prop_map(Value::from),
        ".{0,8}".prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::vec((key(), inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A schema-shaped value: mostly well-formed JSON Schema / TypeBox nodes, with arbitrary
/// JSON mixed in at any depth.
fn schema() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        4 => proptest::sample::select(TYPES).prop_map(|t| json!({ "type": t })),
        1 => leaf().prop_map(|v| json!({ "const": v })),
        1 => proptest::collection::vec(leaf(), 0..4).prop_map(|v| json!({ "enum": v })),
        1 => Just(json!({})),
        1 => proptest::sample::select(&["#", "#/$defs/A", "#/$defs/B", "T0", "#/nowhere"][..])
            .prop_map(|r| json!({ "$ref": r })),
        1 => json_value(),
    ];
    leaf.prop_recursive(5, 48, 5, |inner| {
        prop_oneof![
            3 => (
                proptest::collection::vec((key_name(), inner.clone()), 0..5),
                proptest::collection::vec(key_name(), 0..3),
                proptest::option::of(prop_oneof![any::<bool>().prop_map(Value::Bool), inner.clone()]),
            )
                .prop_map(|(props, required, additional)| {
                    let mut o = json!({
                        "type": "object",
                        "properties": props.into_iter().collect::<Map<_, _>>(),
                        "required": required,
                    });
                    if let Some(a) = additional {
                        o["additionalProperties"] = a;
                    }
                    o
                }),
            1 => inner.clone().prop_map(|s| json!({ "type": "array", "items": s })),
            1 => proptest::collection::vec(inner.clone(), 0..4)
                .prop_map(|s| json!({ "type": "array", "prefixItems": s })),
            2 => proptest::collection::vec(inner.clone(), 0..4).prop_map(|s| json!({ "anyOf": s })),
            1 => proptest::collection::vec(inner.clone(), 0..4).prop_map(|s| json!({ "oneOf": s })),
            1 => proptest::collection::vec(inner.clone(), 0..4).prop_map(|s| json!({ "allOf": s })),
            1 => inner.clone().prop_map(|s| json!({ "not": s })),
            1 => inner.clone().prop_map(|s| json!({ "type": "object", "patternProperties": { "^(.*)$": s } })),
            1 => (inner.clone(), key(), json_value()).prop_map(|(mut s, k, v)| {
                if let Value::Object(m) = &mut s {
                    m.insert(k, v);
                }
                s
            }),
            1 => (inner, ".{0,6}", ".{0,6}").prop_map(|(mut s, title, id)| {
                if let Value::Object(m) = &mut s {
                    m.insert("title".into(), title.into());
                    m.insert("$id".into(), id.into());
                }
                s
            }),
        ]
    })
}

/// A procedure's `errors`: mostly a union of River error shapes, sometimes anything.
fn errors() -> impl Strategy<Value = Value> {
    let variant = ("[A-Z_]{1,6}", schema()).prop_map(|(code, extras)| {
        json!({
            "type": "object",
            "properties": {
                "code": { "const": code },
                "message": { "type": "string" },
                "extras": extras,
            },
            "required": ["code", "message"],
        })
    });
    prop_oneof![
        3 => proptest::collection::vec(variant, 1..4).prop_map(|v| json!({ "anyOf": v })),
        1 => Just(json!({ "not": {} })),
        1 => schema(),
    ]
}

fn key_name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-z]{1,4}",
        1 => "[a-zA-Z0-9_ $-]{0,6}",
        1 => proptest::sample::select(KEYWORDS).prop_map(str::to_string),
    ]
}

fn procedure(input: Value, output: Value, errors: Value, kind: &str) -> Value {
    let mut p = json!({ "type": kind, "output": output, "errors": errors });
    p["init"] = input.clone();
    if kind == "stream" || kind == "upload" {
        p["input"] = input;
    }
    p
}

/// Runs the whole front end; returns whether it produced code.
fn generate(doc: &Value) -> bool {
    let text = doc.to_string();
    if let Ok(schema) = river_codegen::schema::parse_schema(&text) {
        let _ = river_codegen::types::generate_types(&schema);
    }
    river_codegen::generate(&text, &river_codegen::Options::both()).is_ok()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn payload_schemas_never_panic(
        input in schema(),
        output in schema(),
        errors in errors(),
        kind in proptest::sample::select(&["rpc", "stream", "upload", "subscription"][..]),
    ) {
        let doc = json!({
            "services": { "svc": { "procedures": { "proc": procedure(input, output, errors, kind) } } }
        });
        generate(&doc);
    }

    #[test]
    fn definitions_never_panic(a in schema(), b in schema(), root in schema()) {
        let defs = json!({ "A": a, "B": b });
        let mut output = json!({ "$ref": "#/$defs/A" });
        if let Value::Object(m) = root {
            output.as_object_mut().expect("an object").extend(m);
        }
        output["$defs"] = defs;
        let doc = json!({
            "services": { "svc": { "procedures": {
                "proc": procedure(json!({"type": "object", "properties": {}}), output, json!({"not": {}}), "rpc")
            } } }
        });
        generate(&doc);
    }

    #[test]
    fn whole_documents_never_panic(doc in json_value()) {
        generate(&doc);
    }
}

/// What the first property found: `A = allOf[A, …]` overflowed typify's stack. It is a
/// diagnostic now.
#[test]
fn an_intersection_that_contains_itself_is_a_diagnostic() {
    let doc = json!({
        "services": { "svc": { "procedures": { "proc": procedure(
            json!({"type": "object", "properties": {}}),
            json!({"$ref": "#/$defs/A", "$defs": {"A": {"allOf": [
                {"anyOf": [{"$ref": "#/$defs/A"}]},
                {"type": "object", "properties": {}},
            ]}}}),
            json!({"not": {}}),
            "rpc",
        ) } } }
    });
    let err = river_codegen::generate(&doc.to_string(), &river_codegen::Options::both())
        .expect_err("an infinite intersection");
    assert_eq!(err.path, "services.svc.procedures.proc.output");
    assert!(err.message.contains("contains itself"), "{err}");
}

/// What the fuzz campaign found (minimized): a `type` array with one entry repeated, in a
/// union inside an intersection, took typify exponential time and memory in the number of
/// repeats (five: 5 s and 130 MB; the fuzzer's input ran out of memory). It generates at
/// once now.
#[test]
fn a_repeated_type_inside_unions_and_intersections_generates() {
    let doc = json!({
        "handshakeSchema": {"allOf": [
            {"enum": ["a", 2.5]},
            {"oneOf": [
                {"enum": ["b", 4.5]},
                {"anyOf": [null, {"type": ["bigint", "bigint", "bigint", "bigint", "bigint", "bigint"]}]},
            ]},
        ]},
        "procedures": {},
    });
    // Either outcome is fine; finishing is the point.
    let _ = river_codegen::generate(&doc.to_string(), &river_codegen::Options::both());
}

/// The generator above reaches code generation, not only diagnostics: a plain schema built
/// from the same pieces generates.
#[test]
fn a_plain_document_from_the_same_pieces_generates() {
    let doc = json!({
        "services": { "svc": { "procedures": { "proc": procedure(
            json!({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}),
            json!({"type": "array", "items": {"type": "Uint8Array"}}),
            json!({"not": {}}),
            "rpc",
        ) } } }
    });
    assert!(generate(&doc));
}
