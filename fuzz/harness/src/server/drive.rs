//! Plays a [`Scenario`] against the server over loopback WebSockets and checks the
//! oracles.

use super::*;

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

pub(super) async fn drive(s: &Scenario) {
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
