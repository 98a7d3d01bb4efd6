//! Replays `fixtures/validation/typebox-cases.json`: (schema, value, valid?) triples
//! recorded by running TypeBox `Value.Check` (the version the reference uses; see
//! `scripts/typebox-cases/README.md` for how they are recorded) against
//! `river_runtime::validate::Validator`. Every case must agree; for invalid values
//! the River error paths must agree too.

use std::path::Path;

use river_runtime::validate::Validator;
use river_runtime::{BigInt, Bytes, Date, Value};
use serde_json::Value as Json;

/// Converts a recorded value; `None` for what the wire cannot carry (`undefined`, an
/// invalid Date).
fn to_value(json: &Json) -> Option<Value> {
    Some(match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Value::Int(i),
            (None, Some(u), _) => Value::UInt(u),
            (_, _, Some(f)) => Value::Float(f),
            _ => return None,
        },
        Json::String(s) => Value::String(s.clone()),
        Json::Array(items) => Value::Array(items.iter().map(to_value).collect::<Option<_>>()?),
        Json::Object(map) => {
            if map.len() == 1 {
                let (k, v) = map.iter().next()?;
                match k.as_str() {
                    "$bytes" => {
                        use base64::Engine as _;
                        let bytes = base64::engine::general_purpose::STANDARD
                            .decode(v.as_str()?)
                            .ok()?;
                        return Some(Value::Bytes(Bytes::from(bytes)));
                    }
                    "$bigint" => return Some(Value::BigInt(v.as_str()?.parse::<BigInt>().ok()?)),
                    "$date" => return Some(Value::Date(Date::from_millis(v.as_f64()? as i64))),
                    "$undefined" => return None,
                    _ => {}
                }
            }
            Value::Object(
                map.iter()
                    .map(|(k, v)| Some((k.clone(), to_value(v)?)))
                    .collect::<Option<_>>()?,
            )
        }
    })
}

#[test]
fn validators_agree_with_typebox_value_check() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/validation/typebox-cases.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc: Json = serde_json::from_str(&text).expect("corpus is JSON");
    let cases = doc["cases"].as_array().expect("cases");
    let (mut checked, mut skipped, mut walked_cases) = (0, 0, 0);
    let mut disagreements = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap_or("?");
        if case.get("serializeThrows").and_then(Json::as_bool) == Some(true) {
            skipped += 1;
            continue;
        }
        let Some(value) = to_value(&case["value"]) else {
            skipped += 1;
            continue;
        };
        let validator = match Validator::compile(&case["schema"]) {
            Ok(v) => v,
            Err(e) => {
                disagreements.push(format!("{name}: schema does not compile: {e}"));
                continue;
            }
        };
        checked += 1;
        let expected = case["valid"].as_bool().expect("valid");
        // The same answer from the payload walker, over both codecs, when it decides.
        for codec in [river_runtime::Codec::Json, river_runtime::Codec::Msgpack] {
            let Ok(payload) = codec.encode(&value) else {
                continue; // e.g. a Date over JSON
            };
            if let Some(walked) = validator.check_encoded(codec, &payload) {
                walked_cases += 1;
                if walked != expected {
                    disagreements.push(format!(
                        "{name}: TypeBox says {expected}, the {codec:?} payload walker says {walked}"
                    ));
                }
            }
        }
        let got = validator.validate(&value);
        if got.is_ok() != expected {
            disagreements.push(format!(
                "{name}: TypeBox says {expected}, we say {:?} for {} against {}",
                got.as_ref().err().map(ToString::to_string),
                case["value"],
                case["schema"]
            ));
            continue;
        }
        if let (Err(errors), Some(want)) = (got, case["errors"].as_array()) {
            // The first reported path must be one TypeBox reports.
            let want_paths: Vec<&str> = want.iter().filter_map(|e| e["path"].as_str()).collect();
            if let Some(first) = errors.first.first() {
                if !want_paths.is_empty() && !want_paths.contains(&first.path.as_str()) {
                    disagreements.push(format!(
                        "{name}: first error at {:?}, TypeBox reports {want_paths:?}",
                        first.path
                    ));
                }
            }
        }
    }
    eprintln!(
        "{checked} cases checked ({walked_cases} payloads decided by the walker), {skipped} skipped (undefined, invalid Date, unserializable schema)"
    );
    assert!(
        walked_cases >= 500,
        "the walker decided only {walked_cases} payloads"
    );
    assert!(checked >= 150, "only {checked} cases checked");
    assert!(
        disagreements.is_empty(),
        "{} disagreements with TypeBox:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}
