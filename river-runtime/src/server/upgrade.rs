//! The HTTP request that upgraded a connection to a WebSocket ([`UpgradeRequest`]), and
//! the server's decision on it before the upgrade ([`UpgradeRejection`]).
//!
//! Authentication can happen at three places; pick one:
//!
//! - before the upgrade, with [`ServerBuilder::authorize_upgrade`]: a wrong token is
//!   answered with an HTTP status (401) and no WebSocket is opened. Clients see the
//!   status ([`Error::http_status`](crate::Error::http_status)) and do not retry 401
//!   or 403;
//! - in an HTTP layer in front of River (a tower/axum middleware when River is mounted
//!   in an axum app; see `river_runtime::axum` with the `axum` feature), which can be async;
//! - in the River handshake, with a [`HandshakeValidator`] built by
//!   [`HandshakeValidator::with_request`], which sees the upgrade request beside the
//!   handshake metadata (the reference's own place for credentials).
//!
//! Handlers read the request of their session's current connection through
//! [`Context::upgrade_request`].
//!
//! [`ServerBuilder::authorize_upgrade`]: crate::server::ServerBuilder::authorize_upgrade
//! [`HandshakeValidator`]: crate::server::HandshakeValidator
//! [`HandshakeValidator::with_request`]: crate::server::HandshakeValidator::with_request
//! [`Context::upgrade_request`]: crate::server::Context::upgrade_request

use std::net::SocketAddr;
use std::sync::Arc;

use http::header::{AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION};
use http::{HeaderMap, Method, Uri};

/// The HTTP request of a WebSocket upgrade: method, URI, headers and the peer's address.
///
/// Values of `authorization`, `proxy-authorization` and `cookie` are marked sensitive,
/// so `Debug` does not print them.
#[derive(Clone, Debug)]
pub struct UpgradeRequest {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    peer_addr: Option<SocketAddr>,
}

impl Default for UpgradeRequest {
    fn default() -> Self {
        UpgradeRequest::new(Method::GET, Uri::from_static("/"), HeaderMap::new(), None)
    }
}

impl UpgradeRequest {
    /// Builds one from its parts (for serving River from an HTTP stack other than the
    /// built-in listener and the `axum` integration).
    pub fn new(
        method: Method,
        uri: Uri,
        mut headers: HeaderMap,
        peer_addr: Option<SocketAddr>,
    ) -> Self {
        for name in [AUTHORIZATION, PROXY_AUTHORIZATION, COOKIE] {
            if let http::header::Entry::Occupied(mut e) = headers.entry(name) {
                for v in e.iter_mut() {
                    v.set_sensitive(true);
                }
            }
        }
        UpgradeRequest {
            method,
            uri,
            headers,
            peer_addr,
        }
    }

    /// Builds one from the parts of an `http::Request`.
    pub fn from_parts(parts: &http::request::Parts, peer_addr: Option<SocketAddr>) -> Self {
        Self::new(
            parts.method.clone(),
            parts.uri.clone(),
            parts.headers.clone(),
            peer_addr,
        )
    }

    /// The request method (`GET` for a WebSocket upgrade).
    pub fn method(&self) -> &Method {
        &self.method
    }
    /// The request URI (path and query as the client sent them).
    pub fn uri(&self) -> &Uri {
        &self.uri
    }
    /// The request path, for example `/river`.
    pub fn path(&self) -> &str {
        self.uri.path()
    }
    /// All request headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }
    /// The first value of header `name` if it is valid text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// The bearer token of the `authorization` header (`Bearer <token>`), if any.
    pub fn bearer_token(&self) -> Option<&str> {
        let v = self.header("authorization")?;
        let (scheme, token) = v.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim())
            .filter(|t| !t.is_empty())
    }
    /// The peer's address, when the transport knows it (the built-in listener always
    /// does; under axum, when the app is served with `ConnectInfo<SocketAddr>`).
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.peer_addr
    }
}

/// Why an upgrade is refused: an HTTP status and a short plain-text body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpgradeRejection {
    status: u16,
    message: String,
}

impl UpgradeRejection {
    /// A refusal with any status (use a 4xx or 5xx; anything else becomes 500).
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        let status = if (400..600).contains(&status) {
            status
        } else {
            500
        };
        UpgradeRejection {
            status,
            message: message.into(),
        }
    }
    /// 401 Unauthorized: missing or wrong credentials. Clients do not retry it.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(401, message)
    }
    /// 403 Forbidden: valid credentials without access. Clients do not retry it.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, message)
    }
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }
    /// The response body.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl std::fmt::Display for UpgradeRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HTTP {}: {}", self.status, self.message)
    }
}

impl std::error::Error for UpgradeRejection {}

/// Decides on an upgrade request before the WebSocket is opened.
pub(crate) type Authorizer =
    Arc<dyn Fn(&UpgradeRequest) -> Result<(), UpgradeRejection> + Send + Sync>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_token_and_redaction() {
        let mut h = HeaderMap::new();
        h.insert("authorization", "Bearer s3cret".parse().expect("value"));
        let r = UpgradeRequest::new(Method::GET, Uri::from_static("/river"), h, None);
        assert_eq!(r.bearer_token(), Some("s3cret"));
        assert_eq!(r.path(), "/river");
        assert!(!format!("{r:?}").contains("s3cret"));
        let mut h = HeaderMap::new();
        h.insert("authorization", "Basic abc".parse().expect("value"));
        let r = UpgradeRequest::new(Method::GET, Uri::from_static("/"), h, None);
        assert_eq!(r.bearer_token(), None);
    }

    #[test]
    fn rejection_status_is_an_error_status() {
        assert_eq!(UpgradeRejection::new(200, "x").status(), 500);
        assert_eq!(UpgradeRejection::unauthorized("x").status(), 401);
        assert_eq!(UpgradeRejection::forbidden("x").to_string(), "HTTP 403: x");
    }
}
