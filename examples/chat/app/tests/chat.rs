//! The chat server in-process on 127.0.0.1:0, called with the generated client over a
//! real socket: a post and history round trip, `EMPTY_MESSAGE` and `ROOM_FULL` as
//! typed service errors, and a watcher receiving what another client posts.

use std::sync::Arc;
use std::time::Duration;

use chat_api::client::Client;
use chat_api::types::{ChatPostError, ChatWatchOutput, Message};
use river_example_chat::{
    connect, describe_error, post_message, read_messages, room_history, serve, watch_room, ChatRoom,
};
use river_runtime::{RiverError, ServerHandle};

/// Long enough for anything here on a loaded machine; the calls take milliseconds.
const PATIENCE: Duration = Duration::from_secs(10);

async fn start(limit: usize) -> (ServerHandle, Arc<ChatRoom>, String) {
    let chat = Arc::new(ChatRoom::new(limit));
    let handle = serve("127.0.0.1:0", Arc::clone(&chat))
        .await
        .expect("bind the chat server");
    let url = format!("ws://{}", handle.local_addr());
    (handle, chat, url)
}

fn item(id: f64, author: &str, text: &str) -> Message {
    Message {
        id,
        author: author.to_string(),
        text: text.to_string(),
    }
}

async fn close(client: &Client) {
    client.inner().close().await;
}

#[tokio::test]
async fn post_then_history_round_trip() {
    let (server, _chat, url) = start(100).await;
    let client = connect(&url);

    assert!(room_history(&client, "lobby")
        .await
        .expect("history of an unknown room")
        .is_empty());
    assert_eq!(
        post_message(&client, "lobby", "ada", "hello")
            .await
            .expect("post"),
        1.0
    );
    assert_eq!(
        post_message(&client, "lobby", "grace", "hi ada")
            .await
            .expect("post"),
        2.0
    );
    assert_eq!(
        post_message(&client, "attic", "alan", "anyone?")
            .await
            .expect("post to another room"),
        1.0
    );

    assert_eq!(
        room_history(&client, "lobby").await.expect("history"),
        [item(1.0, "ada", "hello"), item(2.0, "grace", "hi ada")]
    );
    assert_eq!(
        room_history(&client, "attic").await.expect("history"),
        [item(1.0, "alan", "anyone?")]
    );

    close(&client).await;
    server.shutdown().await;
}

#[tokio::test]
async fn blank_text_is_the_typed_empty_message_error() {
    let (server, _chat, url) = start(100).await;
    let client = connect(&url);

    for text in ["", "  \n\t"] {
        let err = post_message(&client, "lobby", "ada", text)
            .await
            .expect_err("blank text is refused");
        match &err {
            RiverError::Service(ChatPostError::EmptyMessage { message }) => {
                assert_eq!(message, "a message needs some text");
            }
            other => panic!("expected EMPTY_MESSAGE, got {other:?}"),
        }
        assert_eq!(
            describe_error(&err),
            "EMPTY_MESSAGE: a message needs some text"
        );
    }
    // Nothing was stored, and the session is still good for the next call.
    assert!(room_history(&client, "lobby")
        .await
        .expect("history")
        .is_empty());

    close(&client).await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_full_room_answers_room_full_with_its_limit() {
    let (server, chat, url) = start(2).await;
    assert_eq!(chat.limit(), 2);
    let client = connect(&url);

    post_message(&client, "small", "ada", "one")
        .await
        .expect("first");
    post_message(&client, "small", "ada", "two")
        .await
        .expect("second");
    match post_message(&client, "small", "ada", "three").await {
        Err(RiverError::Service(ChatPostError::RoomFull { message, extras })) => {
            assert_eq!(extras.limit, 2.0);
            assert_eq!(message, "room \"small\" is full: it holds 2 messages");
        }
        other => panic!("expected ROOM_FULL, got {other:?}"),
    }
    // The limit is per room.
    assert_eq!(
        post_message(&client, "other", "ada", "one")
            .await
            .expect("another room"),
        1.0
    );
    assert_eq!(
        room_history(&client, "small").await.expect("history").len(),
        2
    );

    close(&client).await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_watcher_receives_what_another_client_posts() {
    let (server, chat, url) = start(100).await;
    let watcher = connect(&url);
    let poster = connect(&url);

    post_message(&poster, "lobby", "ada", "before")
        .await
        .expect("post before watching");

    let mut reader = watch_room(&watcher, "lobby");
    // The subscription is live once the server's handler listens to the room.
    tokio::time::timeout(PATIENCE, chat.wait_for_watchers("lobby", 1))
        .await
        .expect("the watcher subscribed");

    post_message(&poster, "attic", "alan", "elsewhere")
        .await
        .expect("post to another room");
    post_message(&poster, "lobby", "grace", "first")
        .await
        .expect("post");
    post_message(&poster, "lobby", "ada", "second")
        .await
        .expect("post");

    let mut seen = Vec::new();
    let read = tokio::time::timeout(
        PATIENCE,
        read_messages(&mut reader, 2, |m| seen.push(m.clone())),
    )
    .await
    .expect("two messages in time")
    .expect("watch");
    assert_eq!(read, 2);
    assert_eq!(
        seen,
        [
            ChatWatchOutput {
                id: 2.0,
                author: "grace".into(),
                text: "first".into(),
            },
            ChatWatchOutput {
                id: 3.0,
                author: "ada".into(),
                text: "second".into(),
            },
        ]
    );

    // Dropping the reader cancels the subscription; the server's handler lets go.
    drop(reader);
    tokio::time::timeout(PATIENCE, async {
        while chat.watchers("lobby") > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the watcher was cancelled");

    close(&watcher).await;
    close(&poster).await;
    server.shutdown().await;
}
