//! A scripted WebSocket peer that plays the reference server's frames from a conformance
//! transcript against the Rust client, and checks that the client sends the frames the
//! reference client sent (flags, seq/ack, stream grouping, names, payloads).

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use futures::{SinkExt, StreamExt};
use river_runtime::message::TransportMessage;
use river_runtime::{Codec, Value};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

/// Which way a frame went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// Client to server.
    C2s,
    /// Server to client.
    S2c,
}

/// One recorded frame.
#[derive(Clone, Debug)]
pub struct Frame {
    pub dir: Dir,
    pub conn: u64,
    pub t: f64,
    pub msg: serde_json::Value,
    pub raw: Vec<u8>,
}

impl Frame {
    pub fn flags(&self) -> u64 {
        self.msg["controlFlags"].as_u64().unwrap_or(0)
    }
    pub fn stream_id(&self) -> &str {
        self.msg["streamId"].as_str().unwrap_or("")
    }
    pub fn payload_type(&self) -> Option<&str> {
        self.msg["payload"]["type"].as_str()
    }
    pub fn is_handshake(&self) -> bool {
        matches!(
            self.payload_type(),
            Some("HANDSHAKE_REQ") | Some("HANDSHAKE_RESP")
        )
    }
}

/// Transcript directory name of a codec.
pub fn codec_dir(codec: Codec) -> &'static str {
    if codec == Codec::Json {
        "json"
    } else {
        "binary"
    }
}

/// Loads a transcript family for a codec; `None` (reported by `shared_support`) when
/// `../shared` or the transcript is missing.
pub fn load(codec: Codec, family: &str) -> Option<Vec<Frame>> {
    let what = format!("client conformance case {}/{family}", codec_dir(codec));
    let path = crate::shared_support::shared_file(
        &what,
        &format!(
            "conformance/transcripts/{}/{family}.jsonl",
            codec_dir(codec)
        ),
    )?;
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            crate::shared_support::skipped(&what, &format!("cannot read {}: {e}", path.display()));
            return None;
        }
    };
    let mut frames = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).expect("transcript line is JSON");
        let raw = base64::engine::general_purpose::STANDARD
            .decode(v["raw"].as_str().expect("raw"))
            .expect("raw is base64");
        frames.push(Frame {
            dir: if v["dir"] == "c2s" {
                Dir::C2s
            } else {
                Dir::S2c
            },
            conn: v["conn"].as_u64().expect("conn"),
            t: v["t"].as_f64().unwrap_or(0.0),
            msg: v["msg"].clone(),
            raw,
        });
    }
    Some(frames)
}

/// Transcript id → the id the Rust client actually used (stream ids, session ids).
#[derive(Default, Debug)]
pub struct Ids {
    pub map: HashMap<String, String>,
}

impl Ids {
    /// Records `transcript → actual`, failing on an inconsistent mapping.
    pub fn bind(&mut self, transcript: &str, actual: &str) -> Result<(), String> {
        if transcript.len() != actual.len() {
            return Err(format!(
                "id {transcript:?} and {actual:?} differ in length; cannot rewrite"
            ));
        }
        match self.map.get(transcript) {
            Some(a) if a == actual => Ok(()),
            Some(a) => Err(format!(
                "transcript id {transcript} maps to {a} but the client now used {actual}"
            )),
            None => {
                if self.map.values().any(|a| a == actual) {
                    return Err(format!(
                        "the client reused id {actual} for a different transcript id {transcript}"
                    ));
                }
                self.map.insert(transcript.to_string(), actual.to_string());
                Ok(())
            }
        }
    }

    /// Rewrites transcript ids in an encoded frame (ids have equal lengths, so this is
    /// safe for msgpack too).
    pub fn rewrite(&self, raw: &[u8]) -> Vec<u8> {
        let mut out = raw.to_vec();
        for (t, a) in &self.map {
            replace_all(&mut out, t.as_bytes(), a.as_bytes());
        }
        out
    }
}

fn replace_all(buf: &mut [u8], from: &[u8], to: &[u8]) {
    if from.is_empty() || from.len() != to.len() || buf.len() < from.len() {
        return;
    }
    let mut i = 0;
    while i + from.len() <= buf.len() {
        if &buf[i..i + from.len()] == from {
            buf[i..i + from.len()].copy_from_slice(to);
            i += from.len();
        } else {
            i += 1;
        }
    }
}

/// How the peer plays a transcript.
#[derive(Clone, Debug)]
pub struct PeerOptions {
    /// Before each s2c frame, sleep `(t − previous t) × time_scale` ms.
    pub time_scale: f64,
    /// After the script, how long to watch for unexpected client frames.
    pub silence: Duration,
    /// After the script, also fail if the client opens another connection.
    pub expect_no_reconnect: bool,
}

impl Default for PeerOptions {
    fn default() -> Self {
        PeerOptions {
            time_scale: 0.0,
            silence: Duration::from_millis(250),
            expect_no_reconnect: false,
        }
    }
}

/// A running scripted peer.
pub struct Peer {
    pub url: String,
    pub ids: Arc<Mutex<Ids>>,
    pub task: tokio::task::JoinHandle<Result<(), String>>,
}

/// Starts a peer on 127.0.0.1:0 that plays `frames`.
pub async fn start_peer(codec: Codec, frames: Vec<Frame>, opts: PeerOptions) -> Peer {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("ws://{}", listener.local_addr().expect("addr"));
    let ids = Arc::new(Mutex::new(Ids::default()));
    let task = tokio::spawn(play(listener, codec, frames, ids.clone(), opts));
    Peer { url, ids, task }
}

async fn recv_binary<S>(ws: &mut S) -> Result<Vec<u8>, String>
where
    S: futures::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
            Err(_) => return Err("timed out waiting for a client frame".into()),
            Ok(None) => return Err("connection ended while a client frame was expected".into()),
            Ok(Some(Err(e))) => return Err(format!("websocket error: {e}")),
            Ok(Some(Ok(Message::Binary(b)))) => return Ok(b.to_vec()),
            Ok(Some(Ok(Message::Close(_)))) => {
                return Err("client closed while a frame was expected".into())
            }
            Ok(Some(Ok(Message::Text(t)))) => return Err(format!("client sent a text frame: {t}")),
            Ok(Some(Ok(_))) => continue,
        }
    }
}

async fn play(
    listener: TcpListener,
    codec: Codec,
    frames: Vec<Frame>,
    ids: Arc<Mutex<Ids>>,
    opts: PeerOptions,
) -> Result<(), String> {
    let mut conns: Vec<u64> = frames.iter().map(|f| f.conn).collect();
    conns.dedup();
    let last = conns.last().copied();
    for conn in conns {
        let (tcp, _) = tokio::time::timeout(Duration::from_secs(5), listener.accept())
            .await
            .map_err(|_| format!("conn {conn}: the client did not connect"))?
            .map_err(|e| e.to_string())?;
        let mut ws = tokio_tungstenite::accept_async(tcp)
            .await
            .map_err(|e| e.to_string())?;
        let mut prev_t: Option<f64> = None;
        for (i, f) in frames.iter().enumerate().filter(|(_, f)| f.conn == conn) {
            match f.dir {
                Dir::C2s => {
                    let actual = recv_binary(&mut ws).await.map_err(|e| {
                        format!("frame #{i} (conn {conn}, expected {}): {e}", f.msg)
                    })?;
                    compare(codec, f, &actual, &ids).map_err(|e| {
                        format!("frame #{i} (conn {conn}): {e}\nexpected: {}", f.msg)
                    })?;
                }
                Dir::S2c => {
                    if let Some(p) = prev_t {
                        let ms = ((f.t - p) * opts.time_scale).max(0.0);
                        if ms > 0.0 {
                            tokio::time::sleep(Duration::from_micros((ms * 1000.0) as u64)).await;
                        }
                    }
                    let raw = ids.lock().expect("ids").rewrite(&f.raw);
                    ws.send(Message::Binary(raw.into()))
                        .await
                        .map_err(|e| format!("frame #{i}: could not send: {e}"))?;
                }
            }
            prev_t = Some(f.t);
        }
        if Some(conn) != last {
            // Drop the connection at the conn boundary, as the recording did.
            let _ = ws.close(None).await;
            drop(ws);
            continue;
        }
        // The script is over: the client must stay silent.
        let deadline = tokio::time::Instant::now() + opts.silence;
        loop {
            match tokio::time::timeout_at(deadline, ws.next()).await {
                Err(_) | Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(Message::Close(_)))) => break,
                Ok(Some(Ok(Message::Binary(b)))) => {
                    let m = codec.decode_message(b.clone());
                    return Err(format!("unexpected client frame after the script: {m:?}"));
                }
                Ok(Some(Ok(_))) => {}
            }
        }
        if opts.expect_no_reconnect {
            if let Ok(Ok(_)) =
                tokio::time::timeout(Duration::from_millis(400), listener.accept()).await
            {
                return Err("the client reconnected but should not have".into());
            }
        }
    }
    Ok(())
}

/// Decodes a payload as a `Value`.
pub fn payload_value(codec: Codec, msg: &TransportMessage) -> Result<Value, String> {
    codec
        .decode::<Value>(&msg.payload)
        .map_err(|e| format!("payload does not decode: {e}"))
}

fn compare(codec: Codec, f: &Frame, actual: &[u8], ids: &Mutex<Ids>) -> Result<(), String> {
    let exp = codec
        .decode_message(bytes::Bytes::from(f.raw.clone()))
        .map_err(|e| format!("transcript frame does not decode: {e}"))?;
    let act = codec
        .decode_message(bytes::Bytes::from(actual.to_vec()))
        .map_err(|e| format!("client frame does not decode: {e}"))?;
    let show = || format!("actual: {act:?}");
    macro_rules! same {
        ($field:ident) => {
            if exp.$field != act.$field {
                return Err(format!(
                    "{} differs: expected {:?}, got {:?}; {}",
                    stringify!($field),
                    exp.$field,
                    act.$field,
                    show()
                ));
            }
        };
    }
    same!(from);
    same!(to);
    same!(seq);
    same!(ack);
    same!(control_flags);
    same!(service_name);
    same!(procedure_name);
    same!(tracing);
    let mut ids = ids.lock().expect("ids");
    if f.is_handshake() {
        // Random stream id; nothing to map.
    } else if exp.stream_id == "heartbeat" || exp.stream_id == "rehandshake" {
        same!(stream_id);
    } else {
        ids.bind(&exp.stream_id, &act.stream_id)
            .map_err(|e| format!("{e}; {}", show()))?;
    }
    let mut ev = payload_value(codec, &exp)?;
    let av = payload_value(codec, &act)?;
    if f.is_handshake() {
        let (Value::Object(e), Value::Object(a)) = (&mut ev, &av) else {
            return Err(format!("handshake payload is not an object: {av:?}"));
        };
        match (e.get("sessionId"), a.get("sessionId")) {
            (Some(Value::String(es)), Some(Value::String(as_))) => {
                ids.bind(es, as_)?;
                e.insert("sessionId".into(), Value::String(as_.clone()));
            }
            _ => return Err(format!("handshake without a sessionId: {av:?}")),
        }
    }
    if ev != av {
        return Err(format!("payload differs: expected {ev:?}, got {av:?}"));
    }
    Ok(())
}

/// The calls a transcript makes, in order of their open frames.
#[derive(Clone, Debug)]
pub struct Call {
    pub stream_id: String,
    pub service: String,
    pub procedure: String,
    pub flags: u64,
    pub init: Value,
    /// Client data payloads (flag 0).
    pub data: Vec<Value>,
    /// Server frames on this stream: (flags, raw frame).
    pub server: Vec<(u64, Vec<u8>)>,
}

/// Extracts the calls of a transcript.
pub fn calls(codec: Codec, frames: &[Frame]) -> Vec<Call> {
    let mut out: Vec<Call> = Vec::new();
    for f in frames {
        if f.is_handshake() {
            continue;
        }
        let sid = f.stream_id().to_string();
        let decoded = || {
            let m = codec
                .decode_message(bytes::Bytes::from(f.raw.clone()))
                .expect("transcript frame decodes");
            payload_value(codec, &m).expect("transcript payload decodes")
        };
        if f.dir == Dir::C2s && f.flags() & 2 != 0 {
            out.push(Call {
                stream_id: sid,
                service: f.msg["serviceName"].as_str().unwrap_or("").into(),
                procedure: f.msg["procedureName"].as_str().unwrap_or("").into(),
                flags: f.flags(),
                init: decoded(),
                data: Vec::new(),
                server: Vec::new(),
            });
            continue;
        }
        let Some(call) = out.iter_mut().find(|c| c.stream_id == sid) else {
            continue;
        };
        match f.dir {
            Dir::C2s if f.flags() == 0 => call.data.push(decoded()),
            Dir::C2s => {}
            Dir::S2c => call.server.push((f.flags(), f.raw.clone())),
        }
    }
    out
}

/// Metadata values the reference client sent, in order (handshakes and rehandshakes).
pub fn metadata_sequence(frames: &[Frame]) -> Vec<serde_json::Value> {
    frames
        .iter()
        .filter(|f| f.dir == Dir::C2s)
        .filter_map(|f| f.msg["payload"].get("metadata").cloned())
        .collect()
}

/// Decodes a server frame on a stream (after id rewriting) into its `Value` payload.
pub fn server_payload(codec: Codec, ids: &Mutex<Ids>, raw: &[u8]) -> Value {
    let raw = ids.lock().expect("ids").rewrite(raw);
    let m = codec
        .decode_message(bytes::Bytes::from(raw))
        .expect("server frame decodes");
    payload_value(codec, &m).expect("server payload decodes")
}

/// Field access on a `Value` object.
pub fn field<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    match v {
        Value::Object(m) => m.get(key),
        _ => None,
    }
}

/// A string field.
pub fn str_field(v: &Value, key: &str) -> Option<String> {
    match field(v, key) {
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    }
}
