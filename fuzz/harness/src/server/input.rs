//! The fuzz input: a [`Scenario`] of connections and steps, derived with `arbitrary`.

use super::*;

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
    pub(super) fn to_value(&self, depth: usize) -> Value {
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
    pub(super) fn to_value(&self) -> Option<Value> {
        match self {
            Meta::None => None,
            Meta::Accept => Some(Value::Object(Default::default())),
            Meta::Reject => Some([("reject", true)].into_iter().collect()),
            Meta::Unsupported => Some([("unsupported", true)].into_iter().collect()),
            Meta::Value(v) => Some(v.to_value(0)),
        }
    }
}
