//! `wss-client`: calls `greeter.hello` and reads `clock.ticks` over `wss://`, trusting a
//! private CA, with a bearer token obtained afresh before every connect.
//!
//! ```sh
//! cargo run -p river-example-axum --bin wss-client -- --ca target/example-certs/ca.pem --token s3cret
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use river_example_axum::{client, Greeting, Hello, Tick, TickRequest, TokenSource};
use river_runtime::{AnyServiceError, ClientTls};

#[derive(Parser)]
#[command(about = "Calls the example's procedures over wss://")]
struct Args {
    /// The River endpoint.
    #[arg(long, default_value = "wss://localhost:8443/river")]
    url: String,
    /// A PEM file of extra trusted roots (for example the private CA of test-certs).
    #[arg(long)]
    ca: Option<PathBuf>,
    /// The bearer token.
    #[arg(long, conflicts_with = "token_file")]
    token: Option<String>,
    /// A file holding the bearer token, read again before every connect and reconnect.
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// Whom to greet.
    #[arg(long, default_value = "world")]
    name: String,
    /// How many ticks to read.
    #[arg(long, default_value_t = 3)]
    ticks: u32,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // For example: "transport error: the server refused the credentials:
            // HTTP 401 Unauthorized on the WebSocket upgrade to wss://…".
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let tls = match &args.ca {
        // The webpki roots stay trusted; the private CA is added to them.
        Some(ca) => Some(ClientTls::builder().add_root_pem_file(ca).build()?),
        None => None,
    };
    let tokens = match (args.token, args.token_file) {
        (Some(t), _) => TokenSource::Fixed(t),
        (None, Some(path)) => TokenSource::File(path),
        (None, None) => TokenSource::None,
    };
    let client = client(&args.url, tls, tokens);

    let greeting: Greeting = client
        .rpc::<_, _, AnyServiceError>("greeter", "hello", &Hello { name: args.name })
        .await?;
    println!("greeter.hello: {}", greeting.message);

    let init = TickRequest {
        count: args.ticks,
        interval_ms: 200,
    };
    let mut ticks = client.subscribe::<_, Tick, AnyServiceError>("clock", "ticks", &init);
    while let Some(tick) = ticks.next().await {
        println!("clock.ticks: tick {}", tick?.n);
    }
    client.close().await;
    Ok(())
}
