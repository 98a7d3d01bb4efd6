//! `chat-server`: serves the `chat` service in memory until Ctrl-C.
//!
//! ```sh
//! cargo run -p river-example-chat --bin chat-server -- --listen 127.0.0.1:8080
//! ```

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use river_example_chat::{serve, ChatRoom, DEFAULT_ROOM_LIMIT};

/// How long calls in flight (watchers) may take to finish once shutdown starts.
const DRAIN_DEADLINE: Duration = Duration::from_secs(2);

#[derive(Parser)]
#[command(about = "Serves the River chat example's `chat` service, in memory")]
struct Args {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// How many messages a room holds before posts fail with ROOM_FULL.
    #[arg(long, default_value_t = DEFAULT_ROOM_LIMIT)]
    limit: usize,
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
    let handle = serve(args.listen.as_str(), Arc::new(ChatRoom::new(args.limit))).await?;
    println!("chat server at ws://{}", handle.local_addr());
    tokio::signal::ctrl_c().await?;
    eprintln!("shutting down");
    handle.graceful_shutdown(DRAIN_DEADLINE).await;
    Ok(())
}
