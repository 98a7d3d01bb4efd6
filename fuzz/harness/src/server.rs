//! Server scenario driver: a fresh server per input, fed structure-aware frame sequences
//! over one or more WebSocket connections on the loopback interface.
//!
//! The server's connection handling is tied to `TcpStream` (its WebSocket type is
//! `WebSocketStream<TcpStream>`), so the driver talks to a real listener on
//! `127.0.0.1:0`. Client sockets use a zero linger (closing sends RST), so no connection
//! lingers in `TIME_WAIT` and a long run does not exhaust ports.
//!
//! Oracles: no panic anywhere in the server (libFuzzer's panic hook aborts even in
//! spawned tasks), every ping is answered or the connection is closed within
//! [`STEP_TIMEOUT`], shutdown completes within [`STEP_TIMEOUT`], and a whole input
//! finishes within [`SCENARIO_TIMEOUT`].

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Duration;

use arbitrary::Arbitrary;
use futures::{SinkExt, StreamExt};
use river_runtime::message::{
    Control, ControlFlags, ExpectedSessionState, HandshakeRequest, HandshakeRequestTag,
    HandshakeResponse, Payload, Tracing, TransportMessage,
};
use river_runtime::{
    Codec, Context, Failure, HandshakeRejection, HandshakeValidator, Requests, Responses, Router,
    Server, ServerOptions, Value,
};
use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// Longest wait for one ping round trip, one close or the shutdown.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(3);
/// Longest time one input may take.
pub const SCENARIO_TIMEOUT: Duration = Duration::from_secs(30);

const MAX_CONNECTIONS: usize = 4;
const MAX_STEPS: usize = 24;
const SERVER_ID: &str = "SERVER";

/// One fuzz input: server configuration and a sequence of connections.
#[derive(Arbitrary, Debug)]
pub struct Scenario {
    /// msgpack instead of JSON.
    pub msgpack: bool,
    /// Millisecond-scale heartbeats, grace and handshake timeout.
    pub fast_timers: bool,
    /// Install a handshake validator (metadata required, re-handshakes possible).
    pub validator: bool,
    /// No transparent reconnects.
    pub no_transparent: bool,
    /// Connections, opened one after the other.
    pub connections: Vec<Conn>,
}

/// One WebSocket connection.
#[derive(Arbitrary, Debug)]
pub struct Conn {
    /// Client id index (`c0`..`c2`).
    pub client: u8,
    /// The first frame.
    pub handshake: Handshake,
    /// What follows.
    pub steps: Vec<Step>,
    /// How the connection ends.
    pub end: End,
}

/// Mostly `None` (the plausible choice); sometimes an explicit, possibly odd, value.
#[derive(Debug)]
pub struct Maybe<T>(pub Option<T>);

impl<'a, T: Arbitrary<'a>> Arbitrary<'a> for Maybe<T> {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let pick: u8 = u.arbitrary()?;
        Ok(Maybe(if pick < 224 {
            None
        } else {
            Some(u.arbitrary()?)
        }))
    }
}

/// The first frame of a connection: a `HANDSHAKE_REQ`, plausible unless told otherwise.
#[derive(Arbitrary, Debug)]
pub struct Handshake {
    /// Send this instead of a handshake (`None`: send nothing).
    pub replace: Maybe<Option<Frame>>,
    /// Session id index (`session-0`..`session-2`).
    pub session: u8,
    /// Protocol version (default `v2.0`).
    pub version: Maybe<Version>,
    /// `expectedSessionState.nextExpectedSeq` (default: what the driver saw).
    pub next_expected: Maybe<Num>,
    /// `expectedSessionState.nextSentSeq` (default: what the driver sent).
    pub next_sent: Maybe<Num>,
    /// Handshake metadata (default: `{}` with a validator, none without).
    pub metadata: Maybe<Meta>,
}

/// A protocol version.
#[derive(Arbitrary, Debug)]
pub enum Version {
    /// `v2.0`
    V2,
    /// `v1.1`
    V1,
    /// Anything.
    Other(String),
}

/// Handshake metadata.
#[derive(Arbitrary, Debug, Clone)]
pub enum Meta {
    /// Omitted.
    None,
    /// `{}` (accepted by the validator).
    Accept,
    /// `{"reject": true}` (refused by the validator).
    Reject,
    /// `{"unsupported": true}` (refused by the validator).
    Unsupported,
    /// Anything.
    Value(ArbValue),
}

/// A seq or ack number.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Num {
    /// The plausible value (next seq for `seq`, the server's next seq for `ack`).
    Auto,
    /// 0
    Zero,
    /// A small number.
    Small(u8),
    /// Any number.
    Any(u64),
}

/// One step on a connection.
// A fuzz input lives for one run: its size does not matter, and boxing would only add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Arbitrary, Debug)]
pub enum Step {
    /// A River frame.
    Frame(Frame),
    /// A binary WebSocket message with arbitrary bytes.
    Raw(Vec<u8>),
    /// A text WebSocket message.
    Text(String),
    /// A WebSocket ping with arbitrary data.
    Ping(Vec<u8>),
    /// Wait until the server has handled everything sent so far (ping round trip).
    Sync,
    /// Sleep a few milliseconds (lets fast timers fire).
    Sleep(u8),
    /// `ServerHandle::request_rehandshake` for this connection's client.
    ServerRehandshake,
}

/// How a connection ends.
#[derive(Arbitrary, Debug)]
pub enum End {
    /// Sync, then drop (RST).
    SyncAbort,
    /// Drop at once (RST).
    Abort,
    /// WebSocket close handshake.
    Close,
    /// Stay open while the next connections run.
    Keep,
}

/// A River frame, mostly plausible.
#[derive(Arbitrary, Debug)]
pub struct Frame {
    /// What the frame does.
    pub kind: FrameKind,
    /// `streamId` index (`s0`..`s3`).
    pub stream: u8,
    /// Another `streamId`.
    pub stream_other: Maybe<StreamName>,
    /// `seq` (default: the next one).
    pub seq: Maybe<Num>,
    /// `ack` (default: the server's next seq as far as the driver knows).
    pub ack: Maybe<Num>,
    /// `from` (default: this connection's client).
    pub from: Maybe<Who>,
    /// `to` (default: the server).
    pub to: Maybe<Who>,
    /// Message id index.
    pub id: u8,
    /// `tracing`
    pub tracing: Option<(String, String)>,
}

/// The role of a frame.
#[derive(Arbitrary, Debug)]
pub enum FrameKind {
    /// Stream open (flag 2, plus 8 when `closed`) of a procedure of `svc`.
    Open {
        /// Which procedure.
        procedure: ProcName,
        /// Also close the request half.
        closed: bool,
        /// The init payload.
        payload: Pay,
    },
    /// A request (flag 0).
    Data(Pay),
    /// A request with the closed bit (flag 8).
    DataClose(Pay),
    /// Close the request half (flag 8, `{"type":"CLOSE"}`).
    Close,
    /// Cancel (flag 4).
    Cancel(Pay),
    /// Heartbeat (flag 1, stream `heartbeat`, `{"type":"ACK"}`).
    Heartbeat,
    /// `REHANDSHAKE_RESP` on stream `rehandshake`.
    RehandshakeResp(Meta),
    /// Anything.
    Custom {
        /// `serviceName`
        service: Option<Name>,
        /// `procedureName`
        procedure: Option<Name>,
        /// `controlFlags`
        flags: Flags,
        /// `payload`
        payload: Pay,
    },
}

/// A procedure of the test router (or not).
#[derive(Arbitrary, Debug)]
pub enum ProcName {
    /// `svc.rpc`
    Rpc,
    /// `svc.upload`
    Upload,
    /// `svc.stream`
    Stream,
    /// `svc.sub`
    Sub,
    /// Anything.
    Other(Name, Name),
}

/// A transport id.
#[derive(Arbitrary, Debug)]
pub enum Who {
    /// This connection's client id.
    Me,
    /// The server's id.
    Server,
    /// Anything.
    Other(String),
}

/// A service or procedure name.
#[derive(Arbitrary, Debug)]
pub enum Name {
    /// `svc`
    Svc,
    /// `rpc`
    Rpc,
    /// `upload`
    Upload,
    /// `stream`
    Stream,
    /// `sub`
    Sub,
    /// Anything.
    Other(String),
}

/// A stream id other than `s0`..`s3`.
#[derive(Arbitrary, Debug)]
pub enum StreamName {
    /// `heartbeat`
    Heartbeat,
    /// `rehandshake`
    Rehandshake,
    /// Anything.
    Other(String),
}

/// Control flags.
#[derive(Arbitrary, Debug)]
pub enum Flags {
    /// 0
    None,
    /// open
    Open,
    /// open | closed
    OpenClosed,
    /// closed
    Closed,
    /// cancel
    Cancel,
    /// ack (heartbeat)
    Ack,
    /// Any bits.
    Bits(u32),
}

/// A payload.
#[derive(Arbitrary, Debug)]
pub enum Pay {
    /// `{}`
    Empty,
    /// `{"n": n}` (the request type of the test procedures).
    Num(i64),
    /// `{"type": "CLOSE"}`
    Close,
    /// `{"type": "ACK"}`
    Ack,
    /// `{"type": "REHANDSHAKE_RESP", "metadata": ...}`
    RehandshakeResp(Meta),
    /// `{"ok": false, "payload": {"code": "CANCEL", "message": ...}}`
    ClientCancel(String),
    /// `{"ok": ..., "payload": ...}`
    Result(bool, ArbValue),
    /// Any value.
    Value(ArbValue),
    /// Any bytes.
    Raw(Vec<u8>),
}

/// A dynamic value.
#[derive(Arbitrary, Debug, Clone)]
pub enum ArbValue {
    /// null
    Null,
    /// boolean
    Bool(bool),
    /// integer
    Int(i64),
    /// float
    Float(f64),
    /// string
    Str(String),
    /// bytes
    Bytes(Vec<u8>),
    /// array
    Array(Vec<ArbValue>),
    /// object
    Object(Vec<(String, ArbValue)>),
}

impl ArbValue {
    fn to_value(&self, depth: usize) -> Value {
        if depth > 16 {
            return Value::Null;
        }
        match self {
            ArbValue::Null => Value::Null,
            ArbValue::Bool(b) => Value::Bool(*b),
            ArbValue::Int(i) => Value::Int(*i),
            ArbValue::Float(f) => Value::Float(*f),
            ArbValue::Str(s) => Value::String(s.clone()),
            ArbValue::Bytes(b) => Value::Bytes(b.clone().into()),
            ArbValue::Array(a) => Value::Array(a.iter().map(|v| v.to_value(depth + 1)).collect()),
            ArbValue::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), v.to_value(depth + 1)))
                    .collect(),
            ),
        }
    }
}

impl Meta {
    fn to_value(&self) -> Option<Value> {
        match self {
            Meta::None => None,
            Meta::Accept => Some(Value::Object(Default::default())),
            Meta::Reject => Some([("reject", true)].into_iter().collect()),
            Meta::Unsupported => Some([("unsupported", true)].into_iter().collect()),
            Meta::Value(v) => Some(v.to_value(0)),
        }
    }
}

/// The request/response type of the test procedures.
#[derive(Serialize, Deserialize)]
struct Num_ {
    n: i64,
}

/// The service error of the test procedures.
#[derive(Serialize)]
struct Oops {
    code: &'static str,
    message: String,
}

fn oops(n: i64) -> Failure<Oops> {
    Failure::Service(Oops {
        code: "NEGATIVE",
        message: format!("{n} is negative"),
    })
}

/// One procedure of each kind in service `svc`. Handlers never panic (a panic aborts the
/// fuzzer) and never outlive their call.
fn router() -> Router {
    let mut r = Router::new();
    r.rpc("svc", "rpc", |ctx: Context, init: Num_| async move {
        match init.n {
            n if n < 0 => Err(oops(n)),
            7 => {
                ctx.cancel("seven");
                Ok(Num_ { n: 7 })
            }
            8 => Err(Failure::Uncaught("eight".to_string())),
            13 => {
                ctx.cancelled().await;
                Ok(Num_ { n: 13 })
            }
            n => Ok(Num_ {
                n: n.wrapping_add(1),
            }),
        }
    });
    r.upload(
        "svc",
        "upload",
        |ctx: Context, init: Num_, mut reqs: Requests<Num_>| async move {
            let mut sum = init.n;
            loop {
                tokio::select! {
                    item = reqs.next() => match item {
                        Some(Ok(x)) => sum = sum.wrapping_add(x.n),
                        Some(Err(_)) | None => break,
                    },
                    _ = ctx.cancelled() => break,
                }
            }
            if sum < 0 {
                return Err(oops(sum));
            }
            Ok(Num_ { n: sum })
        },
    );
    r.stream(
        "svc",
        "stream",
        |ctx: Context, init: Value, mut reqs: Requests<Value>, res: Responses<Value, Oops>| async move {
            if init.get("close").is_some() {
                res.close().await;
            }
            loop {
                tokio::select! {
                    item = reqs.next() => match item {
                        Some(Ok(v)) => {
                            if v.get("fail").is_some() {
                                return Err(oops(-1));
                            }
                            if res.ok(v).await.is_err() {
                                break;
                            }
                        }
                        Some(Err(_)) | None => break,
                    },
                    _ = ctx.cancelled() => break,
                }
            }
            Ok(())
        },
    );
    r.subscription(
        "svc",
        "sub",
        |ctx: Context, init: Num_, res: Responses<Num_, Oops>| async move {
            for i in 0..init.n.rem_euclid(4) {
                if res.ok(Num_ { n: i }).await.is_err() {
                    break;
                }
            }
            if init.n < 0 {
                let _ = res
                    .err(Oops {
                        code: "NEGATIVE",
                        message: "negative".to_string(),
                    })
                    .await;
            }
            if init.n == 5 {
                ctx.cancelled().await;
            }
            if init.n == 6 {
                return Err(oops(6));
            }
            Ok(())
        },
    );
    r
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime")
    })
}

/// Runs one scenario; panics on a hang.
pub fn run(s: &Scenario) {
    runtime().block_on(async {
        if tokio::time::timeout(SCENARIO_TIMEOUT, drive(s))
            .await
            .is_err()
        {
            panic!("hang: the scenario did not finish within {SCENARIO_TIMEOUT:?}");
        }
    });
}

/// What the driver knows about one client id.
#[derive(Default)]
struct Peer {
    session: Option<u8>,
    next_seq: u64,
    server_next: u64,
}

struct Driver {
    codec: Codec,
    peers: HashMap<u8, Peer>,
}

type Ws = WebSocketStream<TcpStream>;

async fn drive(s: &Scenario) {
    let codec = if s.msgpack {
        Codec::Msgpack
    } else {
        Codec::Json
    };
    let mut options = ServerOptions::default();
    options.max_streams_per_session = 4;
    options.max_cancelled_stream_tombstones_per_session = 3;
    options.max_sessions = 2;
    options.max_frame_size = 64 * 1024;
    options.session.enable_transparent_session_reconnects = !s.no_transparent;
    options.session.send_buffer_high_water_mark = 8;
    if s.fast_timers {
        options.session.heartbeat_interval = Duration::from_millis(3);
        options.session.session_disconnect_grace = Duration::from_millis(10);
        options.session.handshake_timeout = Duration::from_millis(20);
    }
    let mut builder = Server::builder()
        .codec(codec)
        .server_id(SERVER_ID)
        .options(options);
    if s.validator {
        builder = builder.handshake(HandshakeValidator::new(
            |m: Value, _prev: Option<&Value>, _from: &str| {
                if m.get("reject").is_some() {
                    Err(HandshakeRejection::RejectedByCustomHandler)
                } else if m.get("unsupported").is_some() {
                    Err(HandshakeRejection::RejectedUnsupportedClient)
                } else {
                    Ok(m)
                }
            },
        ));
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback listener");
    let addr = listener.local_addr().expect("listener address");
    let handle = builder.serve(listener, router());
    let mut driver = Driver {
        codec,
        peers: HashMap::new(),
    };
    let mut kept = Vec::new();
    for conn in s.connections.iter().take(MAX_CONNECTIONS) {
        let tcp = TcpStream::connect(addr).await.expect("connect to loopback");
        let _ = tcp.set_nodelay(true);
        let _ = tcp.set_zero_linger();
        let (mut ws, _) = tokio_tungstenite::client_async(format!("ws://{addr}/"), tcp)
            .await
            .expect("WebSocket upgrade");
        let client = conn.client % 3;
        let mut open = true;
        if let Some(frame) = driver.handshake(client, &conn.handshake, s.validator) {
            open = ws.send(Message::Binary(frame.into())).await.is_ok();
        }
        for step in conn.steps.iter().take(MAX_STEPS) {
            if !open {
                break;
            }
            open = match step {
                Step::Frame(f) => match driver.frame(client, f) {
                    Some(b) => ws.send(Message::Binary(b.into())).await.is_ok(),
                    None => true,
                },
                Step::Raw(b) => ws.send(Message::Binary(b.clone().into())).await.is_ok(),
                Step::Text(t) => ws.send(Message::Text(t.clone().into())).await.is_ok(),
                Step::Ping(p) => ws.send(Message::Ping(p.clone().into())).await.is_ok(),
                Step::Sync => driver.sync(&mut ws, client).await,
                Step::Sleep(ms) => {
                    if s.fast_timers {
                        tokio::time::sleep(Duration::from_millis(u64::from(ms % 16))).await;
                    }
                    true
                }
                Step::ServerRehandshake => {
                    handle.request_rehandshake(&format!("c{client}"));
                    true
                }
            };
        }
        match conn.end {
            End::SyncAbort => {
                if open {
                    driver.sync(&mut ws, client).await;
                }
            }
            End::Abort => {}
            End::Close => {
                if open && ws.send(Message::Close(None)).await.is_ok() {
                    let drain = async { while let Some(Ok(_)) = ws.next().await {} };
                    if tokio::time::timeout(STEP_TIMEOUT, drain).await.is_err() {
                        panic!("hang: the server did not finish a close handshake");
                    }
                }
            }
            End::Keep => kept.push(ws),
        }
    }
    if tokio::time::timeout(STEP_TIMEOUT, handle.shutdown())
        .await
        .is_err()
    {
        panic!("hang: server shutdown did not finish within {STEP_TIMEOUT:?}");
    }
    drop(kept);
}

impl Driver {
    fn peer(&mut self, client: u8) -> &mut Peer {
        self.peers.entry(client).or_default()
    }

    fn resolve(n: Option<Num>, auto: u64) -> u64 {
        match n.unwrap_or(Num::Auto) {
            Num::Auto => auto,
            Num::Zero => 0,
            Num::Small(x) => u64::from(x),
            Num::Any(x) => x,
        }
    }

    fn handshake(&mut self, client: u8, h: &Handshake, validator: bool) -> Option<Vec<u8>> {
        if let Some(replace) = &h.replace.0 {
            return replace.as_ref().and_then(|f| self.frame(client, f));
        }
        let session = h.session % 3;
        let peer = self.peer(client);
        if peer.session != Some(session) {
            *peer = Peer {
                session: Some(session),
                ..Peer::default()
            };
        }
        let state = ExpectedSessionState {
            next_expected_seq: Self::resolve(h.next_expected.0, peer.server_next),
            next_sent_seq: Self::resolve(h.next_sent.0, peer.next_seq),
        };
        let metadata = match &h.metadata.0 {
            Some(m) => m.to_value(),
            None if validator => Meta::Accept.to_value(),
            None => None,
        };
        let req = HandshakeRequest {
            kind: HandshakeRequestTag::HandshakeReq,
            protocol_version: match &h.version.0 {
                None | Some(Version::V2) => "v2.0".to_string(),
                Some(Version::V1) => "v1.1".to_string(),
                Some(Version::Other(s)) => s.clone(),
            },
            session_id: format!("session-{session}"),
            expected_session_state: state,
            metadata,
        };
        let payload = self.codec.encode(&req).ok()?;
        let msg = TransportMessage {
            id: "hs".to_string(),
            from: format!("c{client}"),
            to: SERVER_ID.to_string(),
            seq: 0,
            ack: 0,
            service_name: None,
            procedure_name: None,
            stream_id: "handshake".to_string(),
            control_flags: ControlFlags::NONE,
            tracing: Some(Tracing::default()),
            payload,
        };
        self.codec.encode_message(&msg).ok()
    }

    fn payload(&self, p: &Pay) -> Option<Payload> {
        let c = self.codec;
        match p {
            Pay::Empty => c.encode(&Value::Object(Default::default())).ok(),
            Pay::Num(n) => c.encode(&Num_ { n: *n }).ok(),
            Pay::Close => c.encode(&Control::Close).ok(),
            Pay::Ack => c.encode(&Control::Ack).ok(),
            Pay::RehandshakeResp(m) => c
                .encode(&Control::RehandshakeResp {
                    metadata: m.to_value().unwrap_or_default(),
                })
                .ok(),
            Pay::ClientCancel(message) => {
                let v: Value = [
                    ("ok", Value::Bool(false)),
                    (
                        "payload",
                        [("code", "CANCEL"), ("message", message.as_str())]
                            .into_iter()
                            .collect(),
                    ),
                ]
                .into_iter()
                .collect();
                c.encode(&v).ok()
            }
            Pay::Result(ok, v) => {
                let inner = c.encode(&v.to_value(0)).ok()?;
                Some(c.encode_result(*ok, &inner))
            }
            Pay::Value(v) => c.encode(&v.to_value(0)).ok(),
            Pay::Raw(b) => Some(Payload::from_encoded(b.clone())),
        }
    }

    fn frame(&mut self, client: u8, f: &Frame) -> Option<Vec<u8>> {
        let name = |n: &Name| match n {
            Name::Svc => "svc".to_string(),
            Name::Rpc => "rpc".to_string(),
            Name::Upload => "upload".to_string(),
            Name::Stream => "stream".to_string(),
            Name::Sub => "sub".to_string(),
            Name::Other(s) => s.clone(),
        };
        let who = |w: &Option<Who>, default: String| match w {
            None => default,
            Some(Who::Me) => format!("c{client}"),
            Some(Who::Server) => SERVER_ID.to_string(),
            Some(Who::Other(s)) => s.clone(),
        };
        let mut stream_id = match &f.stream_other.0 {
            None => format!("s{}", f.stream % 4),
            Some(StreamName::Heartbeat) => "heartbeat".to_string(),
            Some(StreamName::Rehandshake) => "rehandshake".to_string(),
            Some(StreamName::Other(s)) => s.clone(),
        };
        let (service, procedure, flags, payload) = match &f.kind {
            FrameKind::Open {
                procedure,
                closed,
                payload,
            } => {
                let (s, p) = match procedure {
                    ProcName::Rpc => ("svc".to_string(), "rpc".to_string()),
                    ProcName::Upload => ("svc".to_string(), "upload".to_string()),
                    ProcName::Stream => ("svc".to_string(), "stream".to_string()),
                    ProcName::Sub => ("svc".to_string(), "sub".to_string()),
                    ProcName::Other(s, p) => (name(s), name(p)),
                };
                let flags = if *closed {
                    ControlFlags::OPEN | ControlFlags::CLOSED
                } else {
                    ControlFlags::OPEN
                };
                (Some(s), Some(p), flags, self.payload(payload)?)
            }
            FrameKind::Data(p) => (None, None, ControlFlags::NONE, self.payload(p)?),
            FrameKind::DataClose(p) => (None, None, ControlFlags::CLOSED, self.payload(p)?),
            FrameKind::Close => (None, None, ControlFlags::CLOSED, self.payload(&Pay::Close)?),
            FrameKind::Cancel(p) => (None, None, ControlFlags::CANCEL, self.payload(p)?),
            FrameKind::Heartbeat => {
                if f.stream_other.0.is_none() {
                    stream_id = "heartbeat".to_string();
                }
                (None, None, ControlFlags::ACK, self.payload(&Pay::Ack)?)
            }
            FrameKind::RehandshakeResp(m) => {
                if f.stream_other.0.is_none() {
                    stream_id = "rehandshake".to_string();
                }
                let payload = self.payload(&Pay::RehandshakeResp(m.clone()))?;
                (None, None, ControlFlags::NONE, payload)
            }
            FrameKind::Custom {
                service,
                procedure,
                flags,
                payload,
            } => (
                service.as_ref().map(name),
                procedure.as_ref().map(name),
                match flags {
                    Flags::None => ControlFlags::NONE,
                    Flags::Open => ControlFlags::OPEN,
                    Flags::OpenClosed => ControlFlags::OPEN | ControlFlags::CLOSED,
                    Flags::Closed => ControlFlags::CLOSED,
                    Flags::Cancel => ControlFlags::CANCEL,
                    Flags::Ack => ControlFlags::ACK,
                    Flags::Bits(b) => ControlFlags(*b),
                },
                self.payload(payload)?,
            ),
        };
        let peer = self.peer(client);
        let seq = Self::resolve(f.seq.0, peer.next_seq);
        if f.seq.0.is_none() || matches!(f.seq.0, Some(Num::Auto)) {
            peer.next_seq += 1;
        }
        let ack = Self::resolve(f.ack.0, peer.server_next);
        let msg = TransportMessage {
            id: format!("m{}", f.id),
            from: who(&f.from.0, format!("c{client}")),
            to: who(&f.to.0, SERVER_ID.to_string()),
            seq,
            ack,
            service_name: service,
            procedure_name: procedure,
            stream_id,
            control_flags: flags,
            tracing: f.tracing.as_ref().map(|(p, s)| Tracing {
                traceparent: p.clone(),
                tracestate: s.clone(),
            }),
            payload,
        };
        self.codec.encode_message(&msg).ok()
    }

    /// Pings and reads until the pong (true) or the end of the connection (false).
    async fn sync(&mut self, ws: &mut Ws, client: u8) -> bool {
        let tag: &'static [u8] = b"river-fuzz-sync";
        if ws.send(Message::Ping(tag.into())).await.is_err() {
            return false;
        }
        let codec = self.codec;
        let read = async {
            loop {
                match ws.next().await {
                    Some(Ok(Message::Pong(p))) if p.as_ref() == tag => return true,
                    Some(Ok(Message::Binary(b))) => {
                        if let Ok(msg) = codec.decode_message(b) {
                            if std::env::var_os("RIVER_FUZZ_LOG").is_some() {
                                eprintln!("server -> c{client}: {msg:?}");
                            }
                            let handshake = codec.decode::<HandshakeResponse>(&msg.payload).is_ok();
                            let peer = self.peers.entry(client).or_default();
                            if !handshake && msg.seq >= peer.server_next {
                                peer.server_next = msg.seq.saturating_add(1);
                            }
                        }
                    }
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => return false,
                }
            }
        };
        match tokio::time::timeout(STEP_TIMEOUT, read).await {
            Ok(open) => open,
            Err(_) => panic!(
                "hang: the server neither answered a ping nor closed within {STEP_TIMEOUT:?}"
            ),
        }
    }
}
