//! Sessions: seq/ack bookkeeping and the send buffer ([`state`]).
//!
//! **Unstable internals** (public only with the `unstable-internals` feature): no semver
//! guarantees; may change or disappear in any release.
//!
//! The session drivers that own a connection live with their side: the client's in
//! [`crate::client`], the server's in [`crate::server`].

pub mod state;

pub use state::{Inbound, Outgoing, SessionState};

/// How many non-ACK frames a session task accepts without sending anything before it
/// sends an explicit `ACK` ([`SessionState::unacked_inbound`]): a quarter of the
/// high-water mark, so a peer with the same mark never waits at it for our ack.
pub(crate) fn explicit_ack_threshold(high_water_mark: usize) -> u64 {
    (high_water_mark / 4).max(1) as u64
}
