//! The interop contract of `shared/conformance/README.md`, implemented with the generic
//! server API.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use river_runtime::{
    BigInt, Bytes, Date, Failure, HandshakeRejection, HandshakeValidator, Router, Value,
};
use serde::{Deserialize, Serialize};

/// A service error `{code, message, extras?}`.
#[derive(Debug, Serialize)]
pub struct SvcErr {
    code: String,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    extras: Option<serde_json::Value>,
}

fn svc_err(code: &str, message: String, extras: serde_json::Value) -> SvcErr {
    SvcErr {
        code: code.to_string(),
        message,
        extras: Some(extras),
    }
}

type F = Failure<SvcErr>;

/// Event records shared by the whole server (`test.pushOrdered`, `cancel.*`, ...).
#[derive(Clone, Default)]
pub struct Records(Arc<Mutex<HashMap<String, Vec<String>>>>);

impl Records {
    /// Appends an event under `key`.
    pub fn push(&self, key: &str, event: impl Into<String>) {
        if let Ok(mut m) = self.0.lock() {
            m.entry(key.to_string()).or_default().push(event.into());
        }
    }
    /// The events under `key`.
    pub fn get(&self, key: &str) -> Vec<String> {
        self.0
            .lock()
            .map(|m| m.get(key).cloned().unwrap_or_default())
            .unwrap_or_default()
    }
}

/// Handles on the contract server's state.
#[derive(Clone, Default)]
pub struct Contract {
    /// The `test.add` counter.
    pub counter: Arc<AtomicI64>,
    /// Event records.
    pub records: Records,
}

/// Parsed handshake metadata of the handshake variant.
#[derive(Clone, Debug)]
pub struct Meta {
    /// The token as sent.
    pub token: String,
    /// The user after `valid-`.
    pub user_id: String,
}

#[derive(Deserialize)]
struct TokenMeta {
    token: String,
}

/// The handshake policy of the handshake variant.
pub fn validator() -> HandshakeValidator {
    HandshakeValidator::new(|m: TokenMeta, _prev: Option<&Meta>, _from: &str| {
        if let Some(user) = m.token.strip_prefix("valid-") {
            return Ok(Meta {
                token: m.token.clone(),
                user_id: user.to_string(),
            });
        }
        if m.token == "unsupported" {
            Err(HandshakeRejection::RejectedUnsupportedClient)
        } else {
            Err(HandshakeRejection::RejectedByCustomHandler)
        }
    })
}

#[derive(Serialize, Deserialize)]
struct Empty {}
#[derive(Deserialize)]
struct N {
    n: i64,
}
#[derive(Serialize)]
struct Result_ {
    result: i64,
}
#[derive(Serialize, Deserialize)]
struct OnlyN {
    n: i64,
}
#[derive(Serialize, Deserialize)]
struct I {
    i: i64,
}
#[derive(Deserialize)]
struct DataIn {
    data: Bytes,
}
#[derive(Serialize)]
struct DataOut {
    data: Bytes,
    length: usize,
}
#[derive(Deserialize)]
struct SIn {
    s: String,
}
#[derive(Serialize)]
struct SOut {
    s: String,
    length: usize,
}
#[derive(Deserialize)]
struct BigIn {
    v: BigInt,
}
#[derive(Serialize)]
struct BigOut {
    v: BigInt,
    #[serde(rename = "plusOne")]
    plus_one: BigInt,
}
#[derive(Deserialize)]
struct DateIn {
    v: Date,
}
#[derive(Serialize)]
struct DateOut {
    v: Date,
    #[serde(rename = "epochMs")]
    epoch_ms: i64,
}
#[derive(Deserialize)]
struct Message {
    message: String,
}
#[derive(Deserialize)]
struct KeyN {
    key: String,
    n: i64,
}
#[derive(Deserialize)]
struct Key {
    key: String,
}
#[derive(Serialize)]
struct Events {
    events: Vec<String>,
}
#[derive(Deserialize)]
struct EchoReq {
    msg: String,
    #[serde(default)]
    ignore: Option<bool>,
}
#[derive(Serialize)]
struct EchoRes {
    response: String,
}
#[derive(Deserialize)]
struct Prefix {
    prefix: String,
}
#[derive(Deserialize)]
struct Msg {
    msg: String,
}
#[derive(Serialize)]
struct SumOut {
    result: i64,
    count: i64,
}
#[derive(Deserialize)]
struct Limit {
    limit: i64,
}
#[derive(Deserialize)]
struct Ticker {
    n: i64,
    #[serde(default, rename = "intervalMs")]
    interval_ms: Option<u64>,
}
#[derive(Deserialize)]
struct Watch {
    key: String,
    #[serde(default, rename = "intervalMs")]
    interval_ms: Option<u64>,
}
#[derive(Serialize)]
struct WhoAmI {
    from: String,
    #[serde(rename = "sessionId")]
    session_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", rename = "userId")]
    user_id: Option<String>,
}
#[derive(Serialize)]
struct Requested {
    requested: bool,
}

/// Builds the contract router. `handshake` selects the handshake variant (for
/// `meta.rehandshake`).
pub fn router(c: &Contract, handshake: bool) -> Router {
    let mut r = Router::new();
    let counter = c.counter.clone();
    r.rpc("test", "add", move |_ctx, init: N| {
        let counter = counter.clone();
        async move {
            let total = counter.fetch_add(init.n, Ordering::SeqCst) + init.n;
            Ok::<_, F>(Result_ { result: total })
        }
    });
    r.rpc("test", "echoAll", |_ctx, init: Value| async move {
        Ok::<_, F>(init)
    });
    r.rpc("test", "echoBytes", |_ctx, init: DataIn| async move {
        let length = init.data.0.len();
        Ok::<_, F>(DataOut {
            data: init.data,
            length,
        })
    });
    r.rpc("test", "echoString", |_ctx, init: SIn| async move {
        let length = init.s.encode_utf16().count();
        Ok::<_, F>(SOut { s: init.s, length })
    });
    r.rpc("test", "echoBigInt", |_ctx, init: BigIn| async move {
        let plus_one = BigInt(init.v.0.clone() + 1);
        Ok::<_, F>(BigOut {
            v: init.v,
            plus_one,
        })
    });
    r.rpc("test", "echoDate", |_ctx, init: DateIn| async move {
        let epoch_ms = init.v.millis();
        Ok::<_, F>(DateOut {
            v: init.v,
            epoch_ms,
        })
    });
    r.rpc("test", "checkRange", |_ctx, init: N| async move {
        if init.n < 0 {
            return Err(Failure::Service(svc_err(
                "TOO_SMALL",
                format!("{} is below 0", init.n),
                serde_json::json!({"min": 0}),
            )));
        }
        if init.n > 100 {
            return Err(Failure::Service(svc_err(
                "TOO_BIG",
                format!("{} is above 100", init.n),
                serde_json::json!({"max": 100, "got": init.n}),
            )));
        }
        Ok(OnlyN { n: init.n })
    });
    r.rpc("test", "throwError", |_ctx, init: Message| async move {
        Err::<Empty, F>(Failure::Uncaught(init.message))
    });
    r.rpc("test", "panics", |_ctx, _init: Empty| async move {
        if true {
            panic!("handler exploded");
        }
        Ok::<Empty, F>(Empty {})
    });
    let rec = c.records.clone();
    r.rpc("test", "pushOrdered", move |_ctx, init: KeyN| {
        let rec = rec.clone();
        async move {
            rec.push(&init.key, init.n.to_string());
            Ok::<_, F>(OnlyN { n: init.n })
        }
    });
    let rec = c.records.clone();
    r.rpc("test", "getRecord", move |_ctx, init: Key| {
        let rec = rec.clone();
        async move {
            Ok::<_, F>(Events {
                events: rec.get(&init.key),
            })
        }
    });

    r.stream(
        "streams",
        "echo",
        |_ctx, _init: Empty, mut reqs, resps| async move {
            while let Some(item) = reqs.next().await {
                let Ok(EchoReq { msg, ignore }) = item else {
                    break;
                };
                if ignore != Some(true) && resps.ok(EchoRes { response: msg }).await.is_err() {
                    break;
                }
            }
            Ok::<(), F>(())
        },
    );
    r.stream(
        "streams",
        "echoWithPrefix",
        |_ctx, init: Prefix, mut reqs, resps| async move {
            while let Some(item) = reqs.next().await {
                let Ok(EchoReq { msg, ignore }) = item else {
                    break;
                };
                if ignore != Some(true) {
                    let response = format!("{} {}", init.prefix, msg);
                    if resps.ok(EchoRes { response }).await.is_err() {
                        break;
                    }
                }
            }
            Ok::<(), F>(())
        },
    );
    let rec = c.records.clone();
    r.stream(
        "streams",
        "serverClosesFirst",
        move |_ctx, init: KeyN, mut reqs, resps| {
            let rec = rec.clone();
            async move {
                for i in 0..init.n {
                    resps.ok(I { i }).await.map_err(Failure::uncaught)?;
                }
                resps.close().await;
                rec.push(&init.key, "serverClosed");
                let mut count = 0;
                while let Some(Ok(Msg { .. })) = reqs.next().await {
                    count += 1;
                }
                rec.push(&init.key, format!("received:{count}"));
                Ok::<(), F>(())
            }
        },
    );
    r.stream(
        "streams",
        "throwsMidway",
        |_ctx, init: N, _reqs: river_runtime::Requests<Msg>, resps| async move {
            for i in 0..init.n {
                resps.ok(I { i }).await.map_err(Failure::uncaught)?;
            }
            Err::<(), F>(Failure::Uncaught("stream exploded midway".into()))
        },
    );
    r.stream(
        "streams",
        "errMidway",
        |_ctx, init: N, mut reqs: river_runtime::Requests<Msg>, resps| async move {
            for i in 0..init.n {
                resps.ok(I { i }).await.map_err(Failure::uncaught)?;
            }
            let e = svc_err(
                "MIDWAY",
                "service-level error in the middle of a stream".into(),
                serde_json::json!({"at": init.n}),
            );
            resps.err(e).await.map_err(Failure::uncaught)?;
            resps.ok(I { i: init.n }).await.map_err(Failure::uncaught)?;
            while let Some(Ok(_)) = reqs.next().await {}
            Ok::<(), F>(())
        },
    );
    r.stream(
        "streams",
        "serverCancel",
        |ctx, init: N, _reqs: river_runtime::Requests<Msg>, resps| async move {
            for i in 0..init.n {
                resps.ok(I { i }).await.map_err(Failure::uncaught)?;
            }
            ctx.cancel("cancelled by server handler");
            Ok::<(), F>(())
        },
    );

    r.upload(
        "uploads",
        "sum",
        |_ctx, _init: Empty, mut reqs| async move {
            let (mut result, mut count) = (0, 0);
            while let Some(item) = reqs.next().await {
                match item {
                    Ok(OnlyN { n }) => {
                        result += n;
                        count += 1;
                    }
                    Err(e) => return Err(Failure::uncaught(e)),
                }
            }
            Ok::<_, F>(SumOut { result, count })
        },
    );
    r.upload(
        "uploads",
        "sumWithLimit",
        |_ctx, init: Limit, mut reqs| async move {
            let mut total = 0;
            while let Some(item) = reqs.next().await {
                match item {
                    Ok(OnlyN { n }) => {
                        total += n;
                        if total > init.limit {
                            return Err(Failure::Service(svc_err(
                                "LIMIT_EXCEEDED",
                                format!("total {total} exceeds limit {}", init.limit),
                                serde_json::json!({"limit": init.limit, "total": total}),
                            )));
                        }
                    }
                    Err(e) => return Err(Failure::uncaught(e)),
                }
            }
            Ok::<_, F>(Result_ { result: total })
        },
    );

    r.subscription("subs", "ticker", |_ctx, init: Ticker, resps| async move {
        for i in 0..init.n {
            if i > 0 {
                if let Some(ms) = init.interval_ms {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
            }
            resps.ok(I { i }).await.map_err(Failure::uncaught)?;
        }
        Ok::<(), F>(())
    });
    let rec = c.records.clone();
    r.subscription("subs", "watch", move |ctx, init: Watch, resps| {
        let rec = rec.clone();
        async move {
            rec.push(&init.key, "started");
            let period = Duration::from_millis(init.interval_ms.unwrap_or(20));
            let mut i = 0;
            loop {
                if resps.ok(I { i }).await.is_err() {
                    break;
                }
                i += 1;
                tokio::select! {
                    _ = tokio::time::sleep(period) => {}
                    _ = ctx.cancelled() => break,
                }
            }
            rec.push(&init.key, "aborted");
            Ok::<(), F>(())
        }
    });

    let rec = c.records.clone();
    r.rpc("cancel", "blockRpc", move |ctx, init: Key| {
        let rec = rec.clone();
        async move {
            rec.push(&init.key, "started");
            ctx.cancelled().await;
            rec.push(&init.key, "aborted");
            Ok::<Empty, F>(Empty {})
        }
    });
    let rec = c.records.clone();
    r.stream(
        "cancel",
        "blockStream",
        move |ctx, init: Key, mut reqs, _resps: river_runtime::Responses<Empty, SvcErr>| {
            let rec = rec.clone();
            async move {
                rec.push(&init.key, "started");
                while let Some(item) = reqs.next().await {
                    match item {
                        Ok(Msg { msg }) => rec.push(&init.key, format!("msg:{msg}")),
                        Err(e) => {
                            rec.push(&init.key, format!("readErr:{}", e.code.as_str()));
                            break;
                        }
                    }
                }
                ctx.cancelled().await;
                rec.push(&init.key, "aborted");
                Ok::<(), F>(())
            }
        },
    );
    let rec = c.records.clone();
    r.upload("cancel", "blockUpload", move |ctx, init: Key, mut reqs| {
        let rec = rec.clone();
        async move {
            rec.push(&init.key, "started");
            while let Some(item) = reqs.next().await {
                match item {
                    Ok(Msg { msg }) => rec.push(&init.key, format!("msg:{msg}")),
                    Err(e) => {
                        rec.push(&init.key, format!("readErr:{}", e.code.as_str()));
                        break;
                    }
                }
            }
            ctx.cancelled().await;
            rec.push(&init.key, "aborted");
            Ok::<Empty, F>(Empty {})
        }
    });
    let rec = c.records.clone();
    r.subscription(
        "cancel",
        "blockSubscription",
        move |ctx, init: Key, _resps: river_runtime::Responses<Empty, SvcErr>| {
            let rec = rec.clone();
            async move {
                rec.push(&init.key, "started");
                ctx.cancelled().await;
                rec.push(&init.key, "aborted");
                Ok::<(), F>(())
            }
        },
    );

    r.rpc("meta", "whoami", |ctx, _init: Empty| async move {
        let meta = ctx.metadata::<Meta>();
        Ok::<_, F>(WhoAmI {
            from: ctx.client_id().to_string(),
            session_id: ctx.session_id().to_string(),
            token: meta.as_ref().map(|m| m.token.clone()),
            user_id: meta.as_ref().map(|m| m.user_id.clone()),
        })
    });
    r.rpc("meta", "rehandshake", move |ctx, _init: Empty| async move {
        if handshake {
            ctx.request_rehandshake();
        }
        Ok::<_, F>(Requested {
            requested: handshake,
        })
    });
    r
}
