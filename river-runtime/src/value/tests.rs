use super::*;
use serde::{Deserialize, Serialize};

fn mp<T: Serialize + ?Sized>(v: &T) -> Vec<u8> {
    let mut buf = Vec::new();
    v.serialize(&mut rmp_serde::Serializer::new(&mut buf).with_struct_map())
        .unwrap();
    buf
}

fn from_mp<T: serde::de::DeserializeOwned>(b: &[u8]) -> Result<T, rmp_serde::decode::Error> {
    rmp_serde::from_slice(b)
}

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn human_readable_flags() {
    struct Probe;
    impl Serialize for Probe {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let hr = s.is_human_readable();
            s.serialize_bool(hr)
        }
    }
    assert_eq!(serde_json::to_string(&Probe).unwrap(), "true");
    assert_eq!(mp(&Probe), vec![0xc2]);
    assert_eq!(Value::from_serialize(&Probe).unwrap(), Value::Bool(false));
}

#[test]
fn bytes_wire_forms() {
    let b = Bytes::from(vec![1, 2, 3]);
    assert_eq!(serde_json::to_string(&b).unwrap(), r#"{"$t":"AQID"}"#);
    assert_eq!(mp(&b), hex("c4 03 01 02 03"));
    assert_eq!(
        serde_json::from_str::<Bytes>(r#"{"$t":"AQID"}"#).unwrap(),
        b
    );
    assert_eq!(
        serde_json::from_str::<Bytes>(r#"{"x":1,"$t":"AQI"}"#)
            .unwrap()
            .0,
        vec![1, 2]
    );
    assert_eq!(
        serde_json::from_str::<Bytes>(r#"{"$t":null}"#).unwrap().0,
        vec![0x9e, 0xe9, 0x65]
    );
    assert!(serde_json::from_str::<Bytes>(r#"{"$t":"-_8"}"#).is_err());
    assert!(serde_json::from_str::<Bytes>(r#"{"$b":"1"}"#).is_err());
    assert!(serde_json::from_str::<Bytes>(r#""AQID""#).is_err());
    assert!(serde_json::from_str::<Bytes>(r#"[1,2,3]"#).is_err());
    assert_eq!(from_mp::<Bytes>(&hex("c4 03 01 02 03")).unwrap(), b);
    assert!(
        from_mp::<Bytes>(&hex("a3 01 02 03")).is_err(),
        "str is not bytes"
    );
    assert!(
        from_mp::<Bytes>(&hex("93 01 02 03")).is_err(),
        "array is not bytes"
    );
}

#[test]
fn bigint_wire_forms() {
    let small = BigInt::from(5);
    let big: BigInt = "12345678901234567890".parse().unwrap();
    assert_eq!(serde_json::to_string(&small).unwrap(), r#"{"$b":"5"}"#);
    assert_eq!(
        serde_json::to_string(&big).unwrap(),
        r#"{"$b":"12345678901234567890"}"#
    );
    assert_eq!(mp(&small), hex("d4 00 05"));
    let mut expected = hex("c7 15 00 b4");
    expected.extend_from_slice(b"12345678901234567890");
    assert_eq!(mp(&big), expected);
    assert_eq!(from_mp::<BigInt>(&expected).unwrap(), big);
    assert_eq!(from_mp::<BigInt>(&hex("d4 00 05")).unwrap(), small);
    // Any int width in the body.
    assert_eq!(from_mp::<BigInt>(&hex("d5 00 cc 05")).unwrap(), small);
    assert_eq!(
        from_mp::<BigInt>(&hex("c7 09 00 d3 00 00 00 00 00 00 00 05")).unwrap(),
        small
    );
    assert!(from_mp::<BigInt>(&hex("d4 00 c0")).is_err(), "nil body");
    assert!(
        from_mp::<BigInt>(&hex("d4 01 05")).is_err(),
        "other ext type"
    );
    assert!(from_mp::<BigInt>(&hex("05")).is_err(), "plain int");
    assert!(
        from_mp::<BigInt>(&hex("d6 ff 00 00 00 01")).is_err(),
        "a Date"
    );
    assert_eq!(
        serde_json::from_str::<BigInt>(r#"{"$b":"-7"}"#).unwrap(),
        BigInt::from(-7)
    );
    assert_eq!(
        serde_json::from_str::<BigInt>(r#"{"$b":7}"#).unwrap(),
        BigInt::from(7)
    );
    assert!(serde_json::from_str::<BigInt>(r#"{"$b":"1.5"}"#).is_err());
    assert!(serde_json::from_str::<BigInt>(r#"{"$b":null}"#).is_err());
    assert!(serde_json::from_str::<BigInt>(r#"{"$b":"1","$t":"AQID"}"#).is_err());
    assert!(serde_json::from_str::<BigInt>("5").is_err());
}

#[test]
fn date_wire_forms() {
    let d = Date::from_millis(1000);
    assert_eq!(mp(&d), hex("d6 ff 00 00 00 01"));
    assert_eq!(from_mp::<Date>(&hex("d6 ff 00 00 00 01")).unwrap(), d);
    let frac = Date::from_millis(1_709_210_096_789);
    let enc = mp(&frac);
    assert_eq!(&enc[..2], &[0xd7, 0xff]);
    assert_eq!(from_mp::<Date>(&enc).unwrap(), frac);
    let before = Date::from_millis(-1500);
    let enc = mp(&before);
    assert_eq!(&enc[..3], &[0xc7, 0x0c, 0xff]);
    assert_eq!(from_mp::<Date>(&enc).unwrap(), before);
    let err = serde_json::to_string(&d).unwrap_err().to_string();
    assert!(
        err.contains("Date cannot travel over the JSON codec"),
        "{err}"
    );
    let err = serde_json::from_str::<Date>("{}").unwrap_err().to_string();
    assert!(
        err.contains("Date cannot travel over the JSON codec"),
        "{err}"
    );
    assert!(from_mp::<Date>(&hex("d4 00 05")).is_err(), "a bigint");
    assert!(
        from_mp::<Date>(&hex("d5 ff 00 01")).is_err(),
        "2-byte timestamp"
    );
}

#[test]
fn value_json_reviver() {
    let v: Value = serde_json::from_str(
        r#"{"b":{"u":{"$t":"AQID"},"big":{"$b":"12345678901234567890"},"d":{}},"both":{"$b":"1","$t":""},"n":null,"f":1.5,"i":-3,"u":18446744073709551615}"#,
    )
    .unwrap();
    assert_eq!(v["b"]["u"], Value::Bytes(Bytes(vec![1, 2, 3])));
    assert_eq!(
        v["b"]["big"].as_bigint().unwrap().to_string(),
        "12345678901234567890"
    );
    assert_eq!(v["b"]["d"], Value::Object(IndexMap::new()));
    assert_eq!(v["both"], Value::Bytes(Bytes(vec![])), "$t wins over $b");
    assert_eq!(v["n"], Value::Null);
    assert_eq!(v["f"], Value::Float(1.5));
    assert_eq!(v["i"], Value::Int(-3));
    assert_eq!(v["u"], Value::UInt(u64::MAX));
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["b", "both", "n", "f", "i", "u"],
        "insertion order kept"
    );
    assert!(serde_json::from_str::<Value>(r#"{"x":{"$t":"@@"}}"#).is_err());
    assert!(serde_json::from_str::<Value>(r#"{"x":{"$b":"nope"}}"#).is_err());
    // Round trip through JSON.
    let text = serde_json::to_string(&v).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), v);
}

#[test]
fn value_msgpack_forms() {
    let mut m = IndexMap::new();
    m.insert("u".to_string(), Value::Bytes(Bytes(vec![1, 2, 3])));
    m.insert("big".to_string(), Value::BigInt(BigInt::from(5)));
    m.insert("d".to_string(), Value::Date(Date::from_millis(1000)));
    m.insert("f".to_string(), Value::Float(1.0));
    m.insert("g".to_string(), Value::Float(1.5));
    m.insert("h".to_string(), Value::Float(1e20));
    let v = Value::Object(m);
    let enc = mp(&v);
    assert_eq!(
        enc,
        hex("86 a1 75 c4 03 01 02 03 a3 62 6967 d4 00 05 a1 64 d6 ff 00000001 a1 66 01 a1 67 cb 3ff8000000000000 a1 68 cb 4415af1d78b58c40")
    );
    let back: Value = from_mp(&enc).unwrap();
    assert_eq!(back["u"], v["u"]);
    assert_eq!(back["big"], v["big"]);
    assert_eq!(back["d"], v["d"]);
    assert_eq!(back["f"], Value::Int(1));
    // In msgpack a map with "$t" is just a map.
    let plain: Value = from_mp(&hex("81 a2 24 74 a1 78")).unwrap();
    assert_eq!(plain["$t"], Value::from("x"));
    // Unknown extension types are errors.
    assert!(from_mp::<Value>(&hex("d4 05 00")).is_err());
    // Integer keys become strings.
    let v: Value = from_mp(&hex("81 01 c3")).unwrap();
    assert_eq!(v["1"], Value::Bool(true));
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Sample {
    data: Bytes,
    small: BigInt,
    big: BigInt,
    when: Date,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    maybe: Option<String>,
    ratio: f64,
    kind: Kind,
    list: Vec<i32>,
    nested: Option<Box<Sample>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Circle,
    Rect,
}

fn sample() -> Sample {
    Sample {
        data: Bytes(vec![0, 255, 7]),
        small: BigInt::from(-42),
        big: "340282366920938463463374607431768211457".parse().unwrap(),
        when: Date::from_millis(1_709_210_096_789),
        maybe: None,
        ratio: 2.0,
        kind: Kind::Rect,
        list: vec![1, -2, 3],
        nested: Some(Box::new(Sample {
            data: Bytes(vec![]),
            small: BigInt::from(0),
            big: BigInt::from(u64::MAX),
            when: Date::from_parts(-5, 1).unwrap(),
            maybe: Some("x".into()),
            ratio: 0.25,
            kind: Kind::Circle,
            list: vec![],
            nested: None,
        })),
    }
}

#[test]
fn value_round_trips_typed_structs() {
    let s = sample();
    let v = Value::from_serialize(&s).unwrap();
    assert_eq!(v["data"], Value::Bytes(Bytes(vec![0, 255, 7])));
    assert_eq!(v["kind"], Value::from("rect"));
    assert!(v.get("maybe").is_none());
    assert_eq!(
        v["nested"]["when"],
        Value::Date(Date::from_parts(-5, 1).unwrap())
    );
    let back: Sample = v.deserialize_into().unwrap();
    assert_eq!(back, s);
    // Value -> Value keeps everything.
    let again: Value = v.deserialize_into().unwrap();
    assert_eq!(again, v);
    // And through msgpack bytes.
    let from_bytes: Value = from_mp(&mp(&s)).unwrap();
    assert_eq!(from_bytes.deserialize_into::<Sample>().unwrap(), s);
}

#[test]
fn deserialize_into_accepts_integral_floats_for_ints() {
    #[derive(Deserialize, Debug, PartialEq)]
    struct N {
        a: i32,
        b: u64,
        c: f64,
    }
    let v: Value = [
        ("a", Value::Float(3.0)),
        ("b", Value::Float(7.0)),
        ("c", Value::Int(2)),
    ]
    .into_iter()
    .collect();
    assert_eq!(v.deserialize_into::<N>().unwrap(), N { a: 3, b: 7, c: 2.0 });
    let bad: Value = [
        ("a", Value::Float(3.5)),
        ("b", Value::Int(1)),
        ("c", Value::Int(2)),
    ]
    .into_iter()
    .collect();
    assert!(bad.deserialize_into::<N>().is_err());
}

#[test]
fn accessors() {
    let v: Value = [
        ("s", Value::from("x")),
        ("i", Value::from(5u64)),
        ("f", Value::from(2.5)),
    ]
    .into_iter()
    .collect();
    assert_eq!(v.get("s").and_then(Value::as_str), Some("x"));
    assert_eq!(v.get("i").and_then(Value::as_i64), Some(5));
    assert_eq!(v.get("i").and_then(Value::as_u64), Some(5));
    assert_eq!(v.get("f").and_then(Value::as_f64), Some(2.5));
    assert_eq!(v.get("f").and_then(Value::as_i64), None);
    assert!(v["missing"].is_null());
    assert_eq!(Value::from(u64::MAX), Value::UInt(u64::MAX));
    assert_eq!(Value::from(Some(1i32)), Value::Int(1));
    assert_eq!(Value::from(None::<i32>), Value::Null);
}
