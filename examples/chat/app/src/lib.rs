//! A chat server and client over `chat-api`, the crate `river-codegen` generated from
//! `examples/chat/chat.json`.
//!
//! - Server side: [`ChatRoom`] implements the generated `chat_api::server::ChatService`
//!   trait in memory, [`router`] registers it with the generated `register_chat`, and
//!   [`serve`] puts it on a socket.
//! - Client side: [`connect`] wraps a `river_runtime::Client` in the generated
//!   `chat_api::client::Client`; [`post_message`], [`room_history`], [`watch_room`] and
//!   [`read_messages`] are what the `chat-client` binary does with it.
//!
//! The binaries `chat-server` and `chat-client` are thin command lines over this
//! library, so that the integration test runs exactly what they run.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chat_api::client::Client;
use chat_api::server::{register_chat, ChatService};
use chat_api::types::{
    ChatHistoryError, ChatHistoryInit, ChatHistoryOutput, ChatPostError,
    ChatPostErrorRoomFullExtras, ChatPostInit, ChatPostOutput, ChatWatchError, ChatWatchInit,
    ChatWatchOutput, Message,
};
use river_runtime::{
    Context, Failure, Reader, Responses, RiverError, Router, Server, ServerHandle,
};
use tokio::sync::{broadcast, watch};

/// How many messages a room holds before `chat.post` answers `ROOM_FULL`, unless
/// [`ChatRoom::new`] is given another limit.
pub const DEFAULT_ROOM_LIMIT: usize = 1000;

/// How many messages a `chat.watch` subscriber may fall behind before it skips the
/// oldest ones.
const FEED_CAPACITY: usize = 64;

/// One room: its messages, oldest first, and the feed `chat.watch` subscribers read.
struct Room {
    messages: Vec<Message>,
    feed: broadcast::Sender<Message>,
}

impl Room {
    fn new() -> Self {
        Room {
            messages: Vec::new(),
            feed: broadcast::channel(FEED_CAPACITY).0,
        }
    }
}

/// The `chat` service, in memory: every room's messages in a `Mutex<HashMap>` and a
/// broadcast channel per room for `chat.watch`. Rooms are created by their first post
/// or watcher. Message ids count from 1 in each room.
pub struct ChatRoom {
    limit: usize,
    rooms: Mutex<HashMap<String, Room>>,
    /// Bumped whenever a `chat.watch` subscriber starts listening.
    watchers_changed: watch::Sender<()>,
}

impl ChatRoom {
    /// A service whose rooms each hold at most `limit` messages.
    pub fn new(limit: usize) -> Self {
        ChatRoom {
            limit,
            rooms: Mutex::new(HashMap::new()),
            watchers_changed: watch::channel(()).0,
        }
    }

    /// How many messages a room holds before posts fail with `ROOM_FULL`.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// How many `chat.watch` subscribers are listening to `room` now.
    pub fn watchers(&self, room: &str) -> usize {
        self.rooms()
            .get(room)
            .map_or(0, |r| r.feed.receiver_count())
    }

    /// Resolves once at least `count` `chat.watch` subscribers listen to `room`, so that
    /// a message posted afterwards reaches them.
    pub async fn wait_for_watchers(&self, room: &str, count: usize) {
        // Subscribing first means no start between the check and the wait is missed.
        let mut changed = self.watchers_changed.subscribe();
        while self.watchers(room) < count {
            if changed.changed().await.is_err() {
                return; // unreachable while `self` (the sender's owner) is alive
            }
        }
    }

    fn rooms(&self) -> MutexGuard<'_, HashMap<String, Room>> {
        // The map is never left half-updated, so a panic elsewhere does not spoil it.
        self.rooms.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for ChatRoom {
    /// Rooms of [`DEFAULT_ROOM_LIMIT`] messages.
    fn default() -> Self {
        ChatRoom::new(DEFAULT_ROOM_LIMIT)
    }
}

impl fmt::Debug for ChatRoom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatRoom")
            .field("limit", &self.limit)
            .field("rooms", &self.rooms().len())
            .finish()
    }
}

impl ChatService for ChatRoom {
    async fn post(
        &self,
        _ctx: Context,
        init: ChatPostInit,
    ) -> Result<ChatPostOutput, Failure<ChatPostError>> {
        if init.text.trim().is_empty() {
            return Err(Failure::Service(ChatPostError::EmptyMessage {
                message: "a message needs some text".to_string(),
            }));
        }
        let mut rooms = self.rooms();
        let room = rooms.entry(init.room.clone()).or_insert_with(Room::new);
        if room.messages.len() >= self.limit {
            return Err(Failure::Service(ChatPostError::RoomFull {
                message: format!(
                    "room {:?} is full: it holds {} messages",
                    init.room, self.limit
                ),
                extras: ChatPostErrorRoomFullExtras {
                    limit: self.limit as f64,
                },
            }));
        }
        let id = (room.messages.len() + 1) as f64;
        let message = Message {
            id,
            author: init.author,
            text: init.text,
        };
        room.messages.push(message.clone());
        // An error only means that nobody is watching the room.
        let _ = room.feed.send(message);
        Ok(ChatPostOutput { id })
    }

    async fn history(
        &self,
        _ctx: Context,
        init: ChatHistoryInit,
    ) -> Result<ChatHistoryOutput, Failure<ChatHistoryError>> {
        let messages = self
            .rooms()
            .get(&init.room)
            // `chat.history` and `chat.watch` send the same `Message` type.
            .map(|room| room.messages.clone())
            .unwrap_or_default();
        Ok(ChatHistoryOutput { messages })
    }

    async fn watch(
        &self,
        ctx: Context,
        init: ChatWatchInit,
        responses: Responses<ChatWatchOutput, ChatWatchError>,
    ) -> Result<(), Failure<ChatWatchError>> {
        let mut feed = self
            .rooms()
            .entry(init.room)
            .or_insert_with(Room::new)
            .feed
            .subscribe();
        self.watchers_changed.send_replace(());
        let cancelled = ctx.cancelled();
        tokio::pin!(cancelled);
        loop {
            let message = tokio::select! {
                // The client cancelled or its session was lost.
                () = &mut cancelled => return Ok(()),
                received = feed.recv() => match received {
                    Ok(message) => message,
                    // This subscriber fell more than FEED_CAPACITY messages behind: the
                    // oldest are skipped; `chat.history` still has them.
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return Ok(()),
                },
            };
            if responses.ok(message).await.is_err() {
                return Ok(()); // the response half is closed
            }
        }
    }
}

/// A router with the `chat` service, every call handled by `chat`.
pub fn router(chat: Arc<ChatRoom>) -> Router {
    let mut router = Router::new();
    register_chat(&mut router, chat);
    router
}

/// Binds `addr` (port 0 picks a free one; see [`ServerHandle::local_addr`]) and serves
/// the `chat` service there, backed by `chat`, until the handle is shut down.
pub async fn serve(
    addr: impl tokio::net::ToSocketAddrs,
    chat: Arc<ChatRoom>,
) -> Result<ServerHandle, river_runtime::Error> {
    Server::builder().bind(addr, router(chat)).await
}

/// A generated client for the server at `url` (`ws://host:port`). It connects on the
/// first call; close it with `client.inner().close()`.
pub fn connect(url: &str) -> Client {
    Client::new(river_runtime::Client::builder(url).build())
}

/// Posts `text` to `room` as `author` (`chat.post`); the new message's id.
pub async fn post_message(
    client: &Client,
    room: &str,
    author: &str,
    text: &str,
) -> Result<f64, RiverError<ChatPostError>> {
    let init = ChatPostInit {
        room: room.to_string(),
        author: author.to_string(),
        text: text.to_string(),
    };
    Ok(client.chat().post(&init).await?.id)
}

/// Every message of `room`, oldest first (`chat.history`).
pub async fn room_history(
    client: &Client,
    room: &str,
) -> Result<Vec<Message>, RiverError<ChatHistoryError>> {
    let init = ChatHistoryInit {
        room: room.to_string(),
    };
    Ok(client.chat().history(&init).await?.messages)
}

/// Subscribes to the messages posted to `room` from now on (`chat.watch`). Dropping
/// the reader cancels the subscription.
pub fn watch_room(client: &Client, room: &str) -> Reader<ChatWatchOutput, ChatWatchError> {
    client.chat().watch(&ChatWatchInit {
        room: room.to_string(),
    })
}

/// Reads up to `count` messages from `reader`, calling `each` on every one as it
/// arrives; how many arrived (fewer than `count` only if the server ended the
/// subscription).
pub async fn read_messages(
    reader: &mut Reader<ChatWatchOutput, ChatWatchError>,
    count: usize,
    mut each: impl FnMut(&ChatWatchOutput),
) -> Result<usize, RiverError<ChatWatchError>> {
    let mut read = 0;
    while read < count {
        match reader.next().await {
            Some(message) => each(&message?),
            None => break,
        }
        read += 1;
    }
    Ok(read)
}

/// A message as `chat-client` prints it: `#id author: text`.
pub fn format_message(id: f64, author: &str, text: &str) -> String {
    format!("#{id} {author}: {text}")
}

/// A call's failure as `chat-client` prints it: a service error as `CODE: message`,
/// anything else as the runtime describes it.
pub fn describe_error<E: fmt::Display + fmt::Debug>(err: &RiverError<E>) -> String {
    match err {
        RiverError::Service(e) => e.to_string(),
        other => other.to_string(),
    }
}
