//! A generated API for a schema with `Date` fields (`schemas/journal.json`): with the
//! JSON codec (the default) the generated client and server fail before any call, with
//! a message naming the field and the fix; with msgpack a call works.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use river_generated_e2e::journal::{client::Client, server, types, BINARY_CODEC_FIELDS};
use river_runtime::{Codec, Context, Date, Failure, Router, Server};

/// What the JSON codec refuses, for the client and for the server.
const CLIENT_ERROR: &str = "the JSON codec cannot carry `journal.post init: sentAt` and \
    `journal.post output: sentAt` (Dates; the reference's JSON codec sends {}): use \
    Codec::Msgpack on both sides (ClientBuilder::codec)";
const SERVER_ERROR: &str = "the JSON codec cannot carry `journal.post init: sentAt` and \
    `journal.post output: sentAt` (Dates; the reference's JSON codec sends {}): use \
    Codec::Msgpack on both sides (ServerBuilder::codec)";

#[derive(Default)]
struct Journal {
    entries: AtomicU64,
}

impl server::JournalService for Journal {
    async fn post(
        &self,
        _ctx: Context,
        init: types::JournalPostInit,
    ) -> Result<types::JournalPostOutput, Failure<types::JournalPostError>> {
        let id = self.entries.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(types::JournalPostOutput {
            id: id as f64,
            text: init.text,
            sent_at: init.sent_at,
        })
    }

    async fn count(
        &self,
        _ctx: Context,
        _init: types::JournalCountInit,
    ) -> Result<f64, Failure<types::JournalCountError>> {
        Ok(self.entries.load(Ordering::SeqCst) as f64)
    }
}

fn router() -> Router {
    let mut router = Router::new();
    server::register_journal(&mut router, Arc::new(Journal::default()));
    router
}

#[test]
fn the_generated_constant_names_the_date_fields() {
    assert_eq!(
        BINARY_CODEC_FIELDS,
        ["journal.post init: sentAt", "journal.post output: sentAt"]
    );
}

#[tokio::test]
async fn a_json_client_fails_before_any_call_naming_the_field() {
    // Nothing listens here: any dial would fail with a different error.
    let url = "ws://127.0.0.1:9";

    let err = Client::try_new(river_runtime::Client::builder(url).build())
        .map(|_| ())
        .expect_err("the JSON codec cannot carry a Date");
    assert!(err.is_config());
    assert_eq!(err.to_string(), CLIENT_ERROR);

    // `Client::new` cannot fail: the runtime client fails `connect` (and every call)
    // at once with the same error, without dialling.
    let client = Client::new(river_runtime::Client::builder(url).build());
    let connect = client
        .inner()
        .connect()
        .await
        .expect_err("connect is refused");
    assert_eq!(connect.to_string(), CLIENT_ERROR);
    let call = client
        .journal()
        .count(&types::JournalCountInit {})
        .await
        .map(|_| ())
        .expect_err("calls are refused");
    assert_eq!(
        call.transport_error().map(|e| e.to_string()).as_deref(),
        Some(CLIENT_ERROR)
    );
    assert_eq!(client.inner().stats().connection_attempts, 0);

    // The runtime builder does the same with the generated list.
    let err = river_runtime::Client::builder(url)
        .require_binary_codec(BINARY_CODEC_FIELDS)
        .try_build()
        .map(|_| ())
        .expect_err("refused");
    assert_eq!(err.to_string(), CLIENT_ERROR);
}

#[tokio::test]
async fn a_json_server_fails_to_bind_naming_the_field() {
    let err = Server::builder()
        .bind("127.0.0.1:0", router())
        .await
        .map(|_| ())
        .expect_err("the JSON codec cannot carry a Date");
    assert!(err.is_config());
    assert_eq!(err.to_string(), SERVER_ERROR);
}

#[tokio::test]
async fn msgpack_carries_the_dates() {
    let run = async {
        let handle = Server::builder()
            .codec(Codec::Msgpack)
            .bind("127.0.0.1:0", router())
            .await
            .expect("bind the msgpack server");
        let client = Client::try_new(
            river_runtime::Client::builder(format!("ws://{}", handle.local_addr()))
                .codec(Codec::Msgpack)
                .build(),
        )
        .expect("msgpack carries Dates");
        let sent_at = Date::from_millis(1_717_171_717_171);
        let out = client
            .journal()
            .post(&types::JournalPostInit {
                text: "hello".into(),
                sent_at,
            })
            .await
            .expect("post");
        assert_eq!(out.sent_at, sent_at);
        assert_eq!(out.text, "hello");
        assert_eq!(
            client
                .journal()
                .count(&types::JournalCountInit {})
                .await
                .expect("count"),
            1.0
        );
        client.inner().close().await;
        handle.shutdown().await;
    };
    tokio::time::timeout(Duration::from_secs(20), run)
        .await
        .expect("within 20 s");
}

#[tokio::test]
async fn the_opt_out_runs_json_for_procedures_without_dates() {
    let run = async {
        let handle = Server::builder()
            .skip_binary_codec_check()
            .bind("127.0.0.1:0", router())
            .await
            .expect("bind with the check skipped");
        let client = Client::try_new(
            river_runtime::Client::builder(format!("ws://{}", handle.local_addr()))
                .skip_binary_codec_check()
                .build(),
        )
        .expect("the check is skipped");
        let n = client
            .journal()
            .count(&types::JournalCountInit {})
            .await
            .expect("count over JSON");
        assert_eq!(n, 0.0);
        client.inner().close().await;
        handle.shutdown().await;
    };
    tokio::time::timeout(Duration::from_secs(20), run)
        .await
        .expect("within 20 s");
}
