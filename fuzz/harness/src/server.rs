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

mod drive;
mod input;
mod router;

pub use input::*;
use router::*;

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
        if tokio::time::timeout(SCENARIO_TIMEOUT, drive::drive(s))
            .await
            .is_err()
        {
            panic!("hang: the scenario did not finish within {SCENARIO_TIMEOUT:?}");
        }
    });
}
