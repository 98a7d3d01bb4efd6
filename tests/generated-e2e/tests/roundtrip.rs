//! The payloads of the reference implementation's transcripts decode into the types
//! generated from `schemas/interop.json` and re-encode to the same value, in both codecs.
//!
//! For every frame of a call (init, requests, results): decode the raw frame with the
//! runtime codec, decode the payload into the generated type (results go through
//! `Codec::decode_result` first, then into the output or error type), encode it again,
//! and check that the re-encoded payload decodes back equal, encodes to the same bytes
//! again, and carries the same dynamic value as the original payload. River's reserved
//! errors (`CANCEL`, `UNCAUGHT_ERROR`, …) are the runtime's, not the generated types', and
//! are skipped; so are handshakes, heartbeats and control frames.

use std::collections::HashMap;
use std::fmt::Debug;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use river_generated_e2e::interop::types;
use river_runtime::__private::serde::de::DeserializeOwned;
use river_runtime::__private::serde::Serialize;
use river_runtime::message::Payload;
use river_runtime::{Codec, Value};

#[path = "../../../river-runtime/tests/shared_support/mod.rs"]
mod shared_support;

/// Which part of a call a payload is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    Init,
    Input,
    Output,
    Error,
}

/// Equality of dynamic values up to what the codecs are allowed to change: an integral
/// float and the equal integer, and an absent key versus `null`.
fn same(a: &Value, b: &Value, path: &str) -> Result<(), String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                match y.get(k) {
                    Some(vb) => same(va, vb, &format!("{path}/{k}"))?,
                    None if va.is_null() => {}
                    None => return Err(format!("{path}/{k}: missing after re-encoding")),
                }
            }
            for (k, vb) in y {
                if !x.contains_key(k) && !vb.is_null() {
                    return Err(format!("{path}/{k}: added by re-encoding ({vb:?})"));
                }
            }
            Ok(())
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                same(va, vb, &format!("{path}/{i}"))?;
            }
            Ok(())
        }
        (Value::Int(i), Value::Float(f)) | (Value::Float(f), Value::Int(i)) if *i as f64 == *f => {
            Ok(())
        }
        (Value::UInt(i), Value::Float(f)) | (Value::Float(f), Value::UInt(i))
            if *i as f64 == *f =>
        {
            Ok(())
        }
        _ if a == b => Ok(()),
        _ => Err(format!("{path}: {a:?} became {b:?}")),
    }
}

/// Decodes `payload` as `T`, re-encodes it and checks the round trip. Returns whether
/// the re-encoded bytes are identical to the original ones.
fn roundtrip<T>(codec: Codec, payload: &Payload) -> Result<bool, String>
where
    T: DeserializeOwned + Serialize + PartialEq + Debug,
{
    let value: T = codec
        .decode(payload)
        .map_err(|e| format!("decoding into {}: {e}", std::any::type_name::<T>()))?;
    let encoded = codec
        .encode(&value)
        .map_err(|e| format!("re-encoding: {e}"))?;
    let again: T = codec
        .decode(&encoded)
        .map_err(|e| format!("decoding the re-encoded payload: {e}"))?;
    if again != value {
        return Err(format!("decoded back different: {value:?} vs {again:?}"));
    }
    let encoded_again = codec
        .encode(&again)
        .map_err(|e| format!("re-encoding: {e}"))?;
    if encoded_again.as_bytes() != encoded.as_bytes() {
        return Err("encoding is not stable".to_string());
    }
    let original: Value = codec
        .decode(payload)
        .map_err(|e| format!("original as Value: {e}"))?;
    let reencoded: Value = codec
        .decode(&encoded)
        .map_err(|e| format!("re-encoded as Value: {e}"))?;
    same(&original, &reencoded, "")?;
    Ok(encoded.as_bytes() == payload.as_bytes())
}

macro_rules! procedures {
    ($( $svc:literal, $proc:literal => $init:ident, $input:ty, $output:ident, $error:ident; )*) => {
        /// Round-trips one payload of `svc.proc` through the generated type for `part`.
        fn check(svc: &str, proc: &str, part: Part, codec: Codec, payload: &Payload) -> Result<bool, String> {
            match (svc, proc) {
                $(
                    ($svc, $proc) => match part {
                        Part::Init => roundtrip::<types::$init>(codec, payload),
                        Part::Input => roundtrip::<$input>(codec, payload),
                        Part::Output => roundtrip::<types::$output>(codec, payload),
                        Part::Error => roundtrip::<types::$error>(codec, payload),
                    },
                )*
                _ => Err(format!("{svc}.{proc} is not in schemas/interop.json")),
            }
        }
    };
}

procedures! {
    "test", "add" => TestAddInit, Value, TestAddOutput, TestAddError;
    "test", "echoAll" => TestEchoAllInit, Value, TestEchoAllOutput, TestEchoAllError;
    "test", "echoBytes" => TestEchoBytesInit, Value, TestEchoBytesOutput, TestEchoBytesError;
    "test", "echoString" => TestEchoStringInit, Value, TestEchoStringOutput, TestEchoStringError;
    "test", "echoBigInt" => TestEchoBigIntInit, Value, TestEchoBigIntOutput, TestEchoBigIntError;
    "test", "echoDate" => TestEchoDateInit, Value, TestEchoDateOutput, TestEchoDateError;
    "test", "checkRange" => TestCheckRangeInit, Value, TestCheckRangeOutput, TestCheckRangeError;
    "test", "throwError" => TestThrowErrorInit, Value, TestThrowErrorOutput, TestThrowErrorError;
    "test", "pushOrdered" => TestPushOrderedInit, Value, TestPushOrderedOutput, TestPushOrderedError;
    "test", "getRecord" => TestGetRecordInit, Value, TestGetRecordOutput, TestGetRecordError;
    "streams", "echo" => StreamsEchoInit, types::StreamsEchoInput, StreamsEchoOutput, StreamsEchoError;
    "streams", "echoWithPrefix" => StreamsEchoWithPrefixInit, types::StreamsEchoWithPrefixInput, StreamsEchoWithPrefixOutput, StreamsEchoWithPrefixError;
    "streams", "serverClosesFirst" => StreamsServerClosesFirstInit, types::StreamsServerClosesFirstInput, StreamsServerClosesFirstOutput, StreamsServerClosesFirstError;
    "streams", "throwsMidway" => StreamsThrowsMidwayInit, types::StreamsThrowsMidwayInput, StreamsThrowsMidwayOutput, StreamsThrowsMidwayError;
    "streams", "errMidway" => StreamsErrMidwayInit, types::StreamsErrMidwayInput, StreamsErrMidwayOutput, StreamsErrMidwayError;
    "streams", "serverCancel" => StreamsServerCancelInit, types::StreamsServerCancelInput, StreamsServerCancelOutput, StreamsServerCancelError;
    "uploads", "sum" => UploadsSumInit, types::UploadsSumInput, UploadsSumOutput, UploadsSumError;
    "uploads", "sumWithLimit" => UploadsSumWithLimitInit, types::UploadsSumWithLimitInput, UploadsSumWithLimitOutput, UploadsSumWithLimitError;
    "subs", "ticker" => SubsTickerInit, Value, SubsTickerOutput, SubsTickerError;
    "subs", "watch" => SubsWatchInit, Value, SubsWatchOutput, SubsWatchError;
    "cancel", "blockRpc" => CancelBlockRpcInit, Value, CancelBlockRpcOutput, CancelBlockRpcError;
    "cancel", "blockStream" => CancelBlockStreamInit, types::CancelBlockStreamInput, CancelBlockStreamOutput, CancelBlockStreamError;
    "cancel", "blockUpload" => CancelBlockUploadInit, types::CancelBlockUploadInput, CancelBlockUploadOutput, CancelBlockUploadError;
    "cancel", "blockSubscription" => CancelBlockSubscriptionInit, Value, CancelBlockSubscriptionOutput, CancelBlockSubscriptionError;
    "meta", "whoami" => MetaWhoamiInit, Value, MetaWhoamiOutput, MetaWhoamiError;
    "meta", "rehandshake" => MetaRehandshakeInit, Value, MetaRehandshakeOutput, MetaRehandshakeError;
}

/// The transcript families this test reads.
const FAMILIES: &[&str] = &[
    "rpc_all_kinds",
    "rpc_bytes",
    "rpc_bigint",
    "rpc_date",
    "rpc_err",
    "stream_",
    "upload",
    "subscription",
];

fn transcripts(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            name.ends_with(".jsonl") && FAMILIES.iter().any(|f| name.starts_with(f))
        })
        .collect();
    files.sort();
    files
}

/// Counts of what one codec's transcripts did.
#[derive(Default, Debug)]
struct Tally {
    checked: usize,
    byte_identical: usize,
    skipped: usize,
    failures: Vec<String>,
}

fn run_codec(codec: Codec, dir: &Path, tally: &mut Tally) {
    let files = transcripts(dir);
    assert!(!files.is_empty(), "no transcripts in {}", dir.display());
    for file in files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(&file).expect("read transcript");
        // stream id → (service, procedure)
        let mut streams: HashMap<String, (String, String)> = HashMap::new();
        for (n, line) in text.lines().enumerate() {
            let where_ = format!("{}/{name}:{}", codec.name(), n + 1);
            let record: serde_json::Value = serde_json::from_str(line).expect("transcript line");
            let (Some(dir), Some(raw)) = (record["dir"].as_str(), record["raw"].as_str()) else {
                panic!("{where_}: no dir/raw");
            };
            let frame = base64::engine::general_purpose::STANDARD
                .decode(raw)
                .expect("raw is base64");
            let msg = match codec.decode_message(bytes::Bytes::from(frame)) {
                Ok(msg) => msg,
                Err(e) => {
                    tally
                        .failures
                        .push(format!("{where_}: frame does not decode: {e}"));
                    continue;
                }
            };
            let flags = msg.control_flags;
            if flags.is_ack() {
                continue;
            }
            let part = if dir == "c2s" {
                if let (Some(svc), Some(proc)) = (&msg.service_name, &msg.procedure_name) {
                    if flags.is_open() {
                        streams.insert(msg.stream_id.clone(), (svc.clone(), proc.clone()));
                        Part::Init
                    } else {
                        Part::Input
                    }
                } else if flags.is_closed() || flags.is_cancel() {
                    continue; // CLOSE or CANCEL control frame
                } else {
                    Part::Input
                }
            } else {
                Part::Output // refined below
            };
            let Some((svc, proc)) = streams.get(&msg.stream_id).cloned() else {
                continue; // handshake or another non-procedure frame
            };
            let (part, payload) = if part == Part::Output {
                match codec.decode_result(&msg.payload) {
                    Ok((true, inner)) => (Part::Output, inner),
                    Ok((false, inner)) => {
                        let code = codec
                            .decode::<Value>(&inner)
                            .ok()
                            .and_then(|v| {
                                v.get("code").and_then(|c| c.as_str().map(str::to_string))
                            })
                            .unwrap_or_default();
                        if river_runtime::ProtocolErrorCode::from_code(&code).is_some() {
                            tally.skipped += 1;
                            continue; // a reserved protocol error: the runtime's type
                        }
                        (Part::Error, inner)
                    }
                    Err(_) => continue, // a CLOSE control payload
                }
            } else {
                (part, msg.payload.clone())
            };
            if codec == Codec::Json && svc == "test" && proc == "echoDate" && part == Part::Init {
                println!("{where_}: skipped: a Date does not travel over JSON (the reference sends {{}})");
                tally.skipped += 1;
                continue;
            }
            if name.starts_with("stream_invalid_request_data") && part == Part::Input {
                // Sent on purpose with the wrong shape; it must NOT decode.
                if check(&svc, &proc, part, codec, &payload).is_ok() {
                    tally
                        .failures
                        .push(format!("{where_}: invalid request data decoded"));
                }
                tally.skipped += 1;
                continue;
            }
            match check(&svc, &proc, part, codec, &payload) {
                Ok(identical) => {
                    tally.checked += 1;
                    tally.byte_identical += usize::from(identical);
                }
                Err(e) => tally
                    .failures
                    .push(format!("{where_} ({svc}.{proc} {part:?}): {e}")),
            }
        }
    }
}

fn transcript_dir(codec_dir: &str) -> Option<PathBuf> {
    shared_support::shared_file(
        &format!("generated-code round trips of the {codec_dir} transcripts"),
        &format!("conformance/transcripts/{codec_dir}"),
    )
}

fn run(codec: Codec, codec_dir: &str) {
    let Some(dir) = transcript_dir(codec_dir) else {
        return;
    };
    let mut tally = Tally::default();
    run_codec(codec, &dir, &mut tally);
    println!(
        "{}: {} payloads round-tripped ({} byte-identical to the reference), {} skipped",
        codec.name(),
        tally.checked,
        tally.byte_identical,
        tally.skipped
    );
    assert!(
        tally.failures.is_empty(),
        "round-trip failures:\n{}",
        tally.failures.join("\n")
    );
    assert!(tally.checked > 20, "too few payloads checked: {tally:?}");
}

#[test]
fn json_transcript_payloads_roundtrip_through_generated_types() {
    run(Codec::Json, "json");
}

#[test]
fn msgpack_transcript_payloads_roundtrip_through_generated_types() {
    run(Codec::Msgpack, "binary");
}
