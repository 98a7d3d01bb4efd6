//! The WebSocket dial side of the client: URL → DNS → TCP → TLS (`wss://`) → upgrade,
//! each step with its own error, and whether a failure is worth retrying.
//!
//! River adds nothing to the WebSocket layer (reference §12): the URL is used as given
//! (no path, query or subprotocol of its own; extra headers only when the user adds
//! them), every River message is one binary frame, no compression is negotiated and no
//! WebSocket pings are sent; liveness is River's own heartbeat.
//!
//! Which failures are final (the client stops after that attempt) and which keep the
//! reconnect backoff and retry budget:
//!
//! | failure | error | retried |
//! | --- | --- | --- |
//! | unsupported scheme, malformed URL, invalid header | [`Error::is_config`] | no |
//! | host name does not resolve | [`Error::is_connect`] | yes |
//! | connection refused, unreachable | [`Error::is_connect`] | yes |
//! | dial took longer than `connection_timeout` | [`Error::is_timeout`] | yes |
//! | server certificate not trusted / wrong name | [`Error::is_tls`] | no |
//! | other TLS handshake failure | [`Error::is_tls`] | yes |
//! | upgrade answered 401 or 403 | [`Error::is_unauthorized`] | no |
//! | upgrade answered any other status (5xx, 404, …) | [`Error::http_status`] | yes |

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::WebSocketStream;

use crate::connect::{redact_url, ConnectRequest};
use crate::error::Error;
use crate::tls::ClientTls;

/// The byte stream under a client WebSocket: plain TCP or TLS over TCP.
pub(crate) enum ClientIo {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for ClientIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ClientIo::Plain(s) => Pin::new(s).poll_read(cx, buf),
            ClientIo::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for ClientIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            ClientIo::Plain(s) => Pin::new(s).poll_write(cx, buf),
            ClientIo::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ClientIo::Plain(s) => Pin::new(s).poll_flush(cx),
            ClientIo::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ClientIo::Plain(s) => Pin::new(s).poll_shutdown(cx),
            ClientIo::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            ClientIo::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            ClientIo::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }
    fn is_write_vectored(&self) -> bool {
        match self {
            ClientIo::Plain(s) => s.is_write_vectored(),
            ClientIo::Tls(s) => s.is_write_vectored(),
        }
    }
}

/// A client WebSocket as returned by [`dial`].
pub(crate) type WebSocket = WebSocketStream<ClientIo>;

/// Largest accepted WebSocket message: 100 MiB, the `ws` library's default, which the
/// reference server uses.
pub const MAX_MESSAGE_SIZE: usize = 100 * 1024 * 1024;

/// The client's WebSocket read buffer. tungstenite zero-fills the whole buffer before
/// every socket read (0.30, `FrameCodec::read_in`), so its 128 KiB default cost about
/// 100k instructions of `memset` per sequential rpc. (The server uses 2 KiB, for its
/// memory per idle session; a client has one connection.)
/// Larger frames are still read whole (the buffer is per read, not a frame limit).
const READ_BUFFER_SIZE: usize = 4096;

/// The WebSocket settings the client uses: reference-sized message limit, no compression,
/// a 4 KiB read buffer.
pub(crate) fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE_SIZE))
        .max_frame_size(Some(MAX_MESSAGE_SIZE))
        .read_buffer_size(READ_BUFFER_SIZE)
}

/// A failed dial: what happened, and whether retrying can help.
#[derive(Debug)]
pub(crate) struct DialError {
    pub(crate) error: Error,
    /// No retry: configuration, untrusted certificate, 401/403.
    pub(crate) is_final: bool,
}

impl DialError {
    fn retry(error: Error) -> Self {
        DialError {
            error,
            is_final: false,
        }
    }
    fn fatal(error: Error) -> Self {
        DialError {
            error,
            is_final: true,
        }
    }
}

/// Dials `req` (DNS, TCP connect, TLS for `wss://`, WebSocket upgrade with the extra
/// headers) within `timeout`. Nagle's algorithm is disabled: River frames are small and
/// latency-sensitive.
pub(crate) async fn dial(
    req: &ConnectRequest,
    tls: &ClientTls,
    timeout: Duration,
) -> Result<WebSocket, DialError> {
    let shown = redact_url(req.url());
    let mut request = req.url().into_client_request().map_err(|e| {
        DialError::fatal(Error::config(format!("invalid URL `{shown}`")).with_source(e))
    })?;
    let uri = request.uri().clone();
    let secure = match uri.scheme_str() {
        Some("ws") => false,
        Some("wss") => true,
        other => {
            return Err(DialError::fatal(Error::config(format!(
                "unsupported URL scheme `{}` in `{shown}`: use ws:// or wss://",
                other.unwrap_or("")
            ))))
        }
    };
    for (name, value) in req.headers() {
        let n = HeaderName::from_bytes(name.as_bytes()).map_err(|e| {
            DialError::fatal(Error::config(format!("invalid header name `{name}`")).with_source(e))
        })?;
        let v = HeaderValue::from_str(value).map_err(|e| {
            DialError::fatal(
                Error::config(format!("invalid value for header `{name}`")).with_source(e),
            )
        })?;
        request.headers_mut().append(n, v);
    }
    let host = uri.host().unwrap_or_default().to_string();
    let bare_host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
    let connector = if secure {
        Some(tls.connector().map_err(DialError::fatal)?)
    } else {
        None
    };

    let steps = async {
        let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((bare_host.as_str(), port))
            .await
            .map_err(|e| {
                DialError::retry(
                    Error::connect(format!("could not resolve host `{bare_host}`")).with_source(e),
                )
            })?
            .collect();
        let mut last: Option<io::Error> = None;
        let mut tcp = None;
        for addr in addrs {
            match TcpStream::connect(addr).await {
                Ok(s) => {
                    tcp = Some(s);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let Some(tcp) = tcp else {
            let err = Error::connect(format!("could not connect to {host}:{port}"));
            return Err(DialError::retry(match last {
                Some(e) => err.with_source(e),
                None => err.with_source(format!("`{bare_host}` resolved to no address")),
            }));
        };
        let _ = tcp.set_nodelay(true);
        let io = match connector {
            None => ClientIo::Plain(tcp),
            Some(connector) => {
                let name =
                    rustls::pki_types::ServerName::try_from(bare_host.clone()).map_err(|e| {
                        DialError::fatal(
                            Error::config(format!("`{bare_host}` is not a valid TLS server name"))
                                .with_source(e),
                        )
                    })?;
                match connector.connect(name, tcp).await {
                    Ok(s) => ClientIo::Tls(Box::new(s)),
                    Err(e) => return Err(tls_error(&host, port, e)),
                }
            }
        };
        match tokio_tungstenite::client_async_with_config(request, io, Some(ws_config())).await {
            Ok((ws, _response)) => Ok(ws),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                let status = response.status();
                let code = status.as_u16();
                let reason = status.canonical_reason().unwrap_or("");
                if code == 401 || code == 403 {
                    Err(DialError::fatal(Error::http(
                        code,
                        format!(
                            "the server refused the credentials: HTTP {code} {reason} on the WebSocket upgrade to {shown}"
                        ),
                    )))
                } else {
                    Err(DialError::retry(Error::http(
                        code,
                        format!("the server refused the WebSocket upgrade to {shown}: HTTP {code} {reason}"),
                    )))
                }
            }
            Err(e) => Err(DialError::retry(
                Error::connect(format!("WebSocket upgrade to {shown} failed")).with_source(e),
            )),
        }
    };
    match tokio::time::timeout(timeout, steps).await {
        Ok(result) => result,
        Err(_) => Err(DialError::retry(Error::timeout(format!(
            "connecting to {shown} took longer than {} ms",
            timeout.as_millis()
        )))),
    }
}

/// Classifies a failed TLS handshake: certificate problems are final (they do not fix
/// themselves between attempts), anything else is retried.
fn tls_error(host: &str, port: u16, e: io::Error) -> DialError {
    let rustls_err = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .cloned();
    let certificate = matches!(
        rustls_err,
        Some(rustls::Error::InvalidCertificate(_))
            | Some(rustls::Error::NoCertificatesPresented)
            | Some(rustls::Error::InvalidCertRevocationList(_))
    );
    let what = match &rustls_err {
        Some(rustls::Error::InvalidCertificate(c)) => {
            format!("the server's certificate is not trusted ({c:?})")
        }
        Some(other) => other.to_string(),
        None => e.to_string(),
    };
    let err = Error::tls(format!("TLS handshake with {host}:{port} failed: {what}"));
    if certificate {
        DialError::fatal(err)
    } else {
        DialError::retry(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_query_and_fragment() {
        assert_eq!(redact_url("ws://h:1/river"), "ws://h:1/river");
        assert_eq!(
            redact_url("ws://h:1/river?token=s3cret"),
            "ws://h:1/river?…"
        );
        assert_eq!(redact_url("wss://h/#frag"), "wss://h/?…");
    }

    #[tokio::test]
    async fn unsupported_scheme_is_final_config_error() {
        let req = ConnectRequest::new("http://127.0.0.1:1/");
        let Err(e) = dial(&req, &ClientTls::default(), Duration::from_secs(1)).await else {
            panic!("http:// must not dial");
        };
        assert!(e.is_final);
        assert!(e.error.is_config(), "{e:?}");
        assert!(e
            .error
            .to_string()
            .contains("unsupported URL scheme `http`"));
    }

    #[tokio::test]
    async fn invalid_header_is_final_config_error() {
        let req = ConnectRequest::new("ws://127.0.0.1:1/").header("bad name", "x");
        let Err(e) = dial(&req, &ClientTls::default(), Duration::from_secs(1)).await else {
            panic!("must fail");
        };
        assert!(e.is_final && e.error.is_config(), "{e:?}");
    }

    #[tokio::test]
    async fn refused_connection_is_retried_and_says_why() {
        // Bind then drop, so nothing listens on the port.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("addr").port()
        };
        let req = ConnectRequest::new(format!("ws://127.0.0.1:{port}"));
        let Err(e) = dial(&req, &ClientTls::default(), Duration::from_secs(2)).await else {
            panic!("nothing listens");
        };
        assert!(!e.is_final);
        assert!(e.error.is_connect(), "{e:?}");
        let text = e.error.to_string().to_lowercase();
        assert!(text.contains("refused"), "{text}");
    }
}
