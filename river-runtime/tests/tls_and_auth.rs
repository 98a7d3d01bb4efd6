//! Production transport over real sockets: `wss://` with certificates made at test time
//! (rcgen), reconnects through the fault proxy over TLS, untrusted certificates, the
//! upgrade authorizer (401 is final), upgrade headers and the per-connect provider,
//! connect failures carried as the cause of call errors.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde::{Deserialize, Serialize};

use fault_proxy::FaultProxy;
use river_runtime::{
    AnyServiceError, Client, ClientOptions, ClientTls, Codec, ConnectRequest, Failure, Router,
    Server, ServerHandle, ServerTls, UpgradeRejection,
};

const CODECS: [Codec; 2] = [Codec::Json, Codec::Msgpack];
type E = AnyServiceError;

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Num {
    n: i64,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Msg {
    msg: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Empty {}

fn router() -> Router {
    let mut r = Router::new();
    r.rpc("test", "double", |_ctx, init: Num| async move {
        Ok::<_, Failure<E>>(Num { n: init.n * 2 })
    });
    // Which `authorization` header the session's current connection carried.
    r.rpc("test", "whoCalls", |ctx, _init: Empty| async move {
        let req = ctx.upgrade_request();
        let auth = req.header("authorization").unwrap_or("").to_string();
        let peer_known = req.peer_addr().is_some();
        Ok::<_, Failure<E>>(Msg {
            msg: format!("{auth}|peer:{peer_known}|path:{}", req.path()),
        })
    });
    r.upload("test", "sum", |_ctx, _init: Empty, mut reqs| async move {
        let mut total = 0;
        while let Some(item) = reqs.next().await {
            let Num { n } = item.map_err(Failure::uncaught)?;
            total += n;
        }
        Ok::<_, Failure<E>>(Num { n: total })
    });
    r.stream(
        "test",
        "echo",
        |_ctx, _init: Empty, mut reqs, resps| async move {
            while let Some(Ok(Msg { msg })) = reqs.next().await {
                if resps.ok(Msg { msg }).await.is_err() {
                    break;
                }
            }
            Ok::<(), Failure<E>>(())
        },
    );
    r.subscription("test", "count", |_ctx, init: Num, resps| async move {
        for i in 0..init.n {
            resps.ok(Num { n: i }).await.map_err(Failure::uncaught)?;
        }
        Ok::<(), Failure<E>>(())
    });
    r
}

fn certs() -> test_certs::TestCerts {
    test_certs::generate().expect("test certificates")
}

async fn tls_server(codec: Codec, certs: &test_certs::TestCerts) -> ServerHandle {
    let tls = ServerTls::from_pem(certs.cert_pem.as_bytes(), certs.key_pem.as_bytes())
        .expect("server TLS");
    Server::builder()
        .codec(codec)
        .tls(tls)
        .bind("127.0.0.1:0", router())
        .await
        .expect("bind")
}

fn trusting(certs: &test_certs::TestCerts) -> ClientTls {
    ClientTls::builder()
        .add_root_pem(certs.ca_pem.as_bytes())
        .build()
        .expect("client roots")
}

/// Short timings so failure paths finish quickly.
fn quick_options() -> ClientOptions {
    let mut o = ClientOptions::default();
    o.session.session_disconnect_grace = Duration::from_millis(800);
    o.connection_timeout = Duration::from_millis(1000);
    o
}

#[tokio::test]
async fn every_kind_over_wss_with_both_codecs() {
    let certs = certs();
    for codec in CODECS {
        let server = tls_server(codec, &certs).await;
        let port = server.local_addr().port();
        // By name (SNI `localhost`) and by IP address (IP SAN).
        for host in ["localhost", "127.0.0.1"] {
            let c = Client::builder(format!("wss://{host}:{port}"))
                .codec(codec)
                .tls(trusting(&certs))
                .build();
            let out: Num = c
                .rpc::<_, _, E>("test", "double", &Num { n: 21 })
                .await
                .unwrap_or_else(|e| panic!("{codec:?} {host}: rpc over wss: {e}"));
            assert_eq!(out, Num { n: 42 });

            let (mut w, resp) = c.upload::<_, Num, Num, E>("test", "sum", &Empty {});
            for n in 1..=100 {
                w.send(Num { n }).await.expect("upload send");
            }
            w.close().await;
            assert_eq!(resp.await.expect("upload"), Num { n: 5050 });

            let (mut w, r) = c.stream::<_, Msg, Msg, E>("test", "echo", &Empty {});
            for i in 0..50 {
                w.send(Msg { msg: i.to_string() }).await.expect("send");
            }
            w.close().await;
            let got: Vec<String> = r.map(|i| i.expect("echo").msg).collect().await;
            assert_eq!(got, (0..50).map(|i| i.to_string()).collect::<Vec<_>>());

            let got: Vec<i64> = c
                .subscribe::<_, Num, E>("test", "count", &Num { n: 5 })
                .map(|i| i.expect("tick").n)
                .collect()
                .await;
            assert_eq!(got, [0, 1, 2, 3, 4]);
            assert_eq!(c.stats().connections, 1);
            c.close().await;
        }
        server.shutdown().await;
    }
}

#[tokio::test]
async fn reconnects_over_tls_through_the_fault_proxy_lose_and_duplicate_nothing() {
    let certs = certs();
    for codec in CODECS {
        let server = tls_server(codec, &certs).await;
        let proxy = Arc::new(FaultProxy::start(server.local_addr()).await.expect("proxy"));
        let c = Client::builder(format!("wss://localhost:{}", proxy.addr().port()))
            .codec(codec)
            .tls(trusting(&certs))
            .build();
        c.connect().await.expect("connect over wss");
        let session_before = c.session_id();

        let (mut w, r) = c.stream::<_, Msg, Msg, E>("test", "echo", &Empty {});
        let total = 2_000;
        let writer = tokio::spawn(async move {
            for i in 0..total {
                w.send(Msg { msg: i.to_string() })
                    .await
                    .expect("send survives reconnects");
                if i % 50 == 0 {
                    tokio::task::yield_now().await;
                }
            }
            w.close().await;
        });
        let p = proxy.clone();
        let cutter = tokio::spawn(async move {
            for _ in 0..3 {
                tokio::time::sleep(Duration::from_millis(40)).await;
                p.cut();
            }
        });
        let got: Vec<String> = r.map(|i| i.expect("item").msg).collect().await;
        writer.await.expect("writer");
        cutter.await.expect("cutter");
        assert_eq!(got.len(), total, "{codec:?}: every message exactly once");
        assert!(
            got.iter().enumerate().all(|(i, m)| *m == i.to_string()),
            "{codec:?}: in order"
        );
        assert!(proxy.stats().connections >= 2, "the connection was cut");
        assert_eq!(c.session_id(), session_before, "same session");
        assert!(c.stats().reconnects >= 1);
        c.close().await;
        server.shutdown().await;
    }
}

#[tokio::test]
async fn untrusted_certificate_is_a_clear_final_error_without_retries() {
    let certs = certs();
    let server = tls_server(Codec::Json, &certs).await;
    // Default roots (webpki): the test CA is not among them.
    let c = Client::builder(format!("wss://localhost:{}", server.local_addr().port()))
        .options(quick_options())
        .build();
    let started = Instant::now();
    let err = c
        .rpc::<_, Num, E>("test", "double", &Num { n: 1 })
        .await
        .expect_err("the certificate is not trusted");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "fails at the first attempt, took {:?}",
        started.elapsed()
    );
    eprintln!("what the caller sees: {err}");
    let cause = err.transport_error().expect("the cause is carried");
    assert!(cause.is_tls(), "{cause:?}");
    let text = err.to_string();
    assert!(text.contains("certificate"), "{text}");
    // No retry storm: one attempt, and nothing more while we wait.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(c.stats().connection_attempts, 1);
    // New calls fail at once with the same cause, still without dialing.
    let err = c
        .rpc::<_, Num, E>("test", "double", &Num { n: 1 })
        .await
        .expect_err("still refused");
    assert!(err.transport_error().is_some_and(|e| e.is_tls()), "{err}");
    assert_eq!(c.stats().connection_attempts, 1);
    server.shutdown().await;
}

#[tokio::test]
async fn wrong_token_gets_401_once_and_right_token_works() {
    let server = Server::builder()
        .authorize_upgrade(|req| match req.bearer_token() {
            Some("good") => Ok(()),
            _ => Err(UpgradeRejection::unauthorized("bad token")),
        })
        .bind("127.0.0.1:0", router())
        .await
        .expect("bind");
    let url = format!("ws://127.0.0.1:{}/river", server.local_addr().port());

    let bad = Client::builder(url.clone())
        .header("authorization", "Bearer nope")
        .build();
    let started = Instant::now();
    let err = bad
        .rpc::<_, Num, E>("test", "double", &Num { n: 1 })
        .await
        .expect_err("401");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    eprintln!("what the caller sees: {err}");
    assert!(err.is_unauthorized(), "{err:?}");
    assert!(err.is_disconnect());
    assert_eq!(
        err.transport_error().and_then(|e| e.http_status()),
        Some(401)
    );
    let text = err.to_string();
    assert!(
        text.contains("401") && text.contains("refused the credentials"),
        "{text}"
    );
    assert!(
        !text.contains("nope"),
        "the token never appears in messages: {text}"
    );
    // The client stopped: a new call fails at once and nothing is dialed again.
    let err = bad
        .rpc::<_, Num, E>("test", "double", &Num { n: 2 })
        .await
        .expect_err("still refused");
    assert!(err.is_unauthorized());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(bad.stats().connection_attempts, 1, "exactly one attempt");
    // An explicit connect tries again (and is refused again, with the status).
    let e = bad.connect().await.expect_err("refused again");
    assert_eq!(e.http_status(), Some(401));
    assert_eq!(bad.stats().connection_attempts, 2);

    let good = Client::builder(url)
        .header("authorization", "Bearer good")
        .build();
    let out: Msg = good
        .rpc::<_, _, E>("test", "whoCalls", &Empty {})
        .await
        .expect("authorized");
    assert_eq!(out.msg, "Bearer good|peer:true|path:/river");
    server.shutdown().await;
}

#[tokio::test]
async fn provider_is_called_on_every_connect_and_the_server_sees_the_new_header() {
    let server = Server::builder()
        .authorize_upgrade(|req| match req.bearer_token() {
            Some(t) if t.starts_with("token-") => Ok(()),
            _ => Err(UpgradeRejection::unauthorized("no token")),
        })
        .bind("127.0.0.1:0", router())
        .await
        .expect("bind");
    let proxy = Arc::new(FaultProxy::start(server.local_addr()).await.expect("proxy"));
    let url = format!("ws://{}", proxy.addr());
    let calls = Arc::new(AtomicUsize::new(0));
    let seen_urls = Arc::new(Mutex::new(Vec::new()));
    let c = {
        let calls = calls.clone();
        let seen_urls = seen_urls.clone();
        Client::builder("ws://label.invalid")
            .connect_with(move || {
                let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
                let url = url.clone();
                seen_urls
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(url.clone());
                async move {
                    Ok::<_, std::io::Error>(
                        ConnectRequest::new(url)
                            .header("authorization", format!("Bearer token-{n}")),
                    )
                }
            })
            .build()
    };
    let first: Msg = c
        .rpc::<_, _, E>("test", "whoCalls", &Empty {})
        .await
        .expect("first call");
    assert!(first.msg.starts_with("Bearer token-1|"), "{}", first.msg);
    let session = c.session_id();

    proxy.cut();
    // The next call rides the transparent reconnect made with a fresh token.
    let mut last = String::new();
    for _ in 0..50 {
        match c.rpc::<_, Msg, E>("test", "whoCalls", &Empty {}).await {
            Ok(m) if !m.msg.starts_with("Bearer token-1|") => {
                last = m.msg;
                break;
            }
            Ok(m) => last = m.msg,
            Err(e) => panic!("call across the reconnect failed: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(last.starts_with("Bearer token-2|"), "{last}");
    assert_eq!(calls.load(Ordering::SeqCst), 2, "once per connect");
    assert_eq!(c.session_id(), session, "the session survived");
    assert_eq!(c.stats().reconnects, 1);
    server.shutdown().await;
}

#[tokio::test]
async fn static_headers_are_sent_on_every_connect() {
    let server = Server::builder()
        .bind("127.0.0.1:0", router())
        .await
        .expect("bind");
    let c = Client::builder(format!("ws://{}", server.local_addr()))
        .header("authorization", "Bearer fixed")
        .build();
    let out: Msg = c
        .rpc::<_, _, E>("test", "whoCalls", &Empty {})
        .await
        .expect("call");
    assert!(out.msg.starts_with("Bearer fixed|"), "{}", out.msg);
    server.shutdown().await;
}

#[tokio::test]
async fn refused_connections_are_retried_and_the_call_error_says_why() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let c = Client::builder(format!("ws://127.0.0.1:{port}"))
        .options(quick_options())
        .build();
    let err = c
        .rpc::<_, Num, E>("test", "double", &Num { n: 1 })
        .await
        .expect_err("nothing listens");
    eprintln!("what the caller sees: {err}");
    assert!(err.is_disconnect());
    let cause = err.transport_error().expect("cause");
    assert!(cause.is_connect() && !cause.is_unauthorized(), "{cause:?}");
    let text = err.to_string().to_lowercase();
    assert!(text.contains("refused"), "{text}");
    assert!(
        std::error::Error::source(&err).is_some(),
        "the cause is reachable through source()"
    );
    assert!(
        c.stats().connection_attempts > 1,
        "refused connections keep the backoff and retry budget"
    );
}

#[tokio::test]
async fn unsupported_scheme_fails_at_once() {
    let c = Client::builder("http://127.0.0.1:1/river").build();
    let started = Instant::now();
    let err = c
        .rpc::<_, Num, E>("test", "double", &Num { n: 1 })
        .await
        .expect_err("http:// is not a WebSocket URL");
    assert!(started.elapsed() < Duration::from_millis(500));
    let cause = err.transport_error().expect("cause");
    assert!(cause.is_config(), "{cause:?}");
    assert!(
        err.to_string().contains("unsupported URL scheme `http`"),
        "{err}"
    );
    assert_eq!(c.stats().connection_attempts, 1);
}

#[tokio::test]
async fn server_tls_rejects_unusable_pem() {
    let err = ServerTls::from_pem(b"not pem", b"not pem").expect_err("no certificate");
    assert!(err.is_config(), "{err:?}");
    let err = ClientTls::builder()
        .add_root_pem_file("/nonexistent/ca.pem")
        .build()
        .expect_err("missing file");
    assert!(
        err.is_config() && err.to_string().contains("/nonexistent/ca.pem"),
        "{err}"
    );
}
