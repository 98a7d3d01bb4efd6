//! Seq/ack bookkeeping and the send buffer of one session (pure logic, no I/O).
//!
//! Mirrors `transport/sessionStateMachine/common.ts` and `SessionConnected.ts` of the
//! reference: every non-handshake frame gets `seq` and `ack` when it is encoded, its
//! bytes stay in the send buffer until the peer acknowledges them, and they are resent
//! verbatim (same id, stale ack) after a transparent reconnect.

use std::collections::VecDeque;

use bytes::Bytes;

use crate::codec::{Codec, FrameBody, FrameIn, FrameRef};
use crate::error::Error;
use crate::ids::IdBuf;
use crate::message::{ControlFlags, ExpectedSessionState, Payload, Tracing, TransportMessage};

/// What to do with an inbound frame, decided by [`SessionState::check_inbound`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inbound {
    /// In order: bookkeeping updated; dispatch it.
    Accepted,
    /// `seq < ack`: already seen; drop silently.
    Duplicate,
    /// `seq > ack`: a gap; close the connection (keep the session).
    Gap {
        /// The seq we expected.
        expected: u64,
        /// The seq we got.
        got: u64,
    },
    /// `from` is not the session's peer: destroy the session.
    WrongFrom,
}

/// One frame waiting for acknowledgement.
#[derive(Clone, Debug)]
struct Buffered {
    seq: u64,
    frame: Bytes,
}

/// The fields of an outgoing frame that the caller chooses; the session adds the rest.
#[derive(Clone, Debug)]
pub struct Outgoing {
    /// Stream id.
    pub stream_id: String,
    /// Control flags.
    pub control_flags: ControlFlags,
    /// Encoded payload.
    pub payload: Payload,
    /// Service name (stream opens only).
    pub service_name: Option<String>,
    /// Procedure name (stream opens only).
    pub procedure_name: Option<String>,
    /// Trace context (stream opens only).
    pub tracing: Option<Tracing>,
}

impl Outgoing {
    /// A frame with no open-only fields.
    pub fn new(
        stream_id: impl Into<String>,
        control_flags: ControlFlags,
        payload: Payload,
    ) -> Self {
        Outgoing {
            stream_id: stream_id.into(),
            control_flags,
            payload,
            service_name: None,
            procedure_name: None,
            tracing: None,
        }
    }
}

impl Outgoing {
    /// The same frame, borrowed.
    pub(crate) fn as_body(&self) -> FrameBody<'_> {
        FrameBody {
            stream_id: &self.stream_id,
            control_flags: self.control_flags,
            payload: &self.payload,
            service_name: self.service_name.as_deref(),
            procedure_name: self.procedure_name.as_deref(),
            tracing: self.tracing.as_ref(),
        }
    }
}

/// Seq/ack state and send buffer of one session.
#[derive(Debug)]
pub struct SessionState {
    /// Session id (`session-…`).
    pub id: String,
    /// Our own client id (`from` of what we send).
    pub local_id: String,
    /// The peer's client id (`to` of what we send; expected `from` of what we receive).
    pub peer_id: String,
    seq: u64,
    ack: u64,
    send_buffer: VecDeque<Buffered>,
    /// Non-ACK frames accepted since we last stamped a frame (which carried our ack).
    unacked_inbound: u64,
}

impl SessionState {
    /// A fresh session with seq = ack = 0.
    pub fn new(
        id: impl Into<String>,
        local_id: impl Into<String>,
        peer_id: impl Into<String>,
    ) -> Self {
        SessionState {
            id: id.into(),
            local_id: local_id.into(),
            peer_id: peer_id.into(),
            seq: 0,
            ack: 0,
            send_buffer: VecDeque::new(),
            unacked_inbound: 0,
        }
    }

    /// The seq the next outgoing frame gets.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The seq we expect next from the peer (= the number of frames received in order).
    pub fn ack(&self) -> u64 {
        self.ack
    }

    /// The seq of the oldest unacknowledged frame, or [`Self::seq`] when none is buffered.
    pub fn next_seq(&self) -> u64 {
        self.send_buffer.front().map_or(self.seq, |b| b.seq)
    }

    /// `expectedSessionState` for a handshake request.
    pub fn expected_state(&self) -> ExpectedSessionState {
        ExpectedSessionState {
            next_expected_seq: self.ack,
            next_sent_seq: self.next_seq(),
        }
    }

    /// How many non-ACK frames were accepted since the last frame we stamped: every
    /// stamped frame carries our current ack, so this is how far the peer's view of our
    /// ack lags behind (ACK frames aside). Drivers send an explicit ACK when it grows large
    /// (see the `server` and `client` module docs).
    pub fn unacked_inbound(&self) -> u64 {
        self.unacked_inbound
    }

    /// How many frames wait for acknowledgement.
    pub fn buffer_len(&self) -> usize {
        self.send_buffer.len()
    }

    /// The unacknowledged frames, oldest first, to resend after a reconnect.
    pub fn buffered_frames(&self) -> impl Iterator<Item = &Bytes> {
        self.send_buffer.iter().map(|b| &b.frame)
    }

    /// Stamps `id`, `from`, `to`, `seq`, `ack` on an outgoing frame, encodes it, keeps
    /// the bytes in the send buffer and returns them. On an encode failure nothing is
    /// consumed (the reference then destroys the session).
    pub fn stamp(&mut self, codec: Codec, out: Outgoing) -> Result<Bytes, Error> {
        self.stamp_ref(codec, out.as_body())
    }

    /// [`Self::stamp`] from borrowed fields: the session loops send this way.
    pub(crate) fn stamp_ref(&mut self, codec: Codec, body: FrameBody<'_>) -> Result<Bytes, Error> {
        let id = IdBuf::new();
        let frame = Bytes::from(codec.encode_frame(&FrameRef {
            id: id.as_str(),
            from: &self.local_id,
            to: &self.peer_id,
            seq: self.seq,
            ack: self.ack,
            body,
        })?);
        self.send_buffer.push_back(Buffered {
            seq: self.seq,
            frame: frame.clone(),
        });
        self.seq += 1;
        self.unacked_inbound = 0;
        Ok(frame)
    }

    /// Applies the reference's receive checks in order (`from`, then seq) and, for an
    /// in-order frame, trims the send buffer to `seq >= msg.ack` and advances `ack`.
    pub fn check_inbound(&mut self, msg: &TransportMessage) -> Inbound {
        self.check(&msg.from, msg.seq, msg.ack, msg.control_flags)
    }

    /// [`Self::check_inbound`] for a frame the session loops decoded without copying.
    pub(crate) fn check_frame(&mut self, msg: &FrameIn<'_>) -> Inbound {
        self.check(&msg.from, msg.seq, msg.ack, msg.control_flags)
    }

    fn check(&mut self, from: &str, seq: u64, ack: u64, flags: ControlFlags) -> Inbound {
        if from != self.peer_id {
            return Inbound::WrongFrom;
        }
        if seq < self.ack {
            return Inbound::Duplicate;
        }
        if seq > self.ack {
            return Inbound::Gap {
                expected: self.ack,
                got: seq,
            };
        }
        self.trim(ack);
        self.ack = seq + 1;
        if !flags.is_ack() {
            self.unacked_inbound += 1;
        }
        Inbound::Accepted
    }

    /// Like [`Self::check_inbound`] for a frame read while `ahead` earlier frames wait,
    /// read but not yet accepted: it is in order when `seq == ack + ahead`. Such a frame
    /// only trims the send buffer (its ack is what the peer has received, whether or not
    /// we accept the frame now); it is accepted later with [`Self::check_inbound`].
    pub fn peek_inbound(&mut self, msg: &TransportMessage, ahead: u64) -> Inbound {
        self.peek(&msg.from, msg.seq, msg.ack, ahead)
    }

    /// [`Self::peek_inbound`] for a frame the session loops decoded without copying.
    pub(crate) fn peek_frame(&mut self, msg: &FrameIn<'_>, ahead: u64) -> Inbound {
        self.peek(&msg.from, msg.seq, msg.ack, ahead)
    }

    fn peek(&mut self, from: &str, seq: u64, ack: u64, ahead: u64) -> Inbound {
        if from != self.peer_id {
            return Inbound::WrongFrom;
        }
        let expected = self.ack + ahead;
        if seq < expected {
            return Inbound::Duplicate;
        }
        if seq > expected {
            return Inbound::Gap { expected, got: seq };
        }
        self.trim(ack);
        Inbound::Accepted
    }

    /// Drops the frames the peer acknowledged (`seq < ack`).
    fn trim(&mut self, ack: u64) {
        while self.send_buffer.front().is_some_and(|b| b.seq < ack) {
            self.send_buffer.pop_front();
        }
    }

    /// Drops every buffered frame (session teardown).
    pub fn clear(&mut self) {
        self.send_buffer.clear();
    }
}
