//! Replays the reference client's frames (c2s) of every conformance transcript against the
//! Rust server and checks that it answers as the reference server did (s2c).
//!
//! Compared per server frame: `from`, `to`, stream id (except handshake responses, whose
//! stream id is random), control flags, seq, the absence of open-only fields, and the
//! payload as a `river_runtime::Value`. Two relaxations, both timing or wording:
//! - `ack` must equal the recorded one, or (when the server answered before reading
//!   client frames that the reference had already read) lie between the previous ack and
//!   the number of client frames sent so far;
//! - `INVALID_REQUEST` validation entries are compared by path and count, not by message
//!   text (TypeBox's wording is not reproduced).
//!
//! Heartbeats are filtered out (the server runs with a long interval) except in the
//! `heartbeat` family, which runs with a 100 ms interval and checks them.

mod server_support;
mod shared_support;

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use river_runtime::message::TransportMessage;
use river_runtime::{Codec, Value};
use server_support::{options, start, Peer, Read};

struct Line {
    c2s: bool,
    conn: u64,
    raw: Bytes,
}

fn load(dir: &str, family: &str) -> Option<Vec<Line>> {
    let what = format!("server conformance case {dir}/{family}");
    let path = shared_support::shared_file(
        &what,
        &format!("conformance/transcripts/{dir}/{family}.jsonl"),
    )?;
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            shared_support::skipped(&what, &format!("cannot read {}: {e}", path.display()));
            return None;
        }
    };
    let mut out = Vec::new();
    for l in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(l).expect("transcript line is JSON");
        let raw = base64::engine::general_purpose::STANDARD
            .decode(v["raw"].as_str().expect("raw"))
            .expect("raw is base64");
        out.push(Line {
            c2s: v["dir"] == "c2s",
            conn: v["conn"].as_u64().expect("conn"),
            raw: Bytes::from(raw),
        });
    }
    Some(out)
}

fn is_handshake(v: &Value) -> bool {
    matches!(v.get("type"), Some(Value::String(t)) if t.starts_with("HANDSHAKE_"))
}

/// Blanks the wording of INVALID_REQUEST validation entries.
fn normalize(v: &mut Value) {
    let Value::Object(m) = v else { return };
    let Some(Value::Object(p)) = m.get_mut("payload") else {
        return;
    };
    if p.get("code") != Some(&Value::String("INVALID_REQUEST".into())) {
        return;
    }
    let Some(Value::Object(ex)) = p.get_mut("extras") else {
        return;
    };
    if let Some(Value::Array(errs)) = ex.get_mut("firstValidationErrors") {
        for e in errs {
            if let Value::Object(em) = e {
                em.insert("message".into(), Value::Null);
            }
        }
    }
}

struct Replay {
    codec: Codec,
    family: String,
    sent: u64,
    last_ack: u64,
    seen: HashMap<u64, Bytes>,
    notes: Vec<String>,
}

impl Replay {
    fn decode(&self, raw: &Bytes) -> (TransportMessage, Value) {
        let m = self
            .codec
            .decode_message(raw.clone())
            .expect("frame decodes");
        let v = self
            .codec
            .decode::<Value>(&m.payload)
            .expect("payload decodes");
        (m, v)
    }

    fn compare(&mut self, idx: usize, expected: &Bytes, got: &Bytes) {
        let ctx = format!("{}/{:?} line {}", self.family, self.codec, idx + 1);
        let (e, mut ev) = self.decode(expected);
        let (g, mut gv) = self.decode(got);
        let hs = is_handshake(&ev);
        assert_eq!(g.from, e.from, "{ctx}: from");
        assert_eq!(g.to, e.to, "{ctx}: to");
        if !hs {
            assert_eq!(g.stream_id, e.stream_id, "{ctx}: streamId");
        }
        assert_eq!(g.control_flags, e.control_flags, "{ctx}: controlFlags");
        assert_eq!(g.seq, e.seq, "{ctx}: seq");
        assert_eq!(g.service_name, e.service_name, "{ctx}: serviceName");
        assert_eq!(g.procedure_name, e.procedure_name, "{ctx}: procedureName");
        assert_eq!(g.tracing, e.tracing, "{ctx}: tracing");
        if hs {
            assert_eq!((g.seq, g.ack), (0, 0), "{ctx}: handshake seq/ack");
        } else if let Some(prev) = self.seen.get(&g.seq) {
            // A retransmission must be byte-identical to the first transmission.
            assert_eq!(prev, got, "{ctx}: retransmitted frame differs");
        } else {
            if g.ack != e.ack {
                assert!(
                    g.ack <= self.sent && g.ack >= self.last_ack,
                    "{ctx}: ack {} (recorded {}, sent {}, previous {})",
                    g.ack,
                    e.ack,
                    self.sent,
                    self.last_ack
                );
                self.notes.push(format!(
                    "{ctx}: ack {} vs recorded {} (timing)",
                    g.ack, e.ack
                ));
            }
            self.last_ack = g.ack;
            self.seen.insert(g.seq, got.clone());
        }
        normalize(&mut ev);
        normalize(&mut gv);
        assert_eq!(gv, ev, "{ctx}: payload");
    }
}

async fn replay(dir: &str, family: &str) {
    let Some(lines) = load(dir, family) else {
        return;
    };
    let codec = if dir == "json" {
        Codec::Json
    } else {
        Codec::Msgpack
    };
    let mut r = Replay {
        codec,
        family: family.to_string(),
        sent: 0,
        last_ack: 0,
        seen: HashMap::new(),
        notes: Vec::new(),
    };
    // The handshake variant of the contract is used when the client sends metadata.
    let (first, first_v) = r.decode(&lines[0].raw);
    assert!(is_handshake(&first_v), "first line is a handshake");
    let with_meta = first_v.get("metadata").is_some();
    let heartbeat = family == "heartbeat";
    let opts = options(if heartbeat { 100 } else { 60_000 }, 5_000);
    let (server, contract) = start(codec, with_meta, opts).await;
    drop(first);

    if family == "rpc_ok" {
        // The recording's counter did not start at 0: start where it stood.
        let mut n = None;
        for l in &lines {
            let (m, v) = r.decode(&l.raw);
            if l.c2s && m.procedure_name.as_deref() == Some("add") {
                n = v.get("n").cloned();
            }
            if !l.c2s && !is_handshake(&v) {
                let result = v.get("payload").and_then(|p| p.get("result")).cloned();
                if let (Some(Value::Int(n)), Some(Value::Int(res))) = (n.clone(), result) {
                    contract
                        .counter
                        .store(res - n, std::sync::atomic::Ordering::SeqCst);
                } else if let (Some(Value::UInt(n)), Some(Value::UInt(res))) = (
                    n.clone(),
                    v.get("payload").and_then(|p| p.get("result")).cloned(),
                ) {
                    contract
                        .counter
                        .store(res as i64 - n as i64, std::sync::atomic::Ordering::SeqCst);
                }
                break;
            }
        }
    }

    let mut peer: Option<Peer> = None;
    let mut conn = 0;
    for (idx, line) in lines.iter().enumerate() {
        if line.conn != conn {
            if let Some(p) = peer.take() {
                drop(p); // cut the connection abruptly, as in the recording
            }
            peer = Some(Peer::connect(server.local_addr(), codec).await);
            conn = line.conn;
            r.last_ack = 0;
        }
        let Some(p) = peer.as_mut() else {
            unreachable!()
        };
        if line.c2s {
            let (m, v) = r.decode(&line.raw);
            if !is_handshake(&v) {
                r.sent = r.sent.max(m.seq + 1);
            }
            p.send_raw(line.raw.clone()).await;
            continue;
        }
        loop {
            match p.read(Duration::from_secs(3)).await {
                Read::Frame(b) => {
                    let (m, _) = r.decode(&b);
                    if m.control_flags.is_ack() && !heartbeat {
                        continue;
                    }
                    r.compare(idx, &line.raw, &b);
                    break;
                }
                other => panic!(
                    "{family}/{dir} line {}: expected a server frame, got {other:?}",
                    idx + 1
                ),
            }
        }
    }
    // The server must not say anything the reference did not (heartbeats aside).
    if !heartbeat {
        if let Some(p) = peer.as_mut() {
            loop {
                match p.read(Duration::from_millis(200)).await {
                    Read::Frame(b) => {
                        let (m, v) = r.decode(&b);
                        assert!(
                            m.control_flags.is_ack(),
                            "{family}/{dir}: unexpected extra frame {m:?} {v:?}"
                        );
                    }
                    Read::Text(t) => panic!("{family}/{dir}: unexpected text frame {t}"),
                    Read::Closed | Read::Timeout => break,
                }
            }
        }
    }
    for n in &r.notes {
        println!("note: {n}");
    }
    server.shutdown().await;
}

macro_rules! families {
    ($($name:ident),* $(,)?) => {
        mod json {
            $(
                #[tokio::test]
                async fn $name() {
                    super::replay("json", stringify!($name)).await;
                }
            )*
        }
        mod binary {
            $(
                #[tokio::test]
                async fn $name() {
                    super::replay("binary", stringify!($name)).await;
                }
            )*
        }
    };
}

families!(
    handshake,
    handshake_metadata,
    handshake_rejected,
    handshake_malformed_metadata,
    raw_handshake_version_mismatch,
    raw_rpc_minimal,
    rpc_ok,
    rpc_err,
    rpc_bytes,
    rpc_bigint,
    rpc_date,
    rpc_all_kinds,
    uncaught,
    invalid_request,
    unknown_procedure,
    stream_client_close,
    stream_with_init,
    stream_server_close,
    stream_uncaught_midway,
    stream_service_err_midway,
    stream_server_cancel,
    stream_invalid_request_data,
    upload,
    upload_err,
    subscription,
    subscription_client_cancel,
    cancel_rpc,
    cancel_stream,
    cancel_upload,
    cancel_subscription,
    heartbeat,
    reconnect_transparent,
    rehandshake,
);
