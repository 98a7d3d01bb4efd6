//! Handshake metadata: [`HandshakeValidator`] and [`HandshakeRejection`].

use super::*;

/// Why a handshake validator refused a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandshakeRejection {
    /// `REJECTED_BY_CUSTOM_HANDLER`
    RejectedByCustomHandler,
    /// `REJECTED_UNSUPPORTED_CLIENT`
    RejectedUnsupportedClient,
}

/// `{metadata?}` of a `HANDSHAKE_REQ` or `REHANDSHAKE_RESP` payload.
#[derive(Deserialize)]
pub(super) struct MetaHolder<M> {
    pub(super) metadata: Option<M>,
}

pub(super) type ValidateFn = dyn Fn(
        Codec,
        &Payload,
        Option<&Meta>,
        &str,
        &UpgradeRequest,
    ) -> Result<Meta, (HandshakeErrorCode, String)>
    + Send
    + Sync;

/// Validates handshake metadata: decodes it as `M` (failure → `MALFORMED_HANDSHAKE_META`)
/// and calls the function with the previous parsed metadata of the session (on a
/// transparent reconnect or re-handshake) and the client id.
#[derive(Clone)]
pub struct HandshakeValidator {
    pub(super) validate: Arc<ValidateFn>,
}

impl HandshakeValidator {
    /// Wraps a validation function of the metadata `M`, the session's previous parsed
    /// metadata (on a transparent reconnect or re-handshake) and the client id. The
    /// parsed value `P` is what [`Context::metadata`] returns.
    pub fn new<M, P, F>(validate: F) -> Self
    where
        M: DeserializeOwned + Send + 'static,
        P: Any + Send + Sync + 'static,
        F: Fn(M, Option<&P>, &str) -> Result<P, HandshakeRejection> + Send + Sync + 'static,
    {
        Self::with_request(
            move |meta: M, prev: Option<&P>, from: &str, _: &UpgradeRequest| {
                validate(meta, prev, from)
            },
        )
    }

    /// Like [`HandshakeValidator::new`], and the function also sees the HTTP upgrade
    /// request of the connection (headers, path, peer address), so a decision can
    /// combine the metadata with, say, a header a proxy added:
    ///
    /// ```
    /// use river_runtime::server::{HandshakeRejection, HandshakeValidator, UpgradeRequest};
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Meta { user: String }
    ///
    /// let validator = HandshakeValidator::with_request(
    ///     |meta: Meta, _prev: Option<&String>, _client_id: &str, req: &UpgradeRequest| {
    ///         match req.bearer_token() {
    ///             Some("s3cret") => Ok(meta.user),
    ///             _ => Err(HandshakeRejection::RejectedByCustomHandler),
    ///         }
    ///     },
    /// );
    /// # let _ = validator;
    /// ```
    pub fn with_request<M, P, F>(validate: F) -> Self
    where
        M: DeserializeOwned + Send + 'static,
        P: Any + Send + Sync + 'static,
        F: Fn(M, Option<&P>, &str, &UpgradeRequest) -> Result<P, HandshakeRejection>
            + Send
            + Sync
            + 'static,
    {
        let f = move |codec: Codec,
                      payload: &Payload,
                      prev: Option<&Meta>,
                      from: &str,
                      request: &UpgradeRequest| {
            let malformed = || {
                (
                    HandshakeErrorCode::MalformedHandshakeMeta,
                    "received malformed handshake metadata".to_string(),
                )
            };
            let holder: MetaHolder<M> = codec.decode_checked(payload).map_err(|_| malformed())?;
            let meta = holder.metadata.ok_or_else(malformed)?;
            let prev = prev.and_then(|p| p.downcast_ref::<P>());
            match std::panic::catch_unwind(AssertUnwindSafe(|| validate(meta, prev, from, request)))
            {
                Ok(Ok(parsed)) => Ok(Arc::new(parsed) as Meta),
                Ok(Err(rejection)) => {
                    let code = match rejection {
                        HandshakeRejection::RejectedByCustomHandler => {
                            HandshakeErrorCode::RejectedByCustomHandler
                        }
                        HandshakeRejection::RejectedUnsupportedClient => {
                            HandshakeErrorCode::RejectedUnsupportedClient
                        }
                    };
                    Err((code, "rejected by handshake handler".to_string()))
                }
                Err(p) => Err((
                    HandshakeErrorCode::RejectedByCustomHandler,
                    format!("handshake validation threw: {}", panic_message(p)),
                )),
            }
        };
        HandshakeValidator {
            validate: Arc::new(f),
        }
    }

    /// Validates the metadata carried by `payload`.
    pub(crate) fn check(
        &self,
        codec: Codec,
        payload: &Payload,
        prev: Option<&Meta>,
        from: &str,
        request: &UpgradeRequest,
    ) -> Result<Meta, (HandshakeErrorCode, String)> {
        (self.validate)(codec, payload, prev, from, request)
    }
}
