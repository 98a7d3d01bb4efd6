//! TLS through rustls (with the `ring` provider; no OpenSSL anywhere): what a client
//! trusts for `wss://` ([`ClientTls`]) and what a server presents when it owns its
//! listener ([`ServerTls`]).
//!
//! ```no_run
//! use river_runtime::{Client, ClientTls, ServerTls};
//!
//! # fn demo() -> Result<(), river_runtime::Error> {
//! // A client that trusts the webpki roots plus a private CA:
//! let tls = ClientTls::builder().add_root_pem_file("ca.pem").build()?;
//! let client = Client::builder("wss://river.internal:8443/river").tls(tls).build();
//!
//! // A server certificate chain and key from PEM files:
//! let server_tls = ServerTls::from_pem_files("cert.pem", "key.pem")?;
//! # let _ = (client, server_tls);
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore, ServerConfig};

use crate::error::Error;

/// The crypto provider: the process default when the application installed one
/// (`CryptoProvider::install_default`, for example aws-lc-rs for post-quantum key
/// exchange), else *ring*, which builds everywhere without cmake or OpenSSL.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    if let Some(p) = rustls::crypto::CryptoProvider::get_default() {
        return p.clone();
    }
    // rustls 0.23.48 deprecates ring's provider for lacking post-quantum groups; it
    // is still maintained and is what keeps this crate free of a C++ build. Install
    // another provider as the process default to use it instead.
    #[allow(deprecated)]
    Arc::new(rustls::crypto::ring::default_provider())
}

/// What a client trusts for `wss://` URLs.
///
/// The default ([`ClientTls::default`], used when a client is given none) trusts the
/// Mozilla root program as shipped by `webpki-roots`. [`ClientTlsBuilder`] adds private
/// roots from PEM and, with the `native-roots` feature, the platform's store;
/// [`ClientTls::from_rustls`] takes a complete `rustls::ClientConfig` (client
/// certificates, pinning, custom verifiers).
#[derive(Clone)]
pub struct ClientTls {
    /// `None` only if the ring provider refused the default protocol versions, which
    /// it does not; connecting then fails with a configuration error instead of a panic.
    config: Option<Arc<ClientConfig>>,
}

impl std::fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientTls").finish_non_exhaustive()
    }
}

impl Default for ClientTls {
    /// Trusts the `webpki-roots` certificates.
    fn default() -> Self {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        ClientTls::with_roots(roots)
    }
}

impl ClientTls {
    /// Starts a set of trusted roots (webpki roots on, platform roots off).
    pub fn builder() -> ClientTlsBuilder {
        ClientTlsBuilder {
            webpki_roots: true,
            native_roots: false,
            pems: Vec::new(),
        }
    }

    /// Uses a complete rustls configuration as is: client certificates, pinned
    /// certificates, a custom verifier. Leave its ALPN protocols empty or `http/1.1`:
    /// the WebSocket upgrade is an HTTP/1.1 request.
    pub fn from_rustls(config: Arc<ClientConfig>) -> Self {
        ClientTls {
            config: Some(config),
        }
    }

    /// The rustls configuration in use.
    pub fn rustls_config(&self) -> Option<&Arc<ClientConfig>> {
        self.config.as_ref()
    }

    pub(crate) fn connector(&self) -> Result<tokio_rustls::TlsConnector, Error> {
        match &self.config {
            Some(c) => Ok(tokio_rustls::TlsConnector::from(c.clone())),
            None => Err(Error::config("no usable TLS configuration")),
        }
    }

    fn with_roots(roots: RootCertStore) -> Self {
        let config = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map(|b| Arc::new(b.with_root_certificates(roots).with_no_client_auth()));
        ClientTls {
            config: config.ok(),
        }
    }
}

/// Where a private root's PEM comes from.
#[derive(Clone, Debug)]
enum PemSource {
    Bytes(Vec<u8>),
    File(PathBuf),
}

/// Builds a [`ClientTls`] from root certificates. Errors (an unreadable file, PEM with
/// no certificate) are reported by [`ClientTlsBuilder::build`].
#[derive(Clone, Debug)]
#[must_use]
pub struct ClientTlsBuilder {
    webpki_roots: bool,
    native_roots: bool,
    pems: Vec<PemSource>,
}

impl ClientTlsBuilder {
    /// Whether to trust the `webpki-roots` certificates. Default: true.
    pub fn webpki_roots(mut self, on: bool) -> Self {
        self.webpki_roots = on;
        self
    }

    /// Whether to trust the platform's certificate store (read at [`build`]).
    /// Default: false. Needs the `native-roots` feature.
    ///
    /// [`build`]: ClientTlsBuilder::build
    #[cfg(feature = "native-roots")]
    pub fn native_roots(mut self, on: bool) -> Self {
        self.native_roots = on;
        self
    }

    /// Trusts every certificate in this PEM text (for example a private CA).
    pub fn add_root_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.pems.push(PemSource::Bytes(pem.into()));
        self
    }

    /// Trusts every certificate in this PEM file (read at [`build`]).
    ///
    /// [`build`]: ClientTlsBuilder::build
    pub fn add_root_pem_file(mut self, path: impl AsRef<Path>) -> Self {
        self.pems.push(PemSource::File(path.as_ref().to_path_buf()));
        self
    }

    /// Reads the roots. Fails with [`Error::is_config`] when a file cannot be read,
    /// holds no certificate or a malformed one, or (with `native-roots`) the platform
    /// store yields nothing.
    pub fn build(self) -> Result<ClientTls, Error> {
        let mut roots = RootCertStore::empty();
        if self.webpki_roots {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        #[cfg(feature = "native-roots")]
        if self.native_roots {
            let found = rustls_native_certs::load_native_certs();
            if found.certs.is_empty() {
                let why = found
                    .errors
                    .first()
                    .map(|e| e.to_string())
                    .unwrap_or_else(|| "no certificates found".to_string());
                return Err(Error::config(format!(
                    "could not load the platform's root certificates: {why}"
                )));
            }
            roots.add_parsable_certificates(found.certs);
        }
        #[cfg(not(feature = "native-roots"))]
        let _ = self.native_roots;
        for source in &self.pems {
            let (what, certs) = match source {
                PemSource::Bytes(b) => ("PEM text".to_string(), read_certs(b)?),
                PemSource::File(path) => {
                    let bytes = std::fs::read(path).map_err(|e| {
                        Error::config(format!("could not read {}", path.display())).with_source(e)
                    })?;
                    (path.display().to_string(), read_certs(&bytes)?)
                }
            };
            if certs.is_empty() {
                return Err(Error::config(format!("{what}: no certificate found")));
            }
            for cert in certs {
                roots.add(cert).map_err(|e| {
                    Error::config(format!("{what}: not a usable root certificate")).with_source(e)
                })?;
            }
        }
        Ok(ClientTls::with_roots(roots))
    }
}

fn read_certs(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, Error> {
    CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::config("malformed PEM certificate").with_source(e))
}

/// The certificate and key a server presents when it owns its listener
/// ([`ServerBuilder::tls`](crate::server::ServerBuilder::tls)).
#[derive(Clone)]
pub struct ServerTls {
    config: Arc<ServerConfig>,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls").finish_non_exhaustive()
    }
}

impl ServerTls {
    /// A certificate chain (leaf first) and its private key (PKCS#8, PKCS#1 or SEC1),
    /// as PEM text. Fails with [`Error::is_config`] when either is missing or they do
    /// not belong together.
    pub fn from_pem(cert_chain_pem: &[u8], key_pem: &[u8]) -> Result<Self, Error> {
        let chain = read_certs(cert_chain_pem)?;
        if chain.is_empty() {
            return Err(Error::config("no certificate found in the certificate PEM"));
        }
        let key = PrivateKeyDer::from_pem_slice(key_pem)
            .map_err(|e| Error::config("no usable private key in the key PEM").with_source(e))?;
        let config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::config("TLS protocol versions").with_source(e))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| {
                Error::config("the certificate and key do not make a usable pair").with_source(e)
            })?;
        Ok(ServerTls {
            config: Arc::new(config),
        })
    }

    /// [`ServerTls::from_pem`] with both read from files.
    pub fn from_pem_files(
        cert_chain: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<Self, Error> {
        let read = |p: &Path| {
            std::fs::read(p).map_err(|e| {
                Error::config(format!("could not read {}", p.display())).with_source(e)
            })
        };
        let cert = read(cert_chain.as_ref())?;
        let key_bytes = read(key.as_ref())?;
        Self::from_pem(&cert, &key_bytes).map_err(|e| {
            Error::config(format!(
                "{} / {}: {e}",
                cert_chain.as_ref().display(),
                key.as_ref().display()
            ))
        })
    }

    /// Uses a complete rustls server configuration (client certificate verification,
    /// several certificates by SNI). Do not offer `h2` in its ALPN list.
    pub fn from_rustls(config: Arc<ServerConfig>) -> Self {
        ServerTls { config }
    }

    /// The rustls configuration in use.
    pub fn rustls_config(&self) -> &Arc<ServerConfig> {
        &self.config
    }

    pub(crate) fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        tokio_rustls::TlsAcceptor::from(self.config.clone())
    }
}
