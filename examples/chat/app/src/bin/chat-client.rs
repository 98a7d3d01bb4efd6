//! `chat-client`: posts a message to a room, prints the room's history and, with
//! `--watch N`, waits for the next N messages posted to it.
//!
//! ```sh
//! cargo run -p river-example-chat --bin chat-client -- --room lobby --author ada "hello"
//! cargo run -p river-example-chat --bin chat-client -- --room lobby --watch 3
//! ```

use std::process::ExitCode;

use clap::Parser;
use river_example_chat::{
    connect, describe_error, format_message, post_message, read_messages, room_history, watch_room,
};

#[derive(Parser)]
#[command(about = "Posts to and reads a room of the River chat example")]
struct Args {
    /// The chat server.
    #[arg(long, default_value = "ws://127.0.0.1:8080")]
    url: String,
    /// The room.
    #[arg(long, default_value = "lobby")]
    room: String,
    /// Who is posting.
    #[arg(long, default_value = "anonymous")]
    author: String,
    /// After printing the history, wait for this many new messages and print them.
    #[arg(long, value_name = "N")]
    watch: Option<usize>,
    /// The message to post (nothing is posted without one).
    text: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let client = connect(&args.url);
    let result = run(&client, &args).await;
    client.inner().close().await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(client: &chat_api::client::Client, args: &Args) -> Result<(), String> {
    if let Some(text) = &args.text {
        let id = post_message(client, &args.room, &args.author, text)
            .await
            .map_err(|e| format!("chat.post: {}", describe_error(&e)))?;
        println!("posted #{id} to {}", args.room);
    }

    let history = room_history(client, &args.room)
        .await
        .map_err(|e| format!("chat.history: {}", describe_error(&e)))?;
    let plural = if history.len() == 1 { "" } else { "s" };
    println!("{} ({} message{plural}):", args.room, history.len());
    for m in &history {
        println!("  {}", format_message(m.id, &m.author, &m.text));
    }

    if let Some(count) = args.watch {
        println!("watching {} for {count} new messages…", args.room);
        let mut reader = watch_room(client, &args.room);
        let read = read_messages(&mut reader, count, |m| {
            println!("  {}", format_message(m.id, &m.author, &m.text));
        })
        .await
        .map_err(|e| format!("chat.watch: {}", describe_error(&e)))?;
        if read < count {
            return Err(format!("the server ended the watch after {read} messages"));
        }
    }
    Ok(())
}
