//! What a client connects to: the URL and extra upgrade headers of one connection
//! attempt ([`ConnectRequest`]), fixed at build time or produced afresh for every
//! connect and reconnect by an async provider
//! ([`ClientBuilder::connect_with`](crate::ClientBuilder::connect_with)).
//!
//! The reference client takes a WebSocket getter that it calls on every connect; the
//! Python client takes a URI factory. A provider is the Rust shape of both: it runs
//! before each dial, so a short-lived token can be refreshed before a reconnect.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A boxed error from user code (a connect provider).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The URL and extra HTTP headers of one connection attempt.
///
/// Header names and values are checked when the attempt is made: an invalid one fails
/// that attempt with a configuration error ([`Error::is_config`](crate::Error::is_config)),
/// which is final (no retry).
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectRequest {
    url: String,
    headers: Vec<(String, String)>,
}

impl std::fmt::Debug for ConnectRequest {
    /// Header values are not printed (they usually hold credentials).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("ConnectRequest")
            .field("url", &redact_url(&self.url))
            .field("header_names", &names)
            .finish()
    }
}

impl ConnectRequest {
    /// A request for `url` (`ws://` or `wss://`) with no extra headers.
    pub fn new(url: impl Into<String>) -> Self {
        ConnectRequest {
            url: url.into(),
            headers: Vec::new(),
        }
    }

    /// Adds a header to the WebSocket upgrade request, for example
    /// `("authorization", "Bearer …")`. Repeating a name sends it several times.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The extra headers, in the order they were added.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    pub(crate) fn extend_headers(&mut self, extra: &[(String, String)]) {
        self.headers.extend(extra.iter().cloned());
    }
}

/// `url` without its query and fragment (which may hold credentials), for messages.
pub(crate) fn redact_url(url: &str) -> String {
    match url.find(['?', '#']) {
        Some(i) => format!("{}?…", &url[..i]),
        None => url.to_string(),
    }
}

type ProviderFuture = Pin<Box<dyn Future<Output = Result<ConnectRequest, BoxError>> + Send>>;

/// Produces the [`ConnectRequest`] of each connection attempt.
pub(crate) type ConnectProvider = Arc<dyn Fn() -> ProviderFuture + Send + Sync>;

pub(crate) fn provider<F, Fut, E>(f: F) -> ConnectProvider
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<ConnectRequest, E>> + Send + 'static,
    E: Into<BoxError>,
{
    Arc::new(move || {
        let fut = f();
        Box::pin(async move { fut.await.map_err(Into::into) })
    })
}
