//! Per-keyword tests at the edges of each bound. The differential corpus recorded from
//! TypeBox is replayed in `tests/validation_typebox.rs`.

use serde_json::json;

use super::{ValidationIssue, Validator};
use crate::value::{BigInt, Bytes, Date, Value};

fn v(schema: serde_json::Value) -> Validator {
    Validator::compile(&schema).unwrap_or_else(|e| panic!("{e}"))
}

fn val(json: serde_json::Value) -> Value {
    Value::from_serialize(&json).unwrap()
}

fn ok(schema: &Validator, value: serde_json::Value) -> bool {
    let value = val(value);
    let fast = schema.is_valid(&value);
    assert_eq!(fast, schema.validate(&value).is_ok(), "modes disagree");
    fast
}

#[test]
fn string_lengths_count_grapheme_clusters_as_the_reference_does() {
    // TypeBox 1.1.38 (what the reference runs) measures strings in extended grapheme
    // clusters, not UTF-16 code units: see DEVIATIONS.md.
    let s = v(json!({"type": "string", "minLength": 2, "maxLength": 3}));
    assert!(!ok(&s, json!("a")));
    assert!(ok(&s, json!("ab")));
    assert!(ok(&s, json!("abc")));
    assert!(!ok(&s, json!("abcd")));
    // An astral-plane character (two UTF-16 code units) is one.
    assert!(!ok(&s, json!("😀")));
    assert!(ok(&s, json!("a😀")));
    assert!(ok(&s, json!("😀😀😀")));
    assert!(!ok(&s, json!("😀😀😀😀")));
    // e + combining acute is one; so are a flag and a ZWJ family.
    assert!(!ok(&s, json!("e\u{301}")));
    assert!(ok(&s, json!("e\u{301}e\u{301}")));
    assert!(!ok(&s, json!("🇺🇸")));
    assert!(ok(&s, json!("👨\u{200d}👩\u{200d}👧ab")));
    // CR LF is one cluster.
    assert!(!ok(&s, json!("\r\n")));
    assert!(!ok(&s, json!(3)));
}

#[test]
fn patterns_follow_ecmascript() {
    let s = v(json!({"type": "string", "pattern": "^\\d{3}$"}));
    assert!(ok(&s, json!("123")));
    assert!(!ok(&s, json!("12")));
    // \d is ASCII-only in JavaScript.
    assert!(!ok(&s, json!("١٢٣")));
    let unanchored = v(json!({"type": "string", "pattern": "b+"}));
    assert!(ok(&unanchored, json!("abbc")));
    assert!(!ok(&unanchored, json!("ac")));
    let e = Validator::compile(
        &json!({"type": "object", "properties": {"a": {"type": "string", "pattern": "(?=x)"}}}),
    )
    .unwrap_err();
    assert_eq!(e.path, "/properties/a/pattern");
    assert!(e.message.contains("lookahead"), "{e}");
    assert!(Validator::compile(&json!({"pattern": "(a)\\1"}))
        .unwrap_err()
        .message
        .contains("backreference"));
}

#[test]
fn number_bounds_and_integers() {
    let n = v(json!({"type": "number", "minimum": 1, "maximum": 3}));
    assert!(!ok(&n, json!(0.999)));
    assert!(ok(&n, json!(1)));
    assert!(ok(&n, json!(3.0)));
    assert!(!ok(&n, json!(3.001)));
    let x = v(json!({"type": "number", "exclusiveMinimum": 1, "exclusiveMaximum": 3}));
    assert!(!ok(&x, json!(1)));
    assert!(ok(&x, json!(1.5)));
    assert!(!ok(&x, json!(3)));
    let m = v(json!({"type": "number", "multipleOf": 0.1}));
    assert!(ok(&m, json!(0.3)));
    assert!(ok(&m, json!(7)));
    assert!(!ok(&m, json!(0.35)));
    let i = v(json!({"type": "integer"}));
    assert!(ok(&i, json!(1)));
    assert!(ok(&i, json!(1.0)));
    assert!(!ok(&i, json!(1.5)));
    assert!(!ok(&i, json!("1")));
    assert!(!i.is_valid(&Value::Float(f64::NAN)));
    assert!(!v(json!({"type": "number"})).is_valid(&Value::Float(f64::INFINITY)));
}

#[test]
fn arrays_and_unique_items() {
    let a = v(
        json!({"type": "array", "items": {"type": "number"}, "minItems": 1, "maxItems": 2, "uniqueItems": true}),
    );
    assert!(!ok(&a, json!([])));
    assert!(ok(&a, json!([1])));
    assert!(ok(&a, json!([1, 2])));
    assert!(!ok(&a, json!([1, 2, 3])));
    assert!(!ok(&a, json!([1, 1.0])));
    assert!(!ok(&a, json!([1, "x"])));
    let deep = v(json!({"type": "array", "uniqueItems": true}));
    assert!(!ok(&deep, json!([{"a": 1, "b": [2]}, {"b": [2], "a": 1}])));
    assert!(ok(&deep, json!([{"a": 1}, {"a": 2}])));
    let tuple = v(
        json!({"type": "array", "items": [{"type": "string"}, {"type": "number"}], "additionalItems": false, "minItems": 2, "maxItems": 2}),
    );
    assert!(ok(&tuple, json!(["a", 1])));
    assert!(!ok(&tuple, json!([1, "a"])));
    assert!(!ok(&tuple, json!(["a", 1, 2])));
}

#[test]
fn objects_required_optional_and_additional() {
    let o = v(json!({
        "type": "object",
        "properties": {"a": {"type": "string"}, "opt": {"type": "number"}},
        "required": ["a"],
        "additionalProperties": false
    }));
    assert!(ok(&o, json!({"a": "x"})));
    assert!(ok(&o, json!({"a": "x", "opt": 1})));
    // Optional is not nullable.
    assert!(!ok(&o, json!({"a": "x", "opt": null})));
    assert!(!ok(&o, json!({})));
    assert!(!ok(&o, json!({"a": "x", "b/c~": 1})));
    let e = o.validate(&val(json!({"b/c~": 1}))).unwrap_err();
    assert_eq!(e.total, 2);
    assert_eq!(
        e.first,
        vec![
            ValidationIssue {
                path: "/a".into(),
                message: "must have required properties a".into()
            },
            ValidationIssue {
                path: "/b~1c~0".into(),
                message: "must NOT have additional properties".into()
            },
        ]
    );
    // Open by default.
    let open = v(json!({"type": "object", "properties": {}}));
    assert!(ok(&open, json!({"anything": 1})));
    let counted = v(json!({"type": "object", "minProperties": 1, "maxProperties": 2}));
    assert!(!ok(&counted, json!({})));
    assert!(ok(&counted, json!({"a": 1, "b": 2})));
    assert!(!ok(&counted, json!({"a": 1, "b": 2, "c": 3})));
}

#[test]
fn records_check_keys_against_their_pattern() {
    let r = v(
        json!({"type": "object", "patternProperties": {"^(0|[1-9][0-9]*)$": {"type": "string"}}, "additionalProperties": false}),
    );
    assert!(ok(&r, json!({"0": "a", "12": "b"})));
    assert!(!ok(&r, json!({"01": "a"})));
    assert!(!ok(&r, json!({"1": 2})));
    let e = r.validate(&val(json!({"1": 2, "x": "y"}))).unwrap_err();
    assert_eq!(e.first[0].path, "/1");
    assert_eq!(e.first[1].path, "/x");
}

#[test]
fn const_enum_unions_and_never() {
    let c = v(json!({"const": "a"}));
    assert!(ok(&c, json!("a")));
    assert!(!ok(&c, json!("b")));
    let e = v(json!({"enum": [1, "x"]}));
    assert!(ok(&e, json!(1.0)));
    assert!(!ok(&e, json!(2)));
    let u = v(json!({"anyOf": [{"type": "string"}, {"type": "null"}]}));
    assert!(ok(&u, json!(null)));
    assert!(ok(&u, json!("s")));
    assert!(!ok(&u, json!(1)));
    let never = v(json!({"not": {}}));
    assert!(!ok(&never, json!(null)));
    let all = v(
        json!({"allOf": [{"type": "object", "required": ["a"]}, {"type": "object", "required": ["b"]}]}),
    );
    assert!(ok(&all, json!({"a": 1, "b": 2})));
    assert!(!ok(&all, json!({"a": 1})));
}

#[test]
fn recursive_schemas_compile_to_cycles() {
    let tree = v(json!({
        "$id": "T0",
        "type": "object",
        "properties": {"n": {"type": "number"}, "kids": {"type": "array", "items": {"$ref": "T0"}}},
        "required": ["n", "kids"]
    }));
    assert!(ok(&tree, json!({"n": 1, "kids": [{"n": 2, "kids": []}]})));
    let e = tree
        .validate(&val(json!({"n": 1, "kids": [{"n": "x", "kids": []}]})))
        .unwrap_err();
    assert_eq!(e.first[0].path, "/kids/0/n");
    assert!(Validator::compile(&json!({"$ref": "Nope"})).is_err());
}

#[test]
fn bytes_bigints_and_dates() {
    let b = v(json!({"type": "Uint8Array", "minByteLength": 1, "maxByteLength": 2}));
    assert!(!b.is_valid(&Value::Bytes(Bytes::from(vec![]))));
    assert!(b.is_valid(&Value::Bytes(Bytes::from(vec![1, 2]))));
    assert!(!b.is_valid(&Value::Bytes(Bytes::from(vec![1, 2, 3]))));
    assert!(!b.is_valid(&val(json!("AQI="))));
    let big = v(json!({"type": "bigint"}));
    assert!(big.is_valid(&Value::BigInt(BigInt::from(5))));
    assert!(!big.is_valid(&Value::Int(5)));
    let d = v(json!({"type": "Date", "minimumTimestamp": 1000, "exclusiveMaximumTimestamp": 2000}));
    assert!(d.is_valid(&Value::Date(Date::from_millis(1000))));
    assert!(!d.is_valid(&Value::Date(Date::from_millis(999))));
    assert!(!d.is_valid(&Value::Date(Date::from_millis(2000))));
}

#[test]
fn formats() {
    let email = v(json!({"type": "string", "format": "email"}));
    assert!(ok(&email, json!("ada@example.com")));
    assert!(!ok(&email, json!("ada")));
    let uuid = v(json!({"type": "string", "format": "uuid"}));
    assert!(ok(&uuid, json!("123e4567-e89b-12d3-a456-426614174000")));
    assert!(!ok(&uuid, json!("123e4567")));
    let dt = v(json!({"type": "string", "format": "date-time"}));
    assert!(ok(&dt, json!("2024-02-29T12:00:00Z")));
    assert!(!ok(&dt, json!("2023-02-29T12:00:00Z")));
}

#[test]
fn errors_are_counted_and_the_first_five_kept() {
    let o = v(json!({"type": "object", "properties": {}, "additionalProperties": false}));
    let e = o
        .validate(&val(
            json!({"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6, "g": 7}),
        ))
        .unwrap_err();
    assert_eq!(e.total, 7);
    assert_eq!(e.first.len(), 5);
    assert!(e.to_string().contains("(and 2 more)"), "{e}");
}
