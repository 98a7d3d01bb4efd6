//! The router every scenario's server runs: one procedure of each kind.

use super::*;

/// The request/response type of the test procedures.
#[derive(Serialize, Deserialize)]
pub(super) struct Num_ {
    pub(super) n: i64,
}

/// The service error of the test procedures.
#[derive(Serialize)]
pub(super) struct Oops {
    code: &'static str,
    message: String,
}

pub(super) fn oops(n: i64) -> Failure<Oops> {
    Failure::Service(Oops {
        code: "NEGATIVE",
        message: format!("{n} is negative"),
    })
}

/// One procedure of each kind in service `svc`. Handlers never panic (a panic aborts the
/// fuzzer) and never outlive their call.
pub(super) fn router() -> Router {
    let mut r = Router::new();
    r.rpc("svc", "rpc", |ctx: Context, init: Num_| async move {
        match init.n {
            n if n < 0 => Err(oops(n)),
            7 => {
                ctx.cancel("seven");
                Ok(Num_ { n: 7 })
            }
            8 => Err(Failure::Uncaught("eight".to_string())),
            13 => {
                ctx.cancelled().await;
                Ok(Num_ { n: 13 })
            }
            n => Ok(Num_ {
                n: n.wrapping_add(1),
            }),
        }
    });
    r.upload(
        "svc",
        "upload",
        |ctx: Context, init: Num_, mut reqs: Requests<Num_>| async move {
            let mut sum = init.n;
            loop {
                tokio::select! {
                    item = reqs.next() => match item {
                        Some(Ok(x)) => sum = sum.wrapping_add(x.n),
                        Some(Err(_)) | None => break,
                    },
                    _ = ctx.cancelled() => break,
                }
            }
            if sum < 0 {
                return Err(oops(sum));
            }
            Ok(Num_ { n: sum })
        },
    );
    r.stream(
        "svc",
        "stream",
        |ctx: Context, init: Value, mut reqs: Requests<Value>, res: Responses<Value, Oops>| async move {
            if init.get("close").is_some() {
                res.close().await;
            }
            loop {
                tokio::select! {
                    item = reqs.next() => match item {
                        Some(Ok(v)) => {
                            if v.get("fail").is_some() {
                                return Err(oops(-1));
                            }
                            if res.ok(v).await.is_err() {
                                break;
                            }
                        }
                        Some(Err(_)) | None => break,
                    },
                    _ = ctx.cancelled() => break,
                }
            }
            Ok(())
        },
    );
    r.subscription(
        "svc",
        "sub",
        |ctx: Context, init: Num_, res: Responses<Num_, Oops>| async move {
            for i in 0..init.n.rem_euclid(4) {
                if res.ok(Num_ { n: i }).await.is_err() {
                    break;
                }
            }
            if init.n < 0 {
                let _ = res
                    .err(Oops {
                        code: "NEGATIVE",
                        message: "negative".to_string(),
                    })
                    .await;
            }
            if init.n == 5 {
                ctx.cancelled().await;
            }
            if init.n == 6 {
                return Err(oops(6));
            }
            Ok(())
        },
    );
    r
}
