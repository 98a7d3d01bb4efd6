//! The values spans, events and metrics are labelled with: which side, how a call
//! ended, the tracing target.

/// The tracing target of every span and event this module makes.
pub(crate) const TARGET: &str = "river_runtime::telemetry";

/// Which end of a call (or session) this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    Client,
    Server,
}

impl Side {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Server => "server",
        }
    }
}

/// How a call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Outcome {
    Ok = 0,
    /// The handler returned one of the procedure's declared errors.
    ServiceError = 1,
    /// A reserved error: invalid request, uncaught error, unexpected disconnect, a cancel
    /// by the other side.
    ProtocolError = 2,
    /// Cancelled by this side (a dropped handle, a deadline).
    Cancelled = 3,
}

/// The stored outcome of a call that has none yet.
pub(crate) const NO_OUTCOME: u8 = u8::MAX;

impl Outcome {
    /// The `outcome` label of the call metrics.
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::ServiceError => "service_error",
            Outcome::ProtocolError => "protocol_error",
            Outcome::Cancelled => "cancelled",
        }
    }

    pub(crate) fn from_u8(v: u8) -> Outcome {
        match v {
            1 => Outcome::ServiceError,
            2 => Outcome::ProtocolError,
            3 => Outcome::Cancelled,
            _ => Outcome::Ok,
        }
    }
}
