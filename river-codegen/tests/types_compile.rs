//! Generated types compile in a crate that depends on `river-runtime` alone, and
//! round-trip JSON. One cargo invocation builds and tests every case below plus every
//! schema of the shared corpus.
//!
//! The check crate lives in `<workspace>/target/codegen-tests/types-check` and builds into
//! `<workspace>/target/codegen-tests/target`, so reruns are incremental.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use river_codegen::schema::parse_schema;
use river_codegen::types::{generate_types, TypeSet};
use serde_json::json;

#[path = "../../river-runtime/tests/shared_support/mod.rs"]
mod shared_support;

/// A schema, assertions on the generated names, and Rust test code run in the check
/// crate (with `use super::<module>::types::*;` and `json` = serde_json in scope).
struct Case {
    module: &'static str,
    schema: serde_json::Value,
    names: &'static [&'static str],
    checks: &'static str,
}

fn one_proc(svc: &str, proc_: &str, body: serde_json::Value) -> serde_json::Value {
    json!({ "services": { svc: { "procedures": { proc_: body } } } })
}

fn obj(required: &[&str], props: serde_json::Value) -> serde_json::Value {
    json!({"type": "object", "required": required, "properties": props})
}

fn cases() -> Vec<Case> {
    let num = json!({"type": "number"});
    let chat_app: serde_json::Value =
        serde_json::from_str(include_str!("../../schemas/chat-app.json")).unwrap();
    vec![
        // One type per repeated shape: the same `Content`, `Status` and `Message` in
        // every payload, payload aliases, and wire names kept.
        Case {
            module: "shared_shapes",
            schema: chat_app,
            names: &["Content", "Status", "Message", "Room", "MessagesPostOutput"],
            checks: r##"
                // Compiles only if the payloads share the types.
                fn same_message(m: MessagesPostOutput) -> (Message, MessagesWatchOutput) {
                    (m.clone(), m)
                }
                fn same_content(c: Content) -> (MessagesPostInit, MessagesEditInit) {
                    (
                        MessagesPostInit { content: c.clone(), room_id: "r".into() },
                        MessagesEditInit { content: c, message_id: "m".into() },
                    )
                }

                #[test]
                fn shared_types_round_trip_with_wire_names() {
                    let _ = same_message;
                    let (post, edit) = same_content(Content::Text { text: "hi".into() });
                    let wire = json::json!({"content": {"text": "hi", "type": "text"}, "roomId": "r"});
                    assert_eq!(json::to_value(&post).unwrap(), wire);
                    assert_eq!(json::from_value::<MessagesPostInit>(wire).unwrap(), post);
                    assert_eq!(json::to_value(&edit).unwrap()["messageId"], "m");
                    let presence = PresenceWatchOutput { status: Status::Away, user_id: "u".into() };
                    let wire = json::json!({"status": "away", "userId": "u"});
                    assert_eq!(json::to_value(&presence).unwrap(), wire);
                    assert_eq!(json::from_value::<PresenceWatchOutput>(wire).unwrap(), presence);
                    // The intersection is one struct with both parts' fields.
                    let set = PresenceSetStatusInit { note: Some("lunch".into()), status: Status::Online };
                    assert_eq!(
                        json::to_value(&set).unwrap(),
                        json::json!({"note": "lunch", "status": "online"})
                    );
                    let image = json::json!({"type": "image", "url": "u", "width": 2.0});
                    match json::from_value::<Content>(image).unwrap() {
                        Content::Image { width, .. } => assert_eq!(width, Some(2.0)),
                        other => panic!("{other:?}"),
                    }
                }
            "##,
        },
        // codegen-notes §2.5, repro 1: `extras` under two error variants.
        Case {
            module: "collision_extras",
            schema: one_proc(
                "svc",
                "proc",
                json!({
                    "type": "rpc", "init": obj(&[], json!({})), "output": num,
                    "errors": {"anyOf": [
                        {"type":"object","required":["code","message","extras"],"properties":{"code":{"type":"string","const":"A"},"message":{"type":"string"},"extras":{"type":"object","required":["a"],"properties":{"a":{"type":"string"}}}}},
                        {"type":"object","required":["code","message"],"properties":{"code":{"type":"string","const":"B"},"message":{"type":"string"},"extras":{"type":"object","required":["b"],"properties":{"b":{"type":"number"}}}}},
                        {"type":"object","required":["code","message"],"properties":{"code":{"enum":["C1","C2"]},"message":{"type":"string","const":"fixed"}}},
                        {"type":"object","required":["code","message"],"properties":{"code":{"type":"string","const":"CANCEL"},"message":{"type":"string"}}}
                    ]}
                }),
            ),
            names: &[
                "SvcProcError",
                "SvcProcErrorAExtras",
                "SvcProcErrorBExtras",
                "SvcProcInit",
            ],
            checks: r##"
                #[test]
                fn b_decodes_with_its_own_extras() {
                    let e: SvcProcError = json::from_str(r#"{"code":"B","message":"m","extras":{"b":1}}"#).unwrap();
                    assert_eq!(e, SvcProcError::B { message: "m".into(), extras: Some(SvcProcErrorBExtras { b: 1.0 }) });
                    let e: SvcProcError = json::from_str(r#"{"code":"B","message":"m"}"#).unwrap();
                    assert_eq!(e, SvcProcError::B { message: "m".into(), extras: None });
                    assert_eq!(json::to_string(&e).unwrap(), r#"{"code":"B","message":"m"}"#);
                }
                #[test]
                fn a_requires_its_extras_and_round_trips() {
                    let text = r#"{"code":"A","message":"m","extras":{"a":"x"}}"#;
                    let e: SvcProcError = json::from_str(text).unwrap();
                    assert_eq!(e, SvcProcError::A { message: "m".into(), extras: SvcProcErrorAExtras { a: "x".into() } });
                    assert_eq!(json::to_string(&e).unwrap(), text);
                    assert!(json::from_str::<SvcProcError>(r#"{"code":"A","message":"m"}"#).is_err());
                    assert!(json::from_str::<SvcProcError>(r#"{"code":"A","message":"m","extras":{"b":1}}"#).is_err());
                    assert_eq!(e.code(), "A");
                    assert_eq!(e.to_string(), "A: m");
                }
                #[test]
                fn enum_codes_reserved_codes_and_unknown() {
                    let e: SvcProcError = json::from_str(r#"{"code":"C2","message":"fixed"}"#).unwrap();
                    assert_eq!(e, SvcProcError::C2 { message: "fixed".into() });
                    // Reserved codes are the runtime's, unknown codes fail to decode.
                    assert!(json::from_str::<SvcProcError>(r#"{"code":"CANCEL","message":"x"}"#).is_err());
                    assert!(json::from_str::<SvcProcError>(r#"{"code":"NEW","message":"x"}"#).is_err());
                    let u = <SvcProcError as ::river_runtime::ServiceError>::unknown("NEW".into(), "x".into(), None);
                    assert_eq!(u.code(), "NEW");
                    assert_eq!(json::to_string(&u).unwrap(), r#"{"code":"NEW","message":"x"}"#);
                    // `Type.Object({})` accepts and ignores unknown fields.
                    let _: SvcProcInit = json::from_str(r#"{"extra":1}"#).unwrap();
                    assert_eq!(json::to_string(&SvcProcInit {}).unwrap(), "{}");
                }
            "##,
        },
        // codegen-notes §2.5, repro 2: `first.inner` vs `first_inner`.
        Case {
            module: "collision_paths",
            schema: one_proc(
                "svc",
                "proc",
                json!({
                    "type": "rpc",
                    "init": {"type":"object","required":["first","second"],"properties":{
                        "first":{"type":"object","required":["inner"],"properties":{"inner":{"type":"object","required":["a"],"properties":{"a":{"type":"string"}}}}},
                        "second":{"type":"object","required":["inner"],"properties":{"inner":{"type":"object","required":["b"],"properties":{"b":{"type":"number"}}}}},
                        "first_inner":{"type":"object","required":["c"],"properties":{"c":{"type":"boolean"}}}
                    }},
                    "output": {"type": "boolean"},
                    "errors": {"not": {}}
                }),
            ),
            names: &[
                "SvcProcInitFirstInner",
                "SvcProcInitFirstInner2",
                "SvcProcInitSecondInner",
            ],
            checks: r##"
                #[test]
                fn both_inner_types_decode() {
                    let text = r#"{"first":{"inner":{"a":"x"}},"first_inner":{"c":true},"second":{"inner":{"b":1.0}}}"#;
                    let v: SvcProcInit = json::from_str(text).unwrap();
                    assert_eq!(v.first.inner.a, "x");
                    assert!(v.first_inner.unwrap().c);
                    assert_eq!(v.second.inner.b, 1.0);
                    let v: SvcProcInit = json::from_str(text).unwrap();
                    assert_eq!(json::to_string(&v).unwrap(), text);
                }
            "##,
        },
        // Recursion: TypeBox 1.x `Type.Cyclic` and TypeBox 0.34 `Type.Recursive`.
        Case {
            module: "recursive",
            schema: json!({"services": {"tree": {"procedures": {
                "cyclic": {"type":"rpc","init":{"type":"object","properties":{}},
                    "output":{"$defs":{"Node":{"type":"object","required":["n"],"properties":{"n":{"type":"number"},"next":{"$ref":"Node"}},"$id":"Node"}},"$ref":"Node"},
                    "errors":{"not":{}}},
                "recursive": {"type":"rpc","init":{"type":"object","properties":{}},
                    "output":{"$id":"T0","type":"object","required":["id","children"],"properties":{"id":{"type":"string"},"children":{"type":"array","items":{"$ref":"T0"}}}},
                    "errors":{"not":{}}},
                "nested": {"type":"rpc","init":{"type":"object","properties":{}},
                    "output":{"type":"object","required":["root"],"properties":{"root":{"$defs":{"Tree":{"$id":"Tree","type":"object","required":["kids"],"properties":{"kids":{"type":"array","items":{"$ref":"Tree"}}}}},"$ref":"Tree"}}},
                    "errors":{"not":{}}}
            }}}}),
            names: &[
                "TreeCyclicOutput",
                "TreeRecursiveOutput",
                "TreeNestedOutput",
                "TreeNestedOutputTree",
            ],
            checks: r##"
                #[test]
                fn recursive_values_decode() {
                    let v: TreeCyclicOutput = json::from_str(r#"{"n":1,"next":{"n":2}}"#).unwrap();
                    assert_eq!(v.next.as_ref().unwrap().n, 2.0);
                    let v: TreeRecursiveOutput = json::from_str(r#"{"id":"a","children":[{"id":"b","children":[]}]}"#).unwrap();
                    assert_eq!(v.children[0].id, "b");
                    let v: TreeNestedOutput = json::from_str(r#"{"root":{"kids":[{"kids":[]}]}}"#).unwrap();
                    let _: &TreeNestedOutputTree = &v.root;
                    assert_eq!(v.root.kids.len(), 1);
                }
            "##,
        },
        // Records of both patterns (and numeric keys), intersections, tuples, customs.
        Case {
            module: "shapes",
            schema: one_proc(
                "shapes",
                "all",
                json!({
                    "type": "stream",
                    "init": {"type":"object","required":["r034","r1","rnum","both","tuple","bytes","big","any","lit","num_lit"],"properties":{
                        "r034":{"type":"object","patternProperties":{"^(.*)$":{"type":"number"}}},
                        "r1":{"type":"object","patternProperties":{"^.*$":{"type":"object","required":["x"],"properties":{"x":{"type":"string"}}}}},
                        "rnum":{"type":"object","patternProperties":{"^-?(?:0|[1-9][0-9]*)(?:\\.[0-9]+)?$":{"type":"string"}}},
                        "both":{"allOf":[{"type":"object","required":["a"],"properties":{"a":{"type":"string"}}},{"type":"object","required":["b"],"properties":{"b":{"type":"number"}}}]},
                        "tuple":{"type":"array","additionalItems":false,"items":[{"type":"string"},{"type":"number"}],"minItems":2},
                        "bytes":{"type":"Uint8Array","maxByteLength":10},
                        "date":{"type":"Date"},
                        "big":{"type":"bigint"},
                        "any":{},
                        "lit":{"anyOf":[{"type":"string","const":"a"},{"type":"string","const":"c-d"}]},
                        "num_lit":{"anyOf":[{"type":"number","const":1},{"type":"number","const":2.5}]},
                        "when":{"type":"string","format":"date-time","pattern":"^2"},
                        "never":{"not":{}}
                    }},
                    "input": {"type":"object","allOf":[{"type":"object","required":["a"],"properties":{"a":{"type":"string"}}},{"type":"object","required":["b"],"properties":{"b":{"type":"number"}}}]},
                    "output": {"type":"void"},
                    "errors": {"anyOf":[{"type":"object","required":["code","message"],"properties":{"code":{"type":"string","const":"UNCAUGHT_ERROR"},"message":{"type":"string"}}}]}
                }),
            ),
            names: &[
                "ShapesAllInit",
                // The intersection is also the whole input: one type, named `Both`.
                "Both",
                "ShapesAllInitLit",
                "ShapesAllInitR1Value",
                "ShapesAllInput",
            ],
            checks: r##"
                #[test]
                fn records_intersections_tuples() {
                    let v: ShapesAllInit = json::from_str(r#"{
                        "r034":{"k":1.5},"r1":{"k":{"x":"y"}},"rnum":{"1":"one"},
                        "both":{"a":"s","b":2},"tuple":["t",3],
                        "bytes":{"$t":"AQI="},"big":{"$b":"12"},"any":{"free":[1,"form"]},
                        "lit":"c-d","num_lit":2.5,"when":"2020"
                    }"#).unwrap_or_else(|e| panic!("{e}"));
                    let r034: &::std::collections::BTreeMap<String, f64> = &v.r034;
                    assert_eq!(r034["k"], 1.5);
                    assert_eq!(v.r1["k"].x, "y");
                    assert_eq!(v.rnum["1"], "one");
                    assert_eq!((v.both.a.as_str(), v.both.b), ("s", 2.0));
                    assert_eq!(v.tuple, ("t".to_string(), 3.0));
                    assert_eq!(v.lit, ShapesAllInitLit::CD);
                    assert_eq!(v.num_lit, 2.5);
                    let _: &::river_runtime::Bytes = &v.bytes;
                    let _: &Option<::river_runtime::Date> = &v.date;
                    assert_eq!(v.bytes.0, vec![1u8, 2]);
                    let _: &::river_runtime::BigInt = &v.big;
                    let _: &::river_runtime::Value = &v.any;
                    let _: &Option<String> = &v.when;
                    let input: ShapesAllInput = json::from_str(r#"{"a":"s","b":1}"#).unwrap();
                    assert_eq!(input.b, 1.0);
                    let _: () = json::from_str::<()>("null").unwrap();
                }
                #[test]
                fn only_reserved_errors_leave_unknown() {
                    let u = <ShapesAllError as ::river_runtime::ServiceError>::unknown("X".into(), "y".into(), None);
                    assert!(matches!(u, ShapesAllError::Unknown { .. }));
                }
            "##,
        },
        // Rust keywords and odd characters as service, procedure and property names.
        Case {
            module: "keywords",
            schema: json!({"services": {
                "type": {"procedures": {
                    "self": {"type":"rpc",
                        "init": {"type":"object","required":["fn","match","r#","a b","0abc","$kind"],"properties":{
                            "fn":{"type":"string"},"match":{"type":"number"},"r#":{"type":"boolean"},
                            "a b":{"type":"string"},"0abc":{"type":"string"},"$kind":{"type":"string"},
                            "type":{"type":"object","properties":{"self":{"type":"string"},"Self":{"type":"number"}}}
                        }},
                        "output": {"type":"object","required":["crate"],"properties":{"crate":{"type":"string"}}},
                        "errors": {"anyOf":[{"type":"object","required":["code","message"],"properties":{"code":{"type":"string","const":"self"},"message":{"type":"string"}}},
                                           {"type":"object","required":["code","message"],"properties":{"code":{"type":"string","const":"UNKNOWN"},"message":{"type":"string"}}}]}},
                    "fn": {"type":"subscription","input":{"type":"boolean"},"output":{"type":"string"}}
                }},
                "type_self": {"procedures": {
                    "": {"type":"rpc","init":{"type":"object","properties":{"x":{"type":"string"}}},"output":{"type":"null"}}
                }}
            }}),
            names: &[
                "TypeSelfInit",
                "TypeSelfInitType",
                "TypeSelfOutput",
                "TypeSelfError",
                "TypeFnError",
                "TypeSelfInit2",
            ],
            checks: r##"
                #[test]
                fn keyword_fields_round_trip() {
                    let text = r#"{"$kind":"k","0abc":"z","a b":"s","fn":"f","match":1.0,"r#":true,"type":{"Self":2.0,"self":"x"}}"#;
                    let v: TypeSelfInit = json::from_str(text).unwrap();
                    assert_eq!(v.fn_, "f");
                    assert_eq!(v.match_, 1.0);
                    assert!(v.r);
                    assert_eq!(v.x0abc, "z");
                    assert_eq!(v.kind, "k");
                    let t = v.type_.as_ref().unwrap();
                    assert_eq!((t.self_, t.self_2.as_deref()), (Some(2.0), Some("x")));
                    assert_eq!(json::to_value(&v).unwrap(), json::from_str::<json::Value>(text).unwrap());
                    let e: TypeSelfError = json::from_str(r#"{"code":"self","message":"m"}"#).unwrap();
                    assert!(matches!(e, TypeSelfError::Self_ { .. }));
                    let e: TypeSelfError = json::from_str(r#"{"code":"UNKNOWN","message":"m"}"#).unwrap();
                    assert!(matches!(e, TypeSelfError::Unknown2 { .. }));
                }
            "##,
        },
        // Colliding property names in a request: disambiguated, wire names kept.
        Case {
            module: "request_collision",
            schema: one_proc(
                "svc",
                "proc",
                json!({
                    "type":"rpc","input":{"type":"object","properties":{"data-3":{"type":"string"},"data:3":{"type":"number"}},"required":["data-3","data:3"]},
                    "output":{"type":"boolean"},"errors":{"not":{}}
                }),
            ),
            names: &["SvcProcInit"],
            checks: r##"
                #[test]
                fn both_fields_survive() {
                    let text = r#"{"data-3":"s","data:3":1.0}"#;
                    let v: SvcProcInit = json::from_str(text).unwrap();
                    assert_eq!((v.data_3.as_str(), v.data_3_2), ("s", 1.0));
                    assert_eq!(json::to_string(&v).unwrap(), text);
                }
            "##,
        },
        // Property names that collide once made Rust fields, in a request, a response,
        // a nested object and a union member: distinct fields, the wire names kept.
        Case {
            module: "colliding_names",
            schema: {
                let props = json!({
                    "type":{"type":"string"},"type_":{"type":"string"},"r_type":{"type":"string"},
                    "fooBar":{"type":"string"},"foo_bar":{"type":"string"},"FooBar":{"type":"string"},
                    "foo-bar":{"type":"string"},"foo bar":{"type":"string"}
                });
                let keys = [
                    "type", "type_", "r_type", "fooBar", "foo_bar", "FooBar", "foo-bar", "foo bar",
                ];
                let o = obj(&keys, props.clone());
                let mut member = props.as_object().unwrap().clone();
                member.insert("kind".into(), json!({"const":"k"}));
                let member = json!({"type":"object","required":["kind","foo_bar","fooBar"],"properties":member});
                one_proc(
                    "svc",
                    "proc",
                    json!({
                        "type":"rpc","init":o,
                        "output":obj(&["inner","u"], json!({"inner": o, "u": {"anyOf":[member, {"type":"object","required":["kind"],"properties":{"kind":{"const":"other"}}}]}})),
                        "errors":{"not":{}}
                    }),
                )
            },
            names: &["SvcProcInit", "SvcProcOutput"],
            checks: r##"
                const ALL: &str = r#"{"type":"a","type_":"b","r_type":"c","fooBar":"d","foo_bar":"e","FooBar":"f","foo-bar":"g","foo bar":"h"}"#;

                #[test]
                fn every_property_has_its_own_field() {
                    let v: SvcProcInit = json::from_str(ALL).unwrap();
                    // The field named like its wire name keeps the plain name.
                    assert_eq!((v.type_.as_str(), v.r_type.as_str(), v.foo_bar.as_str()), ("b", "c", "e"));
                    let mut got = vec![
                        v.type_2.clone(), v.foo_bar_2.clone(), v.foo_bar_3.clone(),
                        v.foo_bar_4.clone(), v.foo_bar_5.clone(),
                    ];
                    got.sort();
                    assert_eq!(got, ["a", "d", "f", "g", "h"]);
                    let back: json::Value = json::to_value(&v).unwrap();
                    assert_eq!(back, json::from_str::<json::Value>(ALL).unwrap());
                }

                #[test]
                fn responses_nested_objects_and_union_members_keep_wire_names() {
                    let text = format!(
                        r#"{{"inner":{ALL},"u":{{"kind":"k","fooBar":"x","foo_bar":"y"}}}}"#
                    );
                    let v: SvcProcOutput = json::from_str(&text).unwrap();
                    assert_eq!(v.inner.foo_bar, "e");
                    let back: json::Value = json::to_value(&v).unwrap();
                    assert_eq!(back, json::from_str::<json::Value>(&text).unwrap());
                }
            "##,
        },
        // String values that collide once made variant names, as an `enum` and as a
        // union of `const`s, in a property and as array items: distinct variants, the
        // wire values kept by serde, `Display` and `FromStr`.
        Case {
            module: "colliding_values",
            schema: {
                let e = json!({"type":"string","enum":["fooBar","foo_bar","FooBar","foo-bar","foo bar"]});
                let u = json!({"anyOf":[
                    {"type":"string","const":"x y","description":"Spaced."},
                    {"type":"string","const":"x_y"},{"type":"string","const":"x-y"}
                ]});
                let marks = json!({"type":"string","enum":["*/","/*","","v1","v_1"]});
                one_proc(
                    "svc",
                    "proc",
                    json!({
                        "type":"rpc",
                        "init":obj(&["e","u","es","us"], json!({
                            "e": e, "u": u, "es": {"type":"array","items": marks},
                            "us": {"type":"array","items": {"anyOf":[{"const":"a-b"},{"const":"a_b"}]}}
                        })),
                        "output":u,
                        "errors":{"not":{}}
                    }),
                )
            },
            names: &[
                "SvcProcInitE",
                "SvcProcInitEsItem",
                "SvcProcInitUsItem",
                "U",
            ],
            checks: r##"
                use ::std::fmt::{Debug, Display};
                use ::std::str::FromStr;

                /// Each variant is its wire value, both ways, in JSON and as a string;
                /// the variants are distinct; other strings are refused.
                fn wire_values<T>(cases: &[(T, &str)])
                where
                    T: ::river_runtime::__private::serde::Serialize
                        + ::river_runtime::__private::serde::de::DeserializeOwned
                        + Display + FromStr + Debug + PartialEq + Copy + Ord,
                    <T as FromStr>::Err: Debug,
                {
                    for &(v, wire) in cases {
                        assert_eq!(json::to_value(v).unwrap(), json::Value::from(wire), "{v:?}");
                        assert_eq!(json::from_value::<T>(json::Value::from(wire)).unwrap(), v, "{wire:?}");
                        assert_eq!(v.to_string(), wire, "{v:?}");
                        assert_eq!(wire.parse::<T>().unwrap(), v, "{wire:?}");
                    }
                    let distinct: ::std::collections::BTreeSet<T> = cases.iter().map(|c| c.0).collect();
                    assert_eq!(distinct.len(), cases.len());
                    assert!(json::from_value::<T>(json::Value::from("foobar")).is_err());
                    assert!("foobar".parse::<T>().is_err());
                }

                #[test]
                fn enum_values_round_trip() {
                    // The value spelled like the name keeps it, the others in order.
                    wire_values(&[
                        (SvcProcInitE::FooBar, "FooBar"),
                        (SvcProcInitE::FooBar2, "fooBar"),
                        (SvcProcInitE::FooBar3, "foo_bar"),
                        (SvcProcInitE::FooBar4, "foo-bar"),
                        (SvcProcInitE::FooBar5, "foo bar"),
                    ]);
                    // Values without a letter are typify's `X`; a suffix after a digit
                    // gets an underscore.
                    wire_values(&[
                        (SvcProcInitEsItem::X, "*/"),
                        (SvcProcInitEsItem::X2, "/*"),
                        (SvcProcInitEsItem::X3, ""),
                        (SvcProcInitEsItem::V1, "v1"),
                        (SvcProcInitEsItem::V1_2, "v_1"),
                    ]);
                    assert_eq!(SvcProcInitEsItem::try_from("/*").unwrap(), SvcProcInitEsItem::X2);
                    assert_eq!(SvcProcInitEsItem::try_from(String::new()).unwrap(), SvcProcInitEsItem::X3);
                }

                #[test]
                fn const_union_values_round_trip() {
                    wire_values(&[
                        (U::XY, "x y"),
                        (U::XY2, "x_y"),
                        (U::XY3, "x-y"),
                    ]);
                    wire_values(&[(SvcProcInitUsItem::AB, "a-b"), (SvcProcInitUsItem::AB2, "a_b")]);
                    // The union is the output too: one type, named after the property.
                    let out: SvcProcOutput = U::XY3;
                    assert_eq!(json::to_string(&out).unwrap(), r#""x-y""#);
                }

                #[test]
                fn objects_and_arrays_of_them_round_trip() {
                    let text = r#"{"e":"foo_bar","es":["/*","","v_1","*/"],"u":"x_y","us":["a_b","a-b"]}"#;
                    let v: SvcProcInit = json::from_str(text).unwrap();
                    assert_eq!(v.e, SvcProcInitE::FooBar3);
                    assert_eq!(v.u, U::XY2);
                    assert_eq!(
                        v.es,
                        [SvcProcInitEsItem::X2, SvcProcInitEsItem::X3, SvcProcInitEsItem::V1_2, SvcProcInitEsItem::X]
                    );
                    assert_eq!(v.us, [SvcProcInitUsItem::AB2, SvcProcInitUsItem::AB]);
                    assert_eq!(json::to_string(&v).unwrap(), text);
                    assert!(json::from_str::<SvcProcInit>(&text.replace("foo_bar", "foobar")).is_err());
                }
            "##,
        },
        // `$ref: "#"` (TypeBox 1.x `Type.This`) and references to an enclosing `$id`,
        // inside objects, arrays, unions and records.
        Case {
            module: "root_recursion",
            schema: json!({"services":{"tree":{"procedures":{
                "obj":{"type":"rpc",
                    "init":{"type":"object","properties":{"name":{"type":"string"},"child":{"$ref":"#"}},"required":["name"]},
                    "output":{"type":"object","properties":{"kids":{"type":"array","items":{"$ref":"#"}}},"required":["kids"]},
                    "errors":{"not":{}}},
                "un":{"type":"rpc",
                    "init":{"anyOf":[{"type":"string"},{"type":"array","items":{"$ref":"#"}},
                        {"type":"object","required":["kind","next"],"properties":{"kind":{"const":"wrap"},"next":{"$ref":"#"}}}]},
                    "output":{"type":"object","patternProperties":{"^(.*)$":{"$ref":"#"}}},
                    "errors":{"not":{}}},
                "idref":{"type":"rpc",
                    "init":{"type":"object","properties":{"inner":{"$id":"Inner","type":"object","properties":{"again":{"$ref":"Inner"},"up":{"$ref":"#"}}}}},
                    "output":{"type":"boolean"},"errors":{"not":{}}}
            }}}}),
            names: &[
                "TreeObjInit",
                "TreeObjOutput",
                "TreeUnInit",
                "TreeUnOutput",
                "TreeIdrefInit",
            ],
            checks: r##"
                fn round_trip<T: ::river_runtime::__private::serde::Serialize + ::river_runtime::__private::serde::de::DeserializeOwned>(text: &str) -> T {
                    let v: T = json::from_str(text).unwrap();
                    let back: json::Value = json::to_value(&v).unwrap();
                    assert_eq!(back, json::from_str::<json::Value>(text).unwrap(), "{text}");
                    v
                }

                #[test]
                fn objects_and_arrays_refer_to_their_root() {
                    let v: TreeObjInit = round_trip(r#"{"name":"a","child":{"name":"b","child":{"name":"c"}}}"#);
                    assert_eq!(v.child.unwrap().child.unwrap().name, "c");
                    let v: TreeObjOutput = round_trip(r#"{"kids":[{"kids":[]},{"kids":[{"kids":[]}]}]}"#);
                    assert_eq!(v.kids[1].kids.len(), 1);
                }

                #[test]
                fn unions_and_records_refer_to_their_root() {
                    round_trip::<TreeUnInit>(r#"["a",["b"],{"kind":"wrap","next":"c"}]"#);
                    let v: TreeUnOutput = round_trip(r#"{"x":{"y":{}}}"#);
                    assert!(v["x"]["y"].is_empty());
                }

                #[test]
                fn an_enclosing_id_and_the_root_together() {
                    // An absent optional self-reference is omitted, not sent as null.
                    round_trip::<TreeIdrefInit>(r#"{"inner":{"again":{"up":{}}}}"#);
                }
            "##,
        },
        // Handshake metadata and descriptions.
        Case {
            module: "handshake",
            schema: json!({"services": {"a": {"procedures": {"b": {"type":"rpc","description":"Does b.","init":{"type":"object","properties":{}},"output":{"type":"string"}}}}},
                           "handshakeSchema": {"type":"object","required":["token"],"properties":{"token":{"type":"string"}}}}),
            names: &["HandshakeMetadata", "AbInit", "AbError"],
            checks: r##"
                #[test]
                fn handshake_decodes() {
                    let h: HandshakeMetadata = json::from_str(r#"{"token":"t"}"#).unwrap();
                    assert_eq!(h.token, "t");
                }
            "##,
        },
    ]
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

fn corpus() -> Vec<(String, String)> {
    let Some(root) = shared_support::shared_dir("the types of the ../shared corpus") else {
        return Vec::new();
    };
    let mut files = Vec::new();
    let mut dirs = vec![root.join("schemas"), root.join("conformance")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            if p.is_dir() && name != "transcripts" {
                dirs.push(p);
            } else if name.ends_with(".json")
                && name != "v1-rpc-invalid-schema.json"
                && (!p.starts_with(root.join("conformance")) || name.starts_with("interop-schema"))
            {
                files.push(p);
            }
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let stem = p.file_stem().unwrap().to_string_lossy().to_string();
            let module = format!(
                "corpus_{}",
                stem.chars()
                    .map(|c| if c.is_ascii_alphanumeric() {
                        c.to_ascii_lowercase()
                    } else {
                        '_'
                    })
                    .collect::<String>()
            );
            (module, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

/// The generated module plus a function that names every procedure type the way the
/// client/server code will (`types::X` from the module's parent).
fn render_module(module: &str, types: &TypeSet) -> String {
    let tokens = &types.tokens;
    let uses = types.procedures.values().map(|p| {
        let (init, output, error) = (&p.init, &p.output, &p.error);
        let input = p.input.clone().unwrap_or_else(|| quote::quote!(()));
        quote::quote! {
            let _: ::std::option::Option<(#init, #input, #output)> = ::std::option::Option::None;
            assert_service_error::<#error>();
        }
    });
    let handshake = types
        .handshake
        .iter()
        .map(|h| quote::quote!(let _: ::std::option::Option<#h> = None;));
    let file = quote::quote! {
        pub mod types {
            #tokens
        }
        #[allow(dead_code)]
        fn uses() {
            fn assert_service_error<E: ::river_runtime::ServiceError + ::std::error::Error + Clone + PartialEq>() {}
            #(#uses)*
            #(#handshake)*
        }
    };
    let file: syn::File = syn::parse2(file).unwrap_or_else(|e| panic!("{module}: {e}"));
    prettyplease::unparse(&file)
}

#[test]
fn generated_types_compile_and_round_trip() {
    let ws = workspace();
    let base = ws.join("target/codegen-tests");
    let krate = base.join("types-check");
    std::fs::create_dir_all(krate.join("src")).unwrap();
    let runtime = ws.join("river-runtime");
    std::fs::write(
        krate.join("Cargo.toml"),
        format!(
            "[package]\nname = \"river-types-check\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\nriver-runtime = {{ path = {:?} }}\n\n[workspace]\n",
            runtime.display().to_string()
        ),
    )
    .unwrap();
    if let Ok(lock) = std::fs::read(ws.join("Cargo.lock")) {
        if !krate.join("Cargo.lock").exists() {
            std::fs::write(krate.join("Cargo.lock"), lock).unwrap();
        }
    }

    let mut lib = String::from(
        "//! Generated by river-codegen's types_compile test.\n#![deny(warnings)]\n#![allow(clippy::all)]\n\n",
    );
    for case in cases() {
        let schema = parse_schema(&case.schema.to_string()).unwrap();
        let types = generate_types(&schema).unwrap_or_else(|e| panic!("{}: {e}", case.module));
        for name in case.names {
            assert!(
                types.type_names.iter().any(|n| n == name),
                "{}: no type `{name}` in {:?}",
                case.module,
                types.type_names
            );
        }
        writeln!(
            lib,
            "pub mod {} {{\n{}\n}}\n",
            case.module,
            render_module(case.module, &types)
        )
        .unwrap();
        writeln!(
            lib,
            "#[cfg(test)]\nmod {}_checks {{\n#[allow(unused_imports)]\nuse super::{}::types::*;\n#[allow(unused_imports)]\nuse ::river_runtime::__private::serde_json as json;\n{}\n}}\n",
            case.module, case.module, case.checks
        )
        .unwrap();
    }
    for (module, json) in corpus() {
        let schema = parse_schema(&json).unwrap();
        let types = generate_types(&schema).unwrap_or_else(|e| panic!("{module}: {e}"));
        writeln!(
            lib,
            "pub mod {module} {{\n{}\n}}\n",
            render_module(&module, &types)
        )
        .unwrap();
    }
    let lib_path = krate.join("src/lib.rs");
    if std::fs::read_to_string(&lib_path).ok().as_deref() != Some(lib.as_str()) {
        std::fs::write(&lib_path, &lib).unwrap();
    }

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let out = Command::new(cargo)
        .args(["test", "--offline", "--quiet", "--manifest-path"])
        .arg(krate.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", base.join("target"))
        .env_remove("RUSTFLAGS")
        .output()
        .expect("run cargo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the check crate failed ({}):\n{stdout}\n{stderr}",
        lib_path.display()
    );
    assert!(stdout.contains("test result: ok"), "{stdout}");
}
