//! The example app in-process on 127.0.0.1:0: `/health` over https, River over wss://
//! with the right token (rpc and subscription), a wrong or missing token refused with
//! 401 at once, a token file read afresh on every connect, then graceful shutdown.
//! The same over plain HTTP.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_rustls::rustls::pki_types::ServerName;

use river_example_axum::{
    app, client, river, serve, Greeting, Hello, Tick, TickRequest, TokenSource, Users,
};
use river_runtime::{AnyServiceError, ClientTls, ServerTls, ShutdownReport};

type E = AnyServiceError;

struct Running {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    served: JoinHandle<std::io::Result<ShutdownReport>>,
}

async fn start(tls: Option<&test_certs::TestCerts>) -> Running {
    let tls = tls.map(|c| {
        ServerTls::from_pem(c.cert_pem.as_bytes(), c.key_pem.as_bytes())
            .expect("server TLS")
            .rustls_config()
            .clone()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let river = river(Users::new([("s3cret", "alice"), ("t0ken2", "bob")]));
    let (stop, stopped) = oneshot::channel::<()>();
    let served = tokio::spawn(serve(
        listener,
        app(river.clone()),
        river,
        tls,
        async move {
            let _ = stopped.await;
        },
    ));
    Running { addr, stop, served }
}

/// One raw HTTP/1.1 request; the whole response as text.
async fn get(mut io: impl AsyncRead + AsyncWrite + Unpin, path: &str) -> String {
    let req = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    io.write_all(req.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    io.read_to_end(&mut buf).await.expect("read");
    String::from_utf8(buf).expect("utf-8")
}

fn trusting(certs: &test_certs::TestCerts) -> ClientTls {
    ClientTls::builder()
        .webpki_roots(false)
        .add_root_pem(certs.ca_pem.as_bytes())
        .build()
        .expect("client roots")
}

async fn greet(c: &river_runtime::Client) -> Result<String, river_runtime::RiverError<E>> {
    let out: Greeting = c
        .rpc::<_, _, E>(
            "greeter",
            "hello",
            &Hello {
                name: "test".into(),
            },
        )
        .await?;
    Ok(out.message)
}

/// The right token gets the rpc and the subscription; a wrong or missing one gets 401
/// after one attempt.
async fn check_river(url: &str, tls: Option<ClientTls>) {
    let good = client(url, tls.clone(), TokenSource::Fixed("s3cret".into()));
    let message = greet(&good).await.expect("authorized rpc");
    assert!(
        message.starts_with("Hello, test! You are alice, calling from 127.0.0.1:"),
        "{message}"
    );
    let ticks: Vec<u32> = good
        .subscribe::<_, Tick, E>(
            "clock",
            "ticks",
            &TickRequest {
                count: 3,
                interval_ms: 10,
            },
        )
        .map(|t| t.expect("tick").n)
        .collect()
        .await;
    assert_eq!(ticks, [1, 2, 3]);
    good.close().await;

    for tokens in [TokenSource::Fixed("wrong".into()), TokenSource::None] {
        let bad = client(url, tls.clone(), tokens);
        let started = Instant::now();
        let err = greet(&bad).await.expect_err("refused");
        assert!(err.is_unauthorized(), "{err:?}");
        assert!(err.to_string().contains("HTTP 401"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(1), "{err}");
        assert_eq!(bad.stats().connection_attempts, 1, "401 is not retried");
        bad.close().await;
    }
}

#[tokio::test]
async fn over_tls_health_and_river_with_tokens_then_graceful_shutdown() {
    let certs = test_certs::generate().expect("certificates");
    let server = start(Some(&certs)).await;
    let port = server.addr.port();

    // `/health` over https, with a bare rustls client.
    let tls = trusting(&certs);
    let connector =
        tokio_rustls::TlsConnector::from(Arc::clone(tls.rustls_config().expect("rustls config")));
    let tcp = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    let stream = connector
        .connect(ServerName::try_from("localhost").expect("name"), tcp)
        .await
        .expect("TLS handshake");
    let response = get(stream, "/health").await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("\r\n\r\nok"), "{response}");

    check_river(&format!("wss://localhost:{port}/river"), Some(tls.clone())).await;

    // The token file is read before each connect: a client built while the file holds
    // a wrong token is refused, a later one gets the new token's user.
    let dir = std::env::temp_dir().join(format!("river-example-axum-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("token");
    std::fs::write(&file, "wrong\n").expect("write token");
    let url = format!("wss://localhost:{port}/river");
    let refused = client(&url, Some(tls.clone()), TokenSource::File(file.clone()));
    assert!(greet(&refused).await.expect_err("401").is_unauthorized());
    std::fs::write(&file, "t0ken2\n").expect("write token");
    let c = client(&url, Some(tls.clone()), TokenSource::File(file.clone()));
    let message = greet(&c).await.expect("rpc with the file's token");
    assert!(message.contains("You are bob"), "{message}");
    let _ = std::fs::remove_dir_all(&dir);

    // Shutdown: a subscription in flight finishes within the deadline.
    let mut slow = c.subscribe::<_, Tick, E>(
        "clock",
        "ticks",
        &TickRequest {
            count: 5,
            interval_ms: 50,
        },
    );
    assert_eq!(slow.next().await.expect("first").expect("tick").n, 1);
    server.stop.send(()).expect("stop");
    let rest: Vec<u32> = slow.map(|t| t.expect("tick").n).collect().await;
    assert_eq!(rest, [2, 3, 4, 5]);
    let report = server
        .served
        .await
        .expect("join")
        .expect("served without error");
    assert!(report.drained, "{report:?}");
    assert!(tokio::net::TcpStream::connect(server.addr).await.is_err());
    c.close().await;
}

#[tokio::test]
async fn over_plain_http_health_and_river_with_tokens() {
    let server = start(None).await;
    let tcp = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    let response = get(tcp, "/health").await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("\r\n\r\nok"), "{response}");

    check_river(&format!("ws://{}/river", server.addr), None).await;

    server.stop.send(()).expect("stop");
    let report = server.served.await.expect("join").expect("served");
    assert!(report.drained, "{report:?}");
}
