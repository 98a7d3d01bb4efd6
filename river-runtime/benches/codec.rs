//! Codec micro-benchmarks: encode and decode of typical River messages, per codec.
//!
//! Two frames are measured: an rpc request as a client sends it (stream open with
//! service and procedure names, tracing, payload `{n}`) and a stream item as a server
//! sends it (payload `{ok, payload: {response}}`). Each codec encodes the payload value
//! and the whole frame, and decodes the frame and then the payload into its type, as the
//! runtime does per message.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use river_runtime::message::{ControlFlags, Payload, Tracing, TransportMessage};
use river_runtime::Codec;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct AddInit {
    n: f64,
}

#[derive(Serialize, Deserialize)]
struct EchoOutput {
    response: String,
}

fn rpc_request(codec: Codec) -> TransportMessage {
    TransportMessage {
        id: "mDc0d3wUXdKY".to_string(),
        from: "client-7Hq2XbOpxQ".to_string(),
        to: "SERVER".to_string(),
        seq: 1234,
        ack: 1200,
        service_name: Some("test".to_string()),
        procedure_name: Some("add".to_string()),
        stream_id: "Xb4kPq0sLm2N".to_string(),
        control_flags: ControlFlags::OPEN | ControlFlags::CLOSED,
        tracing: Some(Tracing::default()),
        payload: codec.encode(&AddInit { n: 3.0 }).expect("encode"),
    }
}

fn stream_item(codec: Codec) -> TransportMessage {
    let inner = codec
        .encode(&EchoOutput {
            response: "hello, river! 01".to_string(),
        })
        .expect("encode");
    TransportMessage {
        id: "Jm3Yq8rTz0aB".to_string(),
        from: "SERVER".to_string(),
        to: "client-7Hq2XbOpxQ".to_string(),
        seq: 98_765,
        ack: 98_700,
        service_name: None,
        procedure_name: None,
        stream_id: "Xb4kPq0sLm2N".to_string(),
        control_flags: ControlFlags::NONE,
        tracing: None,
        payload: codec.encode_result(true, &inner),
    }
}

fn codecs(c: &mut Criterion) {
    for codec in [Codec::Msgpack, Codec::Json] {
        let name = codec.name();
        let request = rpc_request(codec);
        let item = stream_item(codec);
        let request_frame = bytes::Bytes::from(codec.encode_message(&request).expect("frame"));
        let item_frame = bytes::Bytes::from(codec.encode_message(&item).expect("frame"));

        let mut g = c.benchmark_group(format!("codec/{name}"));
        g.throughput(Throughput::Elements(1));
        g.bench_function("encode rpc request (payload + frame)", |b| {
            b.iter(|| {
                let mut msg = request.clone();
                msg.payload = codec
                    .encode(black_box(&AddInit { n: 3.0 }))
                    .expect("encode");
                codec.encode_message(black_box(&msg)).expect("frame")
            })
        });
        g.bench_function("decode rpc request (frame + payload)", |b| {
            b.iter(|| {
                let msg = codec
                    .decode_message(black_box(request_frame.clone()))
                    .expect("frame");
                let init: AddInit = codec.decode(&msg.payload).expect("payload");
                init.n
            })
        });
        g.bench_function("encode stream item (payload + result + frame)", |b| {
            b.iter(|| {
                let out = EchoOutput {
                    response: "hello, river! 01".to_string(),
                };
                let inner = codec.encode(black_box(&out)).expect("encode");
                let mut msg = item.clone();
                msg.payload = codec.encode_result(true, &inner);
                codec.encode_message(black_box(&msg)).expect("frame")
            })
        });
        g.bench_function("decode stream item (frame + result + payload)", |b| {
            b.iter(|| {
                let msg = codec
                    .decode_message(black_box(item_frame.clone()))
                    .expect("frame");
                let (ok, inner) = codec.decode_result(&msg.payload).expect("result");
                let out: EchoOutput = codec.decode(&inner).expect("payload");
                (ok, out.response.len())
            })
        });
        g.finish();

        let mut g = c.benchmark_group("codec/frame only");
        g.bench_with_input(BenchmarkId::new("encode", name), &item, |b, item| {
            b.iter(|| codec.encode_message(black_box(item)).expect("frame"))
        });
        g.bench_with_input(BenchmarkId::new("decode", name), &item_frame, |b, f| {
            b.iter(|| codec.decode_message(black_box(f.clone())).expect("frame"))
        });
        let payload = Payload::from_encoded(item.payload.bytes().clone());
        g.bench_with_input(BenchmarkId::new("decode result", name), &payload, |b, p| {
            b.iter(|| codec.decode_result(black_box(p)).expect("result"))
        });
        g.finish();
    }
}

criterion_group!(benches, codecs);
criterion_main!(benches);
