//! Sessions: seq/ack bookkeeping and the send buffer ([`state`]).
//!
//! The session drivers that own a connection live with their side: the client's in
//! [`crate::client`], the server's in [`crate::server`].

pub mod state;

pub use state::{Inbound, Outgoing, SessionState};
