//! The real-time path's work per batch: a CloudWatch Logs subscription
//! payload (base64 of gzip of JSON, built as CloudWatch Logs builds it) of
//! 10,000 log events is decoded, parsed, classified, fingerprinted and
//! grouped, exactly as `stream-error-logs` does before publishing.
//! `cargo bench -p bench --bench stream` prints log events/s ("elem/s").

use adapters::awslogs;
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use domain::classify::Classifier;
use domain::model::AgentId;
use domain::usecases::stream::{group_batch, SubscriptionMessage};
use serde_json::json;

const EVENTS: usize = 10_000;

/// What an error filter pattern lets through from a busy Lambda's group:
/// mostly errors of a few kinds with varying ids and numbers, some
/// multi-line, plus lines that only mention an error word.
fn message(i: usize) -> String {
    match i % 8 {
        0 => format!("2026-11-25T10:00:{:02}.{i:03}Z\t3f1c2b9a-1d2e-4f5a-9b8c-{i:012}\tERROR\tpayment gateway timeout for order {i} after {} ms", i % 60, 3000 + i % 500),
        1 => format!(r#"{{"level":"error","msg":"charge {i} failed: card declined","ts":"2026-11-25T10:00:00Z","trace":"{i:x}"}}"#),
        2 => format!("[ERROR] 2026-11-25T10:00:00.000Z 3f1c2b9a-1d2e-4f5a-9b8c-{i:012} handler failed for order {i}\nTraceback (most recent call last):\n  File \"/var/task/app.py\", line {}, in handler\n    qty = event['qty']\nKeyError: 'qty'", 40 + i % 5),
        3 => format!("java.lang.NullPointerException: user {i} missing\n\tat com.acme.Orders.load(Orders.java:{})\n\tat com.acme.Api.handle(Api.java:31)\nCaused by: java.sql.SQLException: timeout after {} ms", 70 + i % 9, i % 5000),
        4 => format!("2026-11-25T10:00:00.000Z 3f1c2b9a-1d2e-4f5a-9b8c-{i:012} Task timed out after {}.00 seconds", 3 + i % 3),
        5 => format!("thread 'tokio-runtime-worker' panicked at src/db.rs:{}:14:\ncalled `Option::unwrap()` on a `None` value", 80 + i % 7),
        6 => format!("2026-11-25T10:00:00.000Z\t3f1c2b9a-1d2e-4f5a-9b8c-{i:012}\tINFO\tretrying order {i}: 0 errors so far"),
        _ => format!("2026-11-25 10:00:00 WARN exception ignored while closing connection {i} to shard {}", i % 16),
    }
}

/// The `awslogs.data` of one batch of `n` events.
fn payload(n: usize) -> String {
    let start = 1_795_600_000_000i64;
    let events: Vec<_> = (0..n)
        .map(|i| {
            json!({
                "id": format!("{:056}", 37_000_000_000_000u64 + i as u64),
                "timestamp": start + i as i64 * 7,
                "message": message(i),
            })
        })
        .collect();
    let m = json!({
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": "/aws/lambda/orders",
        "logStream": "2026/11/25/[$LATEST]0123456789abcdef0123456789abcdef",
        "subscriptionFilters": ["monitoring-errors"],
        "logEvents": events,
    });
    awslogs::encode(m.to_string().as_bytes())
}

fn bench(c: &mut Criterion) {
    let data = payload(EVENTS);
    let classifier = Classifier::defaults();
    let agent: AgentId = "123456789012-eu-west-1".parse().expect("agent id");
    let mut g = c.benchmark_group("stream");
    g.throughput(Throughput::Elements(EVENTS as u64));
    g.bench_function("decode+classify+fingerprint+group", |b| {
        b.iter(|| {
            let json = awslogs::decode(black_box(&data)).expect("decodes");
            let m = SubscriptionMessage::parse(&json).expect("parses");
            let grouped = group_batch(&agent, &classifier, &m);
            assert_eq!(m.log_events.len(), EVENTS);
            grouped.details.len()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
