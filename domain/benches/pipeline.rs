//! Classification + fingerprinting throughput on a realistic mixed corpus.
//! `cargo bench -p domain --bench pipeline` prints lines/s (criterion "elem/s").

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use domain::classify::Classifier;
use domain::fingerprint::fingerprint;

/// A mix like a busy account's: mostly INFO noise, some errors of each kind.
pub fn corpus(n: usize) -> Vec<String> {
    let shapes: [&dyn Fn(usize) -> String; 10] = [
        &|i| {
            format!("2026-11-25T10:{:02}:{:02}.{i:03}Z\t3f1c2b9a-1d2e-4f5a-9b8c-{i:012}\tINFO\tprocessed order {i} in {} ms", i % 60, i % 60, i % 900)
        },
        &|i| format!("START RequestId: 3f1c2b9a-1d2e-4f5a-9b8c-{i:012} Version: $LATEST"),
        &|i| {
            format!("REPORT RequestId: 3f1c2b9a-1d2e-4f5a-9b8c-{i:012}\tDuration: {}.12 ms\tBilled Duration: 100 ms\tMemory Size: 128 MB\tMax Memory Used: 41 MB", i % 97)
        },
        &|i| {
            format!(
                r#"{{"level":"info","msg":"cache hit","key":"user:{i}","ts":"2026-11-25T10:00:00Z"}}"#
            )
        },
        &|i| {
            format!(
                r#"{{"level":"error","msg":"charge {i} failed: card declined","ts":"2026-11-25T10:00:00Z","trace":"{i:x}"}}"#
            )
        },
        &|i| {
            format!("2026-11-25 10:00:{:02},123 ERROR handler failed for order {i}\nTraceback (most recent call last):\n  File \"/var/task/app.py\", line {}, in handler\n    qty = event['qty']\nKeyError: 'qty'", i % 60, 40 + i % 5)
        },
        &|i| {
            format!("java.lang.NullPointerException: user {i} missing\n\tat com.acme.Orders.load(Orders.java:{})\n\tat com.acme.Api.handle(Api.java:31)\nCaused by: java.sql.SQLException: timeout after {} ms", 70 + i % 9, i % 5000)
        },
        &|i| {
            format!("thread 'tokio-runtime-worker' panicked at src/db.rs:{}:14:\ncalled `Option::unwrap()` on a `None` value", 80 + i % 7)
        },
        &|i| {
            format!("2026-11-25T10:00:00.000Z 3f1c2b9a-1d2e-4f5a-9b8c-{i:012} Task timed out after {}.00 seconds", 3 + i % 3)
        },
        &|i| {
            format!(
                "2026-11-25 10:00:00 WARN slow query on shard {} took {} ms",
                i % 16,
                1000 + i % 4000
            )
        },
    ];
    // Weights: 6 parts noise to 4 parts problems.
    let weights = [3, 1, 1, 1, 1, 1, 1, 1, 1, 1];
    let mut out = Vec::with_capacity(n);
    let mut i = 0;
    while out.len() < n {
        for (shape, w) in shapes.iter().zip(weights) {
            for _ in 0..w {
                out.push(shape(i));
                i += 1;
            }
        }
    }
    out.truncate(n);
    out
}

fn bench(c: &mut Criterion) {
    let lines = corpus(10_000);
    let classifier = Classifier::defaults();
    let mut g = c.benchmark_group("pipeline");
    g.throughput(Throughput::Elements(lines.len() as u64));
    g.bench_function("classify+fingerprint", |b| {
        b.iter(|| {
            let mut errors = 0usize;
            for l in &lines {
                if classifier.classify(l).is_some() {
                    black_box(fingerprint(l));
                    errors += 1;
                }
            }
            errors
        })
    });
    g.bench_function("classify", |b| {
        b.iter(|| {
            lines
                .iter()
                .filter(|l| classifier.classify(l).is_some())
                .count()
        })
    });
    g.bench_function("fingerprint", |b| {
        b.iter(|| {
            lines.iter().for_each(|l| {
                black_box(fingerprint(l));
            })
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
