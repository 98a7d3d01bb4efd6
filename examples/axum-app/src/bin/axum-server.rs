//! `axum-server`: River at `/river` and `GET /health` in one axum app, over TLS when
//! given a certificate and key, with bearer tokens checked before the upgrade.
//!
//! ```sh
//! cargo run -p test-certs -- --out target/example-certs
//! cargo run -p river-example-axum --bin axum-server -- \
//!     --tls-cert target/example-certs/cert.pem --tls-key target/example-certs/key.pem
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use river_example_axum::{app, river, serve, Users, DEFAULT_TOKEN};
use river_runtime::ServerTls;

#[derive(Parser)]
#[command(about = "River inside an axum app, over TLS or plain HTTP")]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port (default 8443 with TLS, 8080 without; 0 picks a free one).
    #[arg(long)]
    port: Option<u16>,
    /// The bearer token clients must send.
    #[arg(long, default_value = DEFAULT_TOKEN)]
    token: String,
    /// The user that token stands for.
    #[arg(long, default_value = "demo")]
    user: String,
    /// Certificate chain (PEM); serves https:// and wss:// with --tls-key.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// Private key (PEM) of --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(ServerTls::from_pem_files(cert, key)?),
        _ => None,
    };
    let port = args.port.unwrap_or(if tls.is_some() { 8443 } else { 8080 });
    let listener = tokio::net::TcpListener::bind((args.host.as_str(), port)).await?;
    let scheme = if tls.is_some() { "wss" } else { "ws" };
    let port = listener.local_addr()?.port();
    println!("LISTENING {port}");
    eprintln!("River at {scheme}://{}:{port}/river", args.host);

    let river = river(Users::new([(args.token, args.user)]));
    let report = serve(
        listener,
        app(river.clone()),
        river,
        tls.map(|t| t.rustls_config().clone()),
        shutdown_signal(),
    )
    .await?;
    eprintln!(
        "shut down: calls drained: {}, calls cut at the deadline: {}",
        report.drained, report.cut_streams
    );
    Ok(())
}

/// Ctrl-C, or SIGTERM on Unix (what `docker stop` and Kubernetes send).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    eprintln!("shutting down");
}
