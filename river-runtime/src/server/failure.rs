//! How a handler failed: [`Failure`].

/// How a handler failed.
#[derive(Debug)]
pub enum Failure<E> {
    /// A service error declared in the schema: sent as an `Err` result (flag 8 for
    /// rpc/upload; for stream/subscription an `Err` item, then CLOSE).
    Service(E),
    /// An unexpected failure: sent as `UNCAUGHT_ERROR` cancel (flag 4) with this message.
    Uncaught(String),
}

impl<E> Failure<E> {
    /// An uncaught failure with the error's `Display` text as its message.
    pub fn uncaught(err: impl std::fmt::Display) -> Self {
        Failure::Uncaught(err.to_string())
    }
}

impl<E> From<E> for Failure<E> {
    fn from(e: E) -> Self {
        Failure::Service(e)
    }
}

// Bits of `CtxInner::res_flags`.
